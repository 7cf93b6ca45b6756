"""The fused eager softmax, log_softmax and layer_norm (float32 CPU, kernels/Norm.h) against
torch: values and gradients at 1 and 2 threads, rows with NaN or -inf, the create_graph path
(second derivatives through the composite), node names and the saved-output check."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

RNG = np.random.default_rng(9)


def pair(a):
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def grads_match(e_out, t_out, e_ins, t_ins, tol=1e-5):
    g = RNG.standard_normal(tuple(t_out.shape)).astype(np.float32)
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    for e, t in zip(e_ins, t_ins):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,node", [("softmax", "SoftmaxBackward0"),
                                       ("log_softmax", "LogSoftmaxBackward0")])
@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 130), (2, 1), (4096, 10)])
def test_softmax_values_and_gradients(name, node, shape, threads):
    a = (RNG.standard_normal(shape) * 5).astype(np.float32)
    (e, t) = pair(a)
    eo, to = getattr(F, name)(e, -1), getattr(TF, name)(t, -1)
    assert eo.grad_fn.name() == node
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-5)
    grads_match(eo, to, [e], [t])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_rows_with_nan_and_infinities(name):
    a = RNG.standard_normal((4, 9)).astype(np.float32)
    a[0, 3] = np.nan
    a[1, :] = -np.inf
    a[2, 5] = np.inf
    a[3, 2] = -np.inf
    eo = getattr(F, name)(ember.tensor(a), 1).numpy()
    to = getattr(TF, name)(torch.tensor(a), 1).numpy()
    np.testing.assert_allclose(eo, to, rtol=1e-6, atol=1e-6)


def test_softmax_over_other_dims_and_dtypes_still_match():
    a = RNG.standard_normal((3, 5, 4))
    for d in (0, 1):
        np.testing.assert_allclose(F.softmax(ember.tensor(a.astype(np.float32)), d).numpy(),
                                   TF.softmax(torch.tensor(a.astype(np.float32)), d).numpy(), atol=1e-6)
    np.testing.assert_allclose(F.log_softmax(ember.tensor(a), -1).numpy(),
                               TF.log_softmax(torch.tensor(a), -1).numpy(), atol=1e-12)


@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("shape,norm", [((6, 33), (33,)), ((2, 3, 8, 5), (8, 5)), ((300, 256), (256,))])
def test_layer_norm_values_and_gradients(shape, norm, affine, threads):
    x = (RNG.standard_normal(shape) * 3 + 1).astype(np.float32)
    (ex, tx) = pair(x)
    ew = tw = eb = tb = None
    ins = [(ex, tx)]
    if affine != "none":
        ew, tw = pair(RNG.standard_normal(norm).astype(np.float32))
        ins.append((ew, tw))
    if affine == "both":
        eb, tb = pair(RNG.standard_normal(norm).astype(np.float32))
        ins.append((eb, tb))
    eo = F.layer_norm(ex, norm, ew, eb, 1e-5)
    to = TF.layer_norm(tx, norm, tw, tb, 1e-5)
    assert eo.grad_fn.name() == "NativeLayerNormBackward0"
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-4)
    grads_match(eo, to, [e for e, _ in ins], [t for _, t in ins], tol=2e-4)


def test_second_order_gradients_through_the_composites():
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    w = RNG.standard_normal(6).astype(np.float32)
    res = []
    for M, Fm in ((ember, F), (torch, TF)):
        a = M.tensor(x, requires_grad=True)
        ww = M.tensor(w, requires_grad=True)
        y = (Fm.softmax(a, -1) * Fm.log_softmax(a * 2, -1)).sum() + (Fm.layer_norm(a, (6,), ww) ** 3).sum()
        (ga,) = M.autograd.grad(y, (a,), create_graph=True)
        (ga * ga).sum().backward()
        res.append((a.grad.numpy(), ww.grad.numpy()))
    for e, t in zip(*res):
        np.testing.assert_allclose(e, t, rtol=1e-3, atol=1e-3)


def test_modifying_the_softmax_output_in_place_raises():
    a = ember.tensor(RNG.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    y = F.softmax(a, -1)
    with ember.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*SoftmaxBackward0"):
        y.sum().backward()


def test_modifying_the_layer_norm_input_in_place_raises():
    a = ember.tensor(RNG.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    x = a * 1
    y = F.layer_norm(x, (4,))
    with ember.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*NativeLayerNormBackward0"):
        y.sum().backward()
