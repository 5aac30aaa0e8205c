// The computation every synthetic problem carries in `meta.computation`: the list of arithmetic
// steps that solves it (and, for "unknown start" problems, the forward equation). The teacher
// writes all three strategies from this, so a solution is right exactly when it follows it.
import { z } from 'zod';
import type { Problem } from '../types';

/** The problem families of the synthetic world (docs/SYNTHETIC_WORLD.md describes each). */
export type SyntheticFamily =
  'rates' | 'sharing' | 'shopping' | 'comparison' | 'totals' | 'unknown-start';

/** Every family, in the order reports list them. */
export const SYNTHETIC_FAMILIES: readonly SyntheticFamily[] = [
  'rates',
  'sharing',
  'shopping',
  'comparison',
  'totals',
  'unknown-start',
];

/** An arithmetic operator as written in solutions (and in Python). */
export type Operator = '+' | '-' | '*' | '/';

/** An operand: a number stated in the question, or the result of an earlier step. */
export type Operand = { kind: 'given'; value: number } | { kind: 'step'; index: number };

/** One reasoning step: `left operator right`, with the words each strategy uses to present it. */
export interface ComputationStep {
  /** Python variable the program-of-thought solution assigns (later steps may reassign it). */
  name: string;
  operator: Operator;
  left: Operand;
  right: Operand;
  /** Chain-of-thought sentence; `{expr}` marks where `a op b = result` goes. */
  statement: string;
  /** Least-to-most sub-question this step answers. */
  subQuestion: string;
  /** The step's correct result. */
  value: number;
}

/** A forward equation in one unknown `x`: `((x op1 v1) op2 v2) ... = result`. */
export interface ForwardEquation {
  operations: Array<{ operator: '+' | '-'; value: number }>;
  result: number;
}

/** The whole computation of one problem. */
export interface SyntheticComputation {
  family: SyntheticFamily;
  steps: ComputationStep[];
  /** Present for equation-style problems; program-of-thought then solves it with sympy. */
  equation?: ForwardEquation;
  /** The gold answer: the last step's value. */
  answer: number;
}

/** Problem.meta of a synthetic problem. */
export interface SyntheticProblemMeta {
  family: SyntheticFamily;
  /** Number of reasoning steps (= computation.steps.length). */
  steps: number;
  /** Whether the question used the phrasings held out for the `ood-phrasing` split. */
  phrasing: 'seen' | 'unseen';
  /** Number of irrelevant sentences with numbers inserted into the question. */
  distractors: number;
  computation: SyntheticComputation;
}

const operandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('given'), value: z.number() }),
  z.object({ kind: z.literal('step'), index: z.number().int().nonnegative() }),
]);

const computationSchema = z.object({
  family: z.enum(SYNTHETIC_FAMILIES as [SyntheticFamily, ...SyntheticFamily[]]),
  steps: z
    .array(
      z.object({
        name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
        operator: z.enum(['+', '-', '*', '/']),
        left: operandSchema,
        right: operandSchema,
        statement: z.string().includes('{expr}'),
        subQuestion: z.string().min(1),
        value: z.number(),
      }),
    )
    .min(1),
  equation: z
    .object({
      operations: z.array(z.object({ operator: z.enum(['+', '-']), value: z.number() })).min(1),
      result: z.number(),
    })
    .optional(),
  answer: z.number(),
});

/** Applies one operator. */
export function applyOperator(operator: Operator, left: number, right: number): number {
  switch (operator) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      return left / right;
  }
}

/**
 * Evaluates the steps in order. `override` lets the teacher model a mistake: it may replace the
 * value of a given operand or the result of a step, and every later step then builds on the
 * wrong number, exactly as a real slip propagates.
 */
export function evaluateSteps(
  steps: readonly ComputationStep[],
  override?: (
    stepIndex: number,
    operands: [number, number],
    result: number,
  ) => {
    operands: [number, number];
    result: number;
  },
): Array<{ operands: [number, number]; result: number }> {
  const evaluated: Array<{ operands: [number, number]; result: number }> = [];
  const read = (operand: Operand, at: number): number => {
    if (operand.kind === 'given') return operand.value;
    if (operand.index >= at) throw new Error(`step ${at} refers to a later step ${operand.index}`);
    return evaluated[operand.index].result;
  };
  steps.forEach((step, index) => {
    const operands: [number, number] = [read(step.left, index), read(step.right, index)];
    const result = applyOperator(step.operator, operands[0], operands[1]);
    evaluated.push(override ? override(index, operands, result) : { operands, result });
  });
  return evaluated;
}

/** Solves a forward equation for its unknown. */
export function solveForwardEquation(equation: ForwardEquation): number {
  let value = equation.result;
  for (let index = equation.operations.length - 1; index >= 0; index--) {
    const { operator, value: amount } = equation.operations[index];
    value = operator === '+' ? value - amount : value + amount;
  }
  return value;
}

/**
 * Reads and checks the computation of a synthetic problem. Throws an error naming the problem
 * and the field when `meta.computation` is missing, malformed or disagrees with the gold answer,
 * so a problem file edited by hand cannot silently teach wrong solutions.
 */
export function readSyntheticComputation(problem: Problem): SyntheticComputation {
  const raw = problem.meta?.computation;
  if (raw === undefined) {
    throw new Error(
      `problem ${problem.id}: meta.computation is missing (the synthetic teacher can only solve problems from the synthetic generator)`,
    );
  }
  const parsed = computationSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `problem ${problem.id}: meta.computation.${issue.path.join('.')}: ${issue.message}`,
    );
  }
  const computation = parsed.data as SyntheticComputation;
  const evaluated = evaluateSteps(computation.steps);
  computation.steps.forEach((step, index) => {
    if (!numbersEqual(evaluated[index].result, step.value)) {
      throw new Error(
        `problem ${problem.id}: meta.computation.steps.${index}.value is ${step.value} but the step computes ${evaluated[index].result}`,
      );
    }
  });
  const last = evaluated[evaluated.length - 1].result;
  if (!numbersEqual(last, computation.answer) || !numbersEqual(last, problem.answer)) {
    throw new Error(
      `problem ${problem.id}: answer ${problem.answer} disagrees with meta.computation (computes ${last})`,
    );
  }
  if (computation.equation && !numbersEqual(solveForwardEquation(computation.equation), last)) {
    throw new Error(
      `problem ${problem.id}: meta.computation.equation does not solve to the answer`,
    );
  }
  return computation;
}

function numbersEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** How solutions print a number: integers plainly, other values with at most 4 decimals. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(4)));
}
