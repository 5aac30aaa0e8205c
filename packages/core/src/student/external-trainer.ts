// The scale-out path for training: each train() call is handed to an external trainer command
// (TRL's SFT under accelerate/torchrun on a GPU cluster, or any program that reads the files
// below), and the adapter or checkpoint it writes is read back into the engine student, so the
// rest of the loop (saving, adapters, sampling, evaluation, resume) is unchanged.
//
// The command runs in a shell with these variables set:
//   SIKED_TRAIN_FILE     JSONL, one {"prompt", "completion"} per example (TRL's prompt-completion
//                        format; the completion has no EOS: the trainer's tokenizer appends its own)
//   SIKED_SETTINGS_FILE  JSON: the training schedule (epochs, learning rate, warmup, scheduler,
//                        batch, max length, packing, weight decay, clipping, seed) and the LoRA
//                        settings (rank, alpha, target modules) or null for full fine-tuning
//   SIKED_MODEL_DIR      the Hugging Face checkpoint to start from (the base model or the
//                        previous iteration's merged student)
//   SIKED_OUTPUT_DIR     where to write the result: a PEFT adapter (adapter_config.json +
//                        adapter_model.safetensors) trained on top of SIKED_MODEL_DIR, or a whole
//                        checkpoint (model.safetensors + config.json)
// Its output goes to trainer.log in its work folder, which a failure names.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EngineLoraOptions } from './engine-model';
import type { EngineStudent } from './engine-student';
import type { PeftAdapter } from './peft-adapter';
import { runShellCommand } from './shell-command';
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
} from './types';

/** Settings of {@link ExternalTrainerFactory}. */
export interface ExternalTrainerOptions {
  /** The shell command that trains (see the file comment for what it is given). */
  command: string;
  /** Folder for each call's work folder (train.jsonl, settings.json, trainer.log, output). */
  workDir: string;
  /** The LoRA settings the trainer is asked to use (undefined = full fine-tuning). */
  lora?: Omit<EngineLoraOptions, 'seed'>;
  /** Sees the trainer's output as it comes. */
  onOutput?: (text: string) => void;
}

/** Loads engine students whose train() runs an external trainer command. */
export class ExternalTrainerFactory implements StudentFactory {
  constructor(
    private readonly inner: {
      loadBase(): Promise<EngineStudent>;
      load(dir: string): Promise<EngineStudent>;
    },
    private readonly baseDir: string,
    private readonly options: ExternalTrainerOptions,
  ) {}

  async loadBase(): Promise<Student> {
    return new ExternallyTrainedStudent(
      await this.inner.loadBase(),
      this.baseDir,
      this.inner,
      this.options,
    );
  }

  async load(dir: string): Promise<Student> {
    return new ExternallyTrainedStudent(await this.inner.load(dir), dir, this.inner, this.options);
  }
}

/** Log-history entries of a Hugging Face Trainer's trainer_state.json that carry a loss. */
interface LoggedStep {
  step: number;
  loss: number;
  learning_rate?: number;
  grad_norm?: number;
  epoch?: number;
}

async function readTrainerState(
  out: string,
): Promise<{ steps: number | undefined; logged: LoggedStep[] }> {
  // The Trainer writes it into the output folder or its last checkpoint-N folder.
  const candidates = [path.join(out, 'trainer_state.json')];
  for (const entry of existsSync(out) ? await fs.readdir(out) : []) {
    if (/^checkpoint-\d+$/.test(entry))
      candidates.push(path.join(out, entry, 'trainer_state.json'));
  }
  for (const file of candidates.reverse()) {
    if (!existsSync(file)) continue;
    const state = JSON.parse(await fs.readFile(file, 'utf8')) as {
      global_step?: number;
      log_history?: Array<Record<string, unknown>>;
    };
    const logged = (state.log_history ?? []).filter(
      (entry): entry is LoggedStep & Record<string, unknown> =>
        typeof entry.loss === 'number' && typeof entry.step === 'number',
    );
    return { steps: state.global_step, logged };
  }
  return { steps: undefined, logged: [] };
}

