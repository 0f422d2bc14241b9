#!/usr/bin/python3
"""Checks that a state_dict exported by TorchLSTM4j reproduces the Java outputs in PyTorch.

    /usr/bin/python3 tools/check_export.py EXPORTED.safetensors RUN.safetensors

EXPORTED is the Java export (StateDicts.save): PyTorch's parameter names only; it is loaded into a fresh
nn.LSTM with load_state_dict(strict=True). RUN is a file in the parity-fixture format written by the Java
side (docs/parity-fixtures.md): `__metadata__` with the constructor arguments, `input`, optional
`h0`/`c0`/`lengths`, and the Java results `output`, `h_n`, `c_n` (its own weight tensors, if any, are
ignored). Prints the max |difference| per tensor; exits 1 when one exceeds 1e-5 (F32) / 1e-10 (F64).
"""
import sys

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import safetensors_io  # tools/ is on sys.path when this script runs

def read_safetensors(path):
    """(name -> torch tensor, metadata) of a safetensors file."""
    tensors, metadata = safetensors_io.read(path)
    return {name: torch.from_numpy(array) for name, array in tensors.items()}, metadata


def flag(metadata, key):
    return metadata[key].lower() == "true"


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exported, _ = read_safetensors(sys.argv[1])
    run, meta = read_safetensors(sys.argv[2])
    lstm = torch.nn.LSTM(int(meta["input_size"]), int(meta["hidden_size"]), num_layers=int(meta["num_layers"]),
                         bias=flag(meta, "bias"), batch_first=flag(meta, "batch_first"),
                         dropout=float(meta.get("dropout", "0")), bidirectional=flag(meta, "bidirectional"),
                         proj_size=int(meta.get("proj_size", "0")))
    dtype = run["input"].dtype
    lstm = lstm.to(dtype)
    lstm.load_state_dict(exported, strict=True)
    lstm.eval()
    hx = (run["h0"], run["c0"]) if "h0" in run else None
    with torch.no_grad():
        if "lengths" in run:
            batch_first = flag(meta, "batch_first")
            packed = pack_padded_sequence(run["input"], run["lengths"], batch_first=batch_first,
                                          enforce_sorted=False)
            packed_out, (h_n, c_n) = lstm(packed, hx)
            total = run["input"].shape[1 if batch_first else 0]
            output, _ = pad_packed_sequence(packed_out, batch_first=batch_first, total_length=total)
        else:
            output, (h_n, c_n) = lstm(run["input"], hx)
    tolerance = 1e-10 if dtype == torch.float64 else 1e-5
    print("torch %s, %s, %s, %d exported parameters loaded with strict=True"
          % (torch.__version__, lstm, dtype, len(exported)))
    ok = True
    for name, torch_value in (("output", output), ("h_n", h_n), ("c_n", c_n)):
        java_value = run[name]
        if tuple(java_value.shape) != tuple(torch_value.shape):
            print("%s: Java shape %s, PyTorch shape %s" % (name, list(java_value.shape), list(torch_value.shape)))
            ok = False
            continue
        diff = (java_value - torch_value).abs().max().item()
        print("%-6s %-14s max |Java - PyTorch| = %.3e" % (name, list(torch_value.shape), diff))
        ok = ok and diff <= tolerance
    print("OK" if ok else "MISMATCH (tolerance %g)" % tolerance)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
