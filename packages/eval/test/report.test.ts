import { buildHtmlReport, buildMarkdownSummary, escapeHtml, reportTables } from '@siked/eval';
import { sampleSummary } from './summary-fixture';

const figure = {
  name: 'accuracy-by-iteration',
  title: 'Accuracy <by> iteration',
  caption: 'caption',
  width: 640,
  height: 360,
  svg: '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"></svg>',
};

describe('report tables', () => {
  it('format accuracy with counts, and dashes where nothing was recorded', () => {
    const [teacher, accuracy, , dynamics] = reportTables(sampleSummary());
    expect(teacher.rows).toEqual([
      ['cot', '10', '50.0%'],
      ['l2m', '5', '25.0%'],
      ['pot', '5', '25.0%'],
      ['all', '20', '100.0%'],
    ]);
    expect(accuracy.header).toEqual(['iteration', 'test', 'ood|pipe']);
    expect(accuracy.rows[0]).toEqual(['0', '30.0% (3/10)', '-']);
    // iteration 0: steps, no alpha, no sampling student (n/a)
    expect(dynamics.rows[0].slice(0, 4)).toEqual(['0', '20', 'n/a', 'n/a']);
    expect(dynamics.rows[2]).toEqual([
      '2',
      '12',
      '0.250',
      '0.1000',
      ...['n/a', 'n/a', 'n/a'], // P_train not recorded
      ...['60.0%', '20.0%', '20.0%'], // P_SM
      ...['n/a', 'n/a', 'n/a'], // P_SM over correct samples
      ...['50.0%', '25.0%', '25.0%'], // greedy validation shares
    ]);
  });
});

describe('buildHtmlReport', () => {
  const html = buildHtmlReport(sampleSummary(), [figure]);

  it('is self-contained: figures as data: URIs, no script, no external reference', () => {
    expect(html).toContain('<img src="data:image/svg+xml;base64,');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const encoded = /base64,([^"]+)"/.exec(html)![1];
    expect(Buffer.from(encoded, 'base64').toString('utf8')).toBe(figure.svg);
  });

  it('escapes text from the run', () => {
    expect(html).toContain('alt="Accuracy &lt;by&gt; iteration"');
    expect(html).toContain('&lt;b&gt;not html&lt;/b&gt;');
    expect(html).not.toContain('<b>not html</b>');
    expect(escapeHtml(`a&"'`)).toBe('a&amp;&quot;&#39;');
  });

  it('says what made the run: base model, teacher, data files, commit, wall time', () => {
    const section = /<section id="provenance">([\s\S]*?)<\/section>/.exec(html)![1];
    for (const text of [
      'runs/base-model',
      'openai-compatible:llama-3-70b',
      'data: eval-set test</dt><dd>/data/gsm8k/test.jsonl',
      'commit 0123456789abcdef0123456789abcdef01234567',
      '1 h 2 min over 2 invocations (resumed)',
    ])
      expect(section).toContain(text);
  });

  it('warns when answers were counted wrong unread (unparsed or untagged), and only then', () => {
    expect(html).not.toContain('id="unread-answers"');
    const summary = sampleSummary();
    const test = summary.iterations[1]!.evaluations[0]!;
    test.accuracy = { ...test.accuracy, unparsed: 2, untagged: 1 };
    const warned = buildHtmlReport(summary, [figure]);
    expect(warned).toContain('<li>iteration 1, test: 2 of 10 unparsed, 1 untagged</li>');
  });

  it('draws figures at the width of the page', () => {
    expect(html).toContain('figure img{width:100%;height:auto}');
  });

  it('has one table per report table', () => {
    expect(html.match(/<table>/g)).toHaveLength(reportTables(sampleSummary()).length);
  });
});

describe('buildMarkdownSummary', () => {
  it('writes the tables with escaped pipes and links the PNG figures', () => {
    const markdown = buildMarkdownSummary(sampleSummary(), [
      { title: 'Accuracy', file: 'accuracy-by-iteration.png' },
    ]);
    expect(markdown).toContain('| iteration | test | ood\\|pipe |');
    expect(markdown).toContain('| 2 (best) | 60.0% (6/10) | 50.0% (2/4) |');
    expect(markdown).toMatch(/\| 2 \| test \|.* \| 0 \| - \| 50\.0% \| 70\.0% \|/);
    expect(markdown).toContain('![Accuracy](accuracy-by-iteration.png)');
  });
});
