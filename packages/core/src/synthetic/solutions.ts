// Writes the three strategies' solution texts from a computation, optionally with one mistake.
// Formats (fixed project-wide): CoT prose ending `Final answer: <n>`; L2M `Sub-question i:` /
// `Answer i:` pairs then `Final answer: <n>`; PoT a Python program that sets `answer`.
import type { Strategy } from '../types';
import {
  evaluateSteps,
  formatNumber,
  type ComputationStep,
  type ForwardEquation,
  type Operator,
  type SyntheticComputation,
} from './computation';
import type { RandomStream } from './random';

/**
 * A mistake the teacher makes while writing a solution. For prose (CoT, L2M): an arithmetic slip
 * in one step's result, or a number misread from the question. For programs (PoT): a number
 * copied wrongly or a wrong operator. Later steps build on the wrong value, so the final answer
 * is wrong, as with a real teacher.
 */
export type TeacherMistake =
  | { kind: 'arithmetic'; step: number; delta: number }
  | { kind: 'misread'; step: number; side: 0 | 1; delta: number }
  | { kind: 'operator'; step: number; operator: Operator };

/** Surface choices that vary between samples without changing the reasoning. */
export interface SurfaceStyle {
  /** L2M: answer lines repeat the CoT sentence instead of the bare equation. */
  l2mFullSentences: boolean;
  /** PoT: keep the last step's own variable and add `answer = <name>`. */
  potSeparateAnswerLine: boolean;
}

/** A written solution and the answer it leads to. */
export interface WrittenSolution {
  text: string;
  /** The final answer the text states (CoT/L2M) or the program computes (PoT). */
  finalAnswer: number;
}

const FINAL_ANSWER = 'Final answer:';

/** Applies a mistake to a copy of the steps (given numbers or operators), for misreads and operators. */
function stepsWithMistake(
  steps: readonly ComputationStep[],
  mistake?: TeacherMistake,
): ComputationStep[] {
  return steps.map((step, index) => {
    if (!mistake || mistake.step !== index) return step;
    if (mistake.kind === 'operator') return { ...step, operator: mistake.operator };
    if (mistake.kind === 'misread') {
      const key = mistake.side === 0 ? 'left' : 'right';
      const operand = step[key];
      if (operand.kind !== 'given')
        throw new Error(`misread mistake on step ${index} names a computed operand`);
      return { ...step, [key]: { kind: 'given', value: operand.value + mistake.delta } };
    }
    return step;
  });
}

/** Evaluates the steps with a mistake applied; returns each step's operands and result. */
function evaluateWithMistake(steps: readonly ComputationStep[], mistake?: TeacherMistake) {
  const changed = stepsWithMistake(steps, mistake);
  return {
    steps: changed,
    values: evaluateSteps(changed, (index, operands, result) =>
      mistake?.kind === 'arithmetic' && mistake.step === index
        ? { operands, result: result + mistake.delta }
        : { operands, result },
    ),
  };
}

function equationText(step: ComputationStep, operands: [number, number], result: number): string {
  return `${formatNumber(operands[0])} ${step.operator} ${formatNumber(operands[1])} = ${formatNumber(result)}`;
}

/** Chain of thought: one sentence per step, then the final answer. */
export function writeCot(
  computation: SyntheticComputation,
  mistake?: TeacherMistake,
): WrittenSolution {
  const { steps, values } = evaluateWithMistake(computation.steps, mistake);
  const lines = steps.map((step, index) =>
    step.statement.replace(
      '{expr}',
      equationText(step, values[index].operands, values[index].result),
    ),
  );
  const finalAnswer = values[values.length - 1].result;
  lines.push(`${FINAL_ANSWER} ${formatNumber(finalAnswer)}`);
  return { text: lines.join('\n'), finalAnswer };
}

/** Least-to-most: a sub-question per step, each answered in turn, then the final answer. */
export function writeL2m(
  computation: SyntheticComputation,
  style: Pick<SurfaceStyle, 'l2mFullSentences'>,
  mistake?: TeacherMistake,
): WrittenSolution {
  const { steps, values } = evaluateWithMistake(computation.steps, mistake);
  const lines: string[] = [];
  steps.forEach((step, index) => {
    const equation = equationText(step, values[index].operands, values[index].result);
    lines.push(`Sub-question ${index + 1}: ${step.subQuestion}`);
    lines.push(
      `Answer ${index + 1}: ${style.l2mFullSentences ? step.statement.replace('{expr}', equation) : `${equation}.`}`,
    );
  });
  const finalAnswer = values[values.length - 1].result;
  lines.push(`${FINAL_ANSWER} ${formatNumber(finalAnswer)}`);
  return { text: lines.join('\n'), finalAnswer };
}

