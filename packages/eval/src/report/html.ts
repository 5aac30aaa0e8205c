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
img{max-width:100%;height:auto}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:13px}`;

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
<section id="tables">
<h2>Results</h2>
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
