// The world's word-level tokenizer: exact round trips (so PoT code survives), digit splitting,
// and ids identical to Hugging Face tokenizers.js loading the same tokenizer.json.
import type { Tokenizer as HfTokenizerClass } from '@huggingface/tokenizers' with {
  'resolution-mode': 'import',
};
import { PythonSandbox } from '../../src/sandbox';
import {
  SPACE_MARKER,
  STRATEGY_TAG_TOKENS,
  WordLevelTokenizer,
  buildSyntheticWorld,
  buildWordLevelTokenizer,
  writeSolution,
  readSyntheticComputation,
} from '../../src/synthetic';
import { STRATEGIES } from '../../src/types';

const world = buildSyntheticWorld('tiny', 3);
const { tokenizer } = world;
const problems = Object.values(world.splits).flat();
const prompt = (question: string) => world.studentTemplate.prompt.replace('{question}', question);

/** Every text a run feeds the tokenizer: prompts + tagged targets of every strategy. */
const texts = problems.flatMap((problem) =>
  STRATEGIES.map((strategy, index) => {
    const solution = world.teacher.write(problem, strategy, index).text;
    return `${prompt(problem.question)}${world.studentTemplate.tags[strategy]}${solution}<eos>`;
  }),
);

test('decode(encode(text)) gives the text back, byte for byte, with no unknown piece', () => {
  for (const text of texts) {
    expect(tokenizer.unknownPieces(text)).toEqual([]);
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  }
});

test('a prompt tokenised alone ends as it does inside the training sequence (also when forced)', () => {
  for (const problem of problems) {
    for (const strategy of STRATEGIES) {
      const solution = world.teacher.write(problem, strategy, 0).text;
      const tag = world.studentTemplate.tags[strategy];
      const free = prompt(problem.question);
      const whole = tokenizer.encode(`${free}${tag}${solution}`);
      expect([...tokenizer.encode(free), ...tokenizer.encode(`${tag}${solution}`)]).toEqual(whole);
      expect([...tokenizer.encode(`${free}${tag}`), ...tokenizer.encode(solution)]).toEqual(whole);
    }
  }
});

test('digits are single tokens, a space rides on the piece before it, tags and specials are one token', () => {
  expect(tokenizer.tokenize('answer = 305 * 12\n[pot]: x<eos>')).toEqual([
    `answer${SPACE_MARKER}`,
    `=${SPACE_MARKER}`,
    '3',
    '0',
    `5${SPACE_MARKER}`,
    `*${SPACE_MARKER}`,
    '1',
    '2',
    '\n',
    '[pot]',
    `:${SPACE_MARKER}`,
    'x',
    '<eos>',
  ]);
  expect(tokenizer.encode('<pad><eos><unk>')).toEqual([0, 1, 2]);
  expect(STRATEGY_TAG_TOKENS.map((tag) => tokenizer.encode(tag))).toEqual([[3], [4], [5]]);
  expect(tokenizer.encode('zyzzyva')).toEqual([tokenizer.unkId]);
  expect(tokenizer.decode(tokenizer.encode('answer <eos>'), { skipSpecialTokens: true })).toBe(
    'answer ',
  );
});

test('decoded PoT programs still run in the sandbox to the same answer', async () => {
  const sandbox = await PythonSandbox.start({ workers: 2 }, { onWarning: () => {} });
  try {
    const programs = problems.slice(0, 40).map(
      (problem) =>
        writeSolution(readSyntheticComputation(problem), 'pot', {
          l2mFullSentences: false,
          potSeparateAnswerLine: true,
        }).text,
    );
    const decoded = programs.map((program) => tokenizer.decode(tokenizer.encode(program)));
    const [before, after] = await Promise.all([
      Promise.all(programs.map((program) => sandbox.run(program))),
      Promise.all(decoded.map((program) => sandbox.run(program))),
    ]);
    after.forEach((result, index) => {
      expect(result.error).toBeNull();
      expect(result.answer).toBe(before[index].answer);
      expect(result.answer).toBeCloseTo(problems[index].answer, 6);
    });
  } finally {
    await sandbox.close();
  }
});

test('Hugging Face tokenizers.js loads tokenizer.json and gives the same ids and text', () => {
  // The package's CommonJS build (its `require` export condition), as the student adapter loads it.
  const { Tokenizer } = require('@huggingface/tokenizers') as {
    Tokenizer: typeof HfTokenizerClass;
  };
  const hf = new Tokenizer(
    world.tokenizerJson as unknown as object,
    world.tokenizerConfig as object,
  );
  const probes = [...texts, 'unknown zyzzyva words  and  double spaces\n\n', 'x=(1,2)'];
  for (const text of probes) {
    const ids = hf.encode(text).ids;
    expect(ids).toEqual(tokenizer.encode(text));
    expect(hf.decode(ids)).toBe(tokenizer.decode(ids));
  }
});

test('vocabulary ids are deterministic and ordered: specials, tags, base pieces, corpus by frequency', () => {
  const corpus = ['the cat sat', 'the cat dog', 'the cat'];
  const json = buildWordLevelTokenizer(corpus);
  expect(buildWordLevelTokenizer([...corpus])).toEqual(json);
  const vocab = json.model.vocab;
  const byId = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
  expect(byId.slice(0, 6)).toEqual([
    ['<pad>', 0],
    ['<eos>', 1],
    ['<unk>', 2],
    ['[cot]', 3],
    ['[l2m]', 4],
    ['[pot]', 5],
  ]);
  // 'the▁' (3 times) before 'cat▁' (2), before 'cat', 'dog' and 'sat' (once each, in code-point
  // order), before the other forms that only the vocabulary adds ('the', 'sat▁'...).
  const order = [`the${SPACE_MARKER}`, `cat${SPACE_MARKER}`, 'cat', 'dog', 'sat', 'the'];
  const ids = order.map((piece) => vocab[piece]);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(vocab[`sat${SPACE_MARKER}`]).toBeGreaterThan(vocab.sat);
  expect(new Set(Object.values(vocab)).size).toBe(Object.keys(vocab).length);
  expect(Math.max(...Object.values(vocab))).toBe(Object.keys(vocab).length - 1);
  expect(
    () => new WordLevelTokenizer({ ...json, model: { ...json.model, type: 'BPE' as 'WordLevel' } }),
  ).toThrow(/model.type must be "WordLevel"/);
});
