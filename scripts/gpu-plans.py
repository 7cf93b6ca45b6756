"""Writes the compiler's CUDA output for the test models into a folder that travels to the GPU
machine (whose ember build has no compiler): per model, the plan (kernels, GEMM steps) and an
.npz with its inputs and the outputs the CPU compiler computed for the same graph. test/python/test_cuda_plans_carried.py
runs them there. Usage: PYTHONPATH=build/python python3 scripts/gpu-plans.py gpu-carry/plans"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "python"))
import ember  # noqa: E402
import test_compile_cuda as cases  # noqa: E402


def main(out):
    os.makedirs(out, exist_ok=True)
    from ember._compile import _state_tensors, _trace
    for name in sorted(cases.CASES):
        fn, args, params = cases._setup(name)
        for p in params:
            p.grad = None
        state = _state_tensors(fn)
        graph, _ = _trace(fn, args, "gpu-plans", state)
        inputs = list(args) + list(state) + list(ember._C._lift_constants(graph, state))
        plan = ember._C._compile_graph_cuda(graph, -1)
        # The reference: the same graph through the CPU compiler (LLVM), which the tests check
        # against eager ember; the emulated plan must agree before it travels.
        want = [t.numpy() for t in ember._C._compile_graph(graph).run(inputs)]
        got = plan.run(inputs)
        assert len(got) == len(want), name
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w, rtol=2e-4, atol=2e-5)
        with open(os.path.join(out, name + ".plan"), "w") as f:
            f.write(plan.plan)
        np.savez(os.path.join(out, name + ".npz"),
                 **{f"in{i}": t.detach().numpy() for i, t in enumerate(inputs)},
                 **{f"out{i}": w for i, w in enumerate(want)})
        print(f"{name}: {len(plan.kernels)} kernels, {len(inputs)} inputs, {len(got)} outputs")


def aot(out):
    """An ember-compile --target=cuda library of a small MLP, a C program linking it (built
    here) and its data: the GPU machine runs the program (it cannot build the library)."""
    import subprocess
    import test_ember_compile_cuda as t
    d = os.path.join(out, "aot")
    os.makedirs(d, exist_ok=True)
    t.build_tiny(d, np.random.default_rng(5), d, rpath=True)
    print("aot: libtiny.so, main, data.bin")
    # The demo's trained LeNet-5 (when the demo has run here) as a CUDA library under the
    # deploy example, with the accuracy the CPU library reaches on the same test set.
    lenet = os.path.join(os.path.dirname(t.TOOL), "..", "demo", "lenet.ember")
    if not os.path.exists(lenet):
        print("deploy: skipped (no build/demo/lenet.ember: run the demo first)")
        return
    root = os.path.join(os.path.dirname(__file__), "..")
    dep = os.path.join(out, "deploy")
    cpu = os.path.join(out, "deploy-cpu")
    for target, where in (("cuda", dep), ("cpu", cpu)):
        subprocess.run([t.TOOL, lenet, f"--target={target}", "--name", "fmnist", "-o", where], check=True)
        subprocess.run(["cc", "-O2", os.path.join(root, "examples", "deploy", "deploy.c"), "-I", where,
                        "-L", where, "-lfmnist", "-lm", "-Wl,-rpath,$ORIGIN", "-o",
                        os.path.join(where, "deploy_c")], check=True)
    r = subprocess.run([os.path.join(cpu, "deploy_c")], capture_output=True, text=True, check=True)
    with open(os.path.join(dep, "expected.txt"), "w") as f:
        f.write(r.stdout)
    import shutil
    shutil.rmtree(cpu)
    print("deploy: LeNet-5 --target=cuda with deploy_c; CPU library:", r.stdout.strip().splitlines()[-1])


def bench_plans(out):
    """Plans for bench/cuda_bench.py's compiled rows (no data: the GPU side makes random inputs
    of the plan's shapes): the chain gelu(x*a+b)*c + tanh(x) on 256M elements, and the
    transformer encoder block (d_model 1024, 16 heads, FFN 4096, seq 1024, batch 16) forward
    + backward with its weights' gradients."""
    from ember._compile import _state_tensors, _trace

    class Arg:  # a shape for the trace, no memory
        def __init__(self, shape, requires_grad=False):
            self.shape, self.requires_grad, self.dtype = shape, requires_grad, ember.float32

    def chain(x):
        return ember.nn.functional.gelu(x * 1.5 + 0.5) * 2.0 + ember.tanh(x)

    ember.manual_seed(0)
    layer = ember.nn.TransformerEncoderLayer(1024, 16, 4096, dropout=0.0, batch_first=True)

    def block(x):
        loss = (layer(x) ** 2).mean()
        loss.backward()
        return loss

    for name, fn, args in (("chain_256M", chain, [Arg([256 << 20])]),
                           ("encoder_block_fwd_bwd", block, [Arg([16, 1024, 1024], True)])):
        state = _state_tensors(fn)
        graph, _ = _trace(fn, args, "gpu-plans", state)
        lifted = ember._C._lift_constants(graph, state)
        assert not len(lifted), name
        plan = ember._C._compile_graph_cuda(graph, -1)
        with open(os.path.join(out, f"bench-{name}.plan"), "w") as f:
            f.write(plan.plan)
        print(f"bench-{name}: {len(plan.kernels)} kernels")


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else "gpu-carry/plans"
    main(where)
    aot(where)
    bench_plans(where)
