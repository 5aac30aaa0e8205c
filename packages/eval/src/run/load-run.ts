// Builds a RunSummary from a run directory (docs/ARCHITECTURE.md, DESIGN.md "Run directory").
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { STRATEGIES, isStrategy, type Strategy } from '@siked/core';
import type { AccuracySummary, StrategyAccuracy } from '../accuracy';
import {
  RunFileError,
  isObject,
  readNumber,
  readObject,
  readOptionalNumber,
  type Location,
} from './fields';
import type {
  DatasetEvaluation,
  IterationSummary,
  RunProvenance,
  RunSummary,
  StrategyShares,
  TrainingPoint,
} from './types';

async function readTextIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function parseJson(text: string, at: Location): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RunFileError(
      at.file,
      at.line,
      '(whole record)',
      `not valid JSON: ${(error as Error).message}`,
    );
  }
}

/**
 * Reads JSON Lines. A last line without its newline that does not parse is a write cut short by a
 * crash (the loop appends as it goes) and is skipped; any other bad line is an error.
 */
export function parseJsonLines(
  text: string,
  file: string,
): Array<{ line: number; value: unknown }> {
  const lines = text.split('\n');
  const records: Array<{ line: number; value: unknown }> = [];
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    const isUnterminatedLast = index === lines.length - 1;
    try {
      records.push({ line: index + 1, value: JSON.parse(raw) });
    } catch (error) {
      if (isUnterminatedLast) return;
      throw new RunFileError(
        file,
        index + 1,
        '(whole record)',
        `not valid JSON: ${(error as Error).message}`,
      );
    }
  });
  return records;
}

function readShares(value: unknown, at: Location, field: string): StrategyShares | null {
  if (value === undefined || value === null) return null;
  const object = readObject(value, at, field);
  const shares = {} as StrategyShares;
  for (const s of STRATEGIES) shares[s] = readOptionalNumber(object[s], at, `${field}.${s}`) ?? 0;
  return shares;
}

function readAccuracy(value: unknown, at: Location, field: string): AccuracySummary {
  const object = readObject(value, at, field);
  const total = readNumber(object.total, at, `${field}.total`);
  const correct = readNumber(object.correct, at, `${field}.correct`);
  const byStrategyObject = isObject(object.byStrategy) ? object.byStrategy : {};
  const byStrategy = {} as Record<Strategy, StrategyAccuracy>;
  for (const s of STRATEGIES) {
    const entry = byStrategyObject[s];
    if (entry === undefined) {
      byStrategy[s] = { count: 0, share: 0, accuracy: null };
      continue;
    }
    const e = readObject(entry, at, `${field}.byStrategy.${s}`);
    const count = readNumber(e.count, at, `${field}.byStrategy.${s}.count`);
    byStrategy[s] = {
      count,
      share:
        readOptionalNumber(e.share, at, `${field}.byStrategy.${s}.share`) ??
        (total > 0 ? count / total : 0),
      accuracy: readOptionalNumber(e.accuracy, at, `${field}.byStrategy.${s}.accuracy`),
    };
  }
  return {
    total,
    correct,
    accuracy:
      readOptionalNumber(object.accuracy, at, `${field}.accuracy`) ??
      (total > 0 ? correct / total : 0),
    unparsed: readOptionalNumber(object.unparsed, at, `${field}.unparsed`) ?? 0,
    byStrategy,
  };
}

function readHarness(
  value: unknown,
  at: Location,
  field: string,
): { strict: number; flexible: number } | null {
  const object = readObject(value, at, field);
  const strict = readOptionalNumber(object.strictAccuracy, at, `${field}.strictAccuracy`);
  const flexible = readOptionalNumber(object.flexibleAccuracy, at, `${field}.flexibleAccuracy`);
  return strict === null || flexible === null ? null : { strict, flexible };
}

