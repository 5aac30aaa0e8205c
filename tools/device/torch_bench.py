"""PyTorch / transformers baselines for the CUDA engine's goals (issues 8 and 9), on this card.

The workload (shapes, batches, sampling settings) is workload.json, which api_check.js's
throughput mode reads too, so summary.py can divide the two sides' figures like for like.
Measures, in this order (the figures the comparisons need first), continuing past failures:
  ceilings      device-to-device copy bandwidth (bytes read + written) and an 8192^3 bf16 matmul;
  train         tokens/s and MFU of transformers' LlamaForCausalLM, bf16 weights, sdpa attention,
                eager (no torch.compile), gradient clipping at 1.0 and fused AdamW (the work our
                engine's step does), at each workload shape x (batch, seq);
  generate      new tokens/s of transformers' generate (bf16, sdpa, dynamic KV cache, eager) on
                the self-generation workload (prompts x samples, sampled, fixed new-token count,
                warmed up at the same batch), and batch-1 greedy ms/token at the same prompt
                length against the weight-bandwidth floor (weight bytes / measured copy
                bandwidth). A static cache would make generate torch.compile the model once per
                batch shape, which costs minutes of the device call before the first token;
  kernels       PyTorch equivalents of bench_kernels.cu;
  decode_probe  where eager batch-1 decode spends its time: CPU cost of one eager launch, a bare
                forward + argmax loop without generate(), aten ops per token (CPU profiler), and
                the environment variables that would serialise launches.
Writes one JSON file. --quick times 4 training steps instead of 8 (same workload).

Usage: python3 torch_bench.py <result.json> [--quick]
"""

import json
import pathlib
import sys
import time
import traceback

HERE = pathlib.Path(__file__).parent
SHAPES = json.loads((HERE / "shapes.json").read_text())
WORKLOAD = json.loads((HERE / "workload.json").read_text())
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

    fields = {k: v for k, v in SHAPES[shape].items() if k not in ("architectures", "model_type")}
    # sdpa named, not left to the version's default: it is what the baseline claims to be.
    config = LlamaConfig(**fields, attn_implementation="sdpa")
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(device="cuda", dtype=torch.bfloat16)
    return model, config


def attention_implementation(model):
    return getattr(model.config, "_attn_implementation", None)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())  # tied embedding counted once


def train(shape, batch, seq, steps):
    import torch

    model, config = build_model(shape)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=WORKLOAD["train"]["learning_rate"], fused=True)
    tokens = torch.randint(0, config.vocab_size, (batch, seq), device="cuda")

    def step():
        loss = model(tokens, labels=tokens).loss
        loss.backward()
        # Clipping at 1.0 as transformers' Trainer does by default, and as our engine's step does.
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    ms = timed(step, 3, steps)
    n = parameter_count(model)
    attention = attention_implementation(model)
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
        "peak_memory_bytes": peak_memory, "attn_implementation": attention,
        "setup": "bf16 weights and AdamW state (no fp32 master copy), sdpa attention, eager, clip 1.0, AdamW(fused=True)",
    }


def no_compile(model):
    """Dynamic KV cache and no torch.compile in generate: transformers compiles the forward
    automatically for a static (compileable) cache, once per batch size, and that compile would
    eat the device call's time. disable_compile also covers versions whose default cache changes."""
    model.generation_config.cache_implementation = None
    model.generation_config.disable_compile = True


def generate(shape, copy_bytes_per_s):
    """transformers generate on the workload: sampled at prompts x samples, then batch-1 greedy at
    the same prompt length. Each timed call follows a short warm-up at the same batch, so neither
    side of the comparison times a first-use allocation or cuBLAS heuristic. Times include the
    prefill, as api_check.js's do."""
    import torch

    w = WORKLOAD["generate"]
    prompts, samples, prompt_len, new_tokens = w["prompts"], w["samples_per_prompt"], w["prompt_len"], w["new_tokens"]
    model, config = build_model(shape)
    model.eval()
    model.generation_config.eos_token_id = None  # every sequence runs the full length
    model.generation_config.pad_token_id = 0
    no_compile(model)
    inputs = torch.randint(1, config.vocab_size, (prompts, prompt_len), device="cuda")
    mask = torch.ones_like(inputs)  # what a tokenizer hands generate: no padding here
    sampled = dict(do_sample=True, temperature=w["temperature"], top_p=w["top_p"], top_k=w["top_k"])

    def timed_generate(ids, attention_mask, new, **kwargs):
        model.generate(ids, attention_mask=attention_mask, max_new_tokens=4, **kwargs)  # warm-up
        torch.cuda.synchronize()
        started = time.perf_counter()
        out = model.generate(ids, attention_mask=attention_mask, max_new_tokens=new, **kwargs)
        torch.cuda.synchronize()
        return out, time.perf_counter() - started

    with torch.no_grad():
        out, seconds = timed_generate(inputs, mask, new_tokens, num_return_sequences=samples, **sampled)
        produced = (out.shape[1] - prompt_len) * out.shape[0]
        batch1_new = w["batch1_new_tokens"]
        out1, batch1_seconds = timed_generate(inputs[:1], mask[:1], batch1_new, do_sample=False)
        assert out1.shape[1] - prompt_len == batch1_new, "batch-1 generate stopped early"
    weight_bytes = parameter_count(model) * 2
    attention = attention_implementation(model)
    del model
    torch.cuda.empty_cache()
    floor_ms = weight_bytes / copy_bytes_per_s * 1e3 if copy_bytes_per_s else None
    return {
        "shape": shape, "batch": prompts * samples, "prompts": prompts, "samples_per_prompt": samples,
        "prompt_len": prompt_len, "new_tokens": new_tokens, "generate_seconds": seconds,
        "new_tokens_produced": produced, "new_tokens_per_s": produced / seconds,
        "batch1_new_tokens": batch1_new, "batch1_seconds": batch1_seconds,
        "batch1_ms_per_token": batch1_seconds * 1e3 / batch1_new, "weight_bytes": weight_bytes,
        "batch1_floor_ms": floor_ms, "attn_implementation": attention,
        "setup": f"transformers generate, bf16, {attention} attention, dynamic cache, eager (no torch.compile), "
                 f"attention_mask given; t={w['temperature']} top_p={w['top_p']} top_k={w['top_k']}; batch 1 greedy",
    }


