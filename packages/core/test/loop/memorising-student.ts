// MemorisingStudent: a TEST-ONLY deterministic student for the loop's control-flow tests. It
// "learns" by remembering each training target under its prompt and "generates" by replaying
// what it remembers (cycling through samples), or a fixed wrong answer for unseen prompts.
// The real engine is exercised by the end-to-end resume test.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type {
  GeneratedText,
  GenerationOptions,
  ScoredText,
  Student,
  StudentFactory,
  TrainingExample,
  TrainingSchedule,
  TrainProgress,
  TrainSummary,
} from '../../src';

const TAGS = ['[cot]: ', '[l2m]: ', '[pot]: '];
export const UNKNOWN_ANSWER = '[cot]: I do not know.\nFinal answer: 0';

export class MemorisingStudent implements Student {
  /** `capacity`: how many distinct prompts it can remember (a small model cannot fit everything). */
  constructor(
    private readonly memory: Record<string, string[]> = {},
    private readonly capacity = Infinity,
  ) {}

  train(
    examples: readonly TrainingExample[],
    schedule: TrainingSchedule,
    onProgress?: (progress: TrainProgress) => void,
  ): Promise<TrainSummary> {
    examples.forEach((example, i) => {
      const full = Object.keys(this.memory).length >= this.capacity;
      const list =
        this.memory[example.prompt] ?? (full ? undefined : (this.memory[example.prompt] = []));
      if (list && !list.includes(example.target)) list.push(example.target);
      onProgress?.({
        step: i + 1,
        totalSteps: examples.length,
        epoch: 1,
        loss: 1 / (i + 1),
        gradNorm: 1,
        learningRate: schedule.learningRate,
        tokensPerSecond: 1000,
        targetTokens: example.target.length,
      });
    });
    return Promise.resolve({
      // A step per example, or the schedule's fixed step count (compute-matched controls).
      steps: schedule.steps ?? examples.length,
      examples: examples.length,
      truncatedExamples: 0,
      paddingShare: 0,
      droppedExamples: 0,
      finalLoss: 1 / Math.max(1, examples.length),
      meanTokensPerSecond: 1000,
      elapsedMs: 0,
    });
  }

  generate(prompts: readonly string[], options: GenerationOptions): Promise<GeneratedText[]> {
    const out: GeneratedText[] = [];
    prompts.forEach((prompt, promptIndex) => {
      // A forced prompt ends with a tag: look up the plain prompt and drop the tag from the answer.
      const forcedTag = TAGS.find((tag) => prompt.endsWith(tag));
      const plain = forcedTag ? prompt.slice(0, -forcedTag.length) : prompt;
      const known = (this.memory[plain] ?? []).filter((t) => !forcedTag || t.startsWith(forcedTag));
      for (let sampleIndex = 0; sampleIndex < options.numSamples; sampleIndex += 1) {
        const pick =
          options.temperature === 0 ? 0 : (sampleIndex + options.seed) % Math.max(1, known.length);
        let text = known.length > 0 ? known[pick]! : UNKNOWN_ANSWER;
        if (forcedTag && text.startsWith(forcedTag)) text = text.slice(forcedTag.length);
        out.push({ promptIndex, sampleIndex, text, finishReason: 'stop', tokenCount: text.length });
      }
    });
    return Promise.resolve(out);
  }

  score(): Promise<ScoredText[]> {
    return Promise.reject(new Error('MemorisingStudent does not score'));
  }

  async save(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'memory.json'), JSON.stringify(this.memory));
  }

  dispose(): void {}
}

export class MemorisingStudentFactory implements StudentFactory {
  loads: string[] = [];
  constructor(private readonly capacity = Infinity) {}
  loadBase(): Promise<Student> {
    this.loads.push('base');
    return Promise.resolve(new MemorisingStudent({}, this.capacity));
  }
  async load(dir: string): Promise<Student> {
    this.loads.push(dir);
    const memory = JSON.parse(await fs.readFile(path.join(dir, 'memory.json'), 'utf8')) as Record<
      string,
      string[]
    >;
    return new MemorisingStudent(memory, this.capacity);
  }
}
