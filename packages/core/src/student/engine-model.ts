// The part of @siked/native-cuda's `Model` (docs/ENGINE_API.md) that the student adapter uses,
// written as a structural type so the adapter depends on the documented contract, not on one build.

/** A training batch in the engine's layout. */
export interface EngineTrainBatch {
  tokens: Int32Array;
  lossMask: Uint8Array;
  batchSize: number;
  seqLen: number;
  /** Packed rows: position ids restarting at 0 per document (ENGINE_API.md, TrainBatch). */
  positions?: Int32Array;
}

/** One generation from the engine. */
export interface EngineGeneration {
  promptIndex: number;
  sampleIndex: number;
  tokens: number[];
  logprobs: number[];
  finishReason: 'stop' | 'length';
}

/** The LoRA settings of docs/ENGINE_API.md. */
export interface EngineLoraOptions {
  rank: number;
  alpha: number;
  targets: Array<'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'>;
  seed: number;
}

/** The engine model's methods the student calls. */
export interface EngineModel {
  readonly config: {
    vocab_size: number;
    max_position_embeddings: number;
    eos_token_id?: number | number[] | null;
  };
  save(dir: string): Promise<void>;
  enableLora(options: EngineLoraOptions): void;
  mergeLora(): void;
  /** The adapters' PEFT names and shapes (to keep a trained adapter before it is merged). */
  loraTable?(): Array<{ name: string; shape: number[] }>;
  getParameter?(name: string): Float32Array;
  /** Enables LoRA from a PEFT folder and loads it (an adapter trained elsewhere). */
  loadLora?(dir: string): Promise<void>;
  configureOptimizer(options: {
    beta1?: number;
    beta2?: number;
    eps?: number;
    weightDecay?: number;
    maxGradNorm?: number;
  }): void;
  accumulate(batch: EngineTrainBatch): Promise<{ loss: number; tokens: number }>;
  step(learningRate: number): Promise<{ loss: number; gradNorm: number; tokens: number }>;
  scoreTokens(sequences: number[][]): Promise<Float32Array[]>;
  generate(
    prompts: number[][],
    options: {
      maxNewTokens: number;
      temperature?: number;
      topP?: number;
      seed?: number;
      stopTokenIds?: number[];
      numSamples?: number;
    },
  ): Promise<EngineGeneration[]>;
  dispose(): void;
}
