"""LeNet-5 inference (examples/lenet_fashion_mnist.py's model, eval mode, no grad) at batch 1, 64
and 1000: ember eager, ember.compile (conv and pooling through ember.im2col and ember's kernels)
and PyTorch eager."""
import os
import sys

import numpy as np
import torch

import ember

DESCRIPTION = "LeNet-5 forward (inference), batch 1 / 64 / 1000, float32"
BATCHES = (1, 64, 1000)


def make(threads):
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "examples"))
    from lenet_fashion_mnist import LeNet5
    from workloads.nn_lenet_step import torch_lenet
    model, tmodel = LeNet5().eval(), torch_lenet().eval()
    compiled = ember.compile(model, fullgraph=True)
    rng = np.random.default_rng(0)
    fns = {}
    for b in BATCHES:
        x = rng.standard_normal((b, 1, 28, 28), dtype=np.float32)
        ex, tx = ember.tensor(x), torch.tensor(x)

        def eager(x=ex):
            with ember.no_grad():
                return model(x)

        def comp(x=ex):
            with ember.no_grad():
                return compiled(x)

        def peer(x=tx):
            with torch.no_grad():
                return tmodel(x)
        fns[f"ember b{b}"], fns[f"ember.compile b{b}"], fns[f"torch b{b}"] = eager, comp, peer
    return fns
