// Fitting a command's work into the student's context before the engine sees it, so the user
// gets the input file and line at fault (not the engine's 0-based `prompts[3]`), and a default
// --max-new-tokens larger than a small model's context is capped with a note instead of failing.
import type { EngineStudent } from '@siked/core';
import { UsageError } from '../errors';

/** A text of the input and where it came from (`file:line`, or `file, problem ID`). */
export interface LocatedText {
  text: string;
  where: string;
}

type Measured = Pick<EngineStudent, 'contextLength' | 'tokenCount'>;

/**
 * The new-token budget that fits every prompt: `maxNewTokens`, or less (with a `note`) when the
 * longest prompt plus it would overflow the context. A prompt that leaves no room is an error
 * naming where it came from.
 */
export function fitNewTokens(
  student: Measured,
  prompts: readonly LocatedText[],
  maxNewTokens: number,
  note: (line: string) => void,
): number {
  const context = student.contextLength;
  let longest = 0;
  for (const { text, where } of prompts) {
    const tokens = student.tokenCount(text);
    if (tokens >= context) {
      throw new UsageError(
        `${where}: the prompt takes ${tokens} tokens, leaving no room in the model's ${context}-position context`,
      );
    }
    longest = Math.max(longest, tokens);
  }
  if (longest + maxNewTokens <= context) return maxNewTokens;
  const capped = context - longest;
  note(
    `--max-new-tokens ${maxNewTokens} capped to ${capped}: the model's context is ${context} positions and the longest prompt takes ${longest} tokens`,
  );
  return capped;
}

/** Runs a check on a loaded student; when it throws, the student (native memory) is freed first. */
export function checkLoaded<T>(student: { dispose(): void }, check: () => T): T {
  try {
    return check();
  } catch (error) {
    student.dispose();
    throw error;
  }
}

/** Refuses a text to score that does not fit the context, naming where it came from. */
export function checkScoredTexts(student: Measured, texts: readonly LocatedText[]): void {
  const context = student.contextLength;
  for (const { text, where } of texts) {
    const tokens = student.tokenCount(text);
    if (tokens > context) {
      throw new UsageError(
        `${where}: field "text": ${tokens} tokens, longer than the model's ${context}-position context`,
      );
    }
  }
}
