/** Retry and timeout settings of an HTTP request to a model server. */
export interface RetryPolicy {
  /** Attempts after the first one (so at most maxRetries + 1 requests). */
  maxRetries: number;
  /** Backoff before retry r (0-based) is initialBackoffMs * 2^r, capped at maxBackoffMs, then jittered. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Per-request limit: the request is aborted after this long, and counts as a failed attempt. */
  timeoutMs: number;
  /** A Retry-After header above this is clamped to it (a server asking for an hour should not hang a run). */
  maxRetryAfterMs: number;
}

/** A request that failed for good: after its retries, or with an error that is not worth retrying. */
export class HttpRequestError extends Error {
  constructor(
    message: string,
    /** HTTP status of the last response; undefined for timeouts, network and parse errors. */
    readonly status: number | undefined,
    /** How many requests were made. */
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'HttpRequestError';
  }
}

/** Why one attempt failed, and whether another attempt may succeed. */
interface AttemptFailure {
  reason: string;
  status?: number;
  retryable: boolean;
  retryAfterMs?: number;
}

/** Parses Retry-After: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfterMs(header: string | null, nowMs = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const dateMs = Date.parse(header);
  return Number.isFinite(dateMs) ? Math.max(0, dateMs - nowMs) : undefined;
}

/**
 * Delay before retry number `retryIndex` (0-based): exponential, capped, with "equal jitter"
 * (uniform in [d/2, d]) so clients that failed together do not retry together. A server's
 * Retry-After wins when given (clamped to maxRetryAfterMs).
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  retryIndex: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const exponential = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** retryIndex);
  return exponential / 2 + (random() * exponential) / 2;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A retry about to happen, for progress reports (a run must not look stuck while it backs off). */
export interface RetryNotice {
  url: string;
  /** 1-based retry number, out of `maxRetries`. */
  retry: number;
  maxRetries: number;
  /** Why the previous attempt failed. */
  reason: string;
  /** How long it waits first. */
  delayMs: number;
}

/** Optional parts of {@link postJsonWithRetries}. */
export interface RequestExtras<T> {
  /** Randomness for backoff jitter (tests pass a seeded one). */
  random?: () => number;
  /** Makes the result out of a 200's JSON; throwing marks the attempt failed (and retried). */
  read?: (value: unknown) => T;
  /** Told before every retry. */
  onRetry?: (notice: RetryNotice) => void;
}

/**
 * POSTs `body` as JSON to `url` and returns the response as `read` makes it out of the parsed JSON,
 * retrying on 429 (honouring Retry-After), 408, 5xx, timeouts, network errors, bodies that are
 * not complete JSON (a truncated stream), and 200 bodies `read` rejects (a server or proxy
 * answering `{}` or an error object with status 200). Other 4xx statuses fail at once. Header
 * values (the API key) never appear in errors. Total time is bounded by (maxRetries + 1) *
 * timeoutMs plus the backoff delays.
 */
export async function postJsonWithRetries<T = unknown>(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  policy: RetryPolicy,
  extras: RequestExtras<T> = {},
): Promise<T> {
  const random = extras.random ?? Math.random;
  const read = extras.read ?? ((value: unknown) => value as T);
  let last: AttemptFailure | undefined;
  for (let attempt = 0; attempt <= policy.maxRetries; attempt += 1) {
    if (attempt > 0 && last) {
      const delayMs = backoffDelayMs(policy, attempt - 1, last.retryAfterMs, random);
      extras.onRetry?.({
        url,
        retry: attempt,
        maxRetries: policy.maxRetries,
        reason: last.reason,
        delayMs,
      });
      await sleep(delayMs);
    }
    const outcome = await attemptOnce(url, body, headers, policy.timeoutMs);
    if (outcome.ok) {
      try {
        return read(outcome.value);
      } catch (error) {
        last = { reason: (error as Error).message, status: 200, retryable: true };
        continue;
      }
    }
    last = outcome.failure;
    if (!last.retryable) {
      throw new HttpRequestError(`POST ${url} failed: ${last.reason}`, last.status, attempt + 1);
    }
  }
  throw new HttpRequestError(
    `POST ${url} failed after ${policy.maxRetries + 1} attempts; last: ${last?.reason}`,
    last?.status,
    policy.maxRetries + 1,
  );
}

async function attemptOnce(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ ok: true; value: unknown } | { ok: false; failure: AttemptFailure }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    // The body is read under the same timeout: a server that sends headers then stalls is a timeout.
    const text = await response.text();
    if (!response.ok) {
      const status = response.status;
      const retryable = status === 429 || status === 408 || status >= 500;
      return {
        ok: false,
        failure: {
          reason: `HTTP ${status}: ${text.slice(0, 200)}`,
          status,
          retryable,
          retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after')),
        },
      };
    }
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return {
        ok: false,
        failure: {
          reason: `response is not valid JSON: ${JSON.stringify(text.slice(0, 120))}`,
          retryable: true,
        },
      };
    }
  } catch (error) {
    if (controller.signal.aborted) {
      return { ok: false, failure: { reason: `timed out after ${timeoutMs} ms`, retryable: true } };
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message;
    return { ok: false, failure: { reason: `network error: ${detail}`, retryable: true } };
  } finally {
    clearTimeout(timer);
  }
}
