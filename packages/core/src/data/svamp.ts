// SVAMP (arkilpatel/SVAMP): one JSON array of {ID, Body, Question, Equation, Answer, Type}.
import type { Problem } from '../types';
import { asRecord, parseGold, requireString } from './fields';
import {
  ProblemCollector,
  RecordFieldError,
  type CommonLoadOptions,
  type LoadResult,
} from './load-result';
import { parseJsonArray, readText } from './text-files';

/**
 * Loads SVAMP. The question is `Body + " " + Question`, as in the data set's own README (many
 * bodies are an unfinished clause the question completes). Ids are `svamp-<ID>`; split
 * defaults to `test`. `meta` keeps `equation` and `type`. Labels are kept as published (the
 * README notes chal-680, whose label disagrees with its equation).
 */
export async function loadSvamp(
  file: string,
  options: CommonLoadOptions = {},
): Promise<LoadResult> {
  const split = options.split ?? 'test';
  const collector = new ProblemCollector(file, options.lenient ?? false);
  for (const { line, value } of parseJsonArray(await readText(file), file)) {
    collector.record(
      line,
      (): Problem => {
        const record = asRecord(value);
        const id = requireString(record, 'ID');
        const body = requireString(record, 'Body');
        const question = requireString(record, 'Question');
        const answer = parseGold(record.Answer, 'Answer');
        const equation = record.Equation;
        if (equation !== undefined && typeof equation !== 'string') {
          throw new RecordFieldError('Equation', 'expected a string');
        }
        return {
          id: `svamp-${id}`,
          question: `${body} ${question}`,
          answer,
          source: 'svamp',
          split,
          meta: { equation, type: record.Type },
        };
      },
      'ID',
    );
  }
  return collector.result();
}
