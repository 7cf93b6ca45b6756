"""End to end: ember.export a model, then run it with the ember-run CLI on .npy files."""
import os
import re
import subprocess

import numpy as np
import pytest

import ember
import ember.nn.functional as F

TOOL = os.path.join(os.path.dirname(ember.__file__), "..", "..", "tools", "ember-run")
pytestmark = pytest.mark.skipif(not os.path.exists(TOOL), reason="ember-run is built with the compiler")
RNG = np.random.default_rng(4)


def run(*args):
    return subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def model(tmp_path):
    w1 = ember.tensor(RNG.standard_normal((16, 8)).astype(np.float32))
    w2 = ember.tensor(RNG.standard_normal((3, 16)).astype(np.float32))

    def mlp(x, bias):
        return F.softmax(F.linear(ember.relu(F.linear(x, w1) + bias), w2), dim=1)

    x = RNG.standard_normal((5, 8)).astype(np.float32)
    bias = RNG.standard_normal(16).astype(np.float32)
    path = tmp_path / "mlp.ember"
    ember.export(mlp, (ember.tensor(x), ember.tensor(bias)), path, input_names=["x", "bias"],
                 output_names=["probs"])
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "bias.npy", bias.astype(np.float64))  # converted to float32 on load
    return path, mlp(ember.tensor(x), ember.tensor(bias)).numpy()


def test_runs_and_writes_outputs(tmp_path, model):
    path, want = model
    out = tmp_path / "out"
    out.mkdir()
    r = run(path, "--input", f"bias={tmp_path / 'bias.npy'}", "--input", f"x={tmp_path / 'x.npy'}",
            "--output-dir", out, "--bench", 5, "--threads", 1)
    assert r.returncode == 0, r.stderr
    assert "probs: shape [5, 3]" in r.stdout and "median" in r.stdout and "p90" in r.stdout
    np.testing.assert_allclose(np.load(out / "probs.npy"), want, rtol=1e-5, atol=1e-6)


def test_help_and_errors(tmp_path, model):
    path, _ = model
    r = run("--help")
    assert r.returncode == 0 and "usage: ember-run" in r.stdout
    cases = [
        ([path], "takes 2 input"),
        ([path, "--input", f"y={tmp_path / 'x.npy'}", "--input", f"bias={tmp_path / 'bias.npy'}"],
         "no input 'y'"),
        ([path, "--input", f"x={tmp_path / 'nope.npy'}", "--input", f"bias={tmp_path / 'bias.npy'}"],
         "cannot open"),
        ([path, "--input", f"x={tmp_path / 'bias.npy'}", "--input", f"bias={tmp_path / 'x.npy'}"],
         "shape"),
        ([tmp_path / "missing.ember"], ""),
        ([path, "--bench", "-3"], "positive integer"),
        ([path, "--frobnicate"], "unknown option"),
    ]
    for args, message in cases:
        r = run(*args)
        assert r.returncode != 0, (args, r.stdout)
        assert message in r.stderr, (args, r.stderr)
    (tmp_path / "bad.npy").write_bytes(b"not numpy at all")
    r = run(path, "--input", f"x={tmp_path / 'bad.npy'}", "--input", f"bias={tmp_path / 'bias.npy'}")
    assert r.returncode != 0 and "not a .npy file" in r.stderr


def test_symbolic_batch_any_size(tmp_path):
    import ember.nn as nn
    model = nn.Sequential(nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 2))
    path = tmp_path / "dyn.ember"
    ember.export(model, (ember.randn(2, 8),), path, dynamic_shapes={"input": {0: ember.Dim("batch")}},
                 input_names=["x"], output_names=["y"])
    for batch in (1, 9):
        x = RNG.standard_normal((batch, 8)).astype(np.float32)
        np.save(tmp_path / "x.npy", x)
        r = run(path, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path)
        assert r.returncode == 0, r.stderr
        assert f"y: shape [{batch}, 2]" in r.stdout
        np.testing.assert_allclose(np.load(tmp_path / "y.npy"), model(ember.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)
    np.save(tmp_path / "bad.npy", np.zeros((3, 7), np.float32))
    r = run(path, "--input", f"x={tmp_path / 'bad.npy'}")
    assert r.returncode != 0 and "dim 1 must be 8" in r.stderr
    np.save(tmp_path / "int.npy", np.zeros((3, 8), np.int64))
    r = run(path, "--input", f"x={tmp_path / 'int.npy'}")
    assert r.returncode != 0 and "int64 but the model takes float32" in r.stderr
    r = run(path, "--input", f"x={tmp_path / 'x.npy'}", "--weights", tmp_path / "w")
    assert r.returncode != 0 and "--weights is for libraries" in r.stderr


def test_corrupt_files_exit_with_a_message(tmp_path):
    from test_export import EXPECTED, corrupt_cases
    import ember.nn as nn
    good = tmp_path / "good.ember"
    ember.export(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)), (ember.randn(3, 8),),
                 good, dynamic_shapes={"input": {0: ember.Dim("batch", max=64)}}, input_names=["x"])
    np.save(tmp_path / "x.npy", np.zeros((2, 8), np.float32))
    for name, path in corrupt_cases(good, tmp_path).items():
        r = run(path, "--input", f"x={tmp_path / 'x.npy'}")
        assert r.returncode == 1, (name, r.stdout)
        assert r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1, (name, r.stderr)
        assert re.search(EXPECTED[name][1], r.stderr), (name, r.stderr)
