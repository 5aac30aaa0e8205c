// The arms of `siked experiment`: what each one trains, the table rows it contributes and the
// comparisons the page makes. One definition per arm, so the settings, the labels and the docs
// never drift apart.
import { STRATEGIES, type RunSettingsInput, type Strategy } from '@siked/core';
import { STRATEGY_LABELS, type ComparisonSpec, type MethodSpec } from '@siked/eval';

/** Every arm, in the order they run (each may depend on the ones before). */
export const ARMS = [
  'siked-sparse',
  'siked-all',
  'combined-continue',
  'cot',
  'l2m',
  'pot',
  'self-only',
  'sparse-per-question',
  'siked-sparse-restart',
  'siked-sparse-checked',
] as const;
export type Arm = (typeof ARMS)[number];

/**
 * The default comparison: both of the paper's mixing rules, the compute-matched control and the
 * step-matched single-strategy baselines (10 seeds of these took 63 minutes on 2 cores,
 * docs/RESULTS.md). The ablations run on request.
 */
export const DEFAULT_ARMS: readonly Arm[] = [
  'siked-sparse',
  'siked-all',
  'combined-continue',
  'cot',
  'l2m',
  'pot',
];

/** What the arms measured before this one supply: the step counts it is matched to. */
export interface StepTargets {
  /** Optimizer steps of siked-sparse's iterations 0..T (iteration 0 = combined distillation). */
  sparseIterationSteps: number[] | null;
}

interface ArmDefinition {
  /** Table label of the arm's loop rows (SIKeD-like arms) or single row. */
  label: string;
  /** Single-strategy baselines force one strategy and run iteration 0 only. */
  strategy?: Strategy;
  /** Loop arms fork siked-sparse's iteration 0 (shared teacher data and combined student). */
  forksIteration0: boolean;
  settings(base: RunSettingsInput, iterations: number, targets: StepTargets): RunSettingsInput;
  /** The arms that must run first (for the fork or the step targets). */
  needs: readonly Arm[];
}

const loopArm = (
  label: string,
  mixing: NonNullable<RunSettingsInput['mixing']>,
  extra: Partial<RunSettingsInput> = {},
): ArmDefinition => ({
  label,
  forksIteration0: true,
  needs: ['siked-sparse'],
  settings: (base, iterations) => ({
    ...base,
    ...extra,
    iterations,
    mixing,
    // Every iteration is reported; the validation choice is a row of its own.
    earlyStopping: false,
  }),
});

const singleArm = (strategy: Strategy): ArmDefinition => ({
  label: `${STRATEGY_LABELS[strategy]} only`,
  strategy,
  forksIteration0: false,
  needs: ['siked-sparse'],
  // As many optimizer steps as combined distillation (one strategy's data is a third as big).
  settings: (base, _iterations, targets) => ({
    ...base,
    strategies: [strategy],
    forcedStrategy: strategy,
    iterations: 0,
    stepsPerIteration: [targets.sparseIterationSteps![0]!],
  }),
});

export const ARM_DEFINITIONS: Readonly<Record<Arm, ArmDefinition>> = {
  'siked-sparse': { ...loopArm('SIKeD-sparse', 'sparse'), forksIteration0: false, needs: [] },
  'siked-all': loopArm('SIKeD-all', 'all'),
  'combined-continue': {
    label: 'Combined-continue',
    forksIteration0: true,
    needs: ['siked-sparse'],
    // D_LLM alone, continuing from the last student, for exactly the steps of SIKeD-sparse's
    // matching iteration: "more training" without the student's own data.
    settings: (base, iterations, targets) => ({
      ...base,
      iterations,
      mixing: 'teacher-only',
      earlyStopping: false,
      stepsPerIteration: [null, ...targets.sparseIterationSteps!.slice(1, iterations + 1)],
    }),
  },
  cot: singleArm('cot'),
  l2m: singleArm('l2m'),
  pot: singleArm('pot'),
  'self-only': loopArm('SIKeD self-only', 'self-only'),
  'sparse-per-question': loopArm('SIKeD sparse per question', 'sparse-per-question'),
  'siked-sparse-restart': loopArm('SIKeD-sparse restart', 'sparse', { studentInit: 'restart' }),
  // The student's right answers count only with sound working: no false equation in prose, no
  // program variable named after something the question does not mention (the diagnosis in
  // docs/SYNTHETIC_WORLD.md of why SIKeD-sparse trails its control, put to the test).
  'siked-sparse-checked': loopArm('SIKeD-sparse, checked working', 'sparse', {
    selfWorkingChecks: ['arithmetic', 'grounded-names'],
  }),
};

