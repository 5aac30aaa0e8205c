import { z } from 'zod';
import { MIXING_MODES } from '../mixing/mix';
import { STRATEGIES } from '../types';
import { WORKING_CHECKS } from '../verify/working-checks';

const strategy = z.enum(['cot', 'l2m', 'pot']);
type MixingModeName = (typeof MIXING_MODES)[number];
const positiveInt = z.number().int().min(1);

/** Fine-tuning settings of every iteration (METHOD.md 2, [impl] defaults). */
export const trainingSettingsSchema = z.object({
  epochs: positiveInt.default(3).describe("Passes over each iteration's training set."),
  learningRate: z
    .number()
    .positive()
    .default(2e-4)
    .describe('Peak learning rate (the reference uses 2e-4 to 3e-4 with LoRA).'),
  warmupRatio: z
    .number()
    .min(0)
    .lt(1)
    .default(0.03)
    .describe('Share of optimizer steps of linear warmup.'),
  minLearningRateRatio: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('Cosine decay floor as a share of the peak.'),
  microBatchSize: positiveInt.default(4).describe('Sequences per forward/backward pass.'),
  gradientAccumulation: positiveInt
    .default(2)
    .describe('Micro-batches per optimizer step (effective batch 8 by default).'),
  maxSequenceLength: positiveInt
    .default(1024)
    .describe('Token limit of one example (prompt + solution + EOS); see overLength.'),
  overLength: z
    .enum(['truncate', 'drop'])
    .default('truncate')
    .describe(
      'Examples over maxSequenceLength: truncate (cut, EOS lost) or drop; an example whose prompt alone fills the limit is always dropped (nothing left to learn). Both counted in the train stage.',
    ),
  weightDecay: z
    .number()
    .min(0)
    .default(0)
    .describe('AdamW decoupled weight decay (the reference uses 0.01).'),
  maxGradNorm: z
    .number()
    .min(0)
    .default(0)
    .describe('Clip the global gradient norm to this (0 = off; the reference uses 1.0).'),
  warmupSteps: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Warmup in optimizer steps; overrides warmupRatio when given.'),
  lrScheduler: z
    .enum(['cosine', 'linear', 'constant'])
    .default('cosine')
    .describe('Decay after warmup: cosine or linear to the floor, or constant at the peak.'),
  packing: z
    .boolean()
    .default(false)
    .describe(
      'Pack examples into rows of maxSequenceLength tokens (each attends only to itself; microBatchSize then counts rows), as the reference trains.',
    ),
});

/**
 * Settings of a SIKeD run, defined once (type, default, one line of prose, range checks); the
 * CLI derives its flags and help from this schema. Defaults match METHOD.md and the reference
 * implementation.
 */
export const runSettingsSchema = z.object({
  seed: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Seeds the validation split, shuffling, LoRA init and sampling.'),
  strategies: z
    .array(strategy)
    .min(1)
    .default([...STRATEGIES])
    .describe('Strategies the teacher is asked for and the student may use.'),
  forcedStrategy: strategy
    .optional()
    .describe(
      'Single-strategy baseline: teacher data, generation and evaluation use only this strategy (its tag is forced).',
    ),
  iterations: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe('Self-guided iterations T after iteration 0 (combined distillation).'),
  teacherSamplesPerQuestion: positiveInt
    .default(10)
    .describe('Teacher samples per question and strategy before verification.'),
  teacherChunkSize: positiveInt
    .default(64)
    .describe(
      'Questions per teacher call; teacher.jsonl grows and progress is recorded per chunk.',
    ),
  selfSamples: positiveInt
    .default(10)
    .describe('Student samples per training question per iteration (k).'),
  temperature: z.number().min(0).default(0.7).describe('Self-generation temperature.'),
  topP: z.number().gt(0).max(1).default(0.95).describe('Self-generation nucleus sampling.'),
  maxNewTokens: positiveInt
    .default(512)
    .describe('Longest self-generated or evaluated solution, in tokens.'),
  samplingChunkSize: positiveInt
    .default(64)
    .describe('Questions per generation call (progress granularity).'),
  mixing: z
    .enum(MIXING_MODES as [MixingModeName, ...MixingModeName[]])
    .default('sparse')
    .describe(
      "sparse: per strategy, teacher solutions only where the student has no correct sample of that strategy; all: every teacher solution; self-only: the student's own data alone; sparse-per-question and teacher-only: ablation and control.",
    ),
  stepsPerIteration: z
    .array(positiveInt.nullable())
    .optional()
    .describe(
      'Optimizer steps of iteration t (entry t), overriding epochs: compute-matched controls; null or an iteration past the list trains by epochs.',
    ),
  studentInit: z
    .enum(['continue', 'restart'])
    .default('continue')
    .describe(
      'continue: each iteration fine-tunes the previous student (the reference); restart: from the base model (ablation).',
    ),
  validationFraction: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.1)
    .describe('Held-out slice of the TRAINING questions for early stopping (never a test set).'),
  earlyStopping: z
    .boolean()
    .default(true)
    .describe('Stop when validation accuracy stops improving.'),
  earlyStoppingPatience: positiveInt
    .default(1)
    .describe('Iterations without improvement before stopping.'),
  verificationTimeoutMs: positiveInt.default(10_000).describe('Time limit per PoT program.'),
  verificationConcurrency: positiveInt.default(8).describe('Verifications in flight at once.'),
  selfWorkingChecks: z
    .array(z.enum(WORKING_CHECKS))
    .default([])
    .describe(
      "Checks a student's own right answer must also pass to count as correct (none in the reference): arithmetic = every equation of a CoT/L2M text holds; grounded-names = a PoT program's variable names use only the question's words (and answer, total, x, each). An ablation.",
    ),
  training: trainingSettingsSchema.prefault({}),
});

/** Settings as a user writes them (every field optional). */
export type RunSettingsInput = z.input<typeof runSettingsSchema>;
/** Settings with every default filled in. */
export type RunSettings = z.output<typeof runSettingsSchema>;

/**
 * A run's recorded settings as this version reads them: settings added since the run was written
 * take their defaults, which keep the earlier behaviour, so such a run still resumes and forks.
 */
export function recordedRunSettings(config: unknown): unknown {
  const parsed = runSettingsSchema.safeParse(config);
  return parsed.success ? parsed.data : config;
}

/** Validates settings and fills defaults; the error lists each bad field by its path. */
export function resolveRunSettings(input: RunSettingsInput = {}, source = 'settings'): RunSettings {
  const parsed = runSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`${source}: invalid run settings:\n  ${problems.join('\n  ')}`);
  }
  const settings = parsed.data;
  if (
    settings.forcedStrategy !== undefined &&
    !settings.strategies.includes(settings.forcedStrategy)
  ) {
    throw new Error(`${source}: forcedStrategy "${settings.forcedStrategy}" is not in strategies`);
  }
  return settings;
}
