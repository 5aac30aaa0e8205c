import {
  extractFinalAnswer,
  gsm8kReferenceAsCot,
  gsm8kSocraticAsL2m,
  l2mViolation,
  loadGsm8k,
  type Problem,
} from '../../src';
import { describeWithSharedData, sharedData } from '../data/shared-data';

describe('extractFinalAnswer on hand-written texts', () => {
  it('reads our own "Final answer:" line, its last occurrence winning', () => {
    expect(extractFinalAnswer('3 + 4 = 7\nFinal answer: 7')).toMatchObject({
      ok: true,
      value: 7,
      rule: 'final-answer',
    });
    const restated = 'Final answer: 5\nWait, I forgot the tax: 5 + 1 = 6.\nFinal answer: 6';
    expect(extractFinalAnswer(restated)).toMatchObject({ ok: true, value: 6 });
    expect(extractFinalAnswer('**Final Answer:** $1,080.')).toMatchObject({
      ok: true,
      value: 1080,
    });
    expect(extractFinalAnswer('Final answer: 18 dollars')).toMatchObject({ ok: true, value: 18 });
    expect(extractFinalAnswer('Final answer: -3/4')).toMatchObject({ ok: true, value: -0.75 });
  });

  it('refuses statements with words before the number or several numbers', () => {
    // Reading the one number in "not 28" would accept a negated claim, so words before the
    // number make a statement unreadable.
    expect(extractFinalAnswer('The answer is not 28')).toEqual({
      ok: false,
      rule: 'the-answer-is',
      reason: '"The answer is" is followed by "not 28" (text before the number)',
    });
    expect(extractFinalAnswer('Final answer: Tom gets $6 back.').ok).toBe(false);
    expect(extractFinalAnswer('The answer is 120 (not 85)')).toMatchObject({
      ok: false,
      reason: '"The answer is" is followed by "120 (not 85)" (several numbers)',
    });
  });

  it('reads an arithmetic statement after its last "=", but not a remark with an "="', () => {
    expect(extractFinalAnswer('The answer is 224 - 14 = 210')).toMatchObject({
      ok: true,
      value: 210,
      rule: 'the-answer-is',
    });
    expect(extractFinalAnswer('Final answer: $730 + $800 = $1,530')).toMatchObject({ value: 1530 });
    expect(extractFinalAnswer('Final answer: 80 * (24/24) = 80.')).toMatchObject({ value: 80 });
    const remark = 'The answer is 4000 (profit or loss, so profit = 4000, loss = -4000)';
    expect(extractFinalAnswer(remark)).toMatchObject({ ok: false, rule: 'the-answer-is' });
  });

  it('falls back to "#### N" and then "The answer is N", in that order', () => {
    expect(extractFinalAnswer('48/2 = 24\n#### 1,080')).toMatchObject({
      value: 1080,
      rule: 'gsm8k-hash',
    });
    expect(extractFinalAnswer('So 9 - 4 = 5. The answer is 5.')).toMatchObject({
      value: 5,
      rule: 'the-answer-is',
    });
    expect(extractFinalAnswer('The answer is 3.\nFinal answer: 4')).toMatchObject({
      value: 4,
      rule: 'final-answer',
    });
  });

  it('ends a statement at its sentence, so later numbers do not confuse it', () => {
    expect(extractFinalAnswer('The answer is 5. She keeps 3 for later.')).toMatchObject({
      value: 5,
    });
    expect(extractFinalAnswer('Final answer: 5.5')).toMatchObject({ value: 5.5 });
  });

  it('says why extraction failed', () => {
    expect(extractFinalAnswer('She has 12 apples left.')).toEqual({
      ok: false,
      reason: 'no answer statement (looked for "Final answer:", "####", "The answer is")',
    });
    expect(extractFinalAnswer('Final answer: 3:30 p.m.')).toEqual({
      ok: false,
      rule: 'final-answer',
      reason: '"Final answer:" is followed by "3:30 p.m." (clock time or ratio)',
    });
    expect(extractFinalAnswer('Final answer: twelve')).toMatchObject({
      ok: false,
      reason: '"Final answer:" is followed by "twelve" (no number)',
    });
    expect(extractFinalAnswer('Final answer:\n\n\\boxed{42}\n')).toMatchObject({
      ok: true,
      value: 42,
    });
    expect(extractFinalAnswer('Final answer:')).toMatchObject({
      ok: false,
      reason: '"Final answer:" is followed by "" (nothing)',
    });
  });

  it('does not fall back to a weaker rule when the stated answer is unreadable', () => {
    expect(extractFinalAnswer('#### 12\nFinal answer: 12 or 13')).toMatchObject({
      ok: false,
      rule: 'final-answer',
    });
  });

  it('uses the last number only when asked to', () => {
    const text = 'She has 12 - 5 = 7 apples left';
    expect(extractFinalAnswer(text).ok).toBe(false);
    expect(extractFinalAnswer(text, { rules: ['final-answer', 'last-number'] })).toMatchObject({
      ok: true,
      value: 7,
      rule: 'last-number',
    });
  });
});

