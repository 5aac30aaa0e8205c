// Answer extraction for prose solutions (CoT and L2M): find where the text states its final
// answer and read that statement as a number, or say exactly why that failed.
import { parseNumber } from '../verify/number';

/**
 * The ways a prose solution can state its answer, strongest first:
 * - `final-answer`: our own format, a line `Final answer: <number>`;
 * - `gsm8k-hash`: the GSM8K reference format, a line `#### <number>`;
 * - `the-answer-is`: the classic few-shot CoT format, `The answer is <number>.`;
 * - `last-number`: the last number anywhere in the text (off by default, see
 *   {@link DEFAULT_ANSWER_RULES}).
 */
export type AnswerRule = 'final-answer' | 'gsm8k-hash' | 'the-answer-is' | 'last-number';

/**
 * The rules verification uses by default. `last-number` is left out on purpose: a solution kept
 * for training must state its answer, or the student learns to stop without one, and a
 * truncated text whose last intermediate number happens to equal the gold would pass.
 * Evaluation reports the lenient reading separately (`flexibleMatch` in verify).
 */
export const DEFAULT_ANSWER_RULES: readonly AnswerRule[] = Object.freeze([
  'final-answer',
  'gsm8k-hash',
  'the-answer-is',
]);

/** What {@link extractFinalAnswer} found. */
export type AnswerExtraction =
  | {
      ok: true;
      value: number;
      /** Which rule found the statement. */
      rule: AnswerRule;
      /** The text the number was read from (after the marker). */
      statement: string;
    }
  | {
      ok: false;
      /** Human-readable cause, e.g. `"Final answer:" is followed by "3:30 p.m." (clock time or ratio)`. */
      reason: string;
      /** The rule whose marker was found but could not be read; absent when no marker was found. */
      rule?: AnswerRule;
    };

/** Options for {@link extractFinalAnswer}. */
export interface AnswerExtractionOptions {
  /** Rules tried in this order; the first whose marker occurs decides. Default {@link DEFAULT_ANSWER_RULES}. */
  rules?: readonly AnswerRule[];
}

const MARKERS: Record<Exclude<AnswerRule, 'last-number'>, { pattern: RegExp; label: string }> = {
  'final-answer': { pattern: /final\s+answer\s*\**\s*:/gi, label: '"Final answer:"' },
  'gsm8k-hash': { pattern: /####/g, label: '"####"' },
  'the-answer-is': { pattern: /the\s+(?:final\s+)?answer\s+is\s*:?/gi, label: '"The answer is"' },
};

/** Only numbers, operators, brackets, currency and spaces: an expression such as `$730 + $800`. */
const ARITHMETIC = /^[\d\s.,+\-*/x×÷()$€£%=]+$/;

/** A number token as people write them: sign, currency, thousands commas, decimals, fractions. */
const NUMBER_TOKEN = /-?[$€£]?\d[\d,]*(?:\.\d+)?(?:\s*\/\s*\d+)?/g;

/**
 * Extracts the final answer of a CoT or L2M solution.
 *
 * The first rule (in `options.rules` order) whose marker occurs in the text decides; its LAST
 * occurrence is read (a solution may restate its answer). When that statement is not one
 * number, extraction fails rather than falling back to a weaker rule: the text's own claim
 * is what gets graded. An arithmetic statement such as `224 - 14 = 210` is read after its last
 * `=`. Words before the number (`Tom gets $6 back`, `not 28`) make the statement unreadable:
 * reading the one number in them would also accept negated or hedged claims. A statement ends
 * at the end of its line or sentence; a marker alone on its line states the next non-blank line.
 */
export function extractFinalAnswer(
  text: string,
  options: AnswerExtractionOptions = {},
): AnswerExtraction {
  const rules = options.rules ?? DEFAULT_ANSWER_RULES;
  for (const rule of rules) {
    if (rule === 'last-number') {
      const last = lastNumberToken(text);
      if (last === null) return { ok: false, reason: 'the text contains no number', rule };
      const parsed = parseNumber(last);
      if (parsed.ok) return { ok: true, value: parsed.value, rule, statement: last };
      return { ok: false, reason: `last number "${last}" is unreadable (${parsed.reason})`, rule };
    }
    const { pattern, label } = MARKERS[rule];
    const statement = textAfterLastMarker(text, pattern);
    if (statement === null) continue;
    const value = readStatement(statement);
    if (value.ok) return { ok: true, value: value.value, rule, statement };
    return {
      ok: false,
      reason: `${label} is followed by ${quote(statement)} (${value.reason})`,
      rule,
    };
  }
  return { ok: false, reason: `no answer statement (looked for ${describeRules(rules)})` };
}

function textAfterLastMarker(text: string, pattern: RegExp): string | null {
  let end = -1;
  for (const match of text.matchAll(pattern)) end = match.index + match[0].length;
  if (end < 0) return null;
  const after = text.slice(end).split('\n');
  // "Final answer:" alone on its line, the number on the next ("Final answer:\n\\boxed{42}"):
  // the statement is the next non-blank line.
  let line = after[0];
  if (line.trim() === '') line = after.slice(1).find((next) => next.trim() !== '') ?? '';
  // A sentence ends at a period followed by whitespace ("5. Then ..."); "5.5" is not an end.
  return line.split(/\.\s/, 1)[0].trim();
}

function readStatement(
  statement: string,
): { ok: true; value: number } | { ok: false; reason: string } {
  if (statement === '') return { ok: false, reason: 'nothing' };
  const direct = parseNumber(statement);
  if (direct.ok) return direct;
  // "224 - 14 = 210": when the statement is an arithmetic expression, the result after its last
  // '=' is the stated answer. Words before the '=' ("4000 (so profit = 4000, loss = -4000)")
  // make it a remark, not an expression, and it stays unreadable.
  const equals = statement.lastIndexOf('=');
  if (equals >= 0 && ARITHMETIC.test(statement.slice(0, equals))) {
    const result = parseNumber(statement.slice(equals + 1));
    if (result.ok) return result;
  }
  return { ok: false, reason: direct.reason };
}

/** The last number-looking token in the text, or null (used by the `last-number` rule). */
export function lastNumberToken(text: string): string | null {
  let last: string | null = null;
  for (const match of text.matchAll(NUMBER_TOKEN)) last = match[0];
  return last === null ? null : last.replace(/[,]+$/, '');
}

function quote(text: string): string {
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return JSON.stringify(short);
}

function describeRules(rules: readonly AnswerRule[]): string {
  const names = rules.map((rule) =>
    rule === 'last-number' ? 'a last number' : MARKERS[rule].label,
  );
  return names.join(', ');
}
