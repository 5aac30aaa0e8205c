// One worker process of the pool: the JSON-lines protocol with packages/core/python's runner.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';

/** How to start one worker (built by the pool from its options and isolation mode). */
export interface WorkerSpec {
  /** Executable and arguments, e.g. `['bwrap', ..., '--', '/usr/bin/python3.11', '-I', ...]`. */
  command: string[];
  /** Run the worker as this user/group (needs root); undefined keeps the host's. */
  uid: number | undefined;
  gid: number | undefined;
  startupTimeoutMs: number;
  /** True when exit codes above 128 mean "killed by signal (code - 128)" (bubblewrap does this). */
  exitCodeCarriesSignal: boolean;
}

/** What the runner reports once its setup (imports, limits, audit hook) is done. */
export interface WorkerReady {
  /** The worker's pid as the worker sees it (inside a PID namespace this is not the host pid). */
  pid: number;
  sympy: boolean;
  sympyError: string | null;
  limits: { nprocEnforced: boolean; uid: number };
  auditHook: boolean;
}

/** The runner's answer to one program. */
export interface RunnerReply {
  id: number;
  answer: number | null;
  error: string | null;
  /** True when the worker must be replaced after this program (e.g. it hit its memory limit). */
  fatal: boolean;
  /** What the program printed, up to the configured limit. */
  output: string;
}

/** The worker process ended; `reason` says how, in words fit for a ProgramResult error. */
export class WorkerExitError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WorkerExitError';
  }
}

const STDERR_TAIL_CHARS = 4096;

/**
 * A running CPython worker. Programs go in on its stdin; answers come back on fd 3, a pipe no
 * program can print to; its stdout is discarded and its stderr kept (the tail) for diagnostics.
 */
export class PythonWorker {
  /** Programs this worker has answered. */
  programsRun = 0;
  private stderrTail = '';
  private exitReason: string | null = null;
  private processEnded = false;
  private readonly exited: Promise<void>;
  private pending: {
    id: number;
    resolve: (reply: RunnerReply) => void;
    reject: (error: Error) => void;
  } | null = null;
  private onReady: ((ready: WorkerReady) => void) | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly spec: WorkerSpec,
  ) {
    this.exited = new Promise((resolve) => {
      const ended = (reason: string) => {
        this.processEnded = true;
        this.exitReason ??= reason;
        const pending = this.pending;
        this.pending = null;
        pending?.reject(new WorkerExitError(this.exitReason));
        resolve();
      };
      child.once('exit', (code, signal) =>
        ended(describeExit(code, signal, spec.exitCodeCarriesSignal)),
      );
      // A command that cannot be spawned (e.g. ENOENT) emits 'error' and never 'exit'.
      child.once('error', (error) => {
        if (child.pid === undefined) ended(`could not start ${spec.command[0]}: ${error.message}`);
      });
    });
    (child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    readLines(child.stdio[3] as Readable, (line) => this.receive(line));
    // Writing to a worker that just died raises EPIPE here; its 'exit' handler reports the death.
    (child.stdin as Writable).on('error', () => undefined);
  }

  /**
   * Starts a worker and waits until it reports ready.
   * @throws Error with the exit reason and the worker's stderr when it does not start.
   */
  static async start(spec: WorkerSpec): Promise<PythonWorker> {
    const [executable, ...args] = spec.command;
    const child = spawn(executable, args, {
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
      env: {},
      cwd: '/',
      // Its own process group, so a timeout SIGKILLs all of it. Under bwrap that group is the outer
      // bwrap; the sandboxed processes follow through --die-with-parent and their PID namespace.
      detached: true,
      uid: spec.uid,
      gid: spec.gid,
    });
    const worker = new PythonWorker(child, spec);
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = await Promise.race([
        new Promise<WorkerReady>((resolve) => (worker.onReady = resolve)),
        worker.exited.then(() =>
          Promise.reject(worker.startupError(worker.exitReason ?? 'exited')),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(worker.startupError(`not ready after ${spec.startupTimeoutMs} ms`)),
            spec.startupTimeoutMs,
          );
        }),
      ]);
      worker.ready = ready;
      return worker;
    } catch (error) {
      await worker.kill();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Set once the runner has reported ready. */
  ready!: WorkerReady;

  /** True once the process has ended. */
  get hasExited(): boolean {
    return this.exitReason !== null;
  }

  /**
   * Sends one program and resolves with the runner's reply.
   * @throws WorkerExitError when the worker dies before answering (crash, os._exit, kill).
   */
  run(id: number, code: string, cpuSeconds: number): Promise<RunnerReply> {
    if (this.pending)
      throw new Error('PythonWorker.run: the worker is busy (one program at a time)');
    if (this.exitReason !== null) return Promise.reject(new WorkerExitError(this.exitReason));
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject };
      (this.child.stdin as Writable).write(JSON.stringify({ id, code, cpuSeconds }) + '\n');
    });
  }

  /** SIGKILLs the worker's whole process group and waits for it to exit. */
  async kill(): Promise<void> {
    if (!this.processEnded && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // already gone (ESRCH)
      }
    }
    await this.exited;
  }

  private receive(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.protocolError(`not JSON: ${line.slice(0, 200)}`);
      return;
    }
    if (isReady(message)) {
      this.onReady?.(message);
      this.onReady = null;
      return;
    }
    const pending = this.pending;
    if (!isReply(message) || pending === null || message.id !== pending.id) {
      this.protocolError(`unexpected message ${line.slice(0, 200)}`);
      return;
    }
    this.pending = null;
    this.programsRun += 1;
    pending.resolve(message);
  }

  // A runner that breaks the protocol is not trusted with another program.
  private protocolError(detail: string): void {
    this.exitReason ??= `sandbox protocol error: ${detail}`;
    const pending = this.pending;
    this.pending = null;
    pending?.reject(new WorkerExitError(this.exitReason));
    void this.kill();
  }

  private startupError(reason: string): Error {
    const stderr = this.stderrTail.trim();
    return new Error(
      `Sandbox worker failed to start (${reason}): ${this.spec.command.slice(0, 1).join(' ')}` +
        (stderr ? `\n--- worker stderr ---\n${stderr}` : ''),
    );
  }
}

/** Turns an exit code/signal into a reason, e.g. 'CPU time limit exceeded (SIGXCPU)'. */
export function describeExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  exitCodeCarriesSignal: boolean,
): string {
  let signalName = signal;
  if (signalName === null && exitCodeCarriesSignal && code !== null && code > 128) {
    const entry = Object.entries(osConstants.signals).find(([, number]) => number === code - 128);
    signalName = (entry?.[0] as NodeJS.Signals | undefined) ?? null;
  }
  if (signalName === 'SIGXCPU') return 'CPU time limit exceeded (SIGXCPU)';
  if (signalName === 'SIGKILL') return 'worker killed (SIGKILL)';
  if (signalName !== null) return `worker crashed (${signalName})`;
  return `worker exited with code ${code}`;
}

function readLines(stream: Readable, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    buffered += text;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  });
}

function isReady(message: unknown): message is WorkerReady {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { ready?: unknown }).ready === true
  );
}

function isReply(message: unknown): message is RunnerReply {
  if (typeof message !== 'object' || message === null) return false;
  const reply = message as Record<string, unknown>;
  return (
    typeof reply.id === 'number' &&
    (reply.answer === null || typeof reply.answer === 'number') &&
    (reply.error === null || typeof reply.error === 'string') &&
    typeof reply.fatal === 'boolean' &&
    typeof reply.output === 'string'
  );
}
