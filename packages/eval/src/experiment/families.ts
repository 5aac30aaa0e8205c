// Which strategy suits which problem family: each single-strategy student's accuracy per family,
// the family oracle (per family, the strategy whose student did best on the VALIDATION slice,
// scored on the test set), and what the multi-strategy students pick per family.
import { STRATEGIES, type Strategy } from '@siked/core';
import type { StrategyShares } from '../run/types';
import { meanStd, type ExperimentSummary, type MeanStd, type MethodResult } from './summarize';

/** How to read families and which rows to use. */
export interface FamilyTableOptions {
  /** The family of a problem of a seed's world; undefined leaves it out. */
  familyOf: (seed: number, problemId: string) => string | undefined;
  /** The method row (label) of each single-strategy student. */
  singleStrategyRows: Partial<Record<Strategy, string>>;
  /** Multi-strategy rows to show per family (labels). */
  methodRows: readonly string[];
  /** The split the oracle is chosen on (never the test set). */
  selectionSplit?: string;
}

/** One family's line. */
export interface FamilyRow {
  family: string;
  /** Test accuracy of each single-strategy student on the family. */
  single: Record<Strategy, MeanStd | null>;
  /** The best single strategy on the test set and its lead over the second best (0..1). */
  bestOnTest: { strategy: Strategy; margin: number } | null;
  /** How often (over seeds) each strategy was the validation-chosen oracle for the family. */
  oracleChoices: Record<Strategy, number>;
  /** Test accuracy of the validation-chosen strategy's student on the family. */
  oracleAccuracy: MeanStd | null;
  methods: Array<{ label: string; accuracy: MeanStd | null; shares: StrategyShares | null }>;
}

/** The whole table and its overall figures. */
export interface FamilyTable {
  rows: FamilyRow[];
  /** Per-family oracle over the whole test set, and the best single strategy (chosen on validation). */
  overall: {
    oracle: MeanStd | null;
    bestSingle: MeanStd | null;
    /** Per problem: any single-strategy student right (an upper bound, not a method). */
    anySingle: MeanStd | null;
  };
  /** Families where each strategy leads the other two by >= 10 points on test. */
  winsByTenPoints: Record<Strategy, string[]>;
}

type Graded = Array<{ family: string; correct: boolean; strategy: Strategy | null }>;

function graded(
  result: MethodResult,
  seed: number,
  split: string,
  familyOf: FamilyTableOptions['familyOf'],
): Graded | null {
  const pick = result.picks.find((p) => p.seed === seed);
  const records = pick?.run.predictions?.get(pick.iteration)?.get(split);
  if (!records) return null;
  return records.flatMap((r) => {
    const family = familyOf(seed, r.problemId);
    return family === undefined ? [] : [{ family, correct: r.correct, strategy: r.strategy }];
  });
}

const accuracyOn = (answers: Graded, family?: string) => {
  const kept = family === undefined ? answers : answers.filter((a) => a.family === family);
  return kept.length === 0 ? null : kept.filter((a) => a.correct).length / kept.length;
};

