#!/usr/bin/env python3
"""float32 square GEMM, ember against torch in blocks: a block of ember calls, then a block of
torch's (after a pause: torch's OpenMP threads spin after a call, which slows whatever runs
next on a 2-core machine), four times; prints min and median of each, GFLOP/s and torch / ember.

    PYTHONPATH=build/python python3 bench/gemm_blocks.py 256,512,1024,2048 [threads]
"""
import sys, time, numpy as np, torch, ember
th = int(sys.argv[2]) if len(sys.argv) > 2 else 1
ember.set_num_threads(th); torch.set_num_threads(th)
for n in [int(v) for v in sys.argv[1].split(",")]:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32); b = a.T.copy()
    ea, eb, ta, tb = ember.tensor(a), ember.tensor(b), torch.tensor(a), torch.tensor(b)
    reps = max(3, int(1e9 / (2 * n**3)))
    te, tt = [], []
    for blk in range(4):  # blocks: each library alone for a while (torch's OpenMP threads spin after a call)
        for f, acc in ((lambda: ea @ eb, te), (lambda: ta @ tb, tt)):
            f(); time.sleep(0.3)
            for i in range(reps):
                t = time.perf_counter(); f(); acc.append(time.perf_counter() - t)
    te.sort(); tt.sort()
    g = lambda t: 2 * n**3 / t / 1e9
    print(f"n={n} {th}T: ember min {te[0]*1e3:.2f} ms ({g(te[0]):.0f} GF/s) med {te[len(te)//2]*1e3:.2f} ({g(te[len(te)//2]):.0f}); torch min {tt[0]*1e3:.2f} ({g(tt[0]):.0f} GF/s) med {tt[len(tt)//2]*1e3:.2f} ({g(tt[len(tt)//2]):.0f}); torch/ember min {tt[0]/te[0]:.2f} med {tt[len(tt)//2]/te[len(te)//2]:.2f}")
