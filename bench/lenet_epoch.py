#!/usr/bin/env python3
"""Issue 6's epoch figure: one Fashion-MNIST epoch of LeNet-5 (batch 64, CE + SGD momentum) in
ember and in PyTorch, same process, same data, one thread each (and two with --threads 2).
Each library uses its own DataLoader (ember: ember.datasets.FashionMNIST + ToTensor/Normalize
through ember.utils.data.DataLoader; torch: a TensorDataset of the same normalised images
through torch.utils.data.DataLoader). Reports the epoch time and the time spent waiting for
batches (how long `next(loader)` took): the DataLoader is a bottleneck when that is large.

    PYTHONPATH=build/python python3 bench/lenet_epoch.py [--threads 1] [--steps N]
"""
import argparse
import time

import numpy as np
import torch

import ember
from ember.datasets import FashionMNIST, transforms


def lenet(M):
    nn = M.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def epoch(M, loader, steps):
    model = lenet(M)
    opt = M.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = M.nn.CrossEntropyLoss()
    waited, n = 0.0, 0
    start = time.perf_counter()
    it = iter(loader)
    while n < steps:
        t = time.perf_counter()
        try:
            x, y = next(it)
        except StopIteration:
            break
        waited += time.perf_counter() - t
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        n += 1
    return time.perf_counter() - start, waited, n, float(loss.item())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10 ** 9, help="stop an epoch early (smoke runs)")
    ap.add_argument("--workers", type=int, default=0, help="ember DataLoader num_workers")
    args = ap.parse_args()
    ember.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)

    norm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    ds = FashionMNIST(train=True, transform=norm)
    eloader = ember.utils.data.DataLoader(ds, batch_size=64, shuffle=True, drop_last=True,
                                          num_workers=args.workers)
    images = (ds.data.numpy().astype(np.float32)[:, None] / 255.0 - 0.2860) / 0.3530
    tds = torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(ds.targets.numpy()))
    tloader = torch.utils.data.DataLoader(tds, batch_size=64, shuffle=True, drop_last=True)

    for name, M, loader in (("ember", ember, eloader), ("torch", torch, tloader)):
        total, waited, n, loss = epoch(M, loader, args.steps)
        print(f"{name}: {n} steps in {total:.2f} s ({total / n * 1e3:.1f} ms/step), waiting for "
              f"data {waited:.2f} s ({waited / total:.0%}); last loss {loss:.3f}")


if __name__ == "__main__":
    main()
