/**
 * @siked/native-cuda: the student engine (C++ CPU backend, optional CUDA backend) behind a typed API.
 * This file is the package's only public surface.
 */
import { loadBinding, type BuildInfo } from './addon';

export { AddonLoadError, type BuildInfo } from './addon';
export { type ModelConfig, ModelConfigError, parseModelConfig, readModelConfig } from './config';
export {
  Model,
  peftAdapterConfig,
  type Generation,
  type LoadOptions,
  type LoraOptions,
  type LoraTarget,
  type OptimizerOptions,
  type DecodeWeights,
  type SampleOptions,
  type StepResult,
  type TrainBatch,
} from './model';
export type { TensorInfo } from './native-model';
export {
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  serializeSafetensors,
  type Tensor,
  writeSafetensors,
} from './safetensors';
export { EngineArgumentError } from './validate';
export {
  BENCH_CONFIGS,
  benchModelConfig,
  benchmarkEngine,
  type BenchmarkOptions,
  type EngineBenchmark,
  type EngineFigures,
} from './bench';

/** What this build of the engine contains (SIMD level, CUDA backend and visible devices). */
export function buildInfo(): BuildInfo {
  return loadBinding().buildInfo();
}
