#!/usr/bin/env bash
# Builds the engine addon with AddressSanitizer + UndefinedBehaviorSanitizer into its own build
# folder (packages/native-cuda/build-sanitize; the normal build is untouched) and runs the tiny
# engine tests against it. Any ASan/UBSan report fails the run.
#   tools/sanitize-test.sh [jest path patterns...]   (default: the engine tests on tiny models)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$root/packages/native-cuda"
build="$pkg/build-sanitize"

cd "$pkg"
# CUDA off: the sanitizers check the CPU engine; nvcc objects are not instrumented.
npx cmake-js compile --out "$build" --CDSIKED_SANITIZE=ON --CDSIKED_CUDA=OFF --CDCMAKE_BUILD_TYPE=RelWithDebInfo \
  -p "${SIKED_BUILD_JOBS:-2}"
addon="$build/Release/siked_native.node"
[ -f "$addon" ] || addon="$build/RelWithDebInfo/siked_native.node"
[ -f "$addon" ] || { echo "sanitize-test: addon not found under $build" >&2; exit 1; }

# node itself is not instrumented, so the ASan runtime must be loaded first.
libasan="$(${CXX:-g++} -print-file-name=libasan.so)"
libubsan="$(${CXX:-g++} -print-file-name=libubsan.so)"
[ -f "$libasan" ] || { echo "sanitize-test: libasan not found (install the compiler's libasan)" >&2; exit 1; }

patterns=("$@")
[ ${#patterns[@]} -gt 0 ] || patterns=(packages/native-cuda/test/addon packages/native-cuda/test/fixtures \
  packages/native-cuda/test/training packages/native-cuda/test/sampling packages/native-cuda/test/checkpoint \
  packages/native-cuda/test/binding)

cd "$root"
# Leak checking is off: node and V8 keep allocations alive until exit by design.
SIKED_ADDON_PATH="$addon" \
LD_PRELOAD="$libasan $libubsan" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1" \
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  npx jest --runInBand --selectProjects native-cuda --testPathPatterns "${patterns[@]}"
