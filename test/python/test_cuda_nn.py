"""ember's indexing, scans, sorting, convolution, nn modules, optimizers and a Fashion-MNIST
training run on a CUDA GPU, against PyTorch CUDA (and CPU ember). Skipped without a GPU."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from test_cuda import close, gpu, host, pair

RNG = np.random.default_rng(5)
TDEV = "cuda" if torch.cuda.is_available() else "cpu"
# PyTorch runs float32 convolutions in TF32 on Ampere and newer unless told not to; ember's
# float32 is float32.
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False


def both_idx(a):
    return ember.tensor(a).cuda(), torch.tensor(a, device=TDEV)


def copy_weights(em, tm):
    em.load_state_dict({k: ember.tensor(v.detach().cpu().numpy()) for k, v in tm.state_dict().items()})


@gpu
def test_device_moves_are_differentiable():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.cuda()
    assert y.grad_fn is not None and "ToCopyBackward0" in repr(y)
    (y * y).sum().backward()
    assert not x.grad.is_cuda
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    g = ember.ones(2, device="cuda", requires_grad=True)
    (g.cpu() * 3).sum().backward()
    assert g.grad.is_cuda and host(g.grad).tolist() == [3.0, 3.0]


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_random_draws_on_the_device_equal_the_cpu_draws(dtype):
    dt = getattr(ember, dtype)
    for make in (ember.rand, ember.randn):
        ember.manual_seed(123)
        cpu = make(1000, 3, dtype=dt)
        ember.manual_seed(123)
        dev = make(1000, 3, dtype=dt, device="cuda")
        assert dev.is_cuda
        tol = 1e-3 if dtype == "float16" else 1e-6
        np.testing.assert_allclose(host(dev).astype(np.float64), host(cpu).astype(np.float64), rtol=tol, atol=tol)
    x = ember.ones(100000, device="cuda")
    y = EF.dropout(x, 0.3, training=True)
    kept = host(y) != 0
    assert y.is_cuda and abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(host(y)[kept], 1 / 0.7, rtol=1e-6)
    b = ember.bernoulli(ember.full((50000,), 0.25, device="cuda"))
    assert b.is_cuda and abs(host(b).mean() - 0.25) < 0.01


@gpu
def test_gather_and_scatter_match_torch():
    x = RNG.standard_normal((4, 7)).astype(np.float32)
    idx = RNG.integers(0, 7, (4, 5))
    e, t = pair(x, requires_grad=True)
    ei, ti = both_idx(idx)
    eg, tg = ember.gather(e, 1, ei), torch.gather(t, 1, ti)
    close(eg, tg, 0, 0)
    (eg * eg).sum().backward()
    (tg * tg).sum().backward()
    close(e.grad, t.grad, 1e-6, 1e-6)  # gather's VJP is a scatter_add (repeated indices add)
    # A strided source along dim 0.
    idx0 = RNG.integers(0, 7, (3, 4))
    ei0, ti0 = both_idx(idx0)
    close(ember.gather(e.detach().t(), 0, ei0), torch.gather(t.detach().t(), 0, ti0), 0, 0)
    src = RNG.standard_normal((4, 5)).astype(np.float32)
    es, ts = pair(src)
    close(ember.zeros(4, 7, device="cuda").scatter_add(1, ei, es),
          torch.zeros(4, 7, device=TDEV).scatter_add(1, ti, ts), 1e-6, 1e-6)
    # scatter with distinct indices per row (which duplicate wins is unspecified on GPUs)
    uniq = np.stack([RNG.permutation(7)[:5] for _ in range(4)])
    eu, tu = both_idx(uniq)
    close(ember.ones(4, 7, device="cuda").scatter(1, eu, es), torch.ones(4, 7, device=TDEV).scatter(1, tu, ts), 0, 0)
    ii = RNG.integers(-5, 5, (4, 7))
    eii, tii = both_idx(ii)
    close(ember.zeros(4, 7, dtype=ember.int64, device="cuda").scatter_add(0, ember.tensor(idx0 % 4).cuda(), eii[:3, :4]),
          torch.zeros(4, 7, dtype=torch.int64, device=TDEV).scatter_add(0, torch.tensor(idx0 % 4, device=TDEV), tii[:3, :4]), 0, 0)
    with pytest.raises(RuntimeError, match="out of bounds"):
        ember.gather(e, 1, ember.tensor([[7]]).cuda())


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16"])
def test_cumsum_cumprod(dtype):
    np_dtype = np.int64 if dtype == "int64" else np.float32
    x = (RNG.standard_normal((3, 6, 5)) * (3 if dtype == "int64" else 0.9)).astype(np_dtype)
    e, t = pair(x, dtype)
    tol = 1e-2 if dtype == "float16" else 1e-5
    for d in (0, 1, -1):
        close(ember.cumsum(e, d), torch.cumsum(t, d), tol, tol)
        close(ember.cumprod(e, d), torch.cumprod(t, d), tol, tol)
    if dtype == "float32":
        e, t = pair(x, requires_grad=True)
        g = RNG.standard_normal(x.shape).astype(np.float32)
        ember.cumsum(e, 1).backward(ember.tensor(g).cuda())  # a reverse cumsum
        torch.cumsum(t, 1).backward(torch.tensor(g, device=TDEV))
        close(e.grad, t.grad, 1e-5, 1e-5)


@gpu
@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_sort_argsort_topk(dtype):
    np_dtype = np.int32 if dtype == "int32" else np.float32
    x = (RNG.integers(-4, 4, (5, 300)) if dtype != "float32" else RNG.standard_normal((5, 300))).astype(np_dtype)
    if dtype == "float32":
        x[1, ::7] = np.nan
        x[2, :50] = 0.5  # ties keep their order
    e, t = pair(x, dtype)
    for d, desc in [(1, False), (1, True), (0, False), (0, True)]:
        ev, ei = ember.sort(e, dim=d, descending=desc, stable=True)
        tv, ti = torch.sort(t, dim=d, descending=desc, stable=True)
        close(ev, tv, 0, 0)
        close(ei, ti, 0, 0)
        close(ember.argsort(e, dim=d, descending=desc, stable=True),
              torch.argsort(t, dim=d, descending=desc, stable=True), 0, 0)
    if dtype == "float32":
        ev, ei = ember.topk(e[:, :200], 7, dim=1)
        tv, ti = torch.topk(t[:, :200], 7, dim=1)
        close(ev, tv, 0, 0)


@gpu
@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1),
                                                            (1, 1, 1, 2)])
def test_conv2d_forward_backward(stride, padding, dilation, groups):
    x = RNG.standard_normal((2, 4, 9, 10)).astype(np.float32)
    w = (RNG.standard_normal((6, 4 // groups, 3, 3)) * 0.3).astype(np.float32)
    b = RNG.standard_normal(6).astype(np.float32)
    (ex, tx), (ew, tw), (eb, tb) = (pair(a, requires_grad=True) for a in (x, w, b))
    eo = EF.conv2d(ex, ew, eb, stride, padding, dilation, groups)
    to = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    close(eo, to, 1e-4, 1e-4)
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g).cuda())
    to.backward(torch.tensor(g, device=TDEV))
    for ea, ta in ((ex, tx), (ew, tw), (eb, tb)):
        close(ea.grad, ta.grad, 1e-3, 1e-3)


@gpu
def test_pooling_forward_backward():
    x = RNG.standard_normal((2, 3, 11, 9)).astype(np.float32)
    cases = [(lambda F, a: F.max_pool2d(a, 2)), (lambda F, a: F.max_pool2d(a, 3, 2, 1)),
             (lambda F, a: F.avg_pool2d(a, 3, 2, 1)), (lambda F, a: F.adaptive_avg_pool2d(a, (4, 3)))]
    for f in cases:
        e, t = pair(x, requires_grad=True)
        eo, to = f(EF, e), f(torch.nn.functional, t)
        close(eo, to, 1e-5, 1e-5)
        (eo * eo).sum().backward()
        (to * to).sum().backward()
        close(e.grad, t.grad, 1e-5, 1e-5)


@gpu
def test_cnn_with_batchnorm_trains_like_torch():
    def net(nn):
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Dropout(0.0), nn.Linear(8 * 4 * 4, 10))
    torch.manual_seed(0)
    tm, em = net(torch.nn), net(enn)
    copy_weights(em, tm)
    tm.to(TDEV)
    assert em.cuda() is em and all(p.is_cuda for p in em.parameters())
    eopt = ember.optim.SGD(em.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9)
    for _ in range(3):
        x = RNG.standard_normal((6, 3, 8, 8)).astype(np.float32)
        y = RNG.integers(0, 10, 6)
        (ex, tx), (ey, ty) = pair(x), both_idx(y)
        el = EF.cross_entropy(em(ex), ey)
        tl = torch.nn.functional.cross_entropy(tm(tx), ty)
        close(el, tl, 1e-4, 1e-4)
        eopt.zero_grad(), topt.zero_grad()
        el.backward(), tl.backward()
        eopt.step(), topt.step()
    for (name, ep), tp in zip(em.state_dict().items(), tm.state_dict().values()):
        close(ep, tp, 1e-3, 1e-4)
    em.eval(), tm.eval()
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    ex, tx = pair(x)
    close(em(ex), tm(tx), 1e-4, 1e-4)


@gpu
def test_transformer_encoder_layer_with_embedding():
    torch.manual_seed(1)
    temb, tenc = torch.nn.Embedding(50, 32), torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0,
                                                                             batch_first=True)
    eemb, eenc = enn.Embedding(50, 32), enn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
    copy_weights(eemb, temb), copy_weights(eenc, tenc)
    temb.to(TDEV), tenc.to(TDEV), eemb.cuda(), eenc.cuda()
    ids = RNG.integers(0, 50, (3, 9))
    ei, ti = both_idx(ids)
    eo, to = eenc(eemb(ei)), tenc(temb(ti))
    close(eo, to, 1e-4, 1e-4)
    (eo * eo).mean().backward()
    (to * to).mean().backward()
    close(eemb.weight.grad, temb.weight.grad, 1e-3, 1e-4)
    for (n, ep), tp in zip(eenc.named_parameters(), tenc.parameters()):
        close(ep.grad, tp.grad, 1e-3, 1e-4)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(9).to(TDEV)
    close(EF.scaled_dot_product_attention(eo, eo, eo, is_causal=True),
          torch.nn.functional.scaled_dot_product_attention(to, to, to, attn_mask=causal), 1e-4, 1e-4)


@gpu
@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                     ("Adagrad", dict(lr=0.1)),
                                     ("SGD", dict(lr=0.1, momentum=0.8, dampening=0.3, maximize=True)),
                                     ("Adam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
                                     ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
                                     ("Adagrad", dict(lr=0.1, weight_decay=0.1, lr_decay=0.01))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_optimizers_on_cuda(name, kw, dtype):
    """The fused CUDA updates (one generated kernel per parameter) step for step like PyTorch
    CUDA, and like ember's op-by-op path (fused=False)."""
    w = RNG.standard_normal((5, 4)).astype(np.float32)
    ew, tw = pair(w, dtype, requires_grad=True)
    uw = ember.tensor(w).to(getattr(ember, dtype)).cuda().requires_grad_(True)
    eo, to = getattr(ember.optim, name)([ew], **kw), getattr(torch.optim, name)([tw], **kw)
    uo = getattr(ember.optim, name)([uw], fused=False, **kw)
    for _ in range(4):
        g = RNG.standard_normal(w.shape).astype(np.float32)
        ew.grad, tw.grad = pair(g, dtype)
        uw.grad = ember.tensor(g).to(getattr(ember, dtype)).cuda()
        eo.step(), to.step(), uo.step()
    tol = 1e-5 if dtype == "float32" else 1e-12
    close(ew, tw, tol, tol / 10)
    close(ew, uw.detach(), tol, tol / 10)


