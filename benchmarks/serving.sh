#!/usr/bin/env bash
# Serving benchmarks of the FAST engine (our engine only): throughput of one shared instance against one instance per
# calling thread, one-step streaming latency (median, p99), resident memory over a long run of forwards and gradients.
#
#   benchmarks/serving.sh throughput [--threads 1,2] [--seconds 5] [--rounds 3]
#   benchmarks/serving.sh streaming  [--batch 1,64] [--calls 20000] [--warmup 30000] [--no-mixed]
#   benchmarks/serving.sh longrun    [--forwards 200000] [--gradients 20000]     (run with JAVA_OPTS=-Xmx256m)
#
# Builds through run.sh (its --help installs io.torchlstm4j:app and compiles benchmarks/ before printing the options),
# then runs io.torchlstm4j.benchmarks.Serving with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS from the environment
# (default 1). Tables on stdout, progress on stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/run.sh" --help > /dev/null

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-${OMP_NUM_THREADS:-1}}"
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:-} -cp "$here/target/classes:$(cat "$here/target/classpath.txt")" \
  io.torchlstm4j.benchmarks.Serving "$@"
