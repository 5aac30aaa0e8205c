#!/usr/bin/env bash
# Prepares, on THIS machine, what tools/device-check.sh needs on the GPU machine, which has no
# Node and no internet: writes the ignored folder .device/ (carry it with the device call):
#   .device/node.xz           this machine's node binary, xz-compressed
#   .device/node_modules/     node-addon-api, node-api-headers (addon build), node-gyp-build (load)
#   .device/native-dist/      packages/native-cuda compiled to JavaScript (tsc, same tsconfig)
# Safe to run while others work: it writes only under .device/ and never touches build/ or dist/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mkdir -p .device/node_modules
if [ ! -s .device/node.xz ] || [ "$(command -v node)" -nt .device/node.xz ]; then
  xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > .device/node.xz.tmp
  mv .device/node.xz.tmp .device/node.xz
fi
for package in node-addon-api node-api-headers node-gyp-build; do
  rm -rf ".device/node_modules/$package"
  cp -r "node_modules/$package" ".device/node_modules/$package"
done
rm -rf .device/native-dist
npx tsc -p packages/native-cuda/tsconfig.json --outDir .device/native-dist \
  --tsBuildInfoFile .device/native-dist/.tsbuildinfo --sourceMap false
du -sh .device/node.xz .device/node_modules .device/native-dist
