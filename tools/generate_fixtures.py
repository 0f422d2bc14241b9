#!/usr/bin/python3
"""Writes the PyTorch parity fixtures of TorchLSTM4j.

Run with Debian's PyTorch (torch 1.13 + numpy for /usr/bin/python3):

    /usr/bin/python3 tools/generate_fixtures.py [OUTPUT_DIR]

OUTPUT_DIR defaults to app/src/test/resources/fixtures. Each case becomes one .safetensors file in the
format of docs/parity-fixtures.md: the nn.LSTM's state_dict under PyTorch's names, `input`,
optional `h0`/`c0`, optional `lengths` (I64 [N], packed-sequence semantics), PyTorch's `output`, `h_n`,
`c_n`, and for gradient cases `grad_output` (a fixed random R shaped like output) plus `grad_<param>` =
d((output * R).sum()) / d(param) for every parameter. `__metadata__` records every constructor argument
and the torch version. Everything is seeded from the case name, so reruns write identical files.
"""
import os
import sys
import zlib

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import safetensors_io  # tools/ is on sys.path when this script runs

def case(name, *, input_size=4, hidden=5, layers=1, bias=True, batch_first=False, bidirectional=False,
         proj=0, dtype="f32", seq_len=6, batch=3, state=False, lengths=None, grads=False):
    """One fixture; batch=None means unbatched input (L, H_in) with unbatched states."""
    return dict(name=name, input_size=input_size, hidden=hidden, layers=layers, bias=bias,
                batch_first=batch_first, bidirectional=bidirectional, proj=proj, dtype=dtype,
                seq_len=seq_len, batch=batch, state=state, lengths=lengths, grads=grads)


CASES = [
    # issue 2: the adapter's configurations
    case("uni_l1_f32", grads=True),
    case("uni_l1_state_f32", state=True, grads=True),
    case("uni_l2_f32", layers=2, grads=True),
    case("uni_l3_state_f32", layers=3, state=True, grads=True),
    case("uni_l1_nobias_f32", bias=False, grads=True),
    case("uni_l2_nobias_state_f32", layers=2, bias=False, state=True),
    case("uni_l2_batchfirst_state_f32", layers=2, batch_first=True, state=True, grads=True),
    case("uni_l1_batchfirst_f32", batch_first=True, grads=True),
    case("bi_l1_f32", bidirectional=True, grads=True),
    case("bi_l1_state_f32", bidirectional=True, state=True),
    case("bi_l2_state_f32", layers=2, bidirectional=True, state=True, grads=True),
    case("bi_l3_f32", layers=3, bidirectional=True, grads=True),
    case("bi_l2_nobias_f32", layers=2, bidirectional=True, bias=False, grads=True),
    case("bi_l2_batchfirst_f32", layers=2, bidirectional=True, batch_first=True, grads=True),
    case("bi_l1_batchfirst_state_f32", bidirectional=True, batch_first=True, state=True),
    case("unbatched_uni_l1_f32", batch=None, grads=True),
    case("unbatched_uni_l2_state_f32", layers=2, batch=None, state=True),
    case("unbatched_bi_l2_f32", layers=2, bidirectional=True, batch=None, grads=True),
    case("unbatched_bi_l1_state_f32", bidirectional=True, batch=None, state=True, grads=True),
    case("uni_l2_f64", layers=2, dtype="f64", grads=True),
    case("uni_l2_state_f64", layers=2, dtype="f64", state=True, grads=True),
    case("bi_l2_nobias_batchfirst_f64", layers=2, bidirectional=True, bias=False, batch_first=True,
         dtype="f64", grads=True),
    case("bi_l3_state_f64", layers=3, bidirectional=True, dtype="f64", state=True),
    case("unbatched_bi_l1_f64", bidirectional=True, batch=None, dtype="f64", grads=True),
    case("long_uni_l1_h128_L50_f32", input_size=8, hidden=128, seq_len=50, batch=2, grads=True),
    case("long_uni_l1_h128_L60_state_f64", input_size=4, hidden=128, seq_len=60, batch=1, dtype="f64",
         state=True),
    # issue 3: per-sample lengths (unsorted, a length-1 sample, a full-length sample)
    case("lengths_uni_l1_f32", batch=4, lengths=[3, 6, 1, 4], grads=True),
    case("lengths_uni_l2_state_f32", layers=2, batch=4, lengths=[6, 2, 5, 1], state=True, grads=True),
    case("lengths_uni_l1_batchfirst_f32", batch_first=True, batch=4, lengths=[2, 1, 6, 5], grads=True),
    case("lengths_bi_l1_f32", bidirectional=True, batch=4, lengths=[3, 6, 1, 4], grads=True),
    case("lengths_bi_l2_state_f32", layers=2, bidirectional=True, batch=4, lengths=[4, 1, 6, 2], state=True,
         grads=True),
    case("lengths_bi_l2_batchfirst_f32", layers=2, bidirectional=True, batch_first=True, batch=4,
         lengths=[5, 6, 1, 3], grads=True),
    case("lengths_bi_l1_nobias_f32", bidirectional=True, bias=False, batch=4, lengths=[1, 4, 6, 2], grads=True),
    case("lengths_uni_l3_f32", layers=3, batch=4, lengths=[6, 3, 1, 5], grads=True),
    case("lengths_bi_l2_f64", layers=2, bidirectional=True, dtype="f64", batch=4, lengths=[2, 6, 1, 5],
         grads=True),
    case("lengths_bi_l2_state_batchfirst_f64", layers=2, bidirectional=True, batch_first=True, dtype="f64",
         batch=4, lengths=[6, 1, 3, 4], state=True, grads=True),
    # issue 6: proj_size (LSTMP)
    case("proj_uni_l2_state_f32", hidden=6, proj=3, layers=2, state=True, grads=True),
    case("proj_bi_l1_f32", hidden=6, proj=3, bidirectional=True, grads=True),
    case("proj_bi_l2_batchfirst_f32", hidden=6, proj=4, layers=2, bidirectional=True, batch_first=True,
         grads=True),
    case("proj_uni_l1_batchfirst_state_f32", hidden=6, proj=2, batch_first=True, state=True, grads=True),
    case("proj_uni_l1_unbatched_f32", hidden=6, proj=3, batch=None, grads=True),
    case("proj_bi_l2_lengths_f32", hidden=6, proj=3, layers=2, bidirectional=True, batch=4,
         lengths=[3, 6, 1, 4], grads=True),
    case("proj_uni_l2_state_f64", hidden=6, proj=3, layers=2, dtype="f64", state=True, grads=True),
    case("proj_bi_l1_nobias_f64", hidden=6, proj=2, bidirectional=True, bias=False, dtype="f64", grads=True),
    # issue 7: inputs narrower than 64 features and batches large enough that the fast engine projects the input
    # step by step (LstmKernel.projectsPerStep: every layer here), with and without lengths
    case("stepproj_uni_l2_batchfirst_f32", input_size=40, hidden=32, layers=2, batch_first=True, seq_len=4,
         batch=64, grads=True),
    case("stepproj_bi_l1_lengths_f32", input_size=40, hidden=32, bidirectional=True, seq_len=4, batch=64,
         lengths=[1 + (7 * i) % 4 for i in range(64)], grads=True),
    # issue 7: hidden 64 at batch 64, where the fast engine computes the recurrent products in its own native loop
    # (NativeGates.recurrentFits), forward and backward
    case("recurrent_uni_l1_h64_n64_state_f32", input_size=4, hidden=64, seq_len=3, batch=64, state=True,
         grads=True),
]