/** Problems whose text did not extract to the gold, as "id: reason" lines. */
function extractionFailures(problems: Problem[], render: (problem: Problem) => string): string[] {
  const failures: string[] = [];
  for (const problem of problems) {
    const extracted = extractFinalAnswer(render(problem));
    if (!extracted.ok) failures.push(`${problem.id}: ${extracted.reason}`);
    else if (extracted.value !== problem.answer) {
      failures.push(`${problem.id}: extracted ${extracted.value}, gold ${problem.answer}`);
    }
  }
  return failures;
}

describeWithSharedData('extraction on the real GSM8K training solutions (7473 records)', () => {
  let main: Problem[];
  let socratic: Problem[];
  beforeAll(async () => {
    main = (await loadGsm8k(sharedData('gsm8k/train.jsonl'))).problems;
    socratic = (await loadGsm8k(sharedData('gsm8k/train_socratic.jsonl'))).problems;
  });

  it('the reference solutions as CoT extract to the gold for >= 99.9% (no failures)', () => {
    expect(main).toHaveLength(7473);
    const failures = extractionFailures(main, gsm8kReferenceAsCot);
    expect(failures).toEqual([]);
  });

  it('the raw reference texts ("#### N" last line) extract to the gold through the GSM8K rule', () => {
    const raw = (problem: Problem) =>
      `${(problem.meta?.steps as string[]).join('\n')}\n#### ${problem.answer.toLocaleString('en-US')}`;
    expect(extractionFailures(main, raw)).toEqual([]);
  });

  it('the socratic solutions as L2M extract to the gold and are L2M, except 4 listed records', () => {
    expect(socratic).toHaveLength(7473);
    expect(extractionFailures(socratic, gsm8kSocraticAsL2m)).toEqual([]);
    const notL2m = socratic
      .map((problem) => ({ id: problem.id, violation: l2mViolation(gsm8kSocraticAsL2m(problem)) }))
      .filter((entry) => entry.violation !== null);
    // These records contain a step line "<sub-question> ** " with an empty step: the generated
    // sub-question is asked twice and answered once (train_socratic.jsonl lines 481, 2618,
    // 2816, 5403). Our L2M check rightly refuses an unanswered sub-question.
    expect(notL2m).toEqual([
      { id: 'gsm8k-train-480', violation: 'sub-question 5 has no answer' },
      { id: 'gsm8k-train-2617', violation: 'sub-question 2 has no answer' },
      { id: 'gsm8k-train-2815', violation: 'sub-question 2 has no answer' },
      { id: 'gsm8k-train-5402', violation: 'sub-question 3 has no answer' },
    ]);
    expect(1 - notL2m.length / socratic.length).toBeGreaterThanOrEqual(0.999);
  });
});
