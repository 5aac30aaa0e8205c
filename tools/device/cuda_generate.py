"""Batched self-generation built from OUR CUDA kernels (libsiked_cuda.so through ctypes):
prefill, slot KV cache shared by the n samples of a prompt, split-K decode attention, on-GPU
sampling and device-side bookkeeping; checked against transformers' forward (teacher-forced; no
HF generate here) and timed against transformers' generate on the same card
(tools/device/torch_bench.py: dynamic cache, no torch.compile; same workload sizes).

The engine's C++ generation loop (continuous batching, CUDA-graph replay) is not wired yet
(docs/CUDA.md); this driver makes the same C API calls so the kernels can be measured now. It
runs every sequence to the full length (no stop tokens), so there is no slot refill to do.

Usage: python3 cuda_generate.py <libsiked_cuda.so> <result.json> [--quick]
Exit code: 0 checks pass, 1 a check failed, 2 it could not run.
"""

import ctypes
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from cuda_train_step import SHAPES, Kernels, p  # noqa: E402

# Greedy check: each of our tokens must be transformers-fp32's arg max, or within this many
# logits of it (bf16 weights and activations move logits by ~1e-2 on a random model).
GREEDY_MARGIN = 0.1
LOGPROB_ABS_BOUND = 0.1
SPLIT_LEN = 128


def bind_generation(kernels):
    P, I, F = ctypes.c_void_p, ctypes.c_int, ctypes.c_float
    signatures = {
        "siked_cuda_kv_append": [P, P, P, P, P, P, I, I, I, I, P],
        "siked_cuda_kv_copy_prefix": [P, P, P, P, P, I, I, I, I, P],
        "siked_cuda_decode_attention": [P, P, P, P, P, P, I, I, I, I, I, I, P, P],
        "siked_cuda_sample": [P, P, P, I, I, P, P, P, P, P, P],
        "siked_cuda_decode_advance": [P, P, P, P, P, P, P, P, P, I, I, I, P],
    }
    for name, argtypes in signatures.items():
        getattr(kernels.lib, name).argtypes = argtypes
        getattr(kernels.lib, name).restype = ctypes.c_int
    kernels.lib.siked_cuda_decode_scratch_floats.argtypes = [I, I, I, I, I]
    kernels.lib.siked_cuda_decode_scratch_floats.restype = ctypes.c_int64


