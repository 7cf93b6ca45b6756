"""float32 GEMM, square sizes 256..2048 (the eager tensor issue's GEMM target)."""
import numpy as np
import torch

import ember

DESCRIPTION = "float32 square GEMM a @ b, n = 256, 512, 1024, 2048 (one entry per size)"
SIZES = (256, 512, 1024, 2048)


def make(threads):
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    rng = np.random.default_rng(0)
    fns = {}
    for n in SIZES:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ea, eb, ta, tb = ember.tensor(a), ember.tensor(b), torch.tensor(a), torch.tensor(b)
        fns[f"ember n={n}"] = (lambda x, y: lambda: x @ y)(ea, eb)
        fns[f"torch n={n}"] = (lambda x, y: lambda: x @ y)(ta, tb)
    return fns


def flops(name):
    n = int(name.split("n=")[1])
    return 2 * n ** 3
