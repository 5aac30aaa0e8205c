import type { RunSummary } from '../run/types';
import { reportTables, type Table } from './tables';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A markdown table (cells escaped) from a header and rows of formatted cells. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

function tableMarkdown(table: Table): string {
  return [`### ${table.title}`, '', markdownTable(table.header, table.rows)].join('\n');
}

/**
 * A markdown summary of a run: the same tables as the HTML report, plus links to the PNG figures
 * (`figureFiles`, relative to where the markdown is written).
 */
export function buildMarkdownSummary(
  summary: RunSummary,
  figureFiles: ReadonlyArray<{ title: string; file: string }> = [],
): string {
  const parts = [
    `# SIKeD run ${summary.name}${summary.status === null ? '' : ` (${summary.status})`}`,
    ...reportTables(summary).map(tableMarkdown),
  ];
  if (figureFiles.length > 0) {
    parts.push(
      ['## Figures', '', ...figureFiles.map((f) => `![${f.title}](${f.file})`)].join('\n'),
    );
  }
  return parts.join('\n\n') + '\n';
}
