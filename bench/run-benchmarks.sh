#!/usr/bin/env bash
# Builds the jar and runs the three benchmark programs one after another, printing their figures.
# Usage: bench/run-benchmarks.sh            (from anywhere; extra JVM options in DITCACHE_JAVA_OPTS)
# Figures depend on the machine: each program prints the JDK, CPU, thread settings and load average it ran with.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
echo "== build: mvn -q -B -DskipTests package"
mvn -q -B -DskipTests package
jar="ditcache-examples/target/ditcache.jar"
# Thread settings must be in the environment before the JVM starts (libtorch reads them once).
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
for bench in DistanceBenchmark ProbeOverheadBenchmark NativeMemoryCheck; do
  echo
  echo "== java -cp $jar io.ditcache.examples.bench.$bench"
  # shellcheck disable=SC2086
  java --add-modules jdk.incubator.vector ${DITCACHE_JAVA_OPTS:-} -cp "$jar" "io.ditcache.examples.bench.$bench"
done
