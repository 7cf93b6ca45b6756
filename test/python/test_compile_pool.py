"""Compiled max pooling: ember-fuse-pool turns the traced composite (amax over -inf-padded
im2col columns, and amax's gradient scattered by col2im) into ember.max_pool2d /
ember.max_pool2d_grad, which call ember's pooling kernels. Forward and gradients against eager
ember and PyTorch (ties go to the first maximum, NaN wins, windows of -inf), the IR the pass
leaves, and what it leaves alone."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

RNG = np.random.default_rng(11)


def ties(*shape):
    """Small integers: most windows hold several equal maxima."""
    return RNG.integers(-3, 4, shape).astype(np.float32)


def compiled_eager_torch(fn, tfn, x, **compile_args):
    """(compiled, eager, torch) lists of [y, dy/dx] for the cotangent r of sum(y * r)."""
    r = None

    def with_grad(t):
        y = fn(t)
        return y, ember.autograd.grad((y * ember.tensor(r)).sum(), [t])[0]

    def run(f):
        out = f(ember.tensor(x, requires_grad=True))
        return [o.detach().numpy() for o in out]

    y0 = fn(ember.tensor(x)).numpy()
    r = RNG.standard_normal(y0.shape).astype(np.float32)
    compiled = ember.compile(with_grad, fullgraph=True, **compile_args)
    got = run(compiled)
    eager = run(with_grad)
    tx = torch.tensor(x, requires_grad=True)
    ty = tfn(tx)
    (tg,) = torch.autograd.grad((ty * torch.tensor(r)).sum(), [tx])
    return got, eager, [ty.detach().numpy(), tg.numpy()], compiled


def assert_same(got, want, tol=1e-5):
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)  # NaN equals NaN


POOL_CASES = [
    # (x shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 9), 3, 2, 1, 1, False),
    ((2, 2, 9, 10), 3, 1, 1, 1, False),  # overlapping windows: gradients add up
    ((1, 2, 9, 10), (3, 2), (2, 1), (1, 0), (1, 2), False),
    ((2, 2, 11, 11), 3, 2, 1, 2, False),  # dilated
    ((2, 2, 7, 7), 2, 2, 0, 1, True),  # ceil_mode: the last windows hang over the edge
    ((1, 2, 8, 8), 3, 2, 1, 1, True),
]


@pytest.mark.parametrize("xs,k,s,p,d,ceil", POOL_CASES)
def test_max_pool2d_with_ties_matches_eager_and_torch(xs, k, s, p, d, ceil):
    # With ties the whole gradient goes to the first maximum, as in PyTorch and eagerly (the
    # composite's amax gradient would share it between the ties).
    got, eager, ref, _ = compiled_eager_torch(lambda t: F.max_pool2d(t, k, s, p, d, ceil),
                                              lambda t: TF.max_pool2d(t, k, s, p, d, ceil),
                                              ties(*xs))
    assert_same(got, eager)
    assert_same(got, ref)


def test_max_pool2d_at_one_and_two_threads(threads):
    x = ties(4, 6, 28, 28)
    got, eager, ref, _ = compiled_eager_torch(lambda t: F.max_pool2d(F.relu(t), 2),
                                              lambda t: TF.max_pool2d(TF.relu(t), 2), x)
    assert_same(got, eager)
    assert_same(got, ref)


def test_nan_wins_and_gets_the_gradient():
    x = RNG.standard_normal((2, 2, 6, 6)).astype(np.float32)
    x[0, 0, 0, 1] = np.nan  # one NaN in a window
    x[0, 1, 2, 2] = x[0, 1, 3, 3] = np.nan  # two in one window: the last one scanned wins
    x[1, 0, 4:, 4:] = np.nan  # a whole window
    got, eager, ref, _ = compiled_eager_torch(lambda t: F.max_pool2d(t, 2),
                                              lambda t: TF.max_pool2d(t, 2), x)
    assert np.isnan(got[0][0, 0, 0, 0]) and np.isnan(got[0][0, 1, 1, 1])
    assert not np.isnan(got[1]).any()
    assert_same(got, eager)
    assert_same(got, ref)


def test_windows_of_minus_infinity():
    # A window of -inf (and windows that hang over -inf padding) sends its gradient to its
    # first position inside the image; -inf next to finite values never wins.
    x = ties(2, 2, 7, 7)
    x[0, 0, :4, :4] = -np.inf
    x[1, 1, 3, :] = -np.inf
    got, eager, ref, _ = compiled_eager_torch(lambda t: F.max_pool2d(t, 3, 2, 1),
                                              lambda t: TF.max_pool2d(t, 3, 2, 1), x)
    assert got[0][0, 0, 0, 0] == -np.inf
    assert_same(got, eager)
    assert_same(got, ref)


def test_forward_only():
    x = ties(3, 4, 10, 10)
    f = ember.compile(lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True), fullgraph=True)
    np.testing.assert_array_equal(f(ember.tensor(x)).numpy(),
                                  TF.max_pool2d(torch.tensor(x), 3, 2, 1, ceil_mode=True).numpy())


def test_max_pool1d_and_indices_go_the_same_way():
    x = ties(2, 3, 11)
    got, eager, ref, _ = compiled_eager_torch(lambda t: F.max_pool1d(t, 3, 2, 1),
                                              lambda t: TF.max_pool1d(t, 3, 2, 1), x)
    assert_same(got, eager)
    assert_same(got, ref)
    # return_indices: the indices (an argmax of the columns, which stay for it) and the
    # gradient through the values, both as PyTorch's.
    x = ties(2, 2, 6, 6)

    def fn(t):
        y, i = F.max_pool2d(t, 2, return_indices=True)
        return y, i, ember.autograd.grad((y * y).sum(), [t])[0]

    out = ember.compile(fn, fullgraph=True)(ember.tensor(x, requires_grad=True))
    tx = torch.tensor(x, requires_grad=True)
    ty, ti = TF.max_pool2d(tx, 2, return_indices=True)
    (tg,) = torch.autograd.grad((ty * ty).sum(), [tx])
    np.testing.assert_array_equal(out[0].numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(out[1].numpy(), ti.numpy())
    np.testing.assert_allclose(out[2].numpy(), tg.numpy(), rtol=1e-6)


def fused_stage(tmp_path):
    """The IR after ember-fuse-pool of the one function dumped under tmp_path ('' if the pass
    changed nothing), and its LLVM IR."""
    (d,) = list(tmp_path.iterdir())
    stages = list((d / "passes").rglob("*ember-fuse-pool.mlir"))
    return (stages[0].read_text() if stages else ""), (d / "llvm.ll").read_text()


def test_a_training_step_calls_the_pooling_kernels(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DUMP", str(tmp_path))
    x = ties(4, 3, 16, 16)
    w = RNG.standard_normal((8, 3, 3, 3)).astype(np.float32)

    def step(x, w):
        y = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2)
        loss = (y * y).sum()
        return (loss,) + tuple(ember.autograd.grad(loss, [x, w]))

    ember.compile(step, fullgraph=True)(ember.tensor(x, requires_grad=True),
                                       ember.tensor(w, requires_grad=True))
    ir, llvm = fused_stage(tmp_path)
    assert "ember.max_pool2d " in ir and "ember.max_pool2d_grad" in ir
    for gone in ("ember.im2col", "ember.col2im", "ember.eq", "ember.amax"):
        assert gone not in ir, gone
    assert "_mlir_ciface_ember_cpu_max_pool2d_f32" in llvm
    assert "_mlir_ciface_ember_cpu_max_pool2d_grad_f32" in llvm


def test_a_dynamic_batch_keeps_the_composite(tmp_path, monkeypatch):
    # dynamic=True: the columns have a symbolic dim and stay (the composite; distinct values,
    # so its shared-ties gradient is not in play).
    monkeypatch.setenv("EMBER_DUMP", str(tmp_path))

    def step(t):
        y = F.max_pool2d(t, 2)
        return y, ember.autograd.grad((y * y).sum(), [t])[0]

    compiled = ember.compile(step, fullgraph=True, dynamic=True)
    for batch in (3, 5):
        x = RNG.permutation(batch * 2 * 8 * 8).reshape(batch, 2, 8, 8).astype(np.float32)
        got = [o.numpy() for o in compiled(ember.tensor(x, requires_grad=True))]
        tx = torch.tensor(x, requires_grad=True)
        ty = TF.max_pool2d(tx, 2)
        (tg,) = torch.autograd.grad((ty * ty).sum(), [tx])
        assert_same(got, [ty.detach().numpy(), tg.numpy()])
    assert compiled.stats["compiles"] == 1
    assert "?x" in compiled.ir(ember.tensor(x, requires_grad=True))
    ir, llvm = fused_stage(tmp_path)
    assert ir == "" and "ember_cpu_max_pool2d" not in llvm and "ember_cpu_im2col_f32" in llvm
