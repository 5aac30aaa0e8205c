// What every loader returns, the error a malformed record raises, and the bookkeeping that
// turns "throw" (strict) into "skip and count" (lenient).
import type { Problem } from '../types';

/** A malformed record: names the file, the 1-based line where the record starts, and the field. */
export class DataFormatError extends Error {
  constructor(
    readonly file: string,
    /** 1-based line of the record (for JSON arrays and XML: the line where the element starts). */
    readonly line: number,
    /** The field at fault, e.g. `answer`, `lSolutions[0]`; `(record)` for the record as a whole. */
    readonly field: string,
    /** What is wrong, without the location. */
    readonly reason: string,
  ) {
    super(`${file}:${line}: field "${field}": ${reason}`);
    this.name = 'DataFormatError';
  }
}

/** A record skipped in lenient mode. */
export interface SkippedRecord {
  line: number;
  field: string;
  reason: string;
}

/** Why a well-formed ASDiv record is left out (see `loadAsdiv`). */
export type ExclusionReason = 'multi-value' | 'ratio' | 'clock-time' | 'ordinal' | 'non-numeric';

/** A well-formed record left out by a documented rule (not an error: its gold is not one number). */
export interface ExcludedRecord {
  /** The record's own id in the data set, e.g. `nluds-0042`. */
  recordId: string;
  line: number;
  reason: ExclusionReason;
  /** The gold answer as written. */
  answer: string;
}

/** The outcome of loading one file. */
export interface LoadResult {
  /** The file the problems came from. */
  file: string;
  problems: Problem[];
  /** Malformed records skipped (lenient mode only; strict mode throws instead). */
  skipped: SkippedRecord[];
  /** Well-formed records left out by a documented rule (ASDiv only so far). */
  excluded: ExcludedRecord[];
}

/** Options every loader takes. */
export interface CommonLoadOptions {
  /** Skip and count malformed records instead of throwing {@link DataFormatError} (default false). */
  lenient?: boolean;
  /** The split written into each problem (each loader documents its default). */
  split?: string;
}

/** Raised inside a record's parsing; the collector adds the file and line. */
export class RecordFieldError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`field "${field}": ${reason}`);
    this.name = 'RecordFieldError';
  }
}

/** Accumulates a loader's problems; strict mode throws on the first bad record, lenient counts it. */
export class ProblemCollector {
  private readonly problems: Problem[] = [];
  private readonly skipped: SkippedRecord[] = [];
  private readonly excluded: ExcludedRecord[] = [];
  private readonly seenIds = new Map<string, number>();

  constructor(
    private readonly file: string,
    private readonly lenient: boolean,
  ) {}

  /**
   * Runs `build` for the record starting at `line`; a {@link RecordFieldError} becomes a
   * {@link DataFormatError} (strict) or a skipped record (lenient). `idField` names the field
   * a duplicate id is blamed on.
   */
  record(line: number, build: () => Problem | ExcludedRecord, idField = 'id'): void {
    let built: Problem | ExcludedRecord;
    try {
      built = build();
    } catch (error) {
      if (error instanceof RecordFieldError) return this.fail(line, error.field, error.reason);
      throw error;
    }
    if ('recordId' in built) {
      this.excluded.push(built);
      return;
    }
    const firstLine = this.seenIds.get(built.id);
    if (firstLine !== undefined) {
      return this.fail(line, idField, `duplicate id "${built.id}" (first at line ${firstLine})`);
    }
    this.seenIds.set(built.id, line);
    this.problems.push(built);
  }

  /** Reports a malformed record that has no usable content at all (e.g. invalid JSON). */
  fail(line: number, field: string, reason: string): void {
    if (!this.lenient) throw new DataFormatError(this.file, line, field, reason);
    this.skipped.push({ line, field, reason });
  }

  /** The finished result. */
  result(): LoadResult {
    return {
      file: this.file,
      problems: this.problems,
      skipped: this.skipped,
      excluded: this.excluded,
    };
  }
}
