import { answersMatch, formatAnswerNumber, parseNumber, toNumber } from '../../src';

describe('parseNumber: values computed by hand', () => {
  it.each([
    ['42', 42],
    ['  42  ', 42],
    ['-7', -7],
    ['\u22127', -7], // unicode minus
    ['+3', 3],
    ['1,080', 1080],
    ['1,234,567.25', 1234567.25],
    ['$1,080', 1080],
    ['-$5', -5],
    ['$-5', -5],
    ['€12.50', 12.5],
    ['£3', 3],
    ['Rs. 250', 250],
    ['25%', 25],
    ['12.5 %', 12.5],
    ['3/4', 0.75],
    ['-3/4', -0.75],
    ['-(1/3)', -1 / 3],
    ['(5/2)', 2.5],
    ['2 1/2', 2.5],
    ['-1 3/4', -1.75],
    ['0.46', 0.46],
    ['.5', 0.5],
    ['5.', 5],
    ['1e+20', 1e20],
    ['2.5E-3', 0.0025],
    ['9 (apples)', 9],
    ['14  (seats)', 14],
    ['5 dollars', 5],
    ['5 apples', 5],
    ['12 pm-sized boxes', 12],
    ['5 amps', 5],
    ['18 dollars per week.', 18],
    ['720.', 720],
    ['**42**', 42],
    ['\\boxed{17}', 17],
    ['about 30', 30],
    ['approximately $4.50', 4.5],
    ['-0', 0],
  ])('%j reads as %d', (text, expected) => {
    const parsed = parseNumber(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.value).toBeCloseTo(expected, 12);
  });

  it('says how the number was written and what followed it', () => {
    expect(parseNumber('25%')).toMatchObject({ kind: 'percent', trailing: '' });
    expect(parseNumber('2 1/2 cups')).toMatchObject({ kind: 'mixed', trailing: 'cups' });
    expect(parseNumber('9 (apples)')).toMatchObject({ kind: 'integer', trailing: '(apples)' });
    expect(parseNumber('0.5')).toMatchObject({ kind: 'decimal' });
    expect(Object.is(toNumber('-0'), 0)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['John', 'no number'],
    ['five', 'no number'],
    ['Tom gets 6', 'text before the number'],
    ['3:30 p.m.', 'clock time or ratio'],
    ['3:4', 'clock time or ratio'],
    ['10 p.m.', 'clock time or ratio'],
    ['7am', 'clock time or ratio'],
    ['5 + 3', 'several numbers'],
    ['12 and 15', 'several numbers'],
    ['1,2', 'several numbers'],
    ['12,34', 'several numbers'],
    ['3/0', 'division by zero'],
    ['1e999', 'not finite'],
  ])('%j is rejected as %s', (text, reason) => {
    expect(parseNumber(text)).toEqual({ ok: false, reason, text });
    expect(toNumber(text)).toBeNull();
  });
});

describe('answersMatch', () => {
  it('accepts floating-point noise and exact equality', () => {
    expect(answersMatch(0.1 + 0.2, 0.3)).toBe(true);
    expect(answersMatch(18, 18)).toBe(true);
    expect(answersMatch(-3, -3)).toBe(true);
    expect(answersMatch(1e9 + 0.5, 1e9)).toBe(true); // within 1e-6 relative of 1e9 (allowed 1000)
  });

  it('rejects rounded, sign-flipped and non-finite answers', () => {
    expect(answersMatch(33.33, 100 / 3)).toBe(false);
    expect(answersMatch(0.17, 1 / 6)).toBe(false);
    expect(answersMatch(3, -3)).toBe(false);
    expect(answersMatch(0.000002, 0)).toBe(false);
    expect(answersMatch(Number.NaN, Number.NaN)).toBe(false);
    expect(answersMatch(Infinity, Infinity)).toBe(false);
  });

  it('honours a custom tolerance', () => {
    expect(answersMatch(33.33, 100 / 3, { relative: 1e-3, absolute: 0 })).toBe(true);
    expect(answersMatch(33.3, 100 / 3, { relative: 1e-3, absolute: 0 })).toBe(false);
    expect(answersMatch(0.004, 0, { relative: 0, absolute: 0.005 })).toBe(true);
  });
});

describe('formatAnswerNumber', () => {
  it('writes integers plainly and other values with at most 6 decimals', () => {
    expect(formatAnswerNumber(72)).toBe('72');
    expect(formatAnswerNumber(-0)).toBe('0');
    expect(formatAnswerNumber(4.5)).toBe('4.5');
    expect(formatAnswerNumber(100 / 3)).toBe('33.333333');
    expect(formatAnswerNumber(1e21)).toBe('1e+21');
    expect(() => formatAnswerNumber(Number.NaN)).toThrow(/non-finite/);
  });
});
