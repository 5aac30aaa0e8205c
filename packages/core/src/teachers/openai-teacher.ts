import { promises as fs } from 'node:fs';
import type { Problem, Strategy, Teacher, TeacherSample, TeacherSolveOptions } from '../types';
import { ConcurrencyLimiter } from './concurrency';
import {
  HttpRequestError,
  postJsonWithRetries,
  type RetryNotice,
  type RetryPolicy,
} from './http-retry';
import { ResponseCache, cacheKey } from './response-cache';

/** A chat message as OpenAI-compatible chat endpoints take it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A teacher prompt: plain text for /v1/completions, messages for /v1/chat/completions. */
export type TeacherPrompt = string | ChatMessage[];

/**
 * A prompt with the stop sequences it needs: a few-shot completions prompt must stop where the
 * model would start the next `Question:` of its own (see buildTeacherPrompt).
 */
export interface PromptWithStop {
  prompt: TeacherPrompt;
  stop: readonly string[];
}

/** A problem the teacher could not answer: after its retries, or with an error not worth retrying. */
export interface TeacherFailure {
  problemId: string;
  strategy: Strategy;
  error: string;
  /** HTTP status of the last response, when there was one. */
  status?: number;
  attempts?: number;
}

/** Settings of {@link OpenAICompatibleTeacher}. */
export interface OpenAICompatibleTeacherOptions {
  /** Server root including the version prefix, e.g. `http://127.0.0.1:8000/v1` (vLLM), `http://localhost:11434/v1` (Ollama). */
  baseUrl: string;
  model: string;
  /** `chat` posts to `/chat/completions` with messages; `completions` to `/completions` with a prompt. */
  endpoint: 'chat' | 'completions';
  /**
   * NAME of the environment variable holding the API key (e.g. `OPENAI_API_KEY`); the key itself
   * is never passed around, stored or logged. Omit for servers without authentication.
   */
  apiKeyEnv?: string;
  /**
   * Builds the prompt for a question and strategy (few-shot exemplars...). It must return a string
   * for the completions endpoint and messages for chat.
   */
  buildPrompt: (strategy: Strategy, question: string) => TeacherPrompt | PromptWithStop;
  /** JSONL file where every response is appended as it arrives; reruns read it instead of paying again. */
  cacheFile: string;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Sampling temperature (default 0.7). */
  temperature?: number;
  /** Nucleus sampling (default: the server's). */
  topP?: number;
  /** Maximum tokens per completion (default 512). */
  maxTokens?: number;
  /** Stop sequences sent with every request, besides those of the prompt (default none). */
  stop?: string[];
  /**
   * Where problems that fail for good are written (JSON Lines of {@link TeacherFailure}). When
   * set, `solve` finishes every other problem and resolves without the failed ones (they are
   * also in {@link OpenAICompatibleTeacher.failures}); when not, the first failure stops new
   * requests and `solve` rejects with {@link TeacherRequestFailures}.
   */
  failuresFile?: string;
  /** Samples asked per request (`n`); larger asks are split. Default 16. */
  maxSamplesPerRequest?: number;
  /** Retries/timeouts (defaults: 5 retries, 1 s initial backoff, 30 s cap, 120 s per request, Retry-After capped at 60 s). */
  retry?: Partial<RetryPolicy>;
  /** Randomness for backoff jitter (tests pass a seeded one). */
  random?: () => number;
  /** Told before every retry (the CLI reports them, so a backing-off run does not look stuck). */
  onRetry?: (notice: RetryNotice) => void;
}

/** Defaults of the retry policy (documented on {@link OpenAICompatibleTeacherOptions.retry}). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 5,
  initialBackoffMs: 1000,
  maxBackoffMs: 30_000,
  timeoutMs: 120_000,
  maxRetryAfterMs: 60_000,
};

/** Some servers (Ollama) ignore `n` and return one choice: we re-ask, at most this many rounds per prompt. */
const MAX_ROUNDS_PER_PROMPT = 64;

/**
 * Problems the teacher could not answer after retries. The first failure stops new requests (the
 * ones in flight finish and are cached), so a dead server fails the step in one retry budget.
 */
export class TeacherRequestFailures extends Error {
  constructor(
    readonly failures: Array<{ problemId: string; error: Error }>,
    /** Problems never asked because an earlier one had failed. */
    readonly notAsked = 0,
  ) {
    super(
      `${failures.length} teacher request(s) failed${notAsked > 0 ? ` (${notAsked} more not asked)` : ''}; ` +
        `responses that did arrive are cached; first: ${failures[0]?.problemId}: ${failures[0]?.error.message}`,
    );
    this.name = 'TeacherRequestFailures';
  }
}

