"""The PyTorch API breadth composites (frontend/python/ember/_breadth.py) against PyTorch:
values on a few shapes (non-contiguous views, 0-d / size-1 cases), float32 and int64,
gradients of a random-weighted sum, ember.compile against eager for a handful, and errors."""
import math

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(11)
pytestmark = pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")


def T(m, a):
    """The same constant (an index, a sorted sequence) in either framework."""
    return m.tensor(np.asarray(a))


def _inputs(shapes, dtype, noncontig, grad):
    """(ember leaf, ember input, torch leaf, torch input) per shape; non-contiguous inputs are
    every other column of a wider leaf."""
    out = []
    for s in shapes:
        s = tuple(s)
        wide = s[:-1] + (2 * s[-1],) if noncontig and len(s) else s
        if dtype == "int64":
            a = RNG.integers(-4, 5, wide).astype(np.int64)
        else:
            a = RNG.standard_normal(wide).astype(np.float32)
        rg = grad and dtype == "float32"
        e, t = ember.tensor(a, requires_grad=rg), torch.tensor(a, requires_grad=rg)
        if noncontig and len(s):
            out.append((e, e[..., ::2], t, t[..., ::2]))
        else:
            out.append((e, e, t, t))
    return out


def _flat(o):
    return [x for item in o for x in _flat(item)] if isinstance(o, (tuple, list)) else [o]


def _same(e, t, tol):
    if not isinstance(t, torch.Tensor):
        assert e == t, (e, t)
        return
    assert isinstance(e, ember.Tensor), type(e)
    assert e.shape == tuple(t.shape), (e.shape, t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)
    np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def check(f, *shapes, dtype="float32", noncontig=False, grad=True, tol=1e-5, skip_outputs=()):
    """f(module, *inputs) in ember and torch: every output (bar skip_outputs), then the inputs'
    gradients of a random-weighted sum of the float outputs."""
    ins = _inputs(shapes, dtype, noncontig, grad)
    if noncontig:
        assert all(not x.is_contiguous() for _, x, _, _ in ins if x.dim() and x.numel() > 1)
    eo, to = _flat(f(ember, *[x for _, x, _, _ in ins])), _flat(f(torch, *[x for _, _, _, x in ins]))
    assert len(eo) == len(to)
    for i, (e, t) in enumerate(zip(eo, to)):
        if i not in skip_outputs:
            _same(e, t, tol)
    if not grad or dtype != "float32":
        return
    eloss = tloss = None
    for e, t in zip(eo, to):
        if not (isinstance(t, torch.Tensor) and t.requires_grad):
            continue
        g = RNG.standard_normal(tuple(t.shape)).astype(np.float32)
        el, tl = (e * ember.tensor(g)).sum(), (t * torch.tensor(g)).sum()
        eloss = el if eloss is None else eloss + el
        tloss = tl if tloss is None else tloss + tl
    assert tloss is not None, "no differentiable output"
    eloss.backward()
    tloss.backward()
    for el, _, tl, _ in ins:
        want = tl.grad if tl.grad is not None else torch.zeros_like(tl)
        got = el.grad.numpy() if el.grad is not None else np.zeros(want.shape, np.float32)
        np.testing.assert_allclose(got, want.numpy(), rtol=tol, atol=tol)


def _nans(m, x):
    """x with NaN where x > 0.8."""
    return m.where(x > 0.8, float("nan"), x)


F64 = lambda m: m.zeros(1, dtype=m.float64)  # noqa: E731

