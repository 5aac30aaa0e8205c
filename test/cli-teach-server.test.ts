// `siked teach` against a real HTTP server (a loopback stand-in for vLLM/Ollama): the completions
// endpoint gets the few-shot prompt's stop sequence; the teacher flags reach the requests; a
// problem that fails for good stops the run (exit 1) or, with --teacher-failures record, is
// listed in teacher-failures.jsonl while the others finish (issue 16, items 5, 8 and 10).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  startLoopbackServer,
  type LoopbackServer,
} from '../packages/core/test/teachers/loopback-server';
import { sikedAsync, temporaryDirectory } from './helpers/cli';

const problems = [1, 2, 3].map((i) => ({
  id: `q${i}`,
  question: `Tom has ${i} apples and buys ${i} more. How many apples does he have?`,
  answer: 2 * i,
  source: 'test',
  split: 'train',
}));

describe('siked teach with a server teacher', () => {
  const { dir, cleanup } = temporaryDirectory('teach-server');
  let server: LoopbackServer;
  const data = path.join(dir, 'problems.jsonl');
  beforeAll(() => fs.writeFileSync(data, problems.map((p) => JSON.stringify(p)).join('\n') + '\n'));
  beforeEach(async () => {
    server = await startLoopbackServer();
  });
  afterEach(() => server.close());
  afterAll(cleanup);

  const teach = (out: string, ...extra: string[]) =>
    sikedAsync([
      'teach',
      '--teacher',
      server.baseUrl,
      '--teacher-model',
      'base-70b',
      '--data',
      data,
      '--strategies',
      'cot',
      '--samples',
      '1',
      '--requests',
      '1',
      '--out',
      path.join(dir, out),
      '--json',
      ...extra,
    ]);

  it('--endpoint completions sends the stop sequence and the teacher flags', async () => {
    const result = await teach(
      'completions',
      '--endpoint',
      'completions',
      '--teacher-temperature',
      '0.2',
      '--teacher-max-tokens',
      '300',
    );
    expect(result.stderr).not.toMatch(/Error:/);
    expect(result.status).toBe(0);
    expect(server.requests).toHaveLength(3);
    for (const request of server.requests) {
      expect(request.url).toBe('/v1/completions');
      expect(request.body.stop).toEqual(['\n\nQuestion:']);
      expect(request.body).toMatchObject({ temperature: 0.2, max_tokens: 300, model: 'base-70b' });
    }
  });

  it('a problem that fails for good stops the run with exit 1, naming it', async () => {
    server.script = [{ kind: 'ok' }, { kind: 'status', status: 400 }];
    const result = await teach('failing');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /1 teacher request\(s\) failed \(1 more not asked\).*q2.*HTTP 400/,
    );
    expect(server.requests).toHaveLength(2);
  });

  it('--teacher-failures record finishes the rest and lists the failure; retries are bounded by the flags', async () => {
    server.script = [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503 },
    ];
    const result = await teach(
      'recorded',
      '--teacher-failures',
      'record',
      '--teacher-retries',
      '1',
      '--teacher-timeout-s',
      '5',
    );
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.failed).toBe(1);
    const failuresFile = path.join(dir, 'recorded', 'teacher-failures.jsonl');
    expect(summary.failuresFile).toBe(failuresFile);
    const failures = fs
      .readFileSync(failuresFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(failures).toEqual([
      expect.objectContaining({ problemId: 'q1', strategy: 'cot', status: 503, attempts: 2 }),
    ]);
    expect(result.stderr).toContain(
      `1 request(s) failed for good and were left out: ${failuresFile}`,
    );
    expect(server.requests).toHaveLength(4);
    // Off a terminal, the back-off is reported (a run that waits must not look stuck).
    expect(result.stderr).toMatch(/teacher: retry 1\/1 in \d+\.\d s after HTTP 503/);
  });

  it('a missing API-key variable is bad usage (exit 2), not a crash', async () => {
    const result = await teach('keyless', '--api-key-env', 'SIKED_TEST_NO_SUCH_KEY');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      '--api-key-env SIKED_TEST_NO_SUCH_KEY: the environment variable is not set',
    );
    expect(server.requests).toHaveLength(0);
  });
});
