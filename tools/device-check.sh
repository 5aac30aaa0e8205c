#!/usr/bin/env bash
# The CUDA backend's device check: ONE call on the GPU machine (docs/CUDA.md, "The device check").
# Every step is time-boxed, runs even when an unrelated step failed, is skipped (and recorded as
# such) when a step it needs did not succeed, and is recorded in $OUT/summary.json, rewritten
# after each step so a kill still leaves the record. The device call brings back at most 8 files
# from $OUT, so exactly two are written there: summary.json (steps + every step's result JSON,
# merged by tools/device/summary.py) and device-check.log (the full output).
#
#   Prepare here first:  tools/device/prepare.sh            (fills .device/: node, headers, JS)
#   On the GPU machine:  tools/device-check.sh              (carry: .device; timeout_s 420)
#   Rehearse here:       DRY_RUN=1 tools/device-check.sh    (GPU steps must fail cleanly, e.g.
#                                                            "no CUDA device"; nothing hangs)
#   CI's quick rehearsal (test/device-check.test.ts): DRY_RUN=1 DRY_RUN_BUILD=0 (no compiles: the
#   addon built by `npm run build`, or DRY_RUN_ADDON, stands in for the CUDA build, and the kernel
#   harness is skipped). ~15 s on the 2-core box; with the builds (DRY_RUN_BUILD=1) ~90 s.
#
# Environment: ONLY (space-separated step names: run just those, e.g. ONLY="environment node
# cublas addon_build api_parity api_throughput" for the Model API's checks in about a minute),
# OUT (results; default /tmp/siked-device-check-out), DEVICE_DIR (what prepare.sh
# wrote; default .device), BUDGET_S (whole script; default 360 on a GPU, 1500 for DRY_RUN),
# EXPORT_LAYERS (exported model's layers; 30, DRY_RUN 2), PYTHON (python3; DRY_RUN /usr/bin/python3
# when present), BENCH_FULL=1 (torch_bench times 8 training steps instead of 4; same workload).
#
# Time plan on the H200 machine (16 cores), in run order. "last" is the first H200 run
# (2026-12-04, 223 s in all); "est." is this version's estimate. A box caps a step (LIMIT_SCALE
# stretches them for DRY_RUN), and every box is also capped by what is left of BUDGET_S, so a
# slow step eats into the LAST step: torch_bench, the baselines the comparisons divide by.
# api_throughput and torch_bench both run tools/device/workload.json (summary.py's comparisons).
#   step            last  est.  box   what takes the time
#   environment       10    10   30   nvidia-smi, importing torch + transformers once
#   node               2     2   20   xz -d of the carried node (100 MB)
#   cublas             0     1   20   python site scan
#   addon_build        8     8   90   cmake configure (~3 s), 14 C++ files at -O3 and the .cu files
#                                     for sm_90a only, ninja -j16
#   addon_info         1     1   15
#   api_parity         2     2   30   tiny model on cuda and cpu: 2 x 2 x 5 train steps, 40 cpu
#                                     steps, save/load, greedy generate, scoreTokens
#   api_throughput    31    50  120   135M/360M: build (~5 s / ~16 s), then per shape 32x512 and
#                                     16x1024 training (2 warm-up + 3..10 timed steps, >= 2 s), and
#                                     sampling: 16x4 prompts x 64 new tokens (t=0.7, top-p 0.95),
#                                     batch 1 greedy x 64, 64x4 (batch 256); last run: 8x512 only
#   parity_build       8     8   60   the .cu kernels for sm_90a, -P16 (parity.cu ~4 s alone)
#   parity_run         1     1   30   every kernel vs its CPU reference
#   kernel_bench       6     6   45   per-kernel medians at the 135M training shape (~5 GB)
#   engine_export      7     7   45   our CPU engine, 30-layer 135M: save 540 MB, logits, grads,
#                                     generate
#   hf_parity         17    17   60   transformers import, load, fp32 forward/backward, greedy
#   api_hf             4     4   30   fromPretrained(cuda) of the 540 MB checkpoint + scoreTokens
#   torch_bench       77    75  150   import ~10 s; ceilings; transformers training at the same 4
#                                     (shape, batch) as api_throughput (3 warm-up + 4 steps, ~20 s);
#                                     generate 16x4 x 64 and batch 1 x 64 (~93 ms/step measured:
#                                     ~6 s + ~6 s for 135M, less for 360M); kernels ~8 s; decode
#                                     probe ~5 s
#   total            174  ~190        (last run: 223 s with the two ctypes steps since removed)
#                                     BUDGET_S=360 (6 min): run with timeout_s 420
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
DRY_RUN="${DRY_RUN:-0}"
DRY_RUN_BUILD="${DRY_RUN_BUILD:-1}"
DEVICE_DIR="$(cd "${DEVICE_DIR:-$root/.device}" 2>/dev/null && pwd || echo "${DEVICE_DIR:-$root/.device}")"
OUT="${OUT:-/tmp/siked-device-check-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# LIMIT_SCALE stretches every box for the rehearsal: 2 shared cores against the GPU machine's 16.
if [ "$DRY_RUN" = 1 ]; then
  BUDGET_S="${BUDGET_S:-1500}"; EXPORT_LAYERS="${EXPORT_LAYERS:-2}"; LIMIT_SCALE="${LIMIT_SCALE:-4}"
  [ -x /usr/bin/python3 ] && PYTHON="${PYTHON:-/usr/bin/python3}"
