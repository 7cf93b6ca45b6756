"""ember.export / ember.load_exported: the .ember container (format 2), round trips against eager
ember (MLP, transformer encoder), symbolic dims, and clear errors for bad arguments and for
missing, truncated, corrupt and version-mismatched files.

The container is re-read here by an independent Python reader of the layout in
docs/architecture.md, which also builds the corrupt files."""
import io
import json
import os
import struct

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

pytestmark = pytest.mark.skipif(not ember._C.has_compiler, reason="export needs the compiler")
RNG = np.random.default_rng(11)
MAGIC = b"\x89EMBER\r\n"


def rand(*shape):
    return ember.tensor(RNG.standard_normal(shape).astype(np.float32))


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)


def fnv1a(data):
    h = 1469598103934665603
    for byte in data:
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def read_container(path):
    data = open(path, "rb").read()
    assert data[:8] == MAGIC
    version, n = struct.unpack_from("<II", data, 8)
    sections = {}
    for i in range(n):
        tag, off, size, h = struct.unpack_from("<8sQQQ", data, 16 + 32 * i)
        assert off % 64 == 0 and fnv1a(data[off:off + size]) == h
        sections[tag.rstrip(b"\0").decode()] = data[off:off + size]
    return version, sections


def write_container(path, sections, version=2):
    """The container with the given sections and correct hashes (so a reader gets past them)."""
    out = bytearray(MAGIC + struct.pack("<II", version, len(sections)))
    at = 16 + 32 * len(sections)
    offsets = []
    for tag, body in sections.items():
        at = (at + 63) // 64 * 64
        offsets.append(at)
        out += struct.pack("<8sQQQ", tag.encode(), at, len(body), fnv1a(body))
        at += len(body)
    for off, body in zip(offsets, sections.values()):
        out += b"\0" * (off - len(out)) + body
    open(path, "wb").write(bytes(out))


@pytest.fixture(scope="module")
def mlp_file(tmp_path_factory):
    ember.manual_seed(3)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    path = tmp_path_factory.mktemp("export") / "mlp.ember"
    ember.export(model, (rand(3, 8),), path, dynamic_shapes={"input": {0: ember.Dim("batch", max=64)}},
                 input_names=["x"], output_names=["logits"], metadata={"task": "test"})
    return model, path


def test_mlp_round_trip_with_a_symbolic_batch(mlp_file):
    model, path = mlp_file
    loaded = ember.load_exported(path)
    assert loaded.input_names == ["x"] and loaded.output_names == ["logits"]
    assert loaded.inputs == [{"name": "x", "dtype": "float32", "shape": ["batch", 8]}]
    assert loaded.outputs == [{"name": "logits", "dtype": "float32", "shape": ["batch", 4]}]
    assert loaded.symbols == {"batch": (1, 64)}
    assert loaded.metadata == {"task": "test"} and loaded.producer.startswith("ember.export")
    assert [w[0] for w in loaded.weights] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for batch in (3, 1, 17, 3):
        x = rand(batch, 8)
        close(loaded(x), model(x))
    close(loaded(x=x), model(x))
    assert loaded.num_specializations == 3  # 3, 1 and 17: one compile per size


def test_weights_are_graph_inputs_in_a_safetensors_section(mlp_file):
    model, path = mlp_file
    version, sections = read_container(path)
    assert version == 2 and set(sections) == {"graph", "weights", "meta"}
    graph = sections["graph"].decode()
    # Four weight arguments after x; no dense constant holds them.
    assert graph.count("%arg") >= 5 and "dense<" not in graph
    from safetensors.numpy import load as st_load
    tensors = st_load(sections["weights"])
    state = model.state_dict()
    assert set(tensors) == set(state)
    via_ember_load = ember.load(io.BytesIO(sections["weights"]))  # ember.save's format too
    for k, v in state.items():
        np.testing.assert_array_equal(tensors[k], v.numpy())
        np.testing.assert_array_equal(via_ember_load[k].numpy(), v.numpy())
    meta = json.loads(sections["meta"])
    assert meta["format_version"] == 2 and meta["format"] == "ember" and meta["ember_version"]
    assert meta["weights"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert meta["inputs"][0]["shape"] == ["batch", 8]
    # The weights' data starts 64-byte aligned inside the section.
    assert (8 + struct.unpack_from("<Q", sections["weights"])[0]) % 64 == 0


def test_transformer_encoder_round_trip(tmp_path):
    ember.manual_seed(5)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0,
                                       batch_first=True)
    enc = nn.TransformerEncoder(layer, num_layers=2).eval()
    path = tmp_path / "enc.ember"
    ember.export(enc, (rand(2, 5, 16),), path, dynamic_shapes=({0: ember.Dim("batch")},))
    loaded = ember.load_exported(path)
    assert loaded.inputs[0]["shape"] == ["batch", 5, 16] and len(loaded.weights) == 24
    for batch in (2, 3, 1):
        x = rand(batch, 5, 16)
        close(loaded(x), enc(x), 1e-4)
    with pytest.raises(ValueError, match="dim 1 must be 5"):
        loaded(rand(2, 6, 16))


