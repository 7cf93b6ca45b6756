"""The C++ layers, nn::init and nn::utils against PyTorch, through
test/programs/cpp_nn_check.cpp: the torch module's state dict is loaded into the C++ module
(strict, so the parameter names and shapes agree), both run the same inputs, and the outputs,
the inputs' gradients and every parameter's gradient (of sum(out * gy)) must match."""
import math
import os
import subprocess

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import ember

BUILD = os.path.abspath(os.path.join(os.path.dirname(ember.__file__), "..", ".."))
PROGRAM = os.path.join(BUILD, "test", "ember_cpp_nn_check")
pytestmark = pytest.mark.skipif(not os.path.exists(PROGRAM),
                                reason="ember_cpp_nn_check is built with the tests")


def run(case, d, expect_fail=False):
    r = subprocess.run([PROGRAM, case, str(d)], capture_output=True, text=True, timeout=120)
    if expect_fail:
        assert r.returncode == 1, r.stderr
        return r.stderr
    assert r.returncode == 0, r.stderr
    return load_file(str(d / "out.safetensors"))


def check(tmp_path, case, module, inputs, forward=None, rtol=1e-5, atol=1e-5, train=None,
          extra=None):
    """Runs `case` in C++ with module's state dict and the inputs; compares with torch."""
    torch.manual_seed(1)
    forward = forward or (lambda m, x: {"y": m(x["x"])})
    files = {f"state.{k}": v.detach().contiguous().clone() for k, v in module.state_dict().items()}
    leaves = {}
    for k, v in inputs.items():
        files[f"in.{k}"] = v.contiguous()
        leaves[k] = v.clone().requires_grad_(v.is_floating_point())
    if train is not None:
        files["train"] = torch.tensor(float(train))
        module.train(train)
    files.update(extra or {})
    outs = forward(module, leaves)
    total = 0
    for k, y in outs.items():
        if y.is_floating_point() and y.requires_grad:
            gy = torch.randn(y.shape)
            files[f"gy.{k}"] = gy
            total = total + (y * gy).sum()
    save_file(files, str(tmp_path / "in.safetensors"))
    if torch.is_tensor(total):
        total.backward()
    got = run(case, tmp_path)
    for k, y in outs.items():
        np.testing.assert_allclose(got[f"out.{k}"].numpy(), y.detach().numpy(), rtol=rtol,
                                   atol=atol, err_msg=f"{case}: output {k}")
    for k, x in leaves.items():
        if x.grad is not None:
            np.testing.assert_allclose(got[f"grad.in.{k}"].numpy(), x.grad.numpy(), rtol=rtol,
                                       atol=atol, err_msg=f"{case}: grad of input {k}")
    for k, p in module.named_parameters():
        if p.grad is not None:
            np.testing.assert_allclose(got[f"grad.{k}"].numpy(), p.grad.numpy(), rtol=rtol,
                                       atol=atol, err_msg=f"{case}: grad of {k}")
    for k, b in module.named_buffers():
        np.testing.assert_allclose(got[f"buffer.{k}"].numpy(), b.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"{case}: buffer {k}")
    return got


def randn(*shape):
    return torch.randn(*shape)


LAYERS = [
    ("groupnorm", lambda: torch.nn.GroupNorm(3, 6), {"x": (2, 6, 4, 4)}),
    ("groupnorm_noaffine", lambda: torch.nn.GroupNorm(2, 4, 1e-3, affine=False), {"x": (3, 4, 5)}),
    ("conv1d", lambda: torch.nn.Conv1d(4, 6, 3, 2, 1, 1, 2), {"x": (2, 4, 9)}),
    ("conv1d_dilated_nobias", lambda: torch.nn.Conv1d(3, 5, 3, 1, 2, 2, 1, bias=False),
     {"x": (2, 3, 10)}),
    ("conv2d_groups_dilation", lambda: torch.nn.Conv2d(4, 6, 3, 1, 2, 2, 2), {"x": (2, 4, 7, 6)}),
    ("convtranspose2d", lambda: torch.nn.ConvTranspose2d(4, 6, 3, 2, 1, 1, 2), {"x": (2, 4, 5, 5)}),
    ("convtranspose2d_dilated",
     lambda: torch.nn.ConvTranspose2d(3, 2, 3, 1, 0, 0, 1, True, 2), {"x": (1, 3, 4, 5)}),
    ("maxpool2d_dilated", lambda: torch.nn.MaxPool2d(2, 1, 0, 2), {"x": (2, 3, 6, 6)}),
    ("unflatten", lambda: torch.nn.Unflatten(1, (2, -1)), {"x": (3, 8, 2)}),
    ("unflatten_last", lambda: torch.nn.Unflatten(-1, (3, 2)), {"x": (2, 6)}),
]


