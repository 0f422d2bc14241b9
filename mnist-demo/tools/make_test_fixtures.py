#!/usr/bin/python3
"""Golden data for the demo's tests, computed with real PyTorch (Debian's /usr/bin/python3, torch 1.13).

Writes into mnist-demo/src/test/resources/:
  mnist-subset/t10k-{images-idx3,labels-idx1}-ubyte.gz   the first 512 real MNIST test images (from the
        embedded test split, mnist-demo/src/main/resources/io/torchlstm4j/mnist/embedded), as a test-only folder for --data DIR --holdout-from-test N
  parity/init.safetensors   the tutorial module RNN(28, 64, num_layers=2) freshly initialised (seed 7), stored as F32
  parity/losses.json        the losses of PARITY_STEPS Adam(lr=0.01) steps from that init on fixed batches
        (subset images 112..511 in order, batch 40, batch k = step mod 10, no shuffling), once in float64 and once
        in float32 (both start from the same F32 values); and the same runs from the init times (1 + eps) of the
        dtype ("_perturbed"): how far PyTorch drifts from itself after one rounding error
  torch-weights/rnn16.safetensors and .npz   a small tutorial module RNN(28, 16, num_layers=2) trained 100 steps
        in float32 on the same batches (safetensors F32; npz as numpy.savez of the state_dict)
  torch-weights/predictions.json   its logits and predictions for subset images 0..111

Run from anywhere:  /usr/bin/python3 mnist-demo/tools/make_test_fixtures.py [--mnist DIR]
"""
import argparse
import gzip
import io
import json
import os
import sys
import struct

import numpy as np
import torch

from tutorial import RNN, NAMES, find_idx, read_idx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import safetensors_io  # noqa: E402 (the repository's tools/ folder, put on the path above)

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.join(HERE, "..", "src", "test", "resources")
SUBSET = 512
EVAL = 112           # images 0..111: evaluation; 112..511: the fixed training batches
BATCH = 40
PARITY_STEPS = 60
LR = 0.01


def gzip_bytes(raw):
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as f:
        f.write(raw)
    return buffer.getvalue()


def safetensors_bytes(tensors, metadata):
    """torch tensors as an F32 safetensors file's bytes."""
    return safetensors_io.encode({name: t.detach().to(torch.float32).contiguous().numpy()
                                  for name, t in tensors.items()}, metadata)


def batches(x, y):
    for step in range(10 ** 9):
        k = step % ((SUBSET - EVAL) // BATCH)
        start = EVAL + k * BATCH
        yield x[start:start + BATCH], y[start:start + BATCH]


def train(model, pixels, y, steps, dtype):
    """Adam steps on the fixed batches; pixels / 255 computed in dtype, as ToTensor() does in float32."""
    x = torch.from_numpy(pixels.copy()).to(dtype) / 255.0
    model = model.to(dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_func = torch.nn.CrossEntropyLoss()
    losses = []
    for _, (b_x, b_y) in zip(range(steps), batches(x, y)):
        loss = loss_func(model(b_x), b_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mnist", default=os.path.join(HERE, "..", "src", "main", "resources", "io", "torchlstm4j", "mnist",
                                                   "embedded"))
    args = p.parse_args()
    meta = {"torch_version": torch.__version__, "generator": "mnist-demo/tools/make_test_fixtures.py"}

    images = read_idx(find_idx(args.mnist, NAMES["test_images"]), 0x803, 3)[:SUBSET]
    labels = read_idx(find_idx(args.mnist, NAMES["test_labels"]), 0x801, 1)[:SUBSET]
    safetensors_io.write_atomically(os.path.join(RESOURCES, "mnist-subset", NAMES["test_images"] + ".gz"),
                     gzip_bytes(struct.pack(">IIII", 0x803, SUBSET, 28, 28) + images.tobytes()))
    safetensors_io.write_atomically(os.path.join(RESOURCES, "mnist-subset", NAMES["test_labels"] + ".gz"),
                     gzip_bytes(struct.pack(">II", 0x801, SUBSET) + labels.tobytes()))
    y = torch.from_numpy(labels.astype(np.int64))

    torch.manual_seed(7)
    init = RNN(28, 64, 2).state_dict()
    safetensors_io.write_atomically(os.path.join(RESOURCES, "parity", "init.safetensors"),
                                    safetensors_bytes(init, meta))
    init32 = {k: v.to(torch.float32) for k, v in init.items()}
    losses = {}
    for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        model = RNN(28, 64, 2)
        model.load_state_dict(init32)
        losses[name] = train(model, images, y, PARITY_STEPS, dtype)
        # PyTorch against itself: the same run from weights moved by one rounding error (relative eps of dtype)
        # shows how fast rounding differences grow in this training, the floor for any other implementation
        model = RNN(28, 64, 2).to(dtype)
        model.load_state_dict({k: v.to(dtype) * (1 + torch.finfo(dtype).eps) for k, v in init32.items()})
        perturbed = train(model, images, y, PARITY_STEPS, dtype)
        losses[name + "_perturbed"] = perturbed
    safetensors_io.write_atomically(os.path.join(RESOURCES, "parity", "losses.json"), json.dumps(dict(
        meta, lr=LR, batch_size=BATCH, steps=PARITY_STEPS, first_train_image=EVAL, batches_per_cycle=10,
        **{"losses_" + k: v for k, v in losses.items()}), indent=1).encode())

    torch.manual_seed(11)
    small = RNN(28, 16, 2)
    train(small, images, y, 100, torch.float32)
    x = torch.from_numpy(images.copy()).to(torch.float32) / 255.0
    sd = small.state_dict()
    safetensors_io.write_atomically(os.path.join(RESOURCES, "torch-weights", "rnn16.safetensors"),
                                    safetensors_bytes(sd, meta))
    buffer = io.BytesIO()
    np.savez(buffer, **{k: v.numpy() for k, v in sd.items()})
    safetensors_io.write_atomically(os.path.join(RESOURCES, "torch-weights", "rnn16.npz"), buffer.getvalue())
    with torch.no_grad():
        logits = small(x[:EVAL])
    safetensors_io.write_atomically(os.path.join(RESOURCES, "torch-weights", "predictions.json"), json.dumps(dict(
        meta, images="mnist-subset 0..%d" % (EVAL - 1), predictions=logits.argmax(1).tolist(),
        accuracy=float((logits.argmax(1) == y[:EVAL]).float().mean()), logits=logits.tolist())).encode())
    for name in ("float64", "float32"):
        drift = [abs(a - b) for a, b in zip(losses[name], losses[name + "_perturbed"])]
        print("PyTorch %s against itself after one rounding error: max |loss difference| steps 0-19 %.3g, "
              "0-%d %.3g" % (name, max(drift[:20]), PARITY_STEPS - 1, max(drift)))
    print("parity losses float64: first %.6f last %.6f; small model accuracy on images 0..%d: %.3f"
          % (losses["float64"][0], losses["float64"][-1], EVAL - 1, (logits.argmax(1) == y[:EVAL]).float().mean()))


if __name__ == "__main__":
    main()
