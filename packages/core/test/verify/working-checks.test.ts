import { readFileSync } from 'node:fs';
import {
  GENERIC_PROGRAM_NAMES,
  arithmeticViolation,
  buildSyntheticWorld,
  ungroundedNameViolation,
  type Strategy,
} from '../../src';
import { describeWithSharedData, sharedData } from '../data/shared-data';

describe('arithmeticViolation', () => {
  it('accepts true equations in every form the check reads', () => {
    for (const text of [
      '3 * 4 = 12\n12 + 2 = 14\n20 - 14 = 6\nFinal answer: $6',
      'Answer 1: 12 - 3 = 9.\nAnswer 2: 9 + 3 = 12.',
      'Derek caught the ball 2 * 23 - 4 = 46 - 4 = 42 times.',
      'The second drink was 12/60 = 1/5 the size.',
      '(3 + 4) * 2 = 14',
      'so (3 + 4 = 7) friends',
      '1,200 + 300 = 1,500 dollars',
      'It costs 10 / 3 = 3.33 dollars, or 10 / 3 = 3.3.',
      'Dexter used 4 x 3/8 = 3/2 liters.',
      'Each costs $4 * 3 = $12.',
      'It cost 50*2=$<<50*2=100>>100 per minute.',
      '5 - 8 = -3',
    ]) {
      expect([text, arithmeticViolation(text)]).toEqual([text, null]);
    }
  });

  it('names the first false equation and its true value', () => {
    expect(
      arithmeticViolation(
        'Each friend gets 20 / 4 = 5 shells.\nAfter losing 4, each friend has 8 - 4 = 2 shells.\nTogether 2 friends have 2 * 2 = 6 shells.\nFinal answer: 6',
      ),
    ).toBe('8 - 4 = 2 is false (4)');
    expect(arithmeticViolation('Answer 3: 8 + 8 = 11.')).toBe('8 + 8 = 11 is false (16)');
    expect(arithmeticViolation('2 * 23 - 4 = 46 - 5 = 41')).toBe(
      '2 * 23 - 4 = 46 - 5 is false (42)',
    );
    expect(arithmeticViolation('10 / 3 = 3.4')).toBe('10 / 3 = 3.4 is false (3.33333)');
    expect(arithmeticViolation('So it cost 192*100=$1920')).toBe(
      '192*100 = $1920 is false (19200)',
    );
    expect(arithmeticViolation('12 / 60 = 1/4 of it')).toBe('12 / 60 = 1/4 is false (0.2)');
  });

  it('does not judge what it cannot read as numbers alone', () => {
    for (const text of [
      'x = 5',
      'a box = 5',
      'Y + 0.20Y = 192 and 192 / 1.2Y = 3',
      'X*2 + 3*X - 3*6 = 77.',
      'He will read 4 / 3 = 1 and 1/3 hours.',
      'She has 4/5 * 1/4 = 20% of them.',
      'It is 0900-0130 = 0730 now.',
      'There are 3/ 1/4 = 12 quarter miles.',
      'a == b',
      '3 + 4 = seven',
    ]) {
      expect([text, arithmeticViolation(text)]).toEqual([text, null]);
    }
  });
});

describe('ungroundedNameViolation', () => {
  const question =
    'A bakery makes 29 loaves per hour. It works for 6 hours on Tuesday. It works for 5 hours on Saturday. How many loaves does it make?';

  it("accepts names made of the question's words (singular or plural) and the generic ones", () => {
    expect(
      ungroundedNameViolation(
        'tuesday = 29 * 6\nsaturday = 29 * 5\nloaves_total = tuesday + saturday\nanswer = loaves_total',
        question,
      ),
    ).toBeNull();
    expect(ungroundedNameViolation('hours2 = 6\nanswer = hours2 * 29', question)).toBeNull();
    for (const name of GENERIC_PROGRAM_NAMES) {
      expect(ungroundedNameViolation(`${name} = 1`, 'How many?')).toBeNull();
    }
  });

  it('names the first variable that names what the question does not mention', () => {
    expect(
      ungroundedNameViolation(
        'wednesday = 29 * 6\nsaturday = 29 * 5\nanswer = wednesday + saturday',
        question,
      ),
    ).toBe("variable 'wednesday' uses 'wednesday', which the question does not mention");
    expect(ungroundedNameViolation('cost_of_cups = 3\nanswer = cost_of_cups', question)).toBe(
      "variable 'cost_of_cups' uses 'cost', 'of', 'cups', which the question does not mention",
    );
  });

  it('reads only assignments, not comparisons, uses or imports', () => {
    expect(
      ungroundedNameViolation(
        'from sympy import Symbol, Eq, solve\nx = Symbol("x")\nif hours == 6:\n    pass\nanswer = solve(Eq(x, 6), x)[0]',
        question,
      ),
    ).toBeNull();
  });
});

describe('the working checks on the synthetic teacher', () => {
  it('pass every mistake-free teacher solution of a demo world, on every family and step count', () => {
    const world = buildSyntheticWorld('demo', 3);
    const problems = [...world.splits.train.slice(0, 600), ...world.splits['ood-steps']];
    const flagged: string[] = [];
    let checked = 0;
    for (const strategy of ['cot', 'l2m', 'pot'] as Strategy[]) {
      for (const problem of problems) {
        const { text, mistake } = world.teacher.write(problem, strategy, 0);
        if (mistake !== null) continue;
        checked += 1;
        const violation =
          strategy === 'pot'
            ? ungroundedNameViolation(text, problem.question)
            : arithmeticViolation(text);
        if (violation) flagged.push(`${problem.id} ${strategy}: ${violation}`);
      }
    }
    expect(checked).toBeGreaterThan(1500);
    expect(flagged).toEqual([]);
  });
});

describeWithSharedData('arithmeticViolation on real GSM8K rationales', () => {
  it('flags under 1% of the human-written train solutions, including known slips', () => {
    const records = readFileSync(sharedData('gsm8k/train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { answer: string });
    const flagged = records.filter((record) => arithmeticViolation(record.answer) !== null);
    // 26 of 7,473 on 2026-12-07, most of them real slips of the annotators ("192*100=$1920").
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.length / records.length).toBeLessThan(0.01);
    expect(flagged.some((record) => record.answer.includes('192*100=$1920'))).toBe(true);
  });
});
