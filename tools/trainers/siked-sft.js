#!/usr/bin/env node
// An external trainer for `siked distill --trainer-command` that trains with siked's own CPU/CUDA
// engine in a separate process: the reference for what any trainer given to --trainer-command
// must do (docs/SCALING.md), and what the tests run. It reads the files siked hands over
// (SIKED_TRAIN_FILE, SIKED_SETTINGS_FILE, SIKED_MODEL_DIR) and writes a PEFT adapter (LoRA) or a
// whole checkpoint (full fine-tuning) into SIKED_OUTPUT_DIR, plus a Hugging Face style
// trainer_state.json with its loss log.
//
//   siked distill ... --trainer-command "node tools/trainers/siked-sft.js"
//   SIKED_SFT_DEVICE=cuda selects the CUDA backend.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { EngineStudentFactory, nativeModelLoader } = require('@siked/core');

function required(name) {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set (this script is run by siked distill --trainer-command)`);
  return value;
}

async function main() {
  const trainFile = required('SIKED_TRAIN_FILE');
  const { schedule, lora } = JSON.parse(fs.readFileSync(required('SIKED_SETTINGS_FILE'), 'utf8'));
  const modelDir = required('SIKED_MODEL_DIR');
  const out = required('SIKED_OUTPUT_DIR');
  const examples = fs
    .readFileSync(trainFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const record = JSON.parse(line);
      if (typeof record.prompt !== 'string' || typeof record.completion !== 'string')
        throw new Error(`${trainFile}:${i + 1}: expected string fields "prompt" and "completion"`);
      return { prompt: record.prompt, target: record.completion };
    });
  const factory = new EngineStudentFactory({
    baseDir: modelDir,
    loadModel: nativeModelLoader({ device: process.env.SIKED_SFT_DEVICE || 'cpu' }),
    student: lora ? { lora } : {},
  });
  const student = await factory.loadBase();
  const logHistory = [];
  try {
    const summary = await student.train(examples, schedule, (progress) => {
      logHistory.push({
        step: progress.step,
        epoch: progress.epoch,
        loss: progress.loss,
        grad_norm: progress.gradNorm,
        learning_rate: progress.learningRate,
      });
      if (progress.step % 10 === 0 || progress.step === progress.totalSteps)
        console.log(
          `step ${progress.step}/${progress.totalSteps} loss ${progress.loss.toFixed(4)}`,
        );
    });
    fs.mkdirSync(out, { recursive: true });
    if (!(await student.saveAdapter(out))) await student.save(out);
    fs.writeFileSync(
      path.join(out, 'trainer_state.json'),
      JSON.stringify({ global_step: summary.steps, log_history: logHistory }, null, 2),
    );
    console.log(`trained ${summary.steps} steps on ${summary.examples} examples; wrote ${out}`);
  } finally {
    student.dispose();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
