"""cumsum, cumprod, var_mean, std_mean, vector_norm / norm, count_nonzero, aminmax, max/min with
dim, and dtype= on sum/mean/prod against PyTorch: forward over dtypes and dims, gradients,
in-place variants, errors."""
import numpy as np
import pytest
import torch

import ember
from oracle import both, same

RNG = np.random.default_rng(29)
FLOATS = ["float16", "bfloat16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


def grads_match(eo, to, ins, tol=1e-5):
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g).to(eo.dtype))
    to.backward(torch.tensor(g).to(to.dtype))
    for e, t in ins:
        same(e.grad, t.grad, tol)


def tol_of(dtype):
    return {"float16": 5e-3, "bfloat16": 3e-2}.get(dtype, 1e-5)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["bool"] + INTS + FLOATS)
def test_scans_every_dtype(name, dtype):
    x = RNG.integers(0 if dtype in ("bool", "uint8") else -3, 4, (3, 4, 5))
    e, t = both(x, dtype)
    for dim in (0, 1, -1):
        same(getattr(ember, name)(e, dim), getattr(torch, name)(t, dim), tol_of(dtype))
    same(getattr(e.transpose(0, 2), name)(1), getattr(t.transpose(0, 2), name)(1), tol_of(dtype))
    same(getattr(ember, name)(e, 1, dtype=ember.float64), getattr(torch, name)(t, 1, dtype=torch.float64))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans_shapes_in_place_and_errors(name):
    for shape, dim in [((), 0), ((), -1), ((0, 3), 0), ((0, 3), 1), ((7,), 0)]:
        e, t = both(RNG.standard_normal(shape))
        same(getattr(ember, name)(e, dim), getattr(torch, name)(t, dim))
    e, t = both(RNG.standard_normal((3, 4)))
    assert getattr(e, name + "_")(1) is e
    getattr(t, name + "_")(1)
    same(e, t)
    with pytest.raises(IndexError, match=f"ember.{name}.*dimension 2"):
        getattr(ember, name)(e, 2)
    ei, ti = both([1, 2, 3], "int32")
    getattr(ei, name + "_")(0)
    getattr(ti, name + "_")(0)
    same(ei, ti)
    with pytest.raises(NotImplementedError, match=f"ember.{name}.*dtype="):
        getattr(ember, name)(ember.ones(3, requires_grad=True), 0, dtype=ember.float64)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_gradients(dim):
    e, t = both(RNG.standard_normal((3, 4, 2)), requires_grad=True)
    eo, to = ember.cumsum(e, dim), torch.cumsum(t, dim)
    same(eo, to)
    grads_match(eo, to, [(e, t)])


@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_gradients_with_zeros(zeros, dim):
    x = RNG.uniform(0.5, 1.5, (4, 6)) * RNG.choice([-1, 1], (4, 6))
    if zeros:  # one or two zeros in some slices, including at the start and the end
        x[0, 0] = x[1, 3] = x[3, 5] = 0.0
        if zeros == 2:
            x[1, 1] = x[2, 2] = x[0, 2] = x[3, 0] = 0.0
    e, t = both(x, requires_grad=True)
    eo, to = ember.cumprod(e, dim), torch.cumprod(t, dim)
    same(eo, to)
    grads_match(eo, to, [(e, t)])


def test_cumprod_double_backward():
    x = RNG.uniform(0.5, 1.5, (5,))
    e, t = both(x, "float64", requires_grad=True)
    (ge,) = ember.autograd.grad([ember.cumprod(e, 0).sum()], [e], create_graph=True)
    (gt,) = torch.autograd.grad(torch.cumprod(t, 0).sum(), t, create_graph=True)
    same(ge, gt, 1e-10)
    (hh,) = ember.autograd.grad([ge.sum()], [e])
    (ht,) = torch.autograd.grad(gt.sum(), t)
    same(hh, ht, 1e-10)


