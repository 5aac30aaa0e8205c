"""PyTorch / transformers baselines for the CUDA engine's goals (issues 8 and 9), on this card.

Measures, each in its own time box and continuing past failures:
  ceilings   device-to-device copy bandwidth (bytes read + written) and an 8192^3 bf16 matmul;
  train      tokens/s and MFU of transformers' LlamaForCausalLM, bf16 weights, eager (sdpa
             attention, no torch.compile), fused AdamW, at SmolLM-135M/360M shapes, seq 512/1024;
  generate   new tokens/s of transformers' generate (dynamic KV cache, eager: no torch.compile)
             on the self-generation workload (prompts x samples, sampled, fixed new-token count),
             and batch-1 decode time per token against the weight-bandwidth floor (weight bytes /
             measured copy bandwidth). A static cache would make generate torch.compile the model
             once per batch shape, which costs minutes of the device call before the first token.
Writes one JSON file. These are the baselines our engine is compared with in the same run.

Usage: python3 torch_bench.py <result.json> [--quick]
"""

import json
import pathlib
import sys
import time
import traceback

SHAPES = json.loads((pathlib.Path(__file__).parent / "shapes.json").read_text())
# H100 SXM and H200 dense bf16 peak (NVIDIA datasheets; both 989 TFLOP/s without sparsity).
DATASHEET_BF16_FLOPS = 989e12


def timed(fn, warmup, repeats):
    """Median milliseconds of fn() over `repeats` runs after `warmup`, timed with CUDA events."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def ceilings():
    import torch

    n = 1 << 30  # 1 GiB of bf16 elements x 2 bytes = 2 GiB per buffer
    src = torch.randn(n, dtype=torch.bfloat16, device="cuda")
    dst = torch.empty_like(src)
    ms = timed(lambda: dst.copy_(src), 3, 10)
    copy_bytes_per_s = 2 * src.numel() * src.element_size() / (ms / 1e3)
    del src, dst
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    ms = timed(lambda: a @ b, 3, 10)
    return {"copy_bytes_per_s": copy_bytes_per_s, "matmul_bf16_flops": 2 * 8192**3 / (ms / 1e3)}


def kernels():
    """PyTorch equivalents of tools/device/bench_kernels.cu, same shapes (SmolLM-135M, 16 x 1024
    tokens; decode 256 rows), median ms with CUDA events; compare name by name."""
    import torch
    import torch.nn.functional as F

    b, t, hq, hkv, d, hidden, mlp, vocab = 16, 1024, 9, 3, 64, 576, 1536, 49152
    tokens = b * t
    q = torch.randn(b, hq, t, d, dtype=torch.bfloat16, device="cuda", requires_grad=True)
    k = torch.randn(b, hkv, t, d, dtype=torch.bfloat16, device="cuda", requires_grad=True)
    v = torch.randn(b, hkv, t, d, dtype=torch.bfloat16, device="cuda", requires_grad=True)
    out = {}
    attention = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    out["attention_forward"] = timed(lambda: attention(), 3, 20)
    grad = torch.randn(b, hq, t, d, dtype=torch.bfloat16, device="cuda")
    forward_backward = timed(lambda: attention().backward(grad), 3, 20)
    out["attention_backward"] = forward_backward - out["attention_forward"]
    x = torch.randn(tokens, hidden, dtype=torch.bfloat16, device="cuda")
    w = torch.ones(hidden, dtype=torch.bfloat16, device="cuda")
    out["rmsnorm_forward"] = timed(lambda: F.rms_norm(x, (hidden,), w, 1e-5), 3, 20)
    gate_up = torch.randn(tokens, 2 * mlp, dtype=torch.bfloat16, device="cuda")
    out["swiglu_forward"] = timed(lambda: F.silu(gate_up[:, :mlp]) * gate_up[:, mlp:], 3, 20)
    weight = torch.randn(2 * mlp, hidden, dtype=torch.bfloat16, device="cuda")
    out["gemm_gate_up_forward"] = timed(lambda: x @ weight.t(), 3, 20)
    logits = torch.randn(tokens, vocab, dtype=torch.bfloat16, device="cuda")
    targets = torch.randint(0, vocab, (tokens,), device="cuda")
    # transformers upcasts the logits to fp32 before the loss; this is what the engine replaces.
    out["cross_entropy_loss_only"] = timed(lambda: F.cross_entropy(logits.float(), targets), 3, 20)
    n = 134515008
    params = [torch.nn.Parameter(torch.randn(n, device="cuda") * 0.02)]
    params[0].grad = torch.randn(n, device="cuda") * 1e-3
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.1, fused=True)

    def clip_and_step():
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()

    out["grad_norm_and_adamw_135m"] = timed(clip_and_step, 3, 20)
    del params, optimizer
    rows = 256
    sample_logits = torch.randn(rows, vocab, device="cuda") * 2

    def top_p_sample():  # transformers' TopPLogitsWarper + multinomial
        scores = sample_logits / 0.7
        sorted_logits, sorted_indices = torch.sort(scores, descending=False)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        remove = cumulative <= (1 - 0.95)
        remove[..., -1:] = 0
        scores = scores.masked_fill(remove.scatter(1, sorted_indices, remove), -float("inf"))
        return torch.multinomial(scores.softmax(dim=-1), 1)

    out["sample_top_p_256x49152"] = timed(top_p_sample, 3, 20)
    out["sample_greedy_256x49152"] = timed(lambda: sample_logits.argmax(dim=-1), 3, 20)
    return {"torch_ms": out}


def build_model(shape):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**{k: v for k, v in SHAPES[shape].items() if k not in ("architectures", "model_type")})
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(device="cuda", dtype=torch.bfloat16)
    return model, config


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())  # tied embedding counted once


def train(shape, seq, tokens_per_step, steps):
    import torch

    model, config = build_model(shape)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    batch = max(1, tokens_per_step // seq)
    tokens = torch.randint(0, config.vocab_size, (batch, seq), device="cuda")

    def step():
        loss = model(tokens, labels=tokens).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    ms = timed(step, 3, steps)
    n = parameter_count(model)
    # 6N per token for the matrix work (forward + backward) plus causal attention scores and
    # values: 12 * layers * hidden * seq / 2.
    flops_per_token = 6 * n + 6 * config.num_hidden_layers * config.hidden_size * seq
    tokens_per_s = batch * seq / (ms / 1e3)
    peak_memory = torch.cuda.max_memory_allocated()
    del model, optimizer
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return {
        "shape": shape, "seq": seq, "batch": batch, "parameters": n, "step_ms": ms,
        "tokens_per_s": tokens_per_s, "model_flops_per_s": flops_per_token * tokens_per_s,
        "mfu_vs_datasheet": flops_per_token * tokens_per_s / DATASHEET_BF16_FLOPS,
        "peak_memory_bytes": peak_memory, "setup": "bf16 weights, sdpa attention, eager, AdamW(fused=True)",
    }


def no_compile(model):
    """Dynamic KV cache and no torch.compile in generate: transformers compiles the forward
    automatically for a static (compileable) cache, once per batch size, and that compile would
    eat the device call's time. disable_compile also covers versions whose default cache changes."""
    model.generation_config.cache_implementation = None
    model.generation_config.disable_compile = True