# name: (f, shapes, options). Options: dtype, noncontig, grad, tol, skip_outputs.
CASES = {
    # Tensor methods
    "type_as": (lambda m, x: x.type_as(F64(m)), [(2, 3)]),
    "type_as_int": (lambda m, x: x.type_as(m.zeros(1)), [(2, 3)], {"dtype": "int64"}),
    "view_as": (lambda m, x: x.view_as(m.zeros(3, 2)), [(2, 3)]),
    "expand_as": (lambda m, x: x.expand_as(m.zeros(4, 2, 3)), [(2, 1)]),
    "expand_as_nc": (lambda m, x: x.expand_as(m.zeros(2, 2, 3)), [(2, 3)], {"noncontig": True}),
    "reshape_as": (lambda m, x: x.reshape_as(m.zeros(6)), [(2, 3)], {"noncontig": True}),
    "positive": (lambda m, x: m.positive(x) * 2, [(3,)]),
    "positive_method": (lambda m, x: (+x) * x.positive(), [(2, 2)]),
    # shapes and views
    "broadcast_to": (lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
    "broadcast_to_neg": (lambda m, x: x.broadcast_to((2, -1, 4)), [(3, 4)], {"noncontig": True}),
    "broadcast_to_0d": (lambda m, x: m.broadcast_to(x, (2, 2)), [()]),
    "broadcast_to_int": (lambda m, x: m.broadcast_to(x, (2, 3)), [(3,)], {"dtype": "int64"}),
    "swapaxes": (lambda m, x: m.swapaxes(x, 0, -1), [(2, 3, 4)]),
    "swapdims": (lambda m, x: x.swapdims(1, 2), [(2, 3, 4)], {"noncontig": True}),
    "moveaxis": (lambda m, x: m.moveaxis(x, 0, -1), [(2, 3, 4)]),
    "moveaxis_seq": (lambda m, x: x.moveaxis((0, 1), (2, 0)), [(2, 3, 4)]),
    "diag_vec": (lambda m, x: m.diag(x), [(4,)]),
    "diag_vec_up": (lambda m, x: m.diag(x, 2), [(3,)], {"noncontig": True}),
    "diag_vec_down": (lambda m, x: x.diag(-1), [(3,)]),
    "diag_vec_1": (lambda m, x: m.diag(x), [(1,)]),
    "diag_vec_int": (lambda m, x: m.diag(x, 1), [(3,)], {"dtype": "int64"}),
    "diag_mat": (lambda m, x: m.diag(x), [(3, 4)]),
    "diag_mat_off": (lambda m, x: m.diag(x, 1), [(4, 3)], {"noncontig": True}),
    "diag_mat_neg": (lambda m, x: x.diag(-2), [(4, 3)]),
    "diagonal": (lambda m, x: m.diagonal(x), [(3, 4)]),
    "diagonal_3d": (lambda m, x: m.diagonal(x, 1, 0, 2), [(3, 2, 4)]),
    "diagonal_neg": (lambda m, x: x.diagonal(offset=-1, dim1=-1, dim2=1), [(2, 4, 3)], {"noncontig": True}),
    "diagonal_empty": (lambda m, x: m.diagonal(x, 5), [(2, 3)]),
    "diagonal_int": (lambda m, x: m.diagonal(x, -1), [(3, 3)], {"dtype": "int64"}),
    "trace": (lambda m, x: m.trace(x), [(3, 3)]),
    "trace_rect": (lambda m, x: x.trace(), [(2, 4)], {"noncontig": True}),
    "trace_1x1": (lambda m, x: m.trace(x), [(1, 1)]),
    "trace_int": (lambda m, x: m.trace(x), [(3, 3)], {"dtype": "int64"}),
    "kron": (lambda m, a, b: m.kron(a, b), [(2, 3), (3, 2)]),
    "kron_mixed": (lambda m, a, b: a.kron(b), [(3,), (2, 2)], {"noncontig": True}),
    "kron_3d": (lambda m, a, b: m.kron(a, b), [(2, 1, 2), (2, 3)]),
    "kron_0d": (lambda m, a, b: m.kron(a, b), [(), (2,)]),
    "kron_int": (lambda m, a, b: m.kron(a, b), [(2, 2), (2, 3)], {"dtype": "int64"}),
    "rot90": (lambda m, x: m.rot90(x), [(2, 3)]),
    "rot90_k2": (lambda m, x: m.rot90(x, 2, (0, 1)), [(2, 3, 2)]),
    "rot90_k3": (lambda m, x: x.rot90(3, [1, 2]), [(2, 3, 4)], {"noncontig": True}),
    "rot90_kneg": (lambda m, x: m.rot90(x, -1, (-1, 0)), [(2, 3)]),
    "rot90_k0": (lambda m, x: m.rot90(x, 4), [(2, 3)]),
    "rot90_int": (lambda m, x: m.rot90(x, 1), [(2, 3)], {"dtype": "int64"}),
    "hstack_1d": (lambda m, a, b: m.hstack([a, b]), [(3,), (2,)]),
    "hstack_2d": (lambda m, a, b: m.hstack((a, b)), [(2, 3), (2, 1)], {"noncontig": True}),
    "hstack_int": (lambda m, a, b: m.hstack([a, b]), [(3,), ()], {"dtype": "int64"}),
    "vstack": (lambda m, a, b: m.vstack([a, b]), [(3,), (2, 3)]),
    "vstack_0d": (lambda m, a, b: m.vstack([a, b]), [(), ()]),
    "row_stack": (lambda m, a, b: m.row_stack([a, b]), [(2, 2), (1, 2)]),
    "dstack": (lambda m, a, b, c: m.dstack([a, b, c]), [(3,), (1, 3), (1, 3, 2)]),
    "dstack_2d": (lambda m, a, b: m.dstack([a, b]), [(2, 3), (2, 3)], {"noncontig": True}),
    "column_stack": (lambda m, a, b, c: m.column_stack([a, b, c]), [(3,), (3, 2), (3, 1)]),
    "column_stack_0d": (lambda m, a, b: m.column_stack([a, b]), [(), ()]),
    "atleast_1d": (lambda m, a: m.atleast_1d(a), [()]),
    "atleast_1d_many": (lambda m, a, b: m.atleast_1d(a, b), [(), (2, 3)]),
    "atleast_2d": (lambda m, a, b, c: m.atleast_2d([a, b, c]), [(), (3,), (2, 2, 1)]),
    "atleast_3d": (lambda m, a, b, c, d: m.atleast_3d(a, b, c, d), [(), (3,), (2, 3), (1, 2, 3, 1)]),
    "atleast_3d_one": (lambda m, a: m.atleast_3d(a), [(2, 3)], {"noncontig": True}),
    "meshgrid_ij": (lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [(3,), (2,)]),
    "meshgrid_xy": (lambda m, a, b, c: m.meshgrid([a, b, c], indexing="xy"), [(3,), (2,), (4,)]),
    "meshgrid_0d": (lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [(), (3,)]),
    "meshgrid_nc": (lambda m, a, b: m.meshgrid(a, b, indexing="xy"), [(3,), (2,)], {"noncontig": True}),
    "cartesian_prod": (lambda m, a, b: m.cartesian_prod(a, b), [(3,), (2,)]),
    "cartesian_prod_3": (lambda m, a, b, c: m.cartesian_prod(a, b, c), [(2,), (1,), (3,)]),
    "cartesian_prod_1": (lambda m, a: m.cartesian_prod(a), [(3,)]),
    "cartesian_prod_int": (lambda m, a, b: m.cartesian_prod(a, b), [(3,), (2,)], {"dtype": "int64"}),
    "tensor_split_int": (lambda m, x: m.tensor_split(x, 3), [(7, 2)]),
    "tensor_split_more": (lambda m, x: x.tensor_split(5, dim=1), [(2, 3)]),
    "tensor_split_idx": (lambda m, x: m.tensor_split(x, [1, 4], dim=-1), [(2, 6)], {"noncontig": True}),
    "tensor_split_idx_odd": (lambda m, x: m.tensor_split(x, [3, 1, -1, 9]), [(5,)]),
    "tensor_split_tensor": (lambda m, x: m.tensor_split(x, T(m, 2)), [(5,)]),
    "tensor_split_idx_tensor": (lambda m, x: x.tensor_split(T(m, [2]), 1), [(2, 5)]),
    "tensor_split_int64": (lambda m, x: m.tensor_split(x, 2), [(5,)], {"dtype": "int64"}),
    "hsplit": (lambda m, x: m.hsplit(x, 2), [(2, 4)]),
    "hsplit_1d": (lambda m, x: x.hsplit([1, 3]), [(5,)]),
    "vsplit": (lambda m, x: m.vsplit(x, [1]), [(3, 2)], {"noncontig": True}),
    "vsplit_int": (lambda m, x: x.vsplit(3), [(3, 2)]),
    "dsplit": (lambda m, x: m.dsplit(x, 2), [(2, 1, 4)]),
    "take": (lambda m, x: m.take(x, T(m, [[0, 5], [-1, 2]])), [(2, 3)]),
    "take_nc": (lambda m, x: x.take(T(m, [3, 3, 0])), [(2, 3)], {"noncontig": True}),
    "take_0d": (lambda m, x: m.take(x, T(m, 0)), [()]),
    "take_int": (lambda m, x: m.take(x, T(m, [1, -2])), [(4,)], {"dtype": "int64"}),
    # pointwise
    "hypot": (lambda m, a, b: m.hypot(a, b), [(3, 4), (4,)]),
    "hypot_nc": (lambda m, a, b: a.hypot(b), [(2, 3), (2, 3)], {"noncontig": True}),
    "hypot_0d": (lambda m, a, b: m.hypot(a, b), [(), ()]),
    "hypot_big": (lambda m, a, b: m.hypot(a * 1e25, b * 1e-25) / 1e25, [(3,), (3,)], {"tol": 1e-4}),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), [(3, 4), (4,)]),
    "logaddexp_big": (lambda m, a, b: m.logaddexp(a * 100, b * 100), [(2, 3), (2, 3)], {"tol": 1e-4}),
    "logaddexp_nc": (lambda m, a, b: a.logaddexp(b), [(2, 3), (2, 3)], {"noncontig": True}),
    "logaddexp_0d": (lambda m, a, b: m.logaddexp(a, b), [(), (3,)]),
    "logaddexp2": (lambda m, a, b: m.logaddexp2(a, b), [(3, 4), (3, 4)]),
    "logaddexp2_method": (lambda m, a, b: a.logaddexp2(b * 50), [(3,), (3,)], {"tol": 1e-4}),
    "xlogy": (lambda m, x, y: m.xlogy(x, y.abs() + 0.1), [(3, 4), (4,)]),
    "xlogy_zeros": (lambda m, x, y: m.xlogy(m.where(x > 0, x, 0.0), y.abs() + 0.1), [(3, 4), (3, 4)]),
    "xlogy_scalar": (lambda m, x: m.xlogy(2.0, x.abs() + 0.5) + x.xlogy(3.0), [(2, 3)], {"noncontig": True}),
    "xlogy_int": (lambda m, x, y: m.xlogy(x, y.abs() + 1), [(3,), (3,)], {"dtype": "int64"}),
    "deg2rad": (lambda m, x: m.deg2rad(x * 90), [(2, 3)], {"noncontig": True}),
    "deg2rad_int": (lambda m, x: x.deg2rad(), [(3,)], {"dtype": "int64"}),
    "rad2deg": (lambda m, x: x.rad2deg(), [(2, 3)], {"tol": 1e-4}),
    "rad2deg_0d": (lambda m, x: m.rad2deg(x), [()], {"tol": 1e-4}),
    "true_divide": (lambda m, a, b: m.true_divide(a, b.abs() + 0.5), [(2, 3), (3,)]),
    "true_divide_int": (lambda m, a, b: a.true_divide(b.abs() + 1), [(2, 3), (3,)], {"dtype": "int64"}),
    "absolute": (lambda m, x: m.absolute(x), [(2, 3)], {"noncontig": True}),
    "absolute_int": (lambda m, x: x.absolute(), [(4,)], {"dtype": "int64"}),
    "negative": (lambda m, x: m.negative(x) * x.negative(), [(2, 3)]),
    "negative_int": (lambda m, x: m.negative(x), [(4,)], {"dtype": "int64"}),
    # reductions
    "nansum": (lambda m, x: m.nansum(_nans(m, x)), [(3, 4)]),
    "nansum_dim": (lambda m, x: _nans(m, x).nansum(1, keepdim=True), [(3, 4)], {"noncontig": True}),
    "nansum_dims": (lambda m, x: m.nansum(_nans(m, x), (0, 2)), [(2, 3, 4)]),
    "nansum_0d": (lambda m, x: m.nansum(x), [()]),
    "nansum_int": (lambda m, x: m.nansum(x, 0), [(3, 2)], {"dtype": "int64"}),
    "nanmean": (lambda m, x: m.nanmean(_nans(m, x)), [(3, 4)]),
    "nanmean_dim": (lambda m, x: _nans(m, x).nanmean(dim=0), [(5, 3)], {"noncontig": True}),
    "nanmean_allnan": (lambda m, x: m.nanmean(x / 0.0 * 0.0, -1), [(2, 3)], {"grad": False}),
    "diff": (lambda m, x: m.diff(x), [(3, 5)]),
    "diff_n2": (lambda m, x: x.diff(n=2, dim=0), [(4, 3)], {"noncontig": True}),
    "diff_pre_app": (lambda m, x, p, a: m.diff(x, 1, -1, p, a), [(2, 3), (2, 1), (2, 2)]),
    "diff_n_big": (lambda m, x: m.diff(x, 4), [(3,)]),
    "diff_1": (lambda m, x: m.diff(x), [(1,)]),
    "diff_int": (lambda m, x: m.diff(x, 2, 0), [(5, 2)], {"dtype": "int64"}),
    "diff_bool": (lambda m, x: m.diff(x > 0), [(6,)], {"grad": False}),
    "cross": (lambda m, a, b: m.cross(a, b, dim=-1), [(4, 3), (4, 3)]),
    "cross_default": (lambda m, a, b: a.cross(b), [(2, 3, 3), (1, 3, 3)]),
    "cross_dim0": (lambda m, a, b: m.cross(a, b, 0), [(3, 2), (3, 2)], {"noncontig": True}),
    "cross_int": (lambda m, a, b: m.cross(a, b, dim=1), [(2, 3), (2, 3)], {"dtype": "int64"}),
    "cummax": (lambda m, x: m.cummax(x, 1), [(3, 5)]),
    "cummax_dim0": (lambda m, x: x.cummax(0), [(4, 3)], {"noncontig": True}),
    "cummax_0d": (lambda m, x: m.cummax(x, 0), [()]),
    "cummax_int": (lambda m, x: m.cummax(x, -1), [(3, 7)], {"dtype": "int64"}),
    "cummax_nan": (lambda m, x: m.cummax(_nans(m, x), 0), [(8,)], {"grad": False}),
    "cummin": (lambda m, x: m.cummin(x, -1), [(2, 3, 4)]),
    "cummin_nc": (lambda m, x: x.cummin(1), [(2, 5)], {"noncontig": True}),
    "cummin_int": (lambda m, x: m.cummin(x, 0), [(6, 2)], {"dtype": "int64"}),
    "logcumsumexp": (lambda m, x: m.logcumsumexp(x, 1), [(3, 5)]),
    "logcumsumexp_wide": (lambda m, x: m.logcumsumexp(x * 60, 0), [(6, 2)], {"tol": 1e-4}),
    "logcumsumexp_nc": (lambda m, x: x.logcumsumexp(-1), [(2, 4)], {"noncontig": True}),
    "logcumsumexp_0d": (lambda m, x: m.logcumsumexp(x, 0), [()]),
    "logcumsumexp_inf": (lambda m, x: m.logcumsumexp(m.where(x > 0.5, float("inf"), x), 0), [(8,)],
                         {"grad": False}),
    "median_all": (lambda m, x: m.median(x), [(3, 5)]),
    "median_all_even": (lambda m, x: x.median(), [(2, 3)], {"noncontig": True}),
    "median_all_0d": (lambda m, x: m.median(x), [()]),
    "median_all_nan": (lambda m, x: m.median(_nans(m, x)), [(9,)], {"grad": False}),
    "median_all_int": (lambda m, x: m.median(x), [(4, 3)], {"dtype": "int64"}),
    "median_dim": (lambda m, x: m.median(x, 1), [(3, 5)]),
    "median_dim_even": (lambda m, x: x.median(0, keepdim=True), [(4, 3)], {"noncontig": True}),
    "median_dim_0d": (lambda m, x: m.median(x, 0), [()]),
    "median_dim_nan": (lambda m, x: m.median(_nans(m, x), -1), [(4, 6)], {"grad": False}),
    # int64 rows have ties, where PyTorch leaves which index unspecified
    "median_dim_int": (lambda m, x: m.median(x, -1), [(3, 5)], {"dtype": "int64", "skip_outputs": (1,)}),
    "kthvalue": (lambda m, x: m.kthvalue(x, 2), [(3, 5)]),
    "kthvalue_dim": (lambda m, x: x.kthvalue(4, 0, True), [(4, 3)], {"noncontig": True}),
    "kthvalue_0d": (lambda m, x: m.kthvalue(x, 1), [()]),
    "kthvalue_int": (lambda m, x: m.kthvalue(x, 3, dim=1), [(3, 5)], {"dtype": "int64", "skip_outputs": (1,)}),
    # comparisons and searching (no gradients)
    "isclose": (lambda m, a, b: m.isclose(a, a + b * 1e-6) | m.isclose(a, b, rtol=0.5, atol=0.1),
                [(3, 4), (4,)], {"grad": False}),
    "isclose_special": (lambda m, a: m.isclose(_nans(m, a) / (a < -0.8), _nans(m, a) / (a < -0.8),
                                               equal_nan=True), [(3, 5)], {"grad": False}),
    "isclose_nonan": (lambda m, a: a.isclose(_nans(m, a)), [(2, 5)], {"grad": False, "noncontig": True}),
    "isclose_int": (lambda m, a, b: m.isclose(a, b, rtol=0, atol=2), [(4,), (4,)], {"dtype": "int64"}),
    "allclose": (lambda m, a, b: (m.allclose(a, a + b * 1e-7), a.allclose(a + 1), m.allclose(a, b, atol=10)),
                 [(3, 4), (4,)], {"grad": False}),
    "equal": (lambda m, a, b: (m.equal(a, a * 1), a.equal(b), m.equal(a, a[:1]), m.equal(a, a + 0 * b)),
              [(2, 3), (2, 3)], {"dtype": "int64"}),
    "signbit": (lambda m, x: m.signbit(x), [(3, 4)], {"grad": False, "noncontig": True}),
    "signbit_zero": (lambda m, x: (x * 0).signbit() | m.signbit(x * 0 - 0.0), [(4,)], {"grad": False}),
    "signbit_int": (lambda m, x: m.signbit(x), [(5,)], {"dtype": "int64"}),
    "searchsorted": (lambda m, s, v: m.searchsorted(m.sort(s).values, v), [(6,), (3, 4)], {"grad": False}),
    "searchsorted_right": (lambda m, s, v: m.searchsorted(m.sort(s).values, v, right=True), [(6,), (5,)],
                           {"dtype": "int64"}),
    "searchsorted_side": (lambda m, s, v: m.searchsorted(m.sort(s).values, v, side="right", out_int32=True),
                          [(7,), (4,)], {"dtype": "int64"}),
    "searchsorted_nd": (lambda m, s, v: m.searchsorted(m.sort(s, -1).values, v), [(2, 5), (2, 3)],
                        {"grad": False}),
    "searchsorted_sorter": (lambda m, s, v: m.searchsorted(s, v, sorter=m.argsort(s)), [(6,), (4,)],
                            {"dtype": "int64"}),
    "searchsorted_0d": (lambda m, s, v: m.searchsorted(m.sort(s).values, v), [(4,), ()], {"grad": False}),
    "bucketize": (lambda m, v, b: m.bucketize(v, m.sort(b).values), [(3, 4), (5,)], {"grad": False}),
    "bucketize_right": (lambda m, v, b: m.bucketize(v, m.sort(b).values, right=True, out_int32=True),
                        [(8,), (4,)], {"dtype": "int64"}),
}


