import { promises as fs } from 'node:fs';
import { peftAdapterConfig } from '@siked/native-cuda';
import * as path from 'node:path';
import {
  bucketedBatchOrder,
  makeMicroBatch,
  packedBatchOrder,
  packExample,
  type TokenizedExample,
} from './batching';
import type { EngineLoraOptions, EngineModel } from './engine-model';
import { readPeftAdapter, writePeftAdapter, type PeftAdapter } from './peft-adapter';
import { learningRateAt, validateSchedule } from './schedule';
import type { HfTokenizer } from './tokenizer';
import type {
  GeneratedText,
  GenerationOptions,
  ScoredText,
  Student,
  TrainingExample,
  TrainingSchedule,
  TrainProgress,
  TrainSummary,
} from './types';

/**
 * The reference implementation's adapter (METHOD.md 2, [impl]): rank 16, alpha 32, on every
 * attention and MLP projection. Pass it as `lora` for pretrained students; tiny from-scratch
 * students train all weights instead.
 */
export const DEFAULT_LORA: Readonly<Omit<EngineLoraOptions, 'seed'>> = Object.freeze({
  rank: 16,
  alpha: 32,
  targets: [
    'q_proj',
    'k_proj',
    'v_proj',
    'o_proj',
    'gate_proj',
    'up_proj',
    'down_proj',
  ] as EngineLoraOptions['targets'],
});

/** How an {@link EngineStudent} fine-tunes and samples. */
export interface EngineStudentOptions {
  /**
   * Train a fresh LoRA adapter in each `train` call and merge it when done (the reference
   * implementation's "continue from the last student, LoRA merged, fresh LoRA"). Omit for full
   * fine-tuning (what tiny from-scratch students use).
   */
  lora?: Omit<EngineLoraOptions, 'seed'>;
  /** AdamW settings (engine defaults otherwise). */
  optimizer?: {
    beta1?: number;
    beta2?: number;
    eps?: number;
    weightDecay?: number;
    maxGradNorm?: number;
  };
  /** Prompts sent to the engine per generate call (bounds KV-cache memory). Default 32. */
  generationChunkSize?: number;
  /** Files copied next to the weights by `save` so a checkpoint folder is self-contained (tokenizer.json...). */
  tokenizerFiles?: readonly string[];
  /**
   * The student text format's template, written by `save` as student-format.json (after the
   * copied files, so it wins): every checkpoint prompts as the run trained it.
   */
  studentFormat?: Readonly<object>;
}

/** Cuts `text` at the first stop text; reports whether one was found. */
function cutAtStops(text: string, stops: readonly string[]): { text: string; stopped: boolean } {
  let end = text.length;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && at < end) end = at;
  }
  return { text: text.slice(0, end), stopped: end < text.length };
}

/**
 * The student over the engine's `Model` (docs/ENGINE_API.md) and a Hugging Face tokenizer.
 * Training: prompt and target are tokenized separately (so the loss-mask boundary is exact and
 * matches how generation prompts are tokenized), the EOS id is appended to the target, the loss
 * covers the target only, batches are bucketed by length, the learning rate follows linear warmup
 * then cosine decay per optimizer step, and gradient accumulation gives the effective batch.
 */
export class EngineStudent implements Student {
  /** The adapter the last train() call trained, kept from before it was merged. */
  private lastAdapter: PeftAdapter | undefined;

  constructor(
    /** The engine model; the student owns it and disposes it. */
    readonly model: EngineModel,
    readonly tokenizer: HfTokenizer,
    private readonly options: EngineStudentOptions = {},
  ) {}

  /**
   * Training ids = the prompt's ids exactly as generate() gives them to the model (BOS included),
   * then the target's ids and EOS. With a BPE the whole text is tokenized at once, as `transformers`
   * would, whenever its ids start with the prompt's ids: then a forced-strategy prompt (the prompt
   * plus its tag) is a prefix of the training ids too, because the prompt's trailing spaces move to
   * the continuation and a BPE pre-tokenizer cuts before a space. Otherwise (or word-level) the
   * prompt's and the target's ids are joined.
   */
  private tokenize(example: TrainingExample): TokenizedExample {
    const { prompt, carried } = this.tokenizer.splitPrompt(example.prompt);
    const promptIds = this.tokenizer.encodeSequence(prompt);
    const eos = this.tokenizer.eosTokenId;
    if (this.tokenizer.spaceJoinsNextToken) {
      const whole = this.tokenizer.encodeSequence(prompt + carried + example.target);
      if (promptIds.every((id, i) => whole[i] === id) && whole.length > promptIds.length) {
        return { promptIds, targetIds: [...whole.slice(promptIds.length), eos] };
      }
    }
    return { promptIds, targetIds: [...this.tokenizer.encode(carried + example.target), eos] };
  }

  /** The token limit of one example, and of a packed row: the schedule's, within the model's context. */
  private sequenceLimit(schedule: TrainingSchedule): number {
    return Math.min(schedule.maxSequenceLength, this.contextLength);
  }

