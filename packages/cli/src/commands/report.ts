import * as path from 'node:path';
import type { Command } from 'commander';
import { loadRunSummary, writeReport } from '@siked/eval';
import { defineCommand } from '../command';
import { UsageError } from '../errors';
import { schemas } from '../options';

/** `siked report RUN_DIR`: rebuilds a run's report (figures, index.html, summary.md). */
export function registerReport(program: Command): void {
  defineCommand(program, {
    name: 'report',
    description: "rebuild a run's report: PNG+SVG figures, a self-contained index.html, summary.md",
    arguments: [{ syntax: '<run-dir>', description: 'the run directory (holds run.json)' }],
    options: {
      out: {
        flag: '--out <dir>',
        description: 'where to write the report (default: RUN_DIR/report)',
        schema: schemas.path,
      },
      scale: {
        flag: '--scale <factor>',
        description: 'PNG pixels per SVG pixel (at most 8: a 640x360 figure is then 5120x2880)',
        schema: schemas.positive.refine((scale) => scale <= 8, 'expected a number in (0, 8]'),
        defaultValue: 2,
      },
    },
    examples: ['siked report runs/demo', 'siked report runs/demo --out /tmp/report --json'],
    async run(options, [runDir], context) {
      if (!runDir) throw new UsageError('missing RUN_DIR');
      const summary = await loadRunSummary(runDir);
      const outDir = options.out ?? path.join(runDir, 'report');
      const written = await writeReport(summary, outDir, { scale: options.scale });
      if (context.json) {
        context.printJson({
          runDir,
          html: written.html,
          markdown: written.markdown,
          iterations: summary.iterations.length,
          figures: written.figures,
        });
        return;
      }
      context.print(
        `report of ${summary.name}: ${written.html}\n` +
          `summary: ${written.markdown}\n` +
          `figures: ${written.figures.map((f) => path.basename(f.png)).join(', ') || 'none (no results yet)'}`,
      );
    },
  });
}
