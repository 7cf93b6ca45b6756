#!/usr/bin/env python3
"""Issue 7's compile-time figures for the MLP 784-1024-10 training step (batch 128, MSE):
ember.compile cold (no disk cache), from the disk cache in a new process, an in-process cache
hit, and torch.compile cold (fresh Inductor cache directory, FX graph cache off), each in its
own process, one thread.

    PYTHONPATH=build/python python3 bench/compile_time.py
"""
import os
import subprocess
import sys
import tempfile

STEP = """
import time, {lib}
{lib}.set_num_threads(1)
M = {lib}
m = M.nn.Sequential(M.nn.Linear(784, 1024), M.nn.ReLU(), M.nn.Linear(1024, 10))
x, y = M.randn(128, 784), M.randn(128, 10)
params = list(m.parameters())
"""

EMBER = STEP.format(lib="ember") + """
def step(x, y):
    loss = ((m(x) - y) ** 2).mean()
    return (loss,) + tuple(M.autograd.grad(loss, params))
f = ember.compile(step)
t = time.perf_counter(); f(x, y); first = time.perf_counter() - t
s = f.stats
stages = s["trace_s"] + s["import_s"] + s["parse_s"] + s["lower_s"] + s["codegen_s"]
g = ember.compile(lambda a, b: a * b + a); a = ember.randn(4); g(a, a)
t = time.perf_counter()
for _ in range(5000): g(a, a)
hit = (time.perf_counter() - t) / 5000
print(f"{first:.3f} {stages:.4f} {s['disk_cache_hits']} {hit * 1e6:.1f}")
"""

TORCH = STEP.format(lib="torch") + """
def step(x, y):
    loss = ((m(x) - y) ** 2).mean()
    loss.backward()
    return loss
f = torch.compile(step)
t = time.perf_counter(); f(x, y); print(f"{time.perf_counter() - t:.2f}")
"""


def run(code, **env):
    e = dict(os.environ, **env)
    r = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr)
    return r.stdout.split()


def main():
    with tempfile.TemporaryDirectory() as cache:
        cold = run(EMBER, EMBER_CACHE_DIR=cache)
        warm = run(EMBER, EMBER_CACHE_DIR=cache)
    with tempfile.TemporaryDirectory() as inductor:
        torch_cold = run(TORCH, TORCHINDUCTOR_CACHE_DIR=inductor, TORCHINDUCTOR_FX_GRAPH_CACHE="0")
    print(f"ember.compile cold: first call {cold[0]} s (compile stages {cold[1]} s)")
    print(f"ember.compile from the disk cache, new process: first call {warm[0]} s (compile stages "
          f"{float(warm[1]) * 1e3:.1f} ms, disk hits {warm[2]})")
    print(f"ember.compile in-process cache hit (tiny function): {cold[3]} us per call")
    print(f"torch.compile cold (loss.backward() step, fresh caches): first call {torch_cold[0]} s")


if __name__ == "__main__":
    main()
