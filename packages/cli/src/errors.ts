/**
 * Bad usage or bad input: the user can fix it (exit code 2). The message names the file, line
 * and field when there is one.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit codes of every `siked` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * True for errors that describe bad input rather than a failure of the work: our UsageError and
 * the data loaders' errors, which carry the `file`/`line`/`field` they blame.
 */
export function isInputError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  if (!(error instanceof Error)) return false;
  const blamed = error as Error & { file?: unknown; field?: unknown };
  return typeof blamed.file === 'string' && blamed.field !== undefined;
}
