"""The C++ LeNet-5 example (ember::nn, ember::optim, ember::data) trains on real Fashion-MNIST;
its saved state dict scores the same in Python."""
import os
import re
import subprocess

import pytest

import ember

EXE = os.path.join(os.path.dirname(ember.__file__), "..", "..", "examples", "ember_lenet_cpp")
DATA = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.exists(EXE), reason="the C++ examples are not built")
def test_cpp_lenet_learns(tmp_path):
    if not os.path.exists(os.path.join(DATA, "train-images-idx3-ubyte.gz")):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    r = subprocess.run([EXE, "--steps", "200", "--train-limit", "12800", "--workers", "2",
                        "--save", str(tmp_path / "lenet.safetensors")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    acc = float(re.search(r"test accuracy ([0-9.]+)", r.stdout).group(1))
    assert acc > 0.7, r.stdout  # 200 SGD steps reach ~0.8; chance is 0.1

    # The saved state dict loads into the same LeNet in Python and scores the same.
    nn = ember.nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                          nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    model.load_state_dict(ember.load(tmp_path / "lenet.safetensors"))
    model.eval()
    test = ember.datasets.FashionMNIST(DATA, train=False)
    x = (test.data.to(ember.float32) / 255 - 0.2860) / 0.3530
    with ember.no_grad():
        pred = model(x.reshape(-1, 1, 28, 28)).argmax(1)
    py_acc = (pred == test.targets).to(ember.float32).mean().item()
    assert abs(py_acc - acc) < 1e-3, (py_acc, acc)


@pytest.mark.skipif(not os.path.exists(EXE), reason="the C++ examples are not built")
def test_cpp_lenet_names_a_missing_data_file(tmp_path):
    r = subprocess.run([EXE, "--data", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "train-images-idx3-ubyte" in r.stderr
