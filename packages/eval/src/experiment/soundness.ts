// Right for the wrong reason: of each method's right answers on the test set, the share whose
// working fails a check (a false equation in CoT/L2M, a program variable named after something
// the question does not mention). Accuracy alone cannot tell a student that reasons from one
// that lands on the answer; verification by answer, as in the reference, lets the second kind
// into SIKeD's own training data (docs/SYNTHETIC_WORLD.md).
import { workingViolation } from '@siked/core';
import { meanStd, type ExperimentSummary, type MeanStd } from './summarize';

/** One method's line. */
export interface SoundnessRow {
  label: string;
  /** Right answers on the test set, summed over seeds. */
  correct: number;
  /** Share of a seed's right answers with unsound working, over seeds. */
  unsoundShare: MeanStd;
  /** Right CoT/L2M answers with a false equation, summed over seeds. */
  falseEquations: number;
  /** Right PoT answers with a variable named after something not in the question, summed. */
  ungroundedNames: number;
}

/**
 * The soundness of every method's right test answers. `questionOf` gives a problem's question
 * (for the names check); answers without their text (older runs) or whose question is unknown
 * are left out. Null when no method has texts.
 */
export function soundnessTable(
  summary: ExperimentSummary,
  questionOf: (seed: number, problemId: string) => string | undefined,
): SoundnessRow[] | null {
  const rows: SoundnessRow[] = [];
  for (const result of summary.methods) {
    let correct = 0;
    let falseEquations = 0;
    let ungroundedNames = 0;
    const shares: number[] = [];
    for (const pick of result.picks) {
      const records = pick.run.predictions?.get(pick.iteration)?.get(summary.inDistribution);
      let seedCorrect = 0;
      let seedUnsound = 0;
      for (const record of records ?? []) {
        if (!record.correct || record.text === undefined || record.strategy === null) continue;
        const question = questionOf(pick.seed, record.problemId);
        if (question === undefined) continue;
        seedCorrect += 1;
        if (workingViolation(record.strategy, record.text, question) === null) continue;
        seedUnsound += 1;
        if (record.strategy === 'pot') ungroundedNames += 1;
        else falseEquations += 1;
      }
      if (seedCorrect === 0) continue;
      correct += seedCorrect;
      shares.push(seedUnsound / seedCorrect);
    }
    if (shares.length === 0) continue;
    rows.push({
      label: result.method.label,
      correct,
      unsoundShare: meanStd(shares)!,
      falseEquations,
      ungroundedNames,
    });
  }
  return rows.length === 0 ? null : rows;
}