/** An engine student whose training happens in an external command. */
class ExternallyTrainedStudent implements Student {
  constructor(
    private student: EngineStudent,
    private readonly sourceDir: string,
    private readonly factory: { load(dir: string): Promise<EngineStudent> },
    private readonly options: ExternalTrainerOptions,
  ) {}

  async train(
    examples: readonly TrainingExample[],
    schedule: TrainingSchedule,
    onProgress?: (progress: TrainProgress) => void,
  ): Promise<TrainSummary> {
    const started = Date.now();
    await fs.mkdir(this.options.workDir, { recursive: true });
    const work = await fs.mkdtemp(path.join(this.options.workDir, `train-seed${schedule.seed}-`));
    const trainFile = path.join(work, 'train.jsonl');
    const settingsFile = path.join(work, 'settings.json');
    const out = path.join(work, 'output');
    await fs.writeFile(
      trainFile,
      examples.map((e) => JSON.stringify({ prompt: e.prompt, completion: e.target })).join('\n') +
        '\n',
    );
    await fs.writeFile(
      settingsFile,
      JSON.stringify({ schedule, lora: this.options.lora ?? null }, null, 2) + '\n',
    );
    await runShellCommand(this.options.command, {
      role: 'trainer command',
      env: {
        SIKED_TRAIN_FILE: trainFile,
        SIKED_SETTINGS_FILE: settingsFile,
        SIKED_MODEL_DIR: path.resolve(this.sourceDir),
        SIKED_OUTPUT_DIR: out,
      },
      logFile: path.join(work, 'trainer.log'),
      ...(this.options.onOutput ? { onOutput: this.options.onOutput } : {}),
    });
    const isAdapter = existsSync(path.join(out, 'adapter_config.json'));
    if (isAdapter) {
      await this.student.mergeAdapterFrom(out);
    } else if (existsSync(path.join(out, 'model.safetensors'))) {
      // A whole checkpoint: load it as the student, with the tokenizer files of the one before.
      for (const name of ['tokenizer.json', 'tokenizer_config.json', 'student-format.json']) {
        const from = path.join(this.sourceDir, name);
        if (existsSync(from) && !existsSync(path.join(out, name)))
          await fs.copyFile(from, path.join(out, name));
      }
      const next = await this.factory.load(out);
      this.student.dispose();
      this.student = next;
    } else {
      throw new Error(
        `trainer command wrote neither a PEFT adapter (adapter_config.json) nor a checkpoint (model.safetensors) into ${out}; see ${path.join(work, 'trainer.log')}`,
      );
    }
    const { steps, logged } = await readTrainerState(out);
    for (const entry of logged) {
      onProgress?.({
        step: entry.step,
        totalSteps: steps ?? entry.step,
        epoch: Math.ceil(entry.epoch ?? 1),
        loss: entry.loss,
        gradNorm: entry.grad_norm ?? NaN,
        learningRate: entry.learning_rate ?? NaN,
        tokensPerSecond: NaN,
        targetTokens: NaN,
      });
    }
    // An adapter is now merged (the loop keeps it in adapter/); a checkpoint is the student's
    // folder until the loop saves it. The inputs and the log stay for inspection.
    if (isAdapter) await fs.rm(out, { recursive: true, force: true });
    return {
      steps: steps ?? logged.at(-1)?.step ?? NaN,
      examples: examples.length,
      truncatedExamples: NaN,
      droppedExamples: NaN,
      paddingShare: NaN,
      finalLoss: logged.at(-1)?.loss ?? NaN,
      meanTokensPerSecond: NaN,
      elapsedMs: Date.now() - started,
    };
  }

  generate(prompts: readonly string[], options: GenerationOptions): Promise<GeneratedText[]> {
    return this.student.generate(prompts, options);
  }
  score(texts: readonly string[]): Promise<ScoredText[]> {
    return this.student.score(texts);
  }
  save(dir: string): Promise<void> {
    return this.student.save(dir);
  }
  trainedAdapter(): PeftAdapter | undefined {
    return this.student.trainedAdapter();
  }
  dispose(): void {
    this.student.dispose();
  }
}
