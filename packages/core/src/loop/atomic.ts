import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Flushes a folder's entries (a rename is durable only once its folder is). */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The temporary sibling a write goes through. It does not depend on the process, so a write
 * killed half-way leaves a temporary that the retried write of the same artefact overwrites
 * and renames away (one process writes a run folder at a time: see the run lock).
 */
function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
}

/** Writes `data` to `file` atomically: a temporary name in the same folder, fsync, rename, fsync the folder. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = temporaryName(file);
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
  await fsyncDir(path.dirname(file));
}

/** Writes records as JSON Lines, atomically. */
export function writeJsonLinesAtomic(file: string, records: readonly unknown[]): Promise<void> {
  return writeFileAtomic(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
}

/** Writes a value as pretty JSON, atomically. */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Produces a folder atomically: `fill` writes into a temporary sibling folder, every file in it
 * is fsync'd, then it replaces `dir` by rename. A crash leaves either the old folder or the new
 * one, never half of one (a stale temporary folder is removed on the next attempt).
 */
export async function writeDirAtomic(
  dir: string,
  fill: (temporaryDir: string) => Promise<void>,
): Promise<void> {
  const temporary = temporaryName(dir);
  await fs.rm(temporary, { recursive: true, force: true });
  await fs.mkdir(temporary, { recursive: true });
  await fill(temporary);
  for (const name of await fs.readdir(temporary)) {
    const handle = await fs.open(path.join(temporary, name), 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await fsyncDir(temporary);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rename(temporary, dir);
  await fsyncDir(path.dirname(dir));
}

/** Reads a JSON Lines file written by this module (every line complete); errors name file and line. */
export async function readJsonLines<T>(file: string): Promise<T[]> {
  const text = await fs.readFile(file, 'utf8');
  const records: T[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as T);
    } catch (error) {
      throw new Error(`${file}:${index + 1}: not valid JSON (${(error as Error).message})`, {
        cause: error,
      });
    }
  });
  return records;
}
