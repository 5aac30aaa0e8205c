import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** One JSON Lines file read back, with what had to be tolerated. */
export interface JsonlReadResult {
  records: unknown[];
  /**
   * True when the last line was cut off (a crash in the middle of an append) and was ignored.
   * Only the LAST line may be broken; a bad line before it is an error.
   */
  truncatedTail: boolean;
  /** Byte length of the complete lines (where a repair would cut the file). */
  completeBytes: number;
}

/**
 * Reads a JSON Lines file that is appended to while a run goes on. A missing file reads as empty.
 * A last line without its newline that does not parse is treated as a torn write and skipped;
 * any other unparseable line throws an error naming the file and line.
 */
export async function readJsonLinesTolerant(file: string): Promise<JsonlReadResult> {
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { records: [], truncatedTail: false, completeBytes: 0 };
    }
    throw error;
  }
  const text = buffer.toString('utf8');
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  // split leaves '' after a final newline; otherwise the last element is an unterminated line.
  const lastLine = lines.pop() ?? '';
  const records: unknown[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line));
    } catch (error) {
      throw new Error(`${file}:${index + 1}: not valid JSON (${(error as Error).message})`, {
        cause: error,
      });
    }
  });
  let truncatedTail = false;
  let completeBytes = buffer.length;
  if (!endsWithNewline && lastLine.trim() !== '') {
    try {
      records.push(JSON.parse(lastLine));
    } catch {
      truncatedTail = true;
      completeBytes = buffer.length - Buffer.byteLength(lastLine, 'utf8');
    }
  }
  return { records, truncatedTail, completeBytes };
}

/**
 * An append-only JSON Lines file whose every append is on disk (fsync) before the returned
 * promise resolves, so what a paid request returned survives a crash. Appends are serialised
 * (one at a time, in call order). Opening repairs a torn last line left by an earlier crash by
 * cutting it off, so the next record does not get glued to it.
 */
export class JsonlAppender {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    /** The file appended to. */
    readonly file: string,
    private readonly handle: fs.FileHandle,
  ) {}

  /** Opens (creating folders and the file as needed) and repairs a torn last line. */
  static async open(file: string): Promise<JsonlAppender> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const existing = await readJsonLinesTolerant(file);
    if (existing.truncatedTail) await fs.truncate(file, existing.completeBytes);
    else if (existing.completeBytes > 0) {
      // A complete last record without its newline: add the newline before appending.
      const handle = await fs.open(file, 'r');
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, existing.completeBytes - 1);
      await handle.close();
      if (last[0] !== 0x0a) await fs.appendFile(file, '\n');
    }
    return new JsonlAppender(file, await fs.open(file, 'a'));
  }

  /** Appends records as lines and fsyncs; resolves when they are durable. */
  append(records: readonly unknown[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.file}: appender is closed`));
    const text = records.map((record) => `${JSON.stringify(record)}\n`).join('');
    const next = this.queue.then(async () => {
      if (text.length === 0) return;
      await this.handle.write(text);
      await this.handle.sync();
    });
    // A failed append must not poison later ones; the caller still sees this failure.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Waits for pending appends and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.handle.close();
  }
}