def _lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                         nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


@gpu
def test_fashion_mnist_lenet_trains_on_cuda_like_cpu_and_torch():
    try:
        train, test = ember.datasets.FashionMNIST(train=True), ember.datasets.FashionMNIST(train=False)
    except (RuntimeError, FileNotFoundError, OSError) as err:
        pytest.skip(f"Fashion-MNIST not available: {err}")
    xs = ((train.data.numpy()[:, None].astype(np.float32) / 255) - 0.286) / 0.353
    ys = train.targets.numpy()
    xt = ((test.data.numpy()[:2000, None].astype(np.float32) / 255) - 0.286) / 0.353
    yt = test.targets.numpy()[:2000]
    torch.manual_seed(0)
    tm = _lenet(torch.nn)
    runs = {}
    for label in ("ember-cuda", "ember-cpu", "torch-cuda"):
        if label.startswith("ember"):
            m = _lenet(enn)
            copy_weights(m, tm)
            if label == "ember-cuda":
                m.cuda()
            opt = ember.optim.SGD(m.parameters(), lr=0.03, momentum=0.9)
            dev = "cuda" if label == "ember-cuda" else "cpu"
            put = lambda a: ember.tensor(a).to(dev)
            loss_fn, lib = EF.cross_entropy, ember
        else:
            m = _lenet(torch.nn).to(TDEV)
            m.load_state_dict(tm.state_dict())
            opt = torch.optim.SGD(m.parameters(), lr=0.03, momentum=0.9)
            put = lambda a: torch.tensor(a, device=TDEV)
            loss_fn, lib = torch.nn.functional.cross_entropy, torch
        order = np.random.default_rng(0).permutation(len(xs))
        losses = []
        for step in range(200):
            idx = order[step * 64:(step + 1) * 64]
            loss = loss_fn(m(put(xs[idx])), put(ys[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with lib.no_grad():
            pred = np.concatenate([m(put(xt[s:s + 500])).argmax(1).cpu().numpy() for s in range(0, 2000, 500)])
        runs[label] = (losses, float((pred == yt).mean()))
    (lc, ac), (lp, ap), (lt, at) = runs["ember-cuda"], runs["ember-cpu"], runs["torch-cuda"]
    print({k: (round(np.mean(v[0][-20:]), 4), v[1]) for k, v in runs.items()})
    np.testing.assert_allclose(lc[:10], lp[:10], rtol=1e-3)
    np.testing.assert_allclose(lc[:10], lt[:10], rtol=1e-3)
    # Later steps drift apart the way any two SGD runs with 1e-7 differences do (ReLU and
    # max-pool decisions flip); the level they reach agrees.
    for other in (lp, lt):
        assert abs(np.mean(lc[-20:]) - np.mean(other[-20:])) < 0.15 * np.mean(other[-20:]), runs
    assert ac > 0.7 and abs(ac - ap) < 0.04 and abs(ac - at) < 0.04, runs


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_fused_softmax_and_layer_norm_rows_match_torch(dtype):
    """softmax, log_softmax and layer_norm on CUDA run as one row kernel each way (the node is
    the fused one), forward and backward equal to PyTorch CUDA: short and long rows, one
    column, no rows, a transposed input, rows with -inf, with and without affine parameters."""
    tol = {"float32": 2e-5, "float16": 4e-3, "bfloat16": 3e-2}[dtype]
    for shape in [(4, 1), (3, 5, 1000), (2, 33), (0, 7), (6, 4097)]:
        x = RNG.standard_normal(shape).astype(np.float32) * 3
        if x.size and shape[-1] > 2:
            x[..., 0, 1] = -np.inf if x.ndim > 1 else x[..., 1]
        for fn, tfn, node in ((ember.softmax, torch.softmax, "SoftmaxBackward0"),
                              (ember.log_softmax, torch.log_softmax, "LogSoftmaxBackward0")):
            e, t = pair(x, dtype, requires_grad=True)
            ey, ty = fn(e, -1), tfn(t, -1)
            assert node in repr(ey.grad_fn), ey.grad_fn
            close(ey, ty, tol, tol)
            g = RNG.standard_normal(shape).astype(np.float32)
            eg, tg = pair(g, dtype)
            ey.backward(eg)
            ty.backward(tg)
            close(e.grad, t.grad, tol * 4, tol * 4)
        n = shape[-1]
        w = RNG.standard_normal(n).astype(np.float32)
        b = RNG.standard_normal(n).astype(np.float32)
        for affine in (True, False):
            e, t = pair(x if np.isfinite(x).all() else np.nan_to_num(x, neginf=-5), dtype, True)
            ew, tw = pair(w, dtype, True)
            eb, tb = pair(b, dtype, True)
            ey = EF.layer_norm(e, (n,), ew if affine else None, eb if affine else None, 1e-5)
            ty = torch.nn.functional.layer_norm(t, (n,), tw if affine else None,
                                                tb if affine else None, 1e-5)
            assert "NativeLayerNormBackward0" in repr(ey.grad_fn), ey.grad_fn
            close(ey, ty, tol * 4, tol * 4)
            g = RNG.standard_normal(shape).astype(np.float32)
            eg, tg = pair(g, dtype)
            ey.backward(eg)
            ty.backward(tg)
            close(e.grad, t.grad, tol * 8, tol * 8)
            if affine:
                close(ew.grad, tw.grad, tol * 20, tol * 20)
                close(eb.grad, tb.grad, tol * 20, tol * 20)
    # A transposed (non-contiguous) input takes the same kernels.
    x = RNG.standard_normal((64, 48)).astype(np.float32)
    e, t = pair(x, dtype, requires_grad=True)
    close(ember.softmax(e.t(), -1), torch.softmax(t.t(), -1), tol, tol)
