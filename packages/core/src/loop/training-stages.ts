// Every iteration: fine-tune on the mixed set, then evaluate the new student.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { countStrategies, strategyDistribution, type StrategyCounts } from '../mixing/statistics';
import { composeAdapters, readPeftAdapter, writePeftAdapter } from '../student/peft-adapter';
import type { Student, TrainingExample } from '../student/types';
import { JsonlAppender } from '../teachers/jsonl-log';
import type { Problem, Solution, Strategy } from '../types';
import { readJsonLines, writeDirAtomic, writeJsonAtomic, writeJsonLinesAtomic } from './atomic';
import { evaluateOnProblems, type DatasetEvaluationSummary } from './evaluate';
import type { IterationEvaluation, SampleRecord } from './records';
import { strategyDynamics } from './strategy-dynamics';
import {
  ADAPTER_FROM_BASE,
  VALIDATION,
  derivedSeed,
  iterationDir,
  type StageContext,
  type StageOutput,
} from './stage-context';

/**
 * Fine-tunes the student (iteration 0 and restart-from-base: the base model; otherwise the
 * previous iteration's) on train.jsonl and writes the checkpoint atomically to model/.
 */
export async function trainStage(ctx: StageContext, t: number): Promise<StageOutput> {
  const dir = iterationDir(t);
  const solutions = await readJsonLines<Solution>(ctx.file(dir, 'train.jsonl'));
  const byId = new Map(ctx.trainPart.map((p) => [p.id, p]));
  const examples: TrainingExample[] = solutions.map((s) => ({
    prompt: ctx.options.format.renderPrompt(byId.get(s.problemId)!.question),
    target: ctx.options.format.renderTarget(s.strategy, s.text),
  }));
  const fromBase = t === 0 || ctx.settings.studentInit === 'restart';
  const student = await ctx.loadStudent(fromBase ? 'base' : t - 1);
  const metrics = await JsonlAppender.open(ctx.file('metrics.jsonl'));
  const appends: Array<Promise<void>> = [];
  try {
    const steps = ctx.settings.stepsPerIteration?.[t];
    const schedule = {
      ...ctx.settings.training,
      seed: derivedSeed(ctx.settings.seed, t, 2),
      ...(steps === undefined || steps === null ? {} : { steps }),
    };
    const summary = await student.train(examples, schedule, (progress) => {
      appends.push(metrics.append([{ kind: 'train', iteration: t, ...progress }]));
      ctx.emit({ type: 'train-step', iteration: t, ...progress });
    });
    await Promise.all(appends);
    await writeDirAtomic(ctx.file(dir, 'model'), (temporary) => student.save(temporary));
    const adapters = await exportAdapters(ctx, t, fromBase, student);
    return {
      artefacts: [path.join(dir, 'model'), ...adapters],
      details: {
        steps: summary.steps,
        examples: summary.examples,
        truncatedExamples: summary.truncatedExamples,
        paddingShare: summary.paddingShare,
        droppedExamples: summary.droppedExamples,
        finalLoss: summary.finalLoss,
      },
    };
  } finally {
    await Promise.allSettled(appends);
    await metrics.close();
    student.dispose();
  }
}

/**
 * With LoRA, keeps iteration t's adapter (adapter/, relative to the model it started from) and
 * the adapter that turns the BASE model into this student (adapter-from-base/: this one composed
 * with the previous iteration's, ranks adding up), which a server holding only M0 (vLLM with
 * runtime LoRA) loads to sample from this iteration's student. Nothing for full fine-tuning.
 */
