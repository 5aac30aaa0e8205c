#!/usr/bin/env bash
# The CUDA backend's device check (issues 8 and 9): ONE call of at most ~10 minutes on a GPU
# machine (docs/CUDA.md, "The device check", says how to call it). Every step is time-boxed, runs even when
# an earlier one failed (unless it needs that one's output), and is recorded in
# $OUT/summary.json, rewritten after each step so a kill still leaves the record.
#
#   Prepare here first:  tools/device/prepare.sh          (fills .device/: node, headers, JS)
#   On the GPU machine:  tools/device-check.sh            (carry: .device)
#   Rehearse here:       DRY_RUN=1 tools/device-check.sh  (the CPU half; GPU steps must fail
#                                                          cleanly with "no CUDA device")
# Environment: OUT (results folder; default .device/out), BUDGET_S (whole-script budget, default
# 540 on a GPU, 1800 for DRY_RUN), EXPORT_LAYERS (layers of the exported model, default 30; 2 for
# DRY_RUN), PYTHON (default python3; /usr/bin/python3 for DRY_RUN).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
DRY_RUN="${DRY_RUN:-0}"
OUT="${OUT:-$root/.device/out}"
mkdir -p "$OUT"
# LIMIT_SCALE stretches every step's time box: the rehearsal machine has 2 shared cores where the
# GPU machine has 16, so compiles take several times longer there.
if [ "$DRY_RUN" = 1 ]; then
  BUDGET_S="${BUDGET_S:-2400}"; EXPORT_LAYERS="${EXPORT_LAYERS:-2}"; PYTHON="${PYTHON:-/usr/bin/python3}"
  LIMIT_SCALE="${LIMIT_SCALE:-6}"
else
  BUDGET_S="${BUDGET_S:-540}"; EXPORT_LAYERS="${EXPORT_LAYERS:-30}"; PYTHON="${PYTHON:-python3}"
  LIMIT_SCALE="${LIMIT_SCALE:-1}"
fi
work="$(mktemp -d /tmp/siked-device.XXXXXX)"
log="$OUT/device-check.log"
summary="$OUT/summary.json"
: > "$log"
started_s=$(date +%s)
steps_json=""

json_string() { printf '"%s"' "$(printf '%s' "$1" | tr '\n\t' '  ' | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

write_summary() {
  {
    printf '{"date": %s, "dry_run": %s, "budget_s": %s, "elapsed_s": %s,\n "steps": [%s\n]}\n' \
      "$(json_string "$(date -u +%FT%TZ)")" "$DRY_RUN" "$BUDGET_S" "$(( $(date +%s) - started_s ))" "$steps_json"
  } > "$summary"
}

# step NAME LIMIT_S COMMAND...: runs COMMAND under min(LIMIT_S, what is left of the budget),
# appends its output to the log and records rc and seconds. rc 124/137 = time box hit.
step() {
  local name="$1" limit=$(( $2 * LIMIT_SCALE )); shift 2
  local left=$(( BUDGET_S - ($(date +%s) - started_s) ))
  local rc status t0=$(date +%s)
  if [ "$left" -lt 10 ]; then
    rc=-1; status="skipped: budget spent"
  else
    [ "$limit" -gt "$left" ] && limit="$left"
    printf '\n===== %s (limit %ss) =====\n' "$name" "$limit" >> "$log"
    # A step is a shell function: run it in a child bash (exported below) so timeout can kill it.
    timeout --kill-after=5 "$limit" bash -c 'set -o pipefail; "$@"' step "$@" >> "$log" 2>&1
    rc=$?
    case "$rc" in 0) status="ok" ;; 124|137) status="timed out" ;; *) status="failed" ;; esac
  fi
  local seconds=$(( $(date +%s) - t0 ))
  printf '%-28s %-18s rc=%-4s %4ss\n' "$name" "$status" "$rc" "$seconds"
  [ -n "$steps_json" ] && steps_json+=","
  steps_json+=$'\n  '"{\"name\": $(json_string "$name"), \"status\": $(json_string "$status"), \"rc\": $rc, \"seconds\": $seconds, \"limit_s\": $limit}"
  write_summary
  return $(( rc == 0 ? 0 : 1 ))
}

