import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Takes run.lock (holding this process's id) so two processes never write one run folder. A lock
 * left by a process that no longer exists (killed) is taken over.
 */
export async function lockRunDir(runDir: string): Promise<() => Promise<void>> {
  const lockFile = path.join(runDir, 'run.lock');
  const holder = await runDirLockHolder(runDir);
  if (holder !== null)
    throw new Error(`${lockFile}: the run folder is in use by process ${holder}`);
  await fs.writeFile(lockFile, `${process.pid}\n`);
  return () => fs.rm(lockFile, { force: true });
}

/**
 * The id of another live process holding the run folder's lock, or null: lets a caller refuse
 * before it writes anything into a folder that is in use.
 */
export async function runDirLockHolder(runDir: string): Promise<number | null> {
  const lockFile = path.join(runDir, 'run.lock');
  const holder = Number((await fs.readFile(lockFile, 'utf8').catch(() => '')).trim());
  const live =
    Number.isInteger(holder) && holder > 0 && holder !== process.pid && processExists(holder);
  return live ? holder : null;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