def _case(name):
    f, shapes, *opt = CASES[name]
    return f, shapes, (opt[0] if opt else {})


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name):
    f, shapes, opt = _case(name)
    check(f, *shapes, **opt)


def test_new_factories():
    makers = [lambda m, x: x.new_ones(2, 3), lambda m, x: x.new_ones((3,)),
              lambda m, x: x.new_zeros([2, 1]), lambda m, x: x.new_zeros(4, dtype=m.bool),
              lambda m, x: x.new_full((2, 2), 7), lambda m, x: x.new_full([3], 2.5),
              lambda m, x: x.new_tensor([[1.5, -2.0], [3.0, 4.25]]), lambda m, x: x.new_tensor(5),
              lambda m, x: tuple(x.new_empty(2, 3).shape), lambda m, x: str(x.new_empty((0,)).dtype)[-5:]]
    for dt in ("float32", "int64"):
        e = ember.tensor(np.zeros((2, 2), dtype=dt))
        t = torch.tensor(np.zeros((2, 2), dtype=dt))
        for f in makers:
            _same(f(ember, e), f(torch, t), 0)
    e, t = ember.zeros(2, dtype=ember.int64), torch.zeros(2, dtype=torch.int64)
    _same(e.new_ones(2, dtype=ember.float64), t.new_ones(2, dtype=torch.float64), 0)
    _same(e.new_tensor([1.7, 2.2], dtype=ember.float32), t.new_tensor([1.7, 2.2], dtype=torch.float32), 0)
    # float64 data keeps float64 precision
    d = ember.zeros(1, dtype=ember.float64).new_tensor([0.1])
    assert d.dtype == ember.float64 and d.numpy()[0] == 0.1
    # a tensor argument is copied and detached
    src = ember.tensor([1.0, 2.0], requires_grad=True)
    c = ember.zeros(1).new_tensor(src)
    assert not c.requires_grad and c.tolist() == [1.0, 2.0]
    for f in ("new_ones", "new_zeros", "new_empty"):
        r = getattr(ember.zeros(1), f)(2, requires_grad=True)
        assert r.requires_grad and r.is_leaf and r.shape == (2,)
    assert ember.zeros(1).new_full((1,), 3.0, requires_grad=True).requires_grad
    assert ember.zeros(1).new_tensor([1.0], requires_grad=True).requires_grad
    assert ember.zeros(1).new_ones(1, device="cpu").device == ember.device("cpu")


