import type { Problem, Strategy } from '../types';
import type { GenerationOptions, StudentSample, TextSampler } from './types';

/** The parts of the student text format (strategies' StudentFormat) that sampling needs. */
export interface PromptFormat {
  renderPrompt(question: string, forced?: Strategy): string;
  parseCompletion(
    generated: string,
    forced?: Strategy,
  ): { strategy: Strategy | null; text: string; error?: string };
  stopSequences(): string[];
}

/**
 * Asks `sampler` for `options.numSamples` completions per problem with prompts from `format`
 * (the student picks its strategy, or `forced` is appended to the prompt) and reads each back
 * into a strategy and solution text. Output is ordered by problem, then sample index.
 */
export async function sampleSolutions(
  sampler: TextSampler,
  format: PromptFormat,
  problems: readonly Problem[],
  options: GenerationOptions & { forced?: Strategy },
): Promise<StudentSample[]> {
  const prompts = problems.map((problem) => format.renderPrompt(problem.question, options.forced));
  const stop = [...(options.stop ?? []), ...format.stopSequences()];
  const generated = await sampler.generate(prompts, { ...options, stop });
  return generated.map((completion) => {
    const parsed = format.parseCompletion(completion.text, options.forced);
    const sample: StudentSample = {
      problemId: problems[completion.promptIndex]!.id,
      sampleIndex: completion.sampleIndex,
      strategy: parsed.strategy,
      text: parsed.text,
      finishReason: completion.finishReason,
    };
    if (parsed.error !== undefined) sample.error = parsed.error;
    return sample;
  });
}
