"""Our checkpoint and numbers vs transformers' LlamaForCausalLM, on the same random model.

Reads what tools/device/engine_export.js wrote (checkpoint/, engine.json, engine_logits.f32,
grad_*.f32), loads the checkpoint with LlamaForCausalLM.from_pretrained in fp32 (TF32 off) and
compares logits, loss, gradients and a greedy generation. A bf16 run of transformers against its
own fp32 run is reported beside, as the yardstick for "within bf16 tolerance".

It also writes <engine-out-dir>/hf_logprobs.json: transformers-fp32 per-token log-probs of a few
sequences of unequal lengths (the engine's rows, one cut short, and each prompt + its greedy
continuation). tools/device/api_check.js (mode hf) scores the same sequences with our Model on
device 'cuda' (what `siked logprobs --device cuda` runs underneath) and compares.

Usage: python3 hf_parity.py <engine-out-dir> <result.json>
Exit code: 0 all checks pass, 1 a check failed, 2 the comparison could not run.
"""

import json
import pathlib
import sys
import time

# Bounds (relative L2 error against transformers fp32). Both sides compute in fp32 from the same
# fp32 weights, so differences are summation order only: ~1e-6 per op, amplified through 30
# layers. 1e-3 leaves a margin while still catching any real bug (a wrong rotation, a missing
# norm or a transposed weight gives errors of order 1).
LOGITS_BOUND = 1e-3
LOSS_BOUND = 1e-4
GRAD_BOUND = 1e-3
LOGPROB_ABS_BOUND = 1e-3
TIE_MARGIN = 1e-4  # greedy steps whose top-2 logits differ by less are ties, not mismatches


def relative_error(ours, reference):
    import torch

    ours = torch.as_tensor(ours, dtype=torch.float64).flatten()
    reference = torch.as_tensor(reference, dtype=torch.float64).flatten()
    if not torch.isfinite(ours).all():
        return float("inf")
    return float((ours - reference).norm() / reference.norm().clamp_min(1e-30))


def check(results, name, error, bound, **extra):
    results.append({"name": name, "error": error, "bound": bound, "pass": bool(error <= bound), **extra})


def reference_sequences(meta):
    """Token lists of unequal lengths: both engine rows (the second cut to 40 tokens, so a ragged
    batch is scored) and each prompt followed by its greedy continuation."""
    seq = meta["seqLen"]
    rows = [meta["tokens"][r * seq:(r + 1) * seq] for r in range(meta["batchSize"])]
    sequences = [rows[0]] + [row[:40] for row in rows[1:]]
    for generation in meta["generations"]:
        sequences.append(meta["prompts"][generation["promptIndex"]] + generation["tokens"])
    return sequences


def write_reference_logprobs(model, meta, device, path):
    """transformers fp32 log p(token i | tokens < i) of each reference sequence (entry 0 is null,
    as in the engine's scoreTokens), one sequence per forward so no padding enters."""
    import torch

    sequences = reference_sequences(meta)
    logprobs = []
    with torch.no_grad():
        for tokens in sequences:
            ids = torch.tensor([tokens], device=device)
            lp = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
            logprobs.append([None] + [lp[i - 1, t].item() for i, t in enumerate(tokens) if i > 0])
    path.write_text(json.dumps({"source": "transformers LlamaForCausalLM fp32, TF32 off",
                                "sequences": sequences, "logprobs": logprobs}))


