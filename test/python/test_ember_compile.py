"""End to end: ember.export -> ember-compile -> a C program linking the generated library (shared
and static), the library's dependencies, the CLI's errors, and the examples/deploy programs on
the Fashion-MNIST test set."""
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import ember
import ember.nn.functional as F

BUILD = os.path.abspath(os.path.join(os.path.dirname(ember.__file__), "..", ".."))
TOOL = os.path.join(BUILD, "tools", "ember-compile")
RUN_TOOL = os.path.join(BUILD, "tools", "ember-run")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
pytestmark = pytest.mark.skipif(not os.path.exists(TOOL), reason="ember-compile is built with the compiler")
RNG = np.random.default_rng(9)
ALLOWED = {"libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6", "libpthread.so.0",
           "libdl.so.2", "ld-linux-x86-64.so.2"}

C_MAIN = r"""
#include "tiny.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
static float* load(const char* f, long n) {
  float* p = malloc(n * sizeof *p); FILE* h = fopen(f, "rb");
  if (!h || fread(p, sizeof *p, n, h) != (size_t)n) exit(3);
  fclose(h); return p;
}
int main(int argc, char** argv) {
  tiny_session* s = tiny_create();
  if (tiny_num_inputs() != 2 || tiny_input_rank(0) != 2 || tiny_input_shape(0)[1] != 8 ||
      tiny_input_shape(7) != NULL || tiny_output_numel(0) != 15) return 4;
  float* x = load(argv[1], 40); float* b = load(argv[2], 16); float* want = load(argv[3], 15);
  if (tiny_set_input(s, "x", x) || tiny_set_input(s, "bias", b) || tiny_run(s)) return 5;
  const float* y = tiny_get_output(s, "probs");
  double err = 0;
  for (int i = 0; i < 15; ++i) err = fmax(err, fabs(y[i] - want[i]));
  if (tiny_set_input(s, "nope", x) != 1) return 6;
  printf("err %g | %s\n", err, tiny_last_error(s));
  tiny_destroy(s);
  return err < 1e-5 ? 0 : 7;
}
"""


