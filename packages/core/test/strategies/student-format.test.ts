import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  StudentFormat,
  TemplateError,
  defaultStudentFormat,
  loadStudentFormat,
  studentTemplatePath,
} from '../../src';

describe('StudentFormat (shipped full template)', () => {
  const format = defaultStudentFormat();
  const question = 'Ann has 3 apples and buys 4 more. How many does she have?';

  it('renders an instruction + input prompt ending in the response header', () => {
    const prompt = format.renderPrompt(`  ${question}\n`);
    expect(prompt.startsWith('Below is an instruction')).toBe(true);
    expect(prompt).toContain(`### Input:\n${question}\n\n### Response:\n`);
    expect(prompt.endsWith('### Response:\n')).toBe(true);
  });

  it('forces a strategy by appending its tag to the prompt', () => {
    expect(format.renderPrompt(question, 'pot')).toBe(`${format.renderPrompt(question)}[pot]: `);
  });

  it('keeps "$" patterns in a question literally (no String.replace surprises)', () => {
    expect(format.renderPrompt("It costs $& or $' or $1.")).toContain("It costs $& or $' or $1.");
  });

  it('renders targets as tag + solution (+ eos text, empty here: the trainer adds the EOS id)', () => {
    expect(format.renderTarget('cot', '3 + 4 = 7\nFinal answer: 7')).toBe(
      '[cot]: 3 + 4 = 7\nFinal answer: 7',
    );
    expect(format.renderTarget('l2m', 'x')).toBe('[l2m]: x');
  });

  it('reads a completion back into strategy and text, round-tripping renderTarget', () => {
    for (const strategy of ['cot', 'l2m', 'pot'] as const) {
      const text = 'line one\nFinal answer: 7';
      expect(format.parseCompletion(format.renderTarget(strategy, text))).toEqual({
        strategy,
        text,
      });
    }
    expect(format.parseCompletion('  [pot]:answer = 7\n')).toEqual({
      strategy: 'pot',
      text: 'answer = 7',
    });
  });

  it('cuts a completion that runs on into a new prompt', () => {
    const generated = '[cot]: 3 + 4 = 7\nFinal answer: 7\n### Instruction:\nSolve ...';
    expect(format.parseCompletion(generated)).toEqual({
      strategy: 'cot',
      text: '3 + 4 = 7\nFinal answer: 7',
    });
  });

  it('says why a completion without a tag has no strategy', () => {
    const parsed = format.parseCompletion('3 + 4 = 7');
    expect(parsed.strategy).toBeNull();
    expect(parsed.text).toBe('3 + 4 = 7');
    expect(parsed.error).toMatch(
      /does not start with a strategy tag \(\[cot\]:, \[l2m\]:, \[pot\]:\)/,
    );
  });

  it('treats the whole completion as the solution when the strategy was forced', () => {
    expect(format.parseCompletion('answer = 7', 'pot')).toEqual({
      strategy: 'pot',
      text: 'answer = 7',
    });
  });
});

describe('StudentFormat from other templates', () => {
  it('the compact variant is short and uses the same tags', () => {
    const compact = defaultStudentFormat('compact');
    expect(compact.renderPrompt('1 + 1?', 'cot')).toBe('Q: 1 + 1?\nA: [cot]: ');
    expect(compact.parseCompletion('[l2m]: Sub-question 1: ...\nQ: next')).toEqual({
      strategy: 'l2m',
      text: 'Sub-question 1: ...',
    });
  });

  it('is constructible from an object, with an eos text that ends targets and generations', () => {
    const format = StudentFormat.fromObject({
      name: 'tiny',
      prompt: '{question}=',
      tags: { cot: 'C:', l2m: 'L:', pot: 'P:' },
      eos: '<|end|>',
    });
    expect(format.renderTarget('cot', '7')).toBe('C:7<|end|>');
    expect(format.stopSequences()).toEqual(['<|end|>']);
    expect(format.parseCompletion('P:answer = 7<|end|>garbage')).toEqual({
      strategy: 'pot',
      text: 'answer = 7',
    });
  });

  it('rejects templates that cannot work, naming the field', () => {
    const base = {
      name: 't',
      prompt: 'Q: {question}',
      tags: { cot: '[c]', l2m: '[l]', pot: '[p]' },
    };
    expect(() => StudentFormat.fromObject({ ...base, prompt: 'no slot' })).toThrow(
      /<object>: field "prompt": must contain \{question\} exactly once/,
    );
    expect(() =>
      StudentFormat.fromObject({ ...base, tags: { cot: '[c]', l2m: '[c]x', pot: '[p]' } }),
    ).toThrow(/field "tags.cot": tag "\[c\]" is a prefix of tag "\[c\]x"/);
    expect(() =>
      StudentFormat.fromObject({ ...base, tags: { cot: '', l2m: 'l', pot: 'p' } }),
    ).toThrow(TemplateError);
  });

  it('loads a replacement template file and names the file on errors', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'siked-format-'));
    try {
      const good = path.join(dir, 'format.json');
      await writeFile(
        good,
        JSON.stringify({
          name: 'x',
          prompt: 'Problem: {question}\nSolution: ',
          tags: { cot: '<cot>', l2m: '<l2m>', pot: '<pot>' },
        }),
      );
      expect(loadStudentFormat(good).renderPrompt('2?', 'l2m')).toBe(
        'Problem: 2?\nSolution: <l2m>',
      );
      const bad = path.join(dir, 'bad.json');
      await writeFile(bad, '{"name": "x", "prompt": "{question}", "tags": {"cot": "a"}}');
      expect(() => loadStudentFormat(bad)).toThrow(`${bad}: field "tags.l2m"`);
      const broken = path.join(dir, 'broken.json');
      await writeFile(broken, '{ not json');
      expect(() => loadStudentFormat(broken)).toThrow(`${broken}: cannot read JSON template`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('points at the shipped template files', () => {
    expect(studentTemplatePath()).toMatch(
      /packages[\\/]core[\\/]templates[\\/]student-format\.json$/,
    );
    expect(studentTemplatePath('compact')).toMatch(/student-format-compact\.json$/);
  });
});
