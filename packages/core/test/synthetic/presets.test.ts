// Presets and the assembled world: sizes, the student's config.json, and token budgets that fit.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  SYNTHETIC_PRESETS,
  WordLevelTokenizer,
  writeSyntheticModelFiles,
  SYNTHETIC_SPLIT_NAMES,
  buildSyntheticWorld,
  llamaParameterCount,
  syntheticPreset,
} from '../../src/synthetic';
import { STRATEGIES } from '../../src/types';

test('the tiny preset builds in well under a few seconds with the sizes it promises', () => {
  const started = Date.now();
  const world = buildSyntheticWorld('tiny', 0);
  expect(Date.now() - started).toBeLessThan(3000);
  for (const name of SYNTHETIC_SPLIT_NAMES)
    expect(world.splits[name]).toHaveLength(SYNTHETIC_PRESETS.tiny.splitSizes[name]);
});

test('the demo world: config.json matches the tokenizer, the student is 0.1-5M parameters, texts fit', () => {
  const world = buildSyntheticWorld('demo', 1);
  const { modelConfig, tokenizer, preset } = world;
  expect(modelConfig).toMatchObject({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: tokenizer.vocabSize,
    eos_token_id: tokenizer.eosId,
    pad_token_id: tokenizer.padId,
    hidden_size: preset.model.hidden_size,
    tie_word_embeddings: true,
  });
  expect(modelConfig.hidden_size % modelConfig.num_attention_heads).toBe(0);
  expect(modelConfig.num_attention_heads % modelConfig.num_key_value_heads).toBe(0);
  expect(world.parameterCount).toBeGreaterThan(100_000);
  expect(world.parameterCount).toBeLessThan(5_000_000);
  expect(world.tokenizerConfig).toMatchObject({
    eos_token: '<eos>',
    pad_token: '<pad>',
    unk_token: '<unk>',
  });

  // Every teacher solution (all splits, ood-steps included) fits the generation budget, and prompt + target fit
  // the context; the texts stay short (the design aims at ~20-80 target tokens; L2M, the wordiest, averages ~83).
  const lengths: Record<string, number[]> = { cot: [], l2m: [], pot: [] };
  let longestSequence = 0;
  for (const name of [
    'train',
    'validation',
    'test',
    'ood-phrasing',
    'ood-distractor',
    'ood-numbers',
    'ood-steps',
  ]) {
    for (const problem of world.splits[name]) {
      const promptLength = tokenizer.encode(
        world.studentTemplate.prompt.replace('{question}', problem.question),
      ).length;
      for (const strategy of STRATEGIES) {
        const target = `${world.studentTemplate.tags[strategy]}${world.teacher.write(problem, strategy, 0).text}`;
        const targetLength = tokenizer.encode(target).length + 1; // + <eos>
        if (name === 'train') lengths[strategy].push(targetLength);
        expect(targetLength).toBeLessThanOrEqual(preset.run.maxNewTokens);
        longestSequence = Math.max(longestSequence, promptLength + targetLength);
      }
    }
  }
  expect(longestSequence).toBeLessThanOrEqual(modelConfig.max_position_embeddings);
  expect(longestSequence).toBeLessThanOrEqual(preset.run.training.maxSequenceLength);
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  for (const strategy of STRATEGIES) {
    expect(mean(lengths[strategy])).toBeGreaterThan(10);
    expect(mean(lengths[strategy])).toBeLessThan(90);
  }
});

test("the demo's verified teacher data is near balanced across strategies", () => {
  const world = buildSyntheticWorld('demo', 1);
  const kept = Object.fromEntries(STRATEGIES.map((strategy) => [strategy, 0]));
  for (const problem of world.splits.train) {
    for (const strategy of STRATEGIES) {
      for (let index = 0; index < world.preset.run.teacherSamplesPerQuestion; index++) {
        if (world.teacher.write(problem, strategy, index).mistake === null) {
          kept[strategy]++;
          break;
        }
      }
    }
  }
  const total = Object.values(kept).reduce((sum, count) => sum + count, 0);
  for (const strategy of STRATEGIES) {
    expect(kept[strategy] / total).toBeGreaterThan(0.3);
    expect(kept[strategy] / total).toBeLessThan(0.37);
  }
  expect(kept.cot).toBeGreaterThan(kept.pot);
});

test('presets grow from tiny to full, and unknown names are refused', () => {
  const sizes = ['tiny', 'demo', 'full'].map((name) => syntheticPreset(name));
  for (let index = 1; index < sizes.length; index++) {
    expect(sizes[index].splitSizes.train).toBeGreaterThan(sizes[index - 1].splitSizes.train);
    expect(llamaParameterCount(sizes[index].model, 500)).toBeGreaterThan(
      llamaParameterCount(sizes[index - 1].model, 500),
    );
  }
  expect(() => syntheticPreset('huge')).toThrow(
    /unknown synthetic preset "huge" \(known: tiny, demo, full\)/,
  );
});

test('parameter count formula: a hand-computed small Llama', () => {
  // vocab 10, hidden 4, 1 layer, 2 heads (head_dim 2), 1 kv head (kv width 2), intermediate 6:
  // embedding 40; q 16 + o 16 + k 8 + v 8 = 48; mlp 3*4*6 = 72; norms 4+4; final norm 4.
  const shape = {
    hidden_size: 4,
    intermediate_size: 6,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    max_position_embeddings: 8,
  };
  expect(llamaParameterCount(shape, 10)).toBe(40 + 48 + 72 + 8 + 4);
});

test('the student files are written as Hugging Face JSON files that load back', async () => {
  const world = buildSyntheticWorld('tiny', 4);
  const dir = mkdtempSync(path.join(tmpdir(), 'siked-synthetic-'));
  try {
    const files = await writeSyntheticModelFiles(world, path.join(dir, 'model'));
    expect(files.map((file) => path.basename(file))).toEqual([
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const read = (name: string) => JSON.parse(readFileSync(path.join(dir, 'model', name), 'utf8'));
    expect(read('config.json')).toEqual(world.modelConfig);
    const tokenizer = new WordLevelTokenizer(read('tokenizer.json'));
    const question = world.splits.test[0].question;
    expect(tokenizer.encode(question)).toEqual(world.tokenizer.encode(question));
    expect(read('tokenizer_config.json')).toMatchObject({ eos_token: '<eos>' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
