// GSM8K scoring as lm-evaluation-harness reports it, so our numbers line up with the ones
// users compare against (tasks gsm8k / gsm8k_cot, filters "strict-match" and "flexible-extract").

/** lm-eval `gsm8k` strict-match: `#### <number>`. */
const HASH_ANSWER = /#### (-?[0-9.,]+)/;
/** lm-eval `gsm8k_cot` strict-match: `The answer is <number>.` */
const THE_ANSWER_IS = /The answer is (-?[0-9.,]+)\./;
/** lm-eval flexible-extract: every number-like run; the LAST one is taken. */
const ANY_NUMBER = /(-?[$0-9.,]{2,})|(-?[0-9]+)/g;

/**
 * The harness's normalisation before exact match (`regexes_to_ignore`: ",", "\\$",
 * "(?s).*#### ", "\\.$"), then read as a number; null when what is left is not one.
 */
function harnessNumber(captured: string): number | null {
  const cleaned = captured.replace(/,/g, '').replace(/\$/g, '').replace(/\.$/, '');
  if (!/^-?(?:\d+\.?\d*|\.\d+)$/.test(cleaned)) return null;
  return Number(cleaned);
}

/**
 * The harness's strict match: the number after `#### ` (GSM8K format), else the number in
 * `The answer is N.` (few-shot CoT format, first occurrence as the harness takes it); null when
 * neither is present. We compare the result with the gold numerically; the harness compares
 * the normalised strings, so it would count "72.0" against a gold of "72" as wrong where we do not.
 */
export function strictMatch(text: string): number | null {
  const hash = HASH_ANSWER.exec(text);
  if (hash) return harnessNumber(hash[1]);
  const stated = THE_ANSWER_IS.exec(text);
  return stated ? harnessNumber(stated[1]) : null;
}

/** The harness's flexible extract: the last number-like run in the text, normalised; null when none. */
export function flexibleMatch(text: string): number | null {
  let last: string | null = null;
  for (const match of text.matchAll(ANY_NUMBER)) last = match[1] ?? match[2];
  return last === null ? null : harnessNumber(last);
}

/** Strict and flexible accuracy over (text, gold) pairs, as the harness reports them. */
export function harnessAccuracy(items: ReadonlyArray<{ text: string; gold: number }>): {
  strict: number;
  flexible: number;
  total: number;
} {
  let strict = 0;
  let flexible = 0;
  for (const { text, gold } of items) {
    if (strictMatch(text) === gold) strict++;
    if (flexibleMatch(text) === gold) flexible++;
  }
  const total = items.length;
  return { strict: total ? strict / total : 0, flexible: total ? flexible / total : 0, total };
}
