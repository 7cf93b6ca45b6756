"""The C++ LeNet-5 example (ember::nn, ember::optim, ember::data) trains on real Fashion-MNIST."""
import os
import re
import subprocess

import pytest

import ember

EXE = os.path.join(os.path.dirname(ember.__file__), "..", "..", "examples", "ember_lenet_cpp")
DATA = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.exists(EXE), reason="the C++ examples are not built")
def test_cpp_lenet_learns():
    if not os.path.exists(os.path.join(DATA, "train-images-idx3-ubyte.gz")):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    r = subprocess.run([EXE, "--steps", "200", "--train-limit", "12800"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    acc = float(re.search(r"test accuracy ([0-9.]+)", r.stdout).group(1))
    assert acc > 0.7, r.stdout  # 200 SGD steps reach ~0.8; chance is 0.1


@pytest.mark.skipif(not os.path.exists(EXE), reason="the C++ examples are not built")
def test_cpp_lenet_names_a_missing_data_file(tmp_path):
    r = subprocess.run([EXE, "--data", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "train-images-idx3-ubyte" in r.stderr