/** Reads one iteration's eval.json (format documented on {@link loadRunSummary}). */
export function parseIterationEval(
  value: unknown,
  file: string,
  iteration: number,
): IterationSummary {
  const at: Location = { file, line: null };
  const object = readObject(value, at, '(root)');
  const datasets = object.datasets === undefined ? {} : readObject(object.datasets, at, 'datasets');
  const evaluations: DatasetEvaluation[] = Object.entries(datasets).map(([dataset, entry]) => ({
    dataset,
    accuracy: readAccuracy(entry, at, `datasets.${dataset}`),
    harness: readHarness(entry, at, `datasets.${dataset}`),
  }));
  return {
    iteration: readOptionalNumber(object.iteration, at, 'iteration') ?? iteration,
    alpha: readOptionalNumber(object.alpha, at, 'alpha'),
    trainSteps: readOptionalNumber(object.trainSteps, at, 'trainSteps'),
    teacherShares: readShares(object.teacherShares, at, 'teacherShares'),
    trainShares: readShares(object.trainShares, at, 'trainShares'),
    samplingShares: readShares(object.samplingShares, at, 'samplingShares'),
    samplingCorrectShares: readShares(object.samplingCorrectShares, at, 'samplingCorrectShares'),
    klTrainToSampling: readOptionalNumber(object.klTrainToSampling, at, 'klTrainToSampling'),
    greedyValidationShares: readShares(object.greedyValidationShares, at, 'greedyValidationShares'),
    evaluations,
  };
}

/** Reads the training points of metrics.jsonl (records with a numeric `loss`; others are skipped). */
export function parseTrainingMetrics(text: string, file: string): TrainingPoint[] {
  const points: TrainingPoint[] = [];
  for (const { line, value } of parseJsonLines(text, file)) {
    if (!isObject(value) || value.loss === undefined) continue;
    if (value.kind !== undefined && value.kind !== 'train' && value.type !== 'train') continue;
    const at = { file, line };
    points.push({
      iteration: readNumber(value.iteration ?? 0, at, 'iteration'),
      step: readNumber(value.step, at, 'step'),
      loss: readNumber(value.loss, at, 'loss'),
      tokensPerSecond: readOptionalNumber(value.tokensPerSecond, at, 'tokensPerSecond'),
      learningRate: readOptionalNumber(value.learningRate ?? value.lr, at, 'learningRate'),
    });
  }
  return points;
}

/** Counts the verified teacher solutions (teacher.jsonl) per strategy; rejected ones are not counted. */
export function countTeacherStrategies(text: string, file: string): Record<Strategy, number> {
  const counts: Record<Strategy, number> = { cot: 0, l2m: 0, pot: 0 };
  for (const { line, value } of parseJsonLines(text, file)) {
    const record = readObject(value, { file, line }, '(record)');
    if (!isStrategy(record.strategy)) {
      throw new RunFileError(file, line, 'strategy', `expected one of ${STRATEGIES.join(', ')}`);
    }
    if (record.correct === false) continue;
    counts[record.strategy] += 1;
  }
  return counts;
}

/** run.json's names, versions and sessions, and distill.json's data files (when present). */
async function readProvenance(
  runDir: string,
  manifest: Record<string, unknown>,
): Promise<RunProvenance> {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const versions = isObject(manifest.versions) ? manifest.versions : {};
  const sessions = Array.isArray(manifest.sessions) ? manifest.sessions.filter(isObject) : null;
  const wallSeconds =
    sessions === null
      ? null
      : sessions.reduce((sum, session) => {
          const seconds =
            (Date.parse(String(session.until)) - Date.parse(String(session.startedAt))) / 1000;
          return sum + (Number.isFinite(seconds) ? seconds : 0);
        }, 0);
  const dataFiles: RunProvenance['dataFiles'] = [];
  const invocationText = await readTextIfExists(path.join(runDir, 'distill.json'));
  if (invocationText !== null) {
    try {
      const invocation = JSON.parse(invocationText) as Record<string, unknown>;
      // distill.json's paths are relative to the run folder.
      const resolve = (file: string) => path.resolve(runDir, file);
      if (typeof invocation.train === 'string')
        dataFiles.push({ role: 'train', file: resolve(invocation.train) });
      for (const spec of Array.isArray(invocation.evalSet) ? invocation.evalSet : []) {
        if (typeof spec !== 'string' || !spec.includes('=')) continue;
        const at = spec.indexOf('=');
        dataFiles.push({
          role: `eval-set ${spec.slice(0, at)}`,
          file: resolve(spec.slice(at + 1)),
        });
      }
    } catch {
      // An unreadable distill.json only costs the report its data-file list.
    }
  }
  return {
    student: text(manifest.student),
    teacher: text(manifest.teacher),
    dataFiles,
    siked: text(versions.siked),
    commit: text(versions.commit),
    node: text(versions.node),
    createdAt: text(manifest.createdAt),
    wallSeconds,
    sessions: sessions?.length ?? null,
  };
}

