"""A small character-level transformer language model (ember.nn.TransformerEncoder with a causal
mask), trained on a text file that ships with the repository, then sampled.

    PYTHONPATH=build/python python3 examples/char_transformer.py [--steps 500] [--text FILE]"""
import argparse
import math
import os

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F

DEFAULT_TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                            "architecture.md")


class CharLM(nn.Module):
    def __init__(self, vocab, d_model=64, nhead=4, layers=2, context=64, dropout=0.1):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab)
        self.register_buffer("causal", ember.ones(context, context).triu(1).to(ember.bool),
                             persistent=False)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(ember.arange(T))
        mask = self.causal[:T, :T]
        return self.head(self.encoder(x, mask=mask))


def batches(data, context, batch_size, gen):
    while True:
        starts = gen._rng.integers(0, len(data) - context - 1, size=batch_size)
        x = np.stack([data[s:s + context] for s in starts])
        y = np.stack([data[s + 1:s + context + 1] for s in starts])
        yield ember.tensor(x), ember.tensor(y)


def sample(model, stoi, itos, prompt, length, temperature=0.8):
    """Draws `length` characters after prompt (ember's RNG)."""
    model.eval()
    idx = [stoi[c] for c in prompt if c in stoi] or [0]
    with ember.no_grad():
        for _ in range(length):
            ctx = ember.tensor([idx[-model.context:]])
            logits = model(ctx)[0, -1] / temperature
            probs = F.softmax(logits, -1).numpy().astype(np.float64)
            u = float(ember.rand(1).item())
            nxt = int(np.searchsorted(np.cumsum(probs), u * probs.sum()))
            idx.append(min(nxt, len(itos) - 1))
    model.train()
    return "".join(itos[i] for i in idx)


def train(text_path=DEFAULT_TEXT, steps=500, batch_size=16, context=64, d_model=64, layers=2,
          lr=3e-3, seed=0, log=print, log_every=100):
    ember.manual_seed(seed)
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    model = CharLM(len(chars), d_model=d_model, layers=layers, context=context)
    opt = ember.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = ember.Generator().manual_seed(seed)
    losses = []
    it = batches(data, context, batch_size, gen)
    for step in range(steps):
        x, y = next(it)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if log and (step % log_every == 0 or step == steps - 1):
            log(f"step {step}: loss {losses[-1]:.3f} (uniform: {math.log(len(chars)):.3f})")
    return model, stoi, chars, losses


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--text", default=DEFAULT_TEXT)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--sample", type=int, default=300)
    args = ap.parse_args()
    model, stoi, itos, _ = train(args.text, args.steps)
    print(sample(model, stoi, itos, "The ", args.sample))
