#!/usr/bin/env bash
# Fuzzes every reader at full count: COUNT mutated inputs per reader (default 100000), each reader in its own
# test JVM with -Xmx512m, all readers at once. Fails unless every input was read or refused with the library's
# own exception. Reports: app/target/fuzz-reports/*.txt, mnist-demo/target/fuzz-reports/*.txt; inputs of any other
# outcome: */target/fuzz-failures/.
# Usage: tools/fuzz.sh [COUNT [SEED [TARGETS]]], TARGETS a space-separated subset of
# "safetensors npz pt.zip pt.legacy idx idx.gz image" (default all); extra Maven flags in MVN_FLAGS, e.g. -o.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-100000}"
seed="${2:-18}"
targets=" ${3:-safetensors npz pt.zip pt.legacy idx idx.gz image} "
mvn="mvn -B -q ${MVN_FLAGS:-} -pl app,mnist-demo -am"
for t in $targets; do rm -f "app/target/fuzz-reports/$t.txt" "mnist-demo/target/fuzz-reports/$t.txt"; done
$mvn test-compile
# The runs below only find the classes compiled above up to date (no incremental recompilation, no gcc), so that
# the parallel builds never rewrite a class another run is loading.
run() { # module test target
  $mvn -P '!native-gates' -Dmaven.compiler.useIncrementalCompilation=false test-compile surefire:test -Dtest="$2" -Dsurefire.failIfNoSpecifiedTests=false -Dtest.heap=512m \
    -Dfuzz.count="$count" -Dfuzz.seed="$seed" -Dfuzz.targets="$3" > "$1/target/fuzz-$3.log" 2>&1
}
pids=()
for target in safetensors npz pt.zip pt.legacy; do
  if [[ $targets == *" $target "* ]]; then run app ReaderFuzzTest "$target" & pids+=($!); fi
done
for target in idx idx.gz image; do
  if [[ $targets == *" $target "* ]]; then run mnist-demo MnistFuzzTest "$target" & pids+=($!); fi
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for t in $targets; do cat {app,mnist-demo}/target/fuzz-reports/"$t".txt 2>/dev/null || true; done
[ "$status" = 0 ] || echo "FAILED: see */target/fuzz-*.log" >&2
exit "$status"
