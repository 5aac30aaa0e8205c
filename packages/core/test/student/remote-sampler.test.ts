import { RemoteSampler, StudentFormat, sampleSolutions } from '../../src';
import { startLoopbackServer, type LoopbackServer } from '../teachers/loopback-server';

let server: LoopbackServer;
beforeEach(async () => {
  server = await startLoopbackServer();
});
afterEach(() => server.close());

const format = StudentFormat.fromObject({
  name: 'test',
  prompt: 'Q: {question}\nA: ',
  tags: { cot: '[cot]: ', l2m: '[l2m]: ', pot: '[pot]: ' },
  stop: ['\nQ: '],
});

describe('RemoteSampler (vLLM-style /v1/completions on loopback)', () => {
  it('sends one request per prompt with n, sampling settings, stop texts and per-prompt seeds', async () => {
    const sampler = new RemoteSampler({
      baseUrl: server.baseUrl,
      model: 'siked-iter-1',
      retry: { maxRetries: 2, initialBackoffMs: 5, maxBackoffMs: 10, timeoutMs: 2000 },
    });
    server.script = [{ kind: 'status', status: 503 }]; // retried like a teacher request
    const out = await sampler.generate(['Q: a\nA: ', 'Q: b\nA: '], {
      numSamples: 3,
      temperature: 0.7,
      topP: 0.95,
      maxNewTokens: 512,
      seed: 10,
      stop: ['\nQ: '],
    });
    expect(out).toHaveLength(6);
    expect(out.map((g) => [g.promptIndex, g.sampleIndex])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    expect(server.requests).toHaveLength(3);
    const bodies = server.requests
      .slice(1)
      .map((r) => r.body)
      .sort((a, b) => String(a.prompt).localeCompare(String(b.prompt)));
    expect(bodies[0]).toEqual({
      model: 'siked-iter-1',
      prompt: 'Q: a\nA: ',
      n: 3,
      temperature: 0.7,
      top_p: 0.95,
      max_tokens: 512,
      seed: 10,
      stop: ['\nQ: '],
    });
    expect(bodies[1]!.seed).toBe(11);
    expect(server.requests[1]!.url).toBe('/v1/completions');
  });

  it('fails clearly when the server returns the wrong number of choices', async () => {
    server.fallback = { kind: 'ok', choices: 1 };
    const sampler = new RemoteSampler({ baseUrl: server.baseUrl, model: 'm' });
    await expect(
      sampler.generate(['Q: a\nA: '], {
        numSamples: 2,
        temperature: 0.7,
        topP: 0.95,
        maxNewTokens: 8,
        seed: 0,
      }),
    ).rejects.toThrow(/expected 2 choices for prompt 0, got 1/);
  });
});

describe('sampleSolutions', () => {
  it('renders prompts with the student format and reads the strategy tag back', async () => {
    const replies = [
      '[pot]: answer = 4',
      ' [cot]: 2 + 2 = 4\nFinal answer: 4\nQ: next',
      'no tag here',
    ];
    const sampler = {
      prompts: [] as string[],
      stops: [] as string[],
      generate(
        prompts: readonly string[],
        options: { numSamples: number; stop?: readonly string[] },
      ) {
        this.prompts.push(...prompts);
        this.stops = [...(options.stop ?? [])];
        return Promise.resolve(
          prompts.flatMap((_, promptIndex) =>
            Array.from({ length: options.numSamples }, (__, sampleIndex) => ({
              promptIndex,
              sampleIndex,
              text: replies[sampleIndex]!,
              finishReason: 'stop' as const,
              tokenCount: null,
            })),
          ),
        );
      },
    };
    const problems = [
      { id: 'p1', question: 'What is 2 + 2?', answer: 4, source: 't', split: 'train' },
    ];
    const samples = await sampleSolutions(sampler, format, problems, {
      numSamples: 3,
      temperature: 0.7,
      topP: 0.95,
      maxNewTokens: 32,
      seed: 1,
    });
    expect(sampler.prompts).toEqual(['Q: What is 2 + 2?\nA: ']);
    expect(sampler.stops).toEqual(['\nQ: ']);
    expect(samples.map((s) => [s.strategy, s.text])).toEqual([
      ['pot', 'answer = 4'],
      ['cot', '2 + 2 = 4\nFinal answer: 4'],
      [null, 'no tag here'],
    ]);
    expect(samples[2]!.error).toMatch(/strategy tag/);
    const forced = await sampleSolutions(sampler, format, problems, {
      numSamples: 1,
      temperature: 0,
      topP: 1,
      maxNewTokens: 32,
      seed: 1,
      forced: 'l2m',
    });
    expect(sampler.prompts[1]).toBe('Q: What is 2 + 2?\nA: [l2m]: ');
    expect(forced[0]!.strategy).toBe('l2m');
  });
});
