#!/usr/bin/env python3
"""GPU figures, ember against PyTorch CUDA in the same process (see docs/performance.md):
GEMM at 4096^3 (float32, TF32, bfloat16), the elementwise chain gelu(x*a+b)*c + tanh(x) eagerly,
device copy bandwidth, NVRTC cost per new and per cached kernel, and a transformer encoder
block's forward + backward. Prints one line per figure
and writes JSON to --json."""
import argparse
import json
import os
import tempfile
import time

import torch

import ember
import ember.nn.functional as EF


def timed(fn, sync, repeat=10, warmup=3):
    for _ in range(warmup):
        fn()
    sync()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - t)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default="bench/results/cuda.json")
    ap.add_argument("--chain-elems", type=int, default=256 << 20)
    ap.add_argument("--block-batch", type=int, default=16)
    args = ap.parse_args()
    es, ts = ember.cuda.synchronize, torch.cuda.synchronize
    out = {"device": ember.cuda.get_device_name(0), "torch": torch.__version__, "figures": {}}
    fig = out["figures"]

    def report(name, ember_s, torch_s, unit=None, work=None):
        row = {"ember_s": ember_s, "torch_s": torch_s, "ratio_torch_over_ember": torch_s / ember_s}
        if work:
            row.update({f"ember_{unit}": work / ember_s, f"torch_{unit}": work / torch_s})
        fig[name] = row
        extra = f"  ember {work / ember_s:.1f} {unit}, torch {work / torch_s:.1f} {unit}" if work else ""
        print(f"{name:32s} ember {ember_s * 1e3:9.3f} ms  torch {torch_s * 1e3:9.3f} ms  "
              f"torch/ember {torch_s / ember_s:5.2f}{extra}", flush=True)

    def compiled_plan(name, torch_s, inputs=None):
        """The compiled figure from a CUDA plan the compiler made elsewhere (scripts/gpu-plans.py
        carries bench-NAME.plan; this machine's build has no compiler), on random inputs of the
        plan's shapes, against torch eager's time for the same work."""
        path = os.path.join(os.path.dirname(__file__), "..", "gpu-carry", "plans", f"bench-{name}.plan")
        if not os.path.exists(path):
            print(f"{name}_compiled: no carried plan ({path})", flush=True)
            return
        try:
            with open(path) as f:
                runner = ember._C._cuda_plan_runner(f.read(), 0)
            if inputs is None:
                inputs = [ember.randn(*shape, device="cuda") * 0.02 for shape in runner.input_shapes]
            report(f"{name}_compiled", timed(lambda: runner.run(inputs, 0), es, repeat=5, warmup=2), torch_s)
        except Exception as e:  # a failing plan is a result, not the end of the benchmark
            print(f"{name}_compiled: FAILED: {e}", flush=True)
            fig[f"{name}_compiled"] = {"error": str(e)}

    # NVRTC: a kernel no cache has seen (a fresh disk cache dir), then the same kernel again.
    with tempfile.TemporaryDirectory() as d:
        os.environ["EMBER_CACHE_DIR"] = d
        x = ember.ones(1024, device="cuda")
        before = ember.cuda._kernel_cache_stats()
        t0 = time.perf_counter()
        ember.erf(x * 1.5 + 0.25)  # mul, add, erf: three new kernels
        es()
        cold = (time.perf_counter() - t0) / 3
        after = ember.cuda._kernel_cache_stats()
        t0 = time.perf_counter()
        for _ in range(100):
            ember.erf(x)
        es()
        warm = (time.perf_counter() - t0) / 100
        fig["nvrtc"] = {"new_kernel_ms": cold * 1e3,
                        "nvrtc_ms_per_kernel": (after["compile_ms"] - before["compile_ms"]) /
                        max(1, after["compiled"] - before["compiled"]),
                        "cached_kernel_call_ms": warm * 1e3}
        print(f"nvrtc: new kernel {cold * 1e3:.1f} ms (NVRTC alone "
              f"{fig['nvrtc']['nvrtc_ms_per_kernel']:.1f} ms), cached call {warm * 1e3:.3f} ms", flush=True)

    n = 4096
    for name, dt, tf32 in [("gemm_f32_4096", "float32", False), ("gemm_tf32_4096", "float32", True),
                           ("gemm_bf16_4096", "bfloat16", False)]:
        ember.cuda._set_allow_tf32(tf32)
        torch.backends.cuda.matmul.allow_tf32 = tf32
        ea = ember.randn(n, n).to(getattr(ember, dt)).cuda()
        eb = ember.randn(n, n).to(getattr(ember, dt)).cuda()
        ta = torch.randn(n, n, device="cuda", dtype=getattr(torch, dt))
        tb = torch.randn(n, n, device="cuda", dtype=getattr(torch, dt))
        report(name, timed(lambda: ea @ eb, es), timed(lambda: ta @ tb, ts), "TFLOP/s", 2 * n ** 3 / 1e12)
        del ea, eb, ta, tb
    ember.cuda._set_allow_tf32(False)
    torch.backends.cuda.matmul.allow_tf32 = False

    m = args.chain_elems
    ex = ember.full((m,), 0.5, device="cuda")
    tx = torch.full((m,), 0.5, device="cuda")
    copy_e = timed(lambda: ex.clone(), es, repeat=5)
    copy_t = timed(lambda: tx.clone(), ts, repeat=5)
    report("copy_256M_f32", copy_e, copy_t, "GB/s", 2 * 4 * m / 1e9)
    chain_e = lambda: EF.gelu(ex * 1.5 + 0.5) * 2.0 + ember.tanh(ex)
    chain_t = lambda: torch.nn.functional.gelu(tx * 1.5 + 0.5) * 2.0 + torch.tanh(tx)
    chain_torch = timed(chain_t, ts, repeat=5)
    report("chain_256M_eager", timed(chain_e, es, repeat=5), chain_torch)
    compiled_plan("chain_256M", chain_torch, [ex])
    bw = 2 * 4 * m / copy_t
    fig["copy_bandwidth_GBps_torch"] = bw / 1e9
    del ex, tx

    # Transformer encoder block forward + backward (d_model 1024, 16 heads, FFN 4096, seq 1024,
    # batch 16), the same weights in both libraries, float32 (TF32 off in both).
    import ember.nn as enn
    torch.manual_seed(0)
    tb = torch.nn.TransformerEncoderLayer(1024, 16, 4096, dropout=0.0, batch_first=True)
    eb = enn.TransformerEncoderLayer(1024, 16, 4096, dropout=0.0, batch_first=True)
    eb.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tb.state_dict().items()})
    tb, eb = tb.cuda(), eb.cuda()
    xb = torch.randn(args.block_batch, 1024, 1024)
    exb = ember.tensor(xb.numpy()).cuda().requires_grad_(True)
    txb = xb.cuda().requires_grad_(True)

    def step_e():
        (eb(exb) ** 2).mean().backward()

    def step_t():
        (tb(txb) ** 2).mean().backward()
    block_torch = timed(step_t, ts, repeat=5, warmup=2)
    report("encoder_block_fwd_bwd", timed(step_e, es, repeat=5, warmup=2), block_torch)
    del eb, exb
    compiled_plan("encoder_block_fwd_bwd", block_torch)
    ember.cuda.synchronize()
    fig["memory"] = {"max_allocated": ember.cuda.max_memory_allocated(),
                     "reserved": ember.cuda.memory_reserved()}
    os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