else
  BUDGET_S="${BUDGET_S:-360}"; EXPORT_LAYERS="${EXPORT_LAYERS:-30}"; LIMIT_SCALE="${LIMIT_SCALE:-1}"
fi
PYTHON="${PYTHON:-python3}"
work="$(mktemp -d /tmp/siked-device.XXXXXX)"
RESULTS="$work/results"
mkdir -p "$RESULTS" "$work/logs"
log="$OUT/device-check.log"
summary="$OUT/summary.json"
: > "$log"
: > "$work/steps.jsonl"
started_s=$(date +%s)
ok_steps=" "

json_string() { printf '"%s"' "$(printf '%s' "$1" | tr '\n\t\r' '   ' | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

# The summary: summary.py merges the step records and the results; if Python itself is broken,
# the step records alone still make a valid summary.json.
write_summary() {
  local meta
  meta="{\"date\": $(json_string "$(date -u +%FT%TZ)"), \"dry_run\": $DRY_RUN, \"dry_run_build\": $DRY_RUN_BUILD,"
  meta+=" \"budget_s\": $BUDGET_S, \"elapsed_s\": $(( $(date +%s) - started_s )), \"out\": $(json_string "$OUT")}"
  "$PYTHON" tools/device/summary.py "$summary" "$work/steps.jsonl" "$RESULTS" "$meta" 2>> "$log" && return
  { printf '%s' "${meta%\}}, \"summary_py\": \"failed: see the log\", \"steps\": ["
    paste -sd, "$work/steps.jsonl"
    printf ']}\n'; } > "$summary.tmp" && mv "$summary.tmp" "$summary"
}

record() { # NAME STATUS RC SECONDS LIMIT MESSAGE
  printf '%-16s %-24s rc=%-4s %4ss\n' "$1" "$2" "$3" "$4"
  printf '{"name": %s, "status": %s, "rc": %s, "seconds": %s, "limit_s": %s, "message": %s}\n' \
    "$(json_string "$1")" "$(json_string "$2")" "$3" "$4" "$5" "$(json_string "${6:0:300}")" >> "$work/steps.jsonl"
  write_summary
}

# step NAME BOX_S NEEDS FUNCTION: runs FUNCTION under min(BOX_S * LIMIT_SCALE, budget left) when
# every step named in NEEDS (space-separated) succeeded. Output goes to the log; the record keeps
# rc, seconds and a message (the output's last line, or the result's error: summary.py).
# rc 124/137 = the box was hit.
step() {
  local name="$1" limit=$(( $2 * LIMIT_SCALE )) needs="$3" fn="$4"
  local left=$(( BUDGET_S - ($(date +%s) - started_s) )) need
  if [ -n "${ONLY:-}" ]; then
    case " $ONLY " in *" $name "*) ;; *) record "$name" "skipped: not in ONLY" -1 0 0 "ONLY=$ONLY"; return 1 ;; esac
  fi
  for need in $needs; do
    case "$ok_steps" in *" $need "*) ;; *) record "$name" "skipped: needs $need" -1 0 0 "$need did not succeed"; return 1 ;; esac
  done
  if [ "$left" -lt 10 ]; then record "$name" "skipped: budget spent" -1 0 0 "BUDGET_S=$BUDGET_S spent"; return 1; fi
  [ "$limit" -gt "$left" ] && limit="$left"
  local t0 rc status own="$work/logs/$name.log"
  t0=$(date +%s)
  printf '\n===== %s (box %ss) =====\n' "$name" "$limit" >> "$log"
  # A step is a shell function: run it in a child bash (functions exported below) so timeout can
  # kill it and everything it started. STEP_LIMIT_S lets a step pace itself inside its box.
  STEP_LIMIT_S="$limit" timeout --kill-after=5 "$limit" bash -c 'set -o pipefail; "$@"' step "$fn" > "$own" 2>&1
  rc=$?
  cat "$own" >> "$log"
  case "$rc" in 0) status="ok"; ok_steps+="$name " ;; 124|137) status="timed out" ;; 3) status="skipped" ;; *) status="failed" ;; esac
  record "$name" "$status" "$rc" "$(( $(date +%s) - t0 ))" "$limit" "$(grep -v '^[[:space:]]*$' "$own" | tail -1)"
  [ "$rc" = 0 ]
}

