import { sampleSolutions, type PromptFormat } from '../student/sampling';
import type { TextSampler } from '../student/types';
import { STRATEGIES, type Problem, type ProgramRunner, type Strategy } from '../types';
import { answersMatch, flexibleMatch, strictMatch, verifyAll } from '../verify';

/** One graded evaluation answer. */
export interface EvaluationRecord {
  problemId: string;
  /** The strategy the student chose; null when its completion had no tag (counted wrong). */
  strategy: Strategy | null;
  text: string;
  /** SIKeD-style answer: extracted (CoT/L2M) or executed (PoT); null when none. */
  predicted: number | null;
  correct: boolean;
  error?: string;
  /** lm-evaluation-harness strict-match answer of the completion text (null: no match). */
  strict: number | null;
  /** lm-evaluation-harness flexible-extract answer (last number in the text). */
  flexible: number | null;
}

/** Usage and accuracy of one strategy in an evaluation. */
export interface StrategyUsage {
  count: number;
  /** Share of all items. */
  share: number;
  /** Accuracy among the items that used it; null when unused. */
  accuracy: number | null;
}

/**
 * Accuracy on one data set, in the shape @siked/eval reads from eval.json: every item is in the
 * denominator (an unparsed or untagged answer is wrong).
 */
export interface DatasetEvaluationSummary {
  total: number;
  correct: number;
  accuracy: number;
  /** Items with no answer (no tag, nothing extractable, program failed). */
  unparsed: number;
  /** Completions without a strategy tag. */
  untagged: number;
  byStrategy: Record<Strategy, StrategyUsage>;
  /** lm-evaluation-harness style: strict-match and flexible-extract accuracy on the raw completion. */
  strictAccuracy: number;
  flexibleAccuracy: number;
}

/** Settings of {@link evaluateOnProblems}. */
export interface EvaluationOptions {
  runner: ProgramRunner;
  maxNewTokens: number;
  /** Baselines force one strategy by appending its tag to the prompt. */
  forced?: Strategy;
  verificationTimeoutMs?: number;
  verificationConcurrency?: number;
  /** Questions per generation call. */
  chunkSize?: number;
  /** Told after each generation call: questions answered so far, of all. */
  onProgress?: (questionsDone: number, questionsTotal: number) => void;
}

/**
 * Greedy evaluation (METHOD.md "Evaluation protocol"): zero-shot with the training prompt, the
 * student picks its strategy, its answer is extracted (CoT/L2M) or executed (PoT) and compared
 * with the gold; the harness-style strict/flexible matches are computed on the same completions.
 */
export async function evaluateOnProblems(
  sampler: TextSampler,
  format: PromptFormat,
  problems: readonly Problem[],
  options: EvaluationOptions,
): Promise<{ records: EvaluationRecord[]; summary: DatasetEvaluationSummary }> {
  const chunkSize = options.chunkSize ?? 64;
  const samples = [];
  for (let start = 0; start < problems.length; start += chunkSize) {
    samples.push(
      ...(await sampleSolutions(sampler, format, problems.slice(start, start + chunkSize), {
        numSamples: 1,
        temperature: 0,
        topP: 1,
        maxNewTokens: options.maxNewTokens,
        seed: 0,
        forced: options.forced,
      })),
    );
    options.onProgress?.(Math.min(start + chunkSize, problems.length), problems.length);
  }
  const byId = new Map(problems.map((problem) => [problem.id, problem]));
  const tagged = samples.filter((sample) => sample.strategy !== null);
  const { solutions } = await verifyAll(
    tagged.map((sample) => ({
      problemId: sample.problemId,
      strategy: sample.strategy!,
      text: sample.text,
      origin: 'student' as const,
    })),
    byId,
    {
      runner: options.runner,
      timeoutMs: options.verificationTimeoutMs,
      concurrency: options.verificationConcurrency,
    },
  );
  let next = 0;
  const records = samples.map((sample): EvaluationRecord => {
    const strict = strictMatch(sample.text);
    const flexible = flexibleMatch(sample.text);
    if (sample.strategy === null) {
      return {
        problemId: sample.problemId,
        strategy: null,
        text: sample.text,
        predicted: null,
        correct: false,
        error: sample.error,
        strict,
        flexible,
      };
    }
    const solution = solutions[next++]!;
    const record: EvaluationRecord = {
      problemId: sample.problemId,
      strategy: sample.strategy,
      text: sample.text,
      predicted: solution.predicted,
      correct: solution.correct,
      strict,
      flexible,
    };
    if (solution.error !== undefined) record.error = solution.error;
    return record;
  });
  return { records, summary: summarizeEvaluation(records, problems) };
}

/** Tallies graded records; `problems` gives the golds for the strict/flexible matches. */
export function summarizeEvaluation(
  records: readonly EvaluationRecord[],
  problems: readonly Problem[],
): DatasetEvaluationSummary {
  const gold = new Map(problems.map((problem) => [problem.id, problem.answer]));
  const total = records.length;
  const correct = records.filter((r) => r.correct).length;
  const byStrategy = {} as Record<Strategy, StrategyUsage>;
  for (const strategy of STRATEGIES) {
    const used = records.filter((r) => r.strategy === strategy);
    byStrategy[strategy] = {
      count: used.length,
      share: total === 0 ? 0 : used.length / total,
      accuracy: used.length === 0 ? null : used.filter((r) => r.correct).length / used.length,
    };
  }
  const matches = (value: number | null, id: string) =>
    value !== null && answersMatch(value, gold.get(id)!);
  return {
    total,
    correct,
    accuracy: total === 0 ? 0 : correct / total,
    unparsed: records.filter((r) => r.predicted === null).length,
    untagged: records.filter((r) => r.strategy === null).length,
    byStrategy,
    strictAccuracy:
      total === 0 ? 0 : records.filter((r) => matches(r.strict, r.problemId)).length / total,
    flexibleAccuracy:
      total === 0 ? 0 : records.filter((r) => matches(r.flexible, r.problemId)).length / total,
  };
}