def test_tensor_properties():
    for shape, dt in [((2, 3), "float32"), ((), "int64"), ((4, 0), "float64"), ((5,), "int32"),
                      ((3,), "bool"), ((2, 2), "float16")]:
        e, t = ember.zeros(list(shape), dtype=getattr(ember, dt)), torch.zeros(shape, dtype=getattr(torch, dt))
        assert e.ndimension() == t.ndimension()
        assert e.nelement() == t.nelement()
        assert e.is_complex() is t.is_complex() is ember.is_complex(e) is False
        assert e.nbytes == t.nbytes
        assert e.itemsize == t.itemsize
    x = ember.zeros(4, 6)[:, ::2]
    assert x.nbytes == torch.zeros(4, 6)[:, ::2].nbytes == 48


def test_views_share_memory():
    """Functions PyTorch documents as views are views here too."""
    x = ember.zeros(2, 6)
    b = ember.broadcast_to(x[:1], (3, 6))
    g = ember.meshgrid(x[0], x[1], indexing="ij")[0]
    x.view_as(ember.zeros(3, 4))[0, 0] = 1.0
    x.swapaxes(0, 1)[1, 0] = 2.0
    ember.tensor_split(x, 3, dim=1)[2][1, 0] = 3.0
    assert x.tolist() == [[1, 2, 0, 0, 0, 0], [0, 0, 0, 0, 3, 0]]
    assert b.tolist() == [x[0].tolist()] * 3
    assert g[:, 0].tolist() == x[0].tolist()


