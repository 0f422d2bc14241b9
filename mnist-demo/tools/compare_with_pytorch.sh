#!/usr/bin/env bash
# DL4J demo versus the PyTorch tutorial script on the same data, seeds 1 2 3, one thread each, one run at a time.
# Usage (from the repository root, after mvn -B package -DskipTests):
#   mnist-demo/tools/compare_with_pytorch.sh OUTDIR mnist    # $MNIST_DIR or the embedded test split, --holdout-from-test 2000
#   mnist-demo/tools/compare_with_pytorch.sh OUTDIR fashion  # full Fashion-MNIST, 1 epoch = 938 steps
# Prints one line per run: framework, seed, final test accuracy, train ms/step (training steps only).
set -euo pipefail
out=$1
case $2 in
  mnist) args=(--data "${MNIST_DIR:-mnist-demo/src/main/resources/io/torchlstm4j/mnist/embedded}" --holdout-from-test 2000) ;;
  fashion) args=(--data /usr/share/datasets/fashion-mnist) ;;
  *) echo "second argument: mnist or fashion" >&2; exit 2 ;;
esac
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# each OpenBLAS picks its own kernels (as in benchmarks/run.sh): a machine-wide OPENBLAS_CORETYPE would hold PyTorch back
unset OPENBLAS_CORETYPE
mkdir -p "$out"
here=$(dirname "$0")
for seed in 1 2 3; do
  java -jar mnist-demo/target/mnist-demo.jar train "${args[@]}" --seed "$seed" --threads 1 --no-progress \
    --out "$out/dl4j-$2-$seed" --summary-json "$out/dl4j-$2-$seed.json" > "$out/dl4j-$2-$seed.log" 2>&1
  /usr/bin/python3 "$here/tutorial.py" "${args[@]}" --seed "$seed" --threads 1 \
    --summary-json "$out/pytorch-$2-$seed.json" > "$out/pytorch-$2-$seed.log" 2>&1
  for f in dl4j pytorch; do
    /usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print('%-8s seed %s: accuracy %.4f, %.1f ms/step, %d steps, engine %s' % (sys.argv[2], s['seed'], s['final_test_accuracy'], s['train_ms_per_step'], s['steps'], s['engine']))" "$out/$f-$2-$seed.json" "$f"
  done
done
