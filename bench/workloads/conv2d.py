"""float32 conv2d forward on LeNet and ResNet-18 layer shapes (the eager tensor issue's target)."""
import numpy as np
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

DESCRIPTION = ("float32 conv2d (bias, forward) on LeNet and ResNet-18 layer shapes, batch 8; "
               "'+bwd' entries run forward and backward")
# name: (N, C, H, W, O, k, stride, padding)
SHAPES = {
    "lenet1": (8, 1, 28, 28, 6, 5, 1, 2),
    "lenet2": (8, 6, 14, 14, 16, 5, 1, 0),
    "rn18-stem": (8, 3, 224, 224, 64, 7, 2, 3),
    "rn18-l1": (8, 64, 56, 56, 64, 3, 1, 1),
    "rn18-l2": (8, 128, 28, 28, 128, 3, 1, 1),
    "rn18-l3": (8, 256, 14, 14, 256, 3, 1, 1),
    "rn18-l4": (8, 512, 7, 7, 512, 3, 1, 1),
    "rn18-down": (8, 128, 28, 28, 256, 3, 2, 1),
}
BACKWARD = ("lenet2", "rn18-l3")


def make(threads):
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    rng = np.random.default_rng(0)
    fns = {}
    for name, (n, c, h, w, o, k, s, p) in SHAPES.items():
        x = rng.standard_normal((n, c, h, w), dtype=np.float32)
        wt = rng.standard_normal((o, c, k, k), dtype=np.float32) * 0.1
        b = rng.standard_normal(o, dtype=np.float32)
        ex, ew, eb = ember.tensor(x), ember.tensor(wt), ember.tensor(b)
        tx, tw, tb = torch.tensor(x), torch.tensor(wt), torch.tensor(b)
        fns[f"ember {name}"] = (lambda x, w, b, s, p: lambda: F.conv2d(x, w, b, s, p))(ex, ew, eb, s, p)
        fns[f"torch {name}"] = (lambda x, w, b, s, p: lambda: TF.conv2d(x, w, b, s, p))(tx, tw, tb, s, p)
        if name in BACKWARD:
            ex2, ew2 = ember.tensor(x, requires_grad=True), ember.tensor(wt, requires_grad=True)
            tx2, tw2 = torch.tensor(x, requires_grad=True), torch.tensor(wt, requires_grad=True)

            def eb_step(x=ex2, w=ew2, s=s, p=p):
                x.grad = None
                w.grad = None
                F.conv2d(x, w, None, s, p).sum().backward()

            def tb_step(x=tx2, w=tw2, s=s, p=p):
                x.grad = None
                w.grad = None
                TF.conv2d(x, w, None, s, p).sum().backward()
            fns[f"ember {name}+bwd"] = eb_step
            fns[f"torch {name}+bwd"] = tb_step
    return fns


def flops(name):
    key = name.split(" ", 1)[1]
    n, c, h, w, o, k, s, p = SHAPES[key.replace("+bwd", "")]
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    f = 2 * n * o * c * k * k * oh * ow
    return 3 * f if key.endswith("+bwd") else f