def test_bincount():
    for t_in, w, ml in [([0, 1, 1, 4, 2, 1], None, 0), ([3, 0, 3], None, 6), ([], None, 0), ([], None, 3)]:
        e = ember.bincount(ember.tensor(np.asarray(t_in, np.int64)), minlength=ml)
        t = torch.bincount(torch.tensor(np.asarray(t_in, np.int64)), minlength=ml)
        _same(e, t, 0)
    idx = RNG.integers(0, 5, 12)
    for wdt in (np.float32, np.int64, np.float64):
        w = RNG.integers(-3, 4, 12).astype(wdt)
        e = ember.tensor(idx).bincount(ember.tensor(w), 7)
        t = torch.tensor(idx).bincount(torch.tensor(w), 7)
        _same(e, t, 1e-6)
    _same(ember.bincount(ember.tensor(idx.astype(np.int32))), torch.bincount(torch.tensor(idx.astype(np.int32))), 0)


def test_compile_matches_eager():
    x = ember.tensor(RNG.standard_normal((3, 4)).astype(np.float32))
    y = ember.tensor(RNG.standard_normal((3, 4)).astype(np.float32))
    fns = [lambda a, b: ember.hypot(a, b) * 2.0,
           lambda a, b: ember.logaddexp(a, b * 3.0) - a,
           lambda a, b: ember.diff(a, 2, 1) + ember.diff(b, dim=0).sum(),
           lambda a, b: ember.kron(a, b[:2, :2]),
           lambda a, b: ember.trace(a) + ember.trace(b[:, :3]) * a,
           lambda a, b: ember.broadcast_to(a[0], (2, 3, 4)) + b,
           lambda a, b: (a * 3.0).type_as(ember.zeros(1, dtype=ember.int64)) + b.type_as(a)]
    for fn in fns:
        want = fn(x, y)
        got = ember.compile(fn)(x, y)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


