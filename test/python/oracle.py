"""Helpers the pytest oracle tests share: the same data as an ember and a torch tensor, and
the check that an ember result equals torch's (dtype, shape, values)."""
import numpy as np
import torch

import ember


def both(x, dtype="float32", requires_grad=False):
    x = np.asarray(x)
    e, t = ember.tensor(x).to(getattr(ember, dtype)), torch.tensor(x).to(getattr(torch, dtype))
    if requires_grad:
        e.requires_grad_(True)
        t.requires_grad_(True)
    return e, t


def same(e, t, tol=1e-6):
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    if e.dtype == ember.bfloat16:
        e, t = e.to(ember.float32), t.to(torch.float32)
    np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=tol, atol=tol)