class Generator:
    def __init__(self, kernels, state, config):
        import torch

        self.k, self.c = kernels, config
        self.w = {n: t.detach().to("cuda", torch.bfloat16).contiguous() for n, t in state.items() if n != "lm_head.weight"}
        bind_generation(kernels)

    def layers(self, x, positions, attend):
        """Runs every layer over rows x [R, h]; attend(layer, q, k, v) returns the attention output."""
        import torch

        c, k, w = self.c, self.k, self.w
        R, h, f = x.shape[0], c["hidden_size"], c["intermediate_size"]
        hq, hkv = c["num_attention_heads"], c["num_key_value_heads"]
        d = c.get("head_dim") or h // hq
        bf = dict(dtype=torch.bfloat16, device="cuda")
        normed, rstd = torch.empty(R, h, **bf), torch.empty(R, device="cuda")
        for layer in range(c["num_hidden_layers"]):
            pre = f"model.layers.{layer}."
            k.call("siked_cuda_rmsnorm_forward", p(normed), p(rstd), p(x), p(w[pre + "input_layernorm.weight"]), R, h, c["rms_norm_eps"])
            qkv = {}
            for name, heads in (("q", hq), ("k", hkv), ("v", hkv)):
                qkv[name] = torch.empty(R, heads * d, **bf)
                k.gemm(0, 1, R, heads * d, h, normed, h, w[pre + f"self_attn.{name}_proj.weight"], h, qkv[name], heads * d)
            k.call("siked_cuda_rope", p(qkv["q"]), p(positions), R, hq, d, c["rope_theta"], 0)
            k.call("siked_cuda_rope", p(qkv["k"]), p(positions), R, hkv, d, c["rope_theta"], 0)
            o = attend(layer, qkv["q"], qkv["k"], qkv["v"])
            x = x.clone()
            k.gemm(0, 1, R, h, hq * d, o, hq * d, w[pre + "self_attn.o_proj.weight"], hq * d, x, h, beta=1.0)
            k.call("siked_cuda_rmsnorm_forward", p(normed), p(rstd), p(x), p(w[pre + "post_attention_layernorm.weight"]), R, h, c["rms_norm_eps"])
            gate, up, mid = (torch.empty(R, f, **bf) for _ in range(3))
            k.gemm(0, 1, R, f, h, normed, h, w[pre + "mlp.gate_proj.weight"], h, gate, f)
            k.gemm(0, 1, R, f, h, normed, h, w[pre + "mlp.up_proj.weight"], h, up, f)
            k.call("siked_cuda_swiglu_forward", p(mid), p(gate), p(up), R, f, f)
            k.gemm(0, 1, R, h, f, mid, f, w[pre + "mlp.down_proj.weight"], f, x, h, beta=1.0)
        return x

    def logits(self, x):
        """fp32 logits [R, V] of the final hidden rows x."""
        import torch

        c, k = self.c, self.k
        R, h, V = x.shape[0], c["hidden_size"], c["vocab_size"]
        normed, rstd = torch.empty(R, h, dtype=torch.bfloat16, device="cuda"), torch.empty(R, device="cuda")
        k.call("siked_cuda_rmsnorm_forward", p(normed), p(rstd), p(x), p(self.w["model.norm.weight"]), R, h, c["rms_norm_eps"])
        out = torch.empty(R, V, device="cuda")
        k.gemm(0, 1, R, V, h, normed, h, self.w["model.embed_tokens.weight"], h, out, V, c_fp32=True)
        return out

    def generate(self, prompts, samples, max_new, temperature=0.0, top_p=1.0, top_k=0, seed=1):
        """prompts [P, L] (equal lengths); returns tokens and logprobs [P*samples, max_new]."""
        import torch

        c, k = self.c, self.k
        P_, L = prompts.shape
        R, h = P_ * samples, c["hidden_size"]
        hq, hkv = c["num_attention_heads"], c["num_key_value_heads"]
        d = c.get("head_dim") or h // hq
        max_len = L + max_new
        i32 = dict(dtype=torch.int32, device="cuda")
        caches = [(torch.empty(R, hkv, max_len, d, dtype=torch.bfloat16, device="cuda"),
                   torch.empty(R, hkv, max_len, d, dtype=torch.bfloat16, device="cuda"))
                  for _ in range(c["num_hidden_layers"])]
        # Prefill: prompt i goes to slot i * samples; its other samples copy that prefix.
        tokens = prompts.to(torch.int32).contiguous().view(-1)
        positions = torch.arange(L, **i32).repeat(P_)
        prefill_slot = (torch.arange(P_, **i32) * samples).repeat_interleave(L)
        x = torch.empty(P_ * L, h, dtype=torch.bfloat16, device="cuda")
        k.call("siked_cuda_embedding_forward", p(x), p(self.w["model.embed_tokens.weight"]), p(tokens), P_ * L, h)

        def prefill_attention(layer, q, key, value):
            kc, vc = caches[layer]
            k.call("siked_cuda_kv_append", p(kc), p(vc), p(key), p(value), p(prefill_slot), p(positions), P_ * L, hkv, max_len, d)
            o = torch.empty_like(q)
            lse = torch.empty(P_ * hq * L, device="cuda")
            k.call("siked_cuda_attention_forward", p(o), p(lse), p(q), p(key), p(value), P_, L, hq, hkv, d)
            return o

        x = self.layers(x, positions, prefill_attention)
        if samples > 1:
            src = (torch.arange(P_, **i32) * samples).repeat_interleave(samples - 1)
            dst = torch.tensor([i * samples + j for i in range(P_) for j in range(1, samples)], **i32)
            length = torch.full((src.numel(),), L, **i32)
            for kc, vc in caches:
                k.call("siked_cuda_kv_copy_prefix", p(kc), p(vc), p(src), p(dst), p(length), src.numel(), hkv, max_len, d)
        last = x.view(P_, L, h)[:, -1].repeat_interleave(samples, dim=0).contiguous()
        logits = self.logits(last)

        slot = torch.arange(R, **i32)
        position = torch.full((R,), L - 1, **i32)  # position of next_input; advanced by decode_advance
        next_input, generated, finished = torch.zeros(R, **i32), torch.zeros(R, **i32), torch.zeros(R, **i32)
        out_tokens, out_logprobs = torch.zeros(R, max_new, **i32), torch.zeros(R, max_new, device="cuda")
        temperature_t = torch.full((R,), float(temperature), device="cuda")
        top_k_t, top_p_t = torch.full((R,), top_k, **i32), torch.full((R,), float(top_p), device="cuda")
        seeds = torch.tensor([(seed * 1000003 + r) & 0x7FFFFFFFFFFFFFFF for r in range(R)], dtype=torch.int64, device="cuda")
        counter = torch.zeros(R, dtype=torch.int64, device="cuda")
        token, logprob = torch.zeros(R, **i32), torch.zeros(R, device="cuda")
        no_stops = torch.zeros(1, **i32)
        scratch = torch.empty(k.lib.siked_cuda_decode_scratch_floats(R, hq, d, max_len, SPLIT_LEN), device="cuda")

        def sample_and_advance(logits):
            k.call("siked_cuda_sample", p(token), p(logprob), p(logits), R, c["vocab_size"], p(temperature_t), p(top_k_t),
                   p(top_p_t), p(seeds), p(counter))
            k.call("siked_cuda_decode_advance", p(next_input), p(position), p(generated), p(finished), p(out_tokens),
                   p(out_logprobs), p(token), p(logprob), p(no_stops), 0, R, max_new)

        def decode_attention(layer, q, key, value):
            kc, vc = caches[layer]
            k.call("siked_cuda_kv_append", p(kc), p(vc), p(key), p(value), p(slot), p(position), R, hkv, max_len, d)
            o = torch.empty_like(q)
            lengths = position + 1
            k.call("siked_cuda_decode_attention", p(o), p(q), p(kc), p(vc), p(slot), p(lengths), R, hq, hkv, max_len, d,
                   SPLIT_LEN, p(scratch))
            return o

        sample_and_advance(logits)
        for _ in range(max_new - 1):
            x = torch.empty(R, h, dtype=torch.bfloat16, device="cuda")
            k.call("siked_cuda_embedding_forward", p(x), p(self.w["model.embed_tokens.weight"]), p(next_input), R, h)
            x = self.layers(x, position, decode_attention)
            sample_and_advance(self.logits(x))
        return out_tokens, out_logprobs


