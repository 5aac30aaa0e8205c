// Helpers for end-to-end tests of the built CLI (packages/cli/bin/siked.js -> dist/main.js).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const SIKED = path.resolve(__dirname, '../../packages/cli/bin/siked.js');

/** What one CLI run produced. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `siked ...args` to completion (stdout/stderr are pipes, so progress prints plain lines). */
export function siked(
  args: string[],
  options: { input?: string; timeoutMs?: number; cwd?: string } = {},
): CliResult {
  const result = spawnSync(process.execPath, [SIKED, ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    env: { ...process.env, SIKED_DEBUG: '1' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs `siked ...args` without blocking this process: for tests whose CLI talks to a server
 * running in the test itself (spawnSync would starve it).
 */
export function sikedAsync(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIKED, ...args], {
      cwd: options.cwd,
      env: { ...process.env, SIKED_DEBUG: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function temporaryDirectory(prefix: string): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `siked-${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Width and height from a PNG's IHDR chunk, after checking the 8-byte signature. */
export function pngSize(file: string): { width: number; height: number } {
  const bytes = fs.readFileSync(file);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature))
    throw new Error(`${file} is not a PNG (bad signature)`);
  if (bytes.toString('latin1', 12, 16) !== 'IHDR')
    throw new Error(`${file}: first chunk is not IHDR`);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Parses JSON Lines output. */
export function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}
