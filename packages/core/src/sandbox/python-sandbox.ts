// The pool: runs model-written programs on persistent, isolated CPython workers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ProgramResult, ProgramRunner } from '../types';
import {
  ISOLATION_LOSSES,
  ISOLATION_ORDER,
  probePythonLayout,
  workerCommand,
  type PythonLayout,
} from './isolation';
import {
  resolveSandboxOptions,
  type IsolationMode,
  type ResolvedSandboxOptions,
  type SandboxOptions,
} from './options';
import { PythonWorker, WorkerExitError, type WorkerSpec } from './worker';

/** A {@link ProgramResult} plus what the program printed (capped at `maxOutputChars`). */
export interface SandboxResult extends ProgramResult {
  output: string;
}

/** Counters since the sandbox started. */
export interface SandboxStats {
  programs: number;
  timeouts: number;
  /** Workers replaced after a timeout, crash, exit, memory error or `programsPerWorker`. */
  workerRestarts: number;
}

/** Hooks for what the sandbox wants to tell its user. */
export interface SandboxEvents {
  /** A weaker isolation than asked for is in use, or a limit cannot be enforced. Default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

/** The runner shipped with the package (packages/core/python), found from src/ and dist/ alike. */
export const RUNNER_PATH = join(__dirname, '..', '..', 'python', 'siked_sandbox_runner.py');

/**
 * Marker on every worker's command line, followed by `:<pid of the Node process that started it>`,
 * so leftover processes, orphans included, can be found (tests do).
 */
export const WORKER_MARKER = 'siked-sandbox-worker';

// A worker that cannot be started this many times in a row breaks the sandbox (fails closed).
const MAX_CONSECUTIVE_START_FAILURES = 3;

interface Job {
  code: string;
  timeoutMs: number;
  resolve: (result: SandboxResult) => void;
  reject: (error: Error) => void;
}

/**
 * Runs untrusted program-of-thought Python on a pool of persistent CPython workers, one per core
 * by default, each isolated in layers:
 *
 * 1. OS: bubblewrap (empty read-only root with only the interpreter, its libraries, the standard
 *    library and sympy/mpmath; no network, localhost included; own PID/IPC/UTS namespaces; empty
 *    environment; dies with its parent). Falls back to `unshare --net` and then to nothing, with a
 *    warning saying what is lost, when `isolation` is `'auto'`.
 * 2. Resource limits set by the runner: address space (`memoryLimitMb`), CPU time per program,
 *    no new processes (RLIMIT_NPROC=0; workers run as `nobody` when the host is root because the
 *    kernel ignores this limit for root), no file writes (RLIMIT_FSIZE=0), few open files, no core.
 * 3. Inside Python: a PEP 578 audit hook installed after setup that denies every audited
 *    operation not on an allow-list (open, os.*, subprocess, socket, ctypes, new imports, frame
 *    access...); imports limited to math, fractions, decimal, itertools, statistics and sympy;
 *    a fresh globals dict, builtins copy and decimal context per program; read-only module views.
 * 4. A wall-clock timeout per program (default 10 s) enforced here: the worker's process group is
 *    SIGKILLed and a new worker started, while the other workers go on serving.
 *
 * The answer is read from `answer`, else `ans`, else the return value of `solution()` or
 * `solver()`; it must be an int, float, Fraction, Decimal or a sympy number (not a bool).
 * sympy comes from the interpreter's own installation (Debian: `python3-sympy`); when it is
 * missing (or `sympy: false`), programs that import it fail with 'sympy not available' and
 * everything else works. Program failures resolve with `error` set; `run()` only rejects when the
 * sandbox itself is broken or closed.
 *
 * @example
 * const sandbox = await PythonSandbox.start();
 * const result = await sandbox.run('answer = 7 * 6'); // { answer: 42, error: null, ... }
 * await sandbox.close();
 */
export class PythonSandbox implements ProgramRunner {
  private readonly idle: PythonWorker[] = [];
  private readonly live = new Set<PythonWorker>();
  private readonly starting = new Set<Promise<unknown>>();
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  private failure: Error | null = null;
  private consecutiveStartFailures = 0;
  private readonly counters: SandboxStats = { programs: 0, timeouts: 0, workerRestarts: 0 };

  private constructor(
    /** The options in force, defaults filled in. */
    readonly options: ResolvedSandboxOptions,
    /** The OS isolation the workers actually run under. */
    readonly isolation: IsolationMode,
    layout: PythonLayout,
    private readonly spec: WorkerSpec,
    first: PythonWorker,
  ) {
    this.pythonExecutable = layout.executable;
    this.sympyAvailable = first.ready.sympy;
    this.sympyError = first.ready.sympyError;
    this.processLimitEnforced = first.ready.limits.nprocEnforced;
    this.adopt(first);
  }