def run(*args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    d = tmp_path_factory.mktemp("aot")
    w1 = ember.tensor(RNG.standard_normal((16, 8)).astype(np.float32))
    w2 = ember.tensor(RNG.standard_normal((3, 16)).astype(np.float32))

    def mlp(x, bias):
        return F.softmax(F.linear(ember.relu(F.linear(x, w1) + bias), w2), dim=1)

    x = RNG.standard_normal((5, 8)).astype(np.float32)
    b = RNG.standard_normal(16).astype(np.float32)
    ember.export(mlp, (ember.tensor(x), ember.tensor(b)), d / "tiny.ember", input_names=["x", "bias"],
                 output_names=["probs"])
    x.tofile(d / "x.bin")
    b.tofile(d / "b.bin")
    mlp(ember.tensor(x), ember.tensor(b)).numpy().tofile(d / "want.bin")
    r = run(TOOL, d / "tiny.ember", "--target=cpu", "-O2", "--cpu=x86-64-v2", "-o", d / "out")
    assert r.returncode == 0, r.stderr
    (d / "main.c").write_text(C_MAIN)
    return d


def test_library_files_and_dependencies(compiled):
    out = compiled / "out"
    assert sorted(os.listdir(out)) == ["libtiny.a", "libtiny.so", "tiny.h"]
    dyn = run("readelf", "-d", out / "libtiny.so").stdout
    needed = {line.split("[")[1].rstrip("]") for line in dyn.splitlines() if "(NEEDED)" in line}
    assert needed and needed <= ALLOWED, needed  # no MLIR, LLVM, Python or ember library
    syms = run("nm", "-D", "--defined-only", out / "libtiny.so").stdout.split()
    exported = {s for s in syms if s.startswith("tiny_")}
    assert {"tiny_run", "tiny_create", "tiny_get_output", "tiny_set_num_threads"} <= exported
    assert not any("ember" in s or "memrefCopy" in s for s in syms), syms  # only the C API


def test_library_loads_beside_the_python_module(compiled):
    # The process already holds ember (the Python module); the library keeps to its own copy.
    import ctypes
    lib = ctypes.CDLL(str(compiled / "out" / "libtiny.so"))
    lib.tiny_create.restype = ctypes.c_void_p
    lib.tiny_run_buffers.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.tiny_destroy.argtypes = [ctypes.c_void_p]
    s = lib.tiny_create()
    x, b = np.fromfile(compiled / "x.bin", np.float32), np.fromfile(compiled / "b.bin", np.float32)
    out = np.empty(15, np.float32)
    ins = (ctypes.c_void_p * 2)(x.ctypes.data, b.ctypes.data)
    outs = (ctypes.c_void_p * 1)(out.ctypes.data)
    assert lib.tiny_run_buffers(s, ins, outs) == 0
    np.testing.assert_allclose(out, np.fromfile(compiled / "want.bin", np.float32), rtol=1e-5, atol=1e-6)
    # The library's own thread pool: set, read back, refused below 1; same results on 1 thread.
    assert lib.tiny_set_num_threads(1) == 0 and lib.tiny_get_num_threads() == 1
    assert lib.tiny_set_num_threads(0) == 1 and lib.tiny_get_num_threads() == 1
    out1 = np.empty(15, np.float32)
    assert lib.tiny_run_buffers(s, ins, (ctypes.c_void_p * 1)(out1.ctypes.data)) == 0
    np.testing.assert_array_equal(out1, out)
    assert lib.tiny_set_num_threads(2) == 0 and lib.tiny_get_num_threads() == 2
    lib.tiny_destroy(s)


@pytest.mark.parametrize("link", ["shared", "static"])
def test_c_program_runs_the_model(compiled, link):
    d, out = compiled, compiled / "out"
    exe = d / f"main_{link}"
    libs = ["-L", out, "-ltiny", "-lm"] if link == "shared" else [out / "libtiny.a", "-lstdc++", "-lm", "-lpthread"]
    r = run("cc", d / "main.c", "-I", out, *libs, "-o", exe)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, LD_LIBRARY_PATH=str(out))
    r = run(exe, d / "x.bin", d / "b.bin", d / "want.bin", env=env)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "no input named: nope" in r.stdout


def test_cli_help_and_errors(compiled, tmp_path):
    r = run(TOOL, "--help")
    assert r.returncode == 0 and "usage: ember-compile" in r.stdout
    model = compiled / "tiny.ember"
    (tmp_path / "bad.ember").write_text("not a model")
    cases = [
        ([model, "-o", tmp_path / "o"], "no --target"),
        ([model, "--target=tpu", "-o", tmp_path / "o"], "unknown --target=tpu; use --target=cpu or --target=cuda"),
        ([model, "--target=cpu"], "-o OUTDIR"),
        ([model, "--target=cpu", "--weights=zip", "-o", tmp_path / "o"], "unknown --weights=zip"),
        ([model, "--target=cpu", "--cpu=pentium9", "-o", tmp_path / "o"], "unknown --cpu"),
        ([model, "--target=cpu", "-O7", "-o", tmp_path / "o"], "unknown option"),
        ([tmp_path / "missing.ember", "--target=cpu", "-o", tmp_path / "o"], "cannot open"),
        ([tmp_path / "bad.ember", "--target=cpu", "-o", tmp_path / "o"], "not an ember export"),
    ]
    for args, message in cases:
        r = run(TOOL, *args)
        assert r.returncode != 0, args
        assert message in r.stderr, (args, r.stderr)
    assert not (tmp_path / "o" / "libtiny.so").exists()  # failures leave no partial output


