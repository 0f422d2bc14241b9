#!/usr/bin/python3
"""Writes the .pt/.pth fixtures of the PyTorch checkpoint reader (io.torchlstm4j.io.TorchCheckpoint).

Run with Debian's PyTorch (torch 1.13 + numpy for /usr/bin/python3):

    /usr/bin/python3 tools/make_pt_fixtures.py [OUTPUT_DIR]

OUTPUT_DIR defaults to app/src/test/resources/pt. Without OUTPUT_DIR the script also saves the MNIST demo's tutorial
weights (mnist-demo/src/test/resources/torch-weights/rnn16.safetensors) with torch.save, as rnn16.pt (the state_dict)
and rnn16_checkpoint.pth (inside a training checkpoint, legacy format). Every loadable fixture NAME.pt comes with NAME.expected.safetensors:
the tensors PyTorch's own torch.load gives for the state_dict in it, made contiguous; float16/bfloat16 tensors as
PyTorch's own .float() of them, bool tensors as int64 (0/1). The torch version is in each expected file's metadata
and in manifest.json. Files that must be refused (a whole pickled module, pickles that name globals outside the
allowlist) have no expected file. Everything is seeded, so reruns write identical tensors and identical zip files;
legacy files differ in their storage keys, which torch.save takes from memory addresses.
"""
import collections
import io
import json
import os
import pickle
import sys
import zipfile

import numpy as np
import torch

import safetensors_io  # tools/ is on sys.path when this script runs

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "app", "src", "test", "resources", "pt")
# the MNIST demo's tutorial weights (written by mnist-demo/tools/make_test_fixtures.py), saved again by torch.save
TORCH_WEIGHTS = os.path.join(ROOT, "mnist-demo", "src", "test", "resources", "torch-weights")
DTYPES = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16, "bf16": torch.bfloat16}
MANIFEST = {"torch_version": torch.__version__, "fixtures": {}}


class TinyModel(torch.nn.Module):
    """An LSTM between the two modules that surround one in most models, and a BatchNorm (num_batches_tracked)."""

    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(3, 4, num_layers=2)
        self.norm = torch.nn.BatchNorm1d(4)
        self.out = torch.nn.Linear(4, 2)


def model(seed):
    torch.manual_seed(seed)
    m = TinyModel()
    m.norm.train()
    m.norm(torch.randn(5, 4))  # running statistics and num_batches_tracked = 1, not their initial values
    return m


def expected(state_dict):
    """What a Java reader must give: contiguous, half types as PyTorch's .float(), bool as int64."""
    out = collections.OrderedDict()
    for k, v in state_dict.items():
        v = v.detach()
        if v.dtype in (torch.float16, torch.bfloat16):
            v = v.float()
        elif v.dtype == torch.bool:
            v = v.long()
        out[k] = v.contiguous().numpy()
    return out


def path(name):
    return os.path.join(OUT, name)


def save(name, obj, state_dict, *, legacy=False, protocol=2, key=None, note=""):
    """torch.save(obj) as NAME.pt, checked with torch.load, and the expected tensors of state_dict."""
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
    safetensors_io.write_atomically(path(name + ".pt"), buffer.getvalue())
    check_torch_load(name, state_dict, key)
    write_expected(name, state_dict, "legacy" if legacy else "zip", key, note)


def check_torch_load(name, state_dict, key):
    loaded = torch.load(path(name + ".pt"))
    if key is not None:
        loaded = loaded[key]
    assert list(loaded.keys()) == list(state_dict.keys()), name
    for k, v in state_dict.items():
        assert loaded[k].dtype == v.dtype and loaded[k].shape == v.shape and loaded[k].stride() == v.stride(), (name, k)
        assert torch.equal(loaded[k], v), (name, k)


def write_expected(name, state_dict, fmt, key, note):
    safetensors_io.write(path(name + ".expected.safetensors"), expected(state_dict),
                         {"torch_version": torch.__version__, "fixture": name + ".pt"})
    MANIFEST["fixtures"][name + ".pt"] = {"format": fmt, "checkpoint_key": key, "note": note}


def refused(name, data, fmt, note):
    safetensors_io.write_atomically(path(name + ".pt"), data)
    MANIFEST["fixtures"][name + ".pt"] = {"format": fmt, "refused": True, "note": note}


