import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  STRATEGIES,
  buildTeacherPrompt,
  defaultFewShot,
  extractFinalAnswer,
  fewShotFromObject,
  fewShotTemplatePath,
  l2mViolation,
  loadFewShot,
  verifyAll,
  type Problem,
} from '../../src';
import { ChildProcessPythonRunnerForTests } from '../verify/python-test-runner';

describe('shipped few-shot exemplars', () => {
  const runner = new ChildProcessPythonRunnerForTests();
  afterAll(() => runner.close());

  it('has several exemplars per strategy, on the same questions', () => {
    for (const strategy of STRATEGIES) {
      const set = defaultFewShot(strategy);
      expect(set.strategy).toBe(strategy);
      expect(set.exemplars.length).toBeGreaterThanOrEqual(4);
      expect(set.exemplars.length).toBeLessThanOrEqual(8);
    }
    const questions = (strategy: 'cot' | 'l2m' | 'pot') =>
      defaultFewShot(strategy).exemplars.map((exemplar) => exemplar.question);
    expect(questions('l2m')).toEqual(questions('cot'));
    expect(questions('pot')).toEqual(questions('cot'));
  });

  it('CoT and L2M exemplars are in our format and state their recorded answer', () => {
    for (const strategy of ['cot', 'l2m'] as const) {
      for (const exemplar of defaultFewShot(strategy).exemplars) {
        const extracted = extractFinalAnswer(exemplar.solution);
        expect(extracted).toMatchObject({ ok: true, rule: 'final-answer', value: exemplar.answer });
        expect(exemplar.solution.split('\n').at(-1)).toMatch(/^Final answer: -?[\d.]+$/);
      }
    }
    for (const exemplar of defaultFewShot('l2m').exemplars) {
      expect(l2mViolation(exemplar.solution)).toBeNull();
    }
  });

  it('PoT exemplars run in real Python to their recorded answers; some use sympy', async () => {
    const exemplars = defaultFewShot('pot').exemplars;
    expect(
      exemplars.filter((exemplar) => /from sympy import .*solve/.test(exemplar.solution)).length,
    ).toBeGreaterThanOrEqual(2);
    const problems: Problem[] = exemplars.map((exemplar, i) => ({
      id: `exemplar-${i}`,
      question: exemplar.question,
      answer: exemplar.answer,
      source: 'fewshot',
      split: 'exemplar',
    }));
    const { solutions, stats } = await verifyAll(
      exemplars.map((exemplar, i) => ({
        problemId: `exemplar-${i}`,
        strategy: 'pot' as const,
        text: exemplar.solution,
      })),
      problems,
      { runner, concurrency: 4 },
    );
    expect(solutions.filter((solution) => !solution.correct)).toEqual([]);
    expect(stats.correct).toBe(exemplars.length);
  }, 60_000);
});

describe('buildTeacherPrompt', () => {
  const question = 'A box holds 6 eggs. How many eggs are in 7 boxes?';

  it('renders a chat prompt: system + instruction, exemplars as turns, then the question', () => {
    const prompt = buildTeacherPrompt('l2m', question, { endpoint: 'chat' });
    const set = defaultFewShot('l2m');
    expect(prompt.endpoint).toBe('chat');
    expect(prompt.messages).toHaveLength(1 + 2 * set.exemplars.length + 1);
    expect(prompt.messages[0]).toEqual({
      role: 'system',
      content: `${set.system}\n\n${set.instruction}`,
    });
    expect(prompt.messages[1]).toEqual({
      role: 'user',
      content: `Question: ${set.exemplars[0].question}`,
    });
    expect(prompt.messages[2]).toEqual({ role: 'assistant', content: set.exemplars[0].solution });
    expect(prompt.messages.at(-1)).toEqual({ role: 'user', content: `Question: ${question}` });
  });

  it('renders a completion prompt that ends where the solution starts, with a stop sequence', () => {
    const prompt = buildTeacherPrompt('pot', `${question}  `, {
      endpoint: 'completions',
      shots: 2,
    });
    const set = defaultFewShot('pot');
    expect(prompt.prompt.startsWith(`${set.system}\n${set.instruction}\n\nQuestion: `)).toBe(true);
    expect(prompt.prompt.endsWith(`\n\nQuestion: ${question}\nSolution:\n`)).toBe(true);
    expect(prompt.prompt.split('Question: ')).toHaveLength(2 + 2);
    expect(prompt.stop).toEqual(['\n\nQuestion:']);
  });

  it('rejects a shot count out of range and a set for another strategy', () => {
    expect(() => buildTeacherPrompt('cot', question, { endpoint: 'chat', shots: 9 })).toThrow(
      'Expected shots to be an integer from 0 to 8 but received 9',
    );
    expect(() =>
      buildTeacherPrompt('cot', question, { endpoint: 'chat', fewShot: defaultFewShot('pot') }),
    ).toThrow('few-shot set is for "pot" but the prompt is for "cot"');
  });

  it('uses a replacement few-shot file, checking it is for the expected strategy', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'siked-fewshot-'));
    try {
      const file = path.join(dir, 'mine.json');
      const mine = {
        strategy: 'cot',
        system: '',
        instruction: 'Solve it.',
        exemplars: [{ question: '1 + 1?', solution: '1 + 1 = 2\nFinal answer: 2', answer: 2 }],
      };
      await writeFile(file, JSON.stringify(mine));
      const prompt = buildTeacherPrompt('cot', '2 + 2?', {
        endpoint: 'completions',
        fewShot: loadFewShot(file, 'cot'),
      });
      expect(prompt.prompt).toBe(
        'Solve it.\n\nQuestion: 1 + 1?\nSolution:\n1 + 1 = 2\nFinal answer: 2\n\nQuestion: 2 + 2?\nSolution:\n',
      );
      expect(() => loadFewShot(file, 'pot')).toThrow(
        `${file}: field "strategy": is "cot" but "pot" was expected`,
      );
      expect(() => fewShotFromObject({ ...mine, exemplars: [] })).toThrow(/field "exemplars"/);
      expect(() =>
        fewShotFromObject({ ...mine, exemplars: [{ question: 'q', solution: 's', answer: '2' }] }),
      ).toThrow(/field "exemplars.0.answer"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ships one file per strategy where users can find it', () => {
    expect(fewShotTemplatePath('pot')).toMatch(/templates[\\/]fewshot-pot\.json$/);
  });
});