async function exportAdapters(
  ctx: StageContext,
  t: number,
  fromBase: boolean,
  student: Student,
): Promise<string[]> {
  const dir = iterationDir(t);
  const own = student.trainedAdapter?.();
  if (!own) return [];
  await writeDirAtomic(ctx.file(dir, 'adapter'), (temporary) => writePeftAdapter(temporary, own));
  const previousDir = ctx.file(iterationDir(t - 1), ADAPTER_FROM_BASE);
  // A run begun before adapters were kept has no earlier one: no from-base adapter then.
  if (!fromBase && !existsSync(previousDir)) return [path.join(dir, 'adapter')];
  const previous = fromBase ? [] : [await readPeftAdapter(previousDir)];
  const composed = composeAdapters([...previous, own], `iteration ${t} adapters`);
  await writeDirAtomic(ctx.file(dir, ADAPTER_FROM_BASE), (temporary) =>
    writePeftAdapter(temporary, composed),
  );
  return [path.join(dir, 'adapter'), path.join(dir, ADAPTER_FROM_BASE)];
}

/**
 * Greedy evaluation of iteration t's checkpoint on the validation slice and every evaluation set;
 * writes the graded answers and eval.json (accuracy, greedy strategy shares, and the Figure 2
 * quantities: P_L, P_SM, P_train, alpha, KL(P_train || P_SM)).
 */
export async function evalStage(ctx: StageContext, t: number): Promise<StageOutput> {
  const dir = iterationDir(t);
  const { sampler, release } = await ctx.samplerFor(t, 'evaluation');
  const datasets: Record<string, DatasetEvaluationSummary> = {};
  const artefacts: string[] = [];
  let validationCounts: StrategyCounts = { cot: 0, l2m: 0, pot: 0 };
  try {
    const sets: Array<[string, readonly Problem[]]> = [
      [VALIDATION, ctx.validation],
      ...Object.entries(ctx.options.evalSets ?? {}),
    ];
    for (const [name, problems] of sets) {
      const { records, summary } = await evaluateOnProblems(sampler, ctx.options.format, problems, {
        runner: ctx.options.runner,
        maxNewTokens: ctx.settings.maxNewTokens,
        forced: ctx.settings.forcedStrategy,
        verificationTimeoutMs: ctx.settings.verificationTimeoutMs,
        verificationConcurrency: ctx.settings.verificationConcurrency,
        chunkSize: ctx.settings.samplingChunkSize,
        onProgress: (questionsDone, questionsTotal) =>
          ctx.emit({
            type: 'eval-progress',
            iteration: t,
            dataset: name,
            questionsDone,
            questionsTotal,
          }),
      });
      const relative = path.join(dir, `eval-${name}.jsonl`);
      await writeJsonLinesAtomic(ctx.file(relative), records);
      artefacts.push(relative);
      datasets[name] = summary;
      if (name === VALIDATION)
        validationCounts = countStrategies(
          records.filter((r): r is typeof r & { strategy: Strategy } => r.strategy !== null),
        );
      ctx.emit({
        type: 'eval-result',
        iteration: t,
        dataset: name,
        accuracy: summary.accuracy,
        total: summary.total,
      });
    }
  } finally {
    release();
  }
  const mixDetails = ctx.manifest.stages[`${dir}/mix`]?.details;
  const trainSteps = ctx.manifest.stages[`${dir}/train`]?.details?.steps;
  const validationTotal = validationCounts.cot + validationCounts.l2m + validationCounts.pot;
  const evaluation: IterationEvaluation = {
    iteration: t,
    alpha: t === 0 ? null : ((mixDetails?.alpha as number | undefined) ?? null),
    trainSteps: typeof trainSteps === 'number' ? trainSteps : null,
    ...strategyDynamics({
      teacher: await ctx.teacherSolutions(),
      train: await readJsonLines<Solution>(ctx.file(dir, 'train.jsonl')),
      samples: t === 0 ? null : await readJsonLines<SampleRecord>(ctx.file(dir, 'samples.jsonl')),
    }),
    greedyValidationShares: validationTotal === 0 ? null : strategyDistribution(validationCounts),
    datasets,
  };
  await writeJsonAtomic(ctx.file(dir, 'eval.json'), evaluation);
  artefacts.push(path.join(dir, 'eval.json'));
  const validationAccuracy = datasets[VALIDATION]!.accuracy;
  return { artefacts, details: { validationAccuracy } };
}

/** Updates the best iteration and says whether to stop after iteration t (validation only). */
