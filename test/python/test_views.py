"""Views (permute, slicing, select, narrow, squeeze, unsqueeze, flatten, view), cat, stack,
where and every torch.matmul case, against PyTorch: values, storage sharing, gradients."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(13)


def pair(*shape):
    x = RNG.standard_normal(shape).astype(np.float32)
    return ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def check(fe, ft, *shapes, tol=1e-5):
    """fe/ft on the same random inputs: values and the gradient of every input."""
    ins = [pair(*s) for s in shapes]
    eo, to = fe(*[e for e, _ in ins]), ft(*[t for _, t in ins])
    assert eo.shape == tuple(to.shape)
    np.testing.assert_allclose(eo.numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    for e, t in ins:
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


INDEXES = [(1,), (-1,), (slice(1, 3),), (slice(None, None, 2),), (Ellipsis, 1),
           (None, 0, slice(1, None)), (slice(0, 2), Ellipsis, slice(None, None, 3)),
           (0, 1, 2), (slice(-2, None), None), (slice(5, 10),), (slice(None), -1, None)]


@pytest.mark.parametrize("index", INDEXES)
def test_getitem_like_torch(index):
    check(lambda a: a[index] * 1.0, lambda a: a[index] * 1.0, (3, 4, 5))


def test_slices_are_views_sharing_storage():
    x = ember.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    v = x[:, 1:, ::2]
    assert not v.is_contiguous() and v.shape == (2, 2, 2)
    assert np.shares_memory(v.numpy(), x.numpy())
    assert x.permute(2, 0, 1).stride() == (1, 12, 4)


@pytest.mark.parametrize("case", [
    (lambda a: a.permute(2, 0, 1), (2, 3, 4)),
    (lambda a: a.unsqueeze(1).unsqueeze(-1), (3, 4)),
    (lambda a: a.squeeze(), (3, 1, 4, 1)),
    (lambda a: a.squeeze(1), (3, 1, 4, 1)),
    (lambda a: a.flatten(), (2, 3, 4)),
    (lambda a: a.flatten(1), (2, 3, 4)),
    (lambda a: a.narrow(1, 1, 2), (3, 4)),
    (lambda a: a.select(0, -1), (3, 4)),
    (lambda a: a.view(4, 6), (2, 3, 4)),
    (lambda a: a.reshape(-1, 2), (2, 3, 4)),
    (lambda a: a.expand(2, -1, 4), (3, 1)),
    (lambda a: a.t(), (3, 4)),
    (lambda a: a.transpose(0, 2)[1:], (2, 3, 4)),
])
def test_view_ops_and_their_gradients(case):
    f, shape = case
    check(f, f, shape)


def test_cat_and_stack():
    check(lambda a, b: ember.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), (2, 3), (2, 5))
    check(lambda a, b: ember.cat([a, b, a], -1), lambda a, b: torch.cat([a, b, a], -1), (2, 1), (2, 2))
    check(lambda a, b: ember.stack([a, b], 1), lambda a, b: torch.stack([a, b], 1), (3, 4), (3, 4))
    mixed = ember.cat([ember.tensor([1, 2]), ember.tensor([0.5])])
    assert mixed.dtype == ember.float32 and mixed.tolist() == [1.0, 2.0, 0.5]


def test_where():
    c = RNG.standard_normal((3, 4)) > 0
    check(lambda a, b: ember.where(ember.tensor(c), a, b), lambda a, b: torch.where(torch.tensor(c), a, b),
          (3, 4), (4,))
    np.testing.assert_array_equal(ember.where(ember.tensor(c), 1.0, ember.zeros(4)).numpy(),
                                  torch.where(torch.tensor(c), 1.0, torch.zeros(4)).numpy())


@pytest.mark.parametrize("sa,sb", [((5,), (5,)), ((3, 5), (5,)), ((5,), (5, 2)), ((2, 3, 4), (4, 6)),
                                   ((4,), (2, 4, 3)), ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5))])
def test_matmul_every_case(sa, sb):
    check(lambda a, b: a @ b, lambda a, b: a @ b, sa, sb, tol=1e-4)


def test_bmm_dot_outer_mm():
    check(ember.bmm, torch.bmm, (2, 3, 4), (2, 4, 5), tol=1e-4)
    check(ember.dot, torch.dot, (6,), (6,), tol=1e-4)
    check(ember.outer, torch.outer, (3,), (4,))
    check(ember.mm, torch.mm, (3, 4), (4, 2), tol=1e-4)


def test_view_and_index_errors():
    x = ember.ones(2, 3)
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[5]
    with pytest.raises(RuntimeError, match="use .reshape"):
        x.t().view(6)
    with pytest.raises(ValueError, match="sizes of tensors must match except in dimension 0"):
        ember.cat([ember.ones(2, 3), ember.ones(2, 4)])
    with pytest.raises(ValueError, match="repeats"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match="out of bounds"):
        x[ember.tensor([0, 2])]
    with pytest.raises(TypeError, match="the condition must be bool"):
        ember.where(ember.ones(2), x, x)


def test_compiled_views_cat_and_bmm_match_eager_with_gradients():
    a = ember.tensor(RNG.standard_normal((2, 3, 4)).astype(np.float32), requires_grad=True)
    b = ember.tensor(RNG.standard_normal((2, 4, 5)).astype(np.float32), requires_grad=True)

    def f(a, b):
        y = ember.cat([a.permute(0, 2, 1)[:, 1:, ::2], a[:, :, :2]], 1)
        z = (a @ b)[..., 1:4] + y.sum()
        loss = (z * z).sum() + y.flatten().sum()
        ga, gb = ember.autograd.grad(loss, [a, b])
        return loss, ga, gb

    for got, want in zip(ember.compile(f)(a, b), f(a, b)):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-4)


def test_compiled_where_and_its_gradient():
    a = ember.tensor(RNG.standard_normal((4, 5)).astype(np.float32), requires_grad=True)

    def f(a):
        y = ember.where(a > 0, a * 3.0, ember.exp(a))
        (g,) = ember.autograd.grad(y.sum(), [a])
        return y, g

    for got, want in zip(ember.compile(f)(a), f(a)):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-6)


def test_stride_of_a_dim_storage_offset_and_data_ptr_follow_torch():
    x, t = ember.arange(12.).reshape(3, 4), torch.arange(12.).reshape(3, 4)
    for f in (lambda a: a.stride(), lambda a: a.stride(0), lambda a: a.stride(-1),
              lambda a: a.t()[1:].storage_offset(), lambda a: a[1:, 2:].storage_offset(),
              lambda a: a[1:].data_ptr() - a.data_ptr(), lambda a: a.sum().stride()):
        assert f(x) == f(t)
    with pytest.raises(IndexError, match="dimension out of range"):
        x.stride(2)
