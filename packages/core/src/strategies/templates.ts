// Where the replaceable template files live and how they are read.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';

/**
 * The folder holding the default templates (`packages/core/templates`). It sits two levels
 * above this file both in `src/strategies` (tests) and in `dist/strategies` (the build).
 */
export const TEMPLATES_DIR = path.resolve(__dirname, '..', '..', 'templates');

/** Thrown when a template file cannot be read or does not have the expected shape. */
export class TemplateError extends Error {
  constructor(
    /** The file (or '<object>' for a template given in code). */
    readonly file: string,
    /** Dotted path of the offending field, or '' for the whole file. */
    readonly field: string,
    message: string,
  ) {
    super(`${file}${field ? `: field "${field}"` : ''}: ${message}`);
    this.name = 'TemplateError';
  }
}

/** Reads and validates a JSON template against `schema`; errors name the file and field. */
export function readTemplateFile<T>(file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TemplateError(file, '', `cannot read JSON template: ${(error as Error).message}`);
  }
  return validateTemplate(raw, schema, file);
}

/** Validates a template object against `schema`; errors name `source` and the field. */
export function validateTemplate<T>(raw: unknown, schema: z.ZodType<T>, source: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new TemplateError(source, issue.path.map(String).join('.'), issue.message);
}