  /** Tokenized, length-checked rows to train on, by the schedule's over-length rule. */
  private packForTraining(examples: readonly TrainingExample[], schedule: TrainingSchedule) {
    const limit = this.sequenceLimit(schedule);
    const packed: Array<ReturnType<typeof packExample>> = [];
    let droppedExamples = 0;
    for (const example of examples) {
      const tokenized = this.tokenize(example);
      const length = tokenized.promptIds.length + tokenized.targetIds.length;
      const nothingLeft = tokenized.promptIds.length >= limit;
      if (nothingLeft || (length > limit && schedule.overLength === 'drop')) {
        droppedExamples += 1;
        continue;
      }
      packed.push(packExample(tokenized, limit));
    }
    const truncatedExamples = packed.filter((row) => row.truncated).length;
    return { packed, truncatedExamples, droppedExamples };
  }

  /** The ids generate() gives the model for `prompt`, and the spaces its continuation starts with. */
  promptIds(prompt: string): { ids: number[]; carried: string } {
    const split = this.tokenizer.splitPrompt(prompt);
    return { ids: this.tokenizer.encodeSequence(split.prompt), carried: split.carried };
  }

  async train(
    examples: readonly TrainingExample[],
    schedule: TrainingSchedule,
    onProgress?: (progress: TrainProgress) => void,
  ): Promise<TrainSummary> {
    validateSchedule(schedule);
    const started = Date.now();
    const { packed, truncatedExamples, droppedExamples } = this.packForTraining(examples, schedule);
    const lengths = packed.map((row) => row.ids.length);
    // Micro-batches of rows of example indices: one example per row, or packed rows.
    const epochBatches = (epoch: number): number[][][] => {
      const seed = schedule.seed + 1_000_003 * (epoch + 1); // a fresh shuffle per epoch
      return schedule.packing
        ? packedBatchOrder(lengths, this.sequenceLimit(schedule), schedule.microBatchSize, seed)
        : bucketedBatchOrder(lengths, schedule.microBatchSize, seed).map((batch) =>
            batch.map((i) => [i]),
          );
    };
    let batches = epochBatches(0);
    const stepsPerEpoch = Math.ceil(batches.length / schedule.gradientAccumulation);
    const totalSteps =
      stepsPerEpoch === 0 ? 0 : (schedule.steps ?? stepsPerEpoch * schedule.epochs);
    if (totalSteps === 0) {
      return {
        steps: 0,
        examples: 0,
        truncatedExamples: 0,
        droppedExamples,
        paddingShare: 0,
        finalLoss: NaN,
        meanTokensPerSecond: 0,
        elapsedMs: 0,
      };
    }
    if (this.options.lora) this.model.enableLora({ ...this.options.lora, seed: schedule.seed });
    this.model.configureOptimizer({
      ...this.options.optimizer,
      ...(schedule.weightDecay === undefined ? {} : { weightDecay: schedule.weightDecay }),
      ...(schedule.maxGradNorm === undefined ? {} : { maxGradNorm: schedule.maxGradNorm }),
    });
    let step = 0;
    let finalLoss = NaN;
    let totalTokens = 0;
    let paddedTokens = 0;
    for (let epoch = 0; step < totalSteps; epoch += 1) {
      if (epoch > 0) batches = epochBatches(epoch);
      for (
        let first = 0;
        first < batches.length && step < totalSteps;
        first += schedule.gradientAccumulation
      ) {
        const stepStarted = Date.now();
        let stepTokens = 0;
        let targetTokens = 0;
        for (const rows of batches.slice(first, first + schedule.gradientAccumulation)) {
          const batch = makeMicroBatch(
            rows.map((row) => row.map((i) => packed[i]!)),
            this.tokenizer.padTokenId,
            schedule.packing === true,
          );
          await this.model.accumulate(batch);
          stepTokens += batch.realTokens;
          targetTokens += batch.targetTokens;
          paddedTokens += batch.batchSize * batch.seqLen - batch.realTokens;
        }
        const learningRate = learningRateAt(step, totalSteps, schedule);
        const result = await this.model.step(learningRate);
        finalLoss = result.loss;
        totalTokens += stepTokens;
        step += 1;
        const seconds = Math.max(1e-6, (Date.now() - stepStarted) / 1000);
        onProgress?.({
          step,
          totalSteps,
          epoch: epoch + 1,
          loss: result.loss,
          gradNorm: result.gradNorm,
          learningRate,
          tokensPerSecond: stepTokens / seconds,
          targetTokens,
        });
      }
    }
    if (this.options.lora) {
      this.lastAdapter = this.snapshotAdapter(this.options.lora);
      this.model.mergeLora();
    }
    const elapsedMs = Date.now() - started;
    return {
      steps: step,
      examples: packed.length,
      truncatedExamples,
      droppedExamples,
      paddingShare: paddedTokens / Math.max(1, paddedTokens + totalTokens),
      finalLoss,
      meanTokensPerSecond: totalTokens / Math.max(1e-6, elapsedMs / 1000),
      elapsedMs,
    };
  }

