#!/usr/bin/env bash
# Builds the kernel lab with g++ directly (never through the addon's cmake build dir):
#   gemm_check        correctness of the engine's GEMMs and ThreadPool (see gemm_check.cpp)
#   gemm_bench        GFLOP/s of variant 00 (naive), the engine's kernels and OpenBLAS (dlopen)
#   gemm_bench_mrN    the same bench with the AVX-512 micro-kernel compiled for MR = N rows
#   pool_bench(_00)   ThreadPool dispatch cost, engine's pool and variant 00 (WHAT=pool)
# Usage: tools/kernels-lab/build.sh [OUT_DIR]   (default tools/kernels-lab/build, gitignored)
# Flags mirror the addon's (-O3, no -march): the SIMD kernels carry their own target attributes.
set -euo pipefail
LAB="$(cd "$(dirname "$0")" && pwd)"
SRC="$LAB/../../packages/native-cuda/src/cpp"
OUT="${1:-$LAB/build}"
mkdir -p "$OUT"
CXX="${CXX:-g++}"
FLAGS=(-std=c++17 -O3 -Wall -Wextra -Werror -pthread -I "$SRC" -I "$LAB/variants")
ENGINE=("$SRC/gemm.cpp" "$SRC/gemm_kernels_avx512.cpp" "$SRC/gemm_kernels_avx2.cpp"
        "$SRC/gemm_kernels_scalar.cpp" "$SRC/gemm_kernels_bf16.cpp" "$SRC/gemm_reference.cpp" "$SRC/thread_pool.cpp"
        "$SRC/cpu_features.cpp" "$SRC/peak_probe.cpp" "$SRC/vector_math.cpp" "$SRC/vector_math_avx512.cpp")
what="${WHAT:-check bench}"
if [[ " $what " == *" check "* ]]; then
  "$CXX" "${FLAGS[@]}" "$LAB/gemm_check.cpp" "${ENGINE[@]}" -o "$OUT/gemm_check"
fi
# OpenBLAS for the bench's baseline column: unpack Debian's package from apt's cache (no install).
if [[ " $what " == *" bench "* || " $what " == *" mr "* ]] && [[ ! -d "$OUT/openblas" ]]; then
  deb=$(ls /var/cache/apt/archives/libopenblas0-pthread_*.deb 2>/dev/null | head -1 || true)
  if [[ -n "$deb" ]]; then dpkg-deb -x "$deb" "$OUT/openblas"; fi
fi
if [[ " $what " == *" bench "* ]]; then
  "$CXX" "${FLAGS[@]}" "$LAB/gemm_bench.cpp" "$LAB/variants/00_naive.cpp" "${ENGINE[@]}" -ldl \
    -o "$OUT/gemm_bench"
fi
if [[ " $what " == *" mr "* ]]; then
  for mr in ${MR_VARIANTS:-6 8 12 14}; do
    "$CXX" "${FLAGS[@]}" -DSIKED_AVX512_MR="$mr" "$LAB/gemm_bench.cpp" "$LAB/variants/00_naive.cpp" \
      "${ENGINE[@]}" -ldl -o "$OUT/gemm_bench_mr$mr"
  done
fi
if [[ " $what " == *" pool "* ]]; then
  # The engine's pool and variant 00 (its header shadows the engine's through -I order).
  "$CXX" "${FLAGS[@]}" "$LAB/pool_bench.cpp" "$SRC/thread_pool.cpp" -o "$OUT/pool_bench"
  "$CXX" -std=c++17 -O3 -Wall -Wextra -Werror -pthread -I "$LAB/variants/00_pool" \
    "$LAB/pool_bench.cpp" "$LAB/variants/00_pool/thread_pool.cpp" -o "$OUT/pool_bench_00"
fi
echo "built in $OUT: $what"