def test_compile_gradients():
    """Gradients through a compiled call match eager (hypot and logaddexp)."""
    a = RNG.standard_normal((2, 3)).astype(np.float32)
    b = RNG.standard_normal((2, 3)).astype(np.float32)
    fn = lambda p, q: (ember.hypot(p, q) + ember.logaddexp(p, q) * p).sum()  # noqa: E731
    grads = []
    for f in (fn, ember.compile(fn)):
        p, q = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
        f(p, q).backward()
        grads.append((p.grad.numpy(), q.grad.numpy()))
    for g0, g1 in zip(*grads):
        np.testing.assert_allclose(g1, g0, rtol=1e-5, atol=1e-5)


def test_special_values():
    inf, nan = math.inf, math.nan
    a = [inf, -inf, inf, 1.0, nan, -inf, 0.0, 3e38]
    b = [inf, -inf, 2.0, -inf, 1.0, inf, -0.0, 3e38]
    for name in ("hypot", "logaddexp", "logaddexp2", "xlogy"):
        e = getattr(ember, name)(ember.tensor(a), ember.tensor(b))
        t = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, err_msg=name)
    e, t = ember.tensor([0.0, 0.0, nan, 2.0]), torch.tensor([0.0, 0.0, nan, 2.0])
    y = [nan, 0.0, 1.0, 0.0]
    np.testing.assert_array_equal(ember.xlogy(e, ember.tensor(y)).numpy(), torch.xlogy(t, torch.tensor(y)).numpy())
    assert ember.isclose(ember.tensor([inf, -inf, inf]), ember.tensor([inf, -inf, -inf])).tolist() == [True, True, False]


