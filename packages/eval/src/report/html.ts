// A self-contained HTML report: no scripts, no external requests; figures are SVG documents in
// data: URIs (each an isolated document, so vega's clip-path ids cannot clash across figures).
import type { RunSummary } from '../run/types';
import { reportTables, type Table } from './tables';

/** A figure as the report embeds it. */
export interface ReportFigure {
  name: string;
  title: string;
  caption: string;
  width: number;
  height: number;
  svg: string;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function tableHtml(table: Table): string {
  const head = table.header.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = table.rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<caption>${escapeHtml(table.title)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function figureHtml(figure: ReportFigure): string {
  const uri = `data:image/svg+xml;base64,${Buffer.from(figure.svg, 'utf8').toString('base64')}`;
  return (
    `<figure id="${escapeHtml(figure.name)}">\n` +
    `<img src="${uri}" width="${figure.width}" height="${figure.height}" alt="${escapeHtml(figure.title)}">\n` +
    `<figcaption>${escapeHtml(figure.caption)}</figcaption>\n</figure>`
  );
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0 2em;font-size:14px}
caption{text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}
figure{margin:1.5em 0}
figcaption{font-size:14px;color:#555;max-width:640px}
figure img{width:100%;height:auto}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;font-size:14px}
dt{font-weight:bold}dd{margin:0;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.note{background:#fff6e0;border-left:4px solid #e0a000;padding:.5em 1em}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:13px}`;

function formatDuration(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = Math.round(seconds % 60);
  return hours > 0
    ? `${hours} h ${minutes} min`
    : minutes > 0
      ? `${minutes} min ${rest} s`
      : `${rest} s`;
}

/** Base model, teacher, data files, versions, commit and wall time: what made these numbers. */
function provenanceHtml(summary: RunSummary): string {
  const p = summary.provenance;
  const rows: Array<[string, string]> = [
    ['base model (student)', p.student ?? 'not recorded'],
    ['teacher', p.teacher ?? 'not recorded'],
    ...p.dataFiles.map((d): [string, string] => [`data: ${d.role}`, d.file]),
    ['siked', `${p.siked ?? 'unknown version'}${p.commit ? `, commit ${p.commit}` : ''}`],
    ['Node.js', p.node ?? 'not recorded'],
    ['started', p.createdAt ?? 'not recorded'],
    [
      'wall time',
      p.wallSeconds === null
        ? 'not recorded (older run)'
        : `${formatDuration(p.wallSeconds)}${p.sessions && p.sessions > 1 ? ` over ${p.sessions} invocations (resumed)` : ''}`,
    ],
  ];
  return `<dl>\n${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}\n</dl>`;
}

/**
 * A warning when some answers were counted wrong without being wrong answers: no extractable
 * answer (unparsed) or no strategy tag (untagged). A reader of the accuracy must know.
 */
function unreadAnswersHtml(summary: RunSummary): string {
  const lines = summary.iterations.flatMap((it) =>
    it.evaluations
      .filter((e) => e.accuracy.unparsed > 0 || (e.accuracy.untagged ?? 0) > 0)
      .map(
        (e) =>
          `iteration ${it.iteration}, ${e.dataset}: ${e.accuracy.unparsed} of ${e.accuracy.total} unparsed, ${e.accuracy.untagged ?? 0} untagged`,
      ),
  );
  if (lines.length === 0) return '';
  return (
    `<div class="note" id="unread-answers"><p>Some answers were counted wrong because they could not be read: ` +
    `no extractable final answer (unparsed) or no strategy tag (untagged).</p>\n<ul>\n` +
    lines.map((line) => `<li>${escapeHtml(line)}</li>`).join('\n') +
    `\n</ul></div>`
  );
}

/** Builds the report page of a run: tables first, then figures, then the run's settings. */
export function buildHtmlReport(summary: RunSummary, figures: readonly ReportFigure[]): string {
  const status = summary.status === null ? '' : ` (status: ${summary.status})`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SIKeD run ${escapeHtml(summary.name)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>SIKeD run ${escapeHtml(summary.name)}${escapeHtml(status)}</h1>
<section id="provenance">
<h2>Run</h2>
${provenanceHtml(summary)}
</section>
<section id="tables">
<h2>Results</h2>
${unreadAnswersHtml(summary)}
${reportTables(summary).map(tableHtml).join('\n')}
</section>
<section id="figures">
<h2>Figures</h2>
${figures.length === 0 ? '<p>No figures: the run has recorded no results yet.</p>' : figures.map(figureHtml).join('\n')}
</section>
<section id="config">
<h2>Settings</h2>
<pre>${escapeHtml(JSON.stringify(summary.config, null, 2))}</pre>
</section>
</body>
</html>
`;
}
