#!/usr/bin/env bash
# Compile-checks CUDA sources for both target architectures the addon builds (sm_80, sm_90a),
# exactly as CMake would, without touching the addon's build folder.
# Usage: tools/cuda-lab/check.sh [file.cu ...]   (default: every packages/native-cuda/src/cuda/*.cu)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/packages/native-cuda/src"
files=("$@")
[ ${#files[@]} -eq 0 ] && files=("$src"/cuda/*.cu)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for file in "${files[@]}"; do
  for arch in "arch=compute_80,code=sm_80" "arch=compute_90a,code=sm_90a"; do
    nvcc -std=c++17 -O3 --expt-relaxed-constexpr -Xcompiler -Wall -gencode "$arch" \
      -I"$src/cpp" -I"$src/cuda" -c "$file" -o "$out/$(basename "$file").o"
  done
  echo "ok $(basename "$file")"
done
# Host-side known-answer test of the sampler's random stream (no GPU needed).
nvcc -std=c++17 -I"$src/cuda" "$root/tools/cuda-lab/philox_kat.cu" -o "$out/philox_kat"
"$out/philox_kat"
