#!/usr/bin/python3
"""Golden data for TorchAdamTest: torch.optim.Adam steps on one float64 parameter.

Writes app/src/test/resources/io/torchlstm4j/train/adam_steps.json:
  lr, betas, eps, torch_version, initial param, and for each step the gradient given and the param after
  optimizer.step(). Some gradient entries are tiny (1e-9) so that eps matters, where DL4J's Adam
  (eps added before the bias correction) and PyTorch's differ.
Run with Debian's /usr/bin/python3 (torch 1.13):  /usr/bin/python3 mnist-demo/tools/make_adam_fixture.py
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "app", "src", "test", "resources", "io", "torchlstm4j", "train",
                   "adam_steps.json")


def main():
    torch.manual_seed(20240601)
    lr, betas, eps = 0.01, (0.9, 0.999), 1e-8
    param = torch.nn.Parameter(torch.randn(3, 4, dtype=torch.float64))
    initial = param.detach().clone()
    optimizer = torch.optim.Adam([param], lr=lr, betas=betas, eps=eps)
    scale = torch.ones(3, 4, dtype=torch.float64)
    scale[0, :] = 1e-9  # second moment near eps**2: the eps placement matters here
    steps = []
    for _ in range(25):
        grad = torch.randn(3, 4, dtype=torch.float64) * scale
        optimizer.zero_grad()
        param.grad = grad.clone()
        optimizer.step()
        steps.append({"grad": grad.tolist(), "param": param.detach().tolist()})
    fixture = {"torch_version": torch.__version__, "lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps,
               "initial": initial.tolist(), "steps": steps}
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(fixture, f, indent=1)
    os.replace(tmp, OUT)
    print("wrote", os.path.relpath(OUT), "with", len(steps), "steps, torch", torch.__version__)


if __name__ == "__main__":
    main()