# ---- steps ------------------------------------------------------------------------------------
environment() {
  date -u; uname -a; nproc
  nvidia-smi || echo "nvidia-smi: not available"
  nvcc --version | tail -2
  "$PYTHON" -c 'import sys, torch; print(sys.version); print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' || true
  "$PYTHON" -c 'import transformers; print("transformers", transformers.__version__)' || true
}

unpack_node() {
  [ -s .device/node.xz ] || { echo "missing .device/node.xz: run tools/device/prepare.sh here and carry .device"; return 1; }
  mkdir -p "$work/node/bin"
  xz -dc .device/node.xz > "$work/node/bin/node" && chmod +x "$work/node/bin/node"
  "$work/node/bin/node" --version
}

# cuBLAS is opened at run time: point the engine at the toolkit's or PyTorch's copy.
find_cublas() {
  local lib
  lib="$( { ls /usr/local/cuda/lib64/libcublas.so.1[23] 2>/dev/null
            "$PYTHON" - <<'PY' 2>/dev/null
import pathlib, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()] + sys.path
for root in roots:
    for hit in sorted(pathlib.Path(root).glob("nvidia/**/libcublas.so.1[23]")):
        print(hit)
PY
          } | head -1)"
  [ -n "$lib" ] || { echo "libcublas.so.13/.12 not found (toolkit lib64 or nvidia-cublas wheel)"; return 1; }
  echo "cuBLAS: $lib"
  echo "$(dirname "$lib")" > "$work/cublas_dir"
}

# The device's architecture only, to keep the build short (CI compiles sm_80 and sm_90a).
device_arch() {
  local cap
  cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
  case "$cap" in 90) echo 90a ;; "") echo 90a ;; *) echo "$cap" ;; esac
}