/** Thrown for a problem skipped because an earlier one failed for good. */
class NotAsked extends Error {}

/** The completion texts of a 200 response; throws (so the request is retried) on any other shape. */
function readCompletionTexts(
  response: unknown,
  endpoint: 'chat' | 'completions',
  url: string,
): string[] {
  const choices = (response as { choices?: unknown })?.choices;
  if (!Array.isArray(choices)) {
    const error = (response as { error?: { message?: unknown } })?.error?.message;
    throw new Error(
      `${url}: response has no "choices" array${typeof error === 'string' ? ` (error: ${error.slice(0, 200)})` : ''}`,
    );
  }
  if (choices.length === 0) throw new Error(`${url}: response has an empty "choices" array`);
  return choices.map((choice, index) => {
    const text =
      endpoint === 'chat'
        ? (choice as { message?: { content?: unknown } })?.message?.content
        : (choice as { text?: unknown })?.text;
    if (typeof text !== 'string') {
      const field = endpoint === 'chat' ? 'message.content' : 'text';
      throw new Error(`${url}: choices[${index}].${field} is not a string`);
    }
    return text;
  });
}

/**
 * A teacher behind an OpenAI-compatible HTTP API (vLLM, Ollama, OpenAI, ...). Requests run with a
 * concurrency limit, retries with exponential backoff and jitter (429 with Retry-After, 5xx,
 * timeouts, network errors, malformed or truncated bodies), and a per-request timeout. Every
 * response is appended to {@link OpenAICompatibleTeacherOptions.cacheFile} (fsync'd) as it
 * arrives, keyed by (model, endpoint, prompt, parameters), so a rerun or resumed run pays for
 * nothing twice. Call {@link close} when done.
 */
export class OpenAICompatibleTeacher implements Teacher {
  readonly name: string;
  private readonly limiter: ConcurrencyLimiter;
  private readonly policy: RetryPolicy;
  private readonly headers: Record<string, string>;
  private readonly url: string;
  private readonly failed: TeacherFailure[] = [];