def decode_probe(shape, tokens=16):
    """Where eager batch-1 decode spends its time (the first H200 run measured 93 ms/token for the
    135M shape, ~100x the weight-bandwidth floor). Diagnostic only: not in the comparisons."""
    import os
    import platform

    import torch

    out = {
        "shape": shape,
        "cpu": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                    platform.processor()),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        # Any of these set would serialise or slow every launch.
        "environment": {k: v for k, v in os.environ.items()
                        if k.startswith(("CUDA_", "TORCH_", "PYTORCH_", "OMP_", "NCCL_DEBUG", "TRANSFORMERS_"))},
    }
    x = torch.zeros(1, device="cuda")
    for _ in range(200):
        x.add_(1)
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(2000):
        x.add_(1)
    out["eager_launch_us"] = (time.perf_counter() - started) / 2000 * 1e6  # CPU side, no sync inside
    torch.cuda.synchronize()

    model, config = build_model(shape)
    model.eval()
    prompt = torch.randint(1, config.vocab_size, (1, WORKLOAD["generate"]["prompt_len"]), device="cuda")

    def decode(steps):
        """Prefill, then `steps` bare forwards + argmax (no generate(), no host sync inside)."""
        result = model(input_ids=prompt, use_cache=True)
        cache, token = result.past_key_values, result.logits[:, -1:].argmax(-1)
        torch.cuda.synchronize()
        issue = 0.0
        started = time.perf_counter()
        for _ in range(steps):
            t0 = time.perf_counter()
            result = model(input_ids=token, past_key_values=cache, use_cache=True)
            cache, token = result.past_key_values, result.logits[:, -1:].argmax(-1)
            issue += time.perf_counter() - t0
        torch.cuda.synchronize()
        return (time.perf_counter() - started) * 1e3 / steps, issue * 1e3 / steps

    with torch.no_grad():
        decode(4)  # warm-up
        wall_ms, issue_ms = decode(tokens)
        out["forward_loop_ms_per_token"] = wall_ms
        # CPU time to issue one step's work; close to the wall time = bound by the CPU (Python +
        # dispatch), not the GPU.
        out["forward_loop_issue_ms_per_token"] = issue_ms
        try:
            from torch.profiler import ProfilerActivity, profile

            with profile(activities=[ProfilerActivity.CPU]) as prof:
                decode(3)
            rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
            aten = [e for e in rows if e.key.startswith("aten::")]
            # aten ops (nested ones counted too) per forward: prefill + 3 steps profiled
            out["aten_calls_per_token"] = sum(e.count for e in aten) / 4
            out["top_cpu_ops"] = [{"op": e.key, "calls": e.count, "self_cpu_ms": e.self_cpu_time_total / 1e3}
                                  for e in rows[:12]]
        except Exception as error:  # the profiler is optional
            out["profiler"] = f"{type(error).__name__}: {error}"
    out["attn_implementation"] = attention_implementation(model)
    del model
    torch.cuda.empty_cache()
    return out


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

    # The figures summary.py's comparisons divide come first; kernels and the probe last.
    run("ceilings", ceilings)
    copy_rate = next((s.get("copy_bytes_per_s") for s in result["steps"] if s["name"] == "ceilings"), None)
    steps = 4 if quick else 8
    for shape in WORKLOAD["train"]["shapes"]:
        for b in WORKLOAD["train"]["batches"]:
            run(f"train:{shape}:seq{b['seq']}",
                lambda shape=shape, b=b: train(shape, b["batch"], b["seq"], steps))
    for shape in WORKLOAD["generate"]["shapes"]:
        run(f"generate:{shape}", lambda shape=shape: generate(shape, copy_rate))
    run("kernels", kernels)
    run("decode_probe", lambda: decode_probe(WORKLOAD["generate"]["shapes"][0]))
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
