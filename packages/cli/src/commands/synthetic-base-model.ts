// The synthetic world's base student M0 as a checkpoint folder the loop loads like any other:
// random weights from the engine (seeded), the world's tokenizer and the student template.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SyntheticWorld } from '@siked/core';
import { Model, parseModelConfig } from '@siked/native-cuda';

/**
 * Writes M0 into `dir` unless a complete one is already there (a resumed demo keeps its base).
 * The folder is written under a temporary name and renamed, so a crash leaves no half model.
 */
export async function writeSyntheticBaseModel(
  world: SyntheticWorld,
  dir: string,
  options: { threads?: number } = {},
): Promise<void> {
  if (existsSync(path.join(dir, 'model.safetensors'))) return;
  const temporary = `${dir}.tmp-${process.pid}`;
  await fs.rm(temporary, { recursive: true, force: true });
  await fs.mkdir(temporary, { recursive: true });
  const model = Model.fromConfig(parseModelConfig(world.modelConfig, 'synthetic world config'), {
    seed: world.seed,
    threads: options.threads,
  });
  try {
    await model.save(temporary);
  } finally {
    model.dispose();
  }
  await fs.writeFile(path.join(temporary, 'tokenizer.json'), JSON.stringify(world.tokenizerJson));
  await fs.writeFile(
    path.join(temporary, 'tokenizer_config.json'),
    JSON.stringify(world.tokenizerConfig),
  );
  await fs.writeFile(
    path.join(temporary, 'student-format.json'),
    JSON.stringify(world.studentTemplate, null, 2),
  );
  await fs.rename(temporary, dir);
}
