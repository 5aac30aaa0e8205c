// The TypeScript shape of the addon's NativeModel class (src/cpp/model_binding.cpp). Internal:
// Model (model.ts) validates every argument before calling it.
import type { NativeConfig } from './config';
import type { DecodeWeights } from './model';
import { loadBinding } from './addon';

/** A tensor's name and shape as the C++ slab lays it out. */
export interface TensorInfo {
  name: string;
  shape: number[];
}

/** One raw generation as returned by C++. */
export interface NativeGeneration {
  promptIndex: number;
  sampleIndex: number;
  tokens: Int32Array;
  logprobs: Float32Array;
  finishReason: 'stop' | 'length';
}

/** Methods of the C++ NativeModel. */
export interface NativeModel {
  parameterTable(): TensorInfo[];
  loraTable(): TensorInfo[];
  parameterCount(): number;
  getParameter(name: string): Float32Array;
  mergedParameter(name: string): Float32Array;
  setParameter(name: string, data: Float32Array): void;
  getGradient(name: string): Float32Array;
  enableLora(rank: number, alpha: number, targets: string[], seed: number): void;
  mergeLora(): void;
  configureOptimizer(
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    maxGradNorm: number,
  ): void;
  setPrecision(precision: 'fp32' | 'bf16'): string;
  accumulate(
    tokens: Int32Array,
    mask: Uint8Array,
    batchSize: number,
    seqLen: number,
    positions?: Int32Array,
  ): Promise<{ loss: number; tokens: number }>;
  step(learningRate: number): Promise<{ loss: number; gradNorm: number; tokens: number }>;
  logits(tokens: Int32Array, batchSize: number, seqLen: number): Promise<Float32Array>;
  score(tokens: Int32Array, lengths: Int32Array): Promise<Float32Array[]>;
  generate(
    tokens: Int32Array,
    lengths: Int32Array,
    options: {
      maxNewTokens: number;
      temperature: number;
      topK: number;
      topP: number;
      seed: number;
      numSamples: number;
      weights?: DecodeWeights;
      stopTokenIds: Int32Array;
    },
  ): Promise<NativeGeneration[]>;
  dispose(): void;
}

/** Where the C++ model lives: the CPU engine or the CUDA backend. */
export type NativeDevice = 'cpu' | 'cuda';

type NativeModelConstructor = new (
  config: NativeConfig,
  threads: number,
  seed: number,
  randomInit: boolean,
  device: NativeDevice,
) => NativeModel;

/** Builds the C++ model (random init when `randomInit`, zeros otherwise) on `device`. */
export function createNativeModel(
  config: NativeConfig,
  threads: number,
  seed: number,
  randomInit: boolean,
  device: NativeDevice = 'cpu',
): NativeModel {
  const ctor = loadBinding().NativeModel as NativeModelConstructor;
  return new ctor(config, threads, seed, randomInit, device);
}
