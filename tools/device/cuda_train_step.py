"""A full Llama training step built from OUR CUDA kernels (libsiked_cuda.so through ctypes),
checked against transformers and timed against PyTorch eager on the same card.

The engine's own C++ CUDA model is not wired yet (docs/CUDA.md); this driver composes the same
C API calls that model will make, with PyTorch only allocating buffers and cloning residuals, so
the device check can measure the kernels' loss/gradient parity and a training step's speed now.

Usage: python3 cuda_train_step.py <libsiked_cuda.so> <result.json> [--quick]
Exit code: 0 parity holds, 1 a bound was missed, 2 it could not run.
"""

import ctypes
import json
import pathlib
import sys
import time

SHAPES = json.loads((pathlib.Path(__file__).parent / "shapes.json").read_text())
DATASHEET_BF16_FLOPS = 989e12
# Our step keeps activations in bf16 like transformers' bf16 run; the bound is on relative L2
# error against transformers in fp32, and is reported beside transformers-bf16's own error.
LOSS_BOUND = 1e-2
GRAD_BOUND = 5e-2


class AdamTensor(ctypes.Structure):
    _fields_ = [("param", ctypes.c_void_p), ("grad", ctypes.c_void_p), ("m", ctypes.c_void_p),
                ("v", ctypes.c_void_p), ("param_bf16", ctypes.c_void_p), ("n", ctypes.c_int64),
                ("weight_decay", ctypes.c_float)]


class Kernels:
    """ctypes bindings of cuda_api.h; every call checks the return code."""

    def __init__(self, path, stream):
        self.lib = ctypes.CDLL(path)
        self.stream = ctypes.c_void_p(stream)
        P, I, F, L = ctypes.c_void_p, ctypes.c_int, ctypes.c_float, ctypes.c_int64
        signatures = {
            "siked_cuda_blas_create": [ctypes.POINTER(ctypes.c_void_p), P],
            "siked_cuda_gemm": [P, I, I, I, I, I, F, P, I, P, I, F, P, I, I],
            "siked_cuda_rmsnorm_forward": [P, P, P, P, I, I, F, P],
            "siked_cuda_rmsnorm_backward": [P, P, P, P, P, P, P, P, I, I, P],
            "siked_cuda_rope": [P, P, I, I, I, F, I, P],
            "siked_cuda_swiglu_forward": [P, P, P, I, I, I, P],
            "siked_cuda_swiglu_backward": [P, P, P, P, P, I, I, I, P],
            "siked_cuda_attention_forward": [P, P, P, P, P, I, I, I, I, I, P],
            "siked_cuda_attention_backward": [P, P, P, P, P, P, P, P, P, P, I, I, I, I, I, P],
            "siked_cuda_cross_entropy": [P, P, P, I, I, F, I, P],
            "siked_cuda_embedding_forward": [P, P, P, I, I, P],
            "siked_cuda_embedding_backward": [P, P, P, I, I, I, P],
            "siked_cuda_adam_plan_create": [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(AdamTensor), I],
            "siked_cuda_grad_norm": [P, P, P, F, P],
            "siked_cuda_adamw_step": [P, F, F, F, F, I, P, P],
        }
        for name, argtypes in signatures.items():
            getattr(self.lib, name).argtypes = argtypes
            getattr(self.lib, name).restype = ctypes.c_int
        self.lib.siked_cuda_rmsnorm_partial_floats.argtypes = [I, I]
        self.lib.siked_cuda_rmsnorm_partial_floats.restype = L
        self.lib.siked_cuda_last_error.restype = ctypes.c_char_p
        self.blas = ctypes.c_void_p()
        self.call("siked_cuda_blas_create", ctypes.byref(self.blas), self.stream, stream_last=False)

    def call(self, name, *args, stream_last=True):
        rc = getattr(self.lib, name)(*args, *([self.stream] if stream_last else []))
        if rc:
            raise RuntimeError(f"{name}: {self.lib.siked_cuda_last_error().decode()}")

    def gemm(self, ta, tb, m, n, k, a, lda, b, ldb, c, ldc, beta=0.0, c_fp32=False):
        """Row-major C[m,n] = op(A) op(B) + beta C (torch tensors)."""
        rc = self.lib.siked_cuda_gemm(self.blas, ta, tb, m, n, k, 1.0, a.data_ptr(), lda, b.data_ptr(), ldb, beta,
                                      c.data_ptr(), ldc, int(c_fp32))
        if rc:
            raise RuntimeError(f"gemm: {self.lib.siked_cuda_last_error().decode()}")


def p(t):
    return t.data_ptr() if t is not None else None


