// Small readers for JSON values from run files: each failure names the file, line and field, so
// a corrupt or foreign file is reported precisely instead of producing a wrong report.

/** A run file that does not have the shape a report needs. */
export class RunFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly field: string,
    reason: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: field "${field}": ${reason}`);
    this.name = 'RunFileError';
  }
}

/** Where a value came from, for error messages. */
export interface Location {
  file: string;
  line: number | null;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function readObject(value: unknown, at: Location, field: string): Record<string, unknown> {
  if (!isObject(value)) throw new RunFileError(at.file, at.line, field, 'expected an object');
  return value;
}

export function readNumber(value: unknown, at: Location, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RunFileError(
      at.file,
      at.line,
      field,
      `expected a finite number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function readOptionalNumber(value: unknown, at: Location, field: string): number | null {
  return value === undefined || value === null ? null : readNumber(value, at, field);
}