def test_closure_tensors_and_static_shapes(tmp_path):
    w1, w2 = rand(16, 8), rand(3, 16)

    def mlp(x, bias):
        return F.softmax(F.linear(ember.relu(F.linear(x, w1) + bias), w2), dim=1)

    path = tmp_path / "f.ember"
    x, b = rand(5, 8), rand(16)
    ember.export(mlp, (x, b), path)
    loaded = ember.load_exported(path)
    assert loaded.input_names == ["x", "bias"] and loaded.output_names == ["output0"]
    assert [name for name, _ in loaded.weights] == ["w1", "w2"]
    assert not w1.requires_grad  # export marks weights only while tracing
    close(loaded(x, b), mlp(x, b))
    with pytest.raises(ValueError, match=r"input 'x' has shape \[6, 8\] but the model takes \[5, 8\]"):
        loaded(rand(6, 8), b)


def test_several_outputs_tied_dims_and_keywords(tmp_path):
    def f(a, b):
        return a + b, (a * b).sum(1)

    batch = ember.Dim("batch", min=2, max=10)
    path = tmp_path / "two.ember"
    ember.export(f, (rand(3, 4), rand(3, 4)), path, dynamic_shapes={"a": {0: batch}, "b": {0: batch}},
                 output_names=["sum", "dot"])
    loaded = ember.load_exported(path)
    assert loaded.outputs[1]["shape"] == ["batch"]
    a, b = rand(5, 4), rand(5, 4)
    got = loaded(b=b, a=a)
    close(got[0], a + b)
    close(got[1], (a * b).sum(1))
    with pytest.raises(ValueError, match="symbolic dim 'batch', so they must have the same size"):
        loaded(rand(5, 4), rand(6, 4))
    with pytest.raises(ValueError, match=r"outside its range \[2, 10\]"):
        loaded(rand(11, 4), rand(11, 4))
    with pytest.raises(ValueError, match="no input 'c'"):
        loaded(a=a, c=b)
    with pytest.raises(ValueError, match="input 'b' is missing"):
        loaded(a=a)
    with pytest.raises(ValueError, match="takes 2 input"):
        loaded(a)
    with pytest.raises(TypeError, match="float64 but the model takes float32"):
        loaded(a, b.to(ember.float64))
    with pytest.raises(TypeError, match="must be Tensors"):
        loaded(a, 3.0)


def test_affine_sizes_and_positional_dynamic_shapes(tmp_path):
    # flatten merges the batch with fixed dims: sizes 12*batch are affine, so they specialise.
    def f(x):
        return ember.relu(x.reshape(x.shape[0] * 3, 4)).reshape(-1)

    path = tmp_path / "aff.ember"
    ember.export(f, (rand(2, 3, 4),), path, dynamic_shapes=(("n", None, None),))
    loaded = ember.load_exported(path)
    assert loaded.outputs[0]["shape"] == ["12*n"]
    for n in (2, 5):
        x = rand(n, 3, 4)
        close(loaded(x), f(x))