@pytest.mark.parametrize("case,make,shapes", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(tmp_path, case, make, shapes):
    torch.manual_seed(0)
    module = make()
    with torch.no_grad():  # non-trivial affine parameters
        for p in module.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    check(tmp_path, case, module, {k: randn(*s) for k, s in shapes.items()})


def test_maxpool2d_with_padding_ceil_mode_and_indices(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.MaxPool2d(3, 2, 1, 1, return_indices=True, ceil_mode=True)
    got = check(tmp_path, "maxpool2d", m, {"x": randn(2, 3, 8, 7)},
                forward=lambda m, x: dict(zip(("y", "indices"), m(x["x"]))))
    assert got["out.indices"].dtype == torch.int64


class TorchDictNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleDict({"enc": torch.nn.Linear(4, 3),
                                           "dec": torch.nn.Linear(3, 2)})
        self.scales = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(3) * 1.5),
                                              torch.nn.Parameter(torch.ones(2) * 0.5)])

    def forward(self, x):
        h = torch.relu(self.layers["enc"](x) * self.scales[0])
        return self.layers["dec"](h) * self.scales[1]


def test_module_dict_and_parameter_list_match_torchs_names_and_math(tmp_path):
    torch.manual_seed(0)
    check(tmp_path, "moduledict", TorchDictNet(), {"x": randn(5, 4)})


def _rnn(module, lstm=False):
    def forward(m, i):
        if lstm:
            state = (i["h0"], i["c0"]) if "h0" in i else None
            y, (h, c) = m(i["x"], state)
            return {"y": y, "h": h, "c": c}
        y, h = m(i["x"], i.get("h0"))
        return {"y": y, "h": h}
    return forward


RECURRENT = [
    ("rnn_tanh", lambda: torch.nn.RNN(4, 5, 2), False, {"x": (6, 3, 4), "h0": (2, 3, 5)}),
    ("rnn_relu_bidir_batchfirst",
     lambda: torch.nn.RNN(4, 5, 1, "relu", True, True, 0.0, True), False, {"x": (3, 6, 4)}),
    ("lstm_bidir_2layers", lambda: torch.nn.LSTM(4, 5, 2, True, False, 0.0, True), True,
     {"x": (6, 3, 4), "h0": (4, 3, 5), "c0": (4, 3, 5)}),
    ("lstm_batchfirst_nobias", lambda: torch.nn.LSTM(3, 4, 1, False, True), True,
     {"x": (2, 5, 3)}),
    ("lstm_unbatched", lambda: torch.nn.LSTM(3, 4), True,
     {"x": (5, 3), "h0": (1, 4), "c0": (1, 4)}),
    ("gru_bidir_2layers_batchfirst", lambda: torch.nn.GRU(4, 5, 2, True, True, 0.0, True), False,
     {"x": (3, 6, 4), "h0": (4, 3, 5)}),
    ("gru_unbatched", lambda: torch.nn.GRU(3, 4, 1, False), False, {"x": (7, 3)}),
]


@pytest.mark.parametrize("case,make,lstm,shapes", RECURRENT, ids=[c[0] for c in RECURRENT])
def test_recurrent_layer_matches_torch(tmp_path, case, make, lstm, shapes):
    torch.manual_seed(0)
    check(tmp_path, case, make(), {k: randn(*s) for k, s in shapes.items()},
          forward=_rnn(None, lstm), rtol=1e-4, atol=1e-5)


