// The project-wide text formats of the three strategies (docs: METHOD.md, DESIGN.md):
//   CoT: prose steps, last line `Final answer: <number>`.
//   L2M: `Sub-question k: ...` / `Answer k: ...` pairs, last line `Final answer: <number>`.
//   PoT: a Python program that stores its result in `answer` (or `ans`, or returns it from
//        `solution()` / `solver()`).
import { formatAnswerNumber } from '../verify/number';

/** The line prefix that states the final answer of a CoT or L2M solution. */
export const FINAL_ANSWER_PREFIX = 'Final answer: ';

/** Renders a CoT solution: one step a line, then `Final answer: <answer>`. */
export function formatCotSolution(steps: readonly string[], answer: number): string {
  const body = steps.map((step) => step.trim()).filter((step) => step !== '');
  return [...body, `${FINAL_ANSWER_PREFIX}${formatAnswerNumber(answer)}`].join('\n');
}

/** One sub-question of a least-to-most solution and the answer given to it. */
export interface L2mStep {
  question: string;
  answer: string;
}

/** Renders an L2M solution; throws when `steps` is empty (an L2M text must ask something). */
export function formatL2mSolution(steps: readonly L2mStep[], answer: number): string {
  if (steps.length === 0) throw new Error('an L2M solution needs at least one sub-question');
  const lines = steps.flatMap((step, i) => [
    `Sub-question ${i + 1}: ${step.question.trim()}`,
    `Answer ${i + 1}: ${step.answer.trim()}`,
  ]);
  return [...lines, `${FINAL_ANSWER_PREFIX}${formatAnswerNumber(answer)}`].join('\n');
}

/** The structure found in an L2M text by {@link parseL2mSolution}. */
export interface ParsedL2m {
  /** Sub-questions in order, each with the answer text that follows it ('' when none). */
  steps: L2mStep[];
  /** Structural problems found; an empty list means a well-formed L2M text. */
  problems: string[];
}

const SUB_QUESTION_LINE = /^\s*\**\s*sub-?question\s*(\d+)\s*\**\s*:\**\s*(.*)$/i;
const ANSWER_LINE = /^\s*\**\s*answer\s*(\d+)\s*\**\s*:\**\s*(.*)$/i;
const FINAL_LINE = /^\s*\**\s*final\s+answer\b/i;

/**
 * Reads the sub-question/answer structure of an L2M text. Answer text may run over several
 * lines, up to the next sub-question or the final-answer line. Reported problems: no
 * sub-question at all, a sub-question without an answer, numbering that is not 1, 2, 3...
 */
export function parseL2mSolution(text: string): ParsedL2m {
  const steps: L2mStep[] = [];
  const problems: string[] = [];
  let current: { step: L2mStep; answered: boolean } | null = null;
  for (const line of text.split('\n')) {
    const sub = SUB_QUESTION_LINE.exec(line);
    if (sub) {
      const number = Number(sub[1]);
      if (number !== steps.length + 1) {
        problems.push(`sub-question numbered ${number} where ${steps.length + 1} was expected`);
      }
      current = { step: { question: sub[2].trim(), answer: '' }, answered: false };
      steps.push(current.step);
      continue;
    }
    if (FINAL_LINE.test(line)) {
      current = null;
      continue;
    }
    const answer = ANSWER_LINE.exec(line);
    if (answer && current && !current.answered) {
      current.step.answer = answer[2].trim();
      current.answered = true;
      continue;
    }
    if (current?.answered && line.trim() !== '') {
      current.step.answer = `${current.step.answer}\n${line.trim()}`;
    }
  }
  if (steps.length === 0) problems.push('no sub-question (a text without one is not L2M)');
  steps.forEach((step, i) => {
    if (step.answer === '') problems.push(`sub-question ${i + 1} has no answer`);
  });
  return { steps, problems };
}

/**
 * Why `text` is not an L2M solution, or null when it is one. Only the defining property is
 * required (METHOD.md 3b: at least one sub-question, answered); numbering slips are tolerated
 * because they do not change what the text is.
 */
export function l2mViolation(text: string): string | null {
  const { steps, problems } = parseL2mSolution(text);
  if (steps.length === 0) return problems[0];
  const unanswered = problems.find((problem) => problem.endsWith('has no answer'));
  return unanswered ?? null;
}

/**
 * The Python program in a PoT solution: the content of the first fenced code block when the
 * text has one (models often wrap code in ```python fences), else the whole text.
 */
export function extractProgram(text: string): string {
  const fenced = /```[ \t]*(?:python|py)?[ \t]*\r?\n([\s\S]*?)```/i.exec(text);
  const code = fenced ? fenced[1] : text;
  return code.replace(/\s+$/, '') + '\n';
}

/**
 * Why a program cannot yield an answer without running it, or null when it might: it must
 * mention `answer` or `ans`, or define `solution()` or `solver()` (what the sandbox reads).
 */
export function programAnswerViolation(code: string): string | null {
  if (code.trim() === '') return 'empty program';
  if (/\b(?:answer|ans)\b/.test(code)) return null;
  if (/\bdef\s+(?:solution|solver)\s*\(/.test(code)) return null;
  return 'the program sets no `answer` or `ans` variable and defines no solution()/solver()';
}