# ---- steps (each a function, run in a child bash; exit 3 = skipped on purpose) ------------------
environment() {
  date -u; uname -a; echo "cores: $(nproc) ($(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))"
  # Set, any of these changes how every kernel launch behaves (CUDA_LAUNCH_BLOCKING serialises).
  env | grep -E '^(CUDA_|PYTORCH_|TORCH_|OMP_)' || echo "no CUDA_/PYTORCH_/TORCH_/OMP_ variables set"
  nvidia-smi || echo "nvidia-smi: not available"
  echo "nvcc: $(command -v nvcc || echo 'not found')"; nvcc --version 2>/dev/null | tail -2
  timeout 25 "$PYTHON" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' || true
  timeout 25 "$PYTHON" -c 'import transformers; print("transformers", transformers.__version__)' || true
}

unpack_node() {
  [ -s "$DEVICE_DIR/node.xz" ] || { echo "missing $DEVICE_DIR/node.xz: run tools/device/prepare.sh here and carry .device"; return 1; }
  mkdir -p "$work/node/bin"
  xz -dc "$DEVICE_DIR/node.xz" > "$work/node/bin/node" && chmod +x "$work/node/bin/node"
  "$work/node/bin/node" --version
}

# cuBLAS is opened at run time: point the engine at the toolkit's or PyTorch's copy.
find_cublas() {
  local lib
  lib="$( { ls /usr/local/cuda/lib64/libcublas.so.1[23] 2>/dev/null
            timeout 20 "$PYTHON" - <<'PY' 2>/dev/null
import pathlib, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()] + sys.path
for root in roots:
    for hit in sorted(pathlib.Path(root).glob("nvidia/**/libcublas.so.1[23]")):
        print(hit)
PY
          } | head -1)"
  [ -n "$lib" ] || { echo "libcublas.so.13/.12 not found (toolkit lib64 or nvidia-cublas wheel): no CUDA device stack here"; return 1; }
  echo "cuBLAS: $lib"
  dirname "$lib" > "$work/cublas_dir"
}

# The device's architecture only, to keep the build short (CI compiles sm_80 and sm_90a).
device_arch() {
  local cap
  cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
  case "$cap" in 90|"") echo 90a ;; *) echo "$cap" ;; esac
}

# The environment every engine step shares: carried node, its modules, cuBLAS.
use_engine() {
  export PATH="$work/node/bin:$PATH" NODE_PATH="$DEVICE_DIR/node_modules"
  [ -f "$work/cublas_dir" ] && export SIKED_CUBLAS_PATH="$(cat "$work/cublas_dir")"
  return 0
}

build_addon() {
  use_engine
  mkdir -p "$work/pkg/build/Release" && cp -r "$DEVICE_DIR/native-dist" "$work/pkg/dist" || return 1
  if [ "$DRY_RUN" = 1 ] && [ "$DRY_RUN_BUILD" = 0 ]; then
    # CI's rehearsal: no compiler time; the addon built by `npm run build` (or DRY_RUN_ADDON, e.g.
    # a SIKED_CUDA=EMULATE build) stands in, so every later step runs through the same dist and
    # node-gyp-build path.
    local local_addon="${DRY_RUN_ADDON:-packages/native-cuda/build/Release/siked_native.node}"
    [ -f "$local_addon" ] || { echo "DRY_RUN_BUILD=0 needs $local_addon (npm run build)"; return 1; }
    cp "$local_addon" "$work/pkg/build/Release/" && echo "DRY_RUN_BUILD=0: stand-in addon $local_addon (not compiled)"
    return
  fi
  local arch; arch="$(device_arch)"
  [ "$DRY_RUN" = 1 ] && arch="80;90a"
  local generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  cmake -S packages/native-cuda -B "$work/addon-build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DSIKED_CUDA=ON \
    "-DCMAKE_CUDA_ARCHITECTURES=$arch" -DCMAKE_JS_INC="$DEVICE_DIR/node_modules/node-api-headers/include" \
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$work/pkg/build/Release" &&
    cmake --build "$work/addon-build" -j "$(nproc)" &&
    [ -f "$work/pkg/build/Release/siked_native.node" ]
}

