import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Student, TextSampler } from '../student/types';
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

/** Iteration t's adapter relative to the base model M0 (LoRA runs), inside iter-t/. */
export const ADAPTER_FROM_BASE = 'adapter-from-base';

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

  /**
   * What samples from iteration t's student for `purpose`: the student server when the run has
   * one (for evaluation only if it says so), else the student loaded here. Call release() after.
   */
  async samplerFor(
    t: number,
    purpose: 'self-generation' | 'evaluation',
  ): Promise<{ sampler: TextSampler; release: () => void }> {
    const server = this.options.studentServer;
    if (server && (purpose === 'self-generation' || server.evaluation === true)) {
      const adapterDir = path.resolve(this.file(iterationDir(t), ADAPTER_FROM_BASE));
      const sampler = await server.serve({
        iteration: t,
        modelDir: path.resolve(this.file(iterationDir(t), 'model')),
        ...(existsSync(adapterDir) ? { adapterDir } : {}),
      });
      return { sampler, release: () => undefined };
    }
    const student = await this.loadStudent(t);
    return { sampler: student, release: () => student.dispose() };
  }
}