class CudaLlama:
    """fp32 master weights + bf16 copies, fp32 gradients and AdamW moments, bf16 activations."""

    def __init__(self, kernels, state, config):
        import torch

        self.k, self.c = kernels, config
        self.names = [n for n in state if n != "lm_head.weight"]
        self.master = {n: state[n].detach().float().contiguous().clone() for n in self.names}
        self.half = {n: t.to(torch.bfloat16) for n, t in self.master.items()}
        self.grad = {n: torch.zeros_like(t) for n, t in self.master.items()}
        self.m = {n: torch.zeros_like(t) for n, t in self.master.items()}
        self.v = {n: torch.zeros_like(t) for n, t in self.master.items()}
        table = (AdamTensor * len(self.names))(*[
            AdamTensor(p(self.master[n]), p(self.grad[n]), p(self.m[n]), p(self.v[n]), p(self.half[n]),
                       self.master[n].numel(), 0.0 if n.endswith("norm.weight") else 0.1) for n in self.names])
        self.plan = ctypes.c_void_p()
        kernels.call("siked_cuda_adam_plan_create", ctypes.byref(self.plan), table, len(self.names), stream_last=False)
        self.norm = torch.zeros(1, device="cuda")
        self.clip = torch.ones(1, device="cuda")
        self.steps = 0

    def w(self, name):
        return self.half[name]

    def forward_backward(self, tokens):
        """Mean next-token loss over tokens [B, T]; gradients accumulate into self.grad."""
        import torch

        c, k = self.c, self.k
        B, T = tokens.shape
        N, h, f, V = B * T, c["hidden_size"], c["intermediate_size"], c["vocab_size"]
        hq, hkv = c["num_attention_heads"], c["num_key_value_heads"]
        d = c.get("head_dim") or h // hq
        eps, theta = c["rms_norm_eps"], c["rope_theta"]
        bf = dict(dtype=torch.bfloat16, device="cuda")
        tok = tokens.to(torch.int32).contiguous().view(-1)
        positions = torch.arange(T, dtype=torch.int32, device="cuda").repeat(B)
        targets = torch.full((B, T), -1, dtype=torch.int32, device="cuda")
        targets[:, :-1] = tokens[:, 1:]
        targets = targets.view(-1)
        partial = torch.empty(k.lib.siked_cuda_rmsnorm_partial_floats(N, max(h, 1)), device="cuda")

        x = torch.empty(N, h, **bf)
        k.call("siked_cuda_embedding_forward", p(x), p(self.w("model.embed_tokens.weight")), p(tok), N, h)
        saved = []
        for layer in range(c["num_hidden_layers"]):
            pre = f"model.layers.{layer}."
            s = {"x": x}
            s["n1"], s["r1"] = torch.empty(N, h, **bf), torch.empty(N, device="cuda")
            k.call("siked_cuda_rmsnorm_forward", p(s["n1"]), p(s["r1"]), p(x), p(self.w(pre + "input_layernorm.weight")), N, h, eps)
            for name, heads in (("q", hq), ("k", hkv), ("v", hkv)):
                s[name] = torch.empty(N, heads * d, **bf)
                k.gemm(0, 1, N, heads * d, h, s["n1"], h, self.w(pre + f"self_attn.{name}_proj.weight"), h, s[name], heads * d)
            k.call("siked_cuda_rope", p(s["q"]), p(positions), N, hq, d, theta, 0)
            k.call("siked_cuda_rope", p(s["k"]), p(positions), N, hkv, d, theta, 0)
            s["o"], s["lse"] = torch.empty(N, hq * d, **bf), torch.empty(B * hq * T, device="cuda")
            k.call("siked_cuda_attention_forward", p(s["o"]), p(s["lse"]), p(s["q"]), p(s["k"]), p(s["v"]), B, T, hq, hkv, d)
            x2 = x.clone()
            k.gemm(0, 1, N, h, hq * d, s["o"], hq * d, self.w(pre + "self_attn.o_proj.weight"), hq * d, x2, h, beta=1.0)
            s["x2"] = x2
            s["n2"], s["r2"] = torch.empty(N, h, **bf), torch.empty(N, device="cuda")
            k.call("siked_cuda_rmsnorm_forward", p(s["n2"]), p(s["r2"]), p(x2), p(self.w(pre + "post_attention_layernorm.weight")), N, h, eps)
            s["gate"], s["up"], s["mid"] = (torch.empty(N, f, **bf) for _ in range(3))
            k.gemm(0, 1, N, f, h, s["n2"], h, self.w(pre + "mlp.gate_proj.weight"), h, s["gate"], f)
            k.gemm(0, 1, N, f, h, s["n2"], h, self.w(pre + "mlp.up_proj.weight"), h, s["up"], f)
            k.call("siked_cuda_swiglu_forward", p(s["mid"]), p(s["gate"]), p(s["up"]), N, f, f)
            x = x2.clone()
            k.gemm(0, 1, N, h, f, s["mid"], f, self.w(pre + "mlp.down_proj.weight"), f, x, h, beta=1.0)
            saved.append(s)
        final, final_rstd = torch.empty(N, h, **bf), torch.empty(N, device="cuda")
        k.call("siked_cuda_rmsnorm_forward", p(final), p(final_rstd), p(x), p(self.w("model.norm.weight")), N, h, eps)
        embed = self.w("model.embed_tokens.weight")
        logits = torch.empty(N, V, **bf)
        k.gemm(0, 1, N, V, h, final, h, embed, h, logits, V)
        loss = torch.empty(N, device="cuda")
        trained = B * (T - 1)
        k.call("siked_cuda_cross_entropy", p(logits), p(loss), p(targets), N, V, 1.0 / trained, 1)

        d_final = torch.empty(N, h, **bf)
        k.gemm(0, 0, N, h, V, logits, V, embed, h, d_final, h)
        k.gemm(1, 0, V, h, N, logits, V, final, h, self.grad["model.embed_tokens.weight"], h, beta=1.0, c_fp32=True)
        del logits
        dx = torch.empty(N, h, **bf)
        k.call("siked_cuda_rmsnorm_backward", p(dx), p(self.grad["model.norm.weight"]), p(partial), p(d_final), None,
               p(x), p(self.w("model.norm.weight")), p(final_rstd), N, h)
        for layer in reversed(range(c["num_hidden_layers"])):
            pre, s = f"model.layers.{layer}.", saved[layer]
            g = lambda name: self.grad[pre + name]  # noqa: E731
            d_mid = torch.empty(N, f, **bf)
            k.gemm(0, 0, N, f, h, dx, h, self.w(pre + "mlp.down_proj.weight"), f, d_mid, f)
            k.gemm(1, 0, h, f, N, dx, h, s["mid"], f, g("mlp.down_proj.weight"), f, beta=1.0, c_fp32=True)
            d_gate, d_up = torch.empty(N, f, **bf), torch.empty(N, f, **bf)
            k.call("siked_cuda_swiglu_backward", p(d_gate), p(d_up), p(d_mid), p(s["gate"]), p(s["up"]), N, f, f)
            d_n2 = torch.empty(N, h, **bf)
            k.gemm(0, 0, N, h, f, d_gate, f, self.w(pre + "mlp.gate_proj.weight"), h, d_n2, h)
            k.gemm(0, 0, N, h, f, d_up, f, self.w(pre + "mlp.up_proj.weight"), h, d_n2, h, beta=1.0)
            k.gemm(1, 0, f, h, N, d_gate, f, s["n2"], h, g("mlp.gate_proj.weight"), h, beta=1.0, c_fp32=True)
            k.gemm(1, 0, f, h, N, d_up, f, s["n2"], h, g("mlp.up_proj.weight"), h, beta=1.0, c_fp32=True)
            dx2 = torch.empty(N, h, **bf)
            k.call("siked_cuda_rmsnorm_backward", p(dx2), p(g("post_attention_layernorm.weight")), p(partial), p(d_n2),
                   p(dx), p(s["x2"]), p(self.w(pre + "post_attention_layernorm.weight")), p(s["r2"]), N, h)
            d_o = torch.empty(N, hq * d, **bf)
            k.gemm(0, 0, N, hq * d, h, dx2, h, self.w(pre + "self_attn.o_proj.weight"), hq * d, d_o, hq * d)
            k.gemm(1, 0, h, hq * d, N, dx2, h, s["o"], hq * d, g("self_attn.o_proj.weight"), hq * d, beta=1.0, c_fp32=True)
            dq, dk, dv = torch.empty(N, hq * d, **bf), torch.empty(N, hkv * d, **bf), torch.empty(N, hkv * d, **bf)
            delta = torch.empty(B * hq * T, device="cuda")
            k.call("siked_cuda_attention_backward", p(dq), p(dk), p(dv), p(delta), p(d_o), p(s["o"]), p(s["lse"]),
                   p(s["q"]), p(s["k"]), p(s["v"]), B, T, hq, hkv, d)
            k.call("siked_cuda_rope", p(dq), p(positions), N, hq, d, theta, 1)
            k.call("siked_cuda_rope", p(dk), p(positions), N, hkv, d, theta, 1)
            d_n1 = torch.empty(N, h, **bf)
            for i, (name, grad, width) in enumerate((("q", dq, hq * d), ("k", dk, hkv * d), ("v", dv, hkv * d))):
                k.gemm(0, 0, N, h, width, grad, width, self.w(pre + f"self_attn.{name}_proj.weight"), h, d_n1, h,
                       beta=1.0 if i else 0.0)
                k.gemm(1, 0, width, h, N, grad, width, s["n1"], h, g(f"self_attn.{name}_proj.weight"), h, beta=1.0, c_fp32=True)
            dx_in = torch.empty(N, h, **bf)
            k.call("siked_cuda_rmsnorm_backward", p(dx_in), p(g("input_layernorm.weight")), p(partial), p(d_n1),
                   p(dx2), p(s["x"]), p(self.w(pre + "input_layernorm.weight")), p(s["r1"]), N, h)
            dx = dx_in
        k.call("siked_cuda_embedding_backward", p(self.grad["model.embed_tokens.weight"]), p(dx), p(tok), N, h, V)
        return loss.sum() / trained

    def step(self, lr, max_norm=1.0):
        self.steps += 1
        self.k.call("siked_cuda_grad_norm", self.plan, p(self.norm), p(self.clip), max_norm)
        self.k.call("siked_cuda_adamw_step", self.plan, lr, 0.9, 0.999, 1e-8, self.steps, p(self.clip))
        for t in self.grad.values():
            t.zero_()


