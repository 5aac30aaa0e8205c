import { createWriteStream, existsSync, realpathSync, statSync, type WriteStream } from 'node:fs';
import { promises as fs } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import { UsageError } from './errors';

/** Where a command writes JSON lines: a file (`--out`) or stdout. */
export interface JsonLinesOutput {
  writeLine(value: unknown): void;
  /** Finishes the output: the file appears complete under its name (or not at all). */
  close(): Promise<void>;
  /** Drops what was written (a failed command): an existing file of that name is left as it was. */
  discard(): Promise<void>;
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/**
 * Refuses an output path that is a folder, or that is one of the command's inputs (writing it
 * would destroy the input). Commands call it before any work, so a bad `--out` costs nothing.
 */
export function checkOutputPath(
  file: string | undefined,
  inputs: ReadonlyArray<string | undefined> = [],
  flag = '--out',
): void {
  if (file === undefined) return;
  if (existsSync(file) && statSync(file).isDirectory())
    throw new UsageError(`${flag} ${file}: a folder, expected a file name`);
  const target = realPath(file);
  for (const input of inputs) {
    if (input !== undefined && realPath(input) === target)
      throw new UsageError(`${flag} ${file}: that is the input file; writing it would destroy it`);
  }
}

/**
 * Opens `file` for JSON lines, or stdout when `file` is undefined. A file is written under a
 * temporary sibling name and renamed over `file` by `close()`, so a command that fails or is
 * killed half-way never leaves a half-written file that looks complete, nor truncates an older one.
 */
export async function openOutput(
  file: string | undefined,
  inputs: ReadonlyArray<string | undefined> = [],
): Promise<JsonLinesOutput> {
  if (file === undefined) {
    return {
      writeLine: (value) => void process.stdout.write(JSON.stringify(value) + '\n'),
      close: async () => {},
      discard: async () => {},
    };
  }
  checkOutputPath(file, inputs);
  // Not per process: a killed run's temporary is overwritten by the next run, not left to pile up.
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const stream: WriteStream = createWriteStream(temporary);
  await once(stream, 'open');
  let finished = false;
  const end = async () => {
    stream.end();
    await once(stream, 'finish');
  };
  return {
    writeLine: (value) => void stream.write(JSON.stringify(value) + '\n'),
    close: async () => {
      if (finished) return;
      finished = true;
      await end();
      const handle = await fs.open(temporary, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temporary, file);
    },
    discard: async () => {
      if (finished) return;
      finished = true;
      await end();
      await fs.rm(temporary, { force: true });
    },
  };
}