  /** The enabled adapters as a PEFT adapter (undefined when the engine cannot list them). */
  private snapshotAdapter(lora: Omit<EngineLoraOptions, 'seed'>): PeftAdapter | undefined {
    const { loraTable, getParameter } = this.model;
    if (!loraTable || !getParameter) return undefined;
    const tensors = new Map(
      loraTable
        .call(this.model)
        .map((t) => [t.name, { shape: t.shape, data: getParameter.call(this.model, t.name) }]),
    );
    return {
      config: peftAdapterConfig(lora),
      tensors,
    };
  }

  /** The adapter the last train() call trained, relative to the model it started from. */
  trainedAdapter(): PeftAdapter | undefined {
    return this.lastAdapter;
  }

  /**
   * Writes the adapter the last train() call trained (PEFT layout); false (nothing written) when
   * it trained none (full fine-tuning).
   */
  async saveAdapter(dir: string): Promise<boolean> {
    if (!this.lastAdapter) return false;
    await writePeftAdapter(dir, this.lastAdapter);
    return true;
  }

  /**
   * Loads a PEFT adapter trained elsewhere (an external trainer) and merges it in, so the student
   * becomes the model that adapter was trained on top of, adapted; saveAdapter then writes it.
   */
  async mergeAdapterFrom(dir: string): Promise<void> {
    if (!this.model.loadLora)
      throw new Error('mergeAdapterFrom: this engine model cannot load LoRA adapters');
    await this.model.loadLora(dir);
    this.lastAdapter = await readPeftAdapter(dir);
    this.model.mergeLora();
  }

  /** The model's context: a prompt plus its new tokens, or a scored text, must fit in it. */
  get contextLength(): number {
    return this.model.config.max_position_embeddings;
  }

  /** How many tokens `text` takes, encoded as generate and score encode it (BOS included). */
  tokenCount(text: string): number {
    return this.tokenizer.encodeSequence(text).length;
  }

  async generate(prompts: readonly string[], options: GenerationOptions): Promise<GeneratedText[]> {
    const chunkSize = this.options.generationChunkSize ?? 32;
    const maxPositions = this.model.config.max_position_embeddings;
    const split = prompts.map((prompt) => this.promptIds(prompt));
    const encoded = split.map(({ ids }, index) => {
      if (ids.length + options.maxNewTokens > maxPositions) {
        throw new RangeError(
          `prompt ${index} has ${ids.length} tokens; with maxNewTokens ${options.maxNewTokens} it exceeds the model's ${maxPositions} positions`,
        );
      }
      return ids;
    });
    const results: GeneratedText[] = [];
    for (let start = 0; start < encoded.length; start += chunkSize) {
      const generations = await this.model.generate(encoded.slice(start, start + chunkSize), {
        maxNewTokens: options.maxNewTokens,
        temperature: options.temperature,
        topP: options.topP,
        // Row seeds are hash(seed, promptIndex-in-call, sampleIndex): offset by the chunk so every
        // prompt of the whole call gets its own stream.
        seed: options.seed + start,
        stopTokenIds: [this.tokenizer.eosTokenId],
        numSamples: options.numSamples,
      });
      for (const generation of generations) {
        const hitEos =
          generation.tokens.at(-1) === this.tokenizer.eosTokenId &&
          generation.finishReason === 'stop';
        const ids = hitEos ? generation.tokens.slice(0, -1) : generation.tokens;
        // The continuation starts with the spaces moved off its prompt: they were the prompt's.
        const carried = split[start + generation.promptIndex]!.carried;
        const decoded = this.tokenizer.decode(ids);
        const text =
          carried && decoded.startsWith(carried) ? decoded.slice(carried.length) : decoded;
        const cut = cutAtStops(text, options.stop ?? []);
        results.push({
          promptIndex: start + generation.promptIndex,
          sampleIndex: generation.sampleIndex,
          text: cut.text,
          finishReason: hitEos || cut.stopped ? 'stop' : generation.finishReason,
          tokenCount: generation.tokens.length,
        });
      }
    }
    return results.sort((a, b) => a.promptIndex - b.promptIndex || a.sampleIndex - b.sampleIndex);
  }

  async score(texts: readonly string[]): Promise<ScoredText[]> {
    const sequences = texts.map((text) => this.tokenizer.encodeSequence(text));
    const scores = sequences.some((ids) => ids.length === 0)
      ? Promise.reject(new RangeError('score: a text encodes to no tokens'))
      : this.model.scoreTokens(sequences);
    return (await scores).map((row, i) => ({
      tokenIds: sequences[i]!,
      tokens: this.tokenizer.tokens(sequences[i]!),
      logprobs: Array.from(row, (value, position) => (position === 0 ? null : value)),
    }));
  }

  async save(dir: string): Promise<void> {
    await this.model.save(dir);
    for (const file of this.options.tokenizerFiles ?? []) {
      await fs.copyFile(file, path.join(dir, path.basename(file)));
    }
    if (this.options.studentFormat)
      await fs.writeFile(
        path.join(dir, 'student-format.json'),
        JSON.stringify(this.options.studentFormat, null, 2) + '\n',
      );
  }

  dispose(): void {
    this.model.dispose();
  }
}
