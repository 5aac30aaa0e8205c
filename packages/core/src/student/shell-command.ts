// Runs a user-given shell command (the scale-out hooks: a trainer, a server reload) with extra
// environment variables, streaming its output, and fails with the output's tail.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/** How {@link runShellCommand} reports and keeps the command's output. */
export interface ShellCommandOptions {
  /** Names the command in errors ("trainer command", "reload command"). */
  role: string;
  /** Added to this process's environment. */
  env: Record<string, string>;
  /** Sees the output (stdout and stderr) as it comes. */
  onOutput?: (text: string) => void;
  /** Also writes the whole output here; a failure names the file. */
  logFile?: string;
}

/** Runs `command` with /bin/sh -c; resolves when it exits 0. */
export function runShellCommand(command: string, options: ShellCommandOptions): Promise<void> {
  const log = options.logFile ? createWriteStream(options.logFile) : undefined;
  return new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const collect = (chunk: Buffer) => {
      log?.write(chunk);
      const text = chunk.toString('utf8');
      options.onOutput?.(text);
      tail = (tail + text).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`${options.role}: ${error.message}`)));
    child.on('close', (code, signal) => {
      const settle = () => {
        if (code === 0) return resolve();
        const where = options.logFile ? ` (log: ${options.logFile})` : '';
        reject(
          new Error(
            `${options.role} ${JSON.stringify(command)} exited with ${signal ?? code}${where}; its output ended with:\n${tail}`,
          ),
        );
      };
      if (log) log.end(settle);
      else settle();
    });
  });
}
