"""Issue 5's backward figures: the MLP 784-1024-1024-10 (batch 128, cross-entropy) and the
Transformer encoder block (d_model 256, 4 heads, FFN 1024, seq 128, batch 8; sum of squares),
each timed as forward alone ("fwd") and forward + backward ("fwdbwd") into the parameters'
.grad; backward's time is the difference (each call builds a fresh graph, as training does)."""
import numpy as np
import torch

import ember

DESCRIPTION = "backward of MLP 784-1024-1024-10 (batch 128) and encoder block (8x128x256)"


def models(M):
    nn = M.nn
    mlp = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                        nn.Linear(1024, 10))
    block = nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, batch_first=True)
    return mlp, block


def make(threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784), dtype=np.float32)
    y = rng.integers(0, 10, 128)
    s = rng.standard_normal((8, 128, 256), dtype=np.float32)
    fns = {}
    for name, M in (("ember", ember), ("torch", torch)):
        mlp, block = models(M)
        mx, my, sx = M.tensor(x), M.tensor(y), M.tensor(s)
        ce = M.nn.functional.cross_entropy

        def mlp_fwd(mlp=mlp, mx=mx, my=my, ce=ce):
            return ce(mlp(mx), my)

        def block_fwd(block=block, sx=sx):
            out = block(sx)
            return (out * out).sum()

        fns[f"{name} mlp_fwd"] = mlp_fwd
        fns[f"{name} mlp_fwdbwd"] = lambda f=mlp_fwd, m=mlp: (m.zero_grad(), f().backward())
        fns[f"{name} block_fwd"] = block_fwd
        fns[f"{name} block_fwdbwd"] = lambda f=block_fwd, m=block: (m.zero_grad(), f().backward())
    return fns