build_parity() {
  local arch; arch="$(device_arch)"
  local src=packages/native-cuda/src
  mkdir -p "$work/parity"
  ls $src/cuda/*.cu tools/device/parity.cu tools/device/bench_kernels.cu | xargs -P "$(nproc)" -I{} sh -c \
    'nvcc -std=c++17 -O2 --expt-relaxed-constexpr -Xcompiler -fPIC -gencode arch=compute_'"$arch"',code=sm_'"$arch"' \
       -I'"$src"'/cpp -I'"$src"'/cuda -c {} -o '"$work"'/parity/$(basename {}).o' || return 1
  local kernels; kernels="$(ls "$work"/parity/*.o | grep -v -e '/parity.cu.o$' -e '/bench_kernels.cu.o$')"
  nvcc -gencode "arch=compute_$arch,code=sm_$arch" "$work/parity/parity.cu.o" $kernels -ldl -o "$work/parity/parity" &&
    nvcc -gencode "arch=compute_$arch,code=sm_$arch" "$work/parity/bench_kernels.cu.o" $kernels -ldl \
      -o "$work/parity/bench_kernels" &&
    nvcc -shared -gencode "arch=compute_$arch,code=sm_$arch" $kernels -ldl -o "$work/parity/libsiked_cuda.so"
}

run_kernel_bench() {
  [ -f "$work/cublas_dir" ] && export SIKED_CUBLAS_PATH="$(cat "$work/cublas_dir")"
  "$work/parity/bench_kernels" > "$OUT/kernel_bench.json"
  local rc=$?
  cat "$OUT/kernel_bench.json"
  if [ "$DRY_RUN" = 1 ]; then grep -q '"no CUDA device' "$OUT/kernel_bench.json" && [ "$rc" = 2 ]; return; fi
  return "$rc"
}

run_parity() {
  [ -f "$work/cublas_dir" ] && export SIKED_CUBLAS_PATH="$(cat "$work/cublas_dir")"
  "$work/parity/parity" > "$OUT/parity.json"
  local rc=$?
  cat "$OUT/parity.json"
  # No device here: the harness must say so and exit 2 (that is the expected DRY_RUN outcome).
  if [ "$DRY_RUN" = 1 ]; then grep -q '"no CUDA device' "$OUT/parity.json" && [ "$rc" = 2 ]; return; fi
  return "$rc"
}

build_addon() {
  local arch; arch="$(device_arch)"
  [ "$DRY_RUN" = 1 ] && arch="80;90a"
  export PATH="$work/node/bin:$PATH" NODE_PATH="$root/.device/node_modules"
  cmake -S packages/native-cuda -B "$work/addon-build" -DCMAKE_BUILD_TYPE=Release -DSIKED_CUDA=ON \
    "-DCMAKE_CUDA_ARCHITECTURES=$arch" -DCMAKE_JS_INC="$root/.device/node_modules/node-api-headers/include" \
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$work/pkg/build/Release" &&
    cmake --build "$work/addon-build" -j "$(nproc)" &&
    mkdir -p "$work/pkg" && cp -r .device/native-dist "$work/pkg/dist" &&
    [ -f "$work/pkg/build/Release/siked_native.node" ]
}

addon_info() {
  export PATH="$work/node/bin:$PATH" NODE_PATH="$root/.device/node_modules"
  node -e "const info = require('$work/pkg/dist/index.js').buildInfo(); console.log(JSON.stringify(info));
           if (!info.cuda.compiled) process.exit(1);" | tee "$OUT/addon.json"
}

engine_export() {
  export PATH="$work/node/bin:$PATH" NODE_PATH="$root/.device/node_modules"
  mkdir -p "$work/export"
  node tools/device/engine_export.js "$work/pkg/dist" smollm-135m "$work/export" "$EXPORT_LAYERS"
}

hf_parity() { "$PYTHON" tools/device/hf_parity.py "$work/export" "$OUT/hf_parity.json"; }

# A whole training step from our kernels (ctypes), against transformers and PyTorch eager.
train_step() {
  [ -f "$work/cublas_dir" ] && export SIKED_CUBLAS_PATH="$(cat "$work/cublas_dir")"
  local quick=""
  [ "${BENCH_FULL:-0}" = 1 ] || quick="--quick"
  PYTHONUNBUFFERED=1 "$PYTHON" tools/device/cuda_train_step.py "$work/parity/libsiked_cuda.so" \
    "$OUT/train_step.json" $quick
}

# Batched self-generation from our kernels (ctypes), against transformers' generate.
generate() {
  [ -f "$work/cublas_dir" ] && export SIKED_CUBLAS_PATH="$(cat "$work/cublas_dir")"
  local quick=""
  [ "${BENCH_FULL:-0}" = 1 ] || quick="--quick"
  PYTHONUNBUFFERED=1 "$PYTHON" tools/device/cuda_generate.py "$work/parity/libsiked_cuda.so" \
    "$OUT/generate.json" $quick
}

torch_bench() {
  local quick=""
  [ "${BENCH_FULL:-0}" = 1 ] || quick="--quick"
  PYTHONUNBUFFERED=1 "$PYTHON" tools/device/torch_bench.py "$OUT/torch_bench.json" $quick
}

# ---- the run ----------------------------------------------------------------------------------
export -f environment unpack_node find_cublas device_arch build_parity run_parity run_kernel_bench train_step generate build_addon \
  addon_info engine_export hf_parity torch_bench
export root work OUT DRY_RUN PYTHON EXPORT_LAYERS
echo "siked device check: OUT=$OUT budget=${BUDGET_S}s dry_run=$DRY_RUN work=$work"
step environment 20 environment
step node 30 unpack_node
step cublas 20 find_cublas
if step parity_build 150 build_parity; then
  step parity_run 60 run_parity
  step kernel_bench 60 run_kernel_bench
  step train_step 150 train_step
  step generate 120 generate
fi
step torch_bench 240 torch_bench
if step addon_build 200 build_addon && step addon_info 15 addon_info; then
  step engine_export 90 engine_export && step hf_parity 90 hf_parity
fi
write_summary
echo "summary: $summary"
cat "$summary"
rm -rf "$work"
