// EngineStudent on the REAL CPU engine (@siked/native-cuda's Model) with a tiny random model:
// training lowers the loss on the target, sampling is reproducible by seed, and a saved
// checkpoint loads back through EngineStudentFactory and generates the same greedy text.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model, type ModelConfig } from '@siked/native-cuda';
import {
  DEFAULT_LORA,
  EngineStudent,
  EngineStudentFactory,
  HfTokenizer,
  nativeModelLoader,
  type TrainingSchedule,
} from '../../src';
import { buildWordLevelTokenizerJson } from './word-tokenizer';

const examples = [
  { prompt: 'Q: what is 2 plus 3?\nA: ', target: '[cot]: 2 + 3 = 5\nFinal answer: 5' },
  { prompt: 'Q: what is 4 plus 1?\nA: ', target: '[pot]: answer = 4 + 1' },
];
const tokenizerJson = buildWordLevelTokenizerJson(examples.flatMap((e) => [e.prompt, e.target]));
const tokenizer = HfTokenizer.fromJson(tokenizerJson);

function tinyConfig(): ModelConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: tokenizer.vocabSize,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 64,
    tie_word_embeddings: true,
    eos_token_id: tokenizer.eosTokenId,
  };
}

const schedule: TrainingSchedule = {
  epochs: 200,
  learningRate: 1e-2,
  warmupRatio: 0.1,
  minLearningRateRatio: 0.1,
  microBatchSize: 2,
  gradientAccumulation: 1,
  maxSequenceLength: 64,
  seed: 5,
};

describe('EngineStudent on the CPU engine', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'siked-student-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('learns the targets, samples reproducibly, and round-trips a checkpoint', async () => {
    const student = new EngineStudent(
      Model.fromConfig(tinyConfig(), { seed: 1, threads: 1 }),
      tokenizer,
    );
    const losses: number[] = [];
    const summary = await student.train(examples, schedule, (p) => losses.push(p.loss));
    expect(summary.steps).toBe(200);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 4);

    const greedy = await student.generate([examples[0]!.prompt], {
      numSamples: 1,
      temperature: 0,
      topP: 1,
      maxNewTokens: 24,
      seed: 0,
    });
    expect(greedy[0]!.text).toBe(examples[0]!.target);
    expect(greedy[0]!.finishReason).toBe('stop');

    const sampling = { numSamples: 3, temperature: 1.5, topP: 1, maxNewTokens: 12, seed: 42 };
    const first = await student.generate([examples[1]!.prompt], sampling);
    expect(await student.generate([examples[1]!.prompt], sampling)).toEqual(first);

    const [scored] = await student.score([examples[0]!.prompt + examples[0]!.target]);
    expect(scored!.logprobs[0]).toBeNull();
    expect(scored!.logprobs.slice(1).every((l) => typeof l === 'number' && l <= 0)).toBe(true);

    // save -> load: weights and tokenizer travel together.
    const base = path.join(dir, 'base');
    await fs.mkdir(base, { recursive: true });
    await fs.writeFile(path.join(base, 'tokenizer.json'), JSON.stringify(tokenizerJson));
    await student.save(path.join(dir, 'unused')); // save without tokenizer files still works
    const withTokenizer = new EngineStudent(student.model, tokenizer, {
      tokenizerFiles: [path.join(base, 'tokenizer.json')],
    });
    const checkpoint = path.join(dir, 'ckpt');
    await withTokenizer.save(checkpoint);
    const factory = new EngineStudentFactory({
      baseDir: base,
      loadModel: nativeModelLoader({ threads: 1 }),
    });
    const loaded = await factory.load(checkpoint);
    const again = await loaded.generate([examples[0]!.prompt], {
      numSamples: 1,
      temperature: 0,
      topP: 1,
      maxNewTokens: 24,
      seed: 0,
    });
    expect(again[0]!.text).toBe(greedy[0]!.text);
    loaded.dispose();
    student.dispose();
  });

  it('trains a fresh LoRA and merges it (weights change, adapters gone)', async () => {
    const student = new EngineStudent(
      Model.fromConfig(tinyConfig(), { seed: 2, threads: 1 }),
      tokenizer,
      {
        lora: DEFAULT_LORA, // rank 16, alpha 32, all seven projections
      },
    );
    const before = student.model.generate([tokenizer.encode(examples[0]!.prompt)], {
      maxNewTokens: 8,
    });
    const summary = await student.train(examples, { ...schedule, epochs: 5, learningRate: 1e-2 });
    expect(summary.steps).toBe(5);
    const after = student.model.generate([tokenizer.encode(examples[0]!.prompt)], {
      maxNewTokens: 8,
    });
    expect((await after)[0]!.logprobs).not.toEqual((await before)[0]!.logprobs);
    expect((student.model as Model).loraTable()).toHaveLength(0);
    student.dispose();
  });
});
