// The student's text format: how a question becomes a prompt, how a verified solution becomes
// a training target (`[cot]: ...`), and how a generated completion is read back.
import * as path from 'node:path';
import { z } from 'zod';
import { STRATEGIES, type Strategy } from '../types';
import { TEMPLATES_DIR, TemplateError, readTemplateFile, validateTemplate } from './templates';

const QUESTION_SLOT = '{question}';

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
});

/**
 * A student text template, as stored in `templates/student-format*.json`.
 * - `prompt`: instruction + input ending in a response header; `{question}` marks the problem.
 * - `tags`: the strategy tag that starts every target, e.g. `[cot]: `.
 * - `eos`: text appended after each target; leave it '' when the trainer appends the
 *   tokenizer's end-of-sequence token id itself (the usual case).
 * - `stop`: texts that end a generation when the model runs on into a new prompt.
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

  /** The prompt for `question`; with `forced`, the strategy's tag is appended so the model must use it. */
  renderPrompt(question: string, forced?: Strategy): string {
    const [before, after] = this.template.prompt.split(QUESTION_SLOT);
    const prompt = `${before}${question.trim()}${after}`;
    return forced === undefined ? prompt : `${prompt}${this.template.tags[forced]}`;
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
