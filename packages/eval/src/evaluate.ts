// Zero-shot evaluation as METHOD.md's protocol has it: greedy decoding with the training prompt,
// the student picks its strategy (or one is forced), every item counts (an unparsed or untagged
// answer is wrong), PoT programs are executed, and the lm-evaluation-harness strict/flexible
// numbers are reported beside SIKeD's.
import {
  harnessAccuracy,
  sampleSolutions,
  verifyAll,
  type CandidateSolution,
  type Problem,
  type ProgramRunner,
  type PromptFormat,
  type Strategy,
  type TextSampler,
} from '@siked/core';
import { summarizeAccuracy, type AccuracySummary } from './accuracy';

/** One evaluated item, as written to a predictions JSONL file. */
export interface EvaluatedPrediction {
  problemId: string;
  gold: number;
  /** The strategy the student used; null when its completion had no strategy tag. */
  strategy: Strategy | null;
  /** The solution text (tag removed). */
  text: string;
  predicted: number | null;
  correct: boolean;
  /** Why no (right) answer was obtained, when that happened; null otherwise. */
  error: string | null;
  finishReason: 'stop' | 'length';
}

/** Options of {@link evaluateOnProblems}. */
export interface EvaluationOptions {
  /** Runs PoT programs (required when the student may write PoT). */
  runner?: ProgramRunner;
  /** Force one strategy (the tag is appended to the prompt); default: the student chooses. */
  forced?: Strategy;
  /** Default 512 (METHOD.md). */
  maxNewTokens?: number;
  /** Problems per generation call (progress is reported per chunk). Default 64. */
  chunkSize?: number;
  /** Per-program time limit for PoT. */
  timeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The outcome of an evaluation. */
export interface EvaluationResult {
  predictions: EvaluatedPrediction[];
  /** SIKeD-style accuracy with per-strategy usage and accuracy. */
  accuracy: AccuracySummary;
  /** lm-evaluation-harness style strict (`#### N` / "The answer is N") and flexible (last number) matches. */
  harness: { strict: number; flexible: number; total: number };
}

/** Greedy zero-shot evaluation of `sampler` on `problems` (see the module comment). */
export async function evaluateOnProblems(
  sampler: TextSampler,
  format: PromptFormat,
  problems: readonly Problem[],
  options: EvaluationOptions = {},
): Promise<EvaluationResult> {
  const chunkSize = options.chunkSize ?? 64;
  const predictions: EvaluatedPrediction[] = [];
  const harnessItems: Array<{ text: string; gold: number }> = [];
  for (let start = 0; start < problems.length; start += chunkSize) {
    const chunk = problems.slice(start, start + chunkSize);
    const samples = await sampleSolutions(sampler, format, chunk, {
      numSamples: 1,
      temperature: 0,
      topP: 1,
      maxNewTokens: options.maxNewTokens ?? 512,
      seed: 0,
      forced: options.forced,
    });
    const byId = new Map(chunk.map((problem) => [problem.id, problem]));
    const tagged = samples.filter((sample) => sample.strategy !== null);
    const candidates: CandidateSolution[] = tagged.map((sample) => ({
      problemId: sample.problemId,
      strategy: sample.strategy!,
      text: sample.text,
      origin: 'student',
    }));
    const { solutions } = await verifyAll(candidates, byId, {
      runner: options.runner,
      timeoutMs: options.timeoutMs,
    });
    let next = 0;
    for (const sample of samples) {
      const gold = byId.get(sample.problemId)!.answer;
      harnessItems.push({ text: sample.text, gold });
      if (sample.strategy === null) {
        predictions.push({
          problemId: sample.problemId,
          gold,
          strategy: null,
          text: sample.text,
          predicted: null,
          correct: false,
          error: sample.error ?? 'no strategy tag',
          finishReason: sample.finishReason,
        });
        continue;
      }
      const solution = solutions[next++];
      predictions.push({
        problemId: sample.problemId,
        gold,
        strategy: solution.strategy,
        text: solution.text,
        predicted: solution.predicted,
        correct: solution.correct,
        error: solution.error ?? null,
        finishReason: sample.finishReason,
      });
    }
    options.onProgress?.(Math.min(start + chunkSize, problems.length), problems.length);
  }
  return {
    predictions,
    accuracy: summarizeAccuracy(predictions),
    harness: harnessAccuracy(harnessItems),
  };
}
