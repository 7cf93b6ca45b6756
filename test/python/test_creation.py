"""Creation, random draws (reproducible, right distribution) and in-place writes, against
PyTorch where values are deterministic."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize("args", [(5,), (2, 7), (0, 1, 0.25), (1, 2.5, 0.5), (10, 0, -3), (-2.5, 2)])
def test_arange_like_torch(args):
    e, t = ember.arange(*args), torch.arange(*args)
    assert repr(e.dtype) == repr(t.dtype).replace("torch", "ember")
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize("steps", [0, 1, 2, 5, 11])
def test_linspace_logspace_eye(steps):
    np.testing.assert_allclose(ember.linspace(-1, 3, steps).numpy(), torch.linspace(-1, 3, steps).numpy(), rtol=1e-6)
    np.testing.assert_allclose(ember.logspace(-1, 2, steps).numpy(), torch.logspace(-1, 2, steps).numpy(), rtol=1e-5)
    np.testing.assert_array_equal(ember.eye(3, steps).numpy(), torch.eye(3, steps).numpy())


def test_like_functions():
    x = ember.ones(2, 3, dtype=ember.float64)
    for f in (ember.zeros_like, ember.ones_like, ember.empty_like, ember.rand_like, ember.randn_like):
        y = f(x)
        assert y.shape == (2, 3) and y.dtype == ember.float64
    assert ember.full_like(x, 7).tolist() == [[7.0] * 3] * 2


def test_random_is_reproducible_and_advances():
    ember.manual_seed(123)
    a, b = ember.rand(100), ember.randn(50)
    ember.manual_seed(123)
    np.testing.assert_array_equal(ember.rand(100).numpy(), a.numpy())
    np.testing.assert_array_equal(ember.randn(50).numpy(), b.numpy())
    assert not np.array_equal(ember.rand(100).numpy(), a.numpy())
    assert ember.initial_seed() == 123


def test_random_does_not_depend_on_threads():
    draws = []
    for n in (1, 2):
        ember.set_num_threads(n)
        ember.manual_seed(5)
        draws.append((ember.rand(300000).numpy(), ember.randn(300000).numpy()))
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1], draws[1][1])


def test_distributions():
    ember.manual_seed(0)
    u, n = ember.rand(200000).numpy(), ember.randn(200000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01
    assert abs((n > 1.96).mean() - 0.025) < 0.003
    r = ember.randint(3, 8, (100000,)).numpy()
    assert r.min() == 3 and r.max() == 7 and abs(r.mean() - 5) < 0.03
    p = ember.randperm(1000).numpy()
    assert sorted(p.tolist()) == list(range(1000)) and not np.array_equal(p, np.arange(1000))
    b = ember.bernoulli(ember.full((100000,), 0.3)).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.01
    x = ember.empty(100000).normal_(2.0, 0.5).numpy()
    assert abs(x.mean() - 2) < 0.01 and abs(x.std() - 0.5) < 0.01
    y = ember.empty(100000).uniform_(-3, -1).numpy()
    assert y.min() >= -3 and y.max() < -1


def test_in_place_ops_and_setitem_write_through_views():
    e, t = ember.zeros(3, 4), torch.zeros(3, 4)
    for x in (e, t):
        x[1] = 5.0
        x[:, ::2] += 1
        x.mul_(2)
        x[0, 1:3] = x[2, :2] * 3
        x[..., -1].exp_()
        x.t()[1].sub_(0.5)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    z = ember.ones(2, 2)
    z.zero_()
    assert z.tolist() == [[0, 0], [0, 0]]
    z.fill_(3)
    assert z.tolist() == [[3, 3], [3, 3]]


def test_in_place_errors():
    with pytest.raises(TypeError, match="result type float32 can't be cast to the desired output type int64"):
        ember.arange(4).div_(2)
    with pytest.raises(ValueError, match="doesn't match the broadcast shape"):
        ember.zeros(3).add_(ember.ones(2, 3))
    w = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w.add_(1)
    with ember.no_grad():
        w.add_(1)
    assert w.tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="step must be nonzero"):
        ember.arange(0, 1, 0)
    with pytest.raises(ValueError, match="from=5 >= to=2"):
        ember.randint(5, 2, (3,))
    with pytest.raises(TypeError, match="needs a floating point dtype"):
        ember.rand(3, dtype=ember.int64)


def test_from_numpy_shares_memory_like_torch():
    import numpy as np
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    t = ember.from_numpy(a)
    assert t.dtype == ember.float64 and t.shape == (3, 4)
    a[0, 1] = 100.0
    assert t[0, 1].item() == 100.0
    t[2, 3] = -7.0
    assert a[2, 3] == -7.0
    s = ember.from_numpy(a[:, ::2])  # strided views share too
    assert s.stride() == (4, 2) and s[1, 1].item() == a[1, 2]
    del a
    assert t.sum().item() == sum(range(12)) - 1 + 100 - 11 - 7  # the array outlives `a`
    with pytest.raises(ValueError, match="negative"):
        ember.from_numpy(np.arange(3)[::-1])
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


def test_arange_float_bound_gives_float_like_torch():
    import torch
    for args in [(3.0,), (0, 3.0), (1.0, 4), (5,), (0, 5, 2)]:
        e, t = ember.arange(*args), torch.arange(*args)
        assert str(e.dtype).replace("ember", "torch") == str(t.dtype), args
        assert e.tolist() == t.tolist()
