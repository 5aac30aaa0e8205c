import { promises as fs } from 'node:fs';
import { UsageError } from './errors';

/** One record of a JSON Lines input file, with its 1-based line number. */
export interface JsonlRecord {
  line: number;
  value: Record<string, unknown>;
}

/** Reads a JSONL input file; a line that is not a JSON object is a UsageError naming file and line. */
export async function readJsonlRecords(file: string): Promise<JsonlRecord[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  // A byte-order mark (Windows editors) and CRLF line ends are not part of the records.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const records: JsonlRecord[] = [];
  text.split('\n').forEach((line, index) => {
    const raw = line.replace(/\r$/, '');
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new UsageError(
        `${file}:${index + 1}: field "(record)": not valid JSON (${(error as Error).message})`,
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new UsageError(`${file}:${index + 1}: field "(record)": expected a JSON object`);
    }
    records.push({ line: index + 1, value: value as Record<string, unknown> });
  });
  return records;
}

/** A required string field of a record, or a UsageError naming file, line and field. */
export function requireStringField(record: JsonlRecord, file: string, field: string): string {
  const value = record.value[field];
  if (typeof value !== 'string') {
    throw new UsageError(
      `${file}:${record.line}: field "${field}": ${value === undefined ? 'missing' : `expected a string, got ${JSON.stringify(value)}`}`,
    );
  }
  return value;
}
