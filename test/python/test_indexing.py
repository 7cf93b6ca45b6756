"""Advanced indexing against PyTorch: __getitem__ with integer tensors / lists / arrays and
boolean masks mixed with ints, slices, None and Ellipsis (values and gradients, contiguous and
not), __setitem__ and index_put / index_put_ (with accumulate), and their errors."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(11)
MASK0 = np.array([True, False, True])
MASK12 = RNG.standard_normal((4, 5)) > 0
MASK_ALL = RNG.standard_normal((3, 4, 5)) > 0


def T(m, a, dtype=None):
    t = m.tensor(np.asarray(a))
    return t if dtype is None else t.to(getattr(m, dtype))


# Each index is built per framework (tensors must be that framework's).
INDEXES = {
    "list": lambda m: [0, 2],
    "tensor_dup": lambda m: T(m, [2, 0, 2]),
    "tensor_2d": lambda m: T(m, [[0, 1], [2, 2]]),
    "negative": lambda m: T(m, [-1, 0, -3]),
    "int32": lambda m: T(m, [1, 2], "int32"),
    "numpy": lambda m: np.array([1, 0]),
    "slice_then_list": lambda m: (slice(None), [0, 3]),
    "two_adjacent": lambda m: ([0, 2], [1, 3]),
    "two_adjacent_mid": lambda m: (slice(None), [0, 2], [1, 3]),
    "three": lambda m: ([0, 2], [1, 3], [4, 0]),
    "non_adjacent": lambda m: ([0, 2], slice(None), [1, 3]),
    "ellipsis": lambda m: (Ellipsis, [0, 4]),
    "none_first": lambda m: (None, [1, 0]),
    "none_after": lambda m: ([1, 0], None),
    "none_between": lambda m: ([0, 1], None, [1, 2]),
    "int_and_list": lambda m: (0, slice(None), [1, 2]),
    "list_and_int": lambda m: ([1, 0], 2),
    "broadcast": lambda m: (slice(1, 3), T(m, [[0], [2]]), T(m, [1, 3, 4])),
    "step_slice": lambda m: (slice(None, None, 2), [3, 1]),
    "mask_all": lambda m: T(m, MASK_ALL),
    "mask_dim0": lambda m: T(m, MASK0),
    "mask_dims12": lambda m: (slice(None), T(m, MASK12)),
    "mask_and_list": lambda m: (T(m, MASK0), [1, 2]),
    "mask_list": lambda m: [True, False, True],
    "mask_empty": lambda m: T(m, np.zeros(3, bool)),
    "true": lambda m: True,
    "none_true": lambda m: (None, True, 1),
    "false": lambda m: False,
    "tensor_0d_int": lambda m: T(m, 1),
    "tensor_0d_bool": lambda m: T(m, True),
    "empty_list": lambda m: [],
}


def leaves(shape, noncontig):
    wide = shape[:-1] + (2 * shape[-1],) if noncontig else shape
    x = RNG.standard_normal(wide).astype(np.float32)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    return (e, e[..., ::2], t, t[..., ::2]) if noncontig else (e, e, t, t)


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("name", list(INDEXES))
def test_getitem_like_torch(name, noncontig):
    el, e, tl, t = leaves((3, 4, 5), noncontig)
    eo, to = e[INDEXES[name](ember)], t[INDEXES[name](torch)]
    assert eo.shape == tuple(to.shape)
    np.testing.assert_allclose(eo.numpy(), to.detach().numpy())
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    (eo * ember.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(el.grad.numpy(), tl.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16", "int64", "int8", "uint8", "bool"])
def test_getitem_every_dtype(dtype):
    x = RNG.integers(0, 2, (3, 4, 5))
    e, t = T(ember, x, dtype), T(torch, x, dtype)
    for name in ["tensor_dup", "non_adjacent", "mask_dims12", "broadcast"]:
        a, b = e[INDEXES[name](ember)], t[INDEXES[name](torch)]
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(a.to(ember.float64).numpy(), b.to(torch.float64).numpy())


NO_DUPLICATES = [n for n in INDEXES if n not in ("tensor_dup",)]


@pytest.mark.parametrize("value_kind", ["scalar", "full", "broadcast"])
@pytest.mark.parametrize("name", NO_DUPLICATES)
def test_setitem_like_torch(name, value_kind):
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    shape = tuple(t[INDEXES[name](torch)].shape)
    if value_kind == "scalar":
        ev = tv = 2.5
    else:
        v = RNG.standard_normal(shape if value_kind == "full" else shape[-1:]).astype(np.float32)
        ev, tv = ember.tensor(v), torch.tensor(v)
    e[INDEXES[name](ember)] = ev
    t[INDEXES[name](torch)] = tv
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_setitem_through_a_view_and_non_contiguous():
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    ev, tv = e[:, ::2], t[:, ::2]
    ev[[0, 3], 1:] = -1.0
    tv[[0, 3], 1:] = -1.0
    ev[ev > 0.5] = 9.0
    tv[tv > 0.5] = 9.0
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_setitem_casts_and_int_tensors():
    e, t = ember.zeros(5, dtype=ember.int64), torch.zeros(5, dtype=torch.int64)
    e[[1, 3]] = 2.7
    t[[1, 3]] = 2.7
    e[e == 0] = ember.tensor(7)
    t[t == 0] = torch.tensor(7)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("indices", [
    lambda m: (T(m, [0, 2]),),
    lambda m: (T(m, [0, 2]), T(m, [1, 1])),
    lambda m: (None, T(m, [3, 0]), T(m, [[4], [1]])),
    lambda m: (T(m, [1, 2]), None, T(m, [0, 4])),
    lambda m: (T(m, MASK0),),
    lambda m: (T(m, MASK0), T(m, [1, 3])),
])
def test_index_put_values_and_gradients(indices, accumulate):
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    shape = tuple(tx.detach()[tuple(slice(None) if i is None else i for i in indices(torch))].shape)
    v = RNG.standard_normal(shape).astype(np.float32)
    ev, tv = ember.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    eo = ember.index_put(ex, indices(ember), ev, accumulate)
    to = torch.ops.aten.index_put(tx, list(indices(torch)), tv, accumulate)  # takes None entries
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy())
    g = RNG.standard_normal(x.shape).astype(np.float32)
    (eo * ember.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(ev.grad.numpy(), tv.grad.numpy())


def test_index_put_accumulates_duplicates():
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    idx = [0, 2, 0, 0, 3]
    e.index_put_((ember.tensor(idx),), ember.tensor(np.float32(1.5)), accumulate=True)
    t.index_put_((torch.tensor(idx),), torch.tensor(np.float32(1.5)), accumulate=True)
    np.testing.assert_allclose(e.numpy(), t.numpy())
    e.index_put_((ember.tensor([1, 1]), ember.tensor([0, 0])), ember.tensor([1.0, 2.0]), accumulate=True)
    t.index_put_((torch.tensor([1, 1]), torch.tensor([0, 0])), torch.tensor([1.0, 2.0]), accumulate=True)
    np.testing.assert_allclose(e.numpy(), t.numpy())


def test_getitem_gradient_of_gradient():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    out = []
    for m in (ember, torch):
        a = m.tensor(x, requires_grad=True)
        y = a[[0, 2, 2]][:, [1, 3]]
        z = (y * y * y).sum() + a[a > 0].sum()
        (g,) = m.autograd.grad(z, [a], create_graph=True)
        (g * g).sum().backward()
        out.append(a.grad.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-5, atol=1e-5)


ERRORS = [
    (IndexError, "out of bounds", lambda x: x[[0, 5]]),
    (IndexError, "out of bounds", lambda x: x[:, [-5]]),
    (IndexError, "does not match the shape", lambda x: x[x.sum(1) > 0]),
    (IndexError, "could not be broadcast", lambda x: x[[0, 1], [0, 1, 2]]),
    (IndexError, "must be long, int, byte or bool", lambda x: x[x[0, 0, :2]]),
    (IndexError, "too many indices", lambda x: x[[0], [0], [0], [0]]),
    (IndexError, "too many indices", lambda x: x[x > 0, 0, 0]),
]


@pytest.mark.parametrize("exc,match,f", ERRORS)
def test_getitem_errors_like_torch(exc, match, f):
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    with pytest.raises(exc):
        f(torch.tensor(x))
    with pytest.raises(exc, match=match):
        f(ember.tensor(x))


def test_setitem_errors_like_torch():
    for m in (torch, ember):
        x = m.zeros(3, 4)
        with pytest.raises(RuntimeError, match="shape mismatch"):
            x[[0, 1]] = m.ones(3)
        with pytest.raises(IndexError, match="out of bounds"):
            x[[0, 3]] = 1.0
        with pytest.raises(RuntimeError, match="shape mismatch"):
            x.index_put_((m.tensor([0, 1]),), m.ones(2, 3))
