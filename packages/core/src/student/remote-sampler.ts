import { ConcurrencyLimiter } from '../teachers/concurrency';
import { DEFAULT_RETRY_POLICY } from '../teachers/openai-teacher';
import { HttpRequestError, postJsonWithRetries, type RetryPolicy } from '../teachers/http-retry';
import type { GeneratedText, GenerationOptions, TextSampler } from './types';

/** Where and how a {@link RemoteSampler} reaches its server. */
export interface RemoteSamplerOptions {
  /** Server root with the version prefix, e.g. `http://10.0.0.5:8000/v1` (vLLM). */
  baseUrl: string;
  /** The served model name (vLLM's `--served-model-name`, or the checkpoint path). */
  model: string;
  /** NAME of the environment variable holding the API key, if the server wants one (never logged). */
  apiKeyEnv?: string;
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
}

/** The server root without trailing slashes; throws unless it is an http(s) URL. */
export function serverRoot(options: Pick<RemoteSamplerOptions, 'baseUrl'>): string {
  if (!/^https?:\/\//.test(options.baseUrl)) {
    throw new Error(
      `baseUrl must start with http:// or https://, got ${JSON.stringify(options.baseUrl)}`,
    );
  }
  return options.baseUrl.replace(/\/+$/, '');
}

/** The Authorization header from the key's environment variable; throws when it is unset. */
export function authorizationHeaders(
  options: Pick<RemoteSamplerOptions, 'apiKeyEnv'>,
): Record<string, string> {
  if (options.apiKeyEnv === undefined) return {};
  const key = process.env[options.apiKeyEnv];
  if (key === undefined || key === '')
    throw new Error(`environment variable ${options.apiKeyEnv} (the sampler API key) is not set`);
  return { authorization: `Bearer ${key}` };
}

/**
 * The scale-out hook for self-generation: sends the student's sampling to an OpenAI-compatible
 * `/v1/completions` server (e.g. vLLM serving the exported checkpoint of the current iteration),
 * one request per prompt with `n` samples, with the teachers' retries and concurrency limit.
 * The per-prompt seed is `seed + promptIndex`, so reruns against the same server and weights
 * ask the same question (servers differ in how reproducible they then are).
 */
export class RemoteSampler implements TextSampler {
  private readonly limiter: ConcurrencyLimiter;
  private readonly policy: RetryPolicy;
  private readonly headers: Record<string, string>;
  private readonly url: string;

  constructor(private readonly options: RemoteSamplerOptions) {
    this.url = `${serverRoot(options)}/completions`;
    this.limiter = new ConcurrencyLimiter(options.concurrency ?? 16);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.headers = authorizationHeaders(options);
  }

  async generate(prompts: readonly string[], options: GenerationOptions): Promise<GeneratedText[]> {
    const perPrompt = await Promise.all(
      prompts.map((prompt, promptIndex) =>
        this.limiter.run(async () => {
          const body = {
            model: this.options.model,
            prompt,
            n: options.numSamples,
            temperature: options.temperature,
            top_p: options.topP,
            max_tokens: options.maxNewTokens,
            seed: options.seed + promptIndex,
            ...(options.stop && options.stop.length > 0 ? { stop: [...options.stop] } : {}),
          };
          const response = await postJsonWithRetries(this.url, body, this.headers, this.policy);
          return this.readChoices(response, promptIndex, options.numSamples);
        }),
      ),
    );
    return perPrompt.flat();
  }

  private readChoices(response: unknown, promptIndex: number, expected: number): GeneratedText[] {
    const choices = (response as { choices?: unknown }).choices;
    if (!Array.isArray(choices) || choices.length !== expected) {
      throw new HttpRequestError(
        `${this.url}: expected ${expected} choices for prompt ${promptIndex}, got ${Array.isArray(choices) ? choices.length : 'none'}`,
        undefined,
        1,
      );
    }
    return choices.map((choice: { text?: unknown; finish_reason?: unknown }, sampleIndex) => {
      if (typeof choice.text !== 'string') {
        throw new HttpRequestError(
          `${this.url}: choices[${sampleIndex}].text is not a string`,
          undefined,
          1,
        );
      }
      return {
        promptIndex,
        sampleIndex,
        text: choice.text,
        finishReason: choice.finish_reason === 'length' ? 'length' : 'stop',
        tokenCount: null,
      };
    });
  }
}
