// EngineStudent's side of the engine contract: which batches, masks and learning rates it sends,
// and how it reads generations back. The engine here is RecordingEngineModel, a TEST-ONLY stand-in
// that records calls and answers with fixed token streams; the real engine is exercised by the
// loop's end-to-end test once @siked/native-cuda exports Model.
import {
  EngineStudent,
  HfTokenizer,
  learningRateAt,
  type EngineGeneration,
  type EngineModel,
  type EngineTrainBatch,
  type TrainingSchedule,
  type TrainProgress,
} from '../../src';
import { buildWordLevelTokenizerJson } from './word-tokenizer';

class RecordingEngineModel implements EngineModel {
  readonly config = { vocab_size: 100, max_position_embeddings: 64, eos_token_id: 1 };
  readonly calls: string[] = [];
  readonly batches: EngineTrainBatch[] = [];
  readonly learningRates: number[] = [];
  readonly generateCalls: Array<{ prompts: number[][]; seed?: number; stopTokenIds?: number[] }> =
    [];
  constructor(
    private readonly reply: (
      prompt: number[],
      sampleIndex: number,
    ) => { tokens: number[]; finishReason: 'stop' | 'length' },
  ) {}
  save(): Promise<void> {
    this.calls.push('save');
    return Promise.resolve();
  }
  enableLora(): void {
    this.calls.push('enableLora');
  }
  mergeLora(): void {
    this.calls.push('mergeLora');
  }
  readonly optimizerOptions: Array<Record<string, unknown>> = [];
  configureOptimizer(options: Record<string, unknown>): void {
    this.calls.push('configureOptimizer');
    this.optimizerOptions.push(options);
  }
  accumulate(batch: EngineTrainBatch): Promise<{ loss: number; tokens: number }> {
    this.batches.push(batch);
    return Promise.resolve({ loss: 1, tokens: batch.lossMask.reduce((a, b) => a + b, 0) });
  }
  step(learningRate: number): Promise<{ loss: number; gradNorm: number; tokens: number }> {
    this.learningRates.push(learningRate);
    return Promise.resolve({ loss: 2 / this.learningRates.length, gradNorm: 0.5, tokens: 1 });
  }
  scoreTokens(sequences: number[][]): Promise<Float32Array[]> {
    return Promise.resolve(
      sequences.map((s) => Float32Array.from(s, (_, i) => (i === 0 ? NaN : -i))),
    );
  }
  generate(
    prompts: number[][],
    options: { numSamples?: number; seed?: number; stopTokenIds?: number[] },
  ): Promise<EngineGeneration[]> {
    this.generateCalls.push({ prompts, seed: options.seed, stopTokenIds: options.stopTokenIds });
    const out: EngineGeneration[] = [];
    prompts.forEach((prompt, promptIndex) => {
      for (let sampleIndex = 0; sampleIndex < (options.numSamples ?? 1); sampleIndex += 1) {
        const { tokens, finishReason } = this.reply(prompt, sampleIndex);
        out.push({
          promptIndex,
          sampleIndex,
          tokens,
          logprobs: tokens.map(() => -1),
          finishReason,
        });
      }
    });
    return Promise.resolve(out.reverse()); // any order: the student sorts
  }
  dispose(): void {
    this.calls.push('dispose');
  }
}

const texts = [
  'Q: what is 2 plus 3?\nA: ',
  '[cot]: 2 + 3 = 5\nFinal answer: 5',
  '[pot]: answer = 2 + 3',
  '\nQ: ',
];
const tokenizer = HfTokenizer.fromJson(buildWordLevelTokenizerJson(texts));

const schedule: TrainingSchedule = {
  epochs: 2,
  learningRate: 1e-3,
  warmupRatio: 0.25,
  minLearningRateRatio: 0,
  microBatchSize: 2,
  gradientAccumulation: 2,
  maxSequenceLength: 64,
  seed: 3,
};