@pytest.mark.parametrize("model", ["lenet", "mlp"])
def test_deploy_examples_on_fashion_mnist(tmp_path, model):
    # The demo's path: train (compiled step) -> export -> ember-compile -> the C and C++ programs.
    if not os.path.exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    script = os.path.join(ROOT, "examples", model, "train_fashion_mnist.py")
    args = ["--steps", "100", "--skip-eager", "--export-batch", "500"] if model == "lenet" else ["--steps", "150"]
    r = run("python3", script, *args, "--out", tmp_path, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    reloaded = float(r.stdout.strip().rsplit(" ", 1)[-1])
    r = run("bash", os.path.join(ROOT, "examples", "deploy", "run.sh"), tmp_path / f"{model}.ember",
            tmp_path / "deploy", BUILD)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.startswith("deployed")]
    assert len(lines) == 2
    for line in lines:  # the deployed library scores exactly what the reloaded export did
        assert abs(float(line.split("accuracy ")[1].split()[0]) - reloaded) < 1e-4, line
        assert "on 10000 test images" in line
    # The library needs only the C/C++ runtime (no MLIR, LLVM, Python or ember library).
    needed = {l.split("[")[1].rstrip("]") for l in
              run("readelf", "-d", tmp_path / "deploy" / "libfmnist.so").stdout.splitlines()
              if "(NEEDED)" in l}
    assert needed and needed <= ALLOWED, needed


FILE_MAIN = r"""
#include "fm.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static float* load(const char* f, long n) {
  float* p = malloc(n * sizeof *p); FILE* h = fopen(f, "rb");
  if (!h || fread(p, sizeof *p, n, h) != (size_t)n) exit(3);
  fclose(h); return p;
}
int main(int argc, char** argv) {
  if (fm_weights_embedded() != 0 || fm_create() != NULL) return 4;
  if (!strstr(fm_create_error(), "--weights=file")) return 5;
  if (fm_create_from_file("/nonexistent/fm.weights") != NULL || !strstr(fm_create_error(), "cannot open")) return 6;
  fm_session* s = fm_create_from_file(argv[1]);
  if (!s) { printf("%s\n", fm_create_error()); return 7; }
  long n = fm_input_numel(0), m = fm_output_numel(0);
  float* x = load(argv[2], n); float* want = load(argv[3], m);
  if (fm_set_input(s, "x", x) || fm_run(s)) return 8;
  const float* y = fm_get_output(s, "y");
  double err = 0;
  for (long i = 0; i < m; ++i) err = fmax(err, fabs(y[i] - want[i]));
  fm_destroy(s);
  printf("err %g\n", err);
  return err < 1e-5 ? 0 : 9;
}
"""


@pytest.fixture(scope="module")
def dynamic_mlp(tmp_path_factory):
    import ember.nn as nn
    d = tmp_path_factory.mktemp("dyn")
    ember.manual_seed(1)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    ember.export(model, (ember.randn(4, 8),), d / "fm.ember", input_names=["x"], output_names=["y"],
                 dynamic_shapes={"x": {0: ember.Dim("batch", max=16)}})
    return model, d


def test_symbolic_dims_need_shape(dynamic_mlp, tmp_path):
    _, d = dynamic_mlp
    model = d / "fm.ember"
    cases = [
        ([], "give them with --shape x=1x8"),
        (["--shape", "x=3xa"], "sizes are positive integers"),
        (["--shape", "x"], "--shape takes NAME=AxB"),
        (["--shape", "z=3x8"], "not an input of the model (its inputs: x)"),
        (["--shape", "x=3x9"], "dim 1 must be 8"),
        (["--shape", "x=17x8"], "outside its range [1, 16]"),
        (["--shape", "x=3x8", "--shape", "x=4x8"], "given twice"),
    ]
    for extra, message in cases:
        r = run(TOOL, model, "--target=cpu", *extra, "-o", tmp_path / "o")
        assert r.returncode != 0, extra
        assert message in r.stderr, (extra, r.stderr)
    assert not (tmp_path / "o" / "libfm.so").exists()


