// GSM8K (openai/grade-school-math JSONL): `{question, answer}` per line, the answer being a
// human solution whose last line is `#### <gold>`. The socratic variant prefixes every step
// with a generated sub-question: `sub-question ** step`.
import * as path from 'node:path';
import type { Problem } from '../types';
import { formatCotSolution, formatL2mSolution, type L2mStep } from '../strategies/solution-text';
import { asRecord, parseGold, requireString } from './fields';
import {
  ProblemCollector,
  RecordFieldError,
  type CommonLoadOptions,
  type LoadResult,
} from './load-result';
import { jsonLines, readText } from './text-files';

/** `main`: plain steps; `socratic`: `sub-question ** step` lines; `auto`: decided by the first record. */
export type Gsm8kVariant = 'main' | 'socratic' | 'auto';

/** Options of {@link loadGsm8k}. */
export interface Gsm8kLoadOptions extends CommonLoadOptions {
  /** Default `auto`. */
  variant?: Gsm8kVariant;
}

/** What a GSM8K problem keeps in `meta`. */
export interface Gsm8kMeta {
  variant: 'main' | 'socratic';
  /** The reference solution's steps, calculator annotations removed, without the `####` line. */
  steps: string[];
  /** Socratic variant only: each step with the sub-question that precedes it. */
  subQuestions?: L2mStep[];
}

const CALCULATOR_ANNOTATION = /<<[^<>]*>>/g;
// " ** " between sub-question and step; the step may be empty (one real record ends a line in
// " ** "), so the space after the asterisks may be the end of the trimmed line.
const SOCRATIC_SEPARATOR = / \*\*(?: |$)/;

/** Removes GSM8K calculator annotations (`<<48/2=24>>`); the result number after each stays (module-internal). */
export function stripCalculatorAnnotations(text: string): string {
  return text.replace(CALCULATOR_ANNOTATION, '');
}

/**
 * Loads a GSM8K JSONL file. Problem ids are `gsm8k-<split>-<index>` with the 0-based record
 * index (the line number minus one in the official files). The split defaults to `test` when
 * the file name contains "test", else `train`. Gold = the text after the last `####`, thousands
 * commas removed; a gold that is not a plain number is a {@link DataFormatError}.
 */
export async function loadGsm8k(file: string, options: Gsm8kLoadOptions = {}): Promise<LoadResult> {
  const split = options.split ?? (/test/i.test(path.basename(file)) ? 'test' : 'train');
  const collector = new ProblemCollector(file, options.lenient ?? false);
  let variant: 'main' | 'socratic' | undefined =
    options.variant === 'auto' || options.variant === undefined ? undefined : options.variant;
  jsonLines(await readText(file)).forEach(({ line, text }, index) => {
    let record: Record<string, unknown>;
    try {
      record = asRecord(JSON.parse(text));
    } catch (error) {
      const reason =
        error instanceof RecordFieldError
          ? error.reason
          : `invalid JSON: ${(error as Error).message}`;
      return collector.fail(line, '(record)', reason);
    }
    collector.record(line, () => {
      const question = requireString(record, 'question');
      const solution = requireString(record, 'answer');
      const { steps, goldText } = splitSolution(solution);
      const answer = parseGold(goldText, 'answer');
      variant ??=
        steps.length > 0 && steps.every((step) => SOCRATIC_SEPARATOR.test(step))
          ? 'socratic'
          : 'main';
      const meta: Gsm8kMeta = { variant, steps: steps.map(stripCalculatorAnnotations) };
      if (variant === 'socratic') {
        meta.subQuestions = steps.map((step, i) => socraticStep(step, i));
        // A few real records have an empty step after " ** " (see the tests); steps keep only text.
        meta.steps = meta.subQuestions.map((sub) => sub.answer).filter((answer) => answer !== '');
      }
      const problem: Problem = {
        id: `gsm8k-${split}-${index}`,
        question,
        answer,
        source: 'gsm8k',
        split,
        meta: { ...meta },
      };
      return problem;
    });
  });
  return collector.result();
}

function splitSolution(solution: string): { steps: string[]; goldText: string } {
  const marker = solution.lastIndexOf('####');
  if (marker < 0) throw new RecordFieldError('answer', 'has no "####" line with the final answer');
  const goldText = solution.slice(marker + 4).trim();
  const steps = solution
    .slice(0, marker)
    .split('\n')
    .map((step) => step.trim())
    .filter((step) => step !== '');
  return { steps, goldText };
}

function socraticStep(step: string, index: number): L2mStep {
  const separator = SOCRATIC_SEPARATOR.exec(step);
  if (separator === null) {
    throw new RecordFieldError(
      'answer',
      `step ${index + 1} has no " ** " between sub-question and step`,
    );
  }
  return {
    question: step.slice(0, separator.index).trim(),
    answer: stripCalculatorAnnotations(step.slice(separator.index + separator[0].length)).trim(),
  };
}

function gsm8kMeta(problem: Problem): Gsm8kMeta {
  const meta = problem.meta as Partial<Gsm8kMeta> | undefined;
  if (!meta || !Array.isArray(meta.steps)) {
    throw new Error(`problem ${problem.id} carries no GSM8K reference steps in meta`);
  }
  return meta as Gsm8kMeta;
}

/** The GSM8K reference solution in our CoT format (steps, then `Final answer: <gold>`). */
export function gsm8kReferenceAsCot(problem: Problem): string {
  return formatCotSolution(gsm8kMeta(problem).steps, problem.answer);
}

/** A socratic GSM8K reference solution in our L2M format (`Sub-question k:` / `Answer k:` lines). */
export function gsm8kSocraticAsL2m(problem: Problem): string {
  const { subQuestions } = gsm8kMeta(problem);
  if (!subQuestions)
    throw new Error(`problem ${problem.id} is not from the socratic GSM8K variant`);
  return formatL2mSolution(subQuestions, problem.answer);
}