/**
 * Builds the summary of a run from its directory:
 * - `run.json`: the manifest; its `config`, `status` and `bestIteration` are shown;
 * - `teacher.jsonl`: verified teacher solutions (Solution records), counted per strategy;
 * - `iter-<t>/eval.json`: per iteration `alpha`, `trainSteps`, the Figure 2 distributions
 *   (`teacherShares`, `trainShares`, `samplingShares`, `samplingCorrectShares`,
 *   `klTrainToSampling`), `greedyValidationShares` and `datasets` (data set -> AccuracySummary plus `strictAccuracy` and
 *   `flexibleAccuracy`), as core's loop writes it; iterations without an eval.json yet are left out;
 * - `metrics.jsonl`: training records `{iteration, step, loss, tokensPerSecond?, learningRate?}`.
 * Throws RunFileError (file, line, field) on a file with the wrong shape.
 */
export async function loadRunSummary(runDir: string): Promise<RunSummary> {
  const stat = await fs.stat(runDir).catch(() => null);
  if (!stat?.isDirectory()) {
    throw new RunFileError(runDir, null, '(directory)', 'not a run directory (it does not exist)');
  }
  const manifestFile = path.join(runDir, 'run.json');
  const manifestText = await readTextIfExists(manifestFile);
  if (manifestText === null) {
    throw new RunFileError(manifestFile, null, '(file)', 'missing: not a run directory');
  }
  const manifest = readObject(
    parseJson(manifestText, { file: manifestFile, line: null }),
    { file: manifestFile, line: null },
    '(root)',
  );
  const teacherFile = path.join(runDir, 'teacher.jsonl');
  const teacherText = await readTextIfExists(teacherFile);
  const iterationDirs = (await fs.readdir(runDir))
    .map((name) => ({ name, match: /^iter-(\d+)$/.exec(name) }))
    .filter((entry) => entry.match !== null)
    .map((entry) => ({ dir: path.join(runDir, entry.name), iteration: Number(entry.match![1]) }))
    .sort((a, b) => a.iteration - b.iteration);
  const iterations: IterationSummary[] = [];
  for (const { dir, iteration } of iterationDirs) {
    const file = path.join(dir, 'eval.json');
    const text = await readTextIfExists(file);
    if (text === null) continue;
    iterations.push(parseIterationEval(parseJson(text, { file, line: null }), file, iteration));
  }
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  const metricsText = await readTextIfExists(metricsFile);
  return {
    name: path.basename(path.resolve(runDir)),
    provenance: await readProvenance(runDir, manifest),
    status: typeof manifest.status === 'string' ? manifest.status : null,
    bestIteration: readOptionalNumber(
      manifest.bestIteration,
      { file: manifestFile, line: null },
      'bestIteration',
    ),
    config: isObject(manifest.config) ? manifest.config : {},
    teacherCounts: teacherText === null ? null : countTeacherStrategies(teacherText, teacherFile),
    iterations,
    training: metricsText === null ? [] : parseTrainingMetrics(metricsText, metricsFile),
  };
}