def parity(lib, shape, layers):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = {**SHAPES[shape], "num_hidden_layers": layers}
    torch.manual_seed(0)
    reference = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in cfg.items() if k not in ("architectures", "model_type")}))
    reference = reference.to("cuda", torch.float32)
    torch.backends.cuda.matmul.allow_tf32 = False
    tokens = torch.randint(0, cfg["vocab_size"], (2, 256), device="cuda")
    kernels = Kernels(lib, torch.cuda.current_stream().cuda_stream)
    ours = CudaLlama(kernels, reference.state_dict(), cfg)
    loss = ours.forward_backward(tokens).item()
    ref_loss = reference(tokens, labels=tokens).loss
    ref_loss.backward()
    grads = {n: pr.grad for n, pr in reference.named_parameters()}
    bf16_model = LlamaForCausalLM(reference.config).to("cuda", torch.bfloat16)
    bf16_model.load_state_dict(reference.state_dict())
    bf16_model(tokens, labels=tokens).loss.backward()
    bf16_grads = {n: pr.grad.float() for n, pr in bf16_model.named_parameters()}

    def rel(a, b):
        return ((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-30)).item()

    checks = [{"name": "loss", "ours": loss, "transformers_fp32": ref_loss.item(),
               "error": abs(loss - ref_loss.item()) / ref_loss.item(), "bound": LOSS_BOUND}]
    for name in ours.names:
        checks.append({"name": f"grad:{name}", "error": rel(ours.grad[name], grads[name]), "bound": GRAD_BOUND,
                       "transformers_bf16_error": rel(bf16_grads[name], grads[name])})
    for check in checks:
        check["pass"] = check["error"] <= check["bound"]
    return {"shape": shape, "layers": layers, "ok": all(ch["pass"] for ch in checks),
            "failed": [ch for ch in checks if not ch["pass"]][:10],
            "worst_grad": max(checks[1:], key=lambda ch: ch["error"])}


