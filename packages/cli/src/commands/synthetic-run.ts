// What `demo` and `experiment` share: the inputs of a SIKeD run in the synthetic world.
import {
  EngineStudentFactory,
  StudentFormat,
  nativeModelLoader,
  writeSyntheticBaseModel,
  type Problem,
  type SikedRunOptions,
  type SyntheticWorld,
} from '@siked/core';

/** The run inputs that do not depend on the arm: problems, teacher, student, format. */
export type SyntheticRunInputs = Pick<
  SikedRunOptions,
  'trainProblems' | 'evalSets' | 'teacher' | 'studentFactory' | 'studentName' | 'format'
>;

/**
 * Writes the world's base student into `baseDir` (kept when already there) and returns the
 * run inputs over it. The world's own validation split stays unused: the loop holds out its
 * validation slice from the training questions (METHOD.md); the test and out-of-distribution
 * splits are evaluated.
 */
export async function syntheticRunInputs(
  world: SyntheticWorld,
  baseDir: string,
  engine: {
    device: 'cpu' | 'cuda';
    threads?: number;
    /**
     * The students' matrix multiplies. The pretrained base is made in fp32 whatever this says: a
     * base pretrained in bf16 distilled far worse on the demo (docs/SYNTHETIC_WORLD.md).
     */
    precision?: 'fp32' | 'bf16';
    /** Pretrain M0 on the world's unlabelled text (cached in `cacheDir`) instead of random init. */
    pretrain?: boolean;
    cacheDir?: string;
    log?: (message: string) => void;
  },
): Promise<SyntheticRunInputs> {
  await writeSyntheticBaseModel(world, baseDir, {
    threads: engine.threads,
    pretrain: engine.pretrain,
    cacheDir: engine.cacheDir,
    onProgress: (event) => {
      if (event.type === 'cache-hit') engine.log?.(`pretrained base from cache ${event.cachedDir}`);
      else if (event.type === 'trained')
        engine.log?.(
          `pretrained base: ${event.summary.steps} steps, loss ${event.summary.firstLoss.toFixed(3)} -> ${event.summary.finalLoss.toFixed(3)}, ${event.summary.seconds.toFixed(0)} s`,
        );
      else if (event.type === 'step' && event.progress.step % 500 === 0)
        engine.log?.(
          `pretraining step ${event.progress.step}/${event.progress.totalSteps}, loss ${event.progress.loss.toFixed(3)}`,
        );
    },
  });
  const evalSets: Record<string, Problem[]> = Object.fromEntries(
    Object.entries(world.splits).filter(([name]) => name !== 'train' && name !== 'validation'),
  );
  return {
    trainProblems: world.splits.train,
    evalSets,
    teacher: world.teacher,
    studentFactory: new EngineStudentFactory({
      baseDir,
      loadModel: nativeModelLoader({
        device: engine.device,
        threads: engine.threads,
        precision: engine.precision,
      }),
    }),
    studentName: `synthetic-${world.preset.name} (${world.parameterCount} parameters)`,
    format: StudentFormat.fromObject(world.studentTemplate, 'synthetic world'),
  };
}
