// Reading text data files with line numbers: JSON Lines, and JSON arrays whose elements are
// located by the line they start on (JSON.parse alone does not say where a record is).
import { readFile } from 'node:fs/promises';
import { jsonSyntaxErrorOffset } from './json-syntax';
import { DataFormatError } from './load-result';

/** A non-blank line of a JSON Lines file with its 1-based line number. */
export interface NumberedLine {
  line: number;
  text: string;
}

/** Reads a UTF-8 text file (a leading byte-order mark is dropped). */
export async function readText(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The non-blank lines of a JSON Lines text (CRLF tolerated). */
export function jsonLines(text: string): NumberedLine[] {
  const lines: NumberedLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() !== '') lines.push({ line: i + 1, text: line });
  });
  return lines;
}

/** One element of a top-level JSON array with the line it starts on. */
export interface LocatedElement {
  line: number;
  value: unknown;
}

/**
 * Parses a file whose content is one JSON array and returns each element with its starting
 * line. A syntax error is a {@link DataFormatError} at the line JSON.parse points to.
 */
export function parseJsonArray(text: string, file: string): LocatedElement[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const offset = jsonSyntaxErrorOffset(text) ?? 0;
    const message = (error as Error).message.replace(/\s+/g, ' ');
    throw new DataFormatError(
      file,
      lineOfOffset(text, offset),
      '(file)',
      `invalid JSON: ${message}`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new DataFormatError(file, 1, '(file)', 'expected the file to hold one JSON array');
  }
  const lines = topLevelElementLines(text);
  return parsed.map((value, i) => ({ line: lines[i] ?? 1, value }));
}

/** The 1-based line of a character offset. */
export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The starting line of every element of the top-level array in a (valid) JSON text. */
function topLevelElementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectingElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectingElement && !/\s/.test(c) && c !== ']') {
      lines.push(line);
      expectingElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectingElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectingElement = true;
  }
  return lines;
}