describe('EngineStudent.train', () => {
  const examples = Array.from({ length: 7 }, (_, i) => ({
    prompt: `Q: what is ${i} plus 3?\nA: `,
    target:
      i % 2 === 0
        ? `[cot]: ${i} + 3 = ${i + 3}\nFinal answer: ${i + 3}`
        : `[pot]: answer = ${i} + 3`,
  }));

  it('sends target-only loss masks with EOS, the schedule learning rates, and LoRA around training', async () => {
    const model = new RecordingEngineModel(() => ({ tokens: [1], finishReason: 'stop' }));
    const student = new EngineStudent(model, tokenizer, {
      lora: { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj'] },
    });
    const events: TrainProgress[] = [];
    const summary = await student.train(examples, schedule, (e) => events.push(e));
    // 7 examples / micro 2 = 4 micro-batches per epoch; / accumulation 2 = 2 steps; x 2 epochs.
    expect(summary.steps).toBe(4);
    expect(model.batches).toHaveLength(8);
    expect(model.learningRates).toEqual([0, 1, 2, 3].map((s) => learningRateAt(s, 4, schedule)));
    expect(model.calls).toEqual(['enableLora', 'configureOptimizer', 'mergeLora']);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(events[3]!.loss).toBeCloseTo(0.5);
    expect(summary.finalLoss).toBeCloseTo(0.5);

    // Every row: prompt tokens unmasked, target tokens + EOS masked, then padding unmasked.
    const seenRows = new Set<string>();
    for (const batch of model.batches) {
      for (let r = 0; r < batch.batchSize; r += 1) {
        const row = Array.from(batch.tokens.slice(r * batch.seqLen, (r + 1) * batch.seqLen));
        const mask = Array.from(batch.lossMask.slice(r * batch.seqLen, (r + 1) * batch.seqLen));
        const eosAt = row.indexOf(tokenizer.eosTokenId);
        const text = tokenizer.decode(row.slice(0, eosAt));
        const example = examples.find((e) => text === e.prompt + e.target)!;
        expect(example).toBeDefined();
        const promptLength = tokenizer.encode(example.prompt).length;
        expect(mask.slice(0, promptLength).every((m) => m === 0)).toBe(true);
        expect(mask.slice(promptLength, eosAt + 1).every((m) => m === 1)).toBe(true);
        expect(mask.slice(eosAt + 1).every((m) => m === 0)).toBe(true);
        seenRows.add(text);
      }
    }
    expect(seenRows.size).toBe(7);
  });

  it("passes the schedule's weight decay and clipping to the optimizer", async () => {
    const model = new RecordingEngineModel(() => ({ tokens: [1], finishReason: 'stop' }));
    const student = new EngineStudent(model, tokenizer, { optimizer: { beta2: 0.95 } });
    await student.train(examples, { ...schedule, weightDecay: 0.01, maxGradNorm: 1 });
    expect(model.optimizerOptions).toEqual([{ beta2: 0.95, weightDecay: 0.01, maxGradNorm: 1 }]);
  });

  it("drops or truncates over-long examples by the schedule's rule, and counts them", async () => {
    const lengths = examples.map(
      (e) => tokenizer.encode(e.prompt).length + tokenizer.encode(e.target).length + 1,
    );
    const promptLength = Math.max(...examples.map((e) => tokenizer.encode(e.prompt).length));
    // A limit between the shortest and the longest whole example, above every prompt.
    const limit = Math.min(...lengths) + 1;
    expect(limit).toBeGreaterThan(promptLength);
    const over = lengths.filter((n) => n > limit).length;
    expect(over).toBeGreaterThan(0);
    const run = async (overLength: 'truncate' | 'drop', maxSequenceLength: number) => {
      const model = new RecordingEngineModel(() => ({ tokens: [1], finishReason: 'stop' }));
      const summary = await new EngineStudent(model, tokenizer).train(examples, {
        ...schedule,
        epochs: 1,
        maxSequenceLength,
        overLength,
      });
      const rows = model.batches.reduce((n, b) => n + b.batchSize, 0);
      return { summary, rows };
    };
    const truncated = await run('truncate', limit);
    expect([truncated.summary.truncatedExamples, truncated.summary.droppedExamples]).toEqual([
      over,
      0,
    ]);
    expect(truncated.rows).toBe(examples.length);
    const dropped = await run('drop', limit);
    expect([dropped.summary.truncatedExamples, dropped.summary.droppedExamples]).toEqual([0, over]);
    expect(dropped.rows).toBe(examples.length - over);
    // A prompt that fills the limit leaves nothing to learn: dropped even when truncating.
    const full = await run('truncate', promptLength);
    expect(full.summary.droppedExamples).toBeGreaterThan(0);
    expect(full.rows + full.summary.droppedExamples).toBe(examples.length);
  });

  it('reshuffles per epoch, reproducibly by seed', async () => {
    const order = async (seed: number) => {
      const model = new RecordingEngineModel(() => ({ tokens: [1], finishReason: 'stop' }));
      await new EngineStudent(model, tokenizer).train(examples, { ...schedule, seed });
      return model.batches.map((b) => Array.from(b.tokens).join(','));
    };
    const first = await order(3);
    expect(await order(3)).toEqual(first);
    expect(await order(4)).not.toEqual(first);
    expect(first.slice(0, 4)).not.toEqual(first.slice(4));
  });

  it('trains exactly `steps` optimizer steps when given, cycling the data with fresh shuffles', async () => {
    const run = async (steps: number) => {
      const model = new RecordingEngineModel(() => ({ tokens: [1], finishReason: 'stop' }));
      const events: TrainProgress[] = [];
      const summary = await new EngineStudent(model, tokenizer).train(
        examples,
        { ...schedule, epochs: 1, steps },
        (e) => events.push(e),
      );
      return { model, events, summary };
    };
    // 2 steps per pass over the 7 examples: 5 steps = 2 full passes and half of a third.
    const { model, events, summary } = await run(5);
    expect(summary.steps).toBe(5);
    expect(model.batches).toHaveLength(10);
    expect(events.map((e) => [e.step, e.totalSteps, e.epoch])).toEqual([
      [1, 5, 1],
      [2, 5, 1],
      [3, 5, 2],
      [4, 5, 2],
      [5, 5, 3],
    ]);
    expect(model.learningRates).toEqual([0, 1, 2, 3, 4].map((s) => learningRateAt(s, 5, schedule)));
    // Fewer steps than one pass stops inside the first pass.
    expect((await run(1)).model.batches).toHaveLength(2);
    // The same first pass as training by epochs from the same seed.
    const byEpochs = new RecordingEngineModel(() => ({ tokens: [1], finishReason: 'stop' }));
    await new EngineStudent(byEpochs, tokenizer).train(examples, { ...schedule, epochs: 1 });
    expect(model.batches.slice(0, 4).map((b) => Array.from(b.tokens).join(','))).toEqual(
      byEpochs.batches.map((b) => Array.from(b.tokens).join(',')),
    );
    await expect(run(0)).rejects.toThrow(/schedule.steps/);
  });
});

describe('EngineStudent.generate and score', () => {
  it('decodes new tokens, drops EOS, cuts stop texts, orders results and offsets seeds per chunk', async () => {
    const answer = tokenizer.encode('[cot]: 2 + 3 = 5\nFinal answer: 5');
    const runOn = tokenizer.encode('[pot]: answer = 5\nQ: what');
    const model = new RecordingEngineModel((_, sampleIndex) =>
      sampleIndex === 0
        ? { tokens: [...answer, tokenizer.eosTokenId], finishReason: 'stop' }
        : { tokens: runOn, finishReason: 'length' },
    );
    const student = new EngineStudent(model, tokenizer, { generationChunkSize: 2 });
    const prompts = [
      'Q: what is 2 plus 3?\nA: ',
      'Q: what is 3 plus 2?\nA: ',
      'Q: what is 5 plus 0?\nA: ',
    ];
    const generated = await student.generate(prompts, {
      numSamples: 2,
      temperature: 0.7,
      topP: 0.95,
      maxNewTokens: 16,
      seed: 100,
      stop: ['\nQ: '],
    });
    expect(generated.map((g) => [g.promptIndex, g.sampleIndex])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
    expect(generated[0]).toEqual({
      promptIndex: 0,
      sampleIndex: 0,
      text: '[cot]: 2 + 3 = 5\nFinal answer: 5',
      finishReason: 'stop',
      tokenCount: answer.length + 1,
    });
    expect(generated[1]!.text).toBe('[pot]: answer = 5');
    expect(generated[1]!.finishReason).toBe('stop'); // the stop text ended it
    expect(model.generateCalls.map((c) => [c.prompts.length, c.seed])).toEqual([
      [2, 100],
      [1, 102],
    ]);
    expect(model.generateCalls[0]!.stopTokenIds).toEqual([tokenizer.eosTokenId]);
    await expect(
      student.generate(['Q: what is 2 plus 3?\nA: '], {
        numSamples: 1,
        temperature: 0,
        topP: 1,
        maxNewTokens: 60,
        seed: 0,
      }),
    ).rejects.toThrow(/exceeds the model's 64 positions/);
  });

  it('scores texts with null for the first token', async () => {
    const student = new EngineStudent(
      new RecordingEngineModel(() => ({ tokens: [], finishReason: 'stop' })),
      tokenizer,
    );
    const [scored] = await student.score(['2 + 3']);
    expect(scored!.tokens).toEqual(['2', ' ', '+', ' ', '3']);
    expect(scored!.logprobs).toEqual([null, -1, -2, -3, -4]);
  });
});
