// A tiny untrained student checkpoint from the synthetic world's `tiny` preset: a real model
// (random weights from the engine) with the world's real tokenizer, in the Hugging Face layout
// the CLI loads. Its answers are meaningless; the tests check formats, shapes and exit codes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  SYNTHETIC_STUDENT_TEMPLATE,
  buildSyntheticWorld,
  type Problem,
  type SyntheticWorld,
} from '@siked/core';
import { Model, parseModelConfig } from '@siked/native-cuda';

/** What {@link writeTinyModel} wrote. */
export interface TinyModelFixture {
  modelDir: string;
  /** Problem JSONL of the world's test split. */
  problemsFile: string;
  problems: Problem[];
  /** The world's reference encoder over the same tokenizer.json (ids to compare against). */
  encode(text: string): number[];
}

/** Writes the checkpoint and a Problem JSONL file under `dir`. */
export async function writeTinyModel(dir: string, seed = 3): Promise<TinyModelFixture> {
  const world = buildSyntheticWorld('tiny', seed);
  const modelDir = path.join(dir, 'model');
  const model = Model.fromConfig(parseModelConfig(world.modelConfig), { seed, threads: 1 });
  await writeStudentFolder(modelDir, model, world);
  const problems = world.splits.test;
  const problemsFile = path.join(dir, 'test.jsonl');
  fs.writeFileSync(problemsFile, problems.map((p) => JSON.stringify(p)).join('\n') + '\n');
  return { modelDir, problemsFile, problems, encode: (text) => world.tokenizer.encode(text) };
}

/**
 * Writes `model` (then disposes it) as a student checkpoint folder the CLI loads: the weights,
 * the world's tokenizer files and the synthetic student format.
 */
export async function writeStudentFolder(
  modelDir: string,
  model: Model,
  world: SyntheticWorld,
): Promise<void> {
  fs.mkdirSync(modelDir, { recursive: true });
  try {
    await model.save(modelDir);
  } finally {
    model.dispose();
  }
  fs.writeFileSync(path.join(modelDir, 'tokenizer.json'), JSON.stringify(world.tokenizerJson));
  fs.writeFileSync(
    path.join(modelDir, 'tokenizer_config.json'),
    JSON.stringify(world.tokenizerConfig),
  );
  fs.writeFileSync(
    path.join(modelDir, 'student-format.json'),
    JSON.stringify(SYNTHETIC_STUDENT_TEMPLATE),
  );
}
