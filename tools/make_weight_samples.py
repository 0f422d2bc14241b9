#!/usr/bin/python3
"""Writes the weight-exchange samples that the Java tests of Npz, Safetensors and StateDicts read.

Run with Debian's PyTorch (torch 1.13 + numpy for /usr/bin/python3):

    /usr/bin/python3 tools/make_weight_samples.py [OUTPUT_DIR]

OUTPUT_DIR defaults to app/src/test/resources/weights. Each NAME.npz is written by numpy itself
(np.savez, np.savez_compressed, or np.lib.format.write_array for .npy format versions 2 and 3); next to
it NAME.safetensors, its "twin", holds the same numbers written by tools/safetensors_io.py (C order,
little endian; int32 arrays widened to I64, the only integer dtype of the Java reader). The twin's
__metadata__ records the nn.LSTM constructor arguments where there is one, and the numpy and torch
versions. The unsupported_*.npz files hold what the Java reader must refuse by name. Everything is
seeded, so reruns write the same numbers.
"""
import os
import sys
import zipfile

import numpy as np
import torch

import safetensors_io  # tools/ is on sys.path when this script runs

def write_twin(path, arrays, metadata):
    """The arrays (name -> numpy array) as safetensors; int32 becomes I64."""
    safetensors_io.write(path, {name: array.astype(np.int64) if array.dtype == np.int32 else array
                                for name, array in arrays.items()},
                         dict(metadata, numpy_version=np.__version__, torch_version=torch.__version__,
                              generator="tools/make_weight_samples.py"))


def lstm_metadata(input_size, hidden, layers=1, bias=True, batch_first=False, bidirectional=False, proj=0):
    return {"input_size": str(input_size), "hidden_size": str(hidden), "num_layers": str(layers),
            "bias": str(bias).lower(), "batch_first": str(batch_first).lower(),
            "bidirectional": str(bidirectional).lower(), "proj_size": str(proj), "dropout": "0.0"}


def numpy_state_dict(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


class Model(torch.nn.Module):
    """A model holding an LSTM under `rnn.` and a linear head under `out.`, as a user would save it."""

    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(3, 5, proj_size=2, batch_first=True)
        self.out = torch.nn.Linear(2, 4)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "app", "src", "test", "resources", "weights")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(20240601)
    rng = np.random.default_rng(20240601)

    def both(name, arrays, metadata, writer):
        writer(os.path.join(out, name + ".npz"), **arrays)
        write_twin(os.path.join(out, name + ".safetensors"), arrays, metadata)

    # an nn.LSTM state_dict with np.savez (stored entries)
    both("lstm_l2", numpy_state_dict(torch.nn.LSTM(3, 4, num_layers=2)), lstm_metadata(3, 4, layers=2),
         np.savez)
    # float64, bidirectional, no bias, with np.savez_compressed (deflated entries)
    both("lstm_bi_nobias_f64_compressed",
         numpy_state_dict(torch.nn.LSTM(3, 4, bidirectional=True, bias=False).double()),
         lstm_metadata(3, 4, bias=False, bidirectional=True), np.savez_compressed)
    # model.state_dict(): the LSTM under "rnn." (with a projection), a Linear under "out."; also as torch.save writes it
    model = Model()
    both("model_rnn_prefix", numpy_state_dict(model),
         dict(lstm_metadata(3, 5, batch_first=True, proj=2), prefix="rnn."), np.savez)
    torch.save(model.state_dict(), os.path.join(out, "model_rnn_prefix.pt"))
    # layouts and dtypes: Fortran order (2-D and 3-D), int64, int32, a 0-d scalar, an empty array
    both("arrays", {
        "fortran_f8": np.asfortranarray(rng.standard_normal((3, 4))),
        "fortran3_f4": np.asfortranarray(rng.standard_normal((2, 3, 4)).astype(np.float32)),
        "ints_i8": rng.integers(-2**40, 2**40, size=(2, 3), dtype=np.int64),
        "ints_i4": rng.integers(-2**30, 2**30, size=(5,), dtype=np.int32),
        "scalar_f4": np.array(1.5, dtype=np.float32) * np.float32(rng.standard_normal()),
        "empty_f4": np.zeros((0, 3), dtype=np.float32),
    }, {}, np.savez)
    # .npy format versions 2.0 and 3.0, written by numpy's own write_array into a zip like savez does
    versions = {"v2_f4": rng.standard_normal((2, 2)).astype(np.float32), "v3_f8": rng.standard_normal((3,))}
    with zipfile.ZipFile(os.path.join(out, "npy_versions.npz"), "w") as z:
        for (name, array), version in zip(versions.items(), [(2, 0), (3, 0)]):
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, version=version)
    write_twin(os.path.join(out, "npy_versions.safetensors"), versions, {})
    # what the reader must refuse, by name
    np.savez(os.path.join(out, "unsupported_big_endian.npz"), w=np.arange(4, dtype=">f4"))
    np.savez(os.path.join(out, "unsupported_bool.npz"), mask=np.array([True, False]))
    np.savez(os.path.join(out, "unsupported_object.npz"), obj=np.array([{"a": 1}, None], dtype=object))
    np.savez(os.path.join(out, "unsupported_float16.npz"), w=np.ones((2, 2), dtype=np.float16))

    for name in sorted(os.listdir(out)):
        print("%-45s %6d bytes" % (name, os.path.getsize(os.path.join(out, name))))
    print("numpy %s, torch %s" % (np.__version__, torch.__version__))


if __name__ == "__main__":
    main()