def views():
    """Tensors as PyTorch saves views: one storage, offsets, strides, a transpose, a scalar, an empty tensor."""
    torch.manual_seed(7)
    base = torch.randn(4, 6)
    doubles = torch.randn(3, 5, dtype=torch.float64)
    return collections.OrderedDict([
        ("base", base),
        ("transposed", base.t()),                 # strides (1, 6): not contiguous
        ("row", base[1]),                          # storage offset 6
        ("block", base[1:3, 2:5]),                 # offset 8, strides (6, 1)
        ("every_other_column", base[:, ::2]),      # strides (6, 2)
        ("scalar", base[2, 3]),                    # 0-dim at offset 15
        ("empty", base[:, 6:]),                    # shape (4, 0)
        ("doubles_transposed", doubles.t()),
        ("flags", torch.tensor([True, False, True])),
        ("count", torch.tensor(7)),                # int64 0-dim
    ])


def storage_element_sizes(pickle_bytes):
    """Storage key -> element size, from the persistent ids of a zip checkpoint's data.pkl."""
    sizes = {}

    class Ids(pickle.Unpickler):
        def find_class(self, module, name):
            if name.endswith("Storage"):
                return name
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if module == "torch._utils":
                return lambda *args: None
            raise AssertionError((module, name))

        def persistent_load(self, pid):
            _, storage_type, key, _, _ = pid
            dtype = getattr(torch, storage_type).dtype
            sizes[key] = torch.empty(0, dtype=dtype).element_size()

    Ids(io.BytesIO(pickle_bytes)).load()
    return sizes


def with_byteorder(source, name, order):
    """Rewrites a zip checkpoint with a `byteorder` record (PyTorch >= 2.1 writes one), swapping storages to big."""
    with zipfile.ZipFile(path(source + ".pt")) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    prefix = entries[0][0].split("/")[0]
    sizes = storage_element_sizes(dict(entries)[prefix + "/data.pkl"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for entry, data in entries:
            key = entry[len(prefix + "/data/"):] if entry.startswith(prefix + "/data/") else None
            if key is not None and order == "big":
                size = sizes[key]
                data = np.frombuffer(data, dtype="<u%d" % size).astype(">u%d" % size).tobytes()
            z.writestr(fixed_time(entry), data)
            if entry.endswith("/data.pkl"):
                z.writestr(fixed_time(prefix + "/byteorder"), order)
    safetensors_io.write_atomically(path(name + ".pt"), buffer.getvalue())


def fixed_time(entry):
    """A zip entry dated like torch.save's own, so that reruns write identical archives."""
    return zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))


