// Tokenizer speed for the student adapter: @huggingface/tokenizers (what EngineStudent uses) vs
// the alternative installed here, the synthetic world's own WordLevelTokenizer (a plain TS encoder
// over the same tokenizer.json). No other tokenizer package is installed (the native `tokenizers`
// binding is not a dependency). Both encode the same texts; ids must agree.
//
// Run: node -r ./packages/core/test/loop/fixtures/register-ts.js tools/bench/loop-tokenizer.ts [preset]
import {
  HfTokenizer,
  STRATEGIES,
  StudentFormat,
  buildSyntheticWorld,
  type SyntheticPresetName,
} from '../../packages/core/src';

async function main(): Promise<void> {
  const preset = (process.argv[2] ?? 'demo') as SyntheticPresetName;
  const world = buildSyntheticWorld(preset, 0);
  const format = StudentFormat.fromObject(world.studentTemplate);
  const problems = world.splits.train!;
  const texts: string[] = [];
  for (const strategy of STRATEGIES) {
    for (const sample of await world.teacher.solve(problems, strategy, 1)) {
      const question = problems.find((p) => p.id === sample.problemId)!.question;
      texts.push(format.renderPrompt(question) + format.renderTarget(strategy, sample.text));
    }
  }
  const hf = HfTokenizer.fromJson(world.tokenizerJson, world.tokenizerConfig);
  const reference = world.tokenizer;
  let mismatches = 0;
  for (const text of texts)
    if (hf.encode(text).join(',') !== reference.encode(text).join(',')) mismatches += 1;

  const measure = (encode: (text: string) => number[]) => {
    for (let i = 0; i < 200; i += 1) encode(texts[i % texts.length]!); // warm up the JIT
    let tokens = 0;
    const started = process.hrtime.bigint();
    let rounds = 0;
    while (Number(process.hrtime.bigint() - started) < 2e9 || rounds < 1) {
      for (const text of texts) tokens += encode(text).length;
      rounds += 1;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { tokensPerSecond: tokens / seconds, textsPerSecond: (rounds * texts.length) / seconds };
  };
  const hfSpeed = measure((t) => hf.encode(t));
  const referenceSpeed = measure((t) => reference.encode(t));
  const result = {
    preset,
    texts: texts.length,
    meanTokensPerText: texts.reduce((sum, t) => sum + hf.encode(t).length, 0) / texts.length,
    idMismatches: mismatches,
    huggingfaceTokenizers: hfSpeed,
    baseline: { name: 'synthetic WordLevelTokenizer (plain TS)', ...referenceSpeed },
    ratio: hfSpeed.tokensPerSecond / referenceSpeed.tokensPerSecond,
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
