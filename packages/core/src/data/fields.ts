// Typed access to the fields of a parsed JSON record; every failure names the field.
import { parseNumber } from '../verify/number';
import { RecordFieldError } from './load-result';

/** A parsed JSON record (object) or a failure naming `(record)`. */
export function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RecordFieldError(
      '(record)',
      `expected a JSON object but found ${describeValue(value)}`,
    );
  }
  return value as Record<string, unknown>;
}

/** The value at a dotted path (`meta.question`), or undefined. */
export function fieldAt(record: Record<string, unknown>, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A non-empty string field (trimmed). */
export function requireString(record: Record<string, unknown>, path: string): string {
  const value = fieldAt(record, path);
  if (typeof value !== 'string') {
    throw new RecordFieldError(path, `expected a string but found ${describeValue(value)}`);
  }
  if (value.trim() === '') throw new RecordFieldError(path, 'is empty');
  return value.trim();
}

/** A finite JSON number field. */
export function requireNumber(record: Record<string, unknown>, path: string): number {
  const value = fieldAt(record, path);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RecordFieldError(path, `expected a finite number but found ${describeValue(value)}`);
  }
  return value;
}

/**
 * A gold answer: a finite JSON number, or a string that is exactly one number (thousands
 * commas, a sign, a fraction or a `$` prefix allowed; units and words are not). Anything else
 * is an error: a gold that cannot be read must never turn into a pass (fail closed).
 */
export function parseGold(value: unknown, path: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new RecordFieldError(path, `gold answer is not finite: ${value}`);
  }
  if (typeof value !== 'string') {
    throw new RecordFieldError(
      path,
      `expected a number or a numeric string but found ${describeValue(value)}`,
    );
  }
  const parsed = parseNumber(value);
  if (!parsed.ok) {
    throw new RecordFieldError(
      path,
      `gold answer ${JSON.stringify(value)} is not a number (${parsed.reason})`,
    );
  }
  if (parsed.trailing !== '' || parsed.kind === 'percent') {
    throw new RecordFieldError(
      path,
      `gold answer ${JSON.stringify(value)} is not a plain number (has ${JSON.stringify(parsed.trailing || '%')} after it)`,
    );
  }
  return parsed.value;
}

/** Short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
