#!/usr/bin/env python3
"""Times two entries of a bench/workloads module alternately, step by step (ember, torch,
torch, ember, ...), so both see the same machine state: on this shared VM that is fairer than
harness.py's one block per library when the two are close. Prints medians, minimums and
torch / ember.

    PYTHONPATH=build/python python3 bench/interleaved.py nn_mlp_step [--threads 2] [--steps 60]
"""
import argparse
import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--peers", default="ember,torch")
    args = ap.parse_args()
    import ember
    import torch
    ember.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    fns = importlib.import_module(f"workloads.{args.workload}").make(args.threads)
    a, b = args.peers.split(",")
    fa, fb = fns[a], fns[b]
    for _ in range(5):
        fa()
        fb()
    ta, tb = [], []
    for i in range(args.steps):
        order = ((fa, ta), (fb, tb)) if i % 2 == 0 else ((fb, tb), (fa, ta))
        for fn, acc in order:
            t = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - t)
    ta.sort()
    tb.sort()
    med = lambda v: v[len(v) // 2] * 1e3
    print(f"{args.workload}, {args.threads} thread(s), {args.steps} alternating steps: "
          f"{a} median {med(ta):.2f} ms (min {ta[0] * 1e3:.2f}), {b} median {med(tb):.2f} ms "
          f"(min {tb[0] * 1e3:.2f}); {b} / {a} median {med(tb) / med(ta):.2f}, min "
          f"{tb[0] / ta[0]:.2f}")


if __name__ == "__main__":
    main()
