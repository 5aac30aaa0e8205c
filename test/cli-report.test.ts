import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectReportPage } from './helpers/browser';
import { pngSize, siked, temporaryDirectory } from './helpers/cli';
import { writeFixtureRun } from './helpers/fixture-run';

describe('siked report (built CLI)', () => {
  const { dir, cleanup } = temporaryDirectory('report');
  const runDir = path.join(dir, 'run');
  beforeAll(() => writeFixtureRun(runDir));
  afterAll(cleanup);

  let written: {
    html: string;
    markdown: string;
    iterations: number;
    figures: Array<{ name: string; png: string; svg: string; pngWidth: number; pngHeight: number }>;
  };

  it('writes PNG and SVG figures of the documented size, HTML and markdown', () => {
    const result = siked(['report', runDir, '--json', '--scale', '1.5']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    written = JSON.parse(result.stdout);
    expect(written.iterations).toBe(2);
    expect(written.figures.map((f) => f.name)).toEqual([
      'accuracy-by-iteration',
      'strategy-histogram',
      'strategy-dynamics',
      'per-strategy-accuracy',
      'loss-curve',
    ]);
    for (const figure of written.figures) {
      // 640x360 CSS pixels (autosize fit) at scale 1.5.
      expect(pngSize(figure.png)).toEqual({ width: 960, height: 540 });
      const svg = fs.readFileSync(figure.svg, 'utf8');
      expect(svg).toMatch(/^<svg[^>]* width="640" height="360"/);
      expect(svg).toContain('<text');
    }
    const markdown = fs.readFileSync(written.markdown, 'utf8');
    expect(markdown).toContain('| iteration | test | ood-distractor |');
    expect(markdown).toContain('| 1 | 60.0% (6/10) | 50.0% (5/10) |');
  });

  it('opens in headless Chromium with every figure and table and no console error', async () => {
    const page = await inspectReportPage(written.html);
    expect(page.consoleErrors).toEqual([]);
    expect(page.title).toBe('SIKeD run run');
    expect(page.figures).toHaveLength(5);
    for (const figure of page.figures) {
      expect(figure).toMatchObject({ naturalWidth: 640, naturalHeight: 360 });
    }
    expect(page.tables.map((t) => t.caption)).toEqual([
      'Verified teacher data (D_LLM)',
      'Accuracy per data set and iteration',
      'Strategy usage and accuracy per data set',
      'Mixing and strategy distributions per iteration',
    ]);
    expect(page.tables[1].rows).toBe(2);
  });

  it('exits 2 naming the file and field of a corrupt eval.json', () => {
    const broken = path.join(dir, 'broken');
    writeFixtureRun(broken);
    fs.writeFileSync(
      path.join(broken, 'iter-1', 'eval.json'),
      JSON.stringify({ alpha: 'high', datasets: {} }),
    );
    const result = siked(['report', broken]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(path.join(broken, 'iter-1', 'eval.json'));
    expect(result.stderr).toContain('field "alpha"');
  });

  it('exits 2 on a directory that is not a run', () => {
    const result = siked(['report', path.join(dir, 'missing')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('not a run directory');
  });
});