def benchmark(lib, shape, seq, tokens_per_step, steps):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = SHAPES[shape]
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in cfg.items() if k not in ("architectures", "model_type")}))
    model = model.to("cuda", torch.float32)
    kernels = Kernels(lib, torch.cuda.current_stream().cuda_stream)
    ours = CudaLlama(kernels, model.state_dict(), cfg)
    n = sum(t.numel() for t in model.parameters())
    del model
    torch.cuda.empty_cache()
    batch = max(1, tokens_per_step // seq)
    tokens = torch.randint(0, cfg["vocab_size"], (batch, seq), device="cuda")

    def train_step():
        ours.forward_backward(tokens)
        ours.step(1e-4)

    for _ in range(2):
        train_step()
    torch.cuda.synchronize()
    times = []
    for _ in range(steps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        train_step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    ms = sorted(times)[len(times) // 2]
    flops_per_token = 6 * n + 6 * cfg["num_hidden_layers"] * cfg["hidden_size"] * seq
    tokens_per_s = batch * seq / (ms / 1e3)
    return {"shape": shape, "seq": seq, "batch": batch, "step_ms": ms, "tokens_per_s": tokens_per_s,
            "mfu_vs_datasheet": flops_per_token * tokens_per_s / DATASHEET_BF16_FLOPS,
            "peak_memory_bytes": torch.cuda.max_memory_allocated(),
            "setup": "our kernels via ctypes, fp32 master + AdamW, bf16 activations, clip 1.0"}


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

    run("parity:smollm-135m:4layers", lambda: parity(lib, "smollm-135m", 4))
    for shape in ("smollm-135m", "smollm-360m"):
        for seq in (512, 1024):
            run(f"train:{shape}:seq{seq}", lambda shape=shape, seq=seq: benchmark(lib, shape, seq, 16384, 4 if quick else 8))
    return 0 if all(s["ok"] for s in result["steps"]) else 1


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2], "--quick" in sys.argv[3:]))
    except Exception as error:
        pathlib.Path(sys.argv[2]).write_text(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}))
        print(f"cuda_train_step failed: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(2)
