"""Integer values in compiled graphs: int64/int32 inputs, outputs and intermediates, the
indexing primitives (index_select/index_add, gather/scatter/scatter_add, argmax/argmin), casts,
and the losses and layers built on them (cross_entropy/nll_loss with class indices, embedding),
compiled vs eager ember and PyTorch, forward and gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def ints(high, *shape):
    return RNG.integers(0, high, size=shape).astype(np.int64)


def close(a, b, tol=1e-5):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def compiled_and_eager(fn, *args):
    """fn compiled as one graph and eagerly on the same arguments."""
    c = ember.compile(fn, fullgraph=True)
    out = c(*args)
    assert c.stats["compiles"] == 1 and c.stats["graph_breaks"] == 0
    return out, fn(*args)


def leaf(v):
    return ember.tensor(v).requires_grad_()


# ---- cross_entropy / nll_loss with class indices ------------------------------------------

CE_CASES = {
    "mean": dict(),
    "sum": dict(reduction="sum"),
    "none": dict(reduction="none"),
    "weight": dict(weight=True),
    "ignore_index": dict(ignore_index=2),
    "weight_ignore_sum": dict(weight=True, ignore_index=0, reduction="sum"),
    "label_smoothing": dict(label_smoothing=0.1),
    "smoothing_weight_ignore": dict(label_smoothing=0.2, weight=True, ignore_index=1),
}


def _ce_kwargs(case, w_e, w_t):
    kw = dict(CE_CASES[case])
    if kw.pop("weight", False):
        return dict(kw, weight=w_e), dict(kw, weight=w_t)
    return kw, kw


@pytest.mark.parametrize("case", CE_CASES)
def test_cross_entropy_with_class_indices_compiles_forward_and_backward(case):
    x, t, w = rand(6, 5), ints(5, 6), np.abs(rand(5)) + 0.1
    t[0] = 2  # ignore_index=2 and 1 and 0 all occur
    t[1], t[2] = 1, 0
    kw_e, kw_t = _ce_kwargs(case, ember.tensor(w), torch.tensor(w))

    def loss(x, t):
        return F.cross_entropy(x, t, **kw_e)

    def step(x, t):
        out = loss(x, t)
        (g,) = ember.autograd.grad(out.sum(), [x])
        return out, g

    (out, g), (eout, eg) = compiled_and_eager(step, leaf(x), ember.tensor(t))
    close(out, eout)
    close(g, eg)
    tx = torch.tensor(x, requires_grad=True)
    tout = TF.cross_entropy(tx, torch.tensor(t), **kw_t)
    tout.sum().backward()
    close(out, tout)
    close(g, tx.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_on_3d_input_compiles(reduction):
    # [N, C, d] scores: the class dim is permuted last before the gather.
    x, t, w = rand(3, 4, 5), ints(4, 3, 5), np.abs(rand(4)) + 0.1

    def step(x, t, w):
        out = F.nll_loss(F.log_softmax(x, 1), t, weight=w, ignore_index=3, reduction=reduction)
        (g,) = ember.autograd.grad(out.sum(), [x])
        return out, g

    (out, g), _ = compiled_and_eager(step, leaf(x), ember.tensor(t), ember.tensor(w))
    tx = torch.tensor(x, requires_grad=True)
    tout = TF.nll_loss(TF.log_softmax(tx, 1), torch.tensor(t), weight=torch.tensor(w),
                       ignore_index=3, reduction=reduction)
    tout.sum().backward()
    close(out, tout)
    close(g, tx.grad)


def test_a_target_out_of_range_is_an_index_error_in_compiled_code():
    c = ember.compile(lambda x, t: F.cross_entropy(x, t), fullgraph=True)
    x = ember.tensor(rand(3, 4))
    close(c(x, ember.tensor([0, 3, 1])), F.cross_entropy(x, ember.tensor([0, 3, 1])))
    with pytest.raises(IndexError, match=r"ember\.gather: index 4 is out of bounds for dimension 1 "
                                         r"with size 4 \(in compiled code\)"):
        c(x, ember.tensor([4, 0, 1]))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        c(x, ember.tensor([0, -1, 1]))
    # The same compiled code still works afterwards.
    close(c(x, ember.tensor([2, 2, 2])), F.cross_entropy(x, ember.tensor([2, 2, 2])))


# ---- embedding ----------------------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 0, -2])
def test_embedding_forward_and_backward_compile(padding_idx):
    w, idx = rand(10, 4), ints(10, 3, 5)
    idx[0, :3] = [0, 8, 8]  # the padding rows and a repeated index occur

    def step(w, idx, g):
        out = F.embedding(idx, w, padding_idx=padding_idx)
        (gw,) = ember.autograd.grad((out * g).sum(), [w])
        return out, gw

    gout = rand(3, 5, 4)
    (out, gw), (eout, egw) = compiled_and_eager(step, leaf(w), ember.tensor(idx),
                                                ember.tensor(gout))
    close(out, eout)
    close(gw, egw)
    tw = torch.tensor(w, requires_grad=True)
    tout = TF.embedding(torch.tensor(idx), tw, padding_idx=padding_idx)
    (tout * torch.tensor(gout)).sum().backward()
    close(out, tout)
    close(gw, tw.grad)


def test_embedding_module_with_int32_indices_and_bad_ids():
    ember.manual_seed(0)
    emb = ember.nn.Embedding(7, 3)
    c = ember.compile(emb, fullgraph=True)
    for dtype in (ember.int64, ember.int32):
        idx = ember.tensor(ints(7, 2, 4)).to(dtype)
        close(c(idx), emb(idx))
    # index_select counts negative indices from the end, as the eager kernel does.
    close(c(ember.tensor([[-1, 0, 6, -7]])), emb(ember.tensor([[-1, 0, 6, -7]])))
    with pytest.raises(IndexError, match=r"ember\.index_select: index 7 is out of bounds"):
        c(ember.tensor([[1, 7, 0, 0]]))


# ---- gather / scatter / scatter_add / index_add / argmax ----------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_and_its_gradient_compile(dim):
    x = rand(4, 5)
    size = x.shape[dim]
    idx = ints(size, 3, 4) if dim == 0 else ints(size, 4, 3)  # smaller than x off dim

    def step(x, idx):
        out = ember.gather(x, dim, idx)
        (g,) = ember.autograd.grad((out * out).sum(), [x])
        return out, g

    (out, g), _ = compiled_and_eager(step, leaf(x), ember.tensor(idx))
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.gather(tx, dim, torch.tensor(idx))
    (tout * tout).sum().backward()
    close(out, tout)
    close(g, tx.grad)


def test_scatter_add_and_scatter_compile_with_gradients():
    a, src = rand(3, 5), rand(3, 4)
    idx = np.array([[0, 1, 1, 4], [2, 2, 2, 0], [3, 1, 0, 4]], dtype=np.int64)
    uniq = np.array([[0, 1, 2, 4], [3, 2, 1, 0], [4, 1, 0, 3]], dtype=np.int64)

    def step(a, idx, uniq, src):
        s1 = ember.scatter_add(a, 1, idx, src)
        s2 = ember.scatter(a, 1, uniq, src)
        ga, gs = ember.autograd.grad((s1 * s1).sum() + (s2 * 3).sum(), [a, src])
        return s1, s2, ga, gs

    args = [leaf(a), ember.tensor(idx), ember.tensor(uniq), leaf(src)]
    outs, eouts = compiled_and_eager(step, *args)
    close(args[0], ember.tensor(a))  # the compiled scatter wrote into a copy, not the argument
    ta = torch.tensor(a, requires_grad=True)
    ts = torch.tensor(src, requires_grad=True)
    t1 = torch.scatter_add(ta, 1, torch.tensor(idx), ts)
    t2 = torch.scatter(ta, 1, torch.tensor(uniq), ts)
    ((t1 * t1).sum() + (t2 * 3).sum()).backward()
    for o, e, t in zip(outs, eouts, (t1, t2, ta.grad, ts.grad)):
        close(o, e)
        close(o, t)


def test_integer_scatter_add_and_index_add_compile():
    base, idx = ints(9, 2, 6), np.array([[1, 1, 0], [5, 5, 5]], dtype=np.int64)
    src = ints(5, 2, 3)

    def f(base, idx, src):
        return ember.scatter_add(base, 1, idx, src), ember.index_add(base, 1, idx[0], src)

    outs, eouts = compiled_and_eager(f, *[ember.tensor(v) for v in (base, idx, src)])
    tb = torch.tensor(base)
    t = (torch.scatter_add(tb, 1, torch.tensor(idx), torch.tensor(src)),
         torch.index_add(tb, 1, torch.tensor(idx[0]), torch.tensor(src)))
    for o, e, tt in zip(outs, eouts, t):
        close(o, e)
        close(o, tt)


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_argmax_argmin_compile(dtype):
    x = (rand(4, 6) * 3).round()  # ties: the first position wins
    if dtype == "float32":
        x[1, 2] = np.nan  # NaN is the extreme
        x[2, :] = -np.inf
    e = ember.tensor(x).to(getattr(ember, dtype))
    t = torch.tensor(x).to(getattr(torch, dtype))

    def f(x):
        return (ember.argmax(x, 1), ember.argmin(x, 0, keepdim=True), x.argmax(),
                ember.argmin(x), ember.argmax(x[0, 0]))

    outs, eouts = compiled_and_eager(f, e)
    want = (torch.argmax(t, 1), torch.argmin(t, 0, keepdim=True), t.argmax(), torch.argmin(t),
            torch.argmax(t[0, 0]))
    for o, eo, w in zip(outs, eouts, want):
        close(o, eo)
        close(o, w)


def test_accuracy_from_argmax_compiles():
    # argmax == target (int64 == int64 -> bool), the count (sum of bools is int64), a float mean.
    x, t = rand(16, 5), ints(5, 16)

    def acc(x, t):
        hit = x.argmax(1) == t
        return hit, hit.sum(), hit.float().mean()

    outs, eouts = compiled_and_eager(acc, ember.tensor(x), ember.tensor(t))
    th = torch.tensor(x).argmax(1) == torch.tensor(t)
    for o, eo, w in zip(outs, eouts, (th, th.sum(), th.float().mean())):
        close(o, eo)
        close(o, w)


# ---- integer elementwise, comparisons, casts ----------------------------------------------

def test_integer_elementwise_comparisons_and_casts_compile():
    a, b = ints(20, 3, 4) - 10, ints(20, 4) - 10
    fa = rand(3, 4) * 5

    def f(a, b, fa):
        return (a + b, a - 3, a * b, -a, ember.abs(a), ember.maximum(a, b), ember.minimum(a, 0),
                a < b, a == 2, a != b, ember.where(a > 0, a, b), a.to(ember.float32) / 2,
                fa.to(ember.int64), fa.to(ember.int32), (fa > 0).to(ember.int64),
                a.to(ember.int32) * 2, a.to(ember.bool), a & b, a | 1, ~a, a.sum(), a.amax(0),
                (a > 0) & (b < 0), ember.logical_not(a), (a > 0) * (b < 0), (a > 0) + (b < 0),
                ember.maximum(a > 0, b < 0), ember.sign(a), ember.relu(a))

    e_args = [ember.tensor(v) for v in (a, b, fa)]
    outs, eouts = compiled_and_eager(f, *e_args)
    ta, tb, tfa = (torch.tensor(v) for v in (a, b, fa))
    want = (ta + tb, ta - 3, ta * tb, -ta, torch.abs(ta), torch.maximum(ta, tb),
            torch.minimum(ta, torch.tensor(0)), ta < tb, ta == 2, ta != tb,
            torch.where(ta > 0, ta, tb), ta.to(torch.float32) / 2, tfa.to(torch.int64),
            tfa.to(torch.int32), (tfa > 0).to(torch.int64), ta.to(torch.int32) * 2,
            ta.to(torch.bool), ta & tb, ta | 1, ~ta, ta.sum(), ta.amax(0), (ta > 0) & (tb < 0),
            torch.logical_not(ta), (ta > 0) * (tb < 0), (ta > 0) + (tb < 0),
            torch.maximum(ta > 0, tb < 0), torch.sign(ta), torch.relu(ta))
    assert len(outs) == len(want)
    for o, eo, w in zip(outs, eouts, want):
        close(o, eo)
        close(o, w)


def test_narrow_integer_constants_compile_as_int32():
    # (Created inside the function: tensors it reads from outside are inputs, and uint8 inputs
    # do not compile.)
    x = ember.tensor(rand(2, 3))

    def f(x):
        mask = ember.tensor(np.array([1, 0, 3], dtype=np.uint8))
        small = ember.tensor(np.array([-2, 5, 7], dtype=np.int8))
        cols = ember.tensor(np.array([2, 0], dtype=np.int16))
        return x * mask, x - small, ember.index_select(x, 1, cols)

    outs, eouts = compiled_and_eager(f, x)
    for o, eo in zip(outs, eouts):
        close(o, eo)


def test_one_hot_with_num_classes_compiles_and_checks_its_values():
    t = ints(5, 7)
    c = ember.compile(lambda t: F.one_hot(t, 5).float() * 2, fullgraph=True)
    got = c(ember.tensor(t))
    close(got, F.one_hot(ember.tensor(t), 5).float() * 2)
    close(got, TF.one_hot(torch.tensor(t), 5).float() * 2)
    with pytest.raises(IndexError, match=r"ember\.scatter: index 5 is out of bounds for dimension 1 "
                                         r"with size 5"):
        c(ember.tensor(np.array([0, 1, 5, 2, 0, 0, 0])))
    # Without num_classes the shape depends on the values: not one graph.
    with pytest.raises(RuntimeError, match="cannot be captured in one graph"):
        ember.compile(lambda t: F.one_hot(t), fullgraph=True)(ember.tensor(t))


def test_integer_views_and_cat_compile():
    a = ints(9, 2, 3, 4)

    def f(a):
        return (a.reshape(6, 4), a.transpose(0, 2), a.permute(2, 0, 1), a[:, 1:3, ::2],
                ember.cat([a, a * 2], 1), a[:, :1].expand(2, 5, 4))

    outs, eouts = compiled_and_eager(f, ember.tensor(a))
    ta = torch.tensor(a)
    want = (ta.reshape(6, 4), ta.transpose(0, 2), ta.permute(2, 0, 1), ta[:, 1:3, ::2],
            torch.cat([ta, ta * 2], 1), ta[:, :1].expand(2, 5, 4))
    for o, eo, w in zip(outs, eouts, want):
        close(o, eo)
        close(o, w)


# ---- a whole training step ----------------------------------------------------------------

def mlp_step(x, y, w1, b1, w2, b2, lr=0.2):
    """Forward, cross_entropy against int64 class indices, backward, SGD: one function."""
    logits = F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)
    loss = F.cross_entropy(logits, y)
    grads = ember.autograd.grad(loss, [w1, b1, w2, b2])
    acc = (logits.argmax(1) == y).float().mean()
    return (loss, acc) + tuple(p - lr * g for p, g in zip((w1, b1, w2, b2), grads))


def test_mlp_training_step_with_int_targets_is_one_graph_and_follows_eager():
    init = [rand(16, 8) * 0.3, rand(16) * 0.1, rand(4, 16) * 0.3, rand(4) * 0.1]
    batches = []
    for _ in range(4):
        y = ints(4, 12)
        batches.append(((rand(12, 8) + y[:, None]).astype(np.float32), y))

    def train(step):
        params = [leaf(p) for p in init]
        losses = []
        for x, y in batches * 3:
            loss, acc, *params = step(ember.tensor(x), ember.tensor(y), *params)
            params = [p.detach().requires_grad_() for p in params]
            losses.append(loss.item())
        return losses, params

    compiled = ember.compile(mlp_step, fullgraph=True)
    c_losses, c_params = train(compiled)
    e_losses, e_params = train(mlp_step)
    assert compiled.stats["compiles"] == 1 and compiled.stats["graph_breaks"] == 0
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-5)
    assert c_losses[-1] < c_losses[0]  # it trains
    for c, e in zip(c_params, e_params):
        close(c, e)
    # The first step against PyTorch.
    ts = [torch.tensor(p, requires_grad=True) for p in init]
    x, y = (torch.tensor(v) for v in batches[0])
    tloss = TF.cross_entropy(TF.linear(TF.relu(TF.linear(x, ts[0], ts[1])), ts[2], ts[3]), y)
    np.testing.assert_allclose(c_losses[0], tloss.item(), rtol=1e-5)


# ---- what does not compile ----------------------------------------------------------------

def test_what_does_not_compile_is_a_clear_error():
    x64 = ember.tensor(rand(3, 4)).to(ember.float64)
    with pytest.raises(NotImplementedError, match=r"input 0 is float64.*float32, int64, int32 and bool"):
        ember.compile(lambda x: x * 2, fullgraph=True)(x64)
    with pytest.raises(NotImplementedError, match=r"input 0 is uint8"):
        ember.compile(lambda x: x + 1, fullgraph=True)(ember.tensor(ints(5, 3)).to(ember.uint8))
    a = ember.tensor(ints(5, 3, 4))
    with pytest.raises(NotImplementedError, match=r"ember\.matmul on int64 does not compile"):
        ember.compile(lambda a: a @ a.T, fullgraph=True)(a)
    with pytest.raises(NotImplementedError, match=r"ember\.bitwise_left_shift on int64"):
        ember.compile(lambda a: a << 2, fullgraph=True)(a)
    with pytest.raises(NotImplementedError, match=r"ember\.floor_divide on int64"):
        ember.compile(lambda a: a // 2, fullgraph=True)(a)
    with pytest.raises(NotImplementedError, match=r"ember\.isinf on int64"):
        ember.compile(lambda a: ember.isinf(a), fullgraph=True)(a)
    # (cumsum of int64 compiles now: test_compile_ops2.py.)


def test_a_bad_index_inside_a_threaded_loop_is_reported_by_the_calling_call():
    # 64x512 ids into a 1000x64 table: the gather loop runs on the thread pool
    # (ember-outline-parallel-loops); the report from a pool thread reaches this call only.
    w = ember.tensor(rand(1000, 64))
    ids = ints(1000, 64, 512)
    c = ember.compile(lambda i, w: F.embedding(i, w), fullgraph=True)
    close(c(ember.tensor(ids), w), F.embedding(ember.tensor(ids), w))
    bad = ids.copy()
    bad[63, 500] = 1000
    with pytest.raises(IndexError, match="index 1000 is out of bounds for dimension 0 with size 1000"):
        c(ember.tensor(bad), w)
    close(c(ember.tensor(ids), w), F.embedding(ember.tensor(ids), w))
