// Forking a finished iteration 0: SIKeD-sparse and SIKeD-all (and other ablations of the later
// iterations) share the teacher data and the combined-distillation student, which is most of
// a small run's cost. A fork copies the run folder, keeps the stages of iteration 0 and drops
// everything after, so `runSiked` with the new settings continues from iteration 1.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic';
import { readManifest, writeManifest } from './manifest';
import {
  recordedRunSettings,
  resolveRunSettings,
  type RunSettings,
  type RunSettingsInput,
} from './settings';

/** Settings that only shape iterations >= 1, so a fork may change them. */
const FORKABLE_SETTINGS: ReadonlyArray<keyof RunSettings> = [
  'iterations',
  'mixing',
  'studentInit',
  'earlyStopping',
  'earlyStoppingPatience',
  'selfSamples',
  'temperature',
  'topP',
  'samplingChunkSize',
  'stepsPerIteration',
  'selfWorkingChecks',
];

/** Iteration 0's step count under `settings` (null: by epochs). */
const iteration0Steps = (settings: RunSettings) => settings.stepsPerIteration?.[0] ?? null;

/**
 * Copies `sourceRunDir` (whose iteration 0 must be done) to `targetRunDir` with `settings`,
 * keeping `split`, `teacher` and the `iter-0/*` stages. Settings other than those of the later
 * iterations (mixing, iterations, k, sampling, early stopping, self-sample checks) must equal
 * the source's, or the fork is refused: the copied stages would not be what the new settings
 * make. Returns the resolved settings to pass to `runSiked`. A target that already has a
 * run.json is left alone (the fork happened before; `runSiked` resumes it).
 */
export async function forkRunAfterIteration0(
  sourceRunDir: string,
  targetRunDir: string,
  settings: RunSettingsInput,
): Promise<RunSettings> {
  const resolved = resolveRunSettings(settings, `fork of ${sourceRunDir}`);
  if ((await readManifest(targetRunDir)) !== null) return resolved;
  const source = await readManifest(sourceRunDir);
  if (source === null) throw new Error(`${sourceRunDir}: no run.json (not a run folder)`);
  if (source.stages['iter-0/eval'] === undefined) {
    throw new Error(`${sourceRunDir}: iteration 0 is not finished; nothing to fork`);
  }
  const recorded = recordedRunSettings(source.config) as RunSettings;
  const differing: string[] = (Object.keys(resolved) as Array<keyof RunSettings>).filter(
    (key) =>
      !FORKABLE_SETTINGS.includes(key) &&
      JSON.stringify(resolved[key]) !== JSON.stringify(recorded[key]),
  );
  if (iteration0Steps(resolved) !== iteration0Steps(recorded))
    differing.push('stepsPerIteration[0]');
  if (differing.length > 0) {
    throw new Error(
      `cannot fork ${sourceRunDir}: settings ${differing.join(', ')} differ from the source run's, and they shape iteration 0`,
    );
  }

  // Copy under a temporary name and rename, so an interrupted fork leaves no half run.
  const temporary = `${targetRunDir}.fork-tmp`;
  await fs.rm(temporary, { recursive: true, force: true });
  await fs.mkdir(temporary, { recursive: true });
  for (const entry of await fs.readdir(sourceRunDir, { withFileTypes: true })) {
    const name = entry.name;
    if (/^iter-\d+$/.test(name) && name !== 'iter-0') continue;
    if (name === 'report' || name === 'run.lock' || name === 'metrics.jsonl') continue;
    await fs.cp(path.join(sourceRunDir, name), path.join(temporary, name), { recursive: true });
  }
  const metrics = await fs
    .readFile(path.join(sourceRunDir, 'metrics.jsonl'), 'utf8')
    .catch(() => '');
  const iteration0Lines = metrics
    .split('\n')
    .filter((line) => line.trim() !== '' && isIteration0(line))
    .map((line) => `${line}\n`)
    .join('');
  await writeFileAtomic(path.join(temporary, 'metrics.jsonl'), iteration0Lines);

  const kept = Object.fromEntries(
    Object.entries(source.stages).filter(
      ([id]) => id === 'split' || id === 'teacher' || id.startsWith('iter-0/'),
    ),
  );
  await writeManifest(temporary, {
    ...source,
    status: 'running',
    config: resolved,
    stages: kept,
    bestIteration: 0,
    stoppedAfterIteration: null,
  });
  await fs.rename(temporary, targetRunDir);
  return resolved;
}

function isIteration0(line: string): boolean {
  try {
    return (JSON.parse(line) as { iteration?: unknown }).iteration === 0;
  } catch {
    return false;
  }
}