  /** The interpreter the workers run (symlinks resolved; the same path inside bubblewrap). */
  readonly pythonExecutable: string;
  /** Whether programs can import sympy. */
  readonly sympyAvailable: boolean;
  /** Why sympy is not available (null when it is). */
  readonly sympyError: string | null;
  /** Whether RLIMIT_NPROC holds in the workers (it does not for uid 0). */
  readonly processLimitEnforced: boolean;

  /**
   * Starts the pool and waits until every worker is ready.
   * @throws Error when the options are invalid, the interpreter cannot run, or no isolation mode
   *   allowed by `options.isolation` works (each mode's failure is listed).
   */
  static async start(
    options: SandboxOptions = {},
    events: SandboxEvents = {},
  ): Promise<PythonSandbox> {
    const resolved = resolveSandboxOptions(options);
    const warn =
      events.onWarning ??
      ((message: string) => process.emitWarning(message, 'SikedSandboxWarning'));
    const layout = await probePythonLayout(resolved.pythonPath);
    const modes = resolved.isolation === 'auto' ? ISOLATION_ORDER : [resolved.isolation];
    const failures: string[] = [];
    for (const mode of modes) {
      const spec = workerSpec(resolved, mode, layout);
      let first: PythonWorker;
      try {
        first = await PythonWorker.start(spec);
      } catch (error) {
        failures.push(`${mode}: ${(error as Error).message}`);
        continue;
      }
      if (mode === 'none') {
        // Asked for by name; said on every run, since nothing else would show it.
        warn(`PythonSandbox: isolation 'none' as asked. Lost: ${ISOLATION_LOSSES.none}.`);
      } else if (failures.length > 0) {
        warn(
          `PythonSandbox: isolation '${mode}' in use because ${failures.join('; ')}. ` +
            `Lost: ${ISOLATION_LOSSES[mode]}.`,
        );
      }
      const sandbox = new PythonSandbox(resolved, mode, layout, spec, first);
      if (!sandbox.processLimitEnforced) {
        warn(
          'PythonSandbox: workers run as root, for which the kernel ignores RLIMIT_NPROC; ' +
            'new processes are then blocked only by the audit hook (and, with bwrap, the PID namespace).',
        );
      }
      try {
        await Promise.all(
          Array.from({ length: resolved.workers - 1 }, () => sandbox.startWorker()),
        );
      } catch (error) {
        await sandbox.close();
        throw error;
      }
      return sandbox;
    }
    const optIn =
      resolved.isolation === 'auto'
        ? "\nInstall bubblewrap (apt install bubblewrap), allow unprivileged user namespaces, or run without OS isolation by asking for it: isolation 'none' (--sandbox-isolation none)."
        : '';
    throw new Error(`PythonSandbox: no usable isolation mode.\n${failures.join('\n')}${optIn}`);
  }

  /** Number of worker processes in the pool. */
  get workerCount(): number {
    return this.options.workers;
  }

  /** Resolves once no worker is being (re)started, i.e. the whole pool is ready to serve. */
  async whenReady(): Promise<void> {
    while (this.starting.size > 0) await Promise.allSettled([...this.starting]);
  }

  /** Counters since start. */
  get stats(): SandboxStats {
    return { ...this.counters };
  }

  /**
   * Runs one program and reads its numeric answer. Never rejects because of the program: a
   * timeout, crash, exit, forbidden operation or non-numeric answer resolves with `answer: null`
   * and `error` saying why.
   * @param options.timeoutMs overrides the pool's wall-clock limit for this program.
   * @throws Error when the sandbox is closed or cannot start workers any more.
   */
  run(code: string, options: { timeoutMs?: number } = {}): Promise<SandboxResult> {
    if (typeof code !== 'string') {
      return Promise.reject(
        new TypeError(`Expected a string of Python code but received ${typeof code}`),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      return Promise.reject(
        new RangeError(`Expected positive integer for timeoutMs but received ${timeoutMs}`),
      );
    }
    if (this.closed) return Promise.reject(new Error('PythonSandbox is closed'));
    if (this.failure) return Promise.reject(this.failure);
    this.counters.programs += 1;
    if (code.length > this.options.maxCodeChars) {
      return Promise.resolve({
        answer: null,
        error: `program too long (${code.length} characters; the limit is ${this.options.maxCodeChars})`,
        elapsedMs: 0,
        output: '',
      });
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ code, timeoutMs, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends every worker (SIGKILL of each process group) and rejects programs still waiting. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('PythonSandbox is closed'));
    await this.whenReady();
    await Promise.all([...this.live].map((worker) => worker.kill()));
    this.live.clear();
    this.idle.length = 0;
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      this.execute(this.idle.pop() as PythonWorker, this.queue.shift() as Job);
    }
  }