addon_info() {
  use_engine
  node -e "const info = require('$work/pkg/dist/index.js').buildInfo();
           require('fs').writeFileSync('$RESULTS/addon_info.json', JSON.stringify(info));
           console.log(JSON.stringify(info));
           if (!info.cuda.compiled) { console.log('CUDA backend not compiled into the addon'); process.exit(1); }
           if (info.cuda.deviceCount < 1) { console.log('no CUDA device: ' + info.cuda.error); process.exit(1); }"
}

# api_check.js stops starting measurements this long before its box ends (a native call in
# flight cannot be interrupted).
api_deadline() { echo $(( STEP_LIMIT_S > 40 ? STEP_LIMIT_S - 20 : STEP_LIMIT_S / 2 + 1 )); }

api_parity() {
  use_engine
  node tools/device/api_check.js "$work/pkg/dist" parity --devices cuda,cpu \
    --out "$RESULTS/api_parity.json" --deadline-s "$(api_deadline)" > /dev/null
}

api_throughput() {
  use_engine
  node tools/device/api_check.js "$work/pkg/dist" throughput --devices cuda,cpu \
    --out "$RESULTS/api_throughput.json" --deadline-s "$(api_deadline)" > /dev/null
}

# Dry run only: the whole api_check.js on cpu,cpu at tiny sizes, so the script itself is proven
# on a machine without a GPU (the cuda steps above can only fail there).
api_rehearsal() {
  use_engine
  node tools/device/api_check.js "$work/pkg/dist" all --devices cpu,cpu \
    --out "$RESULTS/api_rehearsal.json" --deadline-s "$(api_deadline)" > /dev/null
}

