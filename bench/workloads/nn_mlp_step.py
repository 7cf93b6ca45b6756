"""One training step through the nn/optim APIs: MLP 784-1024-1024-10 (nn.Linear, ReLU),
batch 128, nn.CrossEntropyLoss, optim.SGD with momentum: zero_grad, forward, backward, step
(ember.compile: the whole step as one compiled graph)."""
import numpy as np
import torch

import ember
from workloads import sgd_step

DESCRIPTION = "nn.Sequential MLP 784-1024-1024-10 train step (CE + SGD momentum), batch 128"


def build(M, x, y, compiled=False):
    nn = M.nn
    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                          nn.Linear(1024, 10))
    return sgd_step(M, model, x, y, compiled)


def make(threads):
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784), dtype=np.float32)
    y = rng.integers(0, 10, 128)
    return {"ember": build(ember, ember.tensor(x), ember.tensor(y)),
            "ember.compile": build(ember, ember.tensor(x), ember.tensor(y), compiled=True),
            "torch": build(torch, torch.tensor(x), torch.tensor(y)),
            "torch.compile": build(torch, torch.tensor(x), torch.tensor(y), compiled=True)}
