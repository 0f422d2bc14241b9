#!/usr/bin/python3
"""PyTorch side of the TorchLSTM4j benchmark (run by benchmarks/run.sh; not meant to be run by hand).

Speaks the line protocol of io.torchlstm4j.benchmarks.Worker on stdin/stdout:
  info                      -> BENCH ok key=value<TAB>key=value...
  run key=value ...         -> BENCH ok <ns> <ns> ...   (one wall time per iteration)
  quit
Replies start with "BENCH " so that anything a library prints on stdout cannot be mistaken for one.
With --launch STEPS it instead builds the MNIST classifier, runs one forward, prints "BENCH first_forward",
runs STEPS training steps and prints "BENCH vmhwm_kib <peak resident KiB>" (launch time and peak memory).

The thread count comes from BENCH_THREADS (run.sh also sets OMP/OPENBLAS/MKL_NUM_THREADS before launch).
"""
import os
import re
import subprocess
import sys
import time

import numpy

import torch
from torch import nn

THREADS = int(os.environ.get("BENCH_THREADS", "1"))
torch.set_num_threads(THREADS)
torch.set_num_interop_threads(1)

PROTOCOL = sys.stdout
sys.stdout = sys.stderr  # anything else printed goes to stderr


def reply(status, payload=""):
    PROTOCOL.write("BENCH " + status + (" " + payload if payload else "") + "\n")
    PROTOCOL.flush()


class Classifier(nn.Module):
    """The PyTorch tutorial's MNIST model, generalised: LSTM, output at the last step, Linear."""

    def __init__(self, spec):
        super().__init__()
        self.batch_first = spec["batch_first"]
        self.lstm = nn.LSTM(spec["in"], spec["hidden"], spec["layers"], batch_first=spec["batch_first"],
                            bidirectional=spec["bidir"])
        directions = 2 if spec["bidir"] else 1
        self.fc = nn.Linear(directions * spec["hidden"], spec["classes"])

    def forward(self, x):
        out, _ = self.lstm(x)
        last = out[:, -1, :] if self.batch_first else out[-1]
        return self.fc(last)


def input_shape(spec):
    return (spec["N"], spec["L"], spec["in"]) if spec["batch_first"] else (spec["L"], spec["N"], spec["in"])


class ClassifierTrain:
    def __init__(self, spec):
        torch.manual_seed(1)
        self.model = Classifier(spec).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=spec["lr"])
        self.loss = nn.CrossEntropyLoss()
        self.x = torch.rand(input_shape(spec))
        self.y = torch.randint(0, spec["classes"], (spec["N"],))

    def __call__(self):
        self.optimizer.zero_grad()
        loss = self.loss(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()


class ClassifierForward:
    def __init__(self, spec):
        torch.manual_seed(1)
        self.model = Classifier(spec).eval()
        self.x = torch.rand(input_shape(spec))

    def __call__(self):
        with torch.no_grad():
            self.model(self.x)


class LstmForward:
    def __init__(self, spec):
        torch.manual_seed(1)
        self.lstm = nn.LSTM(spec["in"], spec["hidden"], spec["layers"], batch_first=spec["batch_first"],
                            bidirectional=spec["bidir"]).eval()
        self.x = torch.randn(input_shape(spec))
        state_shape = ((2 if spec["bidir"] else 1) * spec["layers"], spec["N"], spec["hidden"])
        self.state = (torch.randn(state_shape), torch.randn(state_shape)) if spec["state"] else None

    def __call__(self):
        with torch.no_grad():
            self.lstm(self.x, self.state)


class LstmStep:
    """On-line inference: each call one short input from the (h, c) the previous call returned."""

    def __init__(self, spec):
        torch.manual_seed(1)
        self.lstm = nn.LSTM(spec["in"], spec["hidden"], spec["layers"]).eval()
        shape = (spec["L"], spec["in"]) if spec["kind"].endswith("_unbatched") else (spec["L"], spec["N"], spec["in"])
        self.x = torch.randn(shape)
        self.state = None

    def __call__(self):
        with torch.no_grad():
            _, self.state = self.lstm(self.x, self.state)


KINDS = {"classifier_train": ClassifierTrain, "classifier_forward": ClassifierForward, "lstm_forward": LstmForward,
         "lstm_step": LstmStep, "lstm_step_unbatched": LstmStep}
INT_KEYS = ("in", "hidden", "layers", "L", "N", "classes")
BOOL_KEYS = ("bidir", "batch_first", "state")


def parse(words):
    spec = dict(word.split("=", 1) for word in words)
    for key in INT_KEYS:
        spec[key] = int(spec[key])
    for key in BOOL_KEYS:
        spec[key] = spec[key] == "1"
    spec["lr"] = float(spec["lr"])
    return spec


def info():
    config = torch.__config__.show()
    capability = [line.split(":", 1)[1].strip() for line in config.splitlines() if "CPU capability usage" in line]
    blas = re.search(r"BLAS_INFO=([^,]*)", config)
    try:
        debian = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "python3-torch"], capture_output=True,
                                text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        debian = "?"
    fields = {
        "framework": "PyTorch " + torch.__version__ + " (Debian python3-torch " + debian + ")",
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "torch.get_num_threads": str(torch.get_num_threads()),
        "torch.get_num_interop_threads": str(torch.get_num_interop_threads()),
        "CPU capability": capability[0] if capability else "?",
        "BLAS": (blas.group(1) if blas else "?") + " -> " + os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
        "mkldnn": str(torch.backends.mkldnn.is_available()),
        "OpenBLAS kernels": openblas_core(),
    }
    return "\t".join(k + "=" + v for k, v in fields.items())


def openblas_core():
    """The core type the OpenBLAS loaded in this process chose (openblas_get_corename), or why it is unknown."""
    import ctypes
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "openblas" in line and line.split()[-1].startswith("/")})
    for path in paths:
        try:
            library = ctypes.CDLL(path)
            library.openblas_get_corename.restype = ctypes.c_char_p
            library.openblas_get_config.restype = ctypes.c_char_p
            return library.openblas_get_corename().decode() + " (" + library.openblas_get_config().decode() + ")"
        except (OSError, AttributeError):
            continue
    return "? (no OpenBLAS loaded)"


def vmhwm_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def launch(steps, spec_words):
    spec = parse(spec_words)
    forward = ClassifierForward(spec)
    forward()
    reply("first_forward")
    train = ClassifierTrain(spec)
    for _ in range(steps):
        train()
    reply("vmhwm_kib", str(vmhwm_kib()))


def serve():
    cases = {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            return
        if words[0] == "info":
            reply("ok", info())
            continue
        try:
            spec = parse(words[1:])
            key = " ".join(w for w in words[1:] if not w.startswith(("iters=", "lead_s=")))
            if key not in cases:
                cases[key] = KINDS[spec["kind"]](spec)
            case = cases[key]
            # untimed lead-in (lead_s=): the same as the Java workers' (Worker.java)
            lead_until = time.perf_counter() + float(spec.get("lead_s", "0"))
            while time.perf_counter() < lead_until:
                case()
            times = []
            for _ in range(int(spec["iters"])):
                start = time.perf_counter_ns()
                case()
                times.append(time.perf_counter_ns() - start)
            reply("ok", " ".join(str(t) for t in times))
        except Exception as e:  # reported to the coordinator, which shows it in the table
            reply("error", (type(e).__name__ + ": " + str(e)).replace("\n", " "))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--launch":
        launch(int(sys.argv[2]), sys.argv[3:])
    else:
        serve()
