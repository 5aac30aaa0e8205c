// The scale-out path for sampling: each iteration's student is put on an OpenAI-compatible
// server (vLLM) and self-generation (and, if asked, evaluation) is sent there. A LoRA run's
// student reaches a server that holds the base model M0 through vLLM's runtime LoRA endpoints
// (POST /v1/load_lora_adapter with the iteration's adapter-from-base folder, then requests name
// that adapter); any student reaches any server through a user-given reload command, which is
// told where the checkpoint is and must leave the server serving it.
import { createHash } from 'node:crypto';
import {
  RemoteSampler,
  authorizationHeaders,
  serverRoot,
  type RemoteSamplerOptions,
} from './remote-sampler';
import { runShellCommand } from './shell-command';
import type { TextSampler } from './types';

/** The checkpoint to serve: iteration t's student. Paths are as the SERVER must read them. */
export interface ServedCheckpoint {
  iteration: number;
  /** The merged Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer). */
  modelDir: string;
  /** The PEFT adapter that turns the base model into this student (LoRA runs only). */
  adapterDir?: string;
}

/** Puts a student on a server and hands back the sampler that answers from it. */
export interface StudentServer {
  serve(checkpoint: ServedCheckpoint): Promise<TextSampler>;
  /** Whether evaluation is sent to the server too (default: only self-generation). */
  readonly evaluation?: boolean;
}

/** Settings of an {@link OpenAiStudentServer}. */
export interface OpenAiStudentServerOptions extends RemoteSamplerOptions {
  /**
   * Shell command that makes the server serve a new checkpoint (restart vLLM on it, swap a
   * symlink and reload...). Run with SIKED_MODEL_DIR, SIKED_ADAPTER_DIR (LoRA runs) and
   * SIKED_ITERATION set; the server is then polled until GET /models answers. Without it, LoRA
   * adapters are loaded through the runtime LoRA endpoints.
   */
  reloadCommand?: string;
  /**
   * Served adapter names are `${adapterPrefix}-<hash of the adapter folder>-iter-${t}` (prefix
   * default "siked").
   */
  adapterPrefix?: string;
  /** How long to wait for the server after a reload command (default 900 s). */
  readyTimeoutMs?: number;
  /** Send evaluation to the server too. */
  evaluation?: boolean;
  /** Where the reload command's output goes (default: discarded unless it fails). */
  onOutput?: (text: string) => void;
}

/** What a POST to a control endpoint answered. */
async function postControl(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(600_000), // a big adapter can take minutes to load
  });
  return { status: response.status, text: await response.text() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A vLLM-style OpenAI-compatible server as the place the loop samples from. `model` is the
 * served base model's name (vLLM's --served-model-name, or its path).
 */
export class OpenAiStudentServer implements StudentServer {
  readonly evaluation: boolean;
  private readonly root: string;
  private readonly headers: Record<string, string>;
  private loaded: string | undefined;

  constructor(private readonly options: OpenAiStudentServerOptions) {
    this.root = serverRoot(options);
    this.evaluation = options.evaluation ?? false;
    this.headers = authorizationHeaders(options);
  }

  async serve(checkpoint: ServedCheckpoint): Promise<TextSampler> {
    if (this.options.reloadCommand !== undefined) {
      await runShellCommand(this.options.reloadCommand, {
        role: 'reload command',
        env: {
          SIKED_MODEL_DIR: checkpoint.modelDir,
          SIKED_ADAPTER_DIR: checkpoint.adapterDir ?? '',
          SIKED_ITERATION: String(checkpoint.iteration),
        },
        ...(this.options.onOutput ? { onOutput: this.options.onOutput } : {}),
      });
      await this.waitUntilReady();
      return new RemoteSampler(this.options);
    }
    if (checkpoint.adapterDir === undefined) {
      throw new Error(
        `iteration ${checkpoint.iteration}'s student has no LoRA adapter (full fine-tuning), so a server holding the base model cannot load it at run time: give a reload command (--sampler-reload-command) that serves ${checkpoint.modelDir}`,
      );
    }
    // The adapter's folder is in the name, so runs sharing a server never answer from each
    // other's adapters, while a resumed run finds its own already loaded.
    const folder = createHash('sha256').update(checkpoint.adapterDir).digest('hex').slice(0, 10);
    const name = `${this.options.adapterPrefix ?? 'siked'}-${folder}-iter-${checkpoint.iteration}`;
    await this.loadAdapter(name, checkpoint.adapterDir);
    return new RemoteSampler({ ...this.options, model: name });
  }

  /** Registers the adapter (an already-loaded name is fine: a resumed run) and drops the last one. */
  private async loadAdapter(name: string, adapterDir: string): Promise<void> {
    const url = `${this.root}/load_lora_adapter`;
    const answer = await postControl(
      url,
      { lora_name: name, lora_path: adapterDir },
      this.headers,
    ).catch((error: Error) => {
      throw new Error(`POST ${url}: ${error.message} (is the server up, with --enable-lora?)`);
    });
    const already = answer.status === 400 && /already (been )?loaded/i.test(answer.text);
    if (answer.status !== 200 && !already) {
      const hint =
        answer.status === 404
          ? ' (vLLM needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True and --enable-lora; or use --sampler-reload-command)'
          : '';
      throw new Error(
        `POST ${url} for ${name}: HTTP ${answer.status}: ${answer.text.slice(0, 500)}${hint}`,
      );
    }
    if (this.loaded !== undefined && this.loaded !== name) {
      // Best effort: a server keeps serving with the old adapter loaded, only memory is spent.
      await postControl(
        `${this.root}/unload_lora_adapter`,
        { lora_name: this.loaded },
        this.headers,
      ).catch(() => undefined);
    }
    this.loaded = name;
  }

  /** Polls GET /models until the server answers 200 and lists the served model. */
  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 900_000);
    let last = '';
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${this.root}/models`, {
          headers: this.headers,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (response.ok && text.includes(JSON.stringify(this.options.model))) return;
        last = `HTTP ${response.status}: ${text.slice(0, 200)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(500);
    }
    throw new Error(
      `${this.root}/models did not list ${JSON.stringify(this.options.model)} after the reload command (last: ${last})`,
    );
  }
}
