"""Reductions and the composites built on them (mean, var, std, logsumexp, softmax,
log_softmax, all, any) against PyTorch, forward and backward, eager and compiled."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(11)


def pair(shape, dtype=np.float32):
    x = RNG.standard_normal(shape).astype(dtype)
    return ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def close(e, t, tol=1e-5):
    np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=tol, atol=tol)


DIMS = [None, 0, -1, (0, 2), (1,)]


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod", "logsumexp"])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_reduction_forward_and_grad(name, dim, keepdim):
    e, t = pair((3, 4, 5))
    if name == "logsumexp" and dim is None:
        dim = (0, 1, 2)
    tdim = dim
    if name in ("amax", "amin") and dim is None:
        tdim = ()
    if name == "prod":
        eo = e.prod(dim, keepdim) if dim is None or isinstance(dim, int) else None
        if eo is None:
            pytest.skip("torch.prod takes one dim")
        to = t.prod() if dim is None else t.prod(dim, keepdim=keepdim)
        if dim is None and keepdim:
            pytest.skip("torch.prod() has no keepdim without dim")
    elif dim is None and name in ("sum", "mean"):
        eo, to = getattr(e, name)(), getattr(t, name)()
        if keepdim:
            eo, to = getattr(e, name)(None, True), getattr(t, name)((0, 1, 2), keepdim=True)
    else:
        eo = getattr(ember, name)(e, dim, keepdim)
        to = getattr(torch, name)(t, tdim, keepdim=keepdim)
    close(eo, to, 1e-5)
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    close(e.grad, t.grad, 1e-4)


@pytest.mark.parametrize("dim", [None, 1])
@pytest.mark.parametrize("correction", [0, 1])
def test_var_std(dim, correction):
    e, t = pair((4, 6))
    for name in ("var", "std"):
        eo = getattr(ember, name)(e, dim, correction=correction)
        to = getattr(torch, name)(t, dim, correction=correction)
        close(eo, to, 1e-5)
    ember.var(e, dim, correction=correction).sum().backward()
    torch.var(t, dim, correction=correction).sum().backward()
    close(e.grad, t.grad, 1e-4)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_family(name, dim):
    e, t = pair((5, 7))
    e2 = ember.tensor(e.numpy() * 30, requires_grad=True)  # large logits stay finite
    t2 = torch.tensor(t.detach().numpy() * 30, requires_grad=True)
    for ex, tx in ((e, t), (e2, t2)):
        eo, to = getattr(ember, name)(ex, dim), getattr(torch, name)(tx, dim)
        close(eo, to, 1e-5)
        g = RNG.standard_normal((5, 7)).astype(np.float32)
        eo.backward(ember.tensor(g))
        to.backward(torch.tensor(g))
        close(ex.grad, tx.grad, 1e-4)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_arg_reductions(name, dim, keepdim):
    x = RNG.integers(0, 4, (5, 6)).astype(np.float32)  # ties: the first index wins
    e = getattr(ember, name)(ember.tensor(x), dim, keepdim)
    t = getattr(torch, name)(torch.tensor(x), dim, keepdim)
    assert e.dtype == ember.int64
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_max_min_values_and_indices():
    x = RNG.standard_normal((4, 5)).astype(np.float32)
    e, t = ember.max(ember.tensor(x), 1), torch.max(torch.tensor(x), 1)
    np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
    np.testing.assert_array_equal(e.indices.numpy(), t.indices.numpy())
    assert ember.min(ember.tensor(x)).item() == torch.min(torch.tensor(x)).item()
    np.testing.assert_array_equal(ember.max(ember.tensor(x), ember.tensor(x[0])).numpy(),
                                  torch.max(torch.tensor(x), torch.tensor(x[0])).numpy())


def test_amax_gradient_splits_between_ties():
    e = ember.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    t = torch.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    ember.amax(e).backward()
    torch.amax(t).backward()
    close(e.grad, t.grad)


def test_nan_in_reductions():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    for name in ("amax", "amin"):
        np.testing.assert_array_equal(getattr(ember, name)(ember.tensor(x), 1).numpy(),
                                      getattr(torch, name)(torch.tensor(x), 1).numpy())
    np.testing.assert_array_equal(ember.argmax(ember.tensor(x), 1).numpy(),
                                  torch.argmax(torch.tensor(x), 1).numpy())


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.float64])
def test_integer_and_bool_reductions(dtype):
    x = RNG.integers(0, 3, (3, 4)).astype(dtype)
    for name in ("sum", "prod", "amax", "amin", "all", "any"):
        f = getattr(ember, name)
        tf = getattr(torch, name)
        if name in ("amax", "amin") and dtype == np.bool_:
            continue
        e, t = f(ember.tensor(x), 1), tf(torch.tensor(x), 1)
        assert repr(e.dtype) == repr(t.dtype).replace("torch", "ember"), name
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert ember.all(ember.tensor(x)).item() == torch.all(torch.tensor(x)).item()


def test_reduction_errors():
    with pytest.raises(ValueError, match="ember.amax: cannot reduce a tensor with no elements"):
        ember.amax(ember.ones(0, 3))
    with pytest.raises(IndexError, match="ember.argmax: dimension 2 is out of range"):
        ember.argmax(ember.ones(2, 3), 2)
    with pytest.raises(TypeError, match="mean needs a floating point input"):
        ember.mean(ember.tensor([1, 2]))


def test_compiled_reductions_and_composites_match_eager():
    x = ember.tensor(RNG.standard_normal((6, 9)).astype(np.float32))
    fns = [lambda a: ember.softmax(a, 1), lambda a: ember.log_softmax(a, 0),
           lambda a: ember.mean(a, 1) + ember.var(a, 0).sum(), lambda a: ember.logsumexp(a, 1),
           lambda a: ember.amax(a, 0) - ember.amin(a, 0) + ember.std(a)]
    for fn in fns:
        np.testing.assert_allclose(ember.compile(fn)(x).numpy(), fn(x).numpy(), rtol=1e-5, atol=1e-6)


def test_compiled_softmax_training_step_matches_eager():
    x = ember.tensor(RNG.standard_normal((8, 5)).astype(np.float32))
    w = ember.tensor(RNG.standard_normal((5, 4)).astype(np.float32), requires_grad=True)

    def step(x, w):
        loss = -(ember.log_softmax(x @ w, 1) * 0.25).sum()
        (g,) = ember.autograd.grad(loss, w)
        return loss, w - 0.1 * g

    got, want = ember.compile(step)(x, w), step(x, w)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_prod_compiles():  # (test_compile_ops2.py covers it in depth)
    a = ember.tensor(np.arange(1, 7, dtype=np.float32).reshape(2, 3))
    fn = lambda a: ember.prod(a, 0)
    np.testing.assert_array_equal(ember.compile(fn)(a).numpy(), [4, 10, 18])


def test_logsumexp_with_infinite_entries_follows_torch():
    # An infinite max was subtracted from itself (inf - inf): logsumexp([inf, 1]) was NaN.
    import torch as _t
    inf = float("inf")
    for v in ([inf, 1.0], [-inf, -inf], [1.0, 2.0], [-inf, 3.0], [[inf, 1.0], [2.0, 3.0]]):
        for keepdim in (False, True):
            got = ember.logsumexp(ember.tensor(v), -1, keepdim=keepdim)
            want = _t.logsumexp(_t.tensor(v), -1, keepdim=keepdim)
            assert got.shape == tuple(want.shape)
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_round_with_decimals_softmax_dtype_and_empty_logsumexp_follow_torch():
    import torch as _t
    v = [1.2345, -2.5555, 0.125, 1e3 + 0.5]
    for d in (0, 1, 2, -1):
        np.testing.assert_array_equal(ember.tensor(v).round(decimals=d).numpy(),
                                      _t.tensor(v).round(decimals=d).numpy())
    assert ember.round(ember.tensor([1, 2])).dtype == ember.int64
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    for fe, ft in ((lambda t: t.softmax(1, dtype=ember.float64), lambda t: t.softmax(1, dtype=_t.float64)),
                   (lambda t: ember.nn.functional.log_softmax(t, dim=1, dtype=ember.float64),
                    lambda t: _t.nn.functional.log_softmax(t, dim=1, dtype=_t.float64))):
        got, want = fe(ember.tensor(x)), ft(_t.tensor(x))
        assert got.dtype == ember.float64
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    # the log of an empty sum is -inf (amax of nothing raised)
    for shape, dim in (((0,), 0), ((2, 0), 1), ((0, 3), 0)):
        got, want = ember.zeros(*shape).logsumexp(dim), _t.zeros(*shape).logsumexp(dim)
        assert got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
