// Checks on a solution's working, for samples whose final answer is already right. The reference
// verifies the answer alone; in the synthetic world four in ten of the student's right prose
// answers at iteration 1 come with false arithmetic ("20 / 4 = 5 ... 8 - 4 = 2 ... 2 * 2 = 6"),
// and one in nine of its right programs names a day the question never mentions
// (docs/SYNTHETIC_WORLD.md). These checks let an ablation keep such samples out of its data.

import { extractProgram } from '../strategies/solution-text';
import type { Strategy } from '../types';

/** The checks a run may add to answer verification of the student's own samples. */
export const WORKING_CHECKS = ['arithmetic', 'grounded-names'] as const;
export type WorkingCheck = (typeof WORKING_CHECKS)[number];

/**
 * Words a program may use in its variable names although the question does not: the answer
 * variable, sympy's unknown and the running-sum and per-person names the synthetic teacher
 * writes (every teacher program of the demo world passes with exactly these; tested).
 */
export const GENERIC_PROGRAM_NAMES: ReadonlySet<string> = new Set(['answer', 'total', 'x', 'each']);

/**
 * The first failure of the `checks` that apply to a solution of `strategy` (`grounded-names` to
 * a PoT program, `arithmetic` to CoT and L2M text), or null when it passes them.
 */
export function workingViolation(
  strategy: Strategy,
  text: string,
  question: string,
  checks: readonly WorkingCheck[] = WORKING_CHECKS,
): string | null {
  if (strategy === 'pot') {
    return checks.includes('grounded-names')
      ? ungroundedNameViolation(extractProgram(text), question)
      : null;
  }
  return checks.includes('arithmetic') ? arithmeticViolation(text) : null;
}

/**
 * The first false statement `a op b ... = c` in a prose solution, or null when every one holds.
 * Each side is the run of numbers, + - * / ×, `$` and parentheses on its line next to the `=`,
 * cut at a ", " or ". " (a list or a sentence end, not a thousands separator or a decimal point);
 * chains (`2 * 23 - 4 = 46 - 4 = 42`) and fractions (`12/60 = 1/5`) compare value with value. An
 * equation is not judged when its left side has no operator (`x = 5`), a side does not parse, or
 * a number is glued to a word (`1.2Y`), the result goes on as a mixed number or a percentage
 * (`4 / 3 = 1 and 1/3`, `1/5 = 20%`), a number has a leading zero (`0900`, a clock time) or a
 * division by a fraction is ambiguous (`3/ 1/4`). A single stated result may be rounded to the
 * decimals it shows (`10 / 3 = 3.33`). GSM8K's calculator notes (`<<48/2=24>>`) are checked the
 * same way.
 */
export function arithmeticViolation(solution: string): string | null {
  // "10 x 3/5" is a product; the x of a word ("box") is left alone.
  const text = solution.replace(/(?<=[\d)] ?)x(?= ?[\d($.])/g, '×');
  for (let at = text.indexOf('='); at !== -1; at = text.indexOf('=', at + 1)) {
    if (text[at + 1] === '=' || text[at - 1] === '=' || text[at - 1] === '!') continue;
    const left = leftExpression(text.slice(0, at));
    if (left === null || !hasOperator(left)) continue;
    const right = rightExpression(text.slice(at + 1));
    if (right === null) continue;
    const value = evaluate(left);
    const stated = evaluate(right);
    if (value === null || stated === null) continue;
    if (!Number.isFinite(value) || Math.abs(value - stated) > slack(right, stated)) {
      return `${left} = ${right} is false (${formatValue(value)})`;
    }
  }
  return null;
}

/**
 * The first variable a program assigns whose name holds a word the question does not (compared
 * lower-case, singular or plural, split at `_` and digits), or null. {@link GENERIC_PROGRAM_NAMES}
 * are always allowed.
 */
export function ungroundedNameViolation(code: string, question: string): string | null {
  const words = new Set(question.toLowerCase().match(/[a-z]+/g) ?? []);
  const known = (word: string) =>
    GENERIC_PROGRAM_NAMES.has(word) ||
    words.has(word) ||
    words.has(`${word}s`) ||
    words.has(`${word}es`) ||
    (word.endsWith('s') && words.has(word.slice(0, -1))) ||
    (word.endsWith('es') && words.has(word.slice(0, -2)));
  for (const match of code.matchAll(/^[ \t]*([A-Za-z_]\w*)[ \t]*=(?!=)/gm)) {
    const name = match[1]!;
    const foreign = name
      .toLowerCase()
      .split(/[_\d]+/)
      .filter((part) => part !== '' && !known(part));
    if (foreign.length > 0) {
      return `variable '${name}' uses '${foreign.join("', '")}', which the question does not mention`;
    }
  }
  return null;
}

