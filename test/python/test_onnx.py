"""ember.onnx.export: the files pass onnx.checker, run in ONNX Runtime, and match ember."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest

import ember
import ember.nn.functional as F

RNG = np.random.default_rng(2)


def run_onnx(path, feeds):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def weights(*shape):
    return ember.tensor(RNG.standard_normal(shape).astype(np.float32) * 0.3)


@pytest.mark.parametrize("opset", [17, 18])
def test_mlp_matches_onnxruntime(tmp_path, opset):
    w1, b1, w2, b2 = weights(32, 20), weights(32), weights(10, 32), weights(10)

    def mlp(x):
        h = F.gelu(F.linear(x, w1, b1))
        return F.log_softmax(F.linear(h, w2, b2), dim=1), ember.argmax(h, dim=1)

    x = RNG.standard_normal((8, 20)).astype(np.float32)
    path = tmp_path / "mlp.onnx"
    ember.onnx.export(mlp, (ember.tensor(x),), path, input_names=["x"],
                      output_names=["logp", "arg"], opset_version=opset)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["x"]
    assert model.opset_import[0].version == opset
    logp, arg = run_onnx(path, {"x": x})
    e_logp, e_arg = mlp(ember.tensor(x))
    np.testing.assert_allclose(logp, e_logp.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(arg, e_arg.numpy())


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("act", ["gelu", "gelu_tanh", "silu"])
def test_activation_primitives(tmp_path, act, opset):
    # gelu, gelu(approximate='tanh') and silu are primitives: ONNX's Gelu from opset 20, else
    # the formula in Erf/Tanh/Sigmoid nodes.
    fn = {"gelu": F.gelu, "silu": F.silu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh")}[act]
    x = (RNG.standard_normal((6, 50)) * 3).astype(np.float32)
    path = tmp_path / f"{act}.onnx"
    ember.onnx.export(fn, (ember.tensor(x),), path, opset_version=opset)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    ops = {n.op_type for n in model.graph.node}
    assert ("Gelu" in ops) == (opset >= 20 and act != "silu")
    (got,) = run_onnx(path, {"input_0": x})
    np.testing.assert_allclose(got, fn(ember.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_shapes_reductions_and_selection(tmp_path):
    def f(x, y):
        a = ember.cat([x, y * 2], dim=1)              # cat, broadcasting with a scalar
        a = a.transpose(0, 1).reshape(6, -1)          # transpose, reshape
        m = ember.where(a > 0, a, ember.exp(a) - 1)   # compare, where
        s = m[1:5:2].sum(dim=0, keepdim=True)         # slice with a step, reduce
        return ember.amax(m, dim=1) - ember.amin(m, dim=1), s.expand(3, -1), ember.sqrt(ember.abs(m)) / 3

    x = RNG.standard_normal((4, 3)).astype(np.float32)
    y = RNG.standard_normal((4, 3)).astype(np.float32)
    path = tmp_path / "f.onnx"
    ember.onnx.export(f, (ember.tensor(x), ember.tensor(y)), path)
    got = run_onnx(path, {"input_0": x, "input_1": y})
    want = f(ember.tensor(x), ember.tensor(y))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-6)


def test_lenet_style_cnn_matches_onnxruntime(tmp_path):
    c1, c1b, c2, c2b = weights(6, 1, 5, 5), weights(6), weights(16, 6, 5, 5), weights(16)
    l1, l1b, l2 = weights(32, 16 * 4 * 4), weights(32), weights(10, 32)

    def lenet(x):
        h = F.max_pool2d(F.relu(F.conv2d(x, c1, c1b, padding=2)), 2)
        h = F.avg_pool2d(F.relu(F.conv2d(h, c2, c2b, stride=1, dilation=1)), 2, stride=2, padding=1)
        h = h[:, :, :4, :4].reshape(h.shape[0], -1)
        return F.linear(F.relu(F.linear(h, l1, l1b)), l2)

    x = RNG.standard_normal((3, 1, 28, 28)).astype(np.float32)
    path = tmp_path / "lenet.onnx"
    ember.onnx.export(lenet, ember.tensor(x), path, input_names=["image"])
    (got,) = run_onnx(path, {"image": x})
    np.testing.assert_allclose(got, lenet(ember.tensor(x)).numpy(), rtol=1e-4, atol=1e-5)


def test_unsupported_primitive_and_bad_arguments(tmp_path):
    with pytest.raises(NotImplementedError, match="atan2"):
        ember.onnx.export(lambda x: ember.atan2(x, x + 1), (ember.ones(2, 3),), tmp_path / "c.onnx")
    assert not (tmp_path / "c.onnx").exists()  # nothing half-written
    with pytest.raises(ValueError, match="opset"):
        ember.onnx.export(lambda x: x + 1, (ember.ones(2),), tmp_path / "a.onnx", opset_version=13)


@pytest.mark.parametrize("name", ["cnn_batchnorm", "transformer_encoder", "lstm"])
def test_nn_models_match_onnxruntime(tmp_path, name):
    ember.manual_seed(0)
    nn = ember.nn
    if name == "cnn_batchnorm":
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
        model(ember.randn(6, 1, 8, 8))  # training-mode call: running stats move off their init
        x = ember.randn(2, 1, 8, 8)
    elif name == "transformer_encoder":
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True, norm_first=True)
        model, x = nn.TransformerEncoder(layer, 2), ember.randn(2, 5, 32)
    else:
        model, x = nn.LSTM(8, 16, num_layers=2, batch_first=True), ember.randn(3, 4, 8)
    path = tmp_path / f"{name}.onnx"
    ember.onnx.export(model, (x,), path, input_names=["x"])
    assert model.training or name == "lstm"  # export evaluates in eval mode, then restores
    got = run_onnx(path, {"x": x.numpy()})
    model.eval()
    want = model(x)
    flat = [want[0], *want[1]] if name == "lstm" else [want]
    assert len(got) == len(flat)
    for g, w in zip(got, flat):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-4, atol=1e-5)


def _dynamic_model(name):
    ember.manual_seed(0)
    nn = ember.nn
    if name == "mlp":
        return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)), (3, 8)
    if name == "cnn_batchnorm":
        m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
        return m.eval(), (2, 1, 8, 8)
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, 2).eval(), (2, 5, 16)


@pytest.mark.parametrize("name", ["mlp", "cnn_batchnorm", "transformer_encoder"])
def test_dynamic_batch_runs_every_batch_size_in_onnxruntime(tmp_path, name):
    model, shape = _dynamic_model(name)
    path = tmp_path / f"{name}.onnx"
    ember.onnx.export(model, (ember.randn(*shape),), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    m = onnx.load(path)
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert m.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for n in (1, 4, 7):
        x = np.random.default_rng(n).standard_normal((n,) + shape[1:]).astype(np.float32)
        got = run_onnx(path, {"x": x})[0]
        want = model(ember.tensor(x)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_dynamic_batch_recurrent_runs_every_batch_size_in_onnxruntime(tmp_path, kind):
    # The zero initial states are [layers * directions, batch, hidden] constants: exported as an
    # Expand to a shape computed from the input's batch size, not baked at the example size.
    ember.manual_seed(0)
    model = getattr(ember.nn, kind)(6, 5, num_layers=2, bidirectional=True, batch_first=True)
    path = tmp_path / f"{kind}.onnx"
    names = ["y", "h", "c"] if kind == "LSTM" else ["y", "h"]
    ember.onnx.export(model, (ember.randn(3, 4, 6),), path, input_names=["x"], output_names=names,
                      dynamic_axes={"x": {0: "batch"}})
    m = onnx.load(path)
    assert [o.type.tensor_type.shape.dim[0 if o.name == "y" else 1].dim_param
            for o in m.graph.output] == ["batch"] * len(names)
    for n in (1, 2, 9):
        x = np.random.default_rng(n).standard_normal((n, 4, 6)).astype(np.float32)
        got = run_onnx(path, {"x": x})
        out, state = model(ember.tensor(x))
        want = [out, *state] if kind == "LSTM" else [out, state]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape)
            np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_dynamic_axes_errors(tmp_path):
    lin = ember.nn.Linear(3, 2)
    x = ember.randn(4, 3)
    with pytest.raises(NotImplementedError, match="depends on the dynamic axis"):
        # the mean over the batch divides by a constant that changes with it
        ember.onnx.export(lambda t: lin(t).mean(), (x,), tmp_path / "m.onnx",
                          input_names=["x"], dynamic_axes={"x": [0]})
    with pytest.raises(NotImplementedError, match="one symbolic size"):
        ember.onnx.export(lin, (x,), tmp_path / "m.onnx", input_names=["x"],
                          dynamic_axes={"x": {0: "batch", 1: "features"}})
    with pytest.raises(ValueError, match="at least 2"):
        ember.onnx.export(lin, (ember.randn(1, 3),), tmp_path / "m.onnx", input_names=["x"],
                          dynamic_axes={"x": [0]})
    with pytest.raises(ValueError, match="neither an input nor an output"):
        ember.onnx.export(lin, (x,), tmp_path / "m.onnx", input_names=["x"],
                          dynamic_axes={"inp": [0]})
    with pytest.raises(IndexError, match="out of range"):
        ember.onnx.export(lin, (x,), tmp_path / "m.onnx", input_names=["x"],
                          dynamic_axes={"x": [5]})
    assert not (tmp_path / "m.onnx").exists()
