"""End to end: ember.export a model, then run it with the ember-run CLI on .npy files."""
import os
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
