#!/usr/bin/env bash
# Runs the CUDA kernels without a GPU, on the CPU emulation (packages/native-cuda/emulate):
# rewrites every packages/native-cuda/src/cuda/*.cu with emulate/rewrite.mjs, compiles it with
# g++ against the stub CUDA headers, then runs
#   1. the emulator's self-test (emulate/test/selftest.cu: barriers, shuffles, deadlock reports,
#      bf16 rounding, the cuBLAS stand-in against a naive loop, the fiber switch cost), and
#   2. the parity harness tools/device/parity.cu (every kernel vs its CPU reference).
# No nvcc needed. Exit code 0 only when both pass.
# Usage: tools/cuda-lab/emulate-parity.sh
#   JOBS=n            compile parallelism (default: nproc)
#   KEEP=dir          build in dir and keep it (default: a temporary folder, removed)
#   PARITY_JSON=file  also write the harness's JSON summary there
#   SANITIZE=1        kernels and harness built with AddressSanitizer + UBSan: an out-of-bounds
#                     access to device memory (host memory here) is reported with its kernel line.
#                     The fiber runtime and its self-test stay uninstrumented (ASan cannot follow
#                     the stack switches), and detect_stack_use_after_return is turned off.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pkg="$root/packages/native-cuda"
jobs="${JOBS:-$(nproc)}"
if [ -n "${KEEP:-}" ]; then
  out="$KEEP"
  mkdir -p "$out"
else
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
gen="$out/gen"
obj="$out/obj"
rm -rf "$gen" "$obj"
mkdir -p "$gen" "$obj"
seconds_since() { awk -v from="$1" -v to="$(date +%s.%N)" 'BEGIN { printf "%.1f", to - from }'; }
start=$(date +%s.%N)

# Launches become calls; the rewritten headers shadow the originals (first on the include path).
for file in "$pkg"/src/cuda/*.cu; do node "$pkg/emulate/rewrite.mjs" "$file" "$gen/$(basename "$file" .cu).cpp"; done
for file in "$pkg"/src/cuda/*.cuh; do node "$pkg/emulate/rewrite.mjs" "$file" "$gen/$(basename "$file")"; done
node "$pkg/emulate/rewrite.mjs" "$root/tools/device/parity.cu" "$gen/main_parity.cpp"
node "$pkg/emulate/rewrite.mjs" "$pkg/emulate/test/selftest.cu" "$gen/main_selftest.cpp"
node "$pkg/emulate/rewrite.mjs" "$root/tools/cuda-lab/philox_kat.cu" "$gen/main_philox_kat.cpp"

# The flags of emulate/emulate.cmake; -Wno-comment for parity.cu's build line ending in '\'.
export CXXFLAGS_EMU="-std=c++17 -O2 -fno-strict-aliasing -fPIC -fvisibility=hidden -Wall -Wno-subobject-linkage -Wno-comment -DSIKED_CUDA_EMULATE=1
  -I$pkg/emulate/include -I$gen -I$pkg/src/cuda -I$pkg/src/cpp"
sanitize=""
if [ "${SANITIZE:-0}" = 1 ]; then
  sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
  export ASAN_OPTIONS="detect_stack_use_after_return=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
fi
export obj sanitize
compile() {
  local extra=""
  case "$1" in */emulate/src/* | */main_selftest.cpp) ;; *) extra="$sanitize" ;; esac
  g++ $CXXFLAGS_EMU $extra -c "$1" -o "$obj/$(basename "$1").o"
}
export -f compile
ls "$gen"/*.cpp "$pkg"/emulate/src/*.cpp | xargs -P "$jobs" -I{} bash -c 'compile "$1"' _ {}

# Kernels go into an archive so that the CUDA model's host code (cuda_model.cu & co., which needs
# the engine's C++ objects) is left out unless referenced; the runtime, with the cuBLAS stand-in
# that is only found by dlsym, is linked whole. -rdynamic exports it for that dlsym.
kernels=()
for file in "$gen"/*.cpp; do
  case "$(basename "$file")" in main_*) ;; *) kernels+=("$obj/$(basename "$file").o") ;; esac
done
runtime=()
for file in "$pkg"/emulate/src/*.cpp; do runtime+=("$obj/$(basename "$file").o"); done
ar rcs "$obj/libkernels.a" "${kernels[@]}"
g++ -rdynamic "$obj/main_selftest.cpp.o" "${runtime[@]}" -o "$out/selftest" -ldl -lpthread
g++ $sanitize "$obj/main_philox_kat.cpp.o" -o "$out/philox_kat"
g++ $sanitize -rdynamic "$obj/main_parity.cpp.o" "${runtime[@]}" "$obj/libkernels.a" -o "$out/parity" -ldl -lpthread
echo "built in $(seconds_since "$start") s"

echo "== emulator self-test"
"$out/selftest"
echo "== Philox known answers (tools/cuda-lab/philox_kat.cu)"
"$out/philox_kat"

echo "== parity (tools/device/parity.cu on the emulator)"
run_start=$(date +%s.%N)
status=0
"$out/parity" > "$out/parity.json" || status=$?
run_seconds=$(seconds_since "$run_start")
if [ -n "${PARITY_JSON:-}" ]; then cp "$out/parity.json" "$PARITY_JSON"; fi
node -e '
  const summary = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const checks = summary.checks || summary.results || [];
  const passed = checks.filter((c) => c.status === "pass").length;
  console.log(`parity: ${passed}/${checks.length} checks passed in ${process.argv[2]} s`);
' "$out/parity.json" "$run_seconds"
exit "$status"
