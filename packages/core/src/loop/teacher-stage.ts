// The teacher stage: D_LLM, verified and kept one per (question, strategy), appended as it arrives.
import { keepOnePerQuestionAndStrategy } from '../mixing/dedupe';
import { countStrategies } from '../mixing/statistics';
import { JsonlAppender, readJsonLinesTolerant } from '../teachers/jsonl-log';
import { STRATEGIES, type Solution } from '../types';
import { verifyAll } from '../verify';
import { writeJsonLinesAtomic } from './atomic';
import { writeManifest } from './manifest';
import type { StageContext, StageOutput } from './stage-context';

/**
 * Asks the teacher for every training question and strategy, chunk by chunk; verifies each chunk,
 * keeps one correct solution per (question, strategy) and appends it to teacher.jsonl at once
 * (the chunk is then recorded in the manifest). Ends by rewriting the file in canonical order.
 */
export async function teacherStage(ctx: StageContext): Promise<StageOutput> {
  const teacherFile = ctx.file('teacher.jsonl');
  const appender = await JsonlAppender.open(teacherFile);
  const chunk = ctx.settings.teacherChunkSize;
  try {
    for (const strategy of ctx.strategies) {
      for (let start = 0; start < ctx.trainPart.length; start += chunk) {
        const key = `${strategy}:${start / chunk}`;
        if (ctx.manifest.teacherChunksDone.includes(key)) continue;
        const problems = ctx.trainPart.slice(start, start + chunk);
        let answered = 0;
        const samples = await ctx.options.teacher.solve(
          problems,
          strategy,
          ctx.settings.teacherSamplesPerQuestion,
          {
            onProblemDone: () => {
              answered += 1;
              ctx.emit({
                type: 'teacher-answered',
                strategy,
                questionsDone: start + answered,
                questionsTotal: ctx.trainPart.length,
              });
            },
          },
        );
        const { solutions } = await verifyAll(
          samples.map((s) => ({ ...s, origin: 'teacher' as const, iteration: 0 })),
          problems,
          {
            runner: ctx.options.runner,
            timeoutMs: ctx.settings.verificationTimeoutMs,
            concurrency: ctx.settings.verificationConcurrency,
          },
        );
        const kept = keepOnePerQuestionAndStrategy(solutions);
        await appender.append(kept);
        ctx.manifest.teacherChunksDone.push(key);
        ctx.manifest.teacherChunkStats[key] = {
          samples: solutions.length,
          correct: solutions.filter((s) => s.correct).length,
          kept: kept.length,
        };
        await writeManifest(ctx.runDir, ctx.manifest);
        ctx.emit({
          type: 'teacher-progress',
          strategy,
          questionsDone: Math.min(start + chunk, ctx.trainPart.length),
          questionsTotal: ctx.trainPart.length,
          kept: kept.length,
        });
      }
    }
  } finally {
    await appender.close();
  }
  // A crash between an append and its manifest entry makes a chunk run twice; rewrite the file
  // in canonical order (strategy, then question) with one solution per (question, strategy).
  const { records } = await readJsonLinesTolerant(teacherFile);
  const order = new Map(ctx.trainPart.map((p, i) => [p.id, i]));
  const canonical = keepOnePerQuestionAndStrategy(records as Solution[]).sort(
    (a, b) =>
      STRATEGIES.indexOf(a.strategy) - STRATEGIES.indexOf(b.strategy) ||
      order.get(a.problemId)! - order.get(b.problemId)!,
  );
  await writeJsonLinesAtomic(teacherFile, canonical);
  const verification: Record<string, { samples: number; correct: number; passRate: number }> = {};
  for (const strategy of ctx.strategies) {
    const chunks = Object.entries(ctx.manifest.teacherChunkStats).filter(([key]) =>
      key.startsWith(`${strategy}:`),
    );
    const samples = chunks.reduce((sum, [, stats]) => sum + stats.samples, 0);
    const correct = chunks.reduce((sum, [, stats]) => sum + stats.correct, 0);
    verification[strategy] = {
      samples,
      correct,
      passRate: samples === 0 ? 0 : correct / samples,
    };
  }
  return {
    artefacts: ['teacher.jsonl'],
    details: {
      kept: canonical.length,
      byStrategy: countStrategies(canonical),
      questions: ctx.trainPart.length,
      verification,
    },
  };
}
