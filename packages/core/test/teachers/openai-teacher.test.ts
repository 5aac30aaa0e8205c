import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  OpenAICompatibleTeacher,
  TeacherRequestFailures,
  backoffDelayMs,
  parseRetryAfterMs,
  type OpenAICompatibleTeacherOptions,
  type Problem,
} from '../../src';
import { startLoopbackServer, type LoopbackServer } from './loopback-server';

const problems: Problem[] = [1, 2, 3, 4, 5, 6].map((i) => ({
  id: `p${i}`,
  question: `What is ${i} + ${i}?`,
  answer: 2 * i,
  source: 'test',
  split: 'train',
}));

let server: LoopbackServer;
let dir: string;

beforeEach(async () => {
  server = await startLoopbackServer();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'siked-teacher-'));
});
afterEach(async () => {
  await server.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function options(
  overrides: Partial<OpenAICompatibleTeacherOptions> = {},
): OpenAICompatibleTeacherOptions {
  return {
    baseUrl: server.baseUrl,
    model: 'teacher-70b',
    endpoint: 'chat',
    buildPrompt: (strategy, question) => [
      { role: 'system', content: `Solve with ${strategy}.` },
      { role: 'user', content: question },
    ],
    cacheFile: path.join(dir, 'cache.jsonl'),
    retry: {
      maxRetries: 3,
      initialBackoffMs: 5,
      maxBackoffMs: 20,
      timeoutMs: 2000,
      maxRetryAfterMs: 2000,
    },
    random: () => 0.5,
    ...overrides,
  };
}

describe('OpenAICompatibleTeacher against a loopback server', () => {
  it('sends chat requests with the key from the named env var, and caches every response', async () => {
    process.env.SIKED_TEST_TEACHER_KEY = 'sk-secret-123';
    const teacher = await OpenAICompatibleTeacher.create(
      options({
        apiKeyEnv: 'SIKED_TEST_TEACHER_KEY',
        temperature: 0.5,
        maxTokens: 64,
        stop: ['\n\n'],
      }),
    );
    const samples = await teacher.solve(problems.slice(0, 2), 'cot', 3);
    await teacher.close();
    expect(samples).toHaveLength(6);
    expect(samples.map((s) => s.problemId)).toEqual(['p1', 'p1', 'p1', 'p2', 'p2', 'p2']);
    expect(samples.every((s) => s.strategy === 'cot' && s.text.includes('Final answer'))).toBe(
      true,
    );
    expect(server.requests).toHaveLength(2);
    const first = server.requests[0]!;
    expect(first.url).toBe('/v1/chat/completions');
    expect(first.headers.authorization).toBe('Bearer sk-secret-123');
    expect(first.body).toMatchObject({
      model: 'teacher-70b',
      n: 3,
      temperature: 0.5,
      max_tokens: 64,
      stop: ['\n\n'],
    });
    expect(first.body.messages).toEqual([
      { role: 'system', content: 'Solve with cot.' },
      { role: 'user', content: 'What is 1 + 1?' },
    ]);
    const cacheText = await fs.readFile(path.join(dir, 'cache.jsonl'), 'utf8');
    expect(cacheText.trim().split('\n')).toHaveLength(2);
    expect(cacheText).not.toContain('sk-secret-123');

    // A rerun pays for nothing: same answers, no request. Asking for more requests only the rest.
    const again = await OpenAICompatibleTeacher.create(
      options({
        apiKeyEnv: 'SIKED_TEST_TEACHER_KEY',
        temperature: 0.5,
        maxTokens: 64,
        stop: ['\n\n'],
      }),
    );
    expect(await again.solve(problems.slice(0, 2), 'cot', 3)).toEqual(samples);
    expect(server.requests).toHaveLength(2);
    const more = await again.solve(problems.slice(0, 1), 'cot', 5);
    expect(more.slice(0, 3)).toEqual(samples.slice(0, 3));
    expect(server.requests).toHaveLength(3);
    expect(server.requests[2]!.body.n).toBe(2);
    // Different parameters are a different cache key.
    await again.close();
    const hotter = await OpenAICompatibleTeacher.create(
      options({
        apiKeyEnv: 'SIKED_TEST_TEACHER_KEY',
        temperature: 1.0,
        maxTokens: 64,
        stop: ['\n\n'],
      }),
    );
    await hotter.solve(problems.slice(0, 1), 'cot', 1);
    await hotter.close();
    expect(server.requests).toHaveLength(4);
    delete process.env.SIKED_TEST_TEACHER_KEY;
  });

  it('names a missing key variable without ever printing a key', async () => {
    delete process.env.SIKED_TEST_MISSING_KEY;
    await expect(
      OpenAICompatibleTeacher.create(options({ apiKeyEnv: 'SIKED_TEST_MISSING_KEY' })),
    ).rejects.toThrow(/SIKED_TEST_MISSING_KEY/);
  });

  it('uses the completions endpoint and re-asks a server that ignores n', async () => {
    server.fallback = { kind: 'ok', choices: 1 };
    const teacher = await OpenAICompatibleTeacher.create(
      options({ endpoint: 'completions', buildPrompt: (s, q) => `[${s}] Q: ${q}\nA:` }),
    );
    const samples = await teacher.solve(problems.slice(0, 1), 'pot', 3);
    await teacher.close();
    expect(samples).toHaveLength(3);
    expect(new Set(samples.map((s) => s.text)).size).toBe(3);
    expect(server.requests.map((r) => r.body.n)).toEqual([3, 2, 1]);
    expect(server.requests[0]!.url).toBe('/v1/completions');
    expect(server.requests[0]!.body.prompt).toBe('[pot] Q: What is 1 + 1?\nA:');
  });

  it('rejects a prompt of the wrong shape for the endpoint', async () => {
    const teacher = await OpenAICompatibleTeacher.create(options({ endpoint: 'completions' }));
    await expect(teacher.solve(problems.slice(0, 1), 'cot', 1)).rejects.toThrow(
      TeacherRequestFailures,
    );
    await teacher.close();
    expect(server.requests).toHaveLength(0);
  });

  it('retries 500, malformed JSON, a truncated body and a hang, then succeeds', async () => {
    server.script = [
      { kind: 'status', status: 500 },
      { kind: 'malformed' },
      { kind: 'truncated' },
      { kind: 'hang' },
    ];
    const teacher = await OpenAICompatibleTeacher.create(
      options({
        retry: {
          maxRetries: 4,
          initialBackoffMs: 5,
          maxBackoffMs: 20,
          timeoutMs: 300,
          maxRetryAfterMs: 1000,
        },
      }),
    );
    const started = Date.now();
    const samples = await teacher.solve(problems.slice(0, 1), 'l2m', 2);
    await teacher.close();
    expect(samples).toHaveLength(2);
    expect(server.requests).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300); // the hang cost one timeout
  });

  it('honours Retry-After on 429', async () => {
    server.script = [{ kind: 'status', status: 429, retryAfter: '0.4' }];
    const teacher = await OpenAICompatibleTeacher.create(options());
    await teacher.solve(problems.slice(0, 1), 'cot', 1);
    await teacher.close();
    expect(server.requests).toHaveLength(2);
    const waited = server.requests[1]!.atMs - server.requests[0]!.atMs;
    expect(waited).toBeGreaterThanOrEqual(390);
  });

  it('gives up after the retry budget, and fails at once on a 400, reporting every failed problem', async () => {
    server.fallback = { kind: 'status', status: 503 };
    const teacher = await OpenAICompatibleTeacher.create(options());
    const failure = await teacher.solve(problems.slice(0, 2), 'cot', 1).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TeacherRequestFailures);
    expect((failure as TeacherRequestFailures).failures.map((f) => f.problemId)).toEqual([
      'p1',
      'p2',
    ]);
    expect((failure as Error).message).toMatch(/after 4 attempts.*HTTP 503/);
    expect(server.requests).toHaveLength(8);

    server.requests.length = 0;
    server.fallback = { kind: 'status', status: 400 };
    await expect(teacher.solve(problems.slice(0, 1), 'cot', 1)).rejects.toThrow(/HTTP 400/);
    expect(server.requests).toHaveLength(1);
    await teacher.close();
  });

  it('retries a 200 whose body is not a completion (no or empty choices, an error object)', async () => {
    server.script = [
      { kind: 'body', body: {} },
      { kind: 'body', body: { error: { message: 'model is loading' } } },
      { kind: 'body', body: { choices: [] } },
    ];
    const teacher = await OpenAICompatibleTeacher.create(options());
    const samples = await teacher.solve(problems.slice(0, 1), 'cot', 1);
    expect(samples).toHaveLength(1);
    expect(server.requests).toHaveLength(4);
    server.requests.length = 0;
    server.fallback = { kind: 'body', body: { error: { message: 'model is loading' } } };
    await expect(teacher.solve(problems.slice(1, 2), 'cot', 1)).rejects.toThrow(
      /after 4 attempts; last: .*no "choices" array \(error: model is loading\)/,
    );
    await teacher.close();
  });

  it("sends the prompt's stop sequences with the configured ones, and keys the cache by them", async () => {
    const teacher = await OpenAICompatibleTeacher.create(
      options({
        endpoint: 'completions',
        stop: ['</s>'],
        buildPrompt: (s, q) => ({
          prompt: `[${s}] Question: ${q}\nSolution:\n`,
          stop: ['\n\nQuestion:'],
        }),
      }),
    );
    await teacher.solve(problems.slice(0, 1), 'cot', 1);
    await teacher.close();
    expect(server.requests[0]!.body.stop).toEqual(['</s>', '\n\nQuestion:']);
    // The same prompt without its stop sequence is another request, not a cache hit.
    const unstopped = await OpenAICompatibleTeacher.create(
      options({
        endpoint: 'completions',
        stop: ['</s>'],
        buildPrompt: (s, q) => `[${s}] Question: ${q}\nSolution:\n`,
      }),
    );
    await unstopped.solve(problems.slice(0, 1), 'cot', 1);
    await unstopped.close();
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.body.stop).toEqual(['</s>']);
  });

  it('stops asking after the first problem that fails for good (nothing already asked is lost)', async () => {
    server.script = [{ kind: 'ok' }, { kind: 'status', status: 400 }];
    const teacher = await OpenAICompatibleTeacher.create(options({ concurrency: 1 }));
    const failure = (await teacher
      .solve(problems, 'cot', 1)
      .catch((e: unknown) => e)) as TeacherRequestFailures;
    expect(failure).toBeInstanceOf(TeacherRequestFailures);
    expect(failure.failures.map((f) => f.problemId)).toEqual(['p2']);
    expect(failure.notAsked).toBe(4);
    expect(failure.message).toMatch(/1 teacher request\(s\) failed \(4 more not asked\)/);
    expect(server.requests).toHaveLength(2);
    // p1's answer is cached: the rerun asks for the rest only.
    server.requests.length = 0;
    expect(await teacher.solve(problems, 'cot', 1)).toHaveLength(6);
    expect(server.requests).toHaveLength(5);
    await teacher.close();
  });

  it('with a failures file, finishes the other problems and records the failed ones there', async () => {
    server.script = [{ kind: 'status', status: 400 }];
    const failuresFile = path.join(dir, 'failures.jsonl');
    const teacher = await OpenAICompatibleTeacher.create(options({ concurrency: 1, failuresFile }));
    const samples = await teacher.solve(problems.slice(0, 3), 'l2m', 1);
    await teacher.close();
    expect(samples.map((s) => s.problemId)).toEqual(['p2', 'p3']);
    const lines = (await fs.readFile(failuresFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ problemId: 'p1', strategy: 'l2m', status: 400, attempts: 1 }),
    ]);
    expect(teacher.failures).toHaveLength(1);
  });

  it('reports each problem as its answers arrive, and each retry before it waits', async () => {
    server.script = [{ kind: 'status', status: 503 }];
    const done: string[] = [];
    const retries: string[] = [];
    const teacher = await OpenAICompatibleTeacher.create(
      options({
        concurrency: 1,
        onRetry: (n) => retries.push(`${n.retry}/${n.maxRetries} ${n.reason}`),
      }),
    );
    await teacher.solve(problems.slice(0, 3), 'cot', 1, { onProblemDone: (id) => done.push(id) });
    await teacher.close();
    expect(done).toEqual(['p1', 'p2', 'p3']);
    expect(retries).toEqual([expect.stringMatching(/^1\/3 HTTP 503/)]);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    server.fallback = { kind: 'ok', delayMs: 40 };
    const teacher = await OpenAICompatibleTeacher.create(options({ concurrency: 2 }));
    const samples = await teacher.solve(problems, 'cot', 1);
    await teacher.close();
    expect(samples).toHaveLength(6);
    expect(server.maxInFlight).toBe(2);
  });

  it('tolerates a cache whose last line was torn by a crash, and keeps appending cleanly', async () => {
    const first = await OpenAICompatibleTeacher.create(options());
    const samples = await first.solve(problems.slice(0, 1), 'cot', 2);
    await first.close();
    const cacheFile = path.join(dir, 'cache.jsonl');
    await fs.appendFile(cacheFile, '{"key":"abc","model":"teacher-70b","completions":["half wri');
    const second = await OpenAICompatibleTeacher.create(options());
    expect(await second.solve(problems.slice(0, 1), 'cot', 2)).toEqual(samples);
    await second.solve(problems.slice(1, 2), 'cot', 1);
    await second.close();
    expect(server.requests).toHaveLength(2);
    const lines = (await fs.readFile(cacheFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('backoff', () => {
  const policy = {
    maxRetries: 5,
    initialBackoffMs: 100,
    maxBackoffMs: 1000,
    timeoutMs: 1000,
    maxRetryAfterMs: 5000,
  };
  it('grows exponentially with equal jitter and a cap', () => {
    expect(backoffDelayMs(policy, 0, undefined, () => 0)).toBe(50);
    expect(backoffDelayMs(policy, 0, undefined, () => 1)).toBe(100);
    expect(backoffDelayMs(policy, 3, undefined, () => 0.5)).toBe(600); // 800 * 0.75
    expect(backoffDelayMs(policy, 10, undefined, () => 1)).toBe(1000);
  });
  it('prefers Retry-After, clamped', () => {
    expect(backoffDelayMs(policy, 0, 2000)).toBe(2000);
    expect(backoffDelayMs(policy, 0, 60_000)).toBe(5000);
    expect(parseRetryAfterMs('3')).toBe(3000);
    expect(parseRetryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfterMs('soon')).toBeUndefined();
    expect(parseRetryAfterMs(null)).toBeUndefined();
  });
});
