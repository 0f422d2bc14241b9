#!/usr/bin/python3
"""Loads the demo's exported state_dict (mnist-demo-out/state_dict.safetensors) into the tutorial's PyTorch module
and evaluates it, to check that RNN().load_state_dict(...) works and gives the Java demo's predictions.

  /usr/bin/python3 mnist-demo/tools/load_in_pytorch.py mnist-demo-out/state_dict.safetensors \
      --data mnist-demo/src/main/resources/io/torchlstm4j/mnist/embedded --test-limit 2000 \
      [--summary-json mnist-demo-out/summary.json]

Reads safetensors with tools/safetensors_io.py (the safetensors package is not needed). With --summary-json,
compares the accuracy and the first 10 predictions with the ones the Java demo wrote and exits 1 when they differ.
"""
import argparse
import json
import os
import sys

import torch

from tutorial import RNN, load_data

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import safetensors_io  # noqa: E402 (the repository's tools/ folder, put on the path above)

def read_safetensors(path):
    """name -> torch tensor of a safetensors file."""
    tensors, _ = safetensors_io.read(path)
    return {name: torch.from_numpy(array) for name, array in tensors.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("state_dict")
    p.add_argument("--data")
    p.add_argument("--test-limit", type=int, default=2000)
    p.add_argument("--summary-json")
    args = p.parse_args()
    sd = read_safetensors(args.state_dict)
    hidden = sd["out.weight"].shape[1]
    layers = sum(1 for k in sd if k.startswith("rnn.weight_ih_l"))
    rnn = RNN(sd["rnn.weight_ih_l0"].shape[1], hidden, layers)
    print(rnn.load_state_dict({k: v.to(torch.float32) for k, v in sd.items()}))
    _, _, (test_x, test_y) = load_data(args.data, args.test_limit, None)  # the first N test images
    test_x, test_y = test_x[:args.test_limit], test_y[:args.test_limit].numpy()
    with torch.no_grad():
        pred = torch.max(rnn(test_x), 1)[1].numpy()
    accuracy = float((pred == test_y).sum()) / test_y.size
    print(pred[:10], "prediction number")
    print(test_y[:10], "real number")
    print("test accuracy: %.4f (%d/%d)" % (accuracy, (pred == test_y).sum(), test_y.size))
    if args.summary_json:
        with open(args.summary_json) as f:
            summary = json.load(f)
        same = summary["first10_pred"] == pred[:10].tolist() and abs(summary["final_test_accuracy"] - accuracy) < 1e-9
        print("Java summary: accuracy %.4f, first10 %s -> %s" % (summary["final_test_accuracy"],
                                                                summary["first10_pred"], "same" if same else "DIFFERENT"))
        sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