def test_positive_bool_and_moveaxis_alias():
    with pytest.raises(RuntimeError, match="positive.*bool"):
        ember.positive(ember.tensor([True]))
    x = ember.zeros(2, 3, 4)
    assert ember.moveaxis(x, 1, 0).shape == ember.movedim(x, 1, 0).shape == (3, 2, 4)


@pytest.mark.parametrize("fn, match", [
    (lambda: ember.diag(ember.zeros(2, 2, 2)), r"diag: expected a 1-D or 2-D tensor, got 3-D"),
    (lambda: ember.cross(ember.zeros(2, 4), ember.zeros(2, 4), dim=1), r"cross: dimension 1 does not have size 3"),
    (lambda: ember.cross(ember.zeros(2, 4), ember.zeros(2, 4)), r"cross: no dimension of size 3"),
    (lambda: ember.cross(ember.zeros(2, 3), ember.zeros(3)), r"cross: inputs must have the same number of dims"),
    (lambda: ember.diagonal(ember.zeros(3, 3), 0, 1, -1), r"diagonal: diagonal dimensions cannot be identical"),
    (lambda: ember.diagonal(ember.zeros(3)), r"diagonal: expected a tensor with at least 2 dims"),
    (lambda: ember.trace(ember.zeros(3)), r"trace: expected a 2-D tensor"),
    (lambda: ember.rot90(ember.zeros(2, 2), 1, (0, 0)), r"rot90: expected rotation dims to be different"),
    (lambda: ember.rot90(ember.zeros(2), 1), r"rot90: expected total dims >= 2"),
    (lambda: ember.kthvalue(ember.zeros(3), 4), r"kthvalue: k \(4\) is out of range"),
    (lambda: ember.isclose(ember.zeros(2), ember.zeros(2, dtype=ember.int64)), r"isclose: .*same dtype"),
    (lambda: ember.hsplit(ember.zeros(2, 5), 2), r"hsplit: .*not divisible"),
    (lambda: ember.vsplit(ember.zeros(4), 2), r"vsplit: requires a tensor with at least 2"),
    (lambda: ember.tensor_split(ember.zeros(4), 0), r"tensor_split: number of sections must be larger than 0"),
    (lambda: ember.bincount(ember.tensor([1, -1])), r"bincount: .*negative"),
    (lambda: ember.bincount(ember.zeros(2)), r"bincount: only supports 1-D non-negative integral"),
    (lambda: ember.take(ember.zeros(3), ember.tensor([0.0])), r"take: expected an int64 index"),
    (lambda: ember.meshgrid(ember.zeros(2, 2)), r"meshgrid: expected 0-D or 1-D"),
    (lambda: ember.meshgrid(ember.zeros(2), indexing="ji"), r"meshgrid: indexing must be"),
    (lambda: ember.searchsorted(ember.zeros(2, 3), ember.zeros(3, 1)), r"searchsorted: .*leading dims"),
    (lambda: ember.searchsorted(ember.zeros(3), ember.zeros(1), right=True, side="left"), r"searchsorted: side and right"),
    (lambda: ember.bucketize(ember.zeros(2), ember.zeros(2, 2)), r"bucketize: boundaries must be 1-D"),
    (lambda: ember.diff(ember.tensor(1.0)), r"diff: expects input to be at least one-dimensional"),
    (lambda: ember.nanmean(ember.tensor([1, 2])), r"nanmean: expected a floating-point tensor"),
    (lambda: ember.hypot(ember.tensor([1]), ember.tensor([1])), r"hypot: expected a floating-point tensor"),
    (lambda: ember.moveaxis(ember.zeros(2, 3), (0, 1), (1,)), r"moveaxis: source"),
])
def test_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()