@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
@pytest.mark.parametrize("dim", [None, 0, (0, 2), -1])
@pytest.mark.parametrize("correction", [0, 1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_mean_std_mean(name, dim, correction, keepdim):
    e, t = both(RNG.standard_normal((3, 4, 5)), requires_grad=True)
    ev, em = getattr(ember, name)(e, dim, correction=correction, keepdim=keepdim)
    tdim = dim if dim is not None else (0, 1, 2)
    tv, tm = getattr(torch, name)(t, tdim, correction=correction, keepdim=keepdim)
    same(ev, tv, 1e-5)
    same(em, tm, 1e-5)
    (ev.sum() + em.sum() * 2).backward()
    (tv.sum() + tm.sum() * 2).backward()
    same(e.grad, t.grad, 1e-4)
    ev, _ = getattr(ember, name)(e.detach(), 1, unbiased=False)
    tv, _ = getattr(torch, name)(t.detach(), 1, unbiased=False)
    same(ev, tv, 1e-5)


ORDS = [2, 1, float("inf"), -float("inf"), 0, 3, 0.5, -1.5]


@pytest.mark.parametrize("ord", ORDS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_vector_norm(ord, dim, keepdim):
    x = RNG.standard_normal((3, 4, 5))
    x[0, 1, :] = 0.0  # a zero slice: norms and gradients at 0 follow PyTorch
    e, t = both(x, requires_grad=True)
    eo = ember.linalg.vector_norm(e, ord, dim, keepdim)
    to = torch.linalg.vector_norm(t, ord, dim, keepdim)
    same(eo, to, 1e-5)
    if ord in (0, 0.5, -1.5):
        return  # PyTorch: no gradient for ord 0, inf / nan at zero for these orders
    grads_match(eo, to, [(e, t)], 1e-4)


@pytest.mark.parametrize("dtype", FLOATS)
def test_norm_dtypes_and_torch_norm(dtype):
    x = RNG.standard_normal((4, 6))
    e, t = both(x, dtype)
    for p in ("fro", 1, 2, float("inf"), 3):
        same(ember.norm(e, p), torch.norm(t, p), tol_of(dtype) * 4)
        same(e.norm(p, dim=1, keepdim=True), t.norm(p, dim=1, keepdim=True), tol_of(dtype) * 4)
    same(ember.linalg.vector_norm(e, dtype=ember.float64), torch.linalg.vector_norm(t, dtype=torch.float64), 1e-6)


def test_norm_errors():
    with pytest.raises(NotImplementedError, match="vector_norm.*int64"):
        ember.linalg.vector_norm(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="inf norm of an empty tensor"):
        ember.linalg.vector_norm(ember.zeros(0), float("inf"))
    with pytest.raises(NotImplementedError, match="nuc"):
        ember.norm(ember.ones(2, 2), "nuc")
    with pytest.raises(TypeError, match="ord must be a number"):
        ember.linalg.vector_norm(ember.ones(2), "fro")
    with pytest.raises(NotImplementedError, match="vector_norm.*int64"):
        ember.linalg.vector_norm(ember.tensor([3, 4]), dtype=ember.float32)
    with pytest.raises(IndexError, match="vector_norm|dimension"):
        ember.linalg.vector_norm(ember.ones(2, 3), dim=2)


@pytest.mark.parametrize("dtype", ["bool"] + INTS + FLOATS)
def test_count_nonzero(dtype):
    x = RNG.integers(0, 3, (3, 4, 5)) * RNG.choice([-1, 1], (3, 4, 5))
    if dtype in ("bool", "uint8"):
        x = np.abs(x)
    e, t = both(x, dtype)
    for dim in (None, 0, (0, 2), -1):
        same(ember.count_nonzero(e, dim), torch.count_nonzero(t, dim))
    same(e.count_nonzero(), t.count_nonzero())
    same(e.transpose(0, 1).count_nonzero(1), t.transpose(0, 1).count_nonzero(1))


@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_aminmax(dtype):
    e, t = both(RNG.integers(0, 50, (3, 4)), dtype)
    for kw in ({}, {"dim": 0}, {"dim": 1, "keepdim": True}):
        emin, emax = ember.aminmax(e, **kw)
        tmin, tmax = torch.aminmax(t, **kw)
        same(emin, tmin)
        same(emax, tmax)
        r = e.aminmax(**kw)
        same(r.min, tmin)
        same(r.max, tmax)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_gradient_goes_to_the_index(name, keepdim):
    x = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 0.0, 2.0, 2.0], [-5.0, -5.0, 4.0, 1.0]])
    if name == "min":
        x = -x
    e, t = both(x, requires_grad=True)
    for dim in (0, 1, -1):
        ev, ei = getattr(ember, name)(e, dim, keepdim)
        tv, ti = getattr(torch, name)(t, dim, keepdim)
        same(ev, tv)
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
        assert ei.dtype == ember.int64
        ev.sum().backward()
        tv.sum().backward()
        same(e.grad, t.grad)
        e.grad = None
        t.grad = None
    v, i = getattr(ember, name)(ember.tensor(3.0), 0)
    assert v.item() == 3.0 and i.item() == 0 and v.shape == ()


@pytest.mark.parametrize("name", ["sum", "mean", "prod"])
@pytest.mark.parametrize("src,to", [("int64", "float64"), ("int32", "int8"), ("float16", "float32"),
                                    ("float32", "float64"), ("bool", "int32")])
def test_reduction_dtype_argument(name, src, to):
    if name == "mean" and to not in FLOATS:
        return
    x = RNG.integers(0 if src == "bool" else -3, 4, (3, 5))
    e, t = both(x, src)
    same(getattr(ember, name)(e, dtype=getattr(ember, to)), getattr(torch, name)(t, dtype=getattr(torch, to)), 1e-6)
    same(getattr(e, name)(1, dtype=getattr(ember, to)), getattr(t, name)(1, dtype=getattr(torch, to)), 1e-6)


def test_norms_and_scans_compile():
    x = ember.tensor(RNG.standard_normal((4, 5)).astype(np.float32))
    fns = [lambda a: ember.linalg.vector_norm(a, dim=1) + ember.norm(a, 1) + ember.norm(a, float("inf"), dim=0).sum(),
           lambda a: ember.var_mean(a, 1)[0] * ember.std_mean(a, 1, correction=0)[1],
           lambda a: ember.max(a, 1).values - ember.min(a, 0, keepdim=True).values.sum()]
    for fn in fns:
        np.testing.assert_allclose(ember.compile(fn)(x).numpy(), fn(x).numpy(), rtol=1e-5, atol=1e-6)
    for name in ("cumsum", "cumprod"):  # they compile too (test_compile_ops2.py in depth)
        fn = lambda a: getattr(ember, name)(a, 1)
        np.testing.assert_allclose(ember.compile(fn)(x).numpy(), fn(x).numpy(), rtol=1e-5, atol=1e-6)