def main(engine_dir, result_path):
    import numpy as np
    import torch
    from transformers import LlamaForCausalLM

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = "cuda" if torch.cuda.is_available() else "cpu"
    engine_dir = pathlib.Path(engine_dir)
    meta = json.loads((engine_dir / "engine.json").read_text())
    batch, seq = meta["batchSize"], meta["seqLen"]
    vocab = meta["config"]["vocab_size"]
    started = time.time()

    model = LlamaForCausalLM.from_pretrained(
        engine_dir / "checkpoint", torch_dtype=torch.float32, attn_implementation="eager"
    ).to(device)
    tokens = torch.tensor(meta["tokens"], dtype=torch.long, device=device).view(batch, seq)
    mask = torch.tensor(meta["lossMask"], device=device).view(batch, seq)
    results = []
    write_reference_logprobs(model, meta, device, engine_dir / "hf_logprobs.json")

    ours_logits = np.fromfile(engine_dir / "engine_logits.f32", dtype=np.float32).reshape(batch, seq, vocab)
    labels = tokens.masked_fill(mask == 0, -100)
    output = model(tokens, labels=labels)
    reference_logits = output.logits.detach().float().cpu()
    check(results, "logits", relative_error(ours_logits, reference_logits), LOGITS_BOUND)
    check(results, "loss", abs(meta["loss"] - output.loss.item()) / output.loss.item(), LOSS_BOUND,
          ours=meta["loss"], transformers=output.loss.item())
    output.loss.backward()
    for name, file in meta["gradients"].items():
        reference = model.get_parameter(name).grad.detach().float().cpu()
        ours = np.fromfile(engine_dir / file, dtype=np.float32).reshape(reference.shape)
        check(results, f"grad:{name}", relative_error(ours, reference), GRAD_BOUND)

    # Greedy generation, compared token by token; a step where transformers' top two logits are
    # within TIE_MARGIN is a tie and ends the comparison of that row without failing it.
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    # Dynamic cache, no torch.compile: a static cache makes generate compile per batch shape.
    model.generation_config.cache_implementation = None
    model.generation_config.disable_compile = True
    for generation in meta["generations"]:
        prompt = torch.tensor([meta["prompts"][generation["promptIndex"]]], device=device)
        new = len(generation["tokens"])
        with torch.no_grad():
            reference = model.generate(prompt, max_new_tokens=new, do_sample=False, output_scores=True,
                                       return_dict_in_generate=True)
        reference_tokens = reference.sequences[0, prompt.shape[1]:].tolist()
        compared, tie_at = new, None
        for step, score in enumerate(reference.scores):
            top2 = torch.topk(score[0].float(), 2).values
            if (top2[0] - top2[1]).item() < TIE_MARGIN:
                compared, tie_at = step, step
                break
        mismatches = sum(a != b for a, b in zip(generation["tokens"][:compared], reference_tokens[:compared]))
        check(results, f"greedy_tokens:prompt{generation['promptIndex']}", float(mismatches), 0.0,
              compared=compared, tie_at=tie_at, ours=generation["tokens"], transformers=reference_tokens)
        full = torch.tensor([meta["prompts"][generation["promptIndex"]] + generation["tokens"]], device=device)
        with torch.no_grad():
            logprobs = torch.log_softmax(model(full).logits[0].double(), dim=-1)
        start = prompt.shape[1]
        expected = [logprobs[start - 1 + i, t].item() for i, t in enumerate(generation["tokens"])]
        worst = max(abs(a - b) for a, b in zip(generation["logprobs"], expected))
        check(results, f"greedy_logprobs:prompt{generation['promptIndex']}", worst, LOGPROB_ABS_BOUND)

    # Yardstick: how far transformers in bf16 is from itself in fp32 on the same inputs.
    with torch.no_grad():
        bf16_logits = model.to(torch.bfloat16)(tokens).logits.float().cpu()
    yardstick = relative_error(bf16_logits, reference_logits)

    summary = {
        "ok": all(r["pass"] for r in results),
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "shape": meta["shape"],
        "layers": meta["config"]["num_hidden_layers"],
        "transformers_bf16_vs_fp32_logits_rel_error": yardstick,
        "checks": results,
        "seconds": time.time() - started,
    }
    pathlib.Path(result_path).write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "checks"}))
    for r in results:
        print(f"{'pass' if r['pass'] else 'FAIL'} {r['name']}: {r['error']:.3g} (bound {r['bound']})")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except Exception as error:  # recorded, so the device check continues with its next step
        pathlib.Path(sys.argv[2]).write_text(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}))
        print(f"hf_parity failed: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(2)