def generate(c):
    torch.manual_seed(zlib.crc32(c["name"].encode("utf-8")))
    dtype = torch.float32 if c["dtype"] == "f32" else torch.float64
    lstm = nn_lstm(c).to(dtype)
    d = 2 if c["bidirectional"] else 1
    h_out = c["proj"] if c["proj"] > 0 else c["hidden"]
    seq_len, n = c["seq_len"], c["batch"]
    if n is None:
        x = torch.randn(seq_len, c["input_size"], dtype=dtype)
        state_shape = lambda size: (c["layers"] * d, size)
    else:
        x = torch.randn(*((n, seq_len) if c["batch_first"] else (seq_len, n)), c["input_size"], dtype=dtype)
        state_shape = lambda size: (c["layers"] * d, n, size)
    hx = None
    if c["state"]:
        hx = (torch.randn(*state_shape(h_out), dtype=dtype), torch.randn(*state_shape(c["hidden"]), dtype=dtype))

    lengths = None
    if c["lengths"] is not None:
        lengths = torch.tensor(c["lengths"], dtype=torch.int64)
        assert len(c["lengths"]) == n and max(c["lengths"]) == seq_len
        packed = pack_padded_sequence(x, lengths, batch_first=c["batch_first"], enforce_sorted=False)
        packed_out, (h_n, c_n) = lstm(packed, hx)
        output, _ = pad_packed_sequence(packed_out, batch_first=c["batch_first"], total_length=seq_len)
    else:
        output, (h_n, c_n) = lstm(x, hx)

    tensors = {k: v.detach().numpy() for k, v in lstm.state_dict().items()}
    tensors["input"] = x.numpy()
    if hx is not None:
        tensors["h0"] = hx[0].numpy()
        tensors["c0"] = hx[1].numpy()
    if lengths is not None:
        tensors["lengths"] = lengths.numpy()
    tensors["output"] = output.detach().numpy()
    tensors["h_n"] = h_n.detach().numpy()
    tensors["c_n"] = c_n.detach().numpy()
    if c["grads"]:
        r = torch.randn(*output.shape, dtype=dtype)
        (output * r).sum().backward()
        tensors["grad_output"] = r.numpy()
        for name, p in lstm.named_parameters():
            tensors["grad_" + name] = p.grad.detach().numpy()

    metadata = {
        "input_size": str(c["input_size"]),
        "hidden_size": str(c["hidden"]),
        "num_layers": str(c["layers"]),
        "bias": str(c["bias"]).lower(),
        "batch_first": str(c["batch_first"]).lower(),
        "bidirectional": str(c["bidirectional"]).lower(),
        "proj_size": str(c["proj"]),
        "dropout": "0.0",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "case": c["name"],
        "generator": "tools/generate_fixtures.py",
    }
    if c["grads"]:
        metadata["grad_loss"] = "(output * grad_output).sum()"
    return tensors, metadata


def nn_lstm(c):
    return torch.nn.LSTM(c["input_size"], c["hidden"], num_layers=c["layers"], bias=c["bias"],
                         batch_first=c["batch_first"], dropout=0.0, bidirectional=c["bidirectional"],
                         proj_size=c["proj"])


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "app", "src", "test", "resources",
                                                                  "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names), "duplicate case names"
    total = 0
    for c in CASES:
        tensors, metadata = generate(c)
        path = os.path.join(out_dir, c["name"] + ".safetensors")
        safetensors_io.write(path, tensors, metadata)
        total += os.path.getsize(path)
        print("%-40s %8d bytes" % (os.path.basename(path), os.path.getsize(path)))
    print("%d fixtures, %d bytes, torch %s" % (len(CASES), total, torch.__version__))


if __name__ == "__main__":
    main()
