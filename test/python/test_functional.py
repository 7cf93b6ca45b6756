"""ember.nn.functional against torch.nn.functional: values and gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

RNG = np.random.default_rng(17)


def pair(*shape, scale=1.0, low=None):
    x = (RNG.uniform(low, 1.0, shape) if low is not None else RNG.standard_normal(shape) * scale)
    x = x.astype(np.float32)
    return ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def close(e, t, tol=1e-5):
    np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def check_grads(eo, to, pairs, tol=1e-4):
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    for e, t in pairs:
        close(e.grad, t.grad, tol)


ACTIVATIONS = [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}), ("logsigmoid", {}),
    ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}), ("selu", {}),
    ("celu", {"alpha": 1.5}), ("hardtanh", {"min_val": -0.5, "max_val": 0.8}), ("relu6", {}),
    ("hardsigmoid", {}), ("hardswish", {}),
]


@pytest.mark.parametrize("name,kw", ACTIVATIONS)
def test_activations(name, kw):
    e, t = pair(6, 7, scale=4)
    eo, to = getattr(F, name)(e, **kw), getattr(TF, name)(t, **kw)
    close(eo, to, 2e-5)
    check_grads(eo, to, [(e, t)])


def test_clamp_and_linear():
    e, t = pair(5, 4)
    close(e.clamp(-0.5, 0.5), t.clamp(-0.5, 0.5))
    close(ember.clamp(e, min=0.1), torch.clamp(t, min=0.1))
    (ew, tw), (eb, tb) = pair(3, 4), pair(3)
    eo, to = F.linear(e, ew, eb), TF.linear(t, tw, tb)
    close(eo, to)
    check_grads(eo, to, [(e, t), (ew, tw), (eb, tb)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(reduction):
    (e, t), (et, tt) = pair(4, 5), pair(4, 5)
    for name, kw in [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                     ("huber_loss", {"delta": 0.7})]:
        eo = getattr(F, name)(e, et, reduction=reduction, **kw)
        to = getattr(TF, name)(t, tt, reduction=reduction, **kw)
        close(eo, to)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses(reduction):
    (e, t) = pair(4, 5, low=0.01)
    y = (RNG.uniform(0, 1, (4, 5)) > 0.5).astype(np.float32)
    eo = F.binary_cross_entropy(e, ember.tensor(y), reduction=reduction)
    to = TF.binary_cross_entropy(t, torch.tensor(y), reduction=reduction)
    close(eo, to)
    (el, tl) = pair(4, 5, scale=5)
    eo2 = F.binary_cross_entropy_with_logits(el, ember.tensor(y), reduction=reduction)
    to2 = TF.binary_cross_entropy_with_logits(tl, torch.tensor(y), reduction=reduction)
    close(eo2, to2)
    if reduction != "none":
        eo2.backward()
        to2.backward()
        close(el.grad, tl.grad)


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                {"ignore_index": 2}, {"label_smoothing": 0.1},
                                {"weight": "w"}, {"label_smoothing": 0.2, "ignore_index": 1}])
def test_cross_entropy_and_nll_with_class_indices(kw):
    e, t = pair(6, 4, scale=2)
    target = np.array([0, 2, 1, 3, 2, 1])
    kw = dict(kw)
    if kw.get("weight") == "w":
        w = RNG.uniform(0.5, 2, 4).astype(np.float32)
        ekw, tkw = {"weight": ember.tensor(w)}, {"weight": torch.tensor(w)}
    else:
        ekw = tkw = kw
    eo = F.cross_entropy(e, ember.tensor(target), **ekw)
    to = TF.cross_entropy(t, torch.tensor(target), **tkw)
    close(eo, to)
    check_grads(eo, to, [(e, t)])
    if "label_smoothing" not in kw:
        close(F.nll_loss(F.log_softmax(e, 1), ember.tensor(target), **ekw),
              TF.nll_loss(TF.log_softmax(t, 1), torch.tensor(target), **tkw))


def test_cross_entropy_with_probabilities_and_unbatched():
    e, t = pair(5, 3)
    p = RNG.dirichlet(np.ones(3), 5).astype(np.float32)
    for ls in (0.0, 0.3):
        close(F.cross_entropy(e, ember.tensor(p), label_smoothing=ls),
              TF.cross_entropy(t, torch.tensor(p), label_smoothing=ls))
    e1, t1 = pair(4)
    close(F.cross_entropy(e1, ember.tensor(2)), TF.cross_entropy(t1, torch.tensor(2)))


def test_kl_div():
    e, t = pair(3, 4)
    p = RNG.dirichlet(np.ones(4), 3).astype(np.float32)
    for reduction in ("sum", "none", "mean"):
        close(F.kl_div(F.log_softmax(e, 1), ember.tensor(p), reduction=reduction),
              TF.kl_div(TF.log_softmax(t, 1), torch.tensor(p), reduction=reduction))


def test_layer_norm_embedding_one_hot():
    e, t = pair(2, 3, 8)
    (ew, tw), (eb, tb) = pair(8), pair(8)
    eo, to = F.layer_norm(e, 8, ew, eb), TF.layer_norm(t, (8,), tw, tb)
    close(eo, to, 1e-4)
    check_grads(eo, to, [(e, t), (ew, tw), (eb, tb)])
    (ewt, twt) = pair(10, 4)
    idx = np.array([[1, 3, 3], [0, 9, 1]])
    eo, to = F.embedding(ember.tensor(idx), ewt), TF.embedding(torch.tensor(idx), twt)
    close(eo, to)
    check_grads(eo, to, [(ewt, twt)])  # repeated indices accumulate
    np.testing.assert_array_equal(F.one_hot(ember.tensor([0, 2, 1])).numpy(),
                                  TF.one_hot(torch.tensor([0, 2, 1])).numpy())


def test_dropout():
    ember.manual_seed(3)
    x = ember.ones(100000)
    y = F.dropout(x, 0.3).numpy()
    assert abs((y == 0).mean() - 0.3) < 0.01 and np.allclose(y[y != 0], 1 / 0.7)
    np.testing.assert_array_equal(F.dropout(x, 0.3, training=False).numpy(), x.numpy())


def test_index_select_and_errors():
    e, t = pair(5, 3)
    idx = np.array([4, 0, 4])
    eo, to = ember.index_select(e, 0, ember.tensor(idx)), torch.index_select(t, 0, torch.tensor(idx))
    close(eo, to)
    check_grads(eo, to, [(e, t)])
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 0 with size 5"):
        ember.index_select(e, 0, ember.tensor([7]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(e, e, reduction="avg")
    with pytest.raises(IndexError, match="target values must be in"):
        F.cross_entropy(e, ember.tensor([0, 1, 5, 0, 0]))


def test_compiled_training_step_with_functionals():
    x = ember.tensor(RNG.standard_normal((16, 8)).astype(np.float32))
    y = ember.tensor(RNG.standard_normal((16, 4)).astype(np.float32))
    w = ember.tensor(RNG.standard_normal((4, 8)).astype(np.float32) * 0.3, requires_grad=True)
    b = ember.tensor(np.zeros(4, np.float32), requires_grad=True)

    def step(x, y, w, b):
        h = F.gelu(F.linear(x, w, b))
        loss = F.mse_loss(F.layer_norm(h, 4), y) + F.l1_loss(F.silu(h), y).sqrt()
        gw, gb = ember.autograd.grad(loss, [w, b])
        return loss, w - 0.1 * gw, b - 0.1 * gb

    for got, want in zip(ember.compile(step)(x, y, w, b), step(x, y, w, b)):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_compiled_masks_and_where_based_functionals_match_eager():
    x = ember.tensor(RNG.standard_normal((12, 6)).astype(np.float32))
    p = ember.tensor(RNG.dirichlet(np.ones(4), 12).astype(np.float32))
    w = ember.tensor(RNG.standard_normal((4, 6)).astype(np.float32) * 0.5, requires_grad=True)

    def step(x, p, w):
        h = F.linear(x, w)
        loss = (F.smooth_l1_loss(F.leaky_relu(h, 0.1), p) + F.cross_entropy(h.clamp(-1, 1), p)
                + F.elu(h).sum() * 0.01 + F.softplus(h, 2.0, 1.0).mean() + F.hardswish(h).mean())
        (g,) = ember.autograd.grad(loss, [w])
        return loss, w - 0.1 * g

    for got, want in zip(ember.compile(step)(x, p, w), step(x, p, w)):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_bool_outputs_of_compiled_functions_compile():
    a, b = ember.tensor([1.0, -2.0, 3.0]), ember.tensor([0.0, 0.0, 5.0])
    got = ember.compile(lambda a, b: a > b, fullgraph=True)(a, b)
    assert got.dtype == ember.bool and got.tolist() == [True, False, False]
