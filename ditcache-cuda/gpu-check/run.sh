#!/usr/bin/env bash
# Runs the ditcache-cuda GPU check with the JRE and jars beside this script. Finds the CUDA runtime and NVRTC
# libraries of the machine (the CUDA toolkit or the nvidia-* Python packages) and the driver's libcuda.so.1.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dirs=()
for lib in libcuda.so.1 libcudart.so.13 libnvrtc.so.13 libnvrtc-builtins.so.13.0; do
    d=$( (ls -d /usr/local/nvidia/lib64 /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu 2>/dev/null; \
          find /usr /opt /lib /lib64 -name "$lib*" 2>/dev/null | xargs -r -n1 dirname) \
        | while read -r x; do [ -e "$x/$lib" ] && echo "$x" && break; done)
    [ -n "$d" ] && dirs+=("$d")
done
export LD_LIBRARY_PATH="$(printf '%s:' "${dirs[@]}")${LD_LIBRARY_PATH:-}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
cache="${TMPDIR:-/tmp}/ditcache-javacpp"
exec "$here/jre/bin/java" --add-modules jdk.incubator.vector -Xmx8g \
    -Dorg.bytedeco.javacpp.cachedir="$cache" -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -cp "$here/lib/*" io.ditcache.cuda.GpuCheck "$@"
