import { STRATEGIES, isStrategy } from '@siked/core';

describe('strategy names', () => {
  it('lists the three strategies and recognises only them', () => {
    expect(STRATEGIES).toEqual(['cot', 'l2m', 'pot']);
    for (const s of STRATEGIES) expect(isStrategy(s)).toBe(true);
    for (const s of ['CoT', 'pal', '', null, 3]) expect(isStrategy(s)).toBe(false);
  });
});
