// Our own Problem JSON Lines (DESIGN.md): `{id, question, answer, source, split, meta?}` a line.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { z } from 'zod';
import type { Problem } from '../types';
import { ProblemCollector, RecordFieldError, type LoadResult } from './load-result';
import { jsonLines, readText } from './text-files';

const problemSchema = z.object({
  id: z.string().min(1),
  question: z.string().min(1),
  answer: z.number().refine(Number.isFinite, { message: 'must be a finite number' }),
  source: z.string().min(1),
  split: z.string().min(1),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** Checks one value is a {@link Problem}; throws {@link RecordFieldError} naming the field. */
export function validateProblem(value: unknown): Problem {
  const parsed = problemSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new RecordFieldError(issue.path.map(String).join('.') || '(record)', issue.message);
}

/** Reads a Problem JSONL file (strict unless `lenient`); ids must be unique. */
export async function readProblemsJsonl(
  file: string,
  options: { lenient?: boolean } = {},
): Promise<LoadResult> {
  const collector = new ProblemCollector(file, options.lenient ?? false);
  for (const { line, text } of jsonLines(await readText(file))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      collector.fail(line, '(record)', `invalid JSON: ${(error as Error).message}`);
      continue;
    }
    collector.record(line, () => validateProblem(parsed));
  }
  return collector.result();
}

/**
 * Writes problems as JSONL, atomically: a temporary file in the same folder is written,
 * fsynced and renamed over `file`, so a crash never leaves a half-written data set. Every
 * problem is validated first; an invalid one throws (naming its index and field) before
 * anything is written.
 */
export async function writeProblemsJsonl(
  file: string,
  problems: readonly Problem[],
): Promise<void> {
  const lines = problems.map((problem, index) => {
    try {
      return JSON.stringify(validateProblem(problem));
    } catch (error) {
      if (error instanceof RecordFieldError) {
        throw new Error(
          `problem ${index} (${JSON.stringify(problem.id)}): field "${error.field}": ${error.reason}`,
          { cause: error },
        );
      }
      throw error;
    }
  });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  // A rename that fails (the target is a folder, say) must not leave the temporary behind.
  await rename(temporary, file).catch(async (error: unknown) => {
    await unlink(temporary).catch(() => undefined);
    throw error;
  });
}
