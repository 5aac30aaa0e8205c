#!/usr/bin/env bash
# Prepares, on THIS machine, what tools/device-check.sh needs on the GPU machine, which has no
# Node and no internet: writes the ignored folder .device/ (carry it with the device call):
#   .device/node.xz           this machine's node binary, xz-compressed
#   .device/node_modules/     node-addon-api, node-api-headers (addon build), node-gyp-build (load)
#   .device/native-dist/      packages/native-cuda compiled to JavaScript (tsc, same tsconfig)
# Safe to run while others work: it writes only under .device/ and never touches build/ or dist/.
# DEVICE_DIR writes elsewhere (the CI rehearsal uses a temporary folder, leaving .device alone);
# XZ_LEVEL (default 6) trades the carried size for time (0: ~3 s and ~35 MB, 6: ~20 s, 24 MB).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
device_dir="${DEVICE_DIR:-$root/.device}"
mkdir -p "$device_dir/node_modules"
node_bin="$(readlink -f "$(command -v node)")"
if [ ! -s "$device_dir/node.xz" ] || [ "$node_bin" -nt "$device_dir/node.xz" ]; then
  xz -T2 "-${XZ_LEVEL:-6}" -c "$node_bin" > "$device_dir/node.xz.tmp"
  mv "$device_dir/node.xz.tmp" "$device_dir/node.xz"
fi
for package in node-addon-api node-api-headers node-gyp-build; do
  rm -rf "${device_dir:?}/node_modules/$package"
  cp -r "node_modules/$package" "$device_dir/node_modules/$package"
done
rm -rf "$device_dir/native-dist"
npx tsc -p packages/native-cuda/tsconfig.json --outDir "$device_dir/native-dist" \
  --tsBuildInfoFile "$device_dir/native-dist/.tsbuildinfo" --sourceMap false
du -sh "$device_dir/node.xz" "$device_dir/node_modules" "$device_dir/native-dist"
