import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Takes run.lock (holding this process's id) so two processes never write one run folder. A lock
 * left by a process that no longer exists (killed) is taken over.
 */
export async function lockRunDir(runDir: string): Promise<() => Promise<void>> {
  const lockFile = path.join(runDir, 'run.lock');
  const holder = Number((await fs.readFile(lockFile, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processExists(holder)) {
    throw new Error(`${lockFile}: the run folder is in use by process ${holder}`);
  }
  await fs.writeFile(lockFile, `${process.pid}\n`);
  return () => fs.rm(lockFile, { force: true });
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
