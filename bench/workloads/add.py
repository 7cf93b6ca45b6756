"""c = a + b on two 4M-element float32 tensors (16 MiB each): memory-bound, allocates the output."""
import numpy as np
import torch

import ember

DESCRIPTION = "a + b, float32, 2048x2048 (+ a broadcast row), output allocated each call"
N = 2048


def make(threads):
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((N, N), dtype=np.float32)
    b_np = rng.standard_normal((N,), dtype=np.float32)
    ea, eb = ember.from_numpy(a_np), ember.from_numpy(b_np)
    ta, tb = torch.from_numpy(a_np), torch.from_numpy(b_np)
    compiled = torch.compile(lambda x, y: x + y)
    return {
        "ember": lambda: ember.add(ea, eb),
        "torch": lambda: torch.add(ta, tb),
        "torch.compile": lambda: compiled(ta, tb),
    }
