"""Transformer encoder block forward + backward: nn.TransformerEncoderLayer(d_model 256, 4 heads,
FFN 1024, dropout 0, batch_first), input [8, 128, 256]; the loss is the output's sum of squares,
gradients for every parameter and the input (issue 5's backward figure; issue 7's compiled
figure)."""
import numpy as np
import torch

import ember

DESCRIPTION = "TransformerEncoderLayer(256, 4 heads, FFN 1024) fwd + bwd, batch 8, seq 128"


def build(M, x, compiled=False):
    layer = M.nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, batch_first=True)
    params = list(layer.parameters())

    def step(x):
        y = layer(x)
        loss = (y * y).sum()
        return (loss,) + tuple(M.autograd.grad(loss, [x] + params))

    if compiled:
        step = ember.compile(step) if M is ember else torch.compile(step)
    return lambda: step(x)


def make(threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 128, 256), dtype=np.float32)
    ex = ember.tensor(x).requires_grad_(True)
    tx = torch.tensor(x).requires_grad_(True)
    return {"ember": build(ember, ex), "ember.compile": build(ember, ex, compiled=True),
            "torch": build(torch, tx), "torch.compile": build(torch, tx, compiled=True)}