  private execute(worker: PythonWorker, job: Job): void {
    const id = ++this.nextId;
    const started = performance.now();
    const elapsedMs = () => performance.now() - started;
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      this.counters.timeouts += 1;
      job.resolve({
        answer: null,
        error: `timeout: the program ran longer than ${job.timeoutMs} ms`,
        elapsedMs: elapsedMs(),
        output: '',
      });
      this.retire(worker);
    }, job.timeoutMs);
    // RLIMIT_CPU is a backstop in case this process is too busy to fire the timer in time.
    const cpuSeconds = Math.ceil(job.timeoutMs / 1000) + 1;
    worker.run(id, job.code, cpuSeconds).then(
      (reply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        job.resolve({
          answer: reply.answer,
          error: reply.error,
          elapsedMs: elapsedMs(),
          output: reply.output,
        });
        const worn =
          this.options.programsPerWorker !== undefined &&
          worker.programsRun >= this.options.programsPerWorker;
        if (reply.fatal || worn) {
          this.retire(worker);
        } else {
          this.idle.push(worker);
          this.dispatch();
        }
      },
      (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.closed) {
          job.reject(new Error('PythonSandbox was closed while the program was running'));
          return;
        }
        const reason = error instanceof WorkerExitError ? error.reason : error.message;
        job.resolve({ answer: null, error: reason, elapsedMs: elapsedMs(), output: '' });
        this.retire(worker);
      },
    );
  }

  // Kills a worker that timed out, crashed, exited or is worn out, and starts its replacement.
  private retire(worker: PythonWorker): void {
    this.live.delete(worker);
    void worker.kill();
    if (this.closed) return;
    this.counters.workerRestarts += 1;
    this.startWorker().catch(() => undefined); // failures are handled (and counted) inside
  }

  private startWorker(): Promise<void> {
    const attempt = PythonWorker.start(this.spec).then(
      (worker) => {
        this.consecutiveStartFailures = 0;
        if (this.closed) return worker.kill();
        this.adopt(worker);
        this.dispatch();
      },
      (error: Error) => {
        this.consecutiveStartFailures += 1;
        if (this.closed) return;
        if (this.consecutiveStartFailures < MAX_CONSECUTIVE_START_FAILURES)
          return this.startWorker();
        this.failure = new Error(`PythonSandbox cannot start workers any more: ${error.message}`);
        for (const job of this.queue.splice(0)) job.reject(this.failure);
        throw this.failure;
      },
    );
    this.starting.add(attempt);
    void attempt.finally(() => this.starting.delete(attempt)).catch(() => undefined);
    return attempt;
  }

  private adopt(worker: PythonWorker): void {
    this.live.add(worker);
    this.idle.push(worker);
  }
}

let runnerSource: string | undefined;

/**
 * How to start one worker. Internal (not exported from the package): the pool always installs the
 * audit hook; `layers.auditHook: false` exists only so tests can show the other layers hold alone.
 */
export function workerSpec(
  options: ResolvedSandboxOptions,
  mode: IsolationMode,
  layout: PythonLayout,
  layers: { auditHook: boolean } = { auditHook: true },
): WorkerSpec {
  runnerSource ??= readFileSync(RUNNER_PATH, 'utf8');
  const config = {
    memoryLimitBytes: options.memoryLimitMb * 1024 * 1024,
    maxOutputChars: options.maxOutputChars,
    sympy: options.sympy,
    cpuSecondsPerProgram: Math.ceil(options.timeoutMs / 1000) + 1,
    auditHook: layers.auditHook,
  };
  // -I: ignore PYTHON* variables and the user's site dir; -B: never write .pyc files.
  const pythonArguments = [
    '-I',
    '-B',
    '-c',
    runnerSource,
    JSON.stringify(config),
    `${WORKER_MARKER}:${process.pid}`,
  ];
  return {
    command: workerCommand(mode, layout, pythonArguments, options),
    uid: options.runAsUid,
    gid: options.runAsGid,
    startupTimeoutMs: options.startupTimeoutMs,
    exitCodeCarriesSignal: mode === 'bwrap',
  };
}
