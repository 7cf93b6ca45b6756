"""The fused eager convolution (float32 on the CPU, groups 1): the implicit-GEMM forward and its
gradient kernels against torch, at 1 and 2 threads, across the shapes that pick different tile
widths (8 or 16 channels, several panels), strides, dilations and asymmetric padding; the
create_graph path (double backward through the composite); the saved-tensor checks."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

RNG = np.random.default_rng(5)

CASES = [
    # (x shape, w shape, kwargs): LeNet's two layers first
    ((4, 1, 28, 28), (6, 1, 5, 5), {"padding": 2}),
    ((5, 6, 14, 14), (16, 6, 5, 5), {}),
    ((2, 3, 9, 8), (5, 3, 3, 3), {"padding": 1}),
    ((2, 4, 11, 10), (20, 4, 3, 2), {"stride": 2, "padding": 1}),  # two 16-wide panels
    ((1, 3, 10, 12), (9, 3, 3, 3), {"dilation": 2}),
    ((2, 17, 7, 7), (33, 17, 1, 1), {}),  # 17 input channels: two panels of the input gradient
    ((5, 2, 6, 6), (3, 2, 3, 3), {"stride": 3, "padding": 2}),
    ((2, 5, 8, 8), (7, 5, 4, 4), {"stride": 2, "padding": (1, 2), "dilation": (1, 2)}),
    ((3, 2, 8, 9), (4, 2, 4, 2), {"padding": "same", "dilation": 2}),  # asymmetric padding
    ((3, 9, 5, 5), (12, 9, 5, 5), {}),  # one output position
    ((3, 2, 13, 3), (8, 2, 1, 3), {"padding": (0, 1)}),  # rows narrower than a tile
]


def pair(shape, grad=True):
    x = RNG.standard_normal(shape).astype(np.float32)
    return ember.tensor(x, requires_grad=grad), torch.tensor(x, requires_grad=grad)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs,ws,kw", CASES)
def test_values_and_gradients_match_torch(xs, ws, kw, bias, threads):
    (ex, tx), (ew, tw) = pair(xs), pair(ws)
    eb, tb = pair((ws[0],)) if bias else (None, None)
    eo, to = F.conv2d(ex, ew, eb, **kw), TF.conv2d(tx, tw, tb, **kw)
    assert eo.grad_fn.name() == "ConvolutionBackward0"
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    for e, t in [(ex, tx), (ew, tw)] + ([(eb, tb)] if bias else []):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_only_the_gradients_asked_for():
    # LeNet's first layer: the image needs no gradient; the weight alone does.
    (ex, tx), (ew, tw) = pair((3, 1, 12, 12), grad=False), pair((6, 1, 5, 5))
    F.conv2d(ex, ew, padding=2).sum().backward()
    TF.conv2d(tx, tw, padding=2).sum().backward()
    assert ex.grad is None
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_second_order_gradients_go_through_the_composite():
    (ex, tx), (ew, tw), (eb, tb) = pair((2, 3, 7, 7)), pair((4, 3, 3, 3)), pair((4,))
    outs = []
    for M, x, w, b in ((ember, ex, ew, eb), (torch, tx, tw, tb)):
        y = (M.nn.functional.conv2d(x, w, b, padding=1) ** 2).sum()
        gx, gw = M.autograd.grad(y, (x, w), create_graph=True)
        ((gx ** 2).sum() + (gw * w).sum()).backward()
        outs.append([x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for e, t in zip(*outs):
        np.testing.assert_allclose(e, t, rtol=1e-3, atol=1e-3)


def test_modifying_a_saved_input_in_place_raises():
    ex, _ = pair((2, 3, 6, 6))
    ew, _ = pair((4, 3, 3, 3))
    y = F.conv2d(ex, ew)
    with ember.no_grad():
        ew.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*ConvolutionBackward0"):
        y.sum().backward()


def test_backward_twice_needs_retain_graph():
    ex, tx = pair((2, 3, 6, 6))
    ew, tw = pair((4, 3, 3, 3))
    y = F.conv2d(ex, ew).sum()
    y.backward(retain_graph=True)
    y.backward()  # retained: gradients add up
    TF.conv2d(tx, tw).sum().mul(2).backward()
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-3)
    y2 = F.conv2d(ex, ew).sum()
    y2.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y2.backward()


def test_float64_and_zero_batches_still_match():
    x = RNG.standard_normal((2, 3, 6, 6))
    w = RNG.standard_normal((4, 3, 3, 3))
    e = F.conv2d(ember.tensor(x), ember.tensor(w), padding=1)
    t = TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    assert e.dtype == ember.float64
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10, atol=1e-10)
    z = F.conv2d(ember.zeros((0, 3, 6, 6), requires_grad=True), ember.ones((4, 3, 3, 3)))
    assert tuple(z.shape) == (0, 4, 4, 4)


POOLS = [
    ((4, 6, 28, 28), {"kernel_size": 2}),  # LeNet's
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 2, 10, 9), {"kernel_size": (3, 2), "stride": (2, 1), "dilation": (2, 1)}),
    ((2, 3, 9, 9), {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}),
]


@pytest.mark.parametrize("xs,kw", POOLS)
def test_max_pool_ties_nans_and_gradients_match_torch(xs, kw, threads):
    # Rounded values tie often (the first maximum in scan order takes the gradient, as in
    # torch); a few NaNs and -infs go through the branch-free selection too.
    x = np.round(RNG.standard_normal(xs) * 2).astype(np.float32)
    flat = x.reshape(-1)
    flat[RNG.choice(flat.size, 3, replace=False)] = np.nan
    flat[RNG.choice(flat.size, 5, replace=False)] = -np.inf
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ev, ei), (tv, ti) = F.max_pool2d(ex, return_indices=True, **kw), TF.max_pool2d(tx, return_indices=True, **kw)
    assert ev.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    np.testing.assert_array_equal(ev.detach().numpy(), tv.detach().numpy())
    g = RNG.standard_normal(tuple(tv.shape)).astype(np.float32)
    ev.backward(ember.tensor(g))
    tv.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_max_pool_all_minus_infinity_points_at_the_first_position():
    x = np.full((1, 1, 4, 4), -np.inf, dtype=np.float32)
    ev, ei = F.max_pool2d(ember.tensor(x), 2, return_indices=True)
    tv, ti = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


def test_max_pool_second_order_gradient():
    # The pool's gradient is a scatter of the incoming one: differentiable in it under
    # create_graph (and zero in x), as in torch.
    (ex, tx) = pair((2, 3, 6, 6))
    outs = []
    for M, x in ((ember, ex), (torch, tx)):
        y = (M.nn.functional.max_pool2d(x * x, 2) ** 2).sum()
        (gx,) = M.autograd.grad(y, (x,), create_graph=True)
        (gx * gx).sum().backward()
        outs.append(x.grad.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-4, atol=1e-4)


def test_one_image_splits_its_positions_across_threads_with_the_same_result():
    x, w = pair((1, 8, 30, 30), grad=False)[0], pair((20, 8, 3, 3), grad=False)[0]
    out = []
    for n in (1, 2):
        old = ember.get_num_threads()
        ember.set_num_threads(n)
        try:
            out.append(F.conv2d(x, w, padding=1).numpy())
        finally:
            ember.set_num_threads(old)
    np.testing.assert_array_equal(out[0], out[1])
