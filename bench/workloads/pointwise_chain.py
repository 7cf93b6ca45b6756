"""The eager chain gelu(x*a+b)*c + tanh(x) on 16M float32 (x, a, b, c tensors)."""
import numpy as np
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

DESCRIPTION = "gelu(x*a+b)*c + tanh(x), exact gelu, 16M float32 tensors, eager"
N = 1 << 24


def make(threads):
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(N, dtype=np.float32) for _ in range(4)]
    x, a, b, c = [ember.tensor(v) for v in arrays]
    tx, ta, tb, tc = [torch.tensor(v) for v in arrays]
    compiled = ember.compile(lambda x, a, b, c: F.gelu(x * a + b) * c + ember.tanh(x))
    tcompiled = torch.compile(lambda x, a, b, c: TF.gelu(x * a + b) * c + torch.tanh(x))
    return {
        "ember": lambda: F.gelu(x * a + b) * c + ember.tanh(x),
        "ember.compile": lambda: compiled(x, a, b, c),
        "torch": lambda: TF.gelu(tx * ta + tb) * tc + torch.tanh(tx),
        "torch.compile": lambda: tcompiled(tx, ta, tb, tc),
    }
