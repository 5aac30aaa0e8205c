// Iteration t >= 1: the student samples its own solutions, they are verified, then mixed with D_LLM.
import * as path from 'node:path';
import { dedupeSolutions, keepOnePerQuestionAndStrategy } from '../mixing/dedupe';
import { mixTrainingSet } from '../mixing/mix';
import { countStrategies } from '../mixing/statistics';
import { sampleSolutions } from '../student/sampling';
import type { Solution, Strategy } from '../types';
import { verifyAll } from '../verify';
import { readJsonLines, writeJsonLinesAtomic } from './atomic';
import type { SampleRecord } from './records';
import { derivedSeed, iterationDir, type StageContext, type StageOutput } from './stage-context';

/**
 * Iteration t's self-generation: the previous student samples k solutions per training question
 * (in process, or on the run's student server), each is verified; all go to samples.jsonl.
 */
export async function sampleStage(ctx: StageContext, t: number): Promise<StageOutput> {
  const { sampler, release } = await ctx.samplerFor(t - 1, 'self-generation');
  try {
    const chunk = ctx.settings.samplingChunkSize;
    const seed = derivedSeed(ctx.settings.seed, t, 1);
    const records: SampleRecord[] = [];
    for (let start = 0; start < ctx.trainPart.length; start += chunk) {
      const problems = ctx.trainPart.slice(start, start + chunk);
      const samples = await sampleSolutions(sampler, ctx.options.format, problems, {
        numSamples: ctx.settings.selfSamples,
        temperature: ctx.settings.temperature,
        topP: ctx.settings.topP,
        maxNewTokens: ctx.settings.maxNewTokens,
        seed: (seed + start) >>> 0,
        forced: ctx.settings.forcedStrategy,
      });
      const tagged = samples.filter((s) => s.strategy !== null);
      const { solutions } = await verifyAll(
        tagged.map((s) => ({
          problemId: s.problemId,
          strategy: s.strategy!,
          text: s.text,
          origin: 'student' as const,
          iteration: t,
        })),
        problems,
        {
          runner: ctx.options.runner,
          timeoutMs: ctx.settings.verificationTimeoutMs,
          concurrency: ctx.settings.verificationConcurrency,
          workingChecks: ctx.settings.selfWorkingChecks,
        },
      );
      let next = 0;
      for (const sample of samples) {
        const base = {
          problemId: sample.problemId,
          sampleIndex: sample.sampleIndex,
          origin: 'student' as const,
          iteration: t,
          finishReason: sample.finishReason,
        };
        if (sample.strategy === null) {
          records.push({
            ...base,
            strategy: null,
            text: sample.text,
            predicted: null,
            correct: false,
            error: sample.error,
          });
          continue;
        }
        const solution = solutions[next++]!;
        const record: SampleRecord = {
          ...base,
          strategy: sample.strategy,
          text: sample.text,
          predicted: solution.predicted,
          correct: solution.correct,
        };
        if (solution.error !== undefined) record.error = solution.error;
        records.push(record);
      }
      ctx.emit({
        type: 'sample-progress',
        iteration: t,
        questionsDone: Math.min(start + chunk, ctx.trainPart.length),
        questionsTotal: ctx.trainPart.length,
      });
    }
    const relative = path.join(iterationDir(t), 'samples.jsonl');
    await writeJsonLinesAtomic(ctx.file(relative), records);
    const correct = records.filter((r) => r.correct).length;
    return {
      artefacts: [relative],
      details: {
        samples: records.length,
        correct,
        untagged: records.filter((r) => r.strategy === null).length,
        byStrategy: countStrategies(
          records.filter((r): r is SampleRecord & { strategy: Strategy } => r.strategy !== null),
        ),
      },
    };
  } finally {
    release();
  }
}

/**
 * Iteration t's training set: D_LLM alone for t = 0; otherwise the student's correct samples
 * (de-duplicated, one per question and strategy) mixed with D_LLM (sparse or all).
 */
export async function mixStage(ctx: StageContext, t: number): Promise<StageOutput> {
  const teacher = await ctx.teacherSolutions();
  const dir = iterationDir(t);
  if (t === 0) {
    const relative = path.join(dir, 'train.jsonl');
    await writeJsonLinesAtomic(ctx.file(relative), teacher);
    return {
      artefacts: [relative],
      details: { alpha: null, examples: teacher.length, byStrategy: countStrategies(teacher) },
    };
  }
  const samples = await readJsonLines<SampleRecord>(ctx.file(dir, 'samples.jsonl'));
  const allowed = new Set(ctx.strategies);
  const correctSelf = samples
    .filter(
      (s): s is SampleRecord & { strategy: Strategy } =>
        s.correct && s.strategy !== null && allowed.has(s.strategy),
    )
    .map((s): Solution => ({
      problemId: s.problemId,
      strategy: s.strategy,
      origin: 'student',
      iteration: t,
      text: s.text,
      predicted: s.predicted,
      correct: true,
    }));
  const distinct = dedupeSolutions(correctSelf);
  const self = keepOnePerQuestionAndStrategy(distinct);
  const mixed = mixTrainingSet({
    mode: ctx.settings.mixing,
    teacherSolutions: teacher,
    selfSolutions: self,
    problemIds: ctx.trainPart.map((p) => p.id),
  });
  await writeJsonLinesAtomic(ctx.file(dir, 'self.jsonl'), self);
  await writeJsonLinesAtomic(ctx.file(dir, 'train.jsonl'), mixed.examples);
  return {
    artefacts: [path.join(dir, 'self.jsonl'), path.join(dir, 'train.jsonl')],
    details: {
      alpha: mixed.alpha,
      examples: mixed.examples.length,
      teacherPart: mixed.teacherPart.length,
      selfPart: mixed.selfPart.length,
      distinctCorrectSamples: distinct.length,
      unsolvedQuestions: mixed.unsolvedProblemIds.length,
      byStrategy: countStrategies(mixed.examples),
    },
  };
}