/** Builds the per-family table; null when no single-strategy row has graded answers. */
export function familyTable(
  summary: ExperimentSummary,
  options: FamilyTableOptions,
): FamilyTable | null {
  const selection = options.selectionSplit ?? 'validation';
  const test = summary.inDistribution;
  const byLabel = new Map(summary.methods.map((m) => [m.method.label, m]));
  const singles = STRATEGIES.flatMap((s) => {
    const row = options.singleStrategyRows[s];
    const result = row === undefined ? undefined : byLabel.get(row);
    return result ? [{ strategy: s, result }] : [];
  });
  if (singles.length === 0) return null;
  const seeds = summary.seeds.filter((seed) =>
    singles.every(({ result }) => graded(result, seed, test, options.familyOf) !== null),
  );
  if (seeds.length === 0) return null;
  const families = [
    ...new Set(
      seeds.flatMap((seed) =>
        graded(singles[0]!.result, seed, test, options.familyOf)!.map((a) => a.family),
      ),
    ),
  ];

  /** The single strategy whose student did best on the selection split (in `family`, if given). */
  const bestOnSelection = (seed: number, family?: string) => {
    let best: (typeof singles)[number] | null = null;
    let bestValue = -1;
    for (const candidate of singles) {
      const answers = graded(candidate.result, seed, selection, options.familyOf);
      const value = answers === null ? null : accuracyOn(answers, family);
      if (value !== null && value > bestValue) {
        best = candidate;
        bestValue = value;
      }
    }
    return best;
  };

  const rows: FamilyRow[] = [];
  const oraclePerSeed = new Map<number, { correct: number; total: number }>();
  for (const family of families) {
    const single = {} as Record<Strategy, MeanStd | null>;
    for (const s of STRATEGIES) single[s] = null;
    for (const { strategy, result } of singles) {
      single[strategy] = meanStd(
        seeds.flatMap((seed) => {
          const value = accuracyOn(graded(result, seed, test, options.familyOf)!, family);
          return value === null ? [] : [value];
        }),
      );
    }
    const ranked = singles
      .map(({ strategy }) => ({ strategy, mean: single[strategy]?.mean ?? -1 }))
      .sort((a, b) => b.mean - a.mean);
    const bestOnTest =
      ranked.length < 2
        ? null
        : { strategy: ranked[0]!.strategy, margin: ranked[0]!.mean - ranked[1]!.mean };

    const oracleChoices: Record<Strategy, number> = { cot: 0, l2m: 0, pot: 0 };
    const oracleValues: number[] = [];
    for (const seed of seeds) {
      const chosen = bestOnSelection(seed, family);
      if (chosen === null) continue;
      oracleChoices[chosen.strategy] += 1;
      const answers = graded(chosen.result, seed, test, options.familyOf)!.filter(
        (a) => a.family === family,
      );
      const tally = oraclePerSeed.get(seed) ?? { correct: 0, total: 0 };
      tally.correct += answers.filter((a) => a.correct).length;
      tally.total += answers.length;
      oraclePerSeed.set(seed, tally);
      const value = accuracyOn(answers);
      if (value !== null) oracleValues.push(value);
    }

    const methods = options.methodRows.flatMap((label) => {
      const result = byLabel.get(label);
      if (!result) return [];
      const perSeed = seeds.flatMap((seed) => {
        const answers = graded(result, seed, test, options.familyOf);
        const kept = answers?.filter((a) => a.family === family) ?? [];
        return kept.length === 0 ? [] : [kept];
      });
      const shareList = perSeed.map((kept) => {
        const shares = {} as StrategyShares;
        for (const s of STRATEGIES)
          shares[s] = kept.filter((a) => a.strategy === s).length / kept.length;
        return shares;
      });
      const shares =
        shareList.length === 0
          ? null
          : (Object.fromEntries(
              STRATEGIES.map((s) => [
                s,
                shareList.reduce((sum, x) => sum + x[s], 0) / shareList.length,
              ]),
            ) as StrategyShares);
      return [{ label, accuracy: meanStd(perSeed.map((kept) => accuracyOn(kept)!)), shares }];
    });
    rows.push({
      family,
      single,
      bestOnTest,
      oracleChoices,
      oracleAccuracy: meanStd(oracleValues),
      methods,
    });
  }

  // The best single strategy over all families, chosen per seed on the selection split.
  const bestSingle = seeds.flatMap((seed) => {
    const best = bestOnSelection(seed);
    return best === null ? [] : [accuracyOn(graded(best.result, seed, test, options.familyOf)!)!];
  });
  const anySingle = seeds.map((seed) => {
    const answerSets = singles.map(({ result }) => graded(result, seed, test, options.familyOf)!);
    const n = answerSets[0]!.length;
    let solved = 0;
    for (let i = 0; i < n; i += 1)
      if (answerSets.some((answers) => answers[i]?.correct)) solved += 1;
    return n === 0 ? 0 : solved / n;
  });
  const winsByTenPoints: Record<Strategy, string[]> = { cot: [], l2m: [], pot: [] };
  for (const row of rows) {
    if (row.bestOnTest && singles.length === 3 && row.bestOnTest.margin >= 0.1)
      winsByTenPoints[row.bestOnTest.strategy].push(row.family);
  }
  return {
    rows,
    overall: {
      oracle: meanStd(
        [...oraclePerSeed.values()].map((t) => (t.total === 0 ? 0 : t.correct / t.total)),
      ),
      bestSingle: meanStd(bestSingle),
      anySingle: meanStd(anySingle),
    },
    winsByTenPoints,
  };
}
