// Number normalisation: turns the way people and models write numbers ("$1,080.50", "3/4",
// "2 1/2", "25%", "9 (apples)", "-(1/3)", "18 dollars.") into one finite JS number, or says why not.

/** Why a text could not be read as one number. */
export type NumberParseFailure =
  | 'empty'
  | 'no number'
  | 'text before the number'
  | 'several numbers'
  | 'clock time or ratio'
  | 'division by zero'
  | 'not finite';

/** The outcome of {@link parseNumber}: a value, or the reason there is none. */
export type NumberParseResult =
  | {
      ok: true;
      value: number;
      kind: NumberKind;
      /** What followed the number (a unit, words, a period), trimmed; '' when nothing did. */
      trailing: string;
    }
  | { ok: false; reason: NumberParseFailure; text: string };

/** How the number was written (useful in reports; the value is already normalised). */
export type NumberKind = 'integer' | 'decimal' | 'fraction' | 'mixed' | 'percent' | 'scientific';

// Currency and approximation words a number may be preceded by. `Rs.` and `INR` occur in
// Indian-English problems; `~`, `about` and `approximately` in model prose.
const LEADING_NOISE =
  /^(?:[~≈]|about\s+|approximately\s+|around\s+|roughly\s+)?(?:[$€£¥₹¢]|rs\.?\s*|inr\s*|usd\s*|eur\s*)?/i;
// Markdown/LaTeX wrappers models put around answers: **42**, \boxed{42}, $42$ (math mode).
const BOXED = /\\boxed\s*\{([^{}]*)\}/;

/**
 * A number at the start of the cleaned text: sign, digits with optional thousands separators
 * (groups of exactly three, so "1,2" is rejected rather than misread), decimals, exponent.
 */
const DECIMAL_SOURCE = String.raw`[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?`;
const MIXED = /^([-+]?)(\d+)\s+(\d+)\s*\/\s*(\d+)/;
const FRACTION = /^([-+]?)\(?\s*([-+]?\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*\)?/;
const DECIMAL = new RegExp(`^${DECIMAL_SOURCE}`);

/**
 * Reads `text` as one number.
 *
 * Accepted: thousands commas (`1,080`), currency prefixes (`$`, `€`, `£`, `¥`, `₹`, `Rs.`),
 * a unicode minus, percent (`25%` reads as 25: the GSM8K convention states percentages as the
 * number before the sign), fractions (`3/4`, `-(1/3)`), mixed numbers (`2 1/2`), decimals
 * (`.5`, `5.`), exponents (`1e+20`, as Python prints big floats), `\boxed{..}` and `**..**`
 * wrappers, and trailing units or words that contain no digit (`9 (apples)`, `5 dollars`, `18.`).
 *
 * Rejected with a reason: nothing numeric, clock times and ratios (`3:30`, `3:4`, `10 p.m.`), or a second
 * number after the first (`5 + 3`, `12 and 15`): guessing which one was meant would let a wrong
 * answer pass.
 */
export function parseNumber(text: string): NumberParseResult {
  const fail = (reason: NumberParseFailure): NumberParseResult => ({ ok: false, reason, text });
  let s = text.trim();
  const boxed = BOXED.exec(s);
  if (boxed) s = boxed[1];
  s = s
    .replace(/[*_`]/g, '')
    .replace(/[\u2212\u2013]/g, '-')
    .replace(/\u00a0/g, ' ')
    .trim();
  if (s === '') return fail('empty');

  // Sign may come before the currency symbol: "-$5".
  let sign = 1;
  if (/^-\s*[$€£¥₹]/.test(s)) {
    sign = -1;
    s = s.replace(/^-\s*/, '');
  }
  s = s.replace(LEADING_NOISE, '').trim();

  let value: number;
  let kind: NumberKind;
  let rest: string;
  const mixed = MIXED.exec(s);
  const fraction = mixed ? null : FRACTION.exec(s);
  if (mixed) {
    const [all, signText, whole, numerator, denominator] = mixed;
    if (Number(denominator) === 0) return fail('division by zero');
    value = (Number(whole) + Number(numerator) / Number(denominator)) * (signText === '-' ? -1 : 1);
    kind = 'mixed';
    rest = s.slice(all.length);
  } else if (fraction && balancedParens(fraction[0])) {
    const [all, outerSign, numerator, denominator] = fraction;
    if (Number(denominator) === 0) return fail('division by zero');
    value = (Number(numerator) / Number(denominator)) * (outerSign === '-' ? -1 : 1);
    kind = 'fraction';
    rest = s.slice(all.length);
  } else {
    const match = DECIMAL.exec(s);
    const literal = match ? match[0] : '';
    if (!/\d/.test(literal)) return fail(/\d/.test(s) ? 'text before the number' : 'no number');
    value = Number(literal.replace(/,/g, ''));
    kind = /[eE]/.test(literal) ? 'scientific' : /\./.test(literal) ? 'decimal' : 'integer';
    rest = s.slice(literal.length);
  }

  rest = rest.trim();
  if (rest.startsWith('%')) {
    kind = 'percent';
    rest = rest.slice(1).trim();
  }
  if (/^:\s*\d/.test(rest) || /^[ap]\.?\s?m\.?(?![\w-])/i.test(rest))
    return fail('clock time or ratio');
  // Whatever follows must be a unit or words, never another number or an operator with operands.
  if (/\d/.test(rest)) return fail('several numbers');
  if (!Number.isFinite(value)) return fail('not finite');
  return { ok: true, value: sign * value + 0, kind, trailing: rest };
}

function balancedParens(text: string): boolean {
  return (text.match(/\(/g) ?? []).length === (text.match(/\)/g) ?? []).length;
}

/** {@link parseNumber}'s value, or null when the text is not one number. */
export function toNumber(text: string): number | null {
  const parsed = parseNumber(text);
  return parsed.ok ? parsed.value : null;
}

/** How close a predicted answer must be to the gold one. */
export interface Tolerance {
  /** Allowed difference relative to |gold| (default 1e-6). */
  relative: number;
  /** Allowed absolute difference, for golds at or near zero (default 1e-6). */
  absolute: number;
}

/**
 * Default tolerance: tight enough that a rounded answer ("33.33" for 100/3) is wrong, loose
 * enough that binary floating-point noise from executed programs (0.1 + 0.2) is right.
 */
export const DEFAULT_TOLERANCE: Readonly<Tolerance> = Object.freeze({
  relative: 1e-6,
  absolute: 1e-6,
});

/** True when `predicted` equals `gold` within `tolerance` (|p - g| <= max(abs, rel * |g|)). */
export function answersMatch(
  predicted: number,
  gold: number,
  tolerance: Tolerance = DEFAULT_TOLERANCE,
): boolean {
  if (!Number.isFinite(predicted) || !Number.isFinite(gold)) return false;
  const allowed = Math.max(tolerance.absolute, tolerance.relative * Math.abs(gold));
  return Math.abs(predicted - gold) <= allowed;
}

/**
 * Writes an answer the way our solution texts state it: integers without a decimal point,
 * other values with at most 6 decimals and no trailing zeros ("0.5", "-2.333333").
 */
export function formatAnswerNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot format a non-finite answer: ${value}`);
  if (Number.isInteger(value)) return String(value + 0);
  return String(Number(value.toFixed(6)));
}
