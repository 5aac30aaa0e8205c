import {
  extractProgram,
  formatCotSolution,
  formatL2mSolution,
  l2mViolation,
  parseL2mSolution,
  programAnswerViolation,
} from '../../src';

describe('CoT and L2M text formats', () => {
  it('formatCotSolution writes one step a line and the final answer last', () => {
    expect(formatCotSolution([' 3 * 4 = 12 ', '', '12 + 2 = 14'], 14)).toBe(
      '3 * 4 = 12\n12 + 2 = 14\nFinal answer: 14',
    );
    expect(formatCotSolution([], 0.5)).toBe('Final answer: 0.5');
  });

  it('formatL2mSolution numbers the sub-questions and refuses an empty list', () => {
    const text = formatL2mSolution(
      [
        { question: 'How much do the notebooks cost?', answer: '3 * 4 = 12.' },
        { question: 'How much change?', answer: '20 - 12 = 8.' },
      ],
      8,
    );
    expect(text).toBe(
      'Sub-question 1: How much do the notebooks cost?\nAnswer 1: 3 * 4 = 12.\n' +
        'Sub-question 2: How much change?\nAnswer 2: 20 - 12 = 8.\nFinal answer: 8',
    );
    expect(parseL2mSolution(text)).toEqual({
      steps: [
        { question: 'How much do the notebooks cost?', answer: '3 * 4 = 12.' },
        { question: 'How much change?', answer: '20 - 12 = 8.' },
      ],
      problems: [],
    });
    expect(() => formatL2mSolution([], 1)).toThrow('at least one sub-question');
  });

  it('parseL2mSolution accepts multi-line answers and markdown-bold labels', () => {
    const parsed = parseL2mSolution(
      '**Sub-question 1:** How many?\n**Answer 1:** First 2 + 2 = 4,\nthen 4 * 2 = 8.\nFinal answer: 8',
    );
    expect(parsed).toEqual({
      steps: [{ question: 'How many?', answer: 'First 2 + 2 = 4,\nthen 4 * 2 = 8.' }],
      problems: [],
    });
  });

  it('reports what makes a text not L2M', () => {
    expect(l2mViolation('2 + 2 = 4\nFinal answer: 4')).toBe(
      'no sub-question (a text without one is not L2M)',
    );
    expect(l2mViolation('Sub-question 1: What is 2 + 2?\nFinal answer: 4')).toBe(
      'sub-question 1 has no answer',
    );
    // A numbering slip is reported by the parser but does not disqualify the text.
    const misnumbered = 'Sub-question 2: What is 2 + 2?\nAnswer 2: 4\nFinal answer: 4';
    expect(parseL2mSolution(misnumbered).problems).toEqual([
      'sub-question numbered 2 where 1 was expected',
    ]);
    expect(l2mViolation(misnumbered)).toBeNull();
  });
});

describe('PoT programs', () => {
  it('extractProgram takes the first fenced block, or the whole text', () => {
    expect(extractProgram('Here you go:\n```python\nanswer = 7\n```\nDone.')).toBe('answer = 7\n');
    expect(extractProgram('```\nans = 1\n```')).toBe('ans = 1\n');
    expect(extractProgram('answer = 2 * 3   \n\n')).toBe('answer = 2 * 3\n');
  });

  it('programAnswerViolation accepts answer, ans, solution() and solver()', () => {
    expect(programAnswerViolation('answer = 7')).toBeNull();
    expect(programAnswerViolation('ans = 7')).toBeNull();
    expect(programAnswerViolation('def solution():\n    return 7')).toBeNull();
    expect(programAnswerViolation('def solver():\n    return 7')).toBeNull();
    expect(programAnswerViolation('result = 7')).toMatch(/sets no `answer` or `ans` variable/);
    expect(programAnswerViolation('answers_list = [7]')).not.toBeNull();
    expect(programAnswerViolation('  \n')).toBe('empty program');
  });
});
