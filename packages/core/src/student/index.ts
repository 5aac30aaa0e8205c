// Public API of this module, re-exported by src/index.ts.
export type {
  GeneratedText,
  GenerationOptions,
  ScoredText,
  Student,
  StudentFactory,
  StudentSample,
  TextSampler,
  TrainingExample,
  TrainingSchedule,
  TrainProgress,
  TrainSummary,
} from './types';
export { learningRateAt, validateSchedule } from './schedule';
export {
  bucketedBatchOrder,
  packedBatchOrder,
  makeMicroBatch,
  packExample,
  shuffledIndices,
  type MicroBatch,
  type TokenizedExample,
} from './batching';
export { HfTokenizer, type TokenizerOptions } from './tokenizer';
export type {
  EngineModel,
  EngineGeneration,
  EngineLoraOptions,
  EngineTrainBatch,
} from './engine-model';
export { DEFAULT_LORA, EngineStudent, type EngineStudentOptions } from './engine-student';
export { EngineStudentFactory, nativeModelLoader, type EngineModelLoader } from './engine-factory';
export { sampleSolutions, type PromptFormat } from './sampling';
export { RemoteSampler, type RemoteSamplerOptions } from './remote-sampler';
export {
  OpenAiStudentServer,
  type OpenAiStudentServerOptions,
  type ServedCheckpoint,
  type StudentServer,
} from './served-student';
export {
  composeAdapters,
  readPeftAdapter,
  writePeftAdapter,
  type PeftAdapter,
  type PeftAdapterConfig,
} from './peft-adapter';
export { ExternalTrainerFactory, type ExternalTrainerOptions } from './external-trainer';
export { runShellCommand, type ShellCommandOptions } from './shell-command';
