import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { reportPlotSpecs } from '../plots/specs';
import { renderPlot, type PngOptions } from '../plots/render';
import type { RunSummary } from '../run/types';
import { buildHtmlReport } from './html';
import { buildMarkdownSummary } from './markdown';

/** Where a written report's files are. */
export interface WrittenReport {
  /** The report folder. */
  dir: string;
  html: string;
  markdown: string;
  /** One entry per figure: its SVG and PNG files and PNG size in pixels. */
  figures: Array<{ name: string; svg: string; png: string; pngWidth: number; pngHeight: number }>;
}

/** Writes `contents` to `file` through a temporary name, so a reader never sees half a file. */
async function writeAtomically(file: string, contents: string | Buffer): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  await fs.writeFile(temporary, contents);
  await fs.rename(temporary, file);
}

/**
 * Renders every figure the run has data for (SVG + PNG) and writes `index.html` (self-contained)
 * and `summary.md` into `outDir`.
 */
export async function writeReport(
  summary: RunSummary,
  outDir: string,
  options: PngOptions = {},
): Promise<WrittenReport> {
  await fs.mkdir(outDir, { recursive: true });
  const scale = options.scale ?? 2;
  const rendered = [];
  for (const plot of reportPlotSpecs(summary)) rendered.push(await renderPlot(plot, { scale }));
  const figures: WrittenReport['figures'] = [];
  for (const { plot, svg, png } of rendered) {
    const svgFile = path.join(outDir, `${plot.name}.svg`);
    const pngFile = path.join(outDir, `${plot.name}.png`);
    await writeAtomically(svgFile, svg);
    await writeAtomically(pngFile, png);
    // IHDR: width and height are the big-endian words at bytes 16 and 20 of every PNG.
    figures.push({
      name: plot.name,
      svg: svgFile,
      png: pngFile,
      pngWidth: png.readUInt32BE(16),
      pngHeight: png.readUInt32BE(20),
    });
  }
  const html = path.join(outDir, 'index.html');
  await writeAtomically(
    html,
    buildHtmlReport(
      summary,
      rendered.map(({ plot, svg }) => ({ ...plot, svg })),
    ),
  );
  const markdown = path.join(outDir, 'summary.md');
  await writeAtomically(
    markdown,
    buildMarkdownSummary(
      summary,
      rendered.map(({ plot }) => ({ title: plot.title, file: `${plot.name}.png` })),
    ),
  );
  return { dir: outDir, html, markdown, figures };
}
