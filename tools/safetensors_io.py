"""The project's one safetensors reader and writer for its Python tools (numpy arrays; C order, little endian).

Written here rather than taken from the `safetensors` package, which Debian's python3-torch does not bring, so that
the generators run with /usr/bin/python3 alone. Scripts in tools/ import it directly; scripts elsewhere put this
folder on sys.path first.
"""
import json
import os
import struct

import numpy as np

DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64", np.dtype("int32"): "I32",
          np.dtype("float16"): "F16"}
NUMPY_DTYPES = {name: dtype for dtype, name in DTYPES.items()}


class BFloat16:
    """A bfloat16 tensor for encode, which numpy cannot hold: its raw bits as a uint16 array."""

    def __init__(self, bits):
        self.bits = np.asarray(bits, dtype=np.uint16)


def encode(tensors, metadata):
    """The file's bytes for tensors (name -> numpy array, in this order) and string metadata."""
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name, array in tensors.items():
        dtype = "BF16" if isinstance(array, BFloat16) else None
        array = array.bits if dtype else array
        shape = list(array.shape)  # before ascontiguousarray, which turns a 0-d array into shape [1]
        array = np.ascontiguousarray(array)
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": dtype or DTYPES[array.dtype], "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write_atomically(path, data):
    """Writes bytes to path through a temporary file and a rename, creating the folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write(path, tensors, metadata):
    """Writes tensors (name -> numpy array) and string metadata to path, atomically."""
    write_atomically(path, encode(tensors, metadata))


def read(path):
    """(tensors, metadata): name -> numpy array in native byte order, and the __metadata__ strings."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError("%s: header length %d is past the end of the file" % (path, n))
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = np.dtype(NUMPY_DTYPES[info["dtype"]]).newbyteorder("<")
        array = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        tensors[name] = array.astype(array.dtype.newbyteorder("="))
    return tensors, metadata