def zip_with_pickle(name, pickle_bytes):
    """A zip checkpoint laid out as torch.save writes one, around a hand-assembled data.pkl."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr(fixed_time(name + "/data.pkl"), pickle_bytes)
        z.writestr(fixed_time(name + "/version"), "3\n")
    return buffer.getvalue()


class OsSystem:
    def __reduce__(self):
        import os
        return os.system, ("echo this must never run",)


class Eval:
    def __reduce__(self):
        return eval, ("__import__('os').getcwd()",)


def saved_bytes(obj, legacy=False):
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    for label, dtype in DTYPES.items():
        sd = model(1).to(dtype).state_dict()
        for legacy in (False, True):
            fmt = "legacy" if legacy else "zip"
            save("model_%s_%s" % (label, fmt), sd, sd, legacy=legacy,
                 note="TinyModel().to(%s).state_dict(): rnn (LSTM 3->4, 2 layers), norm (BatchNorm1d with "
                      "num_batches_tracked int64), out (Linear 4->2)" % dtype)
    sd = model(1).state_dict()
    save("model_f32_zip_protocol4", sd, sd, protocol=4, note="pickle protocol 4 (FRAME, STACK_GLOBAL, MEMOIZE)")
    for legacy in (False, True):
        fmt = "legacy" if legacy else "zip"
        v = views()
        save("views_" + fmt, v, v, legacy=legacy, note="views of shared storages: offsets, strides, transpose")

    with_byteorder("views_zip", "views_zip_little", "little")
    check_torch_load("views_zip_little", views(), None)
    write_expected("views_zip_little", views(), "zip", None, "views_zip.pt with a byteorder record 'little'")
    # torch 1.13 predates the byteorder record (2.1) and cannot read this one back: the check is that the storages,
    # decoded big-endian, are the little-endian ones
    with_byteorder("views_zip", "views_zip_big", "big")
    with zipfile.ZipFile(path("views_zip.pt")) as little, zipfile.ZipFile(path("views_zip_big.pt")) as big:
        prefix = little.namelist()[0].split("/")[0]
        sizes = storage_element_sizes(little.read(prefix + "/data.pkl"))
        for key, size in sizes.items():
            entry = prefix + "/data/" + key
            assert np.array_equal(np.frombuffer(little.read(entry), "<u%d" % size),
                                  np.frombuffer(big.read(entry), ">u%d" % size))
    write_expected("views_zip_big", views(), "zip", None, "views_zip.pt big-endian: byteorder 'big', storages swapped")

    for legacy in (False, True):
        fmt = "legacy" if legacy else "zip"
        m = model(2)
        optimizer = torch.optim.Adam(m.parameters(), lr=0.01)
        m.out(m.rnn(torch.randn(5, 1, 3))[0]).sum().backward()
        optimizer.step()
        sd = m.state_dict()
        save("checkpoint_" + fmt, {"model": sd, "optimizer": optimizer.state_dict(), "epoch": 3, "loss": 0.25}, sd,
             legacy=legacy, key="model", note="a training checkpoint: model, optimizer (Adam after one step), epoch")
    student, teacher = model(3).state_dict(), model(4).state_dict()
    save("two_models_zip", {"student": student, "teacher": teacher}, teacher, key="teacher",
         note="two state_dicts with the same names: the key must be given")

    refused("module_zip", saved_bytes(model(5)), "zip", "torch.save(model): a whole pickled module")
    refused("module_legacy", saved_bytes(model(5), legacy=True), "legacy", "torch.save(model), legacy format")
    weight = torch.ones(2)
    refused("evil_os_system", saved_bytes({"weight": weight, "payload": OsSystem()}), "zip",
            "os.system (pickled as posix.system) through __reduce__")
    refused("evil_os_system_legacy", saved_bytes({"weight": weight, "payload": OsSystem()}, legacy=True), "legacy",
            "os.system through __reduce__, legacy format")
    refused("evil_eval", saved_bytes({"weight": weight, "payload": Eval()}), "zip", "builtins.eval through __reduce__")
    refused("evil_numpy", saved_bytes({"weight": weight, "array": np.arange(3)}), "zip",
            "a numpy array: the unknown global numpy.core.multiarray._reconstruct")
    refused("evil_java", zip_with_pickle("evil_java", b"\x80\x02cjava.lang\nRuntime\n)R."), "zip",
            "GLOBAL java.lang.Runtime, called")

    # the same half-precision conversion for safetensors: F16 and BF16 next to F32, and the expected .float()
    torch.manual_seed(11)
    values = torch.cat([torch.randn(20) * 3, torch.tensor([0.0, -0.0, 1e-6, -7e-8, 65504.0, float("inf"),
                                                           float("-inf"), float("nan"), 1e-40, 3e38])])
    half, bhalf = values.half(), values.bfloat16()
    safetensors_io.write(path("half.safetensors"), collections.OrderedDict([
        ("f16", half.numpy().reshape(5, 6)), ("bf16", safetensors_io.BFloat16(
            bhalf.view(torch.int16).numpy().view(np.uint16).reshape(6, 5))), ("f32", values.numpy())]),
        {"torch_version": torch.__version__})
    safetensors_io.write(path("half.expected.safetensors"), collections.OrderedDict([
        ("f16", half.float().numpy().reshape(5, 6)), ("bf16", bhalf.float().numpy().reshape(6, 5)),
        ("f32", values.numpy())]), {"torch_version": torch.__version__, "fixture": "half.safetensors"})

    if len(sys.argv) == 1:
        tensors, _ = safetensors_io.read(os.path.join(TORCH_WEIGHTS, "rnn16.safetensors"))
        sd = collections.OrderedDict((k, torch.from_numpy(v)) for k, v in tensors.items())
        for name, obj, legacy in (("rnn16.pt", sd, False),
                                  ("rnn16_checkpoint.pth", {"epoch": 1, "model": sd, "loss": 0.5}, True)):
            buffer = io.BytesIO()
            torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
            safetensors_io.write_atomically(os.path.join(TORCH_WEIGHTS, name), buffer.getvalue())
            loaded = torch.load(os.path.join(TORCH_WEIGHTS, name))
            loaded = loaded if name.endswith(".pt") else loaded["model"]
            assert all(torch.equal(loaded[k], v) for k, v in sd.items())

    safetensors_io.write_atomically(path("manifest.json"), (json.dumps(MANIFEST, indent=1, sort_keys=True) + "\n").encode())


if __name__ == "__main__":
    main()
