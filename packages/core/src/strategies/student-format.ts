// The student's text format: how a question becomes a prompt, how a verified solution becomes
// a training target (`[cot]: ...`), and how a generated completion is read back.
import * as path from 'node:path';
import type { Template } from '@huggingface/jinja' with { 'resolution-mode': 'import' };
import { z } from 'zod';
import { STRATEGIES, type Strategy } from '../types';
import { TEMPLATES_DIR, TemplateError, readTemplateFile, validateTemplate } from './templates';

const QUESTION_SLOT = '{question}';

type JinjaModule = typeof import('@huggingface/jinja', { with: { 'resolution-mode': 'import' } });

/**
 * A Jinja template (chat templates). TypeScript reads @huggingface/jinja's types as ESM, but the
 * package ships a CommonJS build under `require`, which Node and jest load synchronously.
 */
function jinjaTemplate(source: string): Template {
  return new (require('@huggingface/jinja') as JinjaModule).Template(source);
}

const studentTemplateSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  prompt: z.string().refine((prompt) => prompt.split(QUESTION_SLOT).length === 2, {
    message: `must contain ${QUESTION_SLOT} exactly once`,
  }),
  tags: z.object({
    cot: z.string().min(1),
    l2m: z.string().min(1),
    pot: z.string().min(1),
  }),
  eos: z.string().default(''),
  stop: z.array(z.string().min(1)).default([]),
  chat: z
    .object({
      template: z.string().min(1),
      bosToken: z.string().optional(),
      endOfTurn: z.string().min(1),
    })
    .optional(),
});

/**
 * A student text template, as stored in `templates/student-format*.json`.
 * - `prompt`: instruction + input ending in a response header; `{question}` marks the problem.
 * - `tags`: the strategy tag that starts every target, e.g. `[cot]: `.
 * - `eos`: text appended after each target; leave it '' when the trainer appends the
 *   tokenizer's end-of-sequence token id itself (the usual case).
 * - `stop`: texts that end a generation when the model runs on into a new prompt.
 * - `chat` (optional): the model's chat template (Jinja, from tokenizer_config.json). The
 *   rendered prompt becomes the user turn, framed with the generation prompt; the target is the
 *   assistant turn, ended by `endOfTurn` (the token the template closes a turn with), which the
 *   student then uses as its end-of-sequence token. See {@link withChatTemplate}.
 */
export type StudentTemplate = z.input<typeof studentTemplateSchema>;

/** The two templates shipped with the package. */
export type StudentFormatVariant = 'full' | 'compact';

/** A generated completion read back into its strategy and solution text. */
export interface ParsedCompletion {
  /** The strategy the student chose (or was forced to use); null when no tag was found. */
  strategy: Strategy | null;
  /** The solution text without the tag, cut at the end-of-sequence text or a stop sequence. */
  text: string;
  /** Why no strategy was recognised, when `strategy` is null. */
  error?: string;
}

/** The student's text format built from one template (see {@link StudentTemplate}). */
export class StudentFormat {
  /** The validated template this format renders. */
  readonly template: Readonly<z.output<typeof studentTemplateSchema>>;

  private constructor(template: z.output<typeof studentTemplateSchema>, source: string) {
    const tags = STRATEGIES.map((strategy) => template.tags[strategy].trim());
    for (const [i, tag] of tags.entries()) {
      for (const [j, other] of tags.entries()) {
        if (i !== j && other.startsWith(tag)) {
          throw new TemplateError(
            source,
            `tags.${STRATEGIES[i]}`,
            `tag ${JSON.stringify(tag)} is a prefix of tag ${JSON.stringify(other)}, so completions would be ambiguous`,
          );
        }
      }
    }
    this.template = Object.freeze(template);
  }

  /** Builds a format from a template object (e.g. the synthetic world's own short template). */
  static fromObject(template: StudentTemplate, source = '<object>'): StudentFormat {
    return new StudentFormat(validateTemplate(template, studentTemplateSchema, source), source);
  }

  /** Loads a template JSON file; errors name the file and the field at fault. */
  static load(file: string): StudentFormat {
    return new StudentFormat(readTemplateFile(file, studentTemplateSchema), file);
  }

  /**
   * The prompt for `question` (with a chat template: the user turn and the generation prompt);
   * with `forced`, the strategy's tag is appended so the model must use it.
   */
  renderPrompt(question: string, forced?: Strategy): string {
    const [before, after] = this.template.prompt.split(QUESTION_SLOT);
    const prompt = this.frame(`${before}${question.trim()}${after}`);
    return forced === undefined ? prompt : `${prompt}${this.template.tags[forced]}`;
  }

  /** The end-of-turn token the student must end targets with (chat), else undefined. */
  get endOfSequenceToken(): string | undefined {
    return this.template.chat?.endOfTurn;
  }

  private chatTemplate: Template | undefined;

