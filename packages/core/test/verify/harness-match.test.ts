import { readFileSync } from 'node:fs';
import {
  extractFinalAnswer,
  flexibleMatch,
  harnessAccuracy,
  loadGsm8k,
  strictMatch,
} from '../../src';
import { describeWithSharedData, sharedData } from '../data/shared-data';

describe('lm-evaluation-harness style GSM8K matching', () => {
  it('strict match reads "#### N", else "The answer is N." (with its period)', () => {
    expect(strictMatch('2 + 2 = 4\n#### 4')).toBe(4);
    expect(strictMatch('#### 1,080')).toBe(1080);
    expect(strictMatch('#### -3')).toBe(-3);
    expect(strictMatch('So she pays $5. The answer is 5.')).toBe(5);
    expect(strictMatch('The answer is 1,234.5.')).toBe(1234.5);
    // The harness regex needs the period: a bare "The answer is 5" is not a strict match.
    expect(strictMatch('The answer is 5')).toBeNull();
    expect(strictMatch('Final answer: 5')).toBeNull();
    expect(strictMatch('#### five')).toBeNull();
  });

  it('flexible match takes the last number-like run', () => {
    expect(flexibleMatch('She had 3 apples, bought 4, so 7')).toBe(7);
    expect(flexibleMatch('It costs $1,080.')).toBe(1080);
    expect(flexibleMatch('Final answer: -12')).toBe(-12);
    expect(flexibleMatch('no digits here')).toBeNull();
    // A lone "." run is a number-like run to the harness regex but not a number.
    expect(flexibleMatch('answer 5 ..')).toBeNull();
  });

  it('harnessAccuracy averages both readings', () => {
    const items = [
      { text: '#### 4', gold: 4 },
      { text: 'The answer is 6', gold: 6 },
      { text: 'The answer is 7.', gold: 8 },
    ];
    expect(harnessAccuracy(items)).toEqual({ strict: 1 / 3, flexible: 2 / 3, total: 3 });
    expect(harnessAccuracy([])).toEqual({ strict: 0, flexible: 0, total: 0 });
  });
});

describeWithSharedData('answer statements of real recorded teacher rationales', () => {
  it('LLaMA-3-70B level-1 rationales: "The answer is" read for all but the ambiguous ones', async () => {
    const train = (await loadGsm8k(sharedData('gsm8k/train.jsonl'))).problems;
    const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
    const gold = new Map(train.map((problem) => [normalise(problem.question), problem.answer]));
    const rows = JSON.parse(
      readFileSync(sharedData('gsm8k/teacher/gsm8k_llama_level1_ranked.json'), 'utf8'),
    ) as Array<{ instruction: string; output: string }>;
    expect(rows).toHaveLength(7442);

    let joined = 0;
    let agreeing = 0;
    let withoutStatement = 0;
    const unreadable: string[] = [];
    for (const row of rows) {
      const extracted = extractFinalAnswer(row.output);
      if (!extracted.ok && extracted.rule === undefined) withoutStatement++;
      if (!extracted.ok && extracted.rule !== undefined) unreadable.push(extracted.reason);
      const answer = gold.get(normalise(row.instruction));
      if (answer === undefined) continue;
      joined++;
      if (extracted.ok && extracted.value === answer) agreeing++;
    }
    // README of shared/data: 2 rows without "The answer is"; 7382 of 7442 stated answers match.
    expect(withoutStatement).toBe(2);
    expect(joined).toBe(7439);
    expect(agreeing).toBe(7398);
    // Statements we refuse to read are hedged, negated or self-contradicting ("23 no wait its
    // 46", "not 148", "5040, not 5760"): failing closed on them is the point.
    expect(unreadable).toHaveLength(25);
    expect(unreadable).toContain(
      '"The answer is" is followed by "23 no wait its 46" (several numbers)',
    );
    expect(unreadable).toContain(
      '"The answer is" is followed by "not 148" (text before the number)',
    );
    expect(unreadable.every((reason) => /several numbers|no number|text before/.test(reason))).toBe(
      true,
    );
  });
});