  private constructor(
    private readonly options: OpenAICompatibleTeacherOptions,
    private readonly cache: ResponseCache,
  ) {
    this.name = `openai-compatible:${options.model}`;
    this.limiter = new ConcurrencyLimiter(options.concurrency ?? 8);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/${options.endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
    this.headers = {};
    if (options.apiKeyEnv !== undefined) {
      const key = process.env[options.apiKeyEnv];
      if (key === undefined || key === '') {
        throw new Error(
          `environment variable ${options.apiKeyEnv} (the teacher API key) is not set`,
        );
      }
      this.headers.authorization = `Bearer ${key}`;
    }
  }

  /** Opens the response cache and checks the settings. */
  static async create(options: OpenAICompatibleTeacherOptions): Promise<OpenAICompatibleTeacher> {
    if (!/^https?:\/\//.test(options.baseUrl)) {
      throw new Error(
        `baseUrl must start with http:// or https://, got ${JSON.stringify(options.baseUrl)}`,
      );
    }
    const maxPerRequest = options.maxSamplesPerRequest ?? 16;
    if (!Number.isInteger(maxPerRequest) || maxPerRequest < 1) {
      throw new RangeError(`maxSamplesPerRequest must be an integer >= 1, got ${maxPerRequest}`);
    }
    const cache = await ResponseCache.open(options.cacheFile);
    try {
      return new OpenAICompatibleTeacher(options, cache);
    } catch (error) {
      await cache.close();
      throw error;
    }
  }

  /** Problems that failed for good so far (only collected when `failuresFile` is set). */
  get failures(): readonly TeacherFailure[] {
    return this.failed;
  }

  /** Sampling parameters sent with (and keying the cache of) every request. */
  private parameters(promptStop: readonly string[]): Record<string, unknown> {
    const stop = [...new Set([...(this.options.stop ?? []), ...promptStop])];
    return {
      temperature: this.options.temperature ?? 0.7,
      top_p: this.options.topP,
      max_tokens: this.options.maxTokens ?? 512,
      stop: stop.length > 0 ? stop : undefined,
    };
  }

  /**
   * `samplesPerProblem` completions per problem (cached ones first, then new requests for the
   * rest). Rejects with {@link TeacherRequestFailures} listing every problem that failed after
   * all others finished; what did arrive stays cached.
   */
  async solve(
    problems: readonly Problem[],
    strategy: Strategy,
    samplesPerProblem: number,
    options: TeacherSolveOptions = {},
  ): Promise<TeacherSample[]> {
    if (!Number.isInteger(samplesPerProblem) || samplesPerProblem < 1) {
      throw new RangeError(`samplesPerProblem must be an integer >= 1, got ${samplesPerProblem}`);
    }
    const keepGoing = this.options.failuresFile !== undefined;
    const halt = { stopped: false, onFailure: !keepGoing };
    const results = await Promise.allSettled(
      problems.map((problem) =>
        this.completionsFor(problem, strategy, samplesPerProblem, halt).then(
          (texts) => {
            options.onProblemDone?.(problem.id);
            return texts;
          },
          (error: unknown) => {
            if (!(error instanceof NotAsked)) options.onProblemDone?.(problem.id);
            throw error;
          },
        ),
      ),
    );
    const samples: TeacherSample[] = [];
    const failures: Array<{ problemId: string; error: Error }> = [];
    let notAsked = 0;
    results.forEach((result, index) => {
      const problem = problems[index]!;
      if (result.status === 'fulfilled') {
        for (const text of result.value) samples.push({ problemId: problem.id, strategy, text });
      } else if (result.reason instanceof NotAsked) notAsked += 1;
      else failures.push({ problemId: problem.id, error: result.reason as Error });
    });
    if (failures.length > 0 && keepGoing) await this.recordFailures(failures, strategy);
    else if (failures.length > 0) throw new TeacherRequestFailures(failures, notAsked);
    return samples;
  }

  private async recordFailures(
    failures: ReadonlyArray<{ problemId: string; error: Error }>,
    strategy: Strategy,
  ): Promise<void> {
    const records = failures.map(({ problemId, error }): TeacherFailure => {
      const http = error instanceof HttpRequestError ? error : undefined;
      return {
        problemId,
        strategy,
        error: error.message,
        status: http?.status,
        attempts: http?.attempts,
      };
    });
    this.failed.push(...records);
    const handle = await fs.open(this.options.failuresFile!, 'a');
    try {
      await handle.writeFile(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private async completionsFor(
    problem: Problem,
    strategy: Strategy,
    wanted: number,
    /** `onFailure`: a failure sets `stopped`, and no request starts once it is set. */
    halt: { stopped: boolean; onFailure: boolean },
  ): Promise<string[]> {
    const built = this.options.buildPrompt(strategy, problem.question);
    const { prompt, stop } =
      typeof built === 'string' || Array.isArray(built) ? { prompt: built, stop: [] } : built;
    if ((this.options.endpoint === 'chat') !== Array.isArray(prompt)) {
      throw new Error(
        `buildPrompt returned ${Array.isArray(prompt) ? 'chat messages' : 'a string'} for the ${this.options.endpoint} endpoint`,
      );
    }
    const parameters = this.parameters(stop);
    const key = cacheKey({
      model: this.options.model,
      endpoint: this.options.endpoint,
      prompt,
      parameters,
    });
    const maxPerRequest = this.options.maxSamplesPerRequest ?? 16;
    for (let round = 0; this.cache.get(key).length < wanted; round += 1) {
      if (round >= MAX_ROUNDS_PER_PROMPT) {
        throw new Error(
          `${this.url}: still short of ${wanted} samples after ${round} requests for ${problem.id}`,
        );
      }
      const n = Math.min(maxPerRequest, wanted - this.cache.get(key).length);
      const body = {
        model: this.options.model,
        ...(this.options.endpoint === 'chat' ? { messages: prompt } : { prompt }),
        ...parameters,
        n,
      };
      const texts = await this.limiter.run(() => {
        if (halt.stopped) throw new NotAsked();
        // Set before the limiter starts the next request, so none starts after a failure.
        return postJsonWithRetries(this.url, body, this.headers, this.policy, {
          random: this.options.random,
          read: (response) => readCompletionTexts(response, this.options.endpoint, this.url),
          onRetry: this.options.onRetry,
        }).catch((error: unknown) => {
          if (halt.onFailure) halt.stopped = true;
          throw error;
        });
      });
      await this.cache.add(key, this.options.model, texts.slice(0, n));
    }
    return this.cache.get(key).slice(0, wanted);
  }

  /** Closes the cache file. */
  close(): Promise<void> {
    return this.cache.close();
  }
}
