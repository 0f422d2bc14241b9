#!/usr/bin/python3
"""Trains the README's character-level language model briefly in PyTorch and records its greedy continuation.

Run with Debian's PyTorch (torch 1.13 + numpy for /usr/bin/python3), well under a minute of one CPU:

    /usr/bin/python3 tools/make_char_lm.py [OUTPUT_DIR]

OUTPUT_DIR defaults to app/src/test/resources/char_lm, which holds the training text alice.txt (the opening of
Lewis Carroll's "Alice's Adventures in Wonderland", 1865, public domain). The model is

    embed = nn.Embedding(V, 16) -> rnn = nn.LSTM(16, 64, num_layers=2) -> fc = nn.Linear(64, V)

with V the number of distinct characters of the text (the vocabulary is those characters sorted by code point).
Written:
  char_lm.pt           torch.save(model.state_dict(), ...), as users save models
  char_lm.safetensors  the same tensors under the same names (safetensors_io.py), vocabulary in its metadata
  char_lm.npz          the same tensors, np.savez
  greedy.safetensors   PyTorch's greedy continuation of PROMPT, run one character per call with the state
                       carried: "logits" (calls, V) float32, one row per call (the prompt's characters, then
                       each generated character but the last), "margin" (calls) the gap between the two largest
                       logits of each call; prompt, continuation and vocabulary in the metadata
Everything is seeded and runs on one thread, so reruns write the same numbers.
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

PROMPT = "Alice was "
CONTINUATION = 80
EMBED, HIDDEN, LAYERS = 16, 64, 2
STEPS, BATCH, SEQ_LEN, LR, SEED = 400, 16, 48, 0.01, 0


class CharLm(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = nn.Embedding(vocab, EMBED)
        self.rnn = nn.LSTM(EMBED, HIDDEN, num_layers=LAYERS)
        self.fc = nn.Linear(HIDDEN, vocab)

    def forward(self, x, state=None):  # x: (L, N) character indices
        out, state = self.rnn(self.embed(x), state)
        return self.fc(out), state


def train(model, data):
    generator = torch.Generator().manual_seed(SEED)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(STEPS):
        starts = torch.randint(0, len(data) - SEQ_LEN - 1, (BATCH,), generator=generator)
        batch = torch.stack([data[s:s + SEQ_LEN + 1] for s in starts.tolist()], dim=1)  # (L + 1, N)
        logits, _ = model(batch[:-1])
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), batch[1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0 or step == STEPS - 1:
            print("step %d loss %.4f" % (step, loss.item()), file=sys.stderr)


def greedy(model, index):
    """One character per call, batch 1, state carried: every call's logits, and the continuation."""
    rows, generated, state = [], [], None
    with torch.no_grad():
        pending = [index[c] for c in PROMPT]
        while True:
            x = torch.tensor([[pending.pop(0)]])  # (L=1, N=1)
            logits, state = model(x, state)
            rows.append(logits[0, 0].numpy().copy())
            if not pending:
                generated.append(int(logits[0, 0].argmax()))
                if len(generated) == CONTINUATION:
                    return np.stack(rows), generated
                pending.append(generated[-1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "app", "src", "test", "resources",
                                                                 "char_lm")
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    with open(os.path.join(out_dir, "alice.txt"), encoding="utf-8") as f:
        text = f.read()
    vocab = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    model = CharLm(len(vocab))
    train(model, torch.tensor([index[c] for c in text]))
    model.eval()

    torch.save(model.state_dict(), os.path.join(out_dir, "char_lm.pt"))
    tensors = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    metadata = {"vocabulary": vocab, "torch_version": torch.__version__, "generator": "tools/make_char_lm.py"}
    safetensors_io.write(os.path.join(out_dir, "char_lm.safetensors"), tensors, metadata)
    np.savez(os.path.join(out_dir, "char_lm.npz"), **tensors)

    logits, generated = greedy(model, index)
    top2 = np.sort(logits, axis=1)[:, -2:]
    continuation = "".join(vocab[i] for i in generated)
    safetensors_io.write(os.path.join(out_dir, "greedy.safetensors"),
                         {"logits": logits.astype(np.float32), "margin": (top2[:, 1] - top2[:, 0]).astype(np.float32)},
                         dict(metadata, prompt=PROMPT, continuation=continuation))
    print("prompt %r -> %r (smallest margin %.3g)" % (PROMPT, continuation, float((top2[:, 1] - top2[:, 0]).min())),
          file=sys.stderr)


if __name__ == "__main__":
    main()
