// System packages some tests need beyond `npm ci` (Debian: chromium, bubblewrap). On a machine
// without one, those tests are skipped, each skip is recorded, and the run ends with one list of
// what to install (test/setup/teardown.js). Under CI=true nothing is skipped: a missing package
// fails its tests, so CI always runs everything.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A system package a test needs, with how to install it. */
export const PREREQUISITES = {
  chromium: {
    install: 'apt install chromium',
    present: () => existsSync('/usr/bin/chromium'),
  },
  bubblewrap: {
    install: 'apt install bubblewrap',
    present: () =>
      ['/usr/bin/bwrap', '/bin/bwrap'].some((file) => existsSync(file)) &&
      spawnSync('bwrap', ['--ro-bind', '/', '/', 'true'], { stdio: 'ignore' }).status === 0,
  },
} as const;
export type Prerequisite = keyof typeof PREREQUISITES;

/** Where skips are recorded for the end-of-run list (set by test/setup/setup.ts). */
export function skipLogFile(): string {
  return process.env.SIKED_TEST_SKIP_LOG ?? path.join(os.tmpdir(), 'siked-test-skips.jsonl');
}

const known = new Map<Prerequisite, boolean>();

/**
 * Whether the package is there (checked once per test file). SIKED_TEST_PRETEND_MISSING=a,b
 * treats the named ones as absent: how the fresh-machine behaviour is checked on a full one.
 */
export function available(prerequisite: Prerequisite): boolean {
  const pretend = (process.env.SIKED_TEST_PRETEND_MISSING ?? '').split(',');
  if (pretend.includes(prerequisite)) return false;
  if (!known.has(prerequisite)) known.set(prerequisite, PREREQUISITES[prerequisite].present());
  return known.get(prerequisite)!;
}

/** Whether tests needing the package run: when it is there, and always under CI. */
export function runsWith(prerequisite: Prerequisite): boolean {
  return available(prerequisite) || process.env.CI === 'true';
}

function recordSkip(prerequisite: Prerequisite, name: string): void {
  const record = { prerequisite, install: PREREQUISITES[prerequisite].install, test: name };
  appendFileSync(skipLogFile(), `${JSON.stringify(record)}\n`);
}

/** `test` when the package is there (or under CI), else a recorded skip. */
export function testWith(prerequisite: Prerequisite): jest.It {
  if (runsWith(prerequisite)) return test;
  const skip = ((name: string, ...rest: unknown[]) => {
    recordSkip(prerequisite, name);
    return (test.skip as (...args: unknown[]) => void)(name, ...rest);
  }) as unknown as jest.It;
  return skip;
}

/** `describe` when the package is there (or under CI), else a recorded skip of the whole block. */
export function describeWith(prerequisite: Prerequisite): jest.Describe {
  if (runsWith(prerequisite)) return describe;
  return ((name: string, body: () => void) => {
    recordSkip(prerequisite, name);
    describe.skip(name, body);
  }) as unknown as jest.Describe;
}
