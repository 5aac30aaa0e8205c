import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Student } from '../student/types';
import type { Problem, Solution, Strategy } from '../types';
import { readJsonLines } from './atomic';
import type { LoopEventListener } from './events';
import type { RunManifest } from './manifest';
import type { SikedRunOptions } from './run-options';
import type { RunSettings } from './settings';

/** What a stage produced: artefact paths (relative to the run folder) and numbers for the manifest. */
export interface StageOutput {
  artefacts: string[];
  details?: Record<string, unknown>;
}

/** The held-out slice's name in eval.json. */
export const VALIDATION = 'validation';

/** Derives a per-purpose seed from the run seed (iteration-specific streams that do not overlap). */
export function derivedSeed(seed: number, iteration: number, purpose: number): number {
  return (
    (Math.imul(seed + 1, 0x9e3779b1) ^
      Math.imul(iteration + 1, 0x85ebca6b) ^
      Math.imul(purpose, 0xc2b2ae35)) >>>
    0
  );
}

/** The folder of iteration t's artefacts. */
export function iterationDir(t: number): string {
  return `iter-${t}`;
}

/** A hash of the training problems, to refuse resuming with different ones. */
export function problemsFingerprint(problems: readonly Problem[]): string {
  // Enough to notice a different question set on resume without storing the questions twice.
  const hash = createHash('sha256');
  for (const p of problems) hash.update(`${p.id}\u0000${p.question}\u0000${p.answer}\n`);
  return hash.digest('hex');
}

/** What every stage of a run sees: the inputs, the settings, the manifest and the run folder. */
export class StageContext {
  /** Training questions trained on (the validation slice removed); set by the split stage. */
  trainPart: Problem[] = [];
  /** The held-out validation slice of the training questions. */
  validation: Problem[] = [];
  readonly runDir: string;

  constructor(
    readonly options: SikedRunOptions,
    readonly settings: RunSettings,
    readonly manifest: RunManifest,
    readonly emit: LoopEventListener,
  ) {
    this.runDir = options.runDir;
  }

  /** The strategies in play: the forced one for a baseline, else the settings' set. */
  get strategies(): Strategy[] {
    return this.settings.forcedStrategy !== undefined
      ? [this.settings.forcedStrategy]
      : [...this.settings.strategies];
  }

  /** A path inside the run folder. */
  file(...parts: string[]): string {
    return path.join(this.runDir, ...parts);
  }

  /** D_LLM as the teacher stage left it. */
  teacherSolutions(): Promise<Solution[]> {
    return readJsonLines<Solution>(this.file('teacher.jsonl'));
  }

  /** Loads the student a stage works with: the base model, or iteration t's checkpoint. */
  loadStudent(t: number | 'base'): Promise<Student> {
    return t === 'base'
      ? this.options.studentFactory.loadBase()
      : this.options.studentFactory.load(this.file(iterationDir(t), 'model'));
  }
}
