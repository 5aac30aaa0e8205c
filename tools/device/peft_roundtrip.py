"""The middle of the PEFT round trip (tools/device/peft_roundtrip.js writes the two ends).

1. Our adapter (adapter/, written by Model.saveLora) loaded by PEFT onto transformers'
   LlamaForCausalLM (base/): its logits must equal our merged logits (ours_merged.f32). This is
   what vLLM's load_lora_adapter and `peft.PeftModel.from_pretrained` read.
2. A fresh PEFT LoRA trained for a few AdamW steps on base/ and saved with save_pretrained
   (peft_trained/, what tools/trainers/trl_sft.py writes for --trainer-command), with PEFT's own
   logits (peft_trained.f32) for the engine to compare after loading it.

fp32 on the GPU with TF32 off, like hf_parity.py. Usage: python3 peft_roundtrip.py <dir> <result.json>
Exit code: 0 pass, 1 a bound missed, 2 could not run (e.g. no peft).
"""

import json
import pathlib
import sys


def main():
    directory, result_file = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    result = {"ok": False}
    try:
        import torch
        from peft import LoraConfig, PeftModel, get_peft_model
        from transformers import LlamaForCausalLM
    except Exception as error:  # the machine lacks a package: say which
        result["error"] = f"cannot import: {error}"
        result_file.write_text(json.dumps(result))
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = "cuda" if torch.cuda.is_available() else "cpu"
    meta = json.loads((directory / "meta.json").read_text())
    tokens = torch.tensor(meta["tokens"], device=device).view(meta["batch"], meta["seq"])

    def relative(a, b):
        a, b = a.double().flatten(), b.double().flatten()
        return float((a - b).norm() / b.norm().clamp_min(1e-30))

    base = LlamaForCausalLM.from_pretrained(directory / "base", torch_dtype=torch.float32).to(device)
    with torch.no_grad():
        adapted = PeftModel.from_pretrained(base, directory / "adapter").eval()
        theirs = adapted(tokens).logits.float().cpu()
    ours = torch.frombuffer(bytearray((directory / "ours_merged.f32").read_bytes()), dtype=torch.float32)
    result["ours_adapter_in_peft_relative_error"] = relative(theirs, ours.view_as(theirs))

    base = LlamaForCausalLM.from_pretrained(directory / "base", torch_dtype=torch.float32).to(device)
    lora = meta["lora"]
    model = get_peft_model(
        base,
        LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"], target_modules=lora["targets"], lora_dropout=0.0,
                   task_type="CAUSAL_LM"),
    )
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(5):
        loss = model(tokens, labels=tokens).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    model.save_pretrained(directory / "peft_trained")
    with torch.no_grad():
        logits = model.eval()(tokens).logits.float().cpu().contiguous()
    (directory / "peft_trained.f32").write_bytes(logits.numpy().tobytes())
    result.update(
        {
            "peft_training_losses": losses,
            "bound": 1e-4,
            "saved": sorted(p.name for p in (directory / "peft_trained").iterdir()),
        }
    )
    result["ok"] = result["ours_adapter_in_peft_relative_error"] < 1e-4 and losses[-1] < losses[0]
    result_file.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
