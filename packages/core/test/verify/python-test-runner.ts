// TEST-ONLY ProgramRunner: runs each program in a fresh /usr/bin/python3 child process with no
// isolation at all. It exists so verification can be tested on real Python without depending
// on the sandbox (packages/core/src/sandbox, built separately). Never use it on untrusted code.
import { spawn } from 'node:child_process';
import type { ProgramResult, ProgramRunner } from '../../src';

// Reads the answer the way the sandbox contract says (types.ts ProgramResult): `answer`, then
// `ans`, then the return value of solution()/solver(); program output goes to a buffer, never
// to the result line.
const WRAPPER = String.raw`
import io, json, math, sys, contextlib
code = sys.stdin.read()
def report(answer, error):
    sys.__stdout__.write(json.dumps({"answer": answer, "error": error}))
scope = {"__name__": "__main__"}
try:
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, "<program>", "exec"), scope)
        if "answer" in scope: value = scope["answer"]
        elif "ans" in scope: value = scope["ans"]
        elif callable(scope.get("solution")): value = scope["solution"]()
        elif callable(scope.get("solver")): value = scope["solver"]()
        else: value = None
except BaseException as error:
    report(None, type(error).__name__ + ": " + str(error)[:200])
else:
    if value is None:
        report(None, "no answer: the program set no answer/ans and defined no solution()/solver()")
    else:
        try:
            number = float(value)
        except Exception:
            report(None, "non-numeric answer: " + repr(value)[:80])
        else:
            report(number if math.isfinite(number) else None, None if math.isfinite(number) else "non-finite answer")
`;

/** Runs Python programs in unsandboxed child processes (tests only; see the file comment). */
export class ChildProcessPythonRunnerForTests implements ProgramRunner {
  constructor(private readonly defaultTimeoutMs = 20_000) {}

  run(code: string, options: { timeoutMs?: number } = {}): Promise<ProgramResult> {
    const started = Date.now();
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/python3', ['-c', WRAPPER], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', () => {
        clearTimeout(timer);
        const elapsedMs = Date.now() - started;
        if (timedOut) return resolve({ answer: null, error: 'timeout', elapsedMs });
        try {
          const parsed = JSON.parse(stdout) as { answer: number | null; error: string | null };
          resolve({ ...parsed, elapsedMs });
        } catch {
          resolve({
            answer: null,
            error: `runner output unreadable: ${stdout.slice(0, 80)}`,
            elapsedMs,
          });
        }
      });
      child.stdin.end(code);
    });
  }

  async close(): Promise<void> {}
}
