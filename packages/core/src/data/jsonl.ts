// Plain JSON Lines with a field mapping: any data set stored as one object a line.
import * as path from 'node:path';
import type { Problem } from '../types';
import { asRecord, fieldAt, parseGold, requireString } from './fields';
import {
  ProblemCollector,
  RecordFieldError,
  type CommonLoadOptions,
  type LoadResult,
} from './load-result';
import { jsonLines, readText } from './text-files';

/** Which fields of each record hold the question, the gold answer and (optionally) the id. Dotted paths allowed. */
export interface JsonlFieldMapping {
  /** Default `question`. */
  question?: string;
  /** Default `answer`. A number, a numeric string, or a GSM8K-style solution ending in `#### <gold>`. */
  answer?: string;
  /** When absent, ids are `<source>-<split>-<index>` with the 0-based record index. */
  id?: string;
}

/** Options of {@link loadJsonl}. */
export interface JsonlLoadOptions extends CommonLoadOptions {
  fields?: JsonlFieldMapping;
  /** The `source` written into each problem; default: the file name without extension. */
  source?: string;
}

/**
 * Loads a JSON Lines file through a field mapping. Split defaults to `train`. Ids from an id
 * field are used as they are (string or integer, converted to a string) and must be unique.
 */
export async function loadJsonl(file: string, options: JsonlLoadOptions = {}): Promise<LoadResult> {
  const fields = { question: 'question', answer: 'answer', ...options.fields };
  const split = options.split ?? 'train';
  const source = options.source ?? path.basename(file).replace(/\.[^.]*$/, '');
  const collector = new ProblemCollector(file, options.lenient ?? false);
  jsonLines(await readText(file)).forEach(({ line, text }, index) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return collector.fail(line, '(record)', `invalid JSON: ${(error as Error).message}`);
    }
    collector.record(
      line,
      (): Problem => {
        const record = asRecord(parsed);
        const question = requireString(record, fields.question);
        const rawAnswer = fieldAt(record, fields.answer);
        const goldValue =
          typeof rawAnswer === 'string' && rawAnswer.includes('####')
            ? rawAnswer.slice(rawAnswer.lastIndexOf('####') + 4).trim()
            : rawAnswer;
        return {
          id: fields.id === undefined ? `${source}-${split}-${index}` : readId(record, fields.id),
          question,
          answer: parseGold(goldValue, fields.answer),
          source,
          split,
        };
      },
      fields.id ?? '(record)',
    );
  });
  return collector.result();
}

function readId(record: Record<string, unknown>, field: string): string {
  const value = fieldAt(record, field);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  throw new RecordFieldError(field, 'expected a non-empty string or integer id');
}
