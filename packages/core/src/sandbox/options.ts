// The sandbox's configuration: each option defined once (type, default, range, one line of prose).
import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** How the worker processes are isolated from the host by the operating system (layer 1). */
export type IsolationMode = 'bwrap' | 'unshare' | 'none';

/** Schema of {@link SandboxOptions}; `.describe()` texts double as the CLI's help. */
export const sandboxOptionsSchema = z
  .object({
    pythonPath: z
      .string()
      .min(1)
      .default('/usr/bin/python3')
      .describe('CPython interpreter that runs the programs'),
    workers: z
      .int()
      .min(1)
      .max(256)
      .optional()
      .describe('worker processes in the pool (default: the number of cores)'),
    timeoutMs: z
      .int()
      .min(1)
      .max(3_600_000)
      .default(10_000)
      .describe('wall-clock limit per program, in milliseconds (the paper uses 10 s)'),
    memoryLimitMb: z
      .int()
      .min(128)
      .max(1_048_576)
      .default(512)
      .describe('address-space limit of each worker process, in MiB'),
    maxOutputChars: z
      .int()
      .min(0)
      .max(100_000_000)
      .default(65_536)
      .describe('characters of printed output kept per program; printing more fails the program'),
    maxCodeChars: z
      .int()
      .min(1)
      .max(100_000_000)
      .default(1_000_000)
      .describe('longest program accepted, in characters'),
    isolation: z
      .enum(['auto', 'bwrap', 'unshare', 'none'])
      .default('auto')
      .describe(
        'OS isolation: bubblewrap, a network namespace only, or none (only when asked for by name); auto tries bubblewrap, then the namespace',
      ),
    bwrapPath: z
      .string()
      .min(1)
      .default('bwrap')
      .describe('bubblewrap executable (looked up in /usr/bin:/bin when not a path)'),
    unsharePath: z
      .string()
      .min(1)
      .default('unshare')
      .describe("util-linux unshare, used by the 'unshare' fallback"),
    sympy: z
      .boolean()
      .default(true)
      .describe(
        'preload sympy in every worker (false: programs importing it fail, workers start faster)',
      ),
    programsPerWorker: z
      .int()
      .min(1)
      .optional()
      .describe('replace a worker after this many programs (1 = a fresh interpreter per program)'),
    runAsUid: z
      .int()
      .min(0)
      .optional()
      .describe('user id of the workers (default when the host runs as root: 65534, nobody)'),
    runAsGid: z
      .int()
      .min(0)
      .optional()
      .describe('group id of the workers (default when the host runs as root: 65534, nogroup)'),
    startupTimeoutMs: z
      .int()
      .min(100)
      .max(600_000)
      .default(60_000)
      .describe('how long a worker may take to start (import sympy, apply limits)'),
  })
  .strict();

/** Options of {@link PythonSandbox.start}; every field is optional (see the schema for defaults). */
export type SandboxOptions = z.input<typeof sandboxOptionsSchema>;

/** Options after validation, with every default filled in. */
export interface ResolvedSandboxOptions extends Omit<
  z.output<typeof sandboxOptionsSchema>,
  'workers' | 'runAsUid' | 'runAsGid'
> {
  workers: number;
  /** Undefined: keep the host's user. */
  runAsUid: number | undefined;
  runAsGid: number | undefined;
}

/** The unprivileged user root hands workers to, so that RLIMIT_NPROC applies (root ignores it). */
const NOBODY_ID = 65534;

/**
 * Validates sandbox options and fills in the defaults.
 * @throws Error naming every bad field, e.g. "Invalid sandbox option timeoutMs: Too small: ...".
 */
export function resolveSandboxOptions(options: SandboxOptions = {}): ResolvedSandboxOptions {
  const parsed = sandboxOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : '(options)';
      return `Invalid sandbox option ${field}: ${issue.message}`;
    });
    throw new Error(problems.join('; '));
  }
  const isRoot = process.getuid?.() === 0;
  return {
    ...parsed.data,
    workers: parsed.data.workers ?? availableParallelism(),
    runAsUid: parsed.data.runAsUid ?? (isRoot ? NOBODY_ID : undefined),
    runAsGid: parsed.data.runAsGid ?? (isRoot ? NOBODY_ID : undefined),
  };
}
