"""One LeNet-5 training step (examples/lenet_fashion_mnist.py's model) through nn/optim:
batch 64 of 1x28x28, cross-entropy, SGD with momentum. The ember.compile column compiles the
whole step (zero_grad, forward, cross-entropy on class indices, backward, the SGD update) into
one native function that writes the parameters, gradients and momentum back."""
import os
import sys

import numpy as np
import torch

import ember
from workloads import sgd_step

DESCRIPTION = "LeNet-5 train step (conv/pool/linear, CE + SGD momentum), batch 64"


def torch_lenet():
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def make(threads):
    torch.set_num_threads(threads)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "examples"))
    from lenet_fashion_mnist import LeNet5
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64)

    return {"ember": sgd_step(ember, LeNet5(), ember.tensor(x), ember.tensor(y)),
            "ember.compile": sgd_step(ember, LeNet5(), ember.tensor(x), ember.tensor(y), compiled=True),
            "torch": sgd_step(torch, torch_lenet(), torch.tensor(x), torch.tensor(y)),
            "torch.compile": sgd_step(torch, torch_lenet(), torch.tensor(x), torch.tensor(y),
                                      compiled=True)}
