import { promises as fs } from 'node:fs';
import {
  isStrategy,
  type Problem,
  type Strategy,
  type Teacher,
  type TeacherSample,
} from '../types';

/**
 * A teacher whose solutions are already on disk (recorded from an earlier run or imported from a
 * published data set). `solve` returns, per problem, up to `samplesPerProblem` recorded solutions
 * with the asked strategy, in file order; problems without any are simply absent from the result.
 */
export class RecordedTeacher implements Teacher {
  private readonly byProblemAndStrategy = new Map<string, string[]>();

  constructor(
    samples: Iterable<TeacherSample>,
    /** Shown in manifests and reports. */
    readonly name = 'recorded',
  ) {
    for (const sample of samples) {
      const key = `${sample.problemId}\u0000${sample.strategy}`;
      const list = this.byProblemAndStrategy.get(key) ?? [];
      list.push(sample.text);
      this.byProblemAndStrategy.set(key, list);
    }
  }

  /**
   * Reads JSONL where each line has string `problemId`, `strategy` ('cot' | 'l2m' | 'pot') and
   * string `text` (TeacherSample or Solution records both qualify; other fields are ignored).
   * A bad line throws an error naming the file, line and field.
   */
  static async fromJsonl(file: string, name = `recorded:${file}`): Promise<RecordedTeacher> {
    const text = await fs.readFile(file, 'utf8');
    const samples: TeacherSample[] = [];
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      const where = `${file}:${index + 1}`;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new Error(`${where}: not valid JSON (${(error as Error).message})`, { cause: error });
      }
      if (typeof record.problemId !== 'string')
        throw new Error(`${where}: field "problemId" must be a string`);
      if (!isStrategy(record.strategy)) {
        throw new Error(
          `${where}: field "strategy" must be "cot", "l2m" or "pot", got ${JSON.stringify(record.strategy)}`,
        );
      }
      if (typeof record.text !== 'string')
        throw new Error(`${where}: field "text" must be a string`);
      samples.push({ problemId: record.problemId, strategy: record.strategy, text: record.text });
    });
    return new RecordedTeacher(samples, name);
  }

  /** How many recorded solutions exist for each strategy. */
  countByStrategy(): Record<Strategy, number> {
    const counts: Record<Strategy, number> = { cot: 0, l2m: 0, pot: 0 };
    for (const [key, texts] of this.byProblemAndStrategy) {
      counts[key.split('\u0000')[1] as Strategy] += texts.length;
    }
    return counts;
  }

  solve(
    problems: readonly Problem[],
    strategy: Strategy,
    samplesPerProblem: number,
  ): Promise<TeacherSample[]> {
    const samples: TeacherSample[] = [];
    for (const problem of problems) {
      const texts = this.byProblemAndStrategy.get(`${problem.id}\u0000${strategy}`) ?? [];
      for (const text of texts.slice(0, samplesPerProblem))
        samples.push({ problemId: problem.id, strategy, text });
    }
    return Promise.resolve(samples);
  }
}
