// The record of how `siked distill` was called (RUN_DIR/distill.json) and the checks that guard a
// run folder before anything is written into it: a refused call must leave the run as it was.
import { existsSync, promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { describeDifferences, runDirLockHolder, writeJsonAtomic } from '@siked/core';
import { UsageError } from '../errors';

/** The file in a run directory that records how `siked distill` was called, for --resume. */
export const DISTILL_INVOCATION_FILE = 'distill.json';

/** The option values the record holds (distill's resolved options, any shape). */
export type InvocationValues = Record<string, unknown>;

/** The parts of the options that name files or folders, each with how to map its path. */
interface PathField {
  key: string;
  /** The path inside the value, or null when the value names no file (`--teacher synthetic`). */
  read(value: string): string | null;
  write(value: string, file: string): string;
  /** What an input must be before a run starts (null: checked where it is read), and the flag text before the path in errors. */
  must: { kind: 'file' | 'folder'; label(value: string): string } | null;
}

const wholeValue = { read: (value: string) => value, write: (_v: string, file: string) => file };
const PATH_FIELDS: readonly PathField[] = [
  { key: 'train', ...wholeValue, must: { kind: 'file', label: () => '--train ' } },
  { key: 'model', ...wholeValue, must: { kind: 'folder', label: () => '--model ' } },
  {
    key: 'teacher',
    read: (value) => (value.startsWith('recorded:') ? value.slice('recorded:'.length) : null),
    write: (_value, file) => `recorded:${file}`,
    must: { kind: 'file', label: () => '--teacher recorded:' },
  },
  {
    // A built-in variant name is not a file.
    key: 'template',
    read: (value) => (value === 'full' || value === 'compact' ? null : value),
    write: (_value, file) => file,
    must: null,
  },
  {
    key: 'evalSet',
    read: (value) => value.slice(value.indexOf('=') + 1),
    write: (value, file) => `${value.slice(0, value.indexOf('='))}=${file}`,
    must: {
      kind: 'file',
      label: (value) => `--eval-set ${value.slice(0, value.indexOf('=') + 1)}`,
    },
  },
];

/** Each string value of a path field, one by one (eval sets are a list). */
function fieldValues(values: InvocationValues, field: PathField): string[] {
  const value = values[field.key];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/** Applies `map` to every path the options name (eval sets one by one). */
function mapPaths(values: InvocationValues, map: (file: string) => string): InvocationValues {
  const mapped: InvocationValues = { ...values };
  for (const field of PATH_FIELDS) {
    const one = (value: unknown) => {
      if (typeof value !== 'string') return value;
      const file = field.read(value);
      return file === null || file === '' ? value : field.write(value, map(file));
    };
    const value = mapped[field.key];
    if (value !== undefined) mapped[field.key] = Array.isArray(value) ? value.map(one) : one(value);
  }
  return mapped;
}

/** The options with every path absolute (resolved against the current directory). */
export function absolutePaths(values: InvocationValues): InvocationValues {
  return mapPaths(values, (file) => path.resolve(file));
}

/**
 * Reads RUN_DIR/distill.json. Its paths are relative to the run folder, so a run resumes from any
 * directory; a record written by an older siked (paths relative to where it was started) still
 * resumes when those paths exist from here. Returns absolute paths; `out` is the run folder.
 */
export async function readInvocation(runDir: string): Promise<InvocationValues | null> {
  const file = path.join(runDir, DISTILL_INVOCATION_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`${file}: cannot read it (${(error as Error).message})`);
  }
  let recorded: unknown;
  try {
    recorded = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (recorded === null || typeof recorded !== 'object' || Array.isArray(recorded))
    throw new UsageError(`${file}, line 1: expected a JSON object of options`);
  const fromRunDir = (entry: string) => {
    if (path.isAbsolute(entry)) return entry;
    const inRun = path.resolve(runDir, entry);
    return existsSync(inRun) || !existsSync(entry) ? inRun : path.resolve(entry);
  };
  return { ...mapPaths(recorded as InvocationValues, fromRunDir), out: path.resolve(runDir) };
}

/** Writes RUN_DIR/distill.json atomically, with paths relative to the run folder. */
export async function writeInvocation(runDir: string, values: InvocationValues): Promise<void> {
  const absolute = absolutePaths(values);
  const relative = mapPaths(absolute, (file) => path.relative(path.resolve(runDir), file) || '.');
  delete relative.out;
  delete relative.resume;
  await writeJsonAtomic(path.join(runDir, DISTILL_INVOCATION_FILE), relative);
}

/** Every option whose value differs (paths compared absolute; where the run lives aside). */
export function differingOptions(recorded: InvocationValues, given: InvocationValues): string[] {
  const comparable = (values: InvocationValues) => {
    const { out: _out, resume: _resume, ...rest } = absolutePaths(values);
    return rest;
  };
  return describeDifferences(comparable(recorded), comparable(given), {
    before: 'in the run',
    after: 'now',
  });
}

/** Refuses a run folder that another live process is writing. */
export async function refuseLockedRun(runDir: string): Promise<void> {
  const holder = await runDirLockHolder(runDir);
  if (holder !== null) {
    throw new UsageError(
      `${runDir}: the run is in use by process ${holder} (${path.join(runDir, 'run.lock')}); wait for it or stop it`,
    );
  }
}

/**
 * Checks `--out` for a new run: a new or empty folder, or the folder of a run started with the
 * same options (calling again continues it). Anything else is refused before a byte is written:
 * a file, a run made with other options (the differing keys are named), or a folder of other
 * files -- e.g. what `siked teach --out` wrote, whose teacher.jsonl the run would overwrite.
 * Returns whether the folder already holds this run.
 */
export async function checkNewRunDir(
  runDir: string,
  values: InvocationValues,
  readRecorded: (recorded: InvocationValues) => InvocationValues = (recorded) => recorded,
): Promise<boolean> {
  if (!existsSync(runDir)) return false;
  if (!statSync(runDir).isDirectory())
    throw new UsageError(`--out ${runDir}: a file, not a folder (give a new or empty folder)`);
  const recorded = await readInvocation(runDir);
  if (recorded) {
    const differences = differingOptions(readRecorded(recorded), { ...values, out: runDir });
    if (differences.length > 0) {
      throw new UsageError(
        `--out ${runDir}: a run started with other options (${differences.join('; ')}); ` +
          `continue it with --resume ${runDir}, or give a new --out`,
      );
    }
    return true;
  }
  const entries = (await fs.readdir(runDir)).filter((name) => !name.startsWith('.'));
  if (entries.length > 0) {
    const teacherHint = entries.includes('teacher.jsonl')
      ? ` (to train on the teacher data there: --teacher recorded:${path.join(runDir, 'teacher.jsonl')})`
      : '';
    throw new UsageError(
      `--out ${runDir}: the folder holds other files (${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', ...' : ''}) ` +
        `and no ${DISTILL_INVOCATION_FILE}; give a new or empty folder${teacherHint}`,
    );
  }
  return false;
}

/** Refuses input paths that do not exist (or are the wrong kind), naming the option. */
export function checkInputPaths(values: InvocationValues): void {
  for (const field of PATH_FIELDS) {
    if (!field.must) continue;
    const { kind, label } = field.must;
    for (const value of fieldValues(values, field)) {
      const file = field.read(value);
      if (file === null || file === '') continue;
      const where = `${label(value)}${file}`;
      if (!existsSync(file)) throw new UsageError(`${where}: no such ${kind}`);
      const isFolder = statSync(file).isDirectory();
      if (kind === 'file' && isFolder) throw new UsageError(`${where}: a folder, expected a file`);
      if (kind === 'folder' && !isFolder)
        throw new UsageError(`${where}: a file, expected a checkpoint folder`);
    }
  }
}