/**
 * Program of thought. Step problems become straight-line code, one assignment per step with the
 * question's numbers written inline; equation problems (unknown start) are solved with sympy,
 * as in the paper's PoT exemplars.
 */
export function writePot(
  computation: SyntheticComputation,
  style: Pick<SurfaceStyle, 'potSeparateAnswerLine'>,
  mistake?: TeacherMistake,
): WrittenSolution {
  if (computation.equation) return writeEquationPot(computation.equation, mistake);
  const { steps, values } = evaluateWithMistake(computation.steps, mistake);
  const currentStepOfName = new Map<string, number>();
  const lines = steps.map((step, index) => {
    const operand = (side: 'left' | 'right'): string => {
      const value = step[side];
      if (value.kind === 'given') return formatNumber(value.value);
      const name = steps[value.index].name;
      if (currentStepOfName.get(name) !== value.index) {
        throw new Error(`step ${index} refers to ${name} after it was reassigned`);
      }
      return name;
    };
    const last = index === steps.length - 1;
    const target = last && !style.potSeparateAnswerLine ? 'answer' : step.name;
    const line = `${target} = ${operand('left')} ${step.operator} ${operand('right')}`;
    currentStepOfName.set(step.name, index);
    return line;
  });
  if (style.potSeparateAnswerLine) lines.push(`answer = ${steps[steps.length - 1].name}`);
  return { text: lines.join('\n'), finalAnswer: values[values.length - 1].result };
}

/** `answer = solve(Eq(x - 7 + 12, 30), x)[0]`; a mistake changes one number or one sign. */
function writeEquationPot(equation: ForwardEquation, mistake?: TeacherMistake): WrittenSolution {
  const operations = equation.operations.map((operation) => ({ ...operation }));
  const result = equation.result;
  if (mistake) {
    // Step k of the backwards solution undoes operation n-1-k: the mistake lands on that operation.
    const target =
      operations[operations.length - 1 - Math.min(mistake.step, operations.length - 1)];
    if (mistake.kind === 'operator') {
      target.operator = target.operator === '+' ? '-' : '+';
    } else {
      // A copied number goes wrong; keep it positive so the program still reads naturally.
      target.value += target.value + mistake.delta > 0 ? mistake.delta : -mistake.delta;
    }
  }
  const left = [
    'x',
    ...operations.map(({ operator, value }) => `${operator} ${formatNumber(value)}`),
  ].join(' ');
  let solved = result;
  for (let index = operations.length - 1; index >= 0; index--) {
    solved =
      operations[index].operator === '+'
        ? solved - operations[index].value
        : solved + operations[index].value;
  }
  const text = [
    'from sympy import Symbol, Eq, solve',
    "x = Symbol('x')",
    `answer = solve(Eq(${left}, ${formatNumber(result)}), x)[0]`,
  ].join('\n');
  return { text, finalAnswer: solved };
}

/** Draws a mistake suited to the strategy; prose slips and program slips differ. */
export function drawMistake(
  computation: SyntheticComputation,
  strategy: Strategy,
  rng: RandomStream,
): TeacherMistake {
  const step = rng.int(0, computation.steps.length - 1);
  const delta = rng.pick([1, 2, 3, 10]) * (rng.chance(0.5) ? 1 : -1);
  const givenSides = ([0, 1] as const).filter(
    (side) => computation.steps[step][side === 0 ? 'left' : 'right'].kind === 'given',
  );
  if (strategy === 'pot') {
    if (rng.chance(0.3)) {
      const operator = computation.steps[step].operator;
      const swapped: Record<Operator, Operator> = { '+': '-', '-': '+', '*': '+', '/': '*' };
      return { kind: 'operator', step, operator: swapped[operator] };
    }
    if (givenSides.length > 0) return { kind: 'misread', step, side: rng.pick(givenSides), delta };
    return {
      kind: 'operator',
      step,
      operator: computation.steps[step].operator === '+' ? '-' : '+',
    };
  }
  if (givenSides.length > 0 && rng.chance(0.3)) {
    return { kind: 'misread', step, side: rng.pick(givenSides), delta };
  }
  return { kind: 'arithmetic', step, delta };
}

/** Writes one strategy's solution. */
export function writeSolution(
  computation: SyntheticComputation,
  strategy: Strategy,
  style: SurfaceStyle,
  mistake?: TeacherMistake,
): WrittenSolution {
  switch (strategy) {
    case 'cot':
      return writeCot(computation, mistake);
    case 'l2m':
      return writeL2m(computation, style, mistake);
    case 'pot':
      return writePot(computation, style, mistake);
  }
}
