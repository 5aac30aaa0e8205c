// Shared fixtures of the sandbox tests: a canary file, a local TCP listener, a process scan.
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { WORKER_MARKER } from '../../src/sandbox/python-sandbox';

/** A world-readable and -writable file on the host that no sandboxed program may read or touch. */
export interface Canary {
  dir: string;
  path: string;
  content: string;
  /** Fails when the file was read, written, touched or joined by a new file. */
  assertUntouched(): void;
  remove(): void;
}

/**
 * Creates the canary with atime/mtime two days in the past: on relatime mounts any read moves
 * atime forward, so "unread" is checked, not just "unchanged". Permissions are wide open so that
 * only the sandbox, not file modes, can keep programs (running as nobody) out.
 */
export function createCanary(): Canary {
  const dir = mkdtempSync(join(tmpdir(), 'siked-canary-'));
  chmodSync(dir, 0o777);
  const path = join(dir, 'canary.txt');
  const content = `canary ${process.pid} ${Date.now()}\n`;
  writeFileSync(path, content);
  chmodSync(path, 0o666);
  const past = new Date(Date.now() - 2 * 24 * 3600 * 1000);
  utimesSync(path, past, past);
  const before = statSync(path);
  return {
    dir,
    path,
    content,
    assertUntouched() {
      const after = statSync(path);
      expect(readdirSync(dir)).toEqual(['canary.txt']);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect(after.atimeMs).toBe(before.atimeMs);
      expect(after.size).toBe(before.size);
      expect(readFileSync(path, 'utf8')).toBe(content);
      utimesSync(path, before.atime, before.mtime); // undo our own read, so this can be checked again
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP listener on 127.0.0.1 that counts the connections it receives. */
export async function startListener(): Promise<{
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('listener has no port');
  return {
    port: address.port,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Host pids of workers this process started (bwrap, unshare or python), orphans included. */
export function workerProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (
        readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`${WORKER_MARKER}:${process.pid}\0`)
      )
        pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Children of this process left as zombies (state Z). */
export function zombieChildren(): number[] {
  const zombies: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' && Number(fields[1]) === process.pid) zombies.push(Number(entry));
    } catch {
      // gone
    }
  }
  return zombies;
}
