// TEST-ONLY ProgramRunner: runs programs one after another in a long-lived /usr/bin/python3
// child process, each in fresh globals, with no isolation at all. It exists so verification can
// be tested on real Python without depending on the sandbox (packages/core/src/sandbox, built
// separately). Never use it on untrusted code. One process is reused because starting Python
// (and importing sympy) per program takes seconds on a busy test machine.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ProgramResult, ProgramRunner } from '../../src';

// Reads the answer the way the sandbox contract says (types.ts ProgramResult): `answer`, then
// `ans`, then the return value of solution()/solver(). Program output goes to a buffer, never
// to the protocol stream (one JSON request line in, one JSON result line out).
const WRAPPER = String.raw`
import io, json, math, sys, contextlib
protocol = sys.stdout
def report(answer, error):
    protocol.write(json.dumps({"answer": answer, "error": error}) + "\n")
    protocol.flush()
def run(code):
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
        return report(None, type(error).__name__ + ": " + str(error)[:200])
    if value is None:
        return report(None, "no answer: the program set no answer/ans and defined no solution()/solver()")
    try:
        number = float(value)
    except Exception:
        return report(None, "non-numeric answer: " + repr(value)[:80])
    if not math.isfinite(number):
        return report(None, "non-finite answer")
    report(number, None)
for line in sys.stdin:
    run(json.loads(line)["code"])
`;

/** Runs Python programs in an unsandboxed child process (tests only; see the file comment). */
export class ChildProcessPythonRunnerForTests implements ProgramRunner {
  private child: ChildProcessWithoutNullStreams | null = null;
  private pending: ((line: string | null) => void) | null = null;
  private buffered = '';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly defaultTimeoutMs = 20_000) {}

  run(code: string, options: { timeoutMs?: number } = {}): Promise<ProgramResult> {
    const next = this.queue.then(() =>
      this.runNow(code, options.timeoutMs ?? this.defaultTimeoutMs),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.queue;
    this.child?.stdin.end();
    this.child = null;
  }

  private runNow(code: string, timeoutMs: number): Promise<ProgramResult> {
    const started = Date.now();
    const child = this.process();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        resolve({ answer: null, error: 'timeout', elapsedMs: Date.now() - started });
      }, timeoutMs);
      this.pending = (line) => {
        clearTimeout(timer);
        this.pending = null;
        const elapsedMs = Date.now() - started;
        if (line === null) return resolve({ answer: null, error: 'python exited', elapsedMs });
        const parsed = JSON.parse(line) as { answer: number | null; error: string | null };
        resolve({ ...parsed, elapsedMs });
      };
      child.stdin.write(`${JSON.stringify({ code })}\n`);
    });
  }

  private process(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('/usr/bin/python3', ['-c', WRAPPER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString('utf8');
      const newline = this.buffered.indexOf('\n');
      if (newline >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        this.pending?.(line);
      }
    });
    child.on('exit', () => {
      if (this.child === child) {
        this.child = null;
        this.pending?.(null);
      }
    });
    // The test process must be able to exit while this idle child waits for input.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void }).unref?.();
    }
    this.child = child;
    return child;
  }

  private kill(): void {
    const child = this.child;
    this.child = null;
    this.pending = null;
    child?.kill('SIGKILL');
  }
}
