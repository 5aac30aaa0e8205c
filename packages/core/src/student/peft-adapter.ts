// PEFT LoRA adapters as files (adapter_config.json + adapter_model.safetensors): read, write,
// and compose. Composition is what lets a vLLM server that holds only the base model M0 sample
// from iteration t's student: each iteration trains a fresh adapter on top of the previous
// student with the earlier ones merged in, so the student is M0 + sum_i s_i B_i A_i, which is
// exactly ONE adapter of the summed rank with A = [A_0; A_1; ...] and B = [s_0 B_0, s_1 B_1, ...]
// at scale 1 (lora_alpha = r).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeSafetensors, type Tensor } from '@siked/native-cuda';

/** The adapter_config.json fields that matter here (PEFT names); others are kept as read. */
export interface PeftAdapterConfig {
  r: number;
  lora_alpha: number;
  target_modules: string[];
  [key: string]: unknown;
}

/** An adapter in memory: its config and tensors by PEFT name (`...q_proj.lora_A.weight`). */
export interface PeftAdapter {
  config: PeftAdapterConfig;
  tensors: Map<string, Tensor>;
}

const A_SUFFIX = '.lora_A.weight';
const B_SUFFIX = '.lora_B.weight';

/** Reads a PEFT adapter folder; errors name the file and what is wrong. */
export async function readPeftAdapter(dir: string): Promise<PeftAdapter> {
  const configFile = path.join(dir, 'adapter_config.json');
  let config: PeftAdapterConfig;
  try {
    config = JSON.parse(await fs.readFile(configFile, 'utf8')) as PeftAdapterConfig;
  } catch (error) {
    throw new Error(`${configFile}: cannot read the adapter config (${(error as Error).message})`, {
      cause: error,
    });
  }
  for (const field of ['r', 'lora_alpha'] as const) {
    if (typeof config[field] !== 'number' || !(config[field] > 0))
      throw new Error(`${configFile}: field "${field}" must be a positive number`);
  }
  if (config.use_rslora === true || config.use_dora === true)
    throw new Error(`${configFile}: rsLoRA / DoRA adapters are not supported (plain LoRA only)`);
  const tensors = await readSafetensors(path.join(dir, 'adapter_model.safetensors'));
  return { config, tensors };
}

/** Writes `adapter` as a PEFT folder vLLM and `peft.PeftModel.from_pretrained` read. */
export async function writePeftAdapter(dir: string, adapter: PeftAdapter): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(
    path.join(dir, 'adapter_config.json'),
    JSON.stringify(adapter.config, null, 2) + '\n',
  );
  await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), [...adapter.tensors]);
}

/** The adapted modules of an adapter: module prefix -> its A [r, in] and B [out, r]. */
function modulesOf(adapter: PeftAdapter, what: string): Map<string, { a: Tensor; b: Tensor }> {
  const modules = new Map<string, { a: Tensor; b: Tensor }>();
  for (const [name, a] of adapter.tensors) {
    if (!name.endsWith(A_SUFFIX)) continue;
    const prefix = name.slice(0, -A_SUFFIX.length);
    const b = adapter.tensors.get(prefix + B_SUFFIX);
    if (!b) throw new Error(`${what}: ${name} has no matching ${prefix + B_SUFFIX}`);
    const r = adapter.config.r;
    if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[0] !== r || b.shape[1] !== r)
      throw new Error(
        `${what}: ${prefix} has A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}], not rank ${r}`,
      );
    modules.set(prefix, { a, b });
  }
  return modules;
}

/**
 * One adapter equal to applying `adapters` together (their updates summed): ranks add up, each
 * B is scaled by its adapter's lora_alpha / r, and the result has lora_alpha = r (scale 1). A
 * module missing from some adapter contributes zero rows there.
 */
export function composeAdapters(adapters: readonly PeftAdapter[], what = 'adapters'): PeftAdapter {
  if (adapters.length === 0) throw new Error(`${what}: nothing to compose`);
  if (adapters.length === 1) return adapters[0]!;
  const parts = adapters.map((adapter, i) => ({
    scale: adapter.config.lora_alpha / adapter.config.r,
    r: adapter.config.r,
    modules: modulesOf(adapter, `${what}[${i}]`),
  }));
  const rank = parts.reduce((sum, part) => sum + part.r, 0);
  const prefixes = [...new Set(parts.flatMap((part) => [...part.modules.keys()]))].sort();
  const tensors = new Map<string, Tensor>();
  for (const prefix of prefixes) {
    const present = parts.map((part) => part.modules.get(prefix)).find((m) => m !== undefined)!;
    const inDim = present.a.shape[1]!;
    const outDim = present.b.shape[0]!;
    const a = new Float32Array(rank * inDim);
    const b = new Float32Array(outDim * rank);
    let offset = 0;
    for (const part of parts) {
      const module = part.modules.get(prefix);
      if (module) {
        if (module.a.shape[1] !== inDim || module.b.shape[0] !== outDim)
          throw new Error(`${what}: ${prefix} has different shapes in different adapters`);
        a.set(module.a.data, offset * inDim);
        for (let row = 0; row < outDim; row++)
          for (let k = 0; k < part.r; k++)
            b[row * rank + offset + k] = part.scale * module.b.data[row * part.r + k]!;
      }
      offset += part.r;
    }
    tensors.set(prefix + A_SUFFIX, { shape: [rank, inDim], data: a });
    tensors.set(prefix + B_SUFFIX, { shape: [outDim, rank], data: b });
  }
  const targets = [...new Set(adapters.flatMap((adapter) => adapter.config.target_modules))];
  return {
    config: { ...adapters.at(-1)!.config, r: rank, lora_alpha: rank, target_modules: targets },
    tensors,
  };
}
