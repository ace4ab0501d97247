#!/usr/bin/env bash
# Builds distances.cu into cubins for sm_80, sm_86, sm_89 and sm_90 and PTX for compute_80, into the folder given
# (the module's classes, so that they are packaged in the jar). Without nvcc it says so and succeeds: the kernels
# are then compiled at run time with NVRTC (io.ditcache.cuda.KernelImages).
set -euo pipefail
src="$(dirname "$0")/distances.cu"
out="$1"
mkdir -p "$out"
nvcc="${NVCC:-$(command -v nvcc || true)}"
if [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [ -z "$nvcc" ]; then
    echo "ditcache-cuda: nvcc not found; no cubins packaged (kernels are compiled at run time with NVRTC)"
    exit 0
fi
if [ -f "$out/distances.sm_90.cubin" ] && [ "$out/distances.sm_90.cubin" -nt "$src" ]; then
    exit 0
fi
for arch in 80 86 89 90; do
    "$nvcc" -cubin -O3 -arch=sm_$arch -o "$out/distances.sm_$arch.cubin" "$src"
done
"$nvcc" -ptx -O3 -arch=compute_80 -o "$out/distances.compute_80.ptx" "$src"
echo "ditcache-cuda: $("$nvcc" --version | tail -1 | sed 's/^Build //') built $(cd "$out" && ls -l distances.* \
    | awk '{printf "%s%s (%d bytes)", sep, $9, $5; sep=", "}')"
