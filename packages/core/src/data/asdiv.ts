// ASDiv (chaochun/nlu-asdiv-dataset): XML, Machine-Reading-Corpus-File > ProblemSet > Problem,
// each with Body, Question, Solution-Type, Answer ("9 (apples)") and Formula.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { Problem } from '../types';
import { parseNumber } from '../verify/number';
import { describeValue } from './fields';
import {
  DataFormatError,
  ProblemCollector,
  RecordFieldError,
  type CommonLoadOptions,
  type ExcludedRecord,
  type ExclusionReason,
  type LoadResult,
} from './load-result';
import { readText } from './text-files';

/** Options of {@link loadAsdiv}. */
export interface AsdivLoadOptions extends CommonLoadOptions {
  /** Keep only these problem ids (e.g. the ASDiv-A subset from {@link readAsdivFoldIds}). */
  ids?: ReadonlySet<string>;
}

/** The gold of an ASDiv answer text, or the documented reason it is excluded. */
export type AsdivAnswer =
  | { kind: 'number'; value: number; unit: string | null }
  | { kind: 'excluded'; reason: ExclusionReason };

const UNIT_SUFFIX = /^(.*?)\s*\(([^()]*[A-Za-z][^()]*)\)\s*$/;
const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?$/;
const FRACTION = /^-?\(?-?\d+\/\d+\)?$/;
const COLON_PAIR = /^\d+:\d+/;
const ORDINAL = /^\d+(?:st|nd|rd|th)$/i;

/**
 * Reads an ASDiv answer text. The rule (documented, applied in this order):
 * 1. several values separated by ";" -> excluded as `multi-value`;
 * 2. a trailing unit in parentheses that contains a letter is split off: "9 (apples)";
 * 3. a plain number (integer or decimal, optional minus) or a fraction ("5/2", "-(1/3)") -> kept;
 * 4. "a:b" -> `ratio` when the Solution-Type is "Ratio", else `clock-time` ("14:55", "3:30 p.m.");
 * 5. "6th", "1st" -> `ordinal`;
 * 6. anything else (names, yes/no, "They are equal", colours, dates) -> `non-numeric`.
 * Fractions are kept because they are numbers; ratios are not, since "3:4" and "6:8" are the
 * same ratio and no single number is the answer.
 */
export function classifyAsdivAnswer(answerText: string, solutionType: string): AsdivAnswer {
  const text = answerText.trim();
  if (text.includes(';')) return { kind: 'excluded', reason: 'multi-value' };
  const withUnit = UNIT_SUFFIX.exec(text);
  const core = (withUnit ? withUnit[1] : text).trim();
  const unit = withUnit ? withUnit[2].trim() : null;
  if (PLAIN_NUMBER.test(core) || FRACTION.test(core)) {
    const parsed = parseNumber(core);
    if (parsed.ok && parsed.trailing === '') return { kind: 'number', value: parsed.value, unit };
  }
  if (COLON_PAIR.test(core)) {
    return { kind: 'excluded', reason: solutionType.trim() === 'Ratio' ? 'ratio' : 'clock-time' };
  }
  if (ORDINAL.test(core)) return { kind: 'excluded', reason: 'ordinal' };
  return { kind: 'excluded', reason: 'non-numeric' };
}

/**
 * Loads ASDiv. Ids are `asdiv-<ID>`; the question is `Body + " " + Question`; split defaults to
 * `test`. Answers whose gold is not one number are left out by {@link classifyAsdivAnswer}'s
 * rule and listed in `excluded` with their reason. `meta` keeps grade, solutionType, formula,
 * unit and the answer text.
 */
export async function loadAsdiv(file: string, options: AsdivLoadOptions = {}): Promise<LoadResult> {
  const split = options.split ?? 'test';
  const collector = new ProblemCollector(file, options.lenient ?? false);
  const text = await readText(file);
  const elements = problemElements(text, file);
  const lines = problemStartLines(text);
  elements.forEach((element, i) => {
    const line = lines[i] ?? 1;
    if (options.ids && !options.ids.has(String(element['@_ID'] ?? ''))) return;
    collector.record(
      line,
      (): Problem | ExcludedRecord => {
        const id = xmlText(element, '@_ID');
        const body = xmlText(element, 'Body');
        const question = xmlText(element, 'Question');
        const solutionType = xmlText(element, 'Solution-Type');
        const answerText = xmlText(element, 'Answer');
        const gold = classifyAsdivAnswer(answerText, solutionType);
        if (gold.kind === 'excluded') {
          return { recordId: id, line, reason: gold.reason, answer: answerText };
        }
        return {
          id: `asdiv-${id}`,
          question: `${body} ${question}`,
          answer: gold.value,
          source: 'asdiv',
          split,
          meta: {
            grade: element['@_Grade'] === undefined ? undefined : Number(element['@_Grade']),
            solutionType,
            formula: optionalXmlText(element, 'Formula'),
            unit: gold.unit,
            answerText,
          },
        };
      },
      'ID',
    );
  });
  return collector.result();
}

/** Reads the problem ids listed in the fold files (`fold*.txt`) of an ASDiv nfolds folder. */
export async function readAsdivFoldIds(dir: string, folds = [0, 1, 2, 3, 4]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const fold of folds) {
    const text = await readFile(path.join(dir, `fold${fold}.txt`), 'utf8');
    for (const line of text.split(/\r?\n/)) if (line.trim() !== '') ids.add(line.trim());
  }
  return ids;
}

type XmlElement = Record<string, unknown>;

function problemElements(text: string, file: string): XmlElement[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    isArray: (name) => name === 'Problem',
  });
  let document: XmlElement;
  try {
    document = parser.parse(text) as XmlElement;
  } catch (error) {
    throw new DataFormatError(file, 1, '(file)', `invalid XML: ${(error as Error).message}`);
  }
  const root = document['Machine-Reading-Corpus-File'] as XmlElement | undefined;
  const set = root?.ProblemSet as XmlElement | undefined;
  const problems = set?.Problem;
  if (!Array.isArray(problems)) {
    throw new DataFormatError(
      file,
      1,
      'ProblemSet',
      'expected <Machine-Reading-Corpus-File><ProblemSet><Problem>... elements',
    );
  }
  return problems as XmlElement[];
}

/** Line of each `<Problem ` start tag, in document order (Problem elements do not nest). */
function problemStartLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let from = 0;
  for (const match of text.matchAll(/<Problem[\s>]/g)) {
    for (let i = from; i < match.index; i++) if (text.charCodeAt(i) === 10) line++;
    from = match.index;
    lines.push(line);
  }
  return lines;
}

function xmlText(element: XmlElement, field: string): string {
  const raw = element[field];
  // An element with attributes (e.g. <Solution-Type Subtype-1="...">) parses to an object.
  const value =
    typeof raw === 'object' && raw !== null && '#text' in raw ? (raw as XmlElement)['#text'] : raw;
  const name = field.startsWith('@_') ? field.slice(2) : field;
  if (typeof value !== 'string') {
    throw new RecordFieldError(name, `expected text but found ${describeValue(value)}`);
  }
  if (value.trim() === '') throw new RecordFieldError(name, 'is empty');
  return value.trim();
}

function optionalXmlText(element: XmlElement, field: string): string | undefined {
  return element[field] === undefined ? undefined : xmlText(element, field);
}
