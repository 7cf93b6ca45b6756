"""ember.nn.functional's layers against torch.nn.functional: convolution, pooling,
normalization, padding, resizing, attention and the losses' extra arguments; values and
gradients on random inputs, float32 and float64, and the errors bad input raises."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

# torch warns that even-kernel padding="same" copies its input (ember's im2col pads in place).
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

RNG = np.random.default_rng(23)
TOL = {np.float32: 2e-4, np.float64: 1e-9}
DTYPES = [np.float32, np.float64]


def pair(shape, dtype=np.float32, scale=1.0, grad=True):
    x = (RNG.standard_normal(shape) * scale).astype(dtype)
    return ember.tensor(x, requires_grad=grad), torch.tensor(x, requires_grad=grad)


def close(e, t, tol):
    t = t.detach().numpy() if isinstance(t, torch.Tensor) else t
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    np.testing.assert_allclose(e.numpy(), t, rtol=tol, atol=tol)


def check(eo, to, pairs, tol):
    """Forward values, then the gradients of every pair for a random cotangent."""
    close(eo, to, tol)
    g = RNG.standard_normal(tuple(to.shape)).astype(to.detach().numpy().dtype)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    for e, t in pairs:
        close(e.grad, t.grad, tol * 5)


CONV2D = [
    ((2, 4, 9, 8), (6, 4, 3, 3), {}),
    ((2, 4, 9, 8), (6, 4, 3, 3), {"stride": 2, "padding": 1}),
    ((1, 3, 10, 11), (5, 3, 3, 2), {"stride": (2, 3), "padding": (2, 0), "dilation": (1, 2)}),
    ((2, 4, 8, 8), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 6, 7, 7), (6, 1, 3, 3), {"groups": 6, "padding": "same"}),  # depthwise
    ((2, 3, 8, 9), (4, 3, 4, 2), {"padding": "same", "dilation": 2}),  # asymmetric 'same'
    ((2, 3, 8, 9), (4, 3, 3, 3), {"padding": "valid"}),
    ((3, 7, 7), (5, 3, 3, 3), {"padding": 1}),  # unbatched
    ((2, 3, 5, 5), (4, 3, 1, 1), {}),
    ((2, 3, 6, 6), (4, 3, 6, 6), {}),  # kernel covers the input
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,ws,kw", CONV2D)
def test_conv2d(xs, ws, kw, dtype):
    (ex, tx), (ew, tw), (eb, tb) = pair(xs, dtype), pair(ws, dtype), pair(ws[:1], dtype)
    check(F.conv2d(ex, ew, eb, **kw), TF.conv2d(tx, tw, tb, **kw), [(ex, tx), (ew, tw), (eb, tb)],
          TOL[dtype])


def test_conv2d_inference_runs_large_batches_in_chunks():
    # Without autograd, columns beyond ~1M floats are built a few images at a time.
    ex, tx = pair((3, 32, 46, 45), grad=False)
    (ew, tw), (eb, tb) = pair((8, 16, 3, 3), grad=False), pair((8,), grad=False)
    with ember.no_grad():
        eo = F.conv2d(ex, ew, eb, padding=1, groups=2)
    close(eo, TF.conv2d(tx, tw, tb, padding=1, groups=2), 2e-4)
    assert eo.is_contiguous()


def test_results_are_contiguous_like_torch():
    x, w = ember.ones((2, 3, 6, 6)), ember.ones((4, 3, 3, 3))
    for y in (F.conv2d(x, w), F.conv2d(x, w, ember.ones(4)), F.max_pool2d(x, 2), F.avg_pool2d(x, 2),
              F.unfold(x, 2), F.conv_transpose2d(x, ember.ones((3, 2, 2, 2)))):
        assert y.is_contiguous()
        assert y.view(2, -1).shape[0] == 2


def test_conv2d_without_bias_and_non_contiguous_input():
    ex, tx = pair((2, 5, 3, 8))
    ew, tw = pair((4, 3, 2, 3))
    eo = F.conv2d(ex.transpose(1, 2), ew, stride=(1, 2))
    to = TF.conv2d(tx.transpose(1, 2), tw, stride=(1, 2))
    check(eo, to, [(ex, tx), (ew, tw)], 2e-4)


CONV1D = [
    ((2, 4, 17), (6, 4, 3), {}),
    ((2, 4, 17), (6, 2, 5), {"groups": 2, "stride": 3, "padding": 2, "dilation": 2}),
    ((4, 12), (3, 4, 4), {"padding": "same"}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,ws,kw", CONV1D)
def test_conv1d(xs, ws, kw, dtype):
    (ex, tx), (ew, tw), (eb, tb) = pair(xs, dtype), pair(ws, dtype), pair(ws[:1], dtype)
    check(F.conv1d(ex, ew, eb, **kw), TF.conv1d(tx, tw, tb, **kw), [(ex, tx), (ew, tw), (eb, tb)],
          TOL[dtype])


CONV_T2D = [
    ((2, 4, 5, 6), (4, 3, 3, 3), {}),
    ((2, 4, 5, 6), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 4, 4, 5), (4, 2, 3, 2), {"stride": (2, 3), "groups": 2, "dilation": (2, 1),
                                  "output_padding": (1, 0)}),
    ((3, 4, 4), (3, 5, 2, 2), {"stride": 2}),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,ws,kw", CONV_T2D)
def test_conv_transpose2d(xs, ws, kw, dtype):
    out_ch = ws[1] * kw.get("groups", 1)
    (ex, tx), (ew, tw), (eb, tb) = pair(xs, dtype), pair(ws, dtype), pair((out_ch,), dtype)
    check(F.conv_transpose2d(ex, ew, eb, **kw), TF.conv_transpose2d(tx, tw, tb, **kw),
          [(ex, tx), (ew, tw), (eb, tb)], TOL[dtype])


def test_conv_transpose1d_and_second_order_gradient():
    (ex, tx), (ew, tw) = pair((2, 3, 7)), pair((3, 2, 3))
    check(F.conv_transpose1d(ex, ew, stride=2, padding=1),
          TF.conv_transpose1d(tx, tw, stride=2, padding=1), [(ex, tx), (ew, tw)], 2e-4)
    # Im2Col and Col2Im are each other's VJP, so gradients of gradients work.
    (ex, tx), (ew, tw) = pair((1, 2, 5, 5), np.float64), pair((3, 2, 3, 3), np.float64)
    (egx,) = ember.autograd.grad((F.conv2d(ex, ew, padding=1) * F.conv2d(ex, ew, padding=1)).sum(), [ex], create_graph=True)
    (tgx,) = torch.autograd.grad((TF.conv2d(tx, tw, padding=1) * TF.conv2d(tx, tw, padding=1)).sum(), [tx], create_graph=True)
    close(egx, tgx, 1e-9)
    (egw,) = ember.autograd.grad((egx * egx).sum(), [ew])
    (tgw,) = torch.autograd.grad((tgx * tgx).sum(), [tw])
    close(egw, tgw, 1e-8)


MAXPOOL2D = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 2, 10, 9), {"kernel_size": (3, 2), "stride": (2, 1), "dilation": (2, 1)}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((2, 3, 9, 9), {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((3, 6, 6), {"kernel_size": 3, "stride": 1, "padding": 1}),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,kw", MAXPOOL2D)
def test_max_pool2d(xs, kw, dtype):
    ex, tx = pair(xs, dtype)
    ev, ei = F.max_pool2d(ex, return_indices=True, **kw)
    tv, ti = TF.max_pool2d(tx, return_indices=True, **kw)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    assert ei.dtype == ember.int64
    check(ev, tv, [(ex, tx)], TOL[dtype])


@pytest.mark.parametrize("kw", [{"kernel_size": 3}, {"kernel_size": 2, "stride": 1, "padding": 1},
                                {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}])
def test_max_pool1d(kw):
    ex, tx = pair((2, 3, 15))
    ev, ei = F.max_pool1d(ex, return_indices=True, **kw)
    tv, ti = TF.max_pool1d(tx, return_indices=True, **kw)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    check(ev, tv, [(ex, tx)], 1e-6)
    close(F.max_pool1d(ex[0], **kw), TF.max_pool1d(tx[0], **kw), 1e-6)


AVGPOOL2D = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((2, 3, 8, 7), {"kernel_size": (3, 2), "stride": 2, "ceil_mode": True}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                    "count_include_pad": False}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 6, 6), {"kernel_size": 2, "divisor_override": 3}),
    ((3, 6, 6), {"kernel_size": 3, "stride": 1, "padding": 1}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,kw", AVGPOOL2D)
def test_avg_pool2d(xs, kw, dtype):
    ex, tx = pair(xs, dtype)
    check(F.avg_pool2d(ex, **kw), TF.avg_pool2d(tx, **kw), [(ex, tx)], TOL[dtype])


def test_avg_pool1d():
    ex, tx = pair((2, 3, 11))
    for kw in [{"kernel_size": 3}, {"kernel_size": 4, "stride": 2, "padding": 2, "ceil_mode": True,
                                     "count_include_pad": False}]:
        close(F.avg_pool1d(ex, **kw), TF.avg_pool1d(tx, **kw), 1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,size", [((2, 3, 8, 8), 1), ((2, 3, 10, 7), (4, 3)),
                                     ((2, 3, 7, 9), (None, 5)), ((3, 5, 5), 7)])
def test_adaptive_avg_pool2d(xs, size, dtype):
    ex, tx = pair(xs, dtype)
    check(F.adaptive_avg_pool2d(ex, size), TF.adaptive_avg_pool2d(tx, size), [(ex, tx)], TOL[dtype])


def test_adaptive_avg_pool1d():
    ex, tx = pair((2, 3, 10))
    check(F.adaptive_avg_pool1d(ex, 4), TF.adaptive_avg_pool1d(tx, 4), [(ex, tx)], 1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs", [(4, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_training_updates_running_stats(xs, dtype):
    ex, tx = pair(xs, dtype)
    (ew, tw), (eb, tb) = pair((3,), dtype), pair((3,), dtype)
    rm0, rv0 = RNG.standard_normal(3).astype(dtype), RNG.uniform(0.5, 2, 3).astype(dtype)
    erm, erv = ember.tensor(rm0.copy()), ember.tensor(rv0.copy())
    trm, trv = torch.tensor(rm0.copy()), torch.tensor(rv0.copy())
    eo = F.batch_norm(ex, erm, erv, ew, eb, training=True, momentum=0.3)
    to = TF.batch_norm(tx, trm, trv, tw, tb, training=True, momentum=0.3)
    check(eo, to, [(ex, tx), (ew, tw), (eb, tb)], TOL[dtype] * 10)
    close(erm, trm, TOL[dtype])
    close(erv, trv, TOL[dtype])
    # Evaluation uses the running statistics.
    ex2, tx2 = pair(xs, dtype)
    for e, t in [(ew, tw), (eb, tb)]:
        e.grad, t.grad = None, None
    check(F.batch_norm(ex2, erm, erv, ew, eb), TF.batch_norm(tx2, trm, trv, tw, tb),
          [(ex2, tx2), (ew, tw), (eb, tb)], TOL[dtype])
    # Without running statistics, training mode still normalizes.
    close(F.batch_norm(ex2, None, None, training=True),
          TF.batch_norm(tx2, None, None, training=True), TOL[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_group_norm_instance_norm_layer_norm(dtype):
    ex, tx = pair((2, 6, 4, 3), dtype)
    (ew, tw), (eb, tb) = pair((6,), dtype), pair((6,), dtype)
    check(F.group_norm(ex, 3, ew, eb), TF.group_norm(tx, 3, tw, tb), [(ex, tx), (ew, tw), (eb, tb)],
          TOL[dtype] * 10)
    ex, tx = pair((2, 6, 5), dtype)
    check(F.instance_norm(ex), TF.instance_norm(tx), [(ex, tx)], TOL[dtype] * 10)
    ex, tx = pair((2, 3, 4, 5), dtype)
    (ew, tw), (eb, tb) = pair((4, 5), dtype), pair((4, 5), dtype)
    check(F.layer_norm(ex, (4, 5), ew, eb), TF.layer_norm(tx, (4, 5), tw, tb),
          [(ex, tx), (ew, tw), (eb, tb)], TOL[dtype] * 10)


def test_dropout_edge_cases_and_determinism():
    x = ember.ones((1000,))
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros(1000, np.float32))
    ember.manual_seed(5)
    a = F.dropout(x, 0.5).numpy()
    ember.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a)
    assert set(np.unique(a)) == {0.0, 2.0}
    # The gradient is the same mask, scaled.
    e = ember.ones((1000,), requires_grad=True)
    ember.manual_seed(9)
    y = F.dropout(e, 0.25)
    y.sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), y.detach().numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_embedding_padding_idx():
    ew, tw = pair((7, 3))
    idx = np.array([[1, 0, 6], [6, 2, 1]])
    for p in (6, -1, 0):
        ew.grad = None
        tw.grad = None
        check(F.embedding(ember.tensor(idx), ew, padding_idx=p),
              TF.embedding(torch.tensor(idx), tw, padding_idx=p), [(ew, tw)], 1e-6)
    with pytest.raises(ValueError, match="padding_idx 9 must be within num_embeddings"):
        F.embedding(ember.tensor(idx), ew, padding_idx=9)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,xs,p", [
    ("constant", (2, 3, 4), (1, 2)), ("constant", (2, 3, 4, 5), (1, 0, 2, 3)),
    ("constant", (2, 3, 4, 5), (-1, 2, 0, -2)), ("constant", (3, 4), (1, 1, 2, 0)),
    ("reflect", (2, 3, 6), (2, 3)), ("reflect", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("replicate", (2, 3, 4, 5), (2, 1, 0, 3)), ("replicate", (2, 3, 5), (4, 1)),
    ("circular", (2, 3, 4, 5), (1, 2, 3, 1)),
])
def test_pad(mode, xs, p, dtype):
    ex, tx = pair(xs, dtype)
    kw = {"value": 0.5} if mode == "constant" else {}
    check(F.pad(ex, p, mode=mode, **kw), TF.pad(tx, p, mode=mode, **kw), [(ex, tx)], TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,kw", [
    ((2, 3, 4, 5), {"size": (7, 9), "mode": "nearest"}),
    ((2, 3, 6, 8), {"size": (4, 3), "mode": "nearest"}),
    ((2, 3, 4, 5), {"scale_factor": 2, "mode": "nearest"}),
    ((2, 3, 4, 5), {"scale_factor": 1.7, "mode": "nearest"}),
    ((2, 3, 4, 5), {"size": (7, 9), "mode": "nearest-exact"}),
    ((2, 3, 4, 5), {"size": (7, 9), "mode": "bilinear"}),
    ((2, 3, 4, 5), {"size": (7, 9), "mode": "bilinear", "align_corners": True}),
    ((2, 3, 8, 6), {"size": (3, 4), "mode": "bilinear"}),
    ((2, 3, 4, 5), {"scale_factor": (1.5, 2.5), "mode": "bilinear"}),
    ((2, 3, 4, 5), {"scale_factor": 1.5, "mode": "bilinear", "recompute_scale_factor": True}),
    ((2, 3, 5), {"size": 9, "mode": "linear", "align_corners": True}),
    ((2, 3, 5), {"scale_factor": 3, "mode": "linear"}),
    ((2, 3, 5), {"size": 8, "mode": "nearest"}),
])
def test_interpolate(xs, kw, dtype):
    ex, tx = pair(xs, dtype)
    check(F.interpolate(ex, **kw), TF.interpolate(tx, **kw), [(ex, tx)], TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal", "scale"])
def test_scaled_dot_product_attention(kind, dtype):
    (eq, tq), (ek, tk), (ev, tv) = pair((2, 3, 5, 4), dtype), pair((2, 3, 6, 4), dtype), pair((2, 3, 6, 7), dtype)
    ekw, tkw = {}, {}
    if kind == "bool":
        m = RNG.uniform(size=(5, 6)) > 0.3
        m[:, 0] = True  # no fully masked row
        ekw, tkw = {"attn_mask": ember.tensor(m)}, {"attn_mask": torch.tensor(m)}
    elif kind == "float":
        m = RNG.standard_normal((2, 1, 5, 6)).astype(dtype)
        ekw, tkw = {"attn_mask": ember.tensor(m)}, {"attn_mask": torch.tensor(m)}
    elif kind == "causal":
        ekw = tkw = {"is_causal": True}
    elif kind == "scale":
        ekw = tkw = {"scale": 0.3}
    check(F.scaled_dot_product_attention(eq, ek, ev, **ekw),
          TF.scaled_dot_product_attention(tq, tk, tv, **tkw), [(eq, tq), (ek, tk), (ev, tv)],
          TOL[dtype])


# Losses: the extra arguments.

@pytest.mark.parametrize("kw", [{}, {"reduction": "none"}, {"reduction": "sum"}, {"ignore_index": 1},
                                {"weight": True}, {"label_smoothing": 0.2},
                                {"weight": True, "label_smoothing": 0.1, "ignore_index": 2},
                                {"weight": True, "label_smoothing": 0.1, "reduction": "none"}])
def test_cross_entropy_and_nll_k_dimensional(kw):
    ex, tx = pair((3, 4, 5, 2), np.float64)
    target = RNG.integers(0, 4, (3, 5, 2))
    kw = dict(kw)
    ekw, tkw = dict(kw), dict(kw)
    if kw.pop("weight", False):
        w = RNG.uniform(0.5, 2, 4)
        ekw["weight"], tkw["weight"] = ember.tensor(w), torch.tensor(w)
    check(F.cross_entropy(ex, ember.tensor(target), **ekw),
          TF.cross_entropy(tx, torch.tensor(target), **tkw), [(ex, tx)], 1e-9)
    if "label_smoothing" not in kw:
        close(F.nll_loss(ex, ember.tensor(target), **ekw), TF.nll_loss(tx, torch.tensor(target), **tkw), 1e-9)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probabilities_with_weight(reduction):
    ex, tx = pair((4, 3, 5), np.float64)
    p = RNG.dirichlet(np.ones(3), (4, 5)).transpose(0, 2, 1).copy()
    w = RNG.uniform(0.5, 2, 3)
    for ls in (0.0, 0.25):
        ex.grad, tx.grad = None, None
        check(F.cross_entropy(ex, ember.tensor(p), weight=ember.tensor(w), reduction=reduction,
                              label_smoothing=ls),
              TF.cross_entropy(tx, torch.tensor(p), weight=torch.tensor(w), reduction=reduction,
                               label_smoothing=ls), [(ex, tx)], 1e-9)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_weights(reduction):
    x = RNG.uniform(0.02, 0.98, (4, 5))
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = (RNG.uniform(size=(4, 5)) > 0.5).astype(np.float64)
    w = RNG.uniform(0.5, 2, (5,))
    check(F.binary_cross_entropy(ex, ember.tensor(y), weight=ember.tensor(w), reduction=reduction),
          TF.binary_cross_entropy(tx, torch.tensor(y), weight=torch.tensor(w), reduction=reduction),
          [(ex, tx)], 1e-9)
    el, tl = pair((4, 5), np.float64, scale=4)
    pw = RNG.uniform(0.5, 3, (5,))
    check(F.binary_cross_entropy_with_logits(el, ember.tensor(y), weight=ember.tensor(w),
                                             reduction=reduction, pos_weight=ember.tensor(pw)),
          TF.binary_cross_entropy_with_logits(tl, torch.tensor(y), weight=torch.tensor(w),
                                              reduction=reduction, pos_weight=torch.tensor(pw)),
          [(el, tl)], 1e-9)


def test_regression_losses_gradients_and_kl_div_batchmean():
    for name, kw in [("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.4}), ("smooth_l1_loss", {"beta": 0.0}),
                     ("huber_loss", {"delta": 0.6}), ("mse_loss", {})]:
        (ex, tx), (ey, ty) = pair((4, 6), np.float64), pair((4, 6), np.float64)
        check(getattr(F, name)(ex, ey, **kw), getattr(TF, name)(tx, ty, **kw), [(ex, tx), (ey, ty)], 1e-9)
    ex, tx = pair((3, 4), np.float64)
    p = RNG.dirichlet(np.ones(4), 3)
    for log_target in (False, True):
        tgt = np.log(p) if log_target else p
        ex.grad, tx.grad = None, None
        check(F.kl_div(F.log_softmax(ex, 1), ember.tensor(tgt), reduction="batchmean", log_target=log_target),
              TF.kl_div(TF.log_softmax(tx, 1), torch.tensor(tgt), reduction="batchmean",
                        log_target=log_target), [(ex, tx)], 1e-9)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(ex, ex, reduction="batchmean")
    # The legacy size_average / reduce arguments.
    close(F.l1_loss(ex, ex * 2, size_average=False), TF.l1_loss(tx, tx * 2, size_average=False), 1e-9)


# Bad input: the exception type PyTorch raises, a message naming the op and the shapes.

def test_conv_errors():
    x = ember.ones((1, 4, 8, 8))
    with pytest.raises(RuntimeError, match=r"conv2d.*expected input\[1, 4, 8, 8\] to have 3 "
                                           r"channels, but got 4 channels instead"):
        F.conv2d(x, ember.ones((6, 3, 3, 3)))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(x, ember.ones((6, 4, 9, 9)))
    with pytest.raises(RuntimeError, match="out_channels divisible by groups"):
        F.conv2d(x, ember.ones((5, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(x, ember.ones((6, 4, 3, 3)), stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        F.conv2d(x, ember.ones((6, 4, 3, 3)), padding="full")
    with pytest.raises(ValueError, match="expected a 3-D \\(unbatched\\) or 4-D"):
        F.conv2d(ember.ones((8, 8)), ember.ones((6, 4, 3, 3)))
    with pytest.raises(ValueError, match="expected a 4-D weight"):
        F.conv2d(x, ember.ones((6, 4, 3)))
    with pytest.raises(RuntimeError, match="expected bias of shape \\[6\\]"):
        F.conv2d(x, ember.ones((6, 4, 3, 3)), ember.ones(5))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv2d(x, ember.ones((6, 4, 3, 3), dtype=ember.float64))
    with pytest.raises(TypeError, match="floating point"):
        F.conv2d(ember.ones((1, 4, 8, 8), dtype=ember.int64), ember.ones((6, 4, 3, 3)))
    with pytest.raises(ValueError, match="stride must have 1 or 2 entries"):
        F.conv2d(x, ember.ones((6, 4, 3, 3)), stride=(1, 1, 1))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(x, ember.ones((4, 2, 3, 3)), output_padding=1)
    with pytest.raises(RuntimeError, match="expected input\\[1, 4, 8, 8\\] to have 3 channels"):
        F.conv_transpose2d(x, ember.ones((3, 2, 3, 3)))


def test_pool_norm_pad_and_interpolate_errors():
    x = ember.ones((1, 2, 4, 4))
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(x, 5)
    with pytest.raises(RuntimeError, match="kernel_size must be greater than zero"):
        F.avg_pool2d(x, 0)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(ember.ones((1, 3)), None, None, training=True)
    with pytest.raises(RuntimeError, match="must have shape \\[2\\]"):
        F.batch_norm(x, ember.zeros(3), ember.ones(3))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        F.group_norm(x, 3)
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input"):
        F.pad(x, (4, 0), mode="reflect")
    with pytest.raises(ValueError, match="Padding length must be divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(NotImplementedError, match="padding mode 'mirror' is not supported"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(NotImplementedError, match="mode 'bicubic' is not supported"):
        F.interpolate(x, size=3, mode="bicubic")
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=ember.ones((4, 4)), is_causal=True)


def test_convolution_and_max_pool_indices_compile():
    # (test_compile_conv.py covers convolution and pooling through the compiler in depth.)
    if not ember._C.has_compiler:
        pytest.skip("built without the compiler")
    w = ember.ones((2, 1, 3, 3))
    x = ember.arange(25.0).reshape(1, 1, 5, 5)
    got = ember.compile(lambda x: F.conv2d(x, w), fullgraph=True)(x)
    np.testing.assert_allclose(got.numpy(), F.conv2d(x, w).numpy())
    pool = lambda x: F.max_pool2d(x, 2, return_indices=True)
    got = ember.compile(pool, fullgraph=True)(x)
    for g, e in zip(got, pool(x)):
        assert g.dtype == e.dtype and g.tolist() == e.tolist()


def test_batch_norm_running_stats_update_compiles_and_is_written_back():
    if not ember._C.has_compiler:
        pytest.skip("built without the compiler")
    # Closed-over running stats are the compiled function's state: updated as eagerly.
    rm, rv = ember.zeros(3), ember.ones(3)
    erm, erv = ember.zeros(3), ember.ones(3)
    step = ember.compile(lambda x: F.batch_norm(x, rm, rv, training=True), fullgraph=True)
    for v in (2.0, 5.0):
        x = ember.tensor(RNG.standard_normal((4, 3)).astype(np.float32)) + v
        close(step(x), F.batch_norm(x, erm, erv, training=True), 1e-5)
        np.testing.assert_allclose(rm.numpy(), erm.numpy(), rtol=1e-6)
        np.testing.assert_allclose(rv.numpy(), erv.numpy(), rtol=1e-6)
    # Stats made inside the function are not state: there is nowhere to write them back.
    with pytest.raises(NotImplementedError, match="batch_norm: updating running_mean.*module's buffers"):
        ember.compile(lambda x: F.batch_norm(x, ember.zeros(3), ember.ones(3), training=True),
                      fullgraph=True)(ember.ones((4, 3)))
    x = ember.tensor(RNG.standard_normal((4, 3)).astype(np.float32))
    got = ember.compile(lambda x: F.batch_norm(x, rm, rv) + F.group_norm(x, 1))(x)
    close(got, F.batch_norm(x, rm, rv) + F.group_norm(x, 1), 1e-5)


def test_lenet_training_step_matches_torch():
    """conv -> relu -> max_pool -> conv -> relu -> avg pool -> linear -> cross_entropy, with grads."""
    ex, tx = pair((4, 1, 28, 28), grad=False)
    params = [pair(s) for s in [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (10, 16 * 5 * 5), (10,)]]
    target = RNG.integers(0, 10, 4)

    def net(F_, x, p, tgt):
        h = F_.max_pool2d(F_.relu(F_.conv2d(x, p[0], p[1], padding=2)), 2)
        h = F_.avg_pool2d(F_.relu(F_.conv2d(h, p[2], p[3])), 2)
        return F_.cross_entropy(F_.linear(h.reshape(4, -1), p[4], p[5]), tgt)

    el = net(F, ex, [e for e, _ in params], ember.tensor(target))
    tl = net(TF, tx, [t for _, t in params], torch.tensor(target))
    close(el, tl, 1e-5)
    el.backward()
    tl.backward()
    for e, t in params:
        close(e.grad, t.grad, 1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,kw", [((2, 3, 7, 8), {"kernel_size": 3}),
                                   ((2, 3, 7, 8), {"kernel_size": (2, 3), "dilation": (2, 1),
                                                   "padding": 1, "stride": (2, 3)}),
                                   ((3, 5, 5), {"kernel_size": 2, "stride": 2})])
def test_unfold_and_fold(xs, kw, dtype):
    ex, tx = pair(xs, dtype)
    eu, tu = F.unfold(ex, **kw), TF.unfold(tx, **kw)
    check(eu, tu, [(ex, tx)], TOL[dtype])
    ec, tc = pair(tuple(tu.shape), dtype)
    check(F.fold(ec, xs[-2:], **kw), TF.fold(tc, xs[-2:], **kw), [(ec, tc)], TOL[dtype])
    with pytest.raises(RuntimeError, match="expected size of input's dimension 2 to match"):
        F.fold(ember.ones((1, tu.shape[-2], 1)), xs[-2:], **kw)


def test_attention_dropout_and_inplace_dropout():
    q = ember.tensor(RNG.standard_normal((2, 4, 8)).astype(np.float32))
    ember.manual_seed(11)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5).numpy()
    ember.manual_seed(11)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, q, q, dropout_p=0.5).numpy(), a)
    assert not np.allclose(a, F.scaled_dot_product_attention(q, q, q).numpy())
    x = ember.ones((1000,))
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x or np.array_equal(y.numpy(), x.numpy())
    assert set(np.unique(x.numpy())) == {0.0, 2.0}


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"weight": True}])
def test_a_batch_whose_targets_are_all_ignored_has_zero_gradients(kwargs):
    # The mean over no counted targets is 0 / 0 = NaN (as in torch), but its gradient was
    # 0 * inf = NaN everywhere, so one fully padded batch poisoned the weights; torch gives 0.
    kw = dict(kwargs)
    w = None
    if kw.pop("weight", False):
        w = np.random.default_rng(0).random(5).astype(np.float32)
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    le = F.cross_entropy(xe, ember.full((4,), -100, dtype=ember.int64),
                         weight=None if w is None else ember.tensor(w), **kw)
    lt = TF.cross_entropy(xt, torch.full((4,), -100, dtype=torch.int64),
                          weight=None if w is None else torch.tensor(w), **kw)
    le.backward()
    lt.backward()
    assert np.isnan(float(le)) and np.isnan(float(lt))
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())
    # a batch with some counted targets is unchanged
    t = np.array([1, -100, 3, 0])
    xe.grad = None
    xt.grad = None
    F.cross_entropy(xe, ember.tensor(t), **kw).backward()
    TF.cross_entropy(xt, torch.tensor(t), **kw).backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_binary_cross_entropy_gradient_at_saturated_probabilities():
    # Through the clamped logs the gradient at p = 0 or 1 was 0 * inf = NaN; torch's is
    # (p - t) / max((1 - p) p, 1e-12).
    for pv, tv in (([0.0, 1.0, 0.5], [0.0, 1.0, 1.0]), ([0.0, 1.0], [1.0, 0.0]),
                   ([0.3, 0.9, 0.02], [0.2, 1.0, 0.0])):
        pe, pt = ember.tensor(pv, requires_grad=True), torch.tensor(pv, requires_grad=True)
        le = F.binary_cross_entropy(pe, ember.tensor(tv), reduction="sum")
        lt = TF.binary_cross_entropy(pt, torch.tensor(tv), reduction="sum")
        le.backward()
        lt.backward()
        np.testing.assert_allclose(float(le), float(lt), rtol=1e-6)
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-6)
    z = ember.tensor([20.0, -20.0, 0.5], requires_grad=True)
    F.binary_cross_entropy(ember.sigmoid(z), ember.tensor([1.0, 0.0, 1.0])).backward()
    assert np.isfinite(z.grad.numpy()).all()


def test_smooth_l1_and_huber_refuse_bad_beta_and_delta():
    a, b = ember.randn(3), ember.randn(3)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(a, b, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(a, b, delta=0.0)
    np.testing.assert_allclose(float(F.smooth_l1_loss(a, b, beta=0.0)), float((a - b).abs().mean()), rtol=1e-6)


@pytest.mark.parametrize("name", ["cosine_similarity", "normalize", "pairwise_distance"])
def test_similarity_and_distance_functions_follow_torch(name):
    r = np.random.default_rng(0)
    a = r.standard_normal((4, 5)).astype(np.float32)
    b = r.standard_normal((1, 5)).astype(np.float32)
    a[1] = 0  # a zero vector: cosine similarity 0, normalize leaves it 0
    calls = {"cosine_similarity": lambda M, x, y: M.cosine_similarity(x, y),
             "normalize": lambda M, x, y: M.normalize(x, dim=1) * y,
             "pairwise_distance": lambda M, x, y: M.pairwise_distance(x, y, keepdim=True)}[name]
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    oe, ot = calls(F, ea, eb), calls(TF, ta, tb)
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-5, atol=1e-6)
    oe.pow(2).sum().backward()
    ot.pow(2).sum().backward()
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-5, atol=1e-6)