def test_weights_file_and_embed(dynamic_mlp, tmp_path):
    model, d = dynamic_mlp
    x = RNG.standard_normal((3, 8)).astype(np.float32)
    want = model(ember.tensor(x)).numpy()
    x.tofile(tmp_path / "x.bin")
    want.tofile(tmp_path / "want.bin")
    outs = {}
    for mode in ("embed", "file"):
        out = tmp_path / mode
        r = run(TOOL, d / "fm.ember", "--target=cpu", "--shape", "x=3x8", f"--weights={mode}", "-o", out)
        assert r.returncode == 0, r.stderr
        outs[mode] = out
    assert sorted(os.listdir(outs["file"])) == ["fm.h", "fm.weights", "libfm.a", "libfm.so"]
    assert sorted(os.listdir(outs["embed"])) == ["fm.h", "libfm.a", "libfm.so"]
    # The weights file is the export's safetensors section; the embedded library carries it.
    from safetensors.numpy import load_file
    weights = load_file(str(outs["file"] / "fm.weights"))
    np.testing.assert_array_equal(weights["0.weight"], model[0].weight.numpy())
    # (Comparing the two libraries' sizes is fragile: page padding can absorb the weights.)
    w0 = weights["0.weight"].tobytes()
    assert w0 in (outs["embed"] / "libfm.so").read_bytes()
    assert w0 not in (outs["file"] / "libfm.so").read_bytes()
    dyn = run("readelf", "-d", outs["file"] / "libfm.so").stdout
    needed = {line.split("[")[1].rstrip("]") for line in dyn.splitlines() if "(NEEDED)" in line}
    assert needed <= ALLOWED, needed

    (tmp_path / "main.c").write_text(FILE_MAIN)
    exe = tmp_path / "main_file"
    r = run("cc", tmp_path / "main.c", "-I", outs["file"], outs["file"] / "libfm.a", "-lstdc++", "-lm",
            "-lpthread", "-o", exe)
    assert r.returncode == 0, r.stderr
    r = run(exe, outs["file"] / "fm.weights", tmp_path / "x.bin", tmp_path / "want.bin")
    assert r.returncode == 0, (r.returncode, r.stdout)

    # ember-run drives either library through its C API.
    np.save(tmp_path / "x.npy", x)
    for mode, out in outs.items():
        r = run(RUN_TOOL, out / "libfm.so", "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", out,
                "--bench", 3, "--threads", 1)  # the library's thread pool (NAME_set_num_threads)
        assert r.returncode == 0, (mode, r.stderr)
        assert "y: shape [3, 3]" in r.stdout and "median" in r.stdout
        np.testing.assert_allclose(np.load(out / "y.npy"), want, rtol=1e-5, atol=1e-6)
    # Bad weights files: a session is refused with the reason.
    blob = (outs["file"] / "fm.weights").read_bytes()
    (tmp_path / "cut.weights").write_bytes(blob[:-4])
    flipped = bytearray(blob)
    flipped[-3] ^= 1
    (tmp_path / "flip.weights").write_bytes(bytes(flipped))
    for bad, message in [("cut.weights", "it is truncated or belongs to another model"),
                         ("flip.weights", "does not match this library (checksum)"),
                         ("none.weights", "cannot open the weights file")]:
        r = run(RUN_TOOL, outs["file"] / "libfm.so", "--input", f"x={tmp_path / 'x.npy'}",
                "--weights", tmp_path / bad)
        assert r.returncode != 0 and message in r.stderr, (bad, r.stderr)
    np.save(tmp_path / "x4.npy", np.zeros((4, 8), np.float32))
    r = run(RUN_TOOL, outs["embed"] / "libfm.so", "--input", f"x={tmp_path / 'x4.npy'}")
    assert r.returncode != 0 and "recompile with --shape" in r.stderr
    (tmp_path / "libjunk.so").write_bytes(b"not a library")
    r = run(RUN_TOOL, tmp_path / "libjunk.so", "--input", f"x={tmp_path / 'x.npy'}")
    assert r.returncode != 0 and "cannot load" in r.stderr


