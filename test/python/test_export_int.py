"""Integer inputs through export: a model over token ids (Embedding -> Linear) exported with an
int64 example, then loaded (ember.load_exported) and compiled ahead of time (ember-compile ->
ember-run on an int64 .npy file, and the C API through ctypes)."""
import ctypes
import os
import subprocess

import numpy as np
import pytest

import ember

TOOLS = os.path.join(os.path.dirname(ember.__file__), "..", "..", "tools")
COMPILE, RUN = os.path.join(TOOLS, "ember-compile"), os.path.join(TOOLS, "ember-run")
pytestmark = pytest.mark.skipif(not os.path.exists(COMPILE), reason="built without the compiler")


def tool(path, *args):
    return subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture
def tokens_model(tmp_path):
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Embedding(20, 6, padding_idx=0), ember.nn.Linear(6, 3))

    def head(ids):  # logits and the predicted class (an int64 output)
        logits = model(ids).sum(1)
        return logits, logits.argmax(1)

    ids = np.random.default_rng(1).integers(0, 20, size=(4, 5)).astype(np.int64)
    path = tmp_path / "tok.ember"
    ember.export(head, (ember.tensor(ids),), path, input_names=["ids"],
                 output_names=["logits", "label"])
    return path, head, ids


def test_export_and_load_with_int64_inputs(tokens_model):
    path, head, ids = tokens_model
    loaded = ember.load_exported(path)
    assert [t["dtype"] for t in loaded.inputs] == ["int64"]
    assert [t["dtype"] for t in loaded.outputs] == ["float32", "int64"]
    other = np.random.default_rng(2).integers(0, 20, size=(4, 5)).astype(np.int64)
    for x in (ids, other):
        got, want = loaded(ember.tensor(x)), head(ember.tensor(x))
        np.testing.assert_allclose(got[0].numpy(), want[0].detach().numpy(), rtol=1e-5, atol=1e-6)
        assert got[1].dtype == ember.int64 and got[1].tolist() == want[1].tolist()
    with pytest.raises(TypeError, match="input 'ids' is float32 but the model takes int64"):
        loaded(ember.tensor(ids.astype(np.float32)))
    with pytest.raises(IndexError, match=r"ember\.index_select: index 25 is out of bounds"):
        loaded(ember.tensor(np.full((4, 5), 25, dtype=np.int64)))


def test_ember_compile_and_ember_run_take_an_int64_npy(tokens_model, tmp_path):
    path, head, ids = tokens_model
    out = tmp_path / "lib"
    r = tool(COMPILE, path, "--target=cpu", "-o", out)
    assert r.returncode == 0, r.stderr
    np.save(tmp_path / "ids.npy", ids)
    r = tool(RUN, out / "libtok.so", "--input", f"ids={tmp_path / 'ids.npy'}", "--output-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    want = head(ember.tensor(ids))
    logits, label = np.load(tmp_path / "logits.npy"), np.load(tmp_path / "label.npy")
    assert logits.dtype == np.float32 and label.dtype == np.int64
    np.testing.assert_allclose(logits, want[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(label, want[1].numpy())
    # The .ember file runs the same way; a float array for the int64 input is refused.
    r = tool(RUN, path, "--input", f"ids={tmp_path / 'ids.npy'}")
    assert r.returncode == 0, r.stderr
    np.save(tmp_path / "f.npy", ids.astype(np.float32))
    r = tool(RUN, out / "libtok.so", "--input", f"ids={tmp_path / 'f.npy'}")
    assert r.returncode != 0 and "is float32 but the model takes int64" in r.stderr
    # An id out of range: the library reports it (code 3), ember-run says so.
    np.save(tmp_path / "bad.npy", np.full((4, 5), 21, dtype=np.int64))
    r = tool(RUN, out / "libtok.so", "--input", f"ids={tmp_path / 'bad.npy'}")
    assert r.returncode != 0 and "index 21 is out of bounds for dimension 0 with size 20" in r.stderr


def test_the_c_api_reports_int64_dtypes_and_index_errors(tokens_model, tmp_path):
    path, head, ids = tokens_model
    out = tmp_path / "lib"
    assert tool(COMPILE, path, "--target=cpu", "-o", out).returncode == 0
    lib = ctypes.CDLL(str(out / "libtok.so"))
    lib.tok_input_dtype.restype = lib.tok_output_dtype.restype = ctypes.c_char_p
    assert lib.tok_input_dtype(0) == b"int64"
    assert [lib.tok_output_dtype(i) for i in range(2)] == [b"float32", b"int64"]
    lib.tok_create.restype = ctypes.c_void_p
    lib.tok_set_input.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    lib.tok_run.argtypes = [ctypes.c_void_p]
    lib.tok_get_output.argtypes = lib.tok_get_output_data.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.tok_get_output.restype = lib.tok_get_output_data.restype = ctypes.c_void_p
    lib.tok_last_error.argtypes = [ctypes.c_void_p]
    lib.tok_last_error.restype = ctypes.c_char_p
    lib.tok_destroy.argtypes = [ctypes.c_void_p]
    s = lib.tok_create()
    x = np.ascontiguousarray(ids)
    assert lib.tok_set_input(s, b"ids", x.ctypes.data) == 0 and lib.tok_run(s) == 0
    label = np.ctypeslib.as_array(ctypes.cast(lib.tok_get_output_data(s, b"label"),
                                              ctypes.POINTER(ctypes.c_int64)), shape=(4,))
    np.testing.assert_array_equal(label, head(ember.tensor(ids))[1].numpy())
    assert lib.tok_get_output(s, b"label") is None  # not float32
    assert b"not float32" in lib.tok_last_error(s)
    bad = np.full((4, 5), -21, dtype=np.int64)
    assert lib.tok_set_input(s, b"ids", bad.ctypes.data) == 0
    assert lib.tok_run(s) == 3
    assert b"index -21 is out of bounds for dimension 0 with size 20" in lib.tok_last_error(s)
    assert lib.tok_set_input(s, b"ids", x.ctypes.data) == 0 and lib.tok_run(s) == 0
    lib.tok_destroy(s)
