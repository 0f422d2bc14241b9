#!/usr/bin/python3
"""The classic PyTorch MNIST LSTM tutorial, as the demo's reference run.

Each 28x28 image is read as 28 time steps of 28 pixels: nn.LSTM(28, 64, num_layers=2, batch_first=True), then
nn.Linear(64, 10) on the last time step; CrossEntropyLoss; Adam(lr=0.01); batch 64; 1 epoch; every 50 steps the
train loss and the accuracy on the first 2000 test images; at the end 10 predictions next to the real labels.

Same options and summary JSON as the Java demo (java -jar mnist-demo/target/mnist-demo.jar train ...), so the two
can be compared run for run. Reads the IDX files itself (torchvision is not needed): from --data DIR or
DIR/MNIST/raw, default ./mnist/MNIST/raw. Run with Debian's /usr/bin/python3 (torch 1.13). For speed comparisons
set OMP_NUM_THREADS and OPENBLAS_NUM_THREADS (torch.set_num_threads does not limit OpenBLAS).
"""
import argparse
import gzip
import json
import os
import struct
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

NAMES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


class RNN(nn.Module):
    """The tutorial's module; its state_dict keys are rnn.weight_ih_l0, ..., out.weight, out.bias."""

    def __init__(self, input_size=28, hidden_size=64, num_layers=2):
        super().__init__()
        self.rnn = nn.LSTM(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, batch_first=True)
        self.out = nn.Linear(hidden_size, 10)

    def forward(self, x):
        r_out, (h_n, h_c) = self.rnn(x, None)  # None: zero initial state
        return self.out(r_out[:, -1, :])


def find_idx(directory, name):
    for candidate in (os.path.join(directory, name), os.path.join(directory, name + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    return None


def read_idx(path, magic, dims):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    found = struct.unpack(">I", data[:4])[0]
    if found != magic:
        sys.exit("%s: magic 0x%08X expected, 0x%08X found" % (path, magic, found))
    sizes = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(sizes)):
        sys.exit("%s: truncated or too long: %d bytes for sizes %s" % (path, body.size, sizes))
    return body.reshape(sizes)


def read_split(directory, split):
    images = find_idx(directory, NAMES[split + "_images"])
    labels = find_idx(directory, NAMES[split + "_labels"])
    if images is None or labels is None:
        return None
    x = torch.from_numpy(read_idx(images, 0x803, 3).astype(np.float32) / 255.0)  # as transforms.ToTensor()
    y = torch.from_numpy(read_idx(labels, 0x801, 1).astype(np.int64))
    return x, y


def load_data(data, holdout, train_limit):
    """(dataset name, (train_x, train_y), (test_x, test_y)), as the Java demo finds them (without downloading)."""
    root = data if data is not None else os.path.join("mnist", "MNIST", "raw")
    raw = os.path.join(root, "MNIST", "raw")
    directory = raw if os.path.isdir(raw) and find_idx(raw, NAMES["test_images"]) else root
    test = read_split(directory, "test")
    if test is None:
        sys.exit("no MNIST test files (%s[.gz]) in %s" % (NAMES["test_images"], directory))
    if holdout > 0:
        train = (test[0][holdout:], test[1][holdout:])
        test = (test[0][:holdout], test[1][:holdout])
    else:
        train = read_split(directory, "train")
        if train is None:
            sys.exit("%s has only the test split: use --holdout-from-test 2000" % directory)
    if train_limit is not None:
        train = (train[0][:train_limit], train[1][:train_limit])
    return (data if data is not None else "MNIST"), train, test


def write_json_atomically(path, value):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--test-limit", type=int, default=2000)
    p.add_argument("--train-limit", type=int)
    p.add_argument("--holdout-from-test", type=int, default=0)
    p.add_argument("--threads", type=int)
    p.add_argument("--summary-json")
    p.add_argument("--save-state-dict", help="torch.save the trained module's state_dict here")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    dataset, (train_x, train_y), (test_x, test_y) = load_data(args.data, args.holdout_from_test, args.train_limit)
    test_x, test_y = test_x[:args.test_limit], test_y[:args.test_limit].numpy()
    train_loader = torch.utils.data.DataLoader(dataset=torch.utils.data.TensorDataset(train_x, train_y),
                                               batch_size=args.batch_size, shuffle=True)

    rnn = RNN(train_x.shape[2], args.hidden_size, args.num_layers)
    print(rnn)
    optimizer = torch.optim.Adam(rnn.parameters(), lr=args.lr)
    loss_func = nn.CrossEntropyLoss()

    steps, train_seconds = 0, 0.0
    for epoch in range(args.epochs):
        for step, (b_x, b_y) in enumerate(train_loader):
            start = time.perf_counter()
            output = rnn(b_x)
            loss = loss_func(output, b_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_seconds += time.perf_counter() - start
            steps += 1
            if step % args.eval_every == 0:
                with torch.no_grad():
                    pred_y = torch.max(rnn(test_x), 1)[1].numpy()
                accuracy = float((pred_y == test_y).astype(int).sum()) / float(test_y.size)
                print("Epoch: %d | train loss: %.4f | test accuracy: %.2f" % (epoch, loss.item(), accuracy))

    with torch.no_grad():
        pred_y = torch.max(rnn(test_x), 1)[1].numpy()
    accuracy = float((pred_y == test_y).astype(int).sum()) / float(test_y.size)
    print(pred_y[:10], "prediction number")
    print(test_y[:10], "real number")
    print("final test accuracy: %.4f | %d steps | %.2f ms/step (training only)"
          % (accuracy, steps, 1000 * train_seconds / steps))
    if args.save_state_dict:
        torch.save(rnn.state_dict(), args.save_state_dict)
    if args.summary_json:
        write_json_atomically(args.summary_json, {
            "dataset": dataset, "train_examples": len(train_x), "test_examples": int(test_y.size), "steps": steps,
            "train_ms_per_step": 1000 * train_seconds / steps, "final_test_accuracy": accuracy,
            "final_train_loss": loss.item(), "first10_pred": pred_y[:10].tolist(),
            "first10_real": test_y[:10].tolist(), "seed": args.seed, "threads": torch.get_num_threads(),
            "engine": "pytorch " + torch.__version__, "epochs": args.epochs, "batch_size": args.batch_size,
            "lr": args.lr, "hidden_size": args.hidden_size, "num_layers": args.num_layers})


if __name__ == "__main__":
    main()
