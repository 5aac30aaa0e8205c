// Sequence packing through EngineStudent on a real (random-weight) engine model: a step over
// packed rows moves the weights exactly as a step over the same examples one per row, and an
// epoch takes fewer steps with far less padding.
import { Model } from '@siked/native-cuda';
import { EngineStudent, HfTokenizer, type TrainingExample, type TrainingSchedule } from '../../src';
import { buildWordLevelTokenizerJson } from './word-tokenizer';

const examples: TrainingExample[] = Array.from({ length: 12 }, (_, i) => ({
  prompt: `Question: Tom has ${i + 2} apples and buys ${3 * i + 1} more. How many apples?\nAnswer: `,
  target:
    i % 3 === 0
      ? `[pot]: answer = ${i + 2} + ${3 * i + 1}`
      : `[cot]: Tom has ${i + 2} apples. He buys ${3 * i + 1} more, so ${i + 2} + ${3 * i + 1} = ${4 * i + 3}. The answer is ${4 * i + 3}.`,
}));
const tokenizer = HfTokenizer.fromJson(
  buildWordLevelTokenizerJson(examples.flatMap((e) => [e.prompt, e.target])),
  { eos_token: '<eos>', pad_token: '<pad>' },
);

function student(seed: number): { model: Model; student: EngineStudent } {
  const model = Model.fromConfig(
    {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: tokenizer.vocabSize,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      max_position_embeddings: 256,
      tie_word_embeddings: true,
    },
    { seed, threads: 2 },
  );
  return { model, student: new EngineStudent(model, tokenizer) };
}

const schedule: TrainingSchedule = {
  epochs: 1,
  learningRate: 1e-2,
  warmupRatio: 0,
  minLearningRateRatio: 1,
  microBatchSize: 12,
  gradientAccumulation: 1,
  maxSequenceLength: 256,
  seed: 5,
};

describe('EngineStudent sequence packing', () => {
  it('takes the same step packed as unpacked when both see every example', async () => {
    const unpacked = student(9);
    const packed = student(9);
    try {
      const a = await unpacked.student.train(examples, { ...schedule, steps: 1 });
      const b = await packed.student.train(examples, { ...schedule, steps: 1, packing: true });
      expect(a.steps).toBe(1);
      expect(b.steps).toBe(1);
      expect(Math.abs(a.finalLoss - b.finalLoss)).toBeLessThan(1e-5 * a.finalLoss);
      let worst = 0;
      for (const { name } of unpacked.model.parameterTable()) {
        const x = unpacked.model.getParameter(name);
        const y = packed.model.getParameter(name);
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
      }
      // Adam's first step moves each weight by about the learning rate: 1e-5 is far below it.
      expect(worst).toBeLessThan(1e-5);
    } finally {
      unpacked.student.dispose();
      packed.student.dispose();
    }
  });

  it('fits several examples per row: fewer steps an epoch, less padding', async () => {
    const unpacked = student(3);
    const packed = student(3);
    try {
      const perStep = { ...schedule, microBatchSize: 2 };
      const a = await unpacked.student.train(examples, perStep);
      const b = await packed.student.train(examples, { ...perStep, packing: true });
      expect(a.steps).toBe(6);
      // 12 examples of 30-60 tokens fit in 3 rows of 256: two micro-batches of 2 rows.
      expect(b.steps).toBeLessThanOrEqual(2);
      expect(b.examples).toBe(12);
      expect(b.paddingShare).toBeLessThan(0.5);
    } finally {
      unpacked.student.dispose();
      packed.student.dispose();
    }
  });
});
