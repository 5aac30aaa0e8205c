import * as fs from 'node:fs';
import * as path from 'node:path';
import { pngSize, siked, temporaryDirectory } from './helpers/cli';
import { writeFixtureRun } from './helpers/fixture-run';

// The page itself is opened in Chromium on a real run's report (cli-run.test.ts).
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
      'accuracy-by-steps',
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

  it('bounds --scale (at 100 it was killed for memory)', () => {
    const result = siked(['report', runDir, '--scale', '100', '--out', path.join(dir, 'big')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('option --scale: expected a number in (0, 8]');
    expect(fs.existsSync(path.join(dir, 'big'))).toBe(false);
  });

  it('exits 2 on a directory that is not a run', () => {
    const result = siked(['report', path.join(dir, 'missing')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('not a run directory');
  });
});
