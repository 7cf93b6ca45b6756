"""The C++ LSTM example (examples/lstm_cpp): its loss falls, and a run stopped at a checkpoint
(model + optimizer state through ember::save) and resumed ends exactly where an uninterrupted
run does; the checkpoint's model loads into torch.nn.LSTM under torch's names."""
import os
import re
import subprocess

import pytest
import torch
from safetensors.torch import load_file

import ember

EXE = os.path.join(os.path.dirname(ember.__file__), "..", "..", "examples", "ember_lstm_cpp")
pytestmark = pytest.mark.skipif(not os.path.exists(EXE), reason="the C++ examples are not built")


def run(*args):
    r = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_cpp_lstm_learns_and_resumes_exactly(tmp_path):
    full = run("--steps", 80, "--save", tmp_path / "full.safetensors")
    first = float(re.search(r"step 0: mse ([0-9.]+)", full).group(1))
    final = re.search(r"final mse (\S+) after 80 steps", full).group(1)
    assert float(final) < 0.1 * first, full

    run("--steps", 40, "--save", tmp_path / "half.safetensors")
    resumed = run("--steps", 40, "--resume", tmp_path / "half.safetensors", "--save",
                  tmp_path / "resumed.safetensors")
    assert "resumed at step 40" in resumed
    assert re.search(r"final mse (\S+) after 80 steps", resumed).group(1) == final
    a = load_file(str(tmp_path / "full.safetensors"))
    b = load_file(str(tmp_path / "resumed.safetensors"))
    assert a.keys() == b.keys()
    assert "optim.state.0.exp_avg" in a and "optim.param_groups.0.lr" in a
    for k in a:
        assert torch.equal(a[k], b[k]), k

    lstm = torch.nn.LSTM(1, 32, 2, batch_first=True)
    lstm.load_state_dict({k[len("model.lstm."):]: v for k, v in a.items()
                          if k.startswith("model.lstm.")})


def test_a_checkpoint_for_another_optimizer_state_is_refused(tmp_path):
    run("--steps", 2, "--save", tmp_path / "c.safetensors")
    ckpt = load_file(str(tmp_path / "c.safetensors"))
    ckpt["optim.state.0.exp_avg"] = torch.zeros(3)
    from safetensors.torch import save_file
    save_file(ckpt, str(tmp_path / "bad.safetensors"))
    r = subprocess.run([EXE, "--steps", "1", "--resume", str(tmp_path / "bad.safetensors")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "size mismatch for state.0.exp_avg" in r.stderr, r.stderr
