import { createHash } from 'node:crypto';
import { JsonlAppender, readJsonLinesTolerant } from './jsonl-log';

/** What identifies a teacher request for caching: everything that changes the answer but n. */
export interface CacheKeyParts {
  model: string;
  endpoint: 'chat' | 'completions';
  /** The prompt as sent (a string, or the chat messages). */
  prompt: unknown;
  /** Sampling parameters (temperature, max_tokens, stop, top_p, ...). */
  parameters: Record<string, unknown>;
}

/** One cache line: completions returned for one request key, in arrival order. */
interface CacheLine {
  key: string;
  model: string;
  completions: string[];
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The cache key: SHA-256 of the canonical JSON of the parts (object keys sorted). */
export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(stableStringify(parts)).digest('hex');
}

/**
 * A persistent cache of teacher completions, keyed by (model, endpoint, prompt, parameters) and
 * stored as an append-only JSONL file. Samples accumulate per key: asking for 10 samples after 4
 * were cached costs a request for the missing 6 only. Every response is appended and fsync'd as
 * it arrives; a torn last line from a crash is dropped on open.
 */
export class ResponseCache {
  private constructor(
    private readonly appender: JsonlAppender,
    private readonly entries: Map<string, string[]>,
  ) {}

  /** Loads the cache file (missing = empty) and opens it for appending. */
  static async open(file: string): Promise<ResponseCache> {
    const { records } = await readJsonLinesTolerant(file);
    const entries = new Map<string, string[]>();
    records.forEach((record, index) => {
      const line = record as Partial<CacheLine>;
      if (typeof line.key !== 'string' || !Array.isArray(line.completions)) {
        throw new Error(
          `${file}:${index + 1}: cache line needs string "key" and array "completions"`,
        );
      }
      const list = entries.get(line.key) ?? [];
      for (const text of line.completions) {
        if (typeof text !== 'string') {
          throw new Error(`${file}:${index + 1}: field "completions" must hold strings`);
        }
        list.push(text);
      }
      entries.set(line.key, list);
    });
    return new ResponseCache(await JsonlAppender.open(file), entries);
  }

  /** Completions cached for `key` (possibly empty), in arrival order. */
  get(key: string): readonly string[] {
    return this.entries.get(key) ?? [];
  }

  /** Number of distinct request keys held. */
  get size(): number {
    return this.entries.size;
  }

  /** Records new completions for `key` in memory and durably on disk. */
  async add(key: string, model: string, completions: readonly string[]): Promise<void> {
    if (completions.length === 0) return;
    const line: CacheLine = { key, model, completions: [...completions] };
    await this.appender.append([line]);
    this.entries.set(key, [...this.get(key), ...completions]);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return this.appender.close();
  }
}
