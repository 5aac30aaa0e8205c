"""Writes the device check's summary.json: the step records plus every step's result JSON.

The device call returns at most 8 files from $OUT, so the steps write their JSON results into a
work folder and this merges them into the one summary (with the log, the only files in $OUT).
Run by tools/device-check.sh after every step; a result file cut short by a time box is kept as
text under "unreadable" instead of failing the merge. Standard library only.

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
