#!/usr/bin/env python3
"""Where ember's GPU time goes: runs a workload under torch.profiler (CUPTI sees every kernel
in the process, ember's NVRTC kernels and cuBLAS calls included) and prints the kernels by
total GPU time, and the host time per step. Workloads: encoder (a transformer encoder block
forward + backward), chain (the elementwise chain on 256M elements).

    PYTHONPATH=build/python python3 bench/cuda_profile.py encoder [--batch 16] [--peer torch]

--peer torch profiles PyTorch's own run of the same workload (float32, TF32 off), to compare
kernel by kernel; --peer plan runs the compiled CUDA plan of the workload that
scripts/gpu-plans.py carried (gpu-carry/plans/bench-*.plan) on random inputs.
"""
import argparse
import os
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
    ap.add_argument("--peer", choices=["ember", "torch", "plan"], default="ember")
    args = ap.parse_args()
    sync = ember.cuda.synchronize
    if args.peer == "torch":
        torch.backends.cuda.matmul.allow_tf32 = False
        sync = torch.cuda.synchronize
        if args.workload == "encoder":
            m = torch.nn.TransformerEncoderLayer(1024, 16, 4096, dropout=0.0, batch_first=True).cuda()
            x = torch.randn(args.batch, 1024, 1024, device="cuda").requires_grad_(True)

            def step():
                (m(x) ** 2).mean().backward()
        else:
            x = torch.full((256 << 20,), 0.5, device="cuda")

            def step():
                torch.nn.functional.gelu(x * 1.5 + 0.5) * 2.0 + torch.tanh(x)
    elif args.peer == "plan":
        name = {"encoder": "encoder_block_fwd_bwd", "chain": "chain_256M"}[args.workload]
        path = os.path.join(os.path.dirname(__file__), "..", "gpu-carry", "plans", f"bench-{name}.plan")
        with open(path) as f:
            runner = ember._C._cuda_plan_runner(f.read(), 0)
        inputs = [ember.randn(*shape, device="cuda") * 0.02 for shape in runner.input_shapes]

        def step():
            runner.run(inputs, 0)
    elif args.workload == "encoder":
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
    sync()
    t0 = time.perf_counter()
    step()
    host = time.perf_counter() - t0
    sync()
    total = time.perf_counter() - t0
    print(f"{args.workload}: one step {total * 1e3:.1f} ms (host returns after {host * 1e3:.1f} ms)")
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        sync()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=args.rows, max_name_column_width=70))


if __name__ == "__main__":
    main()
