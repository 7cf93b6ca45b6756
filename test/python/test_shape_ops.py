"""Shape and indexing ops (split, chunk, unbind, unflatten, movedim, repeat, tile,
repeat_interleave, flip, roll, tril/triu, gather, scatter, scatter_add, index_add, index_copy,
take_along_dim, masked_fill, masked_select, sort, argsort, topk, nonzero, unique, unfold) against
PyTorch: values on several shapes, dtypes and non-contiguous inputs, gradients, and errors."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(7)


def T(m, a):
    """The same constant (an index, a mask) in either framework."""
    return m.tensor(np.asarray(a))


def _leaves(shapes, noncontig):
    """Random float inputs as (ember leaf, ember input, torch leaf, torch input); non-contiguous
    inputs are every other column of a wider leaf."""
    out = []
    for s in shapes:
        wide = tuple(s[:-1]) + (2 * s[-1],) if noncontig and len(s) else tuple(s)
        x = RNG.standard_normal(wide).astype(np.float32)
        e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        if noncontig and len(s):
            out.append((e, e[..., ::2], t, t[..., ::2]))
        else:
            out.append((e, e, t, t))
    return out


def _flat(o):
    return list(o) if isinstance(o, (tuple, list)) else [o]


def check(f, *shapes, noncontig=False, grad=True, tol=1e-5):
    """f(module, *inputs) in ember and torch: every output, then the inputs' gradients."""
    ins = _leaves(shapes, noncontig)
    if noncontig:
        assert all(not x.is_contiguous() for _, x, _, _ in ins if x.dim() and x.numel() > 1)
    eo, to = _flat(f(ember, *[x for _, x, _, _ in ins])), _flat(f(torch, *[x for _, _, _, x in ins]))
    assert len(eo) == len(to)
    for e, t in zip(eo, to):
        assert e.shape == tuple(t.shape), (e.shape, t.shape)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=tol, atol=tol)
    if not grad:
        return
    eloss, tloss = None, None
    for e, t in zip(eo, to):
        if not t.requires_grad:
            continue
        g = RNG.standard_normal(tuple(t.shape)).astype(np.float32)
        el, tl = (e * ember.tensor(g)).sum(), (t * torch.tensor(g)).sum()
        eloss = el if eloss is None else eloss + el
        tloss = tl if tloss is None else tloss + tl
    assert tloss is not None
    eloss.backward()
    tloss.backward()
    for el, _, tl, _ in ins:
        want = tl.grad if tl.grad is not None else torch.zeros_like(tl)
        got = el.grad.numpy() if el.grad is not None else np.zeros(want.shape, np.float32)
        np.testing.assert_allclose(got, want.numpy(), rtol=tol, atol=tol)


IDX = np.array([[0, 2, 1, 0], [1, 1, 0, 2]])
IDX3 = RNG.integers(0, 3, (2, 5, 2))