/** Table rows: single-strategy baselines, combined distillation, then every loop arm's iterations. */
export function methodRows(arms: readonly Arm[], iterations: number): MethodSpec[] {
  const rows: MethodSpec[] = [];
  for (const arm of arms) {
    const definition = ARM_DEFINITIONS[arm];
    if (definition.strategy) rows.push({ label: definition.label, arm, iteration: 0 });
  }
  const loopArms = arms.filter((arm) => ARM_DEFINITIONS[arm].strategy === undefined);
  if (loopArms.length > 0)
    rows.push({ label: COMBINED, arm: loopArms[0]!, iteration: 0, loop: true });
  for (const arm of loopArms) {
    const { label } = ARM_DEFINITIONS[arm];
    for (let t = 1; t <= iterations; t += 1)
      rows.push({ label: `${label}, iteration ${t}`, arm, iteration: t, loop: true });
    rows.push({ label: chosen(arm), arm, iteration: 'best' });
  }
  return rows;
}

/** The combined-distillation row (iteration 0 of the loop arms). */
export const COMBINED = 'Combined (iteration 0)';
/** The validation-chosen row of an arm. */
export const chosen = (arm: Arm) => `${ARM_DEFINITIONS[arm].label}, chosen on validation`;

/**
 * The comparisons of the page: each SIKeD arm (chosen on validation) minus combined
 * distillation, the compute-matched control (chosen the same way, and at the last iteration,
 * where the steps are equal), each single-strategy baseline and, for the other loop arms,
 * SIKeD-sparse.
 */
export function comparisonSpecs(arms: readonly Arm[], iterations: number): ComparisonSpec[] {
  const specs: ComparisonSpec[] = [];
  const treatments = arms.filter(
    (arm) => ARM_DEFINITIONS[arm].strategy === undefined && arm !== 'combined-continue',
  );
  for (const arm of treatments) {
    specs.push({ treatment: chosen(arm), control: COMBINED });
    if (arms.includes('combined-continue')) {
      specs.push({ treatment: chosen(arm), control: chosen('combined-continue') });
      if (arm === 'siked-sparse') {
        specs.push({
          treatment: `${ARM_DEFINITIONS[arm].label}, iteration ${iterations}`,
          control: `${ARM_DEFINITIONS['combined-continue'].label}, iteration ${iterations}`,
        });
      }
    }
    for (const s of STRATEGIES)
      if (arms.includes(s))
        specs.push({ treatment: chosen(arm), control: ARM_DEFINITIONS[s].label });
    // Every other loop arm changes one thing of SIKeD-sparse (the mixing rule, the start, the
    // checks): its effect is the difference from SIKeD-sparse itself.
    if (arm !== 'siked-sparse')
      specs.push({ treatment: chosen(arm), control: chosen('siked-sparse') });
  }
  return specs;
}

/** Checks an --arms list and returns it in run order (dependencies first). */
export function orderArms(requested: readonly string[]): {
  arms: Arm[];
  unknown: string[];
  missing: string[];
} {
  const unknown = requested.filter((name) => !(ARMS as readonly string[]).includes(name));
  const arms = ARMS.filter((arm) => requested.includes(arm));
  const missing = [
    ...new Set(arms.flatMap((arm) => ARM_DEFINITIONS[arm].needs.filter((n) => !arms.includes(n)))),
  ];
  return { arms, unknown, missing };
}