build_parity() {
  if [ "$DRY_RUN" = 1 ] && [ "$DRY_RUN_BUILD" = 0 ]; then echo "skipped: DRY_RUN_BUILD=0 (no compiles)"; return 3; fi
  local arch; arch="$(device_arch)"
  local src=packages/native-cuda/src obj="$work/parity"
  mkdir -p "$obj"
  # The kernels only: cuda_model*.cu is the Model backend, which needs the addon's C++ side.
  ls $src/cuda/*.cu tools/device/parity.cu tools/device/bench_kernels.cu | grep -v '/cuda_model[^/]*\.cu$' |
    xargs -P "$(nproc)" -I{} sh -c 'nvcc -std=c++17 -O2 --expt-relaxed-constexpr -Xcompiler -fPIC \
       -gencode arch=compute_'"$arch"',code=sm_'"$arch"' -I'"$src"'/cpp -I'"$src"'/cuda -c {} -o '"$obj"'/$(basename {}).o' ||
    return 1
  ar rcs "$obj/libkernels.a" $(ls "$obj"/*.o | grep -v -e '/parity.cu.o$' -e '/bench_kernels.cu.o$') || return 1
  local gencode="arch=compute_$arch,code=sm_$arch"
  # Each executable pulls from the archive only the objects it uses.
  nvcc -gencode "$gencode" "$obj/parity.cu.o" "$obj/libkernels.a" -ldl -o "$obj/parity" &&
    nvcc -gencode "$gencode" "$obj/bench_kernels.cu.o" "$obj/libkernels.a" -ldl -o "$obj/bench_kernels"
}

# A kernel binary's JSON goes to the results; in DRY_RUN "no CUDA device" + exit 2 is the pass.
run_kernel_binary() { # BINARY RESULT_NAME
  use_engine
  "$work/parity/$1" > "$RESULTS/$2.json"
  local rc=$?
  cat "$RESULTS/$2.json"
  if [ "$DRY_RUN" = 1 ]; then grep -q '"no CUDA device' "$RESULTS/$2.json" && [ "$rc" = 2 ] && echo "no CUDA device (expected in DRY_RUN)"; return 1; fi
  return "$rc"
}
run_parity() { run_kernel_binary parity parity; }
run_kernel_bench() { run_kernel_binary bench_kernels kernel_bench; }

engine_export() {
  use_engine
  mkdir -p "$work/export"
  node tools/device/engine_export.js "$work/pkg/dist" smollm-135m "$work/export" "$EXPORT_LAYERS"
}

hf_parity() { PYTHONUNBUFFERED=1 "$PYTHON" tools/device/hf_parity.py "$work/export" "$RESULTS/hf_parity.json"; }

# `siked logprobs --device cuda` without the CLI's dependencies: the same Model.fromPretrained +
# scoreTokens it runs, on the exported checkpoint, against transformers fp32 (hf_parity.py).
api_hf() {
  use_engine
  node tools/device/api_check.js "$work/pkg/dist" hf --devices cuda,cpu --hf-dir "$work/export" \
    --out "$RESULTS/api_hf.json" --deadline-s "$(api_deadline)" > /dev/null
}

# The scale-out path's adapter files against the real PEFT library, both ways: our adapter loaded
# by PEFT onto transformers' Llama (what vLLM and --sampler read), and a PEFT-trained adapter
# loaded by our engine (what --trainer-command reads back). peft_roundtrip.js/.py.
peft_roundtrip() {
  use_engine
  mkdir -p "$work/peft"
  node tools/device/peft_roundtrip.js export "$work/pkg/dist" "$work/peft" &&
    PYTHONUNBUFFERED=1 "$PYTHON" tools/device/peft_roundtrip.py "$work/peft" "$RESULTS/peft_roundtrip.json" &&
    node tools/device/peft_roundtrip.js import "$work/pkg/dist" "$work/peft" "$RESULTS/peft_import.json"
}

quick_flag() { [ "${BENCH_FULL:-0}" = 1 ] || echo --quick; }

# The PyTorch/transformers baselines of workload.json (summary.py divides api_throughput by them).
torch_bench() { PYTHONUNBUFFERED=1 "$PYTHON" tools/device/torch_bench.py "$RESULTS/torch_bench.json" $(quick_flag); }

# nvcc's folder on PATH (the image may not put it there): CMake, the harness build and any
# PyTorch extension compile all look for it there.
put_nvcc_on_path() {
  command -v nvcc > /dev/null && return
  local dir
  for dir in /usr/local/cuda/bin /usr/local/cuda-*/bin /opt/cuda/bin; do
    [ -x "$dir/nvcc" ] && { PATH="$dir:$PATH"; return; }
  done
}

# ---- the run -----------------------------------------------------------------------------------
put_nvcc_on_path
command -v nvcc > /dev/null && export CUDACXX="$(command -v nvcc)"
export -f environment unpack_node find_cublas device_arch use_engine build_addon addon_info api_deadline \
  api_parity api_throughput api_rehearsal build_parity run_kernel_binary run_parity run_kernel_bench \
  engine_export hf_parity api_hf peft_roundtrip quick_flag torch_bench
export root work OUT RESULTS DRY_RUN DRY_RUN_BUILD DEVICE_DIR PYTHON EXPORT_LAYERS PATH
trap 'write_summary; rm -rf "$work"' EXIT
trap 'echo "device check: killed" >> "$log"; exit 143' TERM INT
echo "siked device check: OUT=$OUT budget=${BUDGET_S}s dry_run=$DRY_RUN build=$DRY_RUN_BUILD work=$work"
write_summary
# Our engine first (addon, the API on cuda), then our kernels, then the engine against
# transformers, then the PyTorch baselines (needed for the comparisons, but if time runs out the
# engine's own figures are already recorded).
step environment     30 ""                      environment
step node            20 ""                      unpack_node
step cublas          20 ""                      find_cublas
step addon_build     90 "node"                  build_addon
step addon_info      15 "addon_build"           addon_info
step api_parity      30 "addon_build"           api_parity
step api_throughput 120 "addon_build"           api_throughput
[ "$DRY_RUN" = 1 ] && step api_rehearsal 60 "addon_build" api_rehearsal
step parity_build    60 ""                      build_parity
step parity_run      30 "parity_build"          run_parity
step kernel_bench    45 "parity_build"          run_kernel_bench
step engine_export   45 "addon_build"           engine_export
step hf_parity       60 "engine_export"         hf_parity
step api_hf          30 "hf_parity"             api_hf
step peft_roundtrip  60 "addon_build"           peft_roundtrip
step torch_bench    150 ""                      torch_bench
write_summary
echo "summary: $summary ($(ls "$OUT" | wc -l) files in OUT)"