CASES = {
    "split_int": (lambda m, x: m.split(x, 2, 1), [(3, 5)]),
    "split_sizes": (lambda m, x: m.split(x, [1, 3, 1], -1), [(3, 5)]),
    "split_method": (lambda m, x: x.split(2), [(5, 2)]),
    "chunk": (lambda m, x: m.chunk(x, 3, 1), [(2, 7)]),
    "chunk_uneven": (lambda m, x: x.chunk(4, 0), [(6, 2)]),
    "unbind": (lambda m, x: m.unbind(x, 1), [(2, 3, 2)]),
    "unbind_neg": (lambda m, x: x.unbind(-1), [(2, 3)]),
    "unflatten": (lambda m, x: m.unflatten(x, 1, (2, -1)), [(3, 6, 2)]),
    "unflatten_neg": (lambda m, x: x.unflatten(-1, (2, 3)), [(2, 6)]),
    "movedim": (lambda m, x: m.movedim(x, 0, -1), [(2, 3, 4)]),
    "flatten_mid": (lambda m, x: m.flatten(x, 1, 2), [(2, 3, 4, 2)]),
    "repeat": (lambda m, x: x.repeat(2, 1, 3), [(3, 2)]),
    "repeat_list": (lambda m, x: x.repeat([2, 2]), [(3, 2)]),
    "repeat_zero": (lambda m, x: x.repeat(0, 2), [(3, 2)]),
    "tile": (lambda m, x: m.tile(x, (2,)), [(3, 2)]),
    "tile_more": (lambda m, x: x.tile(2, 1, 2), [(3, 2)]),
    "repeat_interleave": (lambda m, x: m.repeat_interleave(x, 2, dim=1), [(3, 2)]),
    "repeat_interleave_flat": (lambda m, x: x.repeat_interleave(3), [(2, 2)]),
    "repeat_interleave_tensor": (lambda m, x: m.repeat_interleave(x, T(m, [1, 0, 3]), dim=0), [(3, 2)]),
    "repeat_interleave_neg": (lambda m, x: x.repeat_interleave(T(m, [2, 1]), dim=-1), [(3, 2)]),
    "flip": (lambda m, x: m.flip(x, (0, -1)), [(3, 4)]),
    "flip_method": (lambda m, x: x.flip(1), [(2, 3, 4)]),
    "fliplr": (lambda m, x: m.fliplr(x), [(2, 3)]),
    "flipud": (lambda m, x: m.flipud(x), [(2, 3)]),
    "roll": (lambda m, x: m.roll(x, 2, 1), [(3, 5)]),
    "roll_multi": (lambda m, x: m.roll(x, (1, -2), (0, -1)), [(3, 5)]),
    "roll_flat": (lambda m, x: x.roll(4), [(3, 5)]),
    "roll_big": (lambda m, x: x.roll(-7, 0), [(3, 2)]),
    "tril": (lambda m, x: m.tril(x), [(4, 5)]),
    "tril_diag": (lambda m, x: x.tril(-1), [(2, 4, 3)]),
    "triu": (lambda m, x: m.triu(x, 1), [(4, 5)]),
    "triu_neg": (lambda m, x: x.triu(diagonal=-2), [(5, 3)]),
    "gather": (lambda m, x: m.gather(x, 1, T(m, IDX)), [(2, 3)]),
    "gather_dup": (lambda m, x: x.gather(0, T(m, [[1, 1, 0], [1, 0, 0]])), [(2, 3)]),
    "gather_small": (lambda m, x: x.gather(-1, T(m, [[2], [0]])), [(3, 4)]),
    "gather_3d": (lambda m, x: x.gather(1, T(m, IDX3)), [(2, 3, 4)]),
    "scatter": (lambda m, x, s: m.scatter(x, 1, T(m, [[2, 0], [1, 3]]), s), [(2, 4), (2, 2)]),
    # PyTorch's own scatter backward fails when src is larger than index: see below.
    "scatter_big_src": (lambda m, x, s: x.scatter(0, T(m, [[1, 0, 2]]), s), [(3, 3), (2, 4)], {"grad": False}),
    "scatter_value": (lambda m, x: m.scatter(x, 1, T(m, [[2], [0]]), 1.5), [(2, 4)]),
    "scatter_add": (lambda m, x, s: m.scatter_add(x, 1, T(m, [[2, 2], [1, 3]]), s), [(2, 4), (2, 2)]),
    # PyTorch has no derivative for scatter(reduce=...); ember's is scatter_add's.
    "scatter_reduce_add": (lambda m, x, s: x.scatter(0, T(m, [[1, 1]]), s, reduce="add"), [(2, 2), (1, 2)],
                           {"grad": False}),
    "index_add": (lambda m, x, s: m.index_add(x, 0, T(m, [2, 0, 2]), s), [(3, 2), (3, 2)]),
    "index_add_alpha": (lambda m, x, s: x.index_add(-1, T(m, [1, 0]), s, alpha=2.0), [(3, 2), (3, 2)]),
    "index_copy": (lambda m, x, s: m.index_copy(x, 1, T(m, [3, 0]), s), [(2, 4), (2, 2)]),
    "take_along_dim": (lambda m, x: m.take_along_dim(x, T(m, [[0, 2], [1, 1]]), 1), [(2, 3)]),
    "take_along_dim_bcast": (lambda m, x: x.take_along_dim(T(m, [[0], [2]]), dim=-1), [(2, 3)]),
    "take_along_dim_bcast2": (lambda m, x: x.take_along_dim(T(m, [[[1, 0]]]), dim=2), [(2, 3, 4)]),
    "take_along_dim_flat": (lambda m, x: m.take_along_dim(x, T(m, [5, 0, 3])), [(2, 3)]),
    "masked_fill": (lambda m, x: m.masked_fill(x, T(m, [True, False, True]), -1.0), [(2, 3)]),
    "masked_fill_tensor": (lambda m, x, v: x.masked_fill(T(m, [[True], [False]]), v.sum()), [(2, 3), (2,)]),
    "masked_select": (lambda m, x: m.masked_select(x, T(m, [[True, False, True], [False, False, True]])), [(2, 3)]),
    "masked_select_bcast": (lambda m, x: x.masked_select(T(m, [True, False, True])), [(2, 3)]),
    "sort": (lambda m, x: m.sort(x), [(3, 5)]),
    "sort_desc": (lambda m, x: x.sort(0, descending=True), [(4, 3)]),
    "sort_3d": (lambda m, x: m.sort(x, dim=1, stable=True), [(2, 5, 3)]),
    "argsort": (lambda m, x: m.argsort(x, dim=-1, descending=True), [(3, 5)], {"grad": False}),
    "topk": (lambda m, x: m.topk(x, 2), [(3, 5)]),
    "topk_smallest": (lambda m, x: x.topk(3, dim=0, largest=False), [(4, 3)]),
    "topk_kw": (lambda m, x: m.topk(x, k=1, dim=1, sorted=True), [(2, 4, 3)]),
    "unfold": (lambda m, x: x.unfold(1, 2, 1), [(3, 5)]),
    "unfold_step": (lambda m, x: x.unfold(0, 3, 2), [(7, 2)]),
    "unfold_gap": (lambda m, x: x.unfold(-1, 2, 3), [(2, 8)]),
    "unfold_twice": (lambda m, x: x.unfold(0, 2, 1).unfold(1, 2, 2), [(3, 5)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_op_like_torch(name):
    f, shapes, *opts = CASES[name]
    check(f, *shapes, **(opts[0] if opts else {}))


@pytest.mark.parametrize("name", list(CASES))
def test_op_on_non_contiguous_input(name):
    f, shapes, *opts = CASES[name]
    check(f, *shapes, noncontig=True, **(opts[0] if opts else {}))


def test_zero_size_and_0d():
    check(lambda m, x: m.split(x, 2, 1), (3, 0), grad=False)
    check(lambda m, x: m.chunk(x, 3, 0), (0, 2), grad=False)
    check(lambda m, x: x.repeat(2, 3), (0, 2), grad=False)
    check(lambda m, x: x.flip(0), (0, 2), grad=False)
    check(lambda m, x: m.sort(x, 0), (0,), grad=False)
    check(lambda m, x: m.sort(x), (), grad=True)
    check(lambda m, x: x.gather(0, T(m, np.zeros((0, 3), np.int64))), (2, 3), grad=False)
    check(lambda m, x: m.tril(x), (3, 0, 2), grad=False)
    check(lambda m, x: x.unfold(0, 1, 1), (), grad=True)
    check(lambda m, x: m.roll(x, 3), (), grad=True)


DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]

DTYPE_CASES = {
    "split": lambda m, x: m.split(x, 2, 1),
    "chunk": lambda m, x: m.chunk(x, 2, 0),
    "unbind": lambda m, x: m.unbind(x, 1),
    "unflatten": lambda m, x: x.unflatten(1, (2, 2)),
    "repeat": lambda m, x: x.repeat(2, 1),
    "tile": lambda m, x: m.tile(x, (1, 2)),
    "repeat_interleave": lambda m, x: x.repeat_interleave(T(m, [1, 2, 0]), dim=0),
    "flip": lambda m, x: x.flip(0, 1),
    "roll": lambda m, x: x.roll(1, 1),
    "tril": lambda m, x: x.tril(),
    "triu": lambda m, x: m.triu(x, 1),
    "gather": lambda m, x: x.gather(1, T(m, [[3, 0], [1, 1], [2, 2]])),
    "scatter": lambda m, x: x.scatter(1, T(m, [[3], [0], [1]]), x[:, :1]),
    "scatter_value": lambda m, x: x.scatter(0, T(m, [[2, 0]]), 1),
    "scatter_add": lambda m, x: x.scatter_add(0, T(m, [[2, 0, 2, 2]]), x[:1]),
    "index_copy": lambda m, x: x.index_copy(0, T(m, [2, 0]), x[:2]),
    "take_along_dim": lambda m, x: m.take_along_dim(x, T(m, [[1], [0], [3]]), 1),
    "masked_fill": lambda m, x: x.masked_fill(T(m, [True, False, False, True]), 1),
    "masked_select": lambda m, x: x.masked_select(T(m, [True, False, False, True])),
    "sort": lambda m, x: m.sort(x, dim=1, stable=True),
    "sort_desc": lambda m, x: m.sort(x, dim=0, descending=True, stable=True),
    "argsort": lambda m, x: m.argsort(x, dim=1, stable=True),
    "nonzero": lambda m, x: m.nonzero(x),
    "unique": lambda m, x: m.unique(x, return_inverse=True, return_counts=True),
    "unfold": lambda m, x: x.unfold(1, 2, 2),
    "index": lambda m, x: x[T(m, [2, 0]), 1:],
    "mask_index": lambda m, x: x[T(m, [True, False, True])],
}


def _typed(data, name):
    """(ember, torch) tensors of dtype `name` holding the integer data (with repeats: ties)."""
    e = ember.tensor(data).to(getattr(ember, name))
    t = torch.tensor(data).to(getattr(torch, name))
    return e, t


def _numpy(x):
    if isinstance(x, torch.Tensor):
        return x.to(torch.float64).numpy() if x.dtype == torch.bfloat16 else x.numpy()
    return x.to(ember.float64).numpy() if x.dtype == ember.bfloat16 else x.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(DTYPE_CASES))
def test_every_dtype(name, dtype):
    data = RNG.integers(0, 4, (3, 4)) if dtype != "bool" else RNG.integers(0, 2, (3, 4))
    e, t = _typed(data, dtype)
    f = DTYPE_CASES[name]
    eo, to = _flat(f(ember, e)), _flat(f(torch, t))
    assert len(eo) == len(to)
    for a, b in zip(eo, to):
        assert a.shape == tuple(b.shape)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(_numpy(a), _numpy(b))


def test_sort_nan_and_stability():
    x = np.array([[3.0, np.nan, 1.0, 3.0, -np.inf, 1.0]], np.float32)
    for desc in (False, True):
        ev, ei = ember.sort(ember.tensor(x), descending=desc, stable=True)
        tv, ti = torch.sort(torch.tensor(x), descending=desc, stable=True)
        np.testing.assert_array_equal(ev.numpy(), tv.numpy())
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    ev, ei = ember.topk(ember.tensor(x), 2)
    tv, ti = torch.topk(torch.tensor(x), 2)  # NaN counts as the largest; ties in any order
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    np.testing.assert_array_equal(x[0, ei.numpy()[0]], x[0, ti.numpy()[0]])


def test_nonzero_as_tuple_and_argwhere():
    x = RNG.integers(0, 2, (3, 4, 2))
    e, t = ember.tensor(x), torch.tensor(x)
    for a, b in zip(ember.nonzero(e, as_tuple=True), torch.nonzero(t, as_tuple=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(e.nonzero().numpy(), t.nonzero().numpy())
    np.testing.assert_array_equal(ember.argwhere(e).numpy(), torch.argwhere(t).numpy())
    np.testing.assert_array_equal(ember.nonzero(ember.tensor(5), as_tuple=True)[0].numpy(),
                                  torch.nonzero(torch.tensor(5), as_tuple=True)[0].numpy())
    assert ember.nonzero(ember.zeros(2, 3)).shape == (0, 2)


@pytest.mark.parametrize("kw", [{}, {"return_inverse": True}, {"return_counts": True},
                                {"return_inverse": True, "return_counts": True}])
def test_unique(kw):
    x = RNG.integers(-3, 3, (4, 5))
    eo, to = ember.unique(ember.tensor(x), **kw), torch.unique(torch.tensor(x), **kw)
    for a, b in zip(_flat(eo), _flat(to)):
        assert a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    f = RNG.standard_normal(6).astype(np.float32)[[0, 1, 0, 2, 3, 1]]
    np.testing.assert_array_equal(ember.tensor(f).unique().numpy(), torch.tensor(f).unique().numpy())


def test_scatter_gradient_when_src_is_larger_than_index():
    # src's entries outside index's extent get zero gradient; the rest is gather(g).
    idx = [[1, 0, 2]]
    x = ember.tensor(RNG.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    s = ember.tensor(RNG.standard_normal((2, 4)).astype(np.float32), requires_grad=True)
    g = RNG.standard_normal((3, 3)).astype(np.float32)
    (x.scatter(0, ember.tensor(idx), s) * ember.tensor(g)).sum().backward()
    want_s = np.zeros((2, 4), np.float32)
    want_s[0, :3] = torch.tensor(g).gather(0, torch.tensor(idx)).numpy()
    want_x = g.copy()
    want_x[[1, 0, 2], [0, 1, 2]] = 0
    np.testing.assert_allclose(s.grad.numpy(), want_s)
    np.testing.assert_allclose(x.grad.numpy(), want_x)


def test_repeat_interleave_of_repeats_only():
    r = [2, 0, 3]
    np.testing.assert_array_equal(ember.repeat_interleave(ember.tensor(r)).numpy(),
                                  torch.repeat_interleave(torch.tensor(r)).numpy())


def test_unfold_is_a_view():
    x = ember.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    u = x.unfold(1, 2, 1)
    assert np.shares_memory(u.numpy(), x.numpy())
    assert u.stride() == torch.arange(12.).reshape(3, 4).unfold(1, 2, 1).stride()


def test_split_chunk_unbind_are_views():
    x = ember.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    for part in list(x.split(2, 1)) + list(x.chunk(3)) + list(x.unbind(1)):
        assert np.shares_memory(part.numpy(), x.numpy())


def test_in_place_variants():
    base = RNG.standard_normal((3, 4)).astype(np.float32)
    ops = [
        lambda m, x: x.masked_fill_(T(m, [True, False, True, False]), 2.0),
        lambda m, x: x.scatter_(1, T(m, [[0], [3], [1]]), T(m, np.ones((3, 1), np.float32))),
        lambda m, x: x.scatter_(1, T(m, [[0], [3], [1]]), 5.0),
        lambda m, x: x.scatter_add_(0, T(m, [[2, 0, 1, 1]]), T(m, np.ones((1, 4), np.float32))),
        lambda m, x: x.index_add_(0, T(m, [2, 2]), T(m, np.ones((2, 4), np.float32))),
        lambda m, x: x.index_copy_(1, T(m, [3]), T(m, np.zeros((3, 1), np.float32))),
        lambda m, x: x.index_put_((T(m, [0, 2]), T(m, [1, 1])), T(m, np.float32(7.0)), accumulate=True),
        lambda m, x: x.index_put_((T(m, [0, 2]),), T(m, np.float32(7.0))),
        lambda m, x: x.tril_(1),
        lambda m, x: x.triu_(),
    ]
    for op in ops:
        e, t = ember.tensor(base), torch.tensor(base)
        r = op(ember, e)
        op(torch, t)
        assert r is e
        np.testing.assert_allclose(e.numpy(), t.numpy())


def test_masked_fill_keeps_dtype_and_grad_of_value():
    x = ember.tensor([1, 2, 3])
    y = x.masked_fill(ember.tensor([True, False, True]), 2.7)
    assert y.dtype == ember.int64 and y.tolist() == [2, 2, 2]
    check(lambda m, x, v: m.masked_fill(x, x > 0, v.sum()), (3, 4), (2,))


def test_gradients_of_gradients():
    x = ember.tensor(RNG.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    t = torch.tensor(x.detach().numpy(), requires_grad=True)
    for m, a in ((ember, x), (torch, t)):
        s, u = m.sort(a, 1).values[:, :2], a.unfold(1, 2, 1)
        y = (s * s * s).sum() + (u * u * a.gather(1, T(m, [[1], [0], [3]]))[:, None]).sum()
        (g,) = m.autograd.grad(y, [a], create_graph=True)
        (g * g).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_compile_takes_gather_and_sort():
    if not ember._C.has_compiler:
        pytest.skip("built without the compiler")
    # (test_compile_int.py covers the indexing primitives through the compiler in depth,
    # test_compile_ops2.py argsort, sort and topk.)
    a = ember.tensor(RNG.standard_normal((2, 3)).astype(np.float32))
    g = lambda a: a.gather(1, ember.tensor([[0], [2]])) * 2
    np.testing.assert_array_equal(ember.compile(g, fullgraph=True)(a).numpy(), g(a).numpy())
    f = lambda a: ember.sort(a, 1)[0] * 2
    np.testing.assert_array_equal(ember.compile(f, fullgraph=True)(a).numpy(), f(a).numpy())


def test_composites_compile():
    if not ember._C.has_compiler:
        pytest.skip("built without the compiler")
    x = ember.tensor(RNG.standard_normal((4, 6)).astype(np.float32))

    def f(a):
        return (a.repeat(2, 1) * 2, a.roll(1, 0), ember.tril(a), a.split(2, 1)[1] + 1,
                a.unflatten(1, (2, 3)).sum(1))

    for got, want in zip(ember.compile(f)(x), f(x)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


ERRORS = [
    (RuntimeError, "out of bounds", lambda m, x: m.gather(x, 1, T(m, [[5]]))),
    (RuntimeError, "out of bounds", lambda m, x: m.gather(x, 0, T(m, [[-1]]))),
    (RuntimeError, "same number of dimensions", lambda m, x: m.gather(x, 1, T(m, [1]))),
    (RuntimeError, "out of bounds", lambda m, x: x.scatter(0, T(m, [[3]]), 1.0)),
    (RuntimeError, "dtype", lambda m, x: x.scatter(0, T(m, [[0]]), T(m, np.ones((1, 1))))),
    (RuntimeError, "out of bounds", lambda m, x: x.scatter_add(1, T(m, [[4]]), x)),
    (IndexError, "out of range", lambda m, x: m.gather(x, 2, T(m, [[0]]))),
    (IndexError, "out of range", lambda m, x: x.flip(2)),
    (RuntimeError, "multiple times", lambda m, x: x.flip(0, -2)),
    (RuntimeError, "must align", lambda m, x: m.roll(x, (1, 2), (0,))),
    (RuntimeError, "can not be smaller", lambda m, x: x.repeat(2)),
    (RuntimeError, "negative", lambda m, x: x.repeat_interleave(-1)),
    (RuntimeError, "same size as input", lambda m, x: x.repeat_interleave(T(m, [1, 2]), dim=1)),
    (RuntimeError, "at least 2 dimensions", lambda m, x: m.tril(x[0])),
    (RuntimeError, "boolean masks", lambda m, x: x.masked_fill(T(m, [1, 0, 1, 0]), 1.0)),
    (RuntimeError, "BoolTensor", lambda m, x: x.masked_select(T(m, [1, 0, 1, 0]))),
    (RuntimeError, "k out of range", lambda m, x: x.topk(5)),
    (RuntimeError, "maximum size", lambda m, x: x.unfold(1, 5, 1)),
    (RuntimeError, "step", lambda m, x: x.unfold(1, 2, 0)),
    (RuntimeError, "multiply up", lambda m, x: x.unflatten(1, (3, 2))),
    (RuntimeError, "non-negative", lambda m, x: x.split(-1)),
    (RuntimeError, "sum exactly", lambda m, x: x.split([1, 1], 0)),
    (RuntimeError, "greater than 0", lambda m, x: x.chunk(0)),
    (IndexError, "no dimensions", lambda m, x: m.unbind(x.sum())),
    (RuntimeError, "same number of dimensions", lambda m, x: m.take_along_dim(x, T(m, [0]), 1)),
    (IndexError, "out of bounds", lambda m, x: x.index_copy(0, T(m, [5]), x[:1])),
]


@pytest.mark.parametrize("exc,match,f", ERRORS)
def test_errors_like_torch(exc, match, f):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(exc):
        f(torch, torch.tensor(x))
    with pytest.raises(exc, match=match):
        f(ember, ember.tensor(x))


@pytest.mark.parametrize("shape,classes", [((5,), -1), ((2, 3), 6), ((0,), 3), ((), 4)])
def test_one_hot(shape, classes):
    x = RNG.integers(0, 4, shape)
    e = ember.nn.functional.one_hot(ember.tensor(x), classes)
    t = torch.nn.functional.one_hot(torch.tensor(x), classes)
    assert e.shape == tuple(t.shape) and e.dtype == ember.int64
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("f", [lambda m, F: F.one_hot(m.tensor([0, 5]), 3),
                               lambda m, F: F.one_hot(m.tensor([-1]), 3),
                               lambda m, F: F.one_hot(m.tensor([1.0]))])
def test_one_hot_errors_like_torch(f):
    with pytest.raises(RuntimeError):
        f(torch, torch.nn.functional)
    with pytest.raises(RuntimeError, match="one_hot"):
        f(ember, ember.nn.functional)


def test_squeeze_a_tuple_of_dims_as_torch():
    for shape, dims in (((1, 3, 1), (0, 2)), ((1, 3, 1), (0, 1)), ((1, 3, 1), (0, -1)), ((), (0,)),
                        ((2, 1, 1), (1,))):
        assert ember.zeros(shape).squeeze(dims).shape == tuple(torch.zeros(shape).squeeze(dims).shape)
        assert ember.squeeze(ember.zeros(shape), dims).shape == tuple(torch.squeeze(torch.zeros(shape), dims).shape)
