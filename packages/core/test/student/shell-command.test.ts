// runShellCommand, behind --trainer-command and --sampler-reload-command: the environment reaches
// the command, its output is streamed and logged, and a failure names the command, its exit
// status and the log, with the output's tail.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runShellCommand } from '../../src';

describe('runShellCommand', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'siked-shell-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the environment, streams and logs the output', async () => {
    const seen: string[] = [];
    const logFile = path.join(dir, 'ok.log');
    await runShellCommand('echo "model=$SIKED_MODEL_DIR"; echo warn >&2', {
      role: 'trainer command',
      env: { SIKED_MODEL_DIR: '/models/base' },
      onOutput: (text) => seen.push(text),
      logFile,
    });
    expect(seen.join('')).toContain('model=/models/base');
    expect(readFileSync(logFile, 'utf8')).toMatch(/model=\/models\/base\n[\s\S]*warn/);
  });

  it('fails with the role, the exit status, the log and the tail of the output', async () => {
    const logFile = path.join(dir, 'bad.log');
    await expect(
      runShellCommand('echo "step 3: out of memory"; exit 3', {
        role: 'trainer command',
        env: {},
        logFile,
      }),
    ).rejects.toThrow(
      /trainer command "echo .*" exited with 3 \(log: .*bad\.log\); its output ended with:\nstep 3: out of memory/,
    );
  });
});