def test_transformer_encoder_through_the_library(tmp_path):
    import ember.nn as nn
    ember.manual_seed(7)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0,
                                       batch_first=True)
    enc = nn.TransformerEncoder(layer, num_layers=2).eval()
    ember.export(enc, (ember.randn(2, 5, 16),), tmp_path / "enc.ember", input_names=["src"],
                 output_names=["out"], dynamic_shapes=({0: ember.Dim("batch")},))
    r = run(TOOL, tmp_path / "enc.ember", "--target=cpu", "--shape", "src=3x5x16", "-o", tmp_path / "lib")
    assert r.returncode == 0, r.stderr
    x = RNG.standard_normal((3, 5, 16)).astype(np.float32)
    np.save(tmp_path / "src.npy", x)
    r = run(RUN_TOOL, tmp_path / "lib" / "libenc.so", "--input", f"src={tmp_path / 'src.npy'}",
            "--output-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), enc(ember.tensor(x)).numpy(),
                               rtol=1e-4, atol=1e-4)


def test_corrupt_models_are_refused(tmp_path):
    from test_export import EXPECTED, corrupt_cases
    import ember.nn as nn
    good = tmp_path / "good.ember"
    ember.export(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)), (ember.randn(3, 8),),
                 good, dynamic_shapes={"input": {0: ember.Dim("batch", max=64)}})
    for name, path in corrupt_cases(good, tmp_path).items():
        r = run(TOOL, path, "--target=cpu", "--shape", "input=2x8", "-o", tmp_path / "o")
        assert r.returncode == 1, name
        # ember-compile checks the weights against the graph's signature itself.
        pattern = ("weight '0.weight' does not have the shape the graph takes"
                   if name == "weights_wrong_shape" else EXPECTED[name][1])
        assert re.search(pattern, r.stderr), (name, r.stderr)
    assert not (tmp_path / "o").exists() or not os.listdir(tmp_path / "o")


class _ResidualBlock(ember.nn.Module):
    def __init__(self, c):
        super().__init__()
        nn = ember.nn
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        y = ember.relu(self.bn1(self.conv1(x)))
        return ember.relu(self.bn2(self.conv2(y)) + x)


def _resnet_style():
    """A small ResNet: stem conv/bn/relu, two residual blocks (one after a strided conv),
    global average pooling and a classifier; eval mode (running statistics)."""
    nn = ember.nn
    ember.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                          _ResidualBlock(8), nn.Conv2d(8, 16, 3, stride=2, padding=1),
                          _ResidualBlock(16), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(16, 10))
    with ember.no_grad():  # non-trivial running statistics
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(ember.randn(m.num_features) * 0.1)
                m.running_var.copy_(ember.rand(m.num_features) + 0.5)
    return model.eval()


def test_resnet_style_cnn_round_trips(tmp_path):
    # export -> load == eager; export -> ember-compile -> run == eager; ONNX Runtime agrees.
    model = _resnet_style()
    x = RNG.standard_normal((2, 3, 16, 16)).astype(np.float32)
    want = model(ember.tensor(x)).detach().numpy()
    ember.export(model, (ember.tensor(x),), tmp_path / "res.ember", input_names=["images"],
                 output_names=["logits"])
    loaded = ember.load_exported(tmp_path / "res.ember")
    np.testing.assert_allclose(loaded(ember.tensor(x)).numpy(), want, rtol=1e-4, atol=1e-5)
    r = run(TOOL, tmp_path / "res.ember", "--target=cpu", "-o", tmp_path / "lib")
    assert r.returncode == 0, r.stderr
    np.save(tmp_path / "images.npy", x)
    r = run(RUN_TOOL, tmp_path / "lib" / "libres.so", "--input", f"images={tmp_path / 'images.npy'}",
            "--output-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(np.load(tmp_path / "logits.npy"), want, rtol=1e-4, atol=1e-5)
    import onnxruntime as ort
    ember.onnx.export(model, (ember.tensor(x),), tmp_path / "res.onnx", input_names=["images"],
                      output_names=["logits"])
    got = ort.InferenceSession(str(tmp_path / "res.onnx")).run(None, {"images": x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
