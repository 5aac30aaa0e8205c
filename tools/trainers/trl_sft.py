#!/usr/bin/env python3
"""An external trainer for `siked distill --trainer-command`: TRL's SFTTrainer on a GPU cluster.

siked runs this once per iteration with SIKED_TRAIN_FILE (prompt/completion JSONL),
SIKED_SETTINGS_FILE (the schedule and LoRA settings), SIKED_MODEL_DIR (the Hugging Face
checkpoint to start from) and SIKED_OUTPUT_DIR set, and reads back what it writes there: the
PEFT adapter (LoRA runs) or the whole checkpoint (full fine-tuning), with trainer_state.json.
Launch it under accelerate or torchrun for several GPUs (docs/SCALING.md):

  siked distill ... --trainer-command "accelerate launch --num_processes 8 tools/trainers/trl_sft.py"

Needs torch, transformers, datasets, peft and trl (>= 0.20: `max_length`, prompt-completion
data with the loss on the completion only, packing without cross-document attention when the
model runs flash attention).
"""
import json
import os
import sys

import torch
from datasets import load_dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer

SCHEDULERS = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}


def required(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set (this script is run by siked distill --trainer-command)")
    return value


def main():
    settings = json.load(open(required("SIKED_SETTINGS_FILE")))
    schedule, lora = settings["schedule"], settings["lora"]
    model_dir, out = required("SIKED_MODEL_DIR"), required("SIKED_OUTPUT_DIR")
    dataset = load_dataset("json", data_files=required("SIKED_TRAIN_FILE"), split="train")
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    packing = bool(schedule.get("packing"))
    model = AutoModelForCausalLM.from_pretrained(
        model_dir,
        torch_dtype=torch.bfloat16 if bf16 else torch.float32,
        # Packed rows are kept apart per document only by flash attention's varlen path.
        attn_implementation=os.environ.get("SIKED_ATTN", "flash_attention_2" if packing and cuda else "sdpa"),
    )
    warmup = {"warmup_steps": schedule["warmupSteps"]} if schedule.get("warmupSteps") is not None else {
        "warmup_ratio": schedule["warmupRatio"]
    }
    config = SFTConfig(
        output_dir=out,
        num_train_epochs=schedule["epochs"],
        max_steps=schedule.get("steps") or -1,
        learning_rate=schedule["learningRate"],
        lr_scheduler_type=SCHEDULERS[schedule.get("lrScheduler", "cosine")],
        weight_decay=schedule.get("weightDecay", 0.0),
        max_grad_norm=schedule.get("maxGradNorm") or 0.0,
        per_device_train_batch_size=schedule["microBatchSize"],
        gradient_accumulation_steps=schedule["gradientAccumulation"],
        max_length=schedule["maxSequenceLength"],
        packing=packing,
        completion_only_loss=True,
        seed=schedule["seed"],
        bf16=bf16,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        **warmup,
    )
    peft_config = (
        LoraConfig(
            r=lora["rank"],
            lora_alpha=lora["alpha"],
            target_modules=lora["targets"],
            lora_dropout=0.0,
            bias="none",
            task_type="CAUSAL_LM",
        )
        if lora
        else None
    )
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, peft_config=peft_config)
    trainer.train()
    if trainer.is_world_process_zero():
        # One file: siked reads model.safetensors (unsharded) or the adapter.
        trainer.model.save_pretrained(out, safe_serialization=True, max_shard_size="1000GB")
        trainer.state.save_to_json(os.path.join(out, "trainer_state.json"))


if __name__ == "__main__":
    main()