def build(shape, layers=None):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = {**SHAPES[shape]}
    if layers:
        cfg["num_hidden_layers"] = layers
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in cfg.items() if k not in ("architectures", "model_type")}))
    return model.to("cuda", torch.float32).eval(), cfg


def parity(lib):
    import torch

    model, cfg = build("smollm-135m")
    torch.backends.cuda.matmul.allow_tf32 = False
    generator = Generator(Kernels(lib, torch.cuda.current_stream().cuda_stream), model.state_dict(), cfg)
    prompts = torch.randint(1, cfg["vocab_size"], (3, 24), device="cuda")
    tokens, logprobs = generator.generate(prompts, samples=2, max_new=16)
    rows = []
    with torch.no_grad():
        for r in range(tokens.shape[0]):
            full = torch.cat([prompts[r // 2], tokens[r].long()])
            ref = torch.log_softmax(model(full[None]).logits[0].double(), dim=-1)[prompts.shape[1] - 1:-1]
            ours_lp = ref.gather(1, tokens[r].long()[:, None])[:, 0]
            margin = (ref.max(dim=1).values - ours_lp).max().item()  # 0 when each token is the arg max
            lp_error = (ours_lp - logprobs[r].double()).abs().max().item()
            rows.append({"row": r, "worst_argmax_margin": margin, "logprob_abs_error": lp_error,
                         "pass": margin <= GREEDY_MARGIN and lp_error <= LOGPROB_ABS_BOUND})
    samples_agree = bool((tokens[0::2] == tokens[1::2]).all())  # greedy: both samples of a prompt equal
    return {"ok": all(r["pass"] for r in rows) and samples_agree, "samples_of_a_prompt_identical": samples_agree,
            "rows": rows, "bounds": {"margin": GREEDY_MARGIN, "logprob": LOGPROB_ABS_BOUND}}


def benchmark(lib, shape, prompts, samples, prompt_len, new_tokens):
    import torch

    model, cfg = build(shape)
    generator = Generator(Kernels(lib, torch.cuda.current_stream().cuda_stream), model.state_dict(), cfg)
    del model
    torch.cuda.empty_cache()
    inputs = torch.randint(1, cfg["vocab_size"], (prompts, prompt_len), device="cuda")
    generator.generate(inputs[:2], samples, 4, temperature=0.7, top_p=0.95)  # warm-up
    torch.cuda.synchronize()
    started = time.time()
    tokens, _ = generator.generate(inputs, samples, new_tokens, temperature=0.7, top_p=0.95)
    torch.cuda.synchronize()
    seconds = time.time() - started
    one = inputs[:1, :32]
    generator.generate(one, 1, 4)
    torch.cuda.synchronize()
    started = time.time()
    generator.generate(one, 1, 128)
    torch.cuda.synchronize()
    return {"shape": shape, "prompts": prompts, "samples_per_prompt": samples, "prompt_len": prompt_len,
            "new_tokens": new_tokens, "seconds": seconds, "new_tokens_per_s": tokens.numel() / seconds,
            "batch1_ms_per_token": (time.time() - started) * 1e3 / 128,
            "setup": "our kernels via ctypes, eager (no CUDA graph), bf16, temperature 0.7 top_p 0.95"}


def main(lib, result_path, quick):
    import torch

    result = {"device": torch.cuda.get_device_name(0), "steps": []}

    def run(name, fn):
        started = time.time()
        try:
            result["steps"].append({"name": name, "ok": True, **fn(), "seconds": time.time() - started})
        except Exception as error:
            result["steps"].append({"name": name, "ok": False, "error": f"{type(error).__name__}: {error}",
                                    "seconds": time.time() - started})
        torch.cuda.empty_cache()
        pathlib.Path(result_path).write_text(json.dumps(result, indent=1))
        print(json.dumps(result["steps"][-1])[:600], flush=True)

    run("parity:greedy:smollm-135m", lambda: parity(lib))
    prompts, samples, new_tokens = (16, 4, 64) if quick else (64, 4, 256)  # as torch_bench.py
    for shape in ("smollm-135m", "smollm-360m"):
        run(f"generate:{shape}", lambda shape=shape: benchmark(lib, shape, prompts, samples, 128, new_tokens))
    return 0 if all(s["ok"] for s in result["steps"]) else 1


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2], "--quick" in sys.argv[3:]))
    except Exception as error:
        pathlib.Path(sys.argv[2]).write_text(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}))
        print(f"cuda_generate failed: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(2)
