#!/usr/bin/env bash
# One command for the speed/memory benchmark: this project (FAST and REFERENCE engines) vs PyTorch 1.13
# (Debian's python3-torch) vs DJL 0.36.0 on libtorch 2.7.1, same machine, same threads, interleaved.
#
#   benchmarks/run.sh            full run (~10 min on 2 cores), writes BENCHMARKS.md at the repository root
#   benchmarks/run.sh --quick    smoke run (a few minutes), writes benchmarks/target/BENCHMARKS-quick.md
#   benchmarks/run.sh --help     all options (--threads 1,2  --cases ...  --rounds N  --launches N)
#
# It builds what it needs: installs io.torchlstm4j:torchlstm4j into the local Maven repository (mvn install -pl app -am),
# compiles the standalone benchmarks/ project (DJL is a dependency of this project only) and runs the
# coordinator io.torchlstm4j.benchmarks.Main. Maven runs offline when ~/.m2 has everything, else it resolves from
# Maven Central once. DJL runs offline (-Dai.djl.offline=true): libtorch is extracted from the
# pytorch-native-cpu classifier jar into DJL's cache (~/.djl.ai, or $ENGINE_CACHE_DIR) on first use.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

mvn_try() { # offline first; online only if an artifact is missing locally
  mvn -o -q -B "$@" || mvn -q -B "$@"
}

echo "building: io.torchlstm4j:torchlstm4j (install) and benchmarks/" >&2
(cd "$repo" && mvn_try install -DskipTests -pl app -am)
(cd "$here" && mvn_try compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)

if [[ ! -x /usr/bin/python3 ]] || ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "benchmarks/run.sh: /usr/bin/python3 with torch is required (Debian: apt-get install python3-torch)" >&2
  exit 2
fi

cd "$repo"
exec java -cp "$here/target/classes:$(cat "$here/target/classpath.txt")" io.torchlstm4j.benchmarks.Main \
  --repo "$repo" --command-line "benchmarks/run.sh${*:+ $*}" "$@"
