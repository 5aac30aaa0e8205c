// The synthetic world's base student M0 as a checkpoint folder the loop loads like any other:
// random weights from the engine (seeded), the world's tokenizer and the student template.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Model, parseModelConfig } from '@siked/native-cuda';
import { writeSyntheticModelFiles, type SyntheticWorld } from './world';

/**
 * Writes M0 (`model.safetensors`, `config.json`, tokenizer files, `student-format.json`) into
 * `dir` unless a complete one is already there, so a resumed run keeps its base. The folder is
 * written under a temporary name and renamed: a crash never leaves half a model.
 */
export async function writeSyntheticBaseModel(
  world: SyntheticWorld,
  dir: string,
  options: { threads?: number } = {},
): Promise<void> {
  if (existsSync(path.join(dir, 'model.safetensors'))) return;
  const temporary = `${dir}.tmp-${process.pid}`;
  await fs.rm(temporary, { recursive: true, force: true });
  // The world's files first: the engine's own config.json then replaces the world's copy.
  await writeSyntheticModelFiles(world, temporary);
  const model = Model.fromConfig(parseModelConfig(world.modelConfig, 'synthetic world config'), {
    seed: world.seed,
    threads: options.threads,
  });
  try {
    await model.save(temporary);
  } finally {
    model.dispose();
  }
  await fs.writeFile(
    path.join(temporary, 'student-format.json'),
    `${JSON.stringify(world.studentTemplate, null, 2)}\n`,
  );
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rename(temporary, dir);
}
