"""One SGD training step of the MLP relu(x @ w1 + b1) @ w2 + b2, batch 128, 784-1024-10, MSE
loss against one-hot targets (the op record's ops only), parameters updated functionally."""
import numpy as np
import torch

import ember

DESCRIPTION = "MLP 784-1024-10 train step (fwd + bwd + SGD), batch 128, float32"
B, D, H, C = 128, 784, 1024, 10


def ember_step(x, y, w1, b1, w2, b2, lr=0.01):
    h = ember.relu(x @ w1 + b1)
    diff = h @ w2 + b2 - y
    loss = (diff * diff).sum() * (1.0 / B)
    g = ember.autograd.grad(loss, [w1, b1, w2, b2])
    return (loss,) + tuple(p - lr * gi for p, gi in zip((w1, b1, w2, b2), g))


def torch_step(x, y, w1, b1, w2, b2, lr=0.01):
    h = torch.relu(x @ w1 + b1)
    diff = h @ w2 + b2 - y
    loss = (diff * diff).sum() * (1.0 / B)
    g = torch.autograd.grad(loss, [w1, b1, w2, b2])
    return (loss,) + tuple((p - lr * gi).detach() for p, gi in zip((w1, b1, w2, b2), g))


def make(threads):
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) * 0.05 for s in
              [(B, D), (B, C), (D, H), (H,), (H, C), (C,)]]
    ex = [ember.tensor(a, requires_grad=i >= 2) for i, a in enumerate(arrays)]
    tx = [torch.tensor(a, requires_grad=i >= 2) for i, a in enumerate(arrays)]
    compiled = ember.compile(ember_step)
    tcompiled = torch.compile(torch_step)
    return {
        "ember": lambda: ember_step(*ex),
        "ember.compile": lambda: compiled(*ex),
        "torch": lambda: torch_step(*tx),
        "torch.compile": lambda: tcompiled(*tx),
    }
