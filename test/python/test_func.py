"""ember.func (grad, grad_and_value, vjp, jacrev, jvp, jacfwd) against torch.func."""
import numpy as np
import pytest
import torch
import torch.func as tfunc

import ember
import ember.func as efunc
import ember.nn.functional as F
import torch.nn.functional as TF

RNG = np.random.default_rng(11)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(e, t, tol=1e-5):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def f_scalar(lib):
    return lambda x, w: ((x @ w).tanh() ** 2).sum()


def test_grad_matches_torch_and_argnums():
    x, w = rand(3, 4), rand(4, 2)
    ex, ew, tx, tw = ember.tensor(x), ember.tensor(w), torch.tensor(x), torch.tensor(w)
    close(efunc.grad(f_scalar(ember))(ex, ew), tfunc.grad(f_scalar(torch))(tx, tw))
    ge = efunc.grad(f_scalar(ember), argnums=(0, 1))(ex, ew)
    gt = tfunc.grad(f_scalar(torch), argnums=(0, 1))(tx, tw)
    assert isinstance(ge, tuple) and len(ge) == 2
    for a, b in zip(ge, gt):
        close(a, b)
    assert not ge[0].requires_grad and ex.grad is None


def test_grad_and_value_and_has_aux():
    x = rand(5)
    f_e = lambda t: ((t.sin() * t).sum(), t.cos())
    f_t = lambda t: ((t.sin() * t).sum(), t.cos())
    (g, (v, aux)) = efunc.grad_and_value(f_e, has_aux=True)(ember.tensor(x))
    (gt, (vt, auxt)) = tfunc.grad_and_value(f_t, has_aux=True)(torch.tensor(x))
    close(g, gt)
    close(v, vt)
    close(aux, auxt)
    g, aux = efunc.grad(f_e, has_aux=True)(ember.tensor(x))
    close(g, gt)


def test_nested_grad_second_and_third_derivative():
    x = rand(4)
    f_e = lambda t: (t.tanh() * t).sum()
    f_t = lambda t: (t.tanh() * t).sum()
    g2e = efunc.grad(lambda t: efunc.grad(f_e)(t).sum())(ember.tensor(x))
    g2t = tfunc.grad(lambda t: tfunc.grad(f_t)(t).sum())(torch.tensor(x))
    close(g2e, g2t, 1e-4)
    g3e = efunc.grad(lambda t: efunc.grad(lambda u: efunc.grad(f_e)(u).sum())(t).sum())(ember.tensor(x))
    g3t = tfunc.grad(lambda t: tfunc.grad(lambda u: tfunc.grad(f_t)(u).sum())(t).sum())(torch.tensor(x))
    close(g3e, g3t, 1e-4)


def test_grad_errors():
    with pytest.raises(RuntimeError, match="scalar"):
        efunc.grad(lambda t: t * 2)(ember.ones(3))
    with pytest.raises(RuntimeError, match="argnums"):
        efunc.grad(lambda t: t.sum(), argnums=2)(ember.ones(3))
    with pytest.raises(RuntimeError, match="floating point"):
        efunc.grad(lambda t: t.sum())(ember.arange(3))
    # an output that does not depend on the input: zero gradient, like torch.func
    g = efunc.grad(lambda t: ember.ones([]) * 2)(ember.ones(3))
    assert g.tolist() == [0, 0, 0]


def test_vjp_matches_torch():
    x, w, v = rand(3, 4), rand(4, 2), rand(3, 2)
    fe = lambda x, w: (x @ w).sigmoid()
    out, fn = efunc.vjp(fe, ember.tensor(x), ember.tensor(w))
    outt, fnt = tfunc.vjp(fe, torch.tensor(x), torch.tensor(w))
    close(out, outt)
    for _ in range(2):  # the vjp function can be called again
        for a, b in zip(fn(ember.tensor(v)), fnt(torch.tensor(v))):
            close(a, b)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        fn(ember.ones(2, 2))


@pytest.mark.parametrize("shape_in,f", [
    ((4,), lambda m, x: x.sin() * x.sum()),
    ((2, 3), lambda m, x: (x @ x.T).exp()),
    ((3,), lambda m, x: x.sum().tanh()),
    ((2, 4), lambda m, x: m.softmax(x, 1)),
])
def test_jacrev_and_jacfwd_match_torch(shape_in, f):
    x = rand(*shape_in)
    je = efunc.jacrev(lambda t: f(ember, t))(ember.tensor(x))
    jt = tfunc.jacrev(lambda t: f(torch, t))(torch.tensor(x))
    assert list(je.shape) == list(jt.shape)
    close(je, jt, 1e-5)
    jf = efunc.jacfwd(lambda t: f(ember, t))(ember.tensor(x))
    close(jf, jt, 1e-5)


def test_jacrev_argnums_tuple():
    a, b = rand(3), rand(3)
    je = efunc.jacrev(lambda x, y: x * y.exp(), argnums=(0, 1))(ember.tensor(a), ember.tensor(b))
    jt = tfunc.jacrev(lambda x, y: x * y.exp(), argnums=(0, 1))(torch.tensor(a), torch.tensor(b))
    for x, y in zip(je, jt):
        close(x, y)


def test_jvp_matches_torch():
    x, t = rand(3, 4), rand(3, 4)
    fe = lambda u: F.gelu(u) * u.sum(1, keepdim=True)
    ft = lambda u: TF.gelu(u) * u.sum(1, keepdim=True)
    oe, je = efunc.jvp(fe, (ember.tensor(x),), (ember.tensor(t),))
    ot, jt = tfunc.jvp(ft, (torch.tensor(x),), (torch.tensor(t),))
    close(oe, ot)
    close(je, jt, 1e-4)
    with pytest.raises(RuntimeError, match="same shape"):
        efunc.jvp(fe, (ember.tensor(x),), (ember.ones(2),))


def test_hessian_by_jacrev_of_grad():
    x = rand(3)
    he = efunc.jacrev(efunc.grad(lambda t: (t.sin() * t.exp()).sum()))(ember.tensor(x))
    ht = tfunc.hessian(lambda t: (t.sin() * t.exp()).sum())(torch.tensor(x))
    close(he, ht, 1e-4)