def test_export_errors(tmp_path):
    x = rand(4, 8)
    path = tmp_path / "e.ember"
    lin = nn.Linear(8, 2)
    with pytest.raises(ValueError, match="size-1 dims broadcast"):
        ember.export(lin, (rand(1, 8),), path, dynamic_shapes={"input": {0: ember.Dim("b")}})
    with pytest.raises(ValueError, match="not an input"):
        ember.export(lin, (x,), path, dynamic_shapes={"y": {0: ember.Dim("b")}})
    with pytest.raises(IndexError, match="dim 2"):
        ember.export(lin, (x,), path, dynamic_shapes=({2: ember.Dim("b")},))
    with pytest.raises(ValueError, match="1 entries for 2 inputs|2 inputs"):
        ember.export(lambda a, b: a + b, (x, x), path, dynamic_shapes=({0: "b"},))
    with pytest.raises(ValueError, match="example sizes differ"):
        ember.export(lambda a, b: a.sum() + b.sum(), (x, rand(5, 8)), path,
                     dynamic_shapes=({0: "b"}, {0: "b"}))
    with pytest.raises(ValueError, match="identifier"):
        ember.Dim("not a name")
    with pytest.raises(ValueError, match="min <= max"):
        ember.Dim("b", min=5, max=2)
    with pytest.raises(TypeError, match="metadata maps strings to strings"):
        ember.export(lin, (x,), path, metadata={"n": 3})
    with pytest.raises(TypeError, match="example input 0"):
        ember.export(lin, ([1.0],), path)
    with pytest.raises(ValueError, match="is used twice"):
        ember.export(lambda a, b: a + b, (x, x), path, input_names=["a", "a"])
    with pytest.raises(ValueError, match="is not allowed"):
        ember.export(lin, (x,), path, input_names=["x y"])
    # A mean over the batch divides by its size: a constant that follows the symbol.
    with pytest.raises(ValueError, match="constant of the graph depends on a symbolic dim"):
        ember.export(lambda a: a.mean(0), (x,), path, dynamic_shapes=({0: "b"},))
    # Merging two symbolic dims multiplies them: not affine.
    with pytest.raises(ValueError, match="not an affine function"):
        ember.export(lambda a: a.reshape(-1), (rand(2, 3),), path, dynamic_shapes=({0: "b", 1: "c"},))
    # A function that hard-codes the example's batch does not trace at other sizes.
    with pytest.raises(ValueError, match="tracing with the symbolic dims at b=5 failed"):
        ember.export(lambda a: a.reshape(4, 2, 4), (x,), path, dynamic_shapes=({0: "b"},))
    assert not path.exists()  # nothing was written by the failures


