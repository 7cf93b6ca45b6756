"""ember-compile --target=cuda: the library embeds the model's CUDA plan (kernels as PTX, GEMMs
through cuBLAS) and loads the CUDA driver and cuBLAS at run time, so it links nothing of CUDA.
Without a GPU: the files, the dependencies, the plan itself run on the host emulation against
eager ember, and a C program's session creation failing with a clear message. On a GPU (marker
`gpu`): the C program's results."""
import os
import subprocess

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import _C

BUILD = os.path.abspath(os.path.join(os.path.dirname(ember.__file__), "..", ".."))
TOOL = os.path.join(BUILD, "tools", "ember-compile")
pytestmark = [pytest.mark.skipif(not os.path.exists(TOOL), reason="ember-compile is built with the compiler"),
              pytest.mark.skipif(not _C._nvrtc_available(), reason="--target=cuda needs NVRTC")]
ALLOWED = {"libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6", "libpthread.so.0",
           "libdl.so.2", "ld-linux-x86-64.so.2"}
RNG = np.random.default_rng(21)

C_MAIN = r"""
#include "tiny.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  tiny_session* s = tiny_create();
  if (!s) { printf("create failed: %s\n", tiny_create_error()); return 10; }
  float x[40], b[16], want[15];
  FILE* f = fopen(argv[1], "rb");
  if (!f || fread(x, 4, 40, f) != 40 || fread(b, 4, 16, f) != 16 || fread(want, 4, 15, f) != 15) return 3;
  fclose(f);
  if (tiny_set_input(s, "x", x) || tiny_set_input(s, "bias", b) || tiny_run(s)) {
    printf("run failed: %s\n", tiny_last_error(s));
    return 5;
  }
  const float* y = tiny_get_output(s, "probs");
  double err = 0;
  for (int i = 0; i < 15; ++i) err = fmax(err, fabs(y[i] - want[i]));
  printf("err %g\n", err);
  tiny_destroy(s);
  return err < 1e-5 ? 0 : 7;
}
"""


def run(*args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)


def build_tiny(d, rng, out, rpath=False):
    """Exports a small MLP to d/tiny.ember, writes its inputs and output to d/data.bin (what
    C_MAIN reads), compiles it with --target=cuda into `out` and links C_MAIN against it as
    d/main. Returns (inputs with the weights after them, the eager output). scripts/gpu-plans.py
    builds the GPU machine's copy the same way."""
    w1 = ember.tensor(rng.standard_normal((16, 8)).astype(np.float32))
    w2 = ember.tensor(rng.standard_normal((3, 16)).astype(np.float32))

    def mlp(x, bias):
        return F.softmax(F.linear(ember.relu(F.linear(x, w1) + bias), w2), dim=1)

    x = ember.tensor(rng.standard_normal((5, 8)).astype(np.float32))
    b = ember.tensor(rng.standard_normal(16).astype(np.float32))
    ember.export(mlp, (x, b), os.path.join(d, "tiny.ember"), input_names=["x", "bias"],
                 output_names=["probs"])
    want = mlp(x, b)
    np.concatenate([x.numpy().ravel(), b.numpy(), want.numpy().ravel()]).tofile(os.path.join(d, "data.bin"))
    r = run(TOOL, os.path.join(d, "tiny.ember"), "--target=cuda", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "target cuda" in r.stdout
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write(C_MAIN)
    r = run("cc", os.path.join(d, "main.c"), "-I", out, "-L", out, "-ltiny", "-lm",
            *(["-Wl,-rpath,$ORIGIN"] if rpath else []), "-o", os.path.join(d, "main"))
    assert r.returncode == 0, r.stderr
    return (x, b, w1, w2), want


@pytest.fixture(scope="module")
def cuda_lib(tmp_path_factory):
    d = tmp_path_factory.mktemp("aot_cuda")
    inputs, want = build_tiny(str(d), RNG, str(d / "out"))
    return d, inputs, want


def test_cuda_library_links_nothing_of_cuda(cuda_lib):
    d = cuda_lib[0]
    out = d / "out"
    assert sorted(os.listdir(out)) == ["libtiny.a", "libtiny.so", "tiny.h", "tiny.plan"]
    dyn = run("readelf", "-d", out / "libtiny.so").stdout
    needed = {line.split("[")[1].rstrip("]") for line in dyn.splitlines() if "(NEEDED)" in line}
    assert needed and needed <= ALLOWED, needed  # libcuda, cuBLAS: dlopen at run time
    syms = run("nm", "-D", "--defined-only", out / "libtiny.so").stdout.split()
    assert {"tiny_run", "tiny_create", "tiny_get_output"} <= {s for s in syms if s.startswith("tiny_")}
    assert not any("ember" in s for s in syms), syms
    # The plan carries PTX for every kernel: the library needs no NVRTC at run time.
    plan = (out / "tiny.plan").read_text()
    assert plan.startswith("ember-cuda-plan 2\n")
    assert plan.count(".entry ember_") == int(plan.split("\nkernels ")[1].split("\n")[0]) > 0


def test_cuda_plan_of_the_library_equals_eager_on_the_host_emulation(cuda_lib):
    d, inputs, want = cuda_lib
    runner = _C._cuda_plan_runner((d / "out" / "tiny.plan").read_text(), -1)
    got = runner.run(list(inputs), -1)[0]  # user inputs, then the weights in the file's order
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_plan_text_errors():
    with pytest.raises(ValueError, match="not an ember CUDA plan"):
        _C._cuda_plan_runner("hello", -1)
    with pytest.raises(ValueError, match="plan version 99"):
        _C._cuda_plan_runner("ember-cuda-plan 99\n", -1)
    with pytest.raises(ValueError, match="malformed plan"):
        _C._cuda_plan_runner("ember-cuda-plan 2\nbuffers 2\n4 -1 0\n", -1)


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the error without a GPU")
def test_session_without_a_gpu_fails_with_a_clear_message(cuda_lib):
    d = cuda_lib[0]
    r = run(d / "main", d / "data.bin", env=dict(os.environ, LD_LIBRARY_PATH=str(d / "out")))
    assert r.returncode == 10, (r.stdout, r.stderr)
    assert "create failed" in r.stdout and "CUDA" in r.stdout, r.stdout


def test_cuda_target_refuses_what_it_does_not_compile(tmp_path):
    # int32 ids (the CPU target takes them; the CUDA backend takes float32, int64 and bool).
    emb = nn.Embedding(10, 4)
    ember.export(lambda i: emb(i.long()), (ember.tensor([1, 2], dtype=ember.int32),), tmp_path / "emb.ember")
    r = run(TOOL, tmp_path / "emb.ember", "--target=cuda", "-o", tmp_path / "o")
    assert r.returncode != 0
    assert "i32" in r.stderr and "int64" in r.stderr, r.stderr
    assert not (tmp_path / "o" / "libemb.so").exists()
    assert run(TOOL, tmp_path / "emb.ember", "--target=cpu", "-o", tmp_path / "o").returncode == 0


@pytest.mark.gpu
def test_c_program_runs_the_cuda_library(cuda_lib):
    d = cuda_lib[0]
    r = run(d / "main", d / "data.bin", env=dict(os.environ, LD_LIBRARY_PATH=str(d / "out")))
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