  /** `text` as the user turn of the chat template, with the generation prompt after it. */
  private frame(text: string): string {
    const chat = this.template.chat;
    if (!chat) return text;
    this.chatTemplate ??= jinjaTemplate(chat.template);
    return this.chatTemplate.render({
      messages: [{ role: 'user', content: text }],
      add_generation_prompt: true,
      bos_token: chat.bosToken ?? '',
      eos_token: chat.endOfTurn,
    });
  }

  /** The training target: strategy tag, solution text, then the template's `eos` text. */
  renderTarget(strategy: Strategy, text: string): string {
    return `${this.template.tags[strategy]}${text}${this.template.eos}`;
  }

  /** Where a generation should stop, besides the tokenizer's end-of-sequence token. */
  stopSequences(): string[] {
    const stops = [...this.template.stop];
    if (this.template.eos !== '') stops.push(this.template.eos);
    return stops;
  }

  /**
   * Reads a generated completion. Without `forced` the completion must start with a strategy
   * tag (leading whitespace and a missing space after the colon are tolerated); with `forced`
   * the prompt already carried the tag, so the whole completion is the solution.
   */
  parseCompletion(generated: string, forced?: Strategy): ParsedCompletion {
    const cut = this.cutAtStop(generated);
    if (forced !== undefined) return { strategy: forced, text: cut.trim() };
    const start = cut.trimStart();
    for (const strategy of STRATEGIES) {
      const tag = this.template.tags[strategy].trim();
      if (start.startsWith(tag)) {
        return { strategy, text: start.slice(tag.length).trim() };
      }
    }
    const tags = STRATEGIES.map((strategy) => this.template.tags[strategy].trim()).join(', ');
    const opening = JSON.stringify(start.slice(0, 20));
    return {
      strategy: null,
      text: start.trim(),
      error: `completion does not start with a strategy tag (${tags}); it starts with ${opening}`,
    };
  }

  private cutAtStop(generated: string): string {
    let end = generated.length;
    for (const stop of this.stopSequences()) {
      const at = generated.indexOf(stop);
      if (at >= 0 && at < end) end = at;
    }
    return generated.slice(0, end);
  }
}

const ASSISTANT_MARK = '\u0000siked-assistant\u0000';

/**
 * `format` with the model's chat template (`chat_template` of tokenizer_config.json: a string,
 * or a list of named templates of which "default" is used). The end-of-turn text is read off the
 * template itself: what it writes after an assistant message (`<|eot_id|>`, `<|im_end|>`).
 */
export function withChatTemplate(
  format: StudentFormat,
  tokenizerConfig: Record<string, unknown>,
  source: string,
): StudentFormat {
  let template = tokenizerConfig.chat_template;
  if (Array.isArray(template)) {
    const named = template as Array<{ name?: unknown; template?: unknown }>;
    template = named.find((t) => t.name === 'default')?.template;
  }
  if (typeof template !== 'string' || template === '')
    throw new TemplateError(source, 'chat_template', 'missing (or no "default" one among several)');
  const text = (value: unknown) =>
    typeof value === 'string'
      ? value
      : typeof (value as { content?: unknown } | null)?.content === 'string'
        ? (value as { content: string }).content
        : undefined;
  const bosToken = text(tokenizerConfig.bos_token);
  const eosToken = text(tokenizerConfig.eos_token) ?? '';
  let rendered: string;
  try {
    rendered = jinjaTemplate(template).render({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: ASSISTANT_MARK },
      ],
      add_generation_prompt: false,
      bos_token: bosToken ?? '',
      eos_token: eosToken,
    });
  } catch (error) {
    throw new TemplateError(
      source,
      'chat_template',
      `does not render: ${(error as Error).message}`,
    );
  }
  // The first special token after the assistant's text (`<|eot_id|>`, `<|im_end|>`,
  // `<end_of_turn>`, `</s>`); some templates write the next generation prompt after it.
  const after = rendered.slice(rendered.indexOf(ASSISTANT_MARK) + ASSISTANT_MARK.length).trim();
  const endOfTurn = /^<[^<>\s]+>/.exec(after)?.[0] ?? (after === '' ? eosToken : after);
  if (!rendered.includes(ASSISTANT_MARK) || endOfTurn === '')
    throw new TemplateError(source, 'chat_template', 'cannot tell how it ends an assistant turn');
  return StudentFormat.fromObject(
    {
      ...format.template,
      chat: { template, ...(bosToken ? { bosToken } : {}), endOfTurn },
    },
    source,
  );
}

/** Loads a student format from a template JSON file (see {@link StudentFormat.load}). */
export function loadStudentFormat(file: string): StudentFormat {
  return StudentFormat.load(file);
}

/** The path of a shipped template: `student-format.json` or `student-format-compact.json`. */
export function studentTemplatePath(variant: StudentFormatVariant = 'full'): string {
  const name = variant === 'full' ? 'student-format.json' : 'student-format-compact.json';
  return path.join(TEMPLATES_DIR, name);
}

/** The shipped student format; `compact` is the short variant for tiny from-scratch models. */
export function defaultStudentFormat(variant: StudentFormatVariant = 'full'): StudentFormat {
  return StudentFormat.load(studentTemplatePath(variant));
}
