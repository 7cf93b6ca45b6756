"""On the GPU machine, whose ember build has no compiler: the CUDA plans the compiler made on
another machine (scripts/gpu-plans.py, carried in gpu-carry/plans) run on the device and equal
the outputs the CPU compiler computed there; the ember-compile --target=cuda library runs from a
C program. Skipped without a GPU or without the carried folder."""
import glob
import os
import subprocess

import numpy as np
import pytest

import ember
from ember import _C

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLANS = os.environ.get("EMBER_CUDA_PLANS", os.path.join(ROOT, "gpu-carry", "plans"))
pytestmark = pytest.mark.gpu
# Plans with their inputs and expected outputs beside them (the benchmark's plans have none).
NAMES = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(PLANS, "*.plan"))
               if os.path.exists(p[:-5] + ".npz"))


@pytest.mark.skipif(not NAMES, reason=f"no carried plans in {PLANS}")
@pytest.mark.parametrize("name", NAMES)
def test_carried_plan_on_the_gpu_equals_the_cpu_compiler(name):
    with open(os.path.join(PLANS, name + ".plan")) as f:
        runner = _C._cuda_plan_runner(f.read(), 0)
    data = np.load(os.path.join(PLANS, name + ".npz"))
    n_in = sum(1 for k in data.files if k.startswith("in"))
    n_out = sum(1 for k in data.files if k.startswith("out"))
    inputs = [ember.tensor(data[f"in{i}"]).cuda() for i in range(n_in)]
    got = runner.run(inputs, 0)
    assert len(got) == n_out
    for i, g in enumerate(got):
        np.testing.assert_allclose(g.cpu().numpy(), data[f"out{i}"], rtol=1e-4, atol=1e-4,
                                   err_msg=f"{name}: output {i}")
    got2 = runner.run(inputs, 0)  # buffers are reused across calls
    np.testing.assert_array_equal(got2[0].cpu().numpy(), got[0].cpu().numpy())


@pytest.mark.skipif(not os.path.exists(os.path.join(PLANS, "aot", "main")),
                    reason="no carried ember-compile --target=cuda library")
def test_carried_cuda_library_runs_from_c():
    d = os.path.join(PLANS, "aot")
    r = subprocess.run([os.path.join(d, "main"), os.path.join(d, "data.bin")], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, LD_LIBRARY_PATH=d))
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)


@pytest.mark.skipif(not os.path.exists(os.path.join(PLANS, "deploy", "deploy_c")),
                    reason="no carried deploy example (the demo had not run where the plans were made)")
def test_carried_lenet_cuda_library_scores_fashion_mnist_like_the_cpu_library():
    import re
    d = os.path.join(PLANS, "deploy")
    data = os.environ.get("EMBER_FASHION_MNIST_ROOT", os.path.join(ROOT, "gpu-carry", "fashion-mnist"))
    r = subprocess.run([os.path.join(d, "deploy_c"), data], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    accuracy = lambda text: float(re.search(r"accuracy ([0-9.]+)", text).group(1))
    with open(os.path.join(d, "expected.txt")) as f:
        want = accuracy(f.read())
    print(r.stdout.strip())
    assert abs(accuracy(r.stdout) - want) <= 0.002, (r.stdout, want)
