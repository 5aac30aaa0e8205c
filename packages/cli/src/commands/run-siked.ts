// What `distill` and `demo` share: running the SIKeD loop with the sandbox, turning its typed
// events into progress, and writing the report at the end.
import * as path from 'node:path';
import {
  PythonSandbox,
  runSiked,
  type LoopEvent,
  type LoopEventListener,
  type SandboxOptions,
  type SikedRunOptions,
} from '@siked/core';
import { loadRunSummary, writeReport, type RunSummary, type WrittenReport } from '@siked/eval';
import type { ProgressReporter, ProgressTask } from '../progress';

/** Turns the loop's events into progress bars (teacher, training, sampling) and log lines. */
export function progressListener(progress: ProgressReporter): LoopEventListener {
  const tasks = new Map<string, { task: ProgressTask; done: number }>();
  // teacher-progress reports what each chunk kept; the bar shows the running total.
  const teacherKept = new Map<string, number>();
  const advance = (
    label: string,
    total: number,
    done: number,
    fields?: Record<string, string | number>,
  ) => {
    let entry = tasks.get(label);
    if (!entry) {
      entry = { task: progress.task(label, total), done: 0 };
      tasks.set(label, entry);
    }
    if (done > entry.done) {
      entry.task.tick(done - entry.done, fields);
      entry.done = done;
    }
    if (done >= total) {
      entry.task.done(fields);
      tasks.delete(label);
    }
  };
  return (event: LoopEvent) => {
    switch (event.type) {
      case 'run-start':
        progress.log(`${event.resumed ? 'resuming' : 'starting'} run ${event.runDir}`);
        break;
      case 'stage-start':
        progress.log(`stage ${event.stage}`);
        break;
      case 'stage-skip':
        progress.log(`stage ${event.stage}: already done`);
        break;
      case 'teacher-progress': {
        const kept = (teacherKept.get(event.strategy) ?? 0) + event.kept;
        teacherKept.set(event.strategy, kept);
        advance(`teacher ${event.strategy}`, event.questionsTotal, event.questionsDone, { kept });
        break;
      }
      case 'teacher-answered':
        // The chunk's teacher-progress (with what was kept) finishes the bar.
        if (event.questionsDone < event.questionsTotal)
          advance(`teacher ${event.strategy}`, event.questionsTotal, event.questionsDone);
        break;
      case 'train-step':
        // An external trainer's log may lack the throughput or the learning rate.
        advance(`train iter-${event.iteration}`, event.totalSteps, event.step, {
          loss: event.loss.toFixed(3),
          ...(Number.isFinite(event.tokensPerSecond)
            ? { 'tok/s': Math.round(event.tokensPerSecond) }
            : {}),
          ...(Number.isFinite(event.learningRate)
            ? { lr: event.learningRate.toExponential(1) }
            : {}),
        });
        break;
      case 'sample-progress':
        advance(`sample iter-${event.iteration}`, event.questionsTotal, event.questionsDone);
        break;
      case 'eval-progress':
        advance(
          `eval iter-${event.iteration} ${event.dataset}`,
          event.questionsTotal,
          event.questionsDone,
        );
        break;
      case 'eval-result':
        progress.log(
          `iter-${event.iteration} ${event.dataset}: accuracy ${(100 * event.accuracy).toFixed(1)}% of ${event.total}`,
        );
        break;
      case 'early-stop':
        progress.log(
          `early stop after iteration ${event.afterIteration} (best: ${event.bestIteration})`,
        );
        break;
      case 'run-done':
        progress.log(`run ${event.status}; best iteration ${event.bestIteration ?? '-'}`);
        break;
      default:
        break;
    }
  };
}

/** A finished run with its report. */
export interface CompletedRun {
  runDir: string;
  summary: RunSummary;
  report: WrittenReport;
}

/**
 * Runs (or resumes) the loop in `options.runDir` with a sandbox started from `sandbox`, then
 * rebuilds the run's report in RUN_DIR/report.
 */
export async function runAndReport(
  options: Omit<SikedRunOptions, 'runner' | 'onEvent'>,
  sandbox: SandboxOptions,
  progress: ProgressReporter,
): Promise<CompletedRun> {
  const runner = await PythonSandbox.start(sandbox, {
    onWarning: (message) => progress.log(`sandbox: ${message}`),
  });
  try {
    await runSiked({ ...options, runner, onEvent: progressListener(progress) });
  } finally {
    await runner.close();
  }
  const summary = await loadRunSummary(options.runDir);
  const report = await writeReport(summary, path.join(options.runDir, 'report'));
  return { runDir: options.runDir, summary, report };
}

/** A compact text table of a finished run: accuracy per data set and iteration, alpha, KL(P_train || P_SM). */
export function formatRunTable(summary: RunSummary): string {
  const datasets = [
    ...new Set(summary.iterations.flatMap((it) => it.evaluations.map((e) => e.dataset))),
  ];
  const header = ['iter', ...datasets, 'alpha', 'KL'];
  const rows = summary.iterations.map((it) => [
    `${it.iteration}${it.iteration === summary.bestIteration ? '*' : ''}`,
    ...datasets.map((d) => {
      const e = it.evaluations.find((x) => x.dataset === d);
      return e ? `${(100 * e.accuracy.accuracy).toFixed(1)}` : '-';
    }),
    it.alpha === null ? '-' : it.alpha.toFixed(2),
    it.klTrainToSampling === null ? 'n/a' : it.klTrainToSampling.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [
    line(header),
    ...rows.map(line),
    'accuracy in %; * = iteration chosen on validation',
  ].join('\n');
}
