#!/usr/bin/env python3
"""Per-op cost from Python on tiny tensors (4 floats), ember and torch in the same run: an add
without autograd, an add recorded for autograd, and a 100-add chain's forward + backward (issue
4's "from Python no more than PyTorch's"; the C++ figures are build/bench/ember-bench-overhead's).
Best of 7 repetitions, one thread.

    PYTHONPATH=build/python python3 bench/py_overhead.py
"""
import time

import torch

import ember


def best_us(fn, n):
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def chain(x, w):
    y = w
    for _ in range(100):
        y = y + x
    y.sum().backward()


def main():
    ember.set_num_threads(1)
    torch.set_num_threads(1)
    rows = []
    for M in (ember, torch):
        a, b = M.ones(4), M.ones(4)
        w = M.ones(4).requires_grad_(True)
        rows.append((M.__name__, best_us(lambda: a + b, 20000), best_us(lambda: w + b, 20000),
                     best_us(lambda: chain(b, w), 200)))
    print(f"{'':8} {'add, no grad':>14} {'add, recorded':>14} {'100 adds fwd+bwd':>18}")
    for name, plain, recorded, ch in rows:
        print(f"{name:8} {plain:11.2f} us {recorded:11.2f} us {ch:15.1f} us")
    print(f"torch / ember: {rows[1][1] / rows[0][1]:.2f}, {rows[1][2] / rows[0][2]:.2f}, "
          f"{rows[1][3] / rows[0][3]:.2f}")


if __name__ == "__main__":
    main()