const EXPRESSION_CHARS = /[\d.,+\-*/×()$ \t]/;

function leftExpression(before: string): string | null {
  let begin = before.length;
  while (begin > 0 && EXPRESSION_CHARS.test(before[begin - 1]!)) begin -= 1;
  // A number glued to a word ("Y2 + 3 = 5") is not an expression of numbers.
  if (begin > 0 && /\w/.test(before[begin - 1]!) && /\d/.test(before[begin] ?? '')) return null;
  const run = before.slice(begin);
  // "3*X - 3*6 = 77": the run continues an expression with a variable in it.
  if (begin > 0 && /\w/.test(before[begin - 1]!) && /^\s*[-+*/×]/.test(run)) return null;
  let expression = run.slice(Math.max(run.lastIndexOf(', '), run.lastIndexOf('. ')) + 1);
  // Drop unmatched opening parentheses on the left ("(so 3 + 4 = 7").
  while (depth(expression) > 0) expression = expression.slice(expression.indexOf('(') + 1);
  return tidy(expression);
}

function rightExpression(after: string): string | null {
  let end = 0;
  while (end < after.length && EXPRESSION_CHARS.test(after[end]!)) end += 1;
  if (end < after.length && /\w/.test(after[end]!) && /[\d.]/.test(after[end - 1] ?? '')) {
    return null;
  }
  if (/^\s*(?:%|and\s*\(?\d)/.test(after.slice(end))) return null;
  const run = after.slice(0, end);
  const cuts = [run.indexOf(', '), run.indexOf('. ')].filter((index) => index !== -1);
  let expression = cuts.length > 0 ? run.slice(0, Math.min(...cuts)) : run;
  expression = expression.replace(/[.,\s]+$/, '');
  // Drop unmatched closing parentheses on the right ("(3 + 4 = 7)").
  while (depth(expression) < 0) expression = expression.slice(0, expression.lastIndexOf(')'));
  return tidy(expression);
}

function tidy(expression: string): string | null {
  const trimmed = expression.trim();
  if (!/\d/.test(trimmed) || depth(trimmed) !== 0) return null;
  if (/(?<![\d.])0\d/.test(trimmed) || /\/\s*\d+(?:\.\d+)?\s*\//.test(trimmed)) return null;
  return trimmed;
}

function hasOperator(expression: string): boolean {
  return /[\d)]\s*[-+*/×]\s*[-(\d.$]/.test(expression);
}

/** How far a stated result may be from the true value: its own rounding when it is one number. */
function slack(stated: string, value: number): number {
  const exact = 1e-9 * Math.max(1, Math.abs(value));
  if (hasOperator(stated)) return exact;
  const decimals = stated.split('.')[1]?.replace(/\D.*$/, '').length ?? 0;
  return decimals === 0 ? exact : 0.5 * 10 ** -decimals + exact;
}

function depth(expression: string): number {
  let level = 0;
  for (const char of expression) level += char === '(' ? 1 : char === ')' ? -1 : 0;
  return level;
}

/** Evaluates + - * / × with parentheses and the usual precedence; null when it does not parse. */
function evaluate(expression: string): number | null {
  const tokens = expression
    .replace(/\$/g, '')
    .replace(/,(?=\d{3}\b)/g, '')
    .match(/\d+(?:\.\d+)?|\.\d+|[-+*/×()]|\S/g);
  if (!tokens) return null;
  let position = 0;
  const peek = () => tokens[position];
  const sum = (): number | null => {
    let value = product();
    while (value !== null && (peek() === '+' || peek() === '-')) {
      const op = tokens[position++];
      const right = product();
      if (right === null) return null;
      value = op === '+' ? value + right : value - right;
    }
    return value;
  };
  const product = (): number | null => {
    let value = factor();
    while (value !== null && (peek() === '*' || peek() === '/' || peek() === '×')) {
      const op = tokens[position++];
      const right = factor();
      if (right === null) return null;
      value = op === '/' ? value / right : value * right;
    }
    return value;
  };
  const factor = (): number | null => {
    const token = tokens[position++];
    if (token === undefined) return null;
    if (token === '-') {
      const value = factor();
      return value === null ? null : -value;
    }
    if (token === '(') {
      const value = sum();
      return tokens[position++] === ')' ? value : null;
    }
    return /^(?:\d+(?:\.\d+)?|\.\d+)$/.test(token) ? Number(token) : null;
  };
  const value = sum();
  return value !== null && position === tokens.length ? value : null;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}