def _mha(average):
    def forward(m, i):
        y, w = m(i["q"], i["k"], i["v"], key_padding_mask=i.get("kpm"), need_weights=True,
                 attn_mask=i.get("mask"), average_attn_weights=average)
        return {"y": y, "weights": w}
    return forward


def test_multihead_attention_matches_torch(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.MultiheadAttention(8, 2)
    with torch.no_grad():
        m.in_proj_bias.normal_(0, 0.1)
        m.out_proj.bias.normal_(0, 0.1)
    kpm = torch.zeros(3, 7, dtype=torch.bool)
    kpm[0, 5:] = True
    kpm[2, 0] = True
    check(tmp_path, "mha", m, {"q": randn(5, 3, 8), "k": randn(7, 3, 8), "v": randn(7, 3, 8),
                               "kpm": kpm, "mask": randn(5, 7) * 0.5},
          forward=_mha(True), rtol=1e-4, atol=1e-5)


def test_multihead_attention_batch_first_kdim_vdim_per_head_weights(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.MultiheadAttention(8, 4, 0.0, True, kdim=6, vdim=5, batch_first=True)
    causal = torch.ones(5, 7, dtype=torch.bool).triu(3)
    got = check(tmp_path, "mha_batchfirst_kvdim", m,
                {"q": randn(3, 5, 8), "k": randn(3, 7, 6), "v": randn(3, 7, 5), "mask": causal},
                forward=_mha(False), rtol=1e-4, atol=1e-5)
    assert list(got["out.weights"].shape) == [3, 4, 5, 7]
    assert sorted(k for k in got if k.startswith("grad.") and "proj_weight" in k) == [
        "grad.k_proj_weight", "grad.q_proj_weight", "grad.v_proj_weight"]


def test_multihead_attention_unbatched_without_bias(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.MultiheadAttention(6, 3, bias=False)
    x = randn(5, 6)
    check(tmp_path, "mha_unbatched_nobias", m, {"q": x, "k": x.clone(), "v": x.clone()},
          forward=_mha(True), rtol=1e-4, atol=1e-5)


def _encoder(m, i):
    return {"y": m(i["x"], i.get("mask"), i.get("kpm"))}


def test_transformer_encoder_layer_matches_torch(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0)
    kpm = torch.zeros(3, 5, dtype=torch.bool)
    kpm[1, 3:] = True
    check(tmp_path, "encoder_layer", m, {"x": randn(5, 3, 8), "kpm": kpm}, forward=_encoder,
          rtol=1e-4, atol=1e-5, train=True)


def test_transformer_encoder_layer_gelu_norm_first_batch_first(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, "gelu", 1e-5, batch_first=True,
                                         norm_first=True)
    mask = torch.ones(5, 5, dtype=torch.bool).triu(1)
    check(tmp_path, "encoder_layer_gelu_normfirst_batchfirst", m,
          {"x": randn(3, 5, 8), "mask": mask}, forward=_encoder, rtol=1e-4, atol=1e-5,
          train=True)


def test_transformer_encoder_matches_torch(tmp_path):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, "gelu", 1e-5, batch_first=True,
                                             norm_first=True)
    m = torch.nn.TransformerEncoder(layer, 2, torch.nn.LayerNorm(8),
                                    enable_nested_tensor=False)
    with torch.no_grad():  # the two layers differ
        for p in m.layers[1].parameters():
            p.add_(torch.randn_like(p) * 0.05)
    check(tmp_path, "encoder", m, {"x": randn(3, 5, 8)}, forward=_encoder, rtol=1e-4,
          atol=1e-5, train=True)


def _decoder(m, i):
    return {"y": m(i["x"], i["memory"], tgt_mask=i.get("mask"), memory_mask=i.get("memory_mask"),
                   tgt_key_padding_mask=i.get("kpm"),
                   memory_key_padding_mask=i.get("memory_kpm"))}


def test_transformer_decoder_layer_matches_torch(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0)
    causal = torch.ones(4, 4, dtype=torch.bool).triu(1)
    memory_kpm = torch.zeros(3, 6, dtype=torch.bool)
    memory_kpm[2, 4:] = True
    check(tmp_path, "decoder_layer", m,
          {"x": randn(4, 3, 8), "memory": randn(6, 3, 8), "mask": causal,
           "memory_kpm": memory_kpm}, forward=_decoder, rtol=1e-4, atol=1e-5, train=True)


def test_transformer_decoder_matches_torch(tmp_path):
    torch.manual_seed(0)
    layer = torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0, "gelu", 1e-5, batch_first=True,
                                             norm_first=True)
    m = torch.nn.TransformerDecoder(layer, 2, torch.nn.LayerNorm(8))
    with torch.no_grad():
        for p in m.layers[0].parameters():
            p.add_(torch.randn_like(p) * 0.05)
    check(tmp_path, "decoder", m,
          {"x": randn(3, 4, 8), "memory": randn(3, 6, 8), "memory_mask": randn(4, 6) * 0.3},
          forward=_decoder, rtol=1e-4, atol=1e-5, train=True)


def _probs(*shape):
    return torch.rand(*shape) * 0.9 + 0.05


LOSSES = [
    ("smoothl1", lambda: torch.nn.SmoothL1Loss(beta=0.5), lambda: randn(4, 5),
     lambda: randn(4, 5)),
    ("huber", lambda: torch.nn.HuberLoss(reduction="sum", delta=0.7), lambda: randn(4, 5), lambda: randn(4, 5)),
    ("bce", lambda: torch.nn.BCELoss(torch.tensor([0.5, 2.0, 1.0])), lambda: _probs(4, 3),
     lambda: torch.rand(4, 3)),
    ("bce_none", lambda: torch.nn.BCELoss(reduction="none"), lambda: _probs(6),
     lambda: (torch.rand(6) > 0.5).float()),
    ("kldiv_batchmean", lambda: torch.nn.KLDivLoss(reduction="batchmean"),
     lambda: torch.log_softmax(randn(3, 5), 1), lambda: torch.softmax(randn(3, 5), 1)),
    ("kldiv_logtarget", lambda: torch.nn.KLDivLoss(reduction="none", log_target=True),
     lambda: torch.log_softmax(randn(3, 5), 1), lambda: torch.log_softmax(randn(3, 5), 1)),
]


@pytest.mark.parametrize("case,make,x,target", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_matches_torch(tmp_path, case, make, x, target):
    torch.manual_seed(0)
    check(tmp_path, case, make(), {"x": x(), "target": target()},
          forward=lambda m, i: {"y": m(i["x"], i["target"])})


def test_init_follows_torchs_distributions(tmp_path):
    got = run("init", tmp_path)
    torch.manual_seed(0)
    I = torch.nn.init

    def like(name, fn, *shape):
        return fn(torch.empty(*shape))

    # Bounded draws stay inside torch's bound and fill it; normal draws have torch's std.
    cases = {
        "uniform": lambda: I.uniform_(torch.empty(1000), -0.5, 1.5),
        "xavier_uniform": lambda: I.xavier_uniform_(torch.empty(64, 32, 3, 3), gain=2.0),
        "kaiming_uniform": lambda: I.kaiming_uniform_(torch.empty(128, 64, 3), a=0.1,
                                                      mode="fan_out", nonlinearity="relu"),
        "kaiming_uniform_default": lambda: I.kaiming_uniform_(torch.empty(100, 200)),
    }
    for name, fn in cases.items():
        t, e = fn(), got[name]
        assert e.shape == t.shape, name
        lo, hi = {"uniform": (-0.5, 1.5)}.get(name, (None, None))
        if lo is None:
            fan_in, fan_out = I._calculate_fan_in_and_fan_out(t)
            if name == "xavier_uniform":
                hi = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
            elif name == "kaiming_uniform":
                hi = math.sqrt(2.0) * math.sqrt(3.0 / fan_out)
            else:
                hi = math.sqrt(2.0) * math.sqrt(3.0 / fan_in)  # a=0, leaky_relu
            lo = -hi
        assert e.min() >= lo and e.max() <= hi, name
        assert t.min() >= lo and t.max() <= hi, name
        span = hi - lo
        assert e.min() < lo + 0.02 * span and e.max() > hi - 0.02 * span, name
        assert abs(e.std().item() - t.std().item()) < 0.05 * t.std().item(), name
    normals = {
        "normal": lambda: I.normal_(torch.empty(4000), 2.0, 0.5),
        "xavier_normal": lambda: I.xavier_normal_(torch.empty(256, 128)),
        "kaiming_normal": lambda: I.kaiming_normal_(torch.empty(96, 48, 2, 2), a=0.2),
        "trunc_normal": lambda: I.trunc_normal_(torch.empty(4000), 0.5, 1.0, -1.0, 1.5),
    }
    for name, fn in normals.items():
        t, e = fn(), got[name]
        assert e.shape == t.shape, name
        assert abs(e.std().item() - t.std().item()) < 0.06 * t.std().item(), name
        assert abs(e.mean().item() - t.mean().item()) < 0.1 * t.std().item(), name
    assert got["trunc_normal"].min() >= -1.0 and got["trunc_normal"].max() <= 1.5
    assert torch.equal(got["constant"], torch.full((3, 4), 0.25))
    assert torch.equal(got["zeros"], torch.zeros(5))
    assert torch.equal(got["ones"], torch.ones(2, 2))
    assert torch.equal(got["eye"], I.eye_(torch.empty(3, 5)))
    tall = got["orthogonal_tall"].reshape(30, 8)
    np.testing.assert_allclose((tall.T @ tall).numpy(), 2.25 * np.eye(8), atol=1e-5)
    wide = got["orthogonal_wide"]
    np.testing.assert_allclose((wide @ wide.T).numpy(), np.eye(5), atol=1e-5)
    want = [I.calculate_gain(n) for n in
            ("linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")]
    want.append(I.calculate_gain("leaky_relu", 0.3))
    np.testing.assert_allclose(got["gains"].numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_matches_torch(tmp_path, norm_type):
    torch.manual_seed(0)
    grads = [torch.randn(3, 4), torch.randn(5), torch.randn(2, 2, 2) * 3]
    for max_norm in (0.5, 1e3):  # clipped, and left alone (scaled by 1)
        files = {f"in.{i}": g for i, g in enumerate(grads)}
        files["max_norm"] = torch.tensor(max_norm)
        files["norm_type"] = torch.tensor(norm_type)
        save_file(files, str(tmp_path / "in.safetensors"))
        got = run("clip", tmp_path)
        ps = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps + [torch.zeros(2, requires_grad=True)],
                                               max_norm, norm_type)
        assert got["total"].item() == pytest.approx(total.item(), rel=1e-5)
        for i, p in enumerate(ps):
            np.testing.assert_allclose(got[f"grad.{i}"].numpy(), p.grad.numpy(), rtol=1e-5,
                                       atol=1e-6)


def test_clip_grad_value_matches_torch(tmp_path):
    torch.manual_seed(0)
    grads = [torch.randn(3, 4) * 2, torch.randn(6)]
    files = {f"in.{i}": g for i, g in enumerate(grads)}
    files.update(max_norm=torch.tensor(1e9), norm_type=torch.tensor(2.0),
                 value=torch.tensor(0.3))
    save_file(files, str(tmp_path / "in.safetensors"))
    got = run("clip", tmp_path)
    ps = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(ps, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(ps, 0.3)
    for i, p in enumerate(ps):
        np.testing.assert_allclose(got[f"grad.{i}"].numpy(), p.grad.numpy(), rtol=1e-5)


def test_a_torch_state_dict_with_other_names_or_shapes_is_refused(tmp_path):
    # A GroupNorm(3, 6) state dict into the C++ Conv1d: strict loading names the keys.
    m = torch.nn.GroupNorm(3, 6)
    files = {f"state.{k}": v.clone() for k, v in m.state_dict().items()}
    files["in.x"] = torch.randn(2, 4, 9)
    save_file(files, str(tmp_path / "in.safetensors"))
    err = run("conv1d", tmp_path, expect_fail=True)
    assert "size mismatch for weight" in err or "Missing key" in err or "missing" in err, err
