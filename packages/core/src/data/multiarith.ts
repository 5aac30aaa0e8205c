// MultiArith (Roy & Roth 2015, as in kojima-takeshi188/zero_shot_cot): one JSON array of
// {iIndex, sQuestion, lEquations, lSolutions, lAlignments}.
import type { Problem } from '../types';
import { asRecord, parseGold, requireNumber, requireString } from './fields';
import {
  ProblemCollector,
  RecordFieldError,
  type CommonLoadOptions,
  type LoadResult,
} from './load-result';
import { parseJsonArray, readText } from './text-files';

/**
 * Loads MultiArith. Ids are `multiarith-<iIndex>`; the question is trimmed (every one carries
 * spaces at both ends); `lSolutions` must hold exactly one number. Split defaults to `test`.
 * The 20 repeated questions are kept, as the published evaluations count them.
 */
export async function loadMultiArith(
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
        const index = requireNumber(record, 'iIndex');
        if (!Number.isInteger(index))
          throw new RecordFieldError('iIndex', `expected an integer but found ${index}`);
        const question = requireString(record, 'sQuestion');
        const solutions = record.lSolutions;
        if (!Array.isArray(solutions) || solutions.length !== 1) {
          throw new RecordFieldError(
            'lSolutions',
            `expected a list of exactly one answer but found ${Array.isArray(solutions) ? `${solutions.length} answers` : 'no list'}`,
          );
        }
        return {
          id: `multiarith-${index}`,
          question,
          answer: parseGold(solutions[0], 'lSolutions[0]'),
          source: 'multiarith',
          split,
          meta: { equations: record.lEquations },
        };
      },
      'iIndex',
    );
  }
  return collector.result();
}
