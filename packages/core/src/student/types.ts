import type { Strategy } from '../types';
import type { PeftAdapter } from './peft-adapter';

/** One supervised example as text: the rendered prompt and the target the model learns to write. */
export interface TrainingExample {
  /** The prompt (StudentFormat.renderPrompt); never trained on. */
  prompt: string;
  /** The target (StudentFormat.renderTarget: tag + solution); the end-of-sequence token is appended by the student. */
  target: string;
}

/** How to fine-tune: epochs, batch, learning-rate schedule. */
export interface TrainingSchedule {
  epochs: number;
  /**
   * When set, exactly this many optimizer steps, whatever `epochs` says: the data is cycled with
   * a fresh shuffle per pass and the last pass is cut short. Compute-matched controls use it.
   */
  steps?: number;
  /** Peak learning rate (after warmup). */
  learningRate: number;
  /** Fraction of optimizer steps spent warming up linearly from 0 (e.g. 0.03). */
  warmupRatio: number;
  /** Warmup in optimizer steps; overrides warmupRatio when set. */
  warmupSteps?: number;
  /** The decay after warmup (default cosine); it ends at learningRate * minLearningRateRatio. */
  lrScheduler?: 'cosine' | 'linear' | 'constant';
  /** The decay ends at learningRate * minLearningRateRatio (0 = decay to zero). */
  minLearningRateRatio: number;
  /** AdamW decoupled weight decay (default: the student's optimizer options, else 0). */
  weightDecay?: number;
  /** Global gradient-norm clip, 0 = off (default: the student's optimizer options, else off). */
  maxGradNorm?: number;
  /** Sequences per forward/backward pass. */
  microBatchSize: number;
  /** Micro-batches per optimizer step; effective batch = microBatchSize * gradientAccumulation. */
  gradientAccumulation: number;
  /** Token limit of one example (prompt + target + EOS). */
  maxSequenceLength: number;
  /**
   * Examples over the limit: 'truncate' (default; cut, so their EOS is lost) or 'drop'. One whose
   * prompt alone fills the limit is always dropped: no target token would be left to learn.
   */
  overLength?: 'truncate' | 'drop';
  /**
   * Sequence packing: examples are packed back to back into rows of up to maxSequenceLength
   * tokens (each attending only to itself, positions restarting per example), and
   * microBatchSize counts rows, so an epoch takes fewer, fuller steps. Default off.
   */
  packing?: boolean;
  /** Seeds shuffling (and LoRA initialisation, where used). */
  seed: number;
}

/** A progress event emitted after each optimizer step. */
export interface TrainProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  /** Mean cross-entropy over the target tokens of this step. */
  loss: number;
  gradNorm: number;
  learningRate: number;
  /** All (non-padding) tokens processed by this step per second of wall time. */
  tokensPerSecond: number;
  /** Target tokens that contributed to the loss in this step. */
  targetTokens: number;
}

/** What a training call did. */
export interface TrainSummary {
  steps: number;
  examples: number;
  /** Examples cut to maxSequenceLength. */
  truncatedExamples: number;
  /** Examples left out for their length (see TrainingSchedule.overLength). */
  droppedExamples: number;
  /** Padding's share of the tokens the forward passes processed (0 when no step ran). */
  paddingShare: number;
  /** Loss of the last step (NaN when no step ran). */
  finalLoss: number;
  meanTokensPerSecond: number;
  elapsedMs: number;
}

/** Sampling settings of one generation call. */
export interface GenerationOptions {
  /** Completions per prompt (k). */
  numSamples: number;
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus sampling; 1 = off. */
  topP: number;
  maxNewTokens: number;
  /** Makes sampling reproducible: the same seed, prompts and model give the same texts. */
  seed: number;
  /** Texts that end a completion besides the end-of-sequence token (cut off from the result). */
  stop?: readonly string[];
}

/** One generated completion. */
export interface GeneratedText {
  promptIndex: number;
  sampleIndex: number;
  /** The new text only (end-of-sequence token and stop text removed). */
  text: string;
  /** 'stop' when EOS or a stop text ended it, 'length' when maxNewTokens did. */
  finishReason: 'stop' | 'length';
  /** New tokens generated (including a stop token); null when a remote server does not say. */
  tokenCount: number | null;
}

/** Anything that turns prompts into sampled completions: the student itself or a remote server. */
export interface TextSampler {
  generate(prompts: readonly string[], options: GenerationOptions): Promise<GeneratedText[]>;
}

/** Per-token log-probabilities of a text under the model. */
export interface ScoredText {
  tokenIds: number[];
  tokens: string[];
  /** Natural-log probability of each token given the ones before; null for the first token. */
  logprobs: Array<number | null>;
}

/**
 * The student model as the SIKeD loop needs it: fine-tune on examples, sample completions, score
 * texts, save a checkpoint. Loading is the job of a {@link StudentFactory}.
 */
export interface Student extends TextSampler {
  /**
   * Fine-tunes on `examples`. Implementations with adapters train a fresh adapter and merge it
   * in when done, so the next call continues from the merged model (METHOD.md 3d).
   */
  train(
    examples: readonly TrainingExample[],
    schedule: TrainingSchedule,
    onProgress?: (progress: TrainProgress) => void,
  ): Promise<TrainSummary>;
  score(texts: readonly string[]): Promise<ScoredText[]>;
  /** Writes a checkpoint that {@link StudentFactory.load} reads back. */
  save(dir: string): Promise<void>;
  /**
   * The LoRA adapter the last train() call trained, relative to the model that call started from
   * (undefined when it trained none: full fine-tuning). Students without adapters omit it.
   */
  trainedAdapter?(): PeftAdapter | undefined;
  /** Frees native memory; the student is unusable afterwards. */
  dispose(): void;
}

/** Loads students: the base model M0, or a checkpoint written by {@link Student.save}. */
export interface StudentFactory {
  loadBase(): Promise<Student>;
  load(dir: string): Promise<Student>;
}

/** A sampled solution read back through the student format. */
export interface StudentSample {
  problemId: string;
  sampleIndex: number;
  /** The strategy the student chose; null when its completion had no recognisable tag. */
  strategy: Strategy | null;
  text: string;
  finishReason: 'stop' | 'length';
  /** Why the completion could not be read (no strategy tag), when that happened. */
  error?: string;
}
