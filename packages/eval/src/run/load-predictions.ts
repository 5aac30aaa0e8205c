// A run's graded greedy answers (iter-<t>/eval-<dataset>.jsonl), for paired statistics and
// per-family tables across runs.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isStrategy } from '@siked/core';
import type { PredictionRecord, RunPredictions } from '../experiment/summarize';
import { RunFileError, readObject } from './fields';
import { parseJsonLines } from './load-run';

/** Reads every `iter-<t>/eval-<dataset>.jsonl` of `runDir`; errors name the file, line and field. */
export async function loadRunPredictions(runDir: string): Promise<RunPredictions> {
  const predictions: RunPredictions = new Map();
  for (const name of await fs.readdir(runDir)) {
    const iteration = /^iter-(\d+)$/.exec(name);
    if (!iteration) continue;
    const dir = path.join(runDir, name);
    const byDataset = new Map<string, PredictionRecord[]>();
    for (const file of await fs.readdir(dir)) {
      const dataset = /^eval-(.+)\.jsonl$/.exec(file);
      if (!dataset) continue;
      const full = path.join(dir, file);
      const records = parseJsonLines(await fs.readFile(full, 'utf8'), full).map(
        ({ line, value }) => {
          const at = { file: full, line };
          const object = readObject(value, at, '(record)');
          if (typeof object.problemId !== 'string')
            throw new RunFileError(full, line, 'problemId', 'expected a string');
          if (typeof object.correct !== 'boolean')
            throw new RunFileError(full, line, 'correct', 'expected true or false');
          const strategy = isStrategy(object.strategy) ? object.strategy : null;
          const record: PredictionRecord = {
            problemId: object.problemId,
            correct: object.correct,
            strategy,
          };
          if (typeof object.text === 'string') record.text = object.text;
          return record;
        },
      );
      byDataset.set(dataset[1]!, records);
    }
    predictions.set(Number(iteration[1]), byDataset);
  }
  return predictions;
}
