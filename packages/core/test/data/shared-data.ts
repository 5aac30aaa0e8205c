// Test helper: where the real public data sets live (../shared/data relative to the repo root),
// and a `describe` that skips, saying why, when they are not on this machine.
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** `/work/shared/data` in this workspace: ../shared/data from the repository root. */
export const SHARED_DATA_DIR = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  '..',
  'shared',
  'data',
);

/** `describe` when the shared data folder exists, else `describe.skip` with a warning. */
export function describeWithSharedData(name: string, body: () => void): void {
  if (existsSync(SHARED_DATA_DIR)) {
    describe(name, body);
  } else {
    console.warn(`skipping "${name}": real data sets not found at ${SHARED_DATA_DIR}`);
    describe.skip(name, body);
  }
}

/** Absolute path of a file under the shared data folder. */
export function sharedData(relative: string): string {
  return path.join(SHARED_DATA_DIR, relative);
}
