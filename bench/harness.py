#!/usr/bin/env python3
"""Runs a named workload in ember and in its peers in the same process and the same run, at 1 and
2 threads, and prints medians and ratios (peer time / ember time: >1 means ember is faster).

    python3 bench/harness.py add [--threads 1,2] [--repeat 30] [--json bench/results/add.json]

A workload is a module in bench/workloads/ with `DESCRIPTION` and `make(threads)`, which returns
{"ember": fn, "torch": fn, "torch.compile": fn, ...}; each fn runs one iteration (inputs are
built once, outside the timed call). Later issues add workloads and peers (ONNX Runtime).
"""
import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def measure(fn, repeat, warmup):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), samples


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", default=None, help="write results here (default bench/results/<workload>.json)")
    args = ap.parse_args()

    try:
        mod = importlib.import_module(f"workloads.{args.workload}")
    except ModuleNotFoundError:
        names = sorted(f[:-3] for f in os.listdir(os.path.join(os.path.dirname(__file__), "workloads"))
                       if f.endswith(".py") and not f.startswith("_"))
        sys.exit(f"bench: unknown workload {args.workload!r}; known: {', '.join(names)}")

    results = {"workload": args.workload, "description": mod.DESCRIPTION, "machine": platform.processor()
               or platform.machine(), "runs": []}
    print(f"{args.workload}: {mod.DESCRIPTION}")
    for threads in [int(t) for t in args.threads.split(",")]:
        # Every library in the run gets the same thread count (a workload may set more).
        import ember
        import torch
        ember.set_num_threads(threads)
        torch.set_num_threads(threads)
        fns = mod.make(threads)
        medians = {}
        for name, fn in fns.items():
            med, _ = measure(fn, args.repeat, args.warmup)
            medians[name] = med
        # A workload with several variants names them "ember <variant>" / "<peer> <variant>";
        # each peer is compared with ember on the same variant.
        def base_of(name):
            variant = name.split(" ", 1)[1] if " " in name else ""
            return medians["ember" + (" " + variant if variant else "")]
        flops = getattr(mod, "flops", None)
        print(f"  threads={threads}")
        for name, med in medians.items():
            extra = f"   {flops(name) / med / 1e9:7.1f} GFLOP/s" if flops else ""
            print(f"    {name:<22} {med * 1e3:10.3f} ms   peer/ember = {med / base_of(name):6.2f}{extra}")
        results["runs"].append({"threads": threads, "median_s": medians,
                                "ratio_peer_over_ember": {k: v / base_of(k) for k, v in medians.items()}})

    path = args.json or os.path.join(os.path.dirname(__file__), "results", f"{args.workload}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"  wrote {path}")


if __name__ == "__main__":
    main()
