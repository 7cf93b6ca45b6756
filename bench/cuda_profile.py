#!/usr/bin/env python3
"""Where ember's GPU time goes: runs a workload under torch.profiler (CUPTI sees every kernel
in the process, ember's NVRTC kernels and cuBLAS calls included) and prints the kernels by
total GPU time, and the host time per step. Workloads: encoder (a transformer encoder block
forward + backward), chain (the elementwise chain on 256M elements).

    PYTHONPATH=build/python python3 bench/cuda_profile.py encoder [--batch 16]
"""
import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

import ember
import ember.nn as enn
import ember.nn.functional as EF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=["encoder", "chain"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--rows", type=int, default=30)
    args = ap.parse_args()
    if args.workload == "encoder":
        m = enn.TransformerEncoderLayer(1024, 16, 4096, dropout=0.0, batch_first=True).cuda()
        x = ember.randn(args.batch, 1024, 1024, device="cuda").requires_grad_(True)

        def step():
            (m(x) ** 2).mean().backward()
    else:
        x = ember.full((256 << 20,), 0.5, device="cuda")

        def step():
            EF.gelu(x * 1.5 + 0.5) * 2.0 + ember.tanh(x)
    for _ in range(2):
        step()
    ember.cuda.synchronize()
    t0 = time.perf_counter()
    step()
    host = time.perf_counter() - t0
    ember.cuda.synchronize()
    total = time.perf_counter() - t0
    print(f"{args.workload}: one step {total * 1e3:.1f} ms (host returns after {host * 1e3:.1f} ms)")
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        ember.cuda.synchronize()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=args.rows, max_name_column_width=70))


if __name__ == "__main__":
    main()
