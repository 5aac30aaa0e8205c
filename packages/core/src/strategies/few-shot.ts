// The teacher's few-shot prompts, one replaceable JSON file per strategy
// (templates/fewshot-{cot,l2m,pot}.json), rendered for chat or completion endpoints.
import * as path from 'node:path';
import { z } from 'zod';
import type { Strategy } from '../types';
import { TEMPLATES_DIR, TemplateError, readTemplateFile, validateTemplate } from './templates';

const fewShotSchema = z.object({
  strategy: z.enum(['cot', 'l2m', 'pot']),
  description: z.string().optional(),
  system: z.string(),
  instruction: z.string().min(1),
  exemplars: z
    .array(
      z.object({
        question: z.string().min(1),
        solution: z.string().min(1),
        /** The exemplar's answer, so tests can check every exemplar is right. */
        answer: z.number().refine(Number.isFinite, { message: 'must be a finite number' }),
      }),
    )
    .min(1),
});

/** A strategy's few-shot prompt: system text, instruction and worked exemplars. */
export type FewShotSet = z.output<typeof fewShotSchema>;

/** One worked exemplar of a few-shot prompt. */
export type FewShotExemplar = FewShotSet['exemplars'][number];

/**
 * A chat message for OpenAI-compatible chat endpoints (structurally the same as the teachers
 * module's `ChatMessage`, so prompts built here go straight to that teacher).
 */
export interface TeacherChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A teacher prompt for a chat endpoint: the exemplars as alternating user/assistant turns. */
export interface ChatTeacherPrompt {
  endpoint: 'chat';
  messages: TeacherChatMessage[];
  /** Stop sequences worth passing to the server. */
  stop: string[];
}

/** A teacher prompt for a plain completions endpoint. */
export interface CompletionTeacherPrompt {
  endpoint: 'completions';
  prompt: string;
  /** Stop sequences that end the solution before the model invents the next question. */
  stop: string[];
}

/** Options for {@link buildTeacherPrompt}. */
export interface TeacherPromptOptions {
  /** The exemplar set to use; default: the shipped file for the strategy. */
  fewShot?: FewShotSet;
  /** Use only the first `shots` exemplars (default: all; the paper uses 8). */
  shots?: number;
}

const COMPLETION_STOP = '\n\nQuestion:';

/** The path of the shipped few-shot file for `strategy`. */
export function fewShotTemplatePath(strategy: Strategy): string {
  return path.join(TEMPLATES_DIR, `fewshot-${strategy}.json`);
}

/**
 * Loads a few-shot file; with `expected`, also checks it is that strategy's file (so a CoT
 * file passed as the PoT prompt is an error, not a silently wrong teacher).
 */
export function loadFewShot(file: string, expected?: Strategy): FewShotSet {
  const set = readTemplateFile(file, fewShotSchema);
  if (expected !== undefined && set.strategy !== expected) {
    throw new TemplateError(
      file,
      'strategy',
      `is "${set.strategy}" but "${expected}" was expected`,
    );
  }
  return set;
}

/** Validates a few-shot set given as an object (errors name `source` and the field). */
export function fewShotFromObject(set: unknown, source = '<object>'): FewShotSet {
  return validateTemplate(set, fewShotSchema, source);
}

const shippedFewShot = new Map<Strategy, FewShotSet>();

/** The shipped few-shot set for `strategy` (read once, then cached). */
export function defaultFewShot(strategy: Strategy): FewShotSet {
  let set = shippedFewShot.get(strategy);
  if (set === undefined) {
    set = loadFewShot(fewShotTemplatePath(strategy), strategy);
    shippedFewShot.set(strategy, set);
  }
  return set;
}

/** Builds the teacher's few-shot prompt for one question, for a chat endpoint. */
export function buildTeacherPrompt(
  strategy: Strategy,
  question: string,
  options: TeacherPromptOptions & { endpoint: 'chat' },
): ChatTeacherPrompt;
/** Builds the teacher's few-shot prompt for one question, for a completions endpoint. */
export function buildTeacherPrompt(
  strategy: Strategy,
  question: string,
  options: TeacherPromptOptions & { endpoint: 'completions' },
): CompletionTeacherPrompt;
/** Builds the teacher's few-shot prompt for one question, for either endpoint. */
export function buildTeacherPrompt(
  strategy: Strategy,
  question: string,
  options: TeacherPromptOptions & { endpoint: 'chat' | 'completions' },
): ChatTeacherPrompt | CompletionTeacherPrompt;
export function buildTeacherPrompt(
  strategy: Strategy,
  question: string,
  options: TeacherPromptOptions & { endpoint: 'chat' | 'completions' },
): ChatTeacherPrompt | CompletionTeacherPrompt {
  const set = options.fewShot ?? defaultFewShot(strategy);
  if (set.strategy !== strategy) {
    throw new Error(`few-shot set is for "${set.strategy}" but the prompt is for "${strategy}"`);
  }
  const shots = options.shots ?? set.exemplars.length;
  if (!Number.isInteger(shots) || shots < 0 || shots > set.exemplars.length) {
    throw new RangeError(
      `Expected shots to be an integer from 0 to ${set.exemplars.length} but received ${shots}`,
    );
  }
  const exemplars = set.exemplars.slice(0, shots);
  const asked = question.trim();
  if (options.endpoint === 'chat') {
    const system = [set.system, set.instruction].filter((part) => part !== '').join('\n\n');
    const messages: TeacherChatMessage[] = [{ role: 'system', content: system }];
    for (const exemplar of exemplars) {
      messages.push({ role: 'user', content: `Question: ${exemplar.question}` });
      messages.push({ role: 'assistant', content: exemplar.solution });
    }
    messages.push({ role: 'user', content: `Question: ${asked}` });
    return { endpoint: 'chat', messages, stop: [] };
  }
  const blocks = exemplars.map(
    (exemplar) => `Question: ${exemplar.question}\nSolution:\n${exemplar.solution}`,
  );
  const header = [set.system, set.instruction].filter((part) => part !== '').join('\n');
  const prompt = [header, ...blocks, `Question: ${asked}\nSolution:\n`].join('\n\n');
  return { endpoint: 'completions', prompt, stop: [COMPLETION_STOP] };
}
