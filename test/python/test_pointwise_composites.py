"""Pointwise composites (square, frac, float_power, nan_to_num, lerp, addcmul, addcdiv, clamp with
tensor bounds) and nn.functional's in-place activations against PyTorch: forward over dtypes,
broadcasting, views, gradients, in-place variants and errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from oracle import both, same

RNG = np.random.default_rng(23)
FLOATS = ["float16", "bfloat16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


def grads_match(outs, ins, tol=1e-5):
    eo, to = outs
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g).to(eo.dtype))
    to.backward(torch.tensor(g).to(to.dtype))
    for e, t in ins:
        same(e.grad, t.grad, tol)


def tol_of(dtype):
    return {"float16": 2e-3, "bfloat16": 2e-2}.get(dtype, 1e-6)


@pytest.mark.parametrize("dtype", ["bool"] + INTS + FLOATS)
def test_square(dtype):
    e, t = both(RNG.integers(0 if dtype in ("bool", "uint8") else -5, 6, (3, 4)), dtype)
    same(ember.square(e), torch.square(t))
    same(e.square(), t.square())
    if dtype != "bool":
        same(e.t().square_(), t.t().square_())
    ex, tx = both(RNG.standard_normal((2, 3)), requires_grad=True)
    grads_match((ember.square(ex), torch.square(tx)), [(ex, tx)])


@pytest.mark.parametrize("dtype", FLOATS)
def test_frac_and_float_power(dtype):
    x = np.concatenate([RNG.standard_normal(8) * 10, [np.inf, -np.inf, np.nan, -0.0, 2.5, -2.5]])
    e, t = both(x, dtype)
    same(ember.frac(e), torch.frac(t), tol_of(dtype))
    same(e.frac(), t.frac(), tol_of(dtype))
    same(ember.float_power(e, 2), torch.float_power(t, 2))
    same(ember.float_power(2, e[:8]), torch.float_power(2, t[:8]), 1e-9)
    same(e[:8].abs().float_power(e[:8]), t[:8].abs().float_power(t[:8]), 1e-9)


def test_frac_float_power_gradients_and_errors():
    ex, tx = both(RNG.standard_normal((3, 4)) * 4, requires_grad=True)
    grads_match((ember.frac(ex), torch.frac(tx)), [(ex, tx)])
    with pytest.raises(NotImplementedError, match="ember.frac.*int64"):
        ember.frac(ember.tensor([1, 2]))
    same(ember.float_power(ember.tensor([2, 3]), ember.tensor([3, 2])),
         torch.float_power(torch.tensor([2, 3]), torch.tensor([3, 2])))
    with pytest.raises(NotImplementedError, match="float_power.*differentiable"):
        ember.float_power(ex, 2)
    with ember.no_grad():
        assert ember.float_power(ex, 2).dtype == ember.float64


@pytest.mark.parametrize("dtype", FLOATS + ["int64", "bool"])
def test_nan_to_num(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0, 0.0]) if dtype in FLOATS else np.array([1, 0, 3])
    e, t = both(x, dtype)
    same(ember.nan_to_num(e), torch.nan_to_num(t))
    same(ember.nan_to_num(e, nan=1.0, posinf=100.0, neginf=-7.0), torch.nan_to_num(t, 1.0, 100.0, -7.0), tol_of(dtype))
    same(e.nan_to_num(posinf=3.0), t.nan_to_num(posinf=3.0))
    r = e.nan_to_num_()
    t.nan_to_num_()
    assert r is e
    same(e, t)


def test_nan_to_num_gradient():
    x = np.array([[np.nan, 1.0, np.inf], [-np.inf, 2.0, -3.0]], dtype=np.float32)
    ex, tx = both(x, requires_grad=True)
    grads_match((ember.nan_to_num(ex, 0.5), torch.nan_to_num(tx, 0.5)), [(ex, tx)])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("weight", ["scalar-low", "scalar-high", "tensor"])
def test_lerp(dtype, weight):
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4,))
    (ea, ta), (eb, tb) = both(a, dtype), both(b, dtype)
    if weight == "tensor":
        ew, tw = both(RNG.uniform(-0.5, 1.5, (3, 1)), dtype)
    else:
        ew = tw = 0.3 if weight == "scalar-low" else 0.8
    same(ember.lerp(ea, eb, ew), torch.lerp(ta, tb.expand(3, 4), tw), tol_of(dtype))
    same(ea.t().lerp(eb.expand(3, 4).t(), ew if weight != "tensor" else ew.t()),
         ta.t().lerp(tb.expand(3, 4).t(), tw if weight != "tensor" else tw.t()), tol_of(dtype))
    r = ea.lerp_(eb, ew)
    ta.lerp_(tb, tw)
    assert r is ea
    same(ea, ta, tol_of(dtype))


def test_lerp_gradients_and_errors():
    (ea, ta), (eb, tb) = both(RNG.standard_normal((3, 4)), requires_grad=True), both(RNG.standard_normal((4,)), requires_grad=True)
    ew, tw = both(RNG.uniform(-0.5, 1.5, (3, 1)), requires_grad=True)
    grads_match((ember.lerp(ea, eb, ew), torch.lerp(ta, tb, tw)), [(ea, ta), (eb, tb), (ew, tw)])
    (ea, ta), (eb, tb) = both(RNG.standard_normal((3, 4)), requires_grad=True), both(RNG.standard_normal((4,)), requires_grad=True)
    grads_match((ember.lerp(ea, eb, 0.7), torch.lerp(ta, tb, 0.7)), [(ea, ta), (eb, tb)])
    with pytest.raises(RuntimeError, match="ember.lerp.*float64"):
        ember.lerp(ember.ones(3), ember.ones(3, dtype=ember.float64), 0.5)
    with pytest.raises(NotImplementedError, match="ember.lerp.*int64"):
        ember.lerp(ember.tensor([1, 2]), ember.tensor([3, 4]), 0.5)
    with pytest.raises(ValueError, match="ember.(lerp|sub|mul|add)"):
        ember.lerp(ember.ones(3), ember.ones(2), 0.5)


@pytest.mark.parametrize("dtype", INTS[1:] + FLOATS)
@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv(dtype, name):
    if name == "addcdiv" and dtype in INTS:
        e, t = both([1, 2], dtype)
        with pytest.raises(RuntimeError, match="ember.addcdiv.*integer division"):
            ember.addcdiv(e, e, e)
        return
    lo = 1 if name == "addcdiv" else -4
    a, b, c = RNG.integers(-4, 5, (3, 4)), RNG.integers(-4, 5, (4,)), RNG.integers(lo, 5, (3, 1))
    if name == "addcdiv":
        c = c * RNG.choice([-1, 1], c.shape)
    (ea, ta), (eb, tb), (ec, tc) = both(a, dtype), both(b, dtype), both(c, dtype)
    for value in (1, 2, 0.5) if dtype in FLOATS else (1, 3):
        same(getattr(ember, name)(ea, eb, ec, value=value), getattr(torch, name)(ta, tb, tc, value=value), tol_of(dtype))
    same(getattr(ea.t(), name)(eb[:3], ec.t()), getattr(ta.t(), name)(tb[:3], tc.t()), tol_of(dtype))
    getattr(ea, name + "_")(eb, ec, value=2)
    getattr(ta, name + "_")(tb, tc, value=2)
    same(ea, ta, tol_of(dtype))


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv_gradients(name):
    ins = [both(RNG.standard_normal(s), requires_grad=True) for s in [(3, 4), (4,), (3, 1)]]
    eo = getattr(ember, name)(*[e for e, _ in ins], value=0.5)
    to = getattr(torch, name)(*[t for _, t in ins], value=0.5)
    same(eo, to, 1e-5)
    grads_match((eo, to), ins, 1e-4)


@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_clamp_with_tensor_bounds(dtype):
    x = RNG.integers(0 if dtype == "uint8" else -9, 10, (3, 4))
    lo, hi = RNG.integers(0 if dtype == "uint8" else -5, 1, (4,)), RNG.integers(1, 6, (3, 1))
    (ex, tx), (el, tl), (eh, th) = both(x, dtype), both(lo, dtype), both(hi, dtype)
    same(ember.clamp(ex, el, eh), torch.clamp(tx, tl, th))
    same(ember.clamp(ex, min=el), torch.clamp(tx, min=tl))
    same(ex.clip(max=eh), tx.clip(max=th))
    same(ember.clamp_min(ex, el), torch.clamp_min(tx, tl))
    same(ex.clamp_max(3), tx.clamp_max(3))
    same(ember.clamp(ex, -1, 2), torch.clamp(tx, -1 if dtype != "uint8" else 0, 2))
    same(ember.clamp(ex, 0.5), torch.clamp(tx, 0.5))  # a float bound promotes integers
    r = ex.clamp_(el, eh)
    tx.clamp_(tl, th)
    assert r is ex
    same(ex, tx)


def test_clamp_gradients_nan_and_errors():
    (ex, tx), (el, tl), (eh, th) = [both(RNG.standard_normal(s), requires_grad=True) for s in [(4, 5), (5,), (4, 1)]]
    el.detach().numpy()[:] -= 1.0
    tl.detach()[:] -= 1.0
    eh.detach().numpy()[:] += 1.0
    th.detach()[:] += 1.0
    grads_match((ember.clamp(ex, el, eh), torch.clamp(tx, tl, th)), [(ex, tx), (el, tl), (eh, th)])
    e, t = both([np.nan, -3.0, 3.0])
    same(ember.clamp(e, -1, 1), torch.clamp(t, -1, 1))
    with pytest.raises(RuntimeError, match="ember.clamp.*min.*max"):
        ember.clamp(e)


ACTIVATIONS = [("relu", {}), ("elu", {"alpha": 0.7}), ("selu", {}), ("celu", {"alpha": 1.5}),
               ("leaky_relu", {"negative_slope": 0.2}), ("hardtanh", {"min_val": -0.5, "max_val": 0.8}),
               ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}), ("silu", {}), ("mish", {})]


@pytest.mark.parametrize("name,kw", ACTIVATIONS)
def test_inplace_activations(name, kw):
    x = RNG.standard_normal((4, 5)) * 4
    e, t = both(x)
    r = getattr(F, name)(e, inplace=True, **kw)
    getattr(TF, name)(t, inplace=True, **kw)
    assert r is e
    same(e, t, 1e-5)
    if hasattr(TF, name + "_"):
        e, t = both(x)
        assert getattr(F, name + "_")(e, **kw) is e
        getattr(TF, name + "_")(t, **kw)
        same(e, t, 1e-5)
    e64, t64 = both(x, "float64")
    same(getattr(F, name)(e64, **kw), getattr(TF, name)(t64, **kw), 1e-12)


@pytest.mark.parametrize("name", ["silu", "elu", "gelu", "softplus", "logsigmoid", "leaky_relu",
                                  "mish", "hardswish"])
def test_activations_reject_integers_like_torch(name):
    with pytest.raises(NotImplementedError, match=f"ember.nn.functional.{name}.*int64"):
        getattr(F, name)(ember.tensor([1, 2]))


def test_hardtanh_and_relu6_keep_integer_dtypes():
    e, t = both([-8, -1, 0, 3, 9], "int64")
    same(F.hardtanh(e), TF.hardtanh(t))
    same(F.relu6(e), TF.relu6(t))


def test_inplace_activation_on_leaf_requiring_grad_is_refused():
    e = ember.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        F.relu(e, inplace=True)


def test_composites_compile_and_match_eager():
    x = ember.tensor(RNG.standard_normal((4, 5)).astype(np.float32))
    y = ember.tensor(RNG.standard_normal((5,)).astype(np.float32))
    fns = [lambda a, b: ember.clamp(a, b - 1.0, b + 1.0) + ember.square(a) - ember.frac(a * 3),
           lambda a, b: ember.lerp(a, b, ember.sigmoid(a)) + ember.lerp(a, b, 0.3),
           lambda a, b: ember.addcmul(a, a, b, value=0.5) + ember.addcdiv(a, a, ember.exp(b), value=2),
           lambda a, b: ember.nan_to_num(ember.log(a), nan=-1.0) + ember.isposinf(a / 0.0) * 1.0]
    for fn in fns:
        np.testing.assert_allclose(ember.compile(fn)(x, y).numpy(), fn(x, y).numpy(), rtol=1e-6, atol=1e-6)
