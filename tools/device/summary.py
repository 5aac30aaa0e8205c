"""Writes the device check's summary.json: the step records plus every step's result JSON.

The device call returns at most 8 files from $OUT, so the steps write their JSON results into a
work folder and this merges them into the one summary (with the log, the only files in $OUT).
Run by tools/device-check.sh after every step; a result file cut short by a time box is kept as
text under "unreadable" instead of failing the merge. Standard library only.

"comparisons" divides our engine's figures (api_throughput: api_check.js on cuda) by the
PyTorch/transformers baselines of the same run (torch_bench), name by name: both ran
workload.json. A pair whose workloads differ, or with a side missing, says so instead of a ratio.

Usage: python3 summary.py <summary.json> <steps.jsonl> <results-dir> <meta-json>
"""

import json
import os
import pathlib
import sys

MESSAGE_CHARS = 300


def read_result(path):
    text = path.read_text(errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return {"unreadable": text[-4000:]}


def result_message(result):
    """One line naming what went wrong in a step's result JSON, or None."""
    if not isinstance(result, dict):
        return None
    if result.get("error"):
        return str(result["error"])
    failing = [
        f"{name}: {section.get('error') or section.get('skipped') or 'outside its bounds'}"
        for name, section in (result.get("sections") or {}).items()
        if isinstance(section, dict) and not section.get("ok", True)
    ]
    failing += [
        f"{step.get('name')}: {step.get('error')}"
        for step in result.get("steps") or []
        if isinstance(step, dict) and step.get("ok") is False and step.get("error")
    ]
    return "; ".join(failing) if failing else None


def ratio(a, b):
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


def comparisons(results):
    """Ours / baseline per workload.json item; "missing" with the reason where there is no ratio."""
    ours_result = results.get("api_throughput") or {}
    ours = ours_result.get("sections") or {}
    theirs = {s.get("name"): s for s in (results.get("torch_bench") or {}).get("steps") or [] if isinstance(s, dict)}
    if not ours and not theirs:
        return {"missing": "neither api_throughput nor torch_bench has results"}
    if ours and ours_result.get("devices", {}).get("test") != "cuda":
        return {"missing": "api_throughput did not run on cuda"}

    def pair(our_name, their_name, keys):
        """Both sides' records when each ran ok on the same workload, else (None, reason)."""
        a, b = ours.get(our_name), theirs.get(their_name)
        if not a or not a.get("ok", False) or a.get("skipped"):
            why = (a or {}).get("error") or (a or {}).get("skipped") or ("failed its checks" if a else "missing")
            return None, None, f"ours ({our_name}): {why}"
        if not b or not b.get("ok"):
            return None, None, f"baseline ({their_name}): " + str((b or {}).get("error") or "missing")
        differ = [k for k in keys if a.get(k) != b.get(k)]
        if differ:
            return None, None, "workloads differ: " + ", ".join(f"{k} {a.get(k)} vs {b.get(k)}" for k in differ)
        return a, b, None

    workload = json.loads((pathlib.Path(__file__).parent / "workload.json").read_text())
    training, sampling, batch1 = [], [], []
    for shape in workload["train"]["shapes"]:
        for item in workload["train"]["batches"]:
            seq = f"seq{item['seq']}"
            row = {"shape": shape, "seq": item["seq"], "batch": item["batch"]}
            a, b, why = pair(f"train_throughput:{shape}:{seq}", f"train:{shape}:{seq}", ("shape", "seq", "batch"))
            if not why and a.get("batch") != item["batch"]:
                why = f"batch {a.get('batch')} is not workload.json's {item['batch']}"
            if why:
                row["missing"] = why
            else:
                row.update({
                    "ours_tokens_per_s": a["tokens_per_s"],
                    "transformers_eager_bf16_tokens_per_s": b["tokens_per_s"],
                    "ratio": ratio(a["tokens_per_s"], b["tokens_per_s"]),
                    "ours_mfu": a.get("mfu_vs_datasheet"),
                    "transformers_mfu": b.get("mfu_vs_datasheet"),
                })
            training.append(row)
    g = workload["generate"]
    for shape in g["shapes"]:
        keys = ("batch", "prompts", "samples_per_prompt", "prompt_len", "new_tokens", "batch1_new_tokens")
        a, b, why = pair(f"sampling_throughput:{shape}", f"generate:{shape}", keys)
        row = {"shape": shape, "batch": g["prompts"] * g["samples_per_prompt"]}
        row1 = {"shape": shape, "prompt_len": g["prompt_len"], "new_tokens": g["batch1_new_tokens"]}
        if why:
            row["missing"] = row1["missing"] = why
        else:
            row.update({
                "ours_new_tokens_per_s": a.get("new_tokens_per_s"),
                "hf_generate_new_tokens_per_s": b.get("new_tokens_per_s"),
                "ratio": ratio(a.get("new_tokens_per_s"), b.get("new_tokens_per_s")),
                "ours_large_batch": a.get("large_batch"),
                "ours_large_batch_new_tokens_per_s": a.get("large_batch_new_tokens_per_s"),
            })
            floor = b.get("batch1_floor_ms")
            row1.update({
                "ours_ms_per_token": a.get("batch1_ms_per_token"),
                "hf_ms_per_token": b.get("batch1_ms_per_token"),
                "floor_ms": floor,
                "ours_over_floor": ratio(a.get("batch1_ms_per_token"), floor),
                "hf_over_floor": ratio(b.get("batch1_ms_per_token"), floor),
                "hf_over_ours": ratio(b.get("batch1_ms_per_token"), a.get("batch1_ms_per_token")),
            })
        sampling.append(row)
        batch1.append(row1)
    return {
        "note": "ratio = ours / baseline (above 1: ours faster); MFU = (6N + 6*layers*hidden*seq) * "
                "tokens/s / 989 TFLOP/s on both sides; floor_ms = bf16 weight bytes / measured copy "
                "bandwidth (torch_bench batch1_floor_ms)",
        "training_vs_transformers_eager_bf16": training,
        "sampling_vs_hf_generate": sampling,
        "batch1_ms_per_token": batch1,
    }


def main(summary_path, steps_path, results_dir, meta_json):
    summary = json.loads(meta_json)
    results = {path.stem: read_result(path) for path in sorted(pathlib.Path(results_dir).glob("*.json"))}
    steps = [json.loads(line) for line in pathlib.Path(steps_path).read_text().splitlines() if line.strip()]
    for step in steps:
        # A failed step's own result says best what went wrong; its log's last line otherwise.
        if step["status"] != "ok" and step["name"] in results:
            message = result_message(results[step["name"]])
            if message:
                step["message"] = message[:MESSAGE_CHARS]
    try:
        summary["comparisons"] = comparisons(results)
    except Exception as error:  # a malformed result must not cost the summary
        summary["comparisons"] = {"error": f"{type(error).__name__}: {error}"}
    summary["steps"] = steps
    summary["results"] = results
    tmp = summary_path + ".tmp"
    with open(tmp, "w") as out:
        json.dump(summary, out, indent=1)
    os.replace(tmp, summary_path)  # a reader never sees half a summary


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__)
        sys.exit(2)
    main(*sys.argv[1:])