def generate(shape, prompts, samples, prompt_len, new_tokens, copy_bytes_per_s):
    import torch

    model, config = build_model(shape)
    model.eval()
    model.generation_config.eos_token_id = None  # every sequence runs the full length
    model.generation_config.pad_token_id = 0
    no_compile(model)
    inputs = torch.randint(1, config.vocab_size, (prompts, prompt_len), device="cuda")
    kwargs = dict(max_new_tokens=new_tokens, do_sample=True, temperature=0.7, top_p=0.95, top_k=0)
    with torch.no_grad():
        model.generate(inputs[:2], num_return_sequences=samples, **{**kwargs, "max_new_tokens": 4})  # warm-up
        torch.cuda.synchronize()
        started = time.time()
        out = model.generate(inputs, num_return_sequences=samples, **kwargs)
        torch.cuda.synchronize()
        seconds = time.time() - started
        produced = (out.shape[1] - prompt_len) * out.shape[0]
        one = inputs[:1, :32]
        single = dict(max_new_tokens=128, do_sample=False)
        model.generate(one, **{**single, "max_new_tokens": 4})
        torch.cuda.synchronize()
        started = time.time()
        model.generate(one, **single)
        torch.cuda.synchronize()
        batch1_ms_per_token = (time.time() - started) * 1e3 / 128
    weight_bytes = parameter_count(model) * 2
    del model
    torch.cuda.empty_cache()
    floor_ms = weight_bytes / copy_bytes_per_s * 1e3 if copy_bytes_per_s else None
    return {
        "shape": shape, "prompts": prompts, "samples_per_prompt": samples, "prompt_len": prompt_len,
        "new_tokens": new_tokens, "seconds": seconds, "new_tokens_per_s": produced / seconds,
        "batch1_ms_per_token": batch1_ms_per_token, "weight_bytes": weight_bytes,
        "batch1_floor_ms": floor_ms,
        "setup": "transformers generate, bf16, dynamic cache, eager (no torch.compile), temperature 0.7 top_p 0.95",
    }


def main(result_path, quick):
    import torch

    result = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "steps": []}
    try:
        import transformers

        result["transformers"] = transformers.__version__
    except Exception as error:
        result["transformers"] = f"missing: {error}"

    def run(name, fn):
        started = time.time()
        try:
            value = fn()
            result["steps"].append({"name": name, "ok": True, "seconds": time.time() - started, **value})
        except Exception as error:
            result["steps"].append({"name": name, "ok": False, "seconds": time.time() - started,
                                    "error": f"{type(error).__name__}: {error}",
                                    "trace": traceback.format_exc()[-2000:]})
            torch.cuda.empty_cache()
        pathlib.Path(result_path).write_text(json.dumps(result, indent=1))  # partial results survive a kill
        print(json.dumps(result["steps"][-1])[:400], flush=True)

    run("ceilings", ceilings)
    run("kernels", kernels)
    copy_rate = next((s.get("copy_bytes_per_s") for s in result["steps"] if s["name"] == "ceilings"), None)
    steps = 4 if quick else 8
    for shape in ("smollm-135m", "smollm-360m"):
        for seq in (512, 1024):
            run(f"train:{shape}:seq{seq}", lambda shape=shape, seq=seq: train(shape, seq, 16384, steps))
    prompts, samples, new_tokens = (16, 4, 64) if quick else (64, 4, 256)
    for shape in ("smollm-135m", "smollm-360m"):
        run(f"generate:{shape}", lambda shape=shape: generate(shape, prompts, samples, 128, new_tokens, copy_rate))
    return 0 if all(s["ok"] for s in result["steps"]) else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1], "--quick" in sys.argv[2:]))
    except Exception as error:
        pathlib.Path(sys.argv[1]).write_text(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}))
        print(f"torch_bench failed: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(2)
