import { promises as fs } from 'node:fs';
import type { Problem, TeacherSample } from '../types';

/**
 * Importers for real teacher outputs on the GSM8K TRAIN split (files in `shared/data/gsm8k`).
 * They give CoT (recorded LLaMA-3-70B and Gemini rationales) and L2M (GSM8K's socratic split).
 * No PoT source exists for the train split among the data shipped with this project (the known
 * LLM-written program sets are too large to bundle), so a `D_LLM` built from these importers has
 * no PoT part: add PoT from a live teacher ({@link OpenAICompatibleTeacher}) or the synthetic world.
 */

/** Collapses whitespace runs (including non-breaking spaces) so texts copied by different tools join. */
export function normalizeQuestionText(text: string): string {
  return text.replace(/[\s\u00a0]+/g, ' ').trim();
}

/** How an import went: what was joined and what was not. */
export interface ImportReport {
  /** Records in the file. */
  records: number;
  /** Records joined to a problem. */
  matched: number;
  /** Records whose question matched no problem (first few kept for the report). */
  unmatched: number;
  unmatchedExamples: string[];
  /** Problems with no record. */
  problemsWithoutRecord: number;
}

/** Samples produced by an importer, with the report. */
export interface ImportResult {
  samples: TeacherSample[];
  report: ImportReport;
}

function indexByQuestion(problems: readonly Problem[]): Map<string, Problem> {
  const index = new Map<string, Problem>();
  for (const problem of problems) index.set(normalizeQuestionText(problem.question), problem);
  return index;
}

/**
 * Rewrites a recorded rationale ending in "The answer is N" into our CoT format: the prose, then a
 * last line `Final answer: N` (the answer phrase as written, minus a trailing period). A rationale
 * without that sentence is returned trimmed and unchanged; verification then reports it unparsed.
 */
export function rationaleToCot(output: string): string {
  const text = output.trim();
  const marker = /the answer is:?\s*/gi;
  let last: RegExpExecArray | null = null;
  for (let match = marker.exec(text); match !== null; match = marker.exec(text)) last = match;
  if (last === null) return text;
  const prose = text.slice(0, last.index).trim();
  const answerPhrase = text
    .slice(last.index + last[0].length)
    .trim()
    .replace(/\.$/, '')
    .trim();
  return prose === '' ? `Final answer: ${answerPhrase}` : `${prose}\nFinal answer: ${answerPhrase}`;
}

/**
 * Imports a recorded rationale file from EIT-NLP/Distilling-CoT-Reasoning (`gsm8k_*_ranked.json`:
 * a JSON array of `{instruction, output}`), joining each `instruction` to `problems` (GSM8K train
 * problems) by whitespace-normalised question text, as CoT samples in our format.
 */
export async function importGsm8kRationalesAsCot(
  file: string,
  problems: readonly Problem[],
): Promise<ImportResult> {
  let records: unknown;
  try {
    records = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `${file}: cannot read the rationale file as JSON (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (!Array.isArray(records))
    throw new Error(`${file}: expected a JSON array of {instruction, output}`);
  const index = indexByQuestion(problems);
  const samples: TeacherSample[] = [];
  const unmatchedExamples: string[] = [];
  let unmatched = 0;
  const seen = new Set<string>();
  records.forEach((record: unknown, i) => {
    const { instruction, output } = (record ?? {}) as { instruction?: unknown; output?: unknown };
    if (typeof instruction !== 'string')
      throw new Error(`${file}: element ${i}: field "instruction" must be a string`);
    if (typeof output !== 'string')
      throw new Error(`${file}: element ${i}: field "output" must be a string`);
    const problem = index.get(normalizeQuestionText(instruction));
    if (!problem) {
      unmatched += 1;
      if (unmatchedExamples.length < 5) unmatchedExamples.push(instruction.slice(0, 100));
      return;
    }
    seen.add(problem.id);
    samples.push({ problemId: problem.id, strategy: 'cot', text: rationaleToCot(output) });
  });
  return {
    samples,
    report: {
      records: records.length,
      matched: samples.length,
      unmatched,
      unmatchedExamples,
      problemsWithoutRecord: problems.filter((p) => !seen.has(p.id)).length,
    },
  };
}

/** Removes GSM8K calculator annotations `<<48/2=24>>` (the number after them stays). */
export function stripCalculatorAnnotations(text: string): string {
  return text.replace(/<<[^>]*>>/g, '');
}

/**
 * Converts one GSM8K socratic answer (lines `sub-question ** step`, then `#### N`) into our L2M
 * format: `Sub-question i: ...` / `Answer i: ...` pairs and a last line `Final answer: N`
 * (thousands separators removed). Throws when a step line has no ` ** ` or the `####` is missing.
 */
export function socraticToL2m(answer: string): string {
  const lines = answer.split('\n').filter((line) => line.trim() !== '');
  const finalLine = lines.pop();
  if (finalLine === undefined || !finalLine.startsWith('####')) {
    throw new Error('socratic answer does not end with a "#### N" line');
  }
  const parts = lines.map((line, i) => {
    const separator = line.indexOf(' ** ');
    if (separator < 0)
      throw new Error(`socratic step ${i + 1} has no " ** " between sub-question and answer`);
    const subQuestion = line.slice(0, separator).trim();
    const step = stripCalculatorAnnotations(line.slice(separator + 4)).trim();
    return `Sub-question ${i + 1}: ${subQuestion}\nAnswer ${i + 1}: ${step}`;
  });
  const gold = finalLine.slice(4).trim().replace(/,/g, '');
  return [...parts, `Final answer: ${gold}`].join('\n');
}

/**
 * Imports GSM8K's socratic train split (`train_socratic.jsonl`, `{question, answer}` per line) as
 * L2M samples joined to `problems` by normalised question text. A bad line throws an error naming
 * the file, line and field.
 */
export async function importGsm8kSocraticAsL2m(
  file: string,
  problems: readonly Problem[],
): Promise<ImportResult> {
  const text = await fs.readFile(file, 'utf8');
  const index = indexByQuestion(problems);
  const samples: TeacherSample[] = [];
  const unmatchedExamples: string[] = [];
  const seen = new Set<string>();
  let records = 0;
  let unmatched = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    records += 1;
    const where = `${file}:${i + 1}`;
    let record: { question?: unknown; answer?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch (error) {
      throw new Error(`${where}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
    if (typeof record.question !== 'string')
      throw new Error(`${where}: field "question" must be a string`);
    if (typeof record.answer !== 'string')
      throw new Error(`${where}: field "answer" must be a string`);
    const problem = index.get(normalizeQuestionText(record.question));
    if (!problem) {
      unmatched += 1;
      if (unmatchedExamples.length < 5) unmatchedExamples.push(record.question.slice(0, 100));
      return;
    }
    let l2m: string;
    try {
      l2m = socraticToL2m(record.answer);
    } catch (error) {
      throw new Error(`${where}: field "answer": ${(error as Error).message}`, { cause: error });
    }
    seen.add(problem.id);
    samples.push({ problemId: problem.id, strategy: 'l2m', text: l2m });
  });
  return {
    samples,
    report: {
      records,
      matched: samples.length,
      unmatched,
      unmatchedExamples,
      problemsWithoutRecord: problems.filter((p) => !seen.has(p.id)).length,
    },
  };
}
