// A small run directory written by hand in the layout the SIKeD loop writes (DESIGN.md), for
// testing `siked report` apart from training. Numbers are arbitrary but consistent.
import * as fs from 'node:fs';
import * as path from 'node:path';

function accuracy(correct: number, total: number, cotCount: number, cotCorrect: number) {
  const rest = total - cotCount;
  return {
    total,
    correct,
    accuracy: correct / total,
    unparsed: 1,
    byStrategy: {
      cot: { count: cotCount, share: cotCount / total, accuracy: cotCorrect / cotCount },
      l2m: { count: 0, share: 0, accuracy: null },
      pot: { count: rest, share: rest / total, accuracy: (correct - cotCorrect) / rest },
    },
  };
}

/** Writes a two-iteration run (teacher data, eval.json per iteration, metrics) into `dir`. */
export function writeFixtureRun(dir: string): void {
  fs.mkdirSync(path.join(dir, 'iter-0'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'iter-1'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({ status: 'done', config: { preset: 'fixture', seed: 7, mixing: 'sparse' } }),
  );
  const teacher = ['cot', 'l2m', 'pot', 'cot', 'pot'].map((strategy, i) =>
    JSON.stringify({
      problemId: `p${i}`,
      strategy,
      origin: 'teacher',
      iteration: 0,
      text: 'Final answer: 1',
      predicted: 1,
      correct: true,
    }),
  );
  fs.writeFileSync(path.join(dir, 'teacher.jsonl'), teacher.join('\n') + '\n');
  fs.writeFileSync(
    path.join(dir, 'iter-0', 'eval.json'),
    JSON.stringify({
      iteration: 0,
      alpha: null,
      trainSteps: 3,
      samplingShares: null,
      klTrainToSampling: null,
      greedyValidationShares: { cot: 0.8, l2m: 0, pot: 0.2 },
      datasets: { test: accuracy(4, 10, 8, 3), 'ood-distractor': accuracy(3, 10, 8, 2) },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'iter-1', 'eval.json'),
    JSON.stringify({
      iteration: 1,
      alpha: 0.6,
      trainSteps: 3,
      klTrainToSampling: 0.21,
      trainShares: { cot: 0.4, l2m: 0.2, pot: 0.4 },
      samplingShares: { cot: 0.45, l2m: 0.1, pot: 0.45 },
      samplingCorrectShares: { cot: 0.5, l2m: 0, pot: 0.5 },
      greedyValidationShares: { cot: 0.5, l2m: 0, pot: 0.5 },
      datasets: { test: accuracy(6, 10, 5, 2), 'ood-distractor': accuracy(5, 10, 5, 2) },
    }),
  );
  const metrics = [0, 1].flatMap((iteration) =>
    [1, 2, 3].map((step) =>
      JSON.stringify({ kind: 'train', iteration, step, loss: 3 - iteration - step * 0.2 }),
    ),
  );
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), metrics.join('\n') + '\n');
}