def test_writes_are_atomic(tmp_path, mlp_file):
    _, good = mlp_file
    path = tmp_path / "m.ember"
    path.write_bytes(good.read_bytes())

    def broken(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        ember.export(broken, (rand(2, 8),), path)
    assert path.read_bytes() == good.read_bytes()  # the old file is untouched
    with pytest.raises(RuntimeError, match="cannot open"):
        ember.export(nn.Linear(8, 2), (rand(2, 8),), tmp_path / "no-such-dir" / "m.ember")
    assert os.listdir(tmp_path) == ["m.ember"]  # no temporary files left behind


# --- bad files -----------------------------------------------------------------------------

def corrupt_cases(good, tmp_path):
    data = good.read_bytes()
    _, sec = read_container(good)
    meta = json.loads(sec["meta"])
    cases = {}

    def put(name, content):
        p = tmp_path / f"{name}.ember"
        p.write_bytes(content)
        cases[name] = p

    put("empty", b"")
    put("text", b"hello, world\n")
    put("v1_text", b"ember-export 1\nfunction main\n---\n")
    put("truncated_header", data[:12])
    put("truncated_table", data[:40])
    put("truncated_body", data[:len(data) // 2])
    put("bad_magic", b"\x89EMBAR\r\n" + data[8:])
    put("newer_version", data[:8] + struct.pack("<I", 3) + data[12:])
    put("too_many_sections", data[:12] + struct.pack("<I", 1000) + data[16:])
    bad_off = bytearray(data)
    struct.pack_into("<Q", bad_off, 16 + 8, 1 << 40)  # graph section far past the end
    put("bad_offset", bytes(bad_off))
    flipped = bytearray(data)
    flipped[-5] ^= 0xFF  # a byte of the meta section (the last one)
    put("flipped_byte", bytes(flipped))

    def rebuilt(name, **changes):
        s = dict(sec)
        s.update(changes)
        p = tmp_path / f"{name}.ember"
        write_container(p, {k: v for k, v in s.items() if v is not None})
        cases[name] = p

    rebuilt("bad_json", meta=b"{not json")
    rebuilt("meta_not_object", meta=b"[1, 2]")
    rebuilt("no_weights_section", weights=None)
    m = dict(meta, inputs=[dict(meta["inputs"][0], dtype="float64")])
    rebuilt("f64_input", meta=json.dumps(m).encode())
    m = dict(meta)
    del m["outputs"]
    rebuilt("missing_field", meta=json.dumps(m).encode())
    m = dict(meta, graph=dict(meta["graph"], symbolic_ints=[{"offset": 10**9, "length": 1, "value": 1}]))
    rebuilt("symbolic_int_outside", meta=json.dumps(m).encode())
    m = dict(meta, inputs=[dict(meta["inputs"][0], shape=["seq", 8])])
    rebuilt("unknown_symbol", meta=json.dumps(m).encode())
    m = dict(meta, format_version=7)
    rebuilt("meta_version", meta=json.dumps(m).encode())
    m = dict(meta, outputs=[dict(meta["outputs"][0], name='y"; evil();')])
    rebuilt("bad_name", meta=json.dumps(m).encode())
    rebuilt("deep_json", meta=b"[" * 100000 + b"]" * 100000)

    # The weights: a header whose offsets run past the data, and one with a wrong byte count.
    blob = sec["weights"]
    hlen = struct.unpack_from("<Q", blob)[0]
    header = json.loads(blob[8:8 + hlen])
    data_area = blob[8 + hlen:]

    def weights_with(h, body=data_area):
        text = json.dumps(h).encode()
        return struct.pack("<Q", len(text)) + text + body

    h = json.loads(json.dumps(header))
    h["2.bias"]["data_offsets"] = [len(data_area) - 8, len(data_area) + 8]
    rebuilt("weights_out_of_range", weights=weights_with(h))
    h = json.loads(json.dumps(header))
    h["2.bias"]["shape"] = [5]
    rebuilt("weights_wrong_size", weights=weights_with(h))
    h = json.loads(json.dumps(header))
    h["0.bias"]["dtype"] = "F64"
    rebuilt("weights_f64", weights=weights_with(h))
    h = json.loads(json.dumps(header))
    del h["0.bias"]
    rebuilt("weights_missing", weights=weights_with(h))
    rebuilt("weights_bad_json", weights=struct.pack("<Q", 5) + b"{oops" + data_area)
    rebuilt("weights_huge_header", weights=struct.pack("<Q", 1 << 50) + blob[8:])
    # A weight whose shape disagrees with the graph (same byte count, other shape).
    h = json.loads(json.dumps(header))
    h["0.weight"]["shape"] = [8, 16]
    rebuilt("weights_wrong_shape", weights=weights_with(h))
    return cases


EXPECTED = {
    "empty": (ValueError, "not an ember export"),
    "text": (ValueError, "not an ember export"),
    "v1_text": (ValueError, "version 1 ember export"),
    "truncated_header": (ValueError, "truncated: 12 bytes, shorter than the 16-byte header"),
    "truncated_table": (ValueError, "truncated"),
    "truncated_body": (ValueError, "truncated"),
    "bad_magic": (ValueError, "bad magic"),
    "newer_version": (ValueError, "format version 3, this ember reads version 2: upgrade ember"),
    "too_many_sections": (ValueError, "claims 1000 sections"),
    "bad_offset": (ValueError, "outside the file"),
    "flipped_byte": (ValueError, "checksum"),
    "bad_json": (ValueError, "metadata is not valid JSON"),
    "meta_not_object": (ValueError, "not a JSON object"),
    "no_weights_section": (ValueError, "no 'weights' section"),
    "f64_input": (NotImplementedError, "dtype float64"),
    "missing_field": (ValueError, "meta.outputs is missing"),
    "symbolic_int_outside": (ValueError, "outside the graph text"),
    "unknown_symbol": (ValueError, "not a declared symbol"),
    "meta_version": (ValueError, "disagrees with the header"),
    "bad_name": (ValueError, "has characters other than letters"),
    "deep_json": (ValueError, "nested too deeply"),
    "weights_out_of_range": (ValueError, "outside the weights data"),
    "weights_wrong_size": (ValueError, "needs 20 bytes but its data_offsets span 16"),
    "weights_f64": (NotImplementedError, "dtype F64"),
    "weights_missing": (ValueError, "weight '0.bias' is missing"),
    "weights_bad_json": (ValueError, "weights header is not valid JSON"),
    "weights_huge_header": (ValueError, "runs past the weights section"),
    "weights_wrong_shape": (ValueError, r"weight '0.weight' has shape \[8, 16\].*the file is corrupt"),
}


def test_bad_files_are_clear_errors(mlp_file, tmp_path):
    _, good = mlp_file
    cases = corrupt_cases(good, tmp_path)
    assert set(cases) == set(EXPECTED)
    for name, path in cases.items():
        kind, message = EXPECTED[name]
        with pytest.raises(kind, match=message):
            m = ember.load_exported(path)
            m(rand(2, 8))  # some problems (weights vs graph) show when the graph compiles
    with pytest.raises(ValueError, match="cannot open"):
        ember.load_exported(tmp_path / "missing.ember")
