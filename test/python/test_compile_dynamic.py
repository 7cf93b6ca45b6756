"""ember.compile(dynamic=True): dim 0 of the arguments (the batch) is symbolic, so one compiled
graph (one LLVM compilation) serves every batch size. Outputs, training steps and guards are
checked against eager ember; what dynamic shapes do not cover is a clear error."""
import os
import sys

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))

BATCHES = (2, 3, 17, 64)


def mlp(seed=0):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10))


def test_mlp_forward_one_compile_for_every_batch_size():
    model = mlp()
    compiled = ember.compile(model, dynamic=True, fullgraph=True)
    rng = np.random.default_rng(0)
    with ember.no_grad():
        for b in BATCHES:
            x = ember.tensor(rng.standard_normal((b, 20)).astype(np.float32))
            out = compiled(x)
            assert out.shape == (b, 10)
            np.testing.assert_allclose(out.numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    assert compiled.stats["compiles"] == 1
    assert compiled.stats["cache_hits"] == len(BATCHES) - 1
    assert compiled.stats["traces"] == 3  # the call's batch size and two more, to fit the sizes
    ir = compiled.ir(ember.zeros(5, 20))
    assert "tensor<?x20xf32>" in ir and "tensor<?x10xf32>" in ir and "ember.symbols" in ir


def test_lenet_forward_one_compile_for_every_batch_size():
    from lenet_fashion_mnist import LeNet5
    ember.manual_seed(0)
    model = LeNet5()
    compiled = ember.compile(model, dynamic=True, fullgraph=True)
    rng = np.random.default_rng(1)
    with ember.no_grad():
        for b in BATCHES:
            x = ember.tensor(rng.standard_normal((b, 1, 28, 28)).astype(np.float32))
            out = compiled(x)
            assert out.shape == (b, 10)
            np.testing.assert_allclose(out.numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)
    assert compiled.stats["compiles"] == 1


def test_gradients_of_a_function_follow_eager():
    # A mean over the batch: its count is an input computed at each call, its gradient's
    # 1/count too; expand/sum over the batch in the backward graph.
    rng = np.random.default_rng(2)

    def fn(x, w):
        y = ember.tanh(x @ w)
        loss = (y * y).mean() + y.var(0).sum()
        gx, gw = ember.autograd.grad(loss, [x, w])
        return loss, gx, gw

    compiled = ember.compile(fn, dynamic=True, fullgraph=True)
    w = ember.tensor(rng.standard_normal((6, 3)).astype(np.float32), requires_grad=True)
    # w's dim 0 cannot change (x @ w): it is specialised, loudly; x's batch stays symbolic.
    with pytest.warns(UserWarning, match=r"dim 0 of argument\(s\) \[1\] \(size 6\) is specialised"):
        compiled(ember.ones(5, 6, requires_grad=True), w)
    for b in (4, 9, 2, 33):
        x = ember.tensor(rng.standard_normal((b, 6)).astype(np.float32), requires_grad=True)
        for got, want in zip(compiled(x, w), fn(x, w)):
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert compiled.stats["compiles"] == 1


def _step(model, opt, loss_fn):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_mlp_training_step_follows_eager_over_batch_sizes(loss):
    eager_model, compiled_model = mlp(3), mlp(3)
    eager_opt = ember.optim.SGD(eager_model.parameters(), lr=0.1, momentum=0.9)
    compiled_opt = ember.optim.SGD(compiled_model.parameters(), lr=0.1, momentum=0.9)
    if loss == "cross_entropy":
        loss_fn = F.cross_entropy  # reduction='mean' over int64 class targets

        def target(rng, b):
            return ember.tensor(rng.integers(0, 10, b))
    else:
        def loss_fn(out, y):  # a mean over B*10 elements: the count follows the batch
            return F.mse_loss(out, y)

        def target(rng, b):
            return ember.tensor(rng.standard_normal((b, 10)).astype(np.float32))
    eager = _step(eager_model, eager_opt, loss_fn)
    compiled = ember.compile(_step(compiled_model, compiled_opt, loss_fn), fullgraph=True, dynamic=True)
    rng = np.random.default_rng(4)
    for b in (8, 5, 13, 64, 2, 8, 31):
        x = ember.tensor(rng.standard_normal((b, 20)).astype(np.float32))
        y = target(rng, b)
        le, lc = eager(x, y), compiled(x, y)
        np.testing.assert_allclose(lc.item(), le.item(), rtol=2e-5)
    for (name, pe), pc in zip(eager_model.named_parameters(), compiled_model.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
        np.testing.assert_allclose(pc.grad.numpy(), pe.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
    assert compiled.stats["compiles"] == 1 and compiled.stats["graph_breaks"] == 0


def test_guards_other_dims_dtypes_and_size_one_recompile():
    def fn(x):
        return (x * 2).sum(1)

    compiled = ember.compile(fn, dynamic=True)
    compiled(ember.ones(4, 3))
    compiled(ember.ones(7, 3))
    assert compiled.stats["compiles"] == 1
    compiled(ember.ones(7, 5))  # another non-batch size
    assert compiled.stats["compiles"] == 2
    compiled(ember.ones(7, 3, dtype=ember.int64))  # another dtype
    assert compiled.stats["compiles"] == 3
    out = compiled(ember.ones(1, 3))  # size 1 is specialised (it broadcasts), as in PyTorch
    assert compiled.stats["compiles"] == 4
    np.testing.assert_allclose(out.numpy(), [6.0])
    assert "?" not in compiled.ir(ember.ones(1, 3))
    for b in (2, 9, 100):  # still the first graph
        np.testing.assert_allclose(compiled(ember.ones(b, 3)).numpy(), np.full(b, 6.0))
    assert compiled.stats["compiles"] == 4


def test_recompile_limit_still_applies():
    compiled = ember.compile(lambda x: x + 1, dynamic=True)
    compiled.recompile_limit = 2
    compiled(ember.ones(4, 3))
    compiled(ember.ones(4, 5))
    compiled(ember.ones(50, 5))  # a hit: the batch is symbolic
    with pytest.raises(RuntimeError, match="compiled 2 times .* the argument shapes"):
        compiled(ember.ones(4, 6))


def test_arguments_sharing_the_batch_share_one_symbol():
    def fn(x, t):
        return F.cross_entropy(x, t, reduction="sum"), x.argmax(1) == t

    compiled = ember.compile(fn, dynamic=True, fullgraph=True)
    rng = np.random.default_rng(5)
    for b in (3, 11):
        x = ember.tensor(rng.standard_normal((b, 4)).astype(np.float32))
        t = ember.tensor(rng.integers(0, 4, b))
        for got, want in zip(compiled(x, t), fn(x, t)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    assert compiled.stats["compiles"] == 1
    assert compiled.ir(x, t).count("ember.symbols = array<i64: 0, 0>") == 1


def test_what_dynamic_shapes_do_not_cover_specialises_the_batch_with_a_warning():
    # (These were NotImplementedErrors naming internal ops, where PyTorch specialises: now the
    # batch dims are specialised, the warning says why, and each batch size compiles.)
    cases = [(lambda x: x + ember.arange(x.shape[0]).float().reshape(-1, 1),
              r"constant tensor used by ember\.add .* changes with the batch size"),
             (lambda x: x[::2] * 2, r"dim 0 of the result of ember\.slice .* is not an affine function"),
             (lambda x: x[-2:] * 2, r"arguments of ember\.slice .* change with the batch"),
             (lambda x: x.flip(0) * 2, r"specialised"),
             (lambda x: x[-1] + 1, r"specialised")]
    for fn, match in cases:
        compiled = ember.compile(fn, dynamic=True)
        with pytest.warns(ember.RecompileWarning, match=match):
            got = compiled(ember.ones(4, 3))
        np.testing.assert_allclose(got.numpy(), fn(ember.ones(4, 3)).numpy())
        for n in (6, 4):  # no further warning; one graph per size
            x = ember.randn(n, 3)
            np.testing.assert_allclose(compiled(x).numpy(), fn(x).numpy(), rtol=1e-6)
        assert compiled.stats["compiles"] == 2
    # A branch on the batch size stays an error.
    branchy = ember.compile(lambda x: x * 2 if x.shape[0] % 2 else x.exp(), dynamic=True)
    with pytest.raises(ValueError, match="traces to a different graph .* branches on a size"):
        branchy(ember.ones(4, 3))


def test_inputs_that_do_not_fit_the_compiled_graph_are_errors():
    compiled = ember.compile(lambda x, y: x * y, dynamic=True)
    compiled(ember.ones(4, 3), ember.ones(4, 3))
    # Batch sizes that differ give two symbols: the trace itself fails, as eagerly.
    with pytest.raises(ValueError, match="broadcast"):
        compiled(ember.ones(4, 3), ember.ones(5, 3))


def test_two_batch_symbols():
    # Dim 0 sizes that differ at the first call are two symbols; a cat along them is their sum.
    def fn(x, y):
        return (ember.cat([x, y], 0) * 2).sum(1)

    compiled = ember.compile(fn, dynamic=True, fullgraph=True)
    for b, c in ((4, 7), (5, 2), (30, 9)):
        x, y = ember.randn(b, 3), ember.randn(c, 3)
        out = compiled(x, y)
        assert out.shape == (b + c,)
        np.testing.assert_allclose(out.numpy(), fn(x, y).numpy(), rtol=1e-6)
    assert compiled.stats["compiles"] == 1 and compiled.stats["traces"] == 4


def test_slices_of_and_beside_the_batch_with_gradients():
    # x[:, 1:3] (a no-op slice of the batch first), x[1:] and x[:-1] (ends that follow it),
    # x[:2] (a fixed window of it), cat along and beside it, transposes: forward and gradients.
    def fn(x):
        y = (x[1:] * x[:-1]).sum() + (x[:2] * x[:2]).sum() + x[2:].exp().sum()
        z = ember.cat([x, x[:, 1:3] * 2], 1)
        return y, ember.autograd.grad(y, [x])[0], z, ember.cat([x, x], 0).sum(0), x.t() @ x

    compiled = ember.compile(fn, dynamic=True, fullgraph=True)
    for b in (3, 8, 21):
        x = ember.randn(b, 4, requires_grad=True)
        for got, want in zip(compiled(x), fn(x)):
            assert got.shape == want.shape
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert compiled.stats["compiles"] == 1


def test_transformer_training_step_follows_eager():
    # Embedding (index_select by a dynamic index), attention (bmm over batch*heads), layer
    # norm, a reshape merging batch and sequence (7*B rows), SGD: one compile for every batch.
    # (Not Adam: the key bias's gradient is zero up to rounding, which Adam scales to lr-sized
    # steps, so eager and compiled rounding would show.)
    def model():
        ember.manual_seed(0)
        return nn.ModuleList([nn.Embedding(50, 16),
                              nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                                         batch_first=True),
                              nn.Linear(16, 50)])

    def step_fn(m, opt):
        def step(ids, tgt):
            opt.zero_grad()
            logits = m[2](m[1](m[0](ids)))
            loss = F.cross_entropy(logits.reshape(-1, 50), tgt.reshape(-1))
            loss.backward()
            opt.step()
            return loss
        return step

    me, mc = model(), model()
    eager = step_fn(me, ember.optim.SGD(me.parameters(), lr=0.1, momentum=0.9))
    compiled = ember.compile(step_fn(mc, ember.optim.SGD(mc.parameters(), lr=0.1, momentum=0.9)),
                             dynamic=True, fullgraph=True)
    rng = np.random.default_rng(6)
    for b in (2, 5, 9, 4):
        ids = ember.tensor(rng.integers(0, 50, (b, 7)))
        tgt = ember.tensor(rng.integers(0, 50, (b, 7)))
        np.testing.assert_allclose(compiled(ids, tgt).item(), eager(ids, tgt).item(), rtol=1e-5)
    for (name, pe), pc in zip(me.named_parameters(), mc.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    assert compiled.stats["compiles"] == 1


def test_batch_norm_training_step_serves_every_batch_size():
    # The running variance takes the unbiased batch variance: a factor n / (n - 1) with
    # n = batch * H * W, a constant that follows the batch size as 1 + 1 / (n - 1) (it used to
    # be refused: only counts and their reciprocals were covered).
    def make():
        ember.manual_seed(0)
        m = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3, padding=1), ember.nn.BatchNorm2d(4), ember.nn.ReLU(),
                                ember.nn.Flatten(), ember.nn.Linear(4 * 6 * 6, 5))
        return m, ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    def step(m, opt, x, y):
        opt.zero_grad()
        loss = ember.nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        return loss
    (me, oe), (mc, oc) = make(), make()
    compiled = ember.compile(lambda x, y: step(mc, oc, x, y), fullgraph=True, dynamic=True)
    rng = np.random.default_rng(0)
    for b in (8, 5, 8, 3):
        x = ember.tensor(rng.standard_normal((b, 3, 6, 6)).astype(np.float32))
        y = ember.tensor(rng.integers(0, 5, b))
        np.testing.assert_allclose(float(compiled(x, y)), float(step(me, oe, x, y)), rtol=1e-5, atol=1e-6)
    assert compiled.stats["compiles"] == 1
    for (name, want), (_, got) in zip(me.state_dict().items(), mc.state_dict().items()):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)


def test_einsum_with_the_batch_in_two_result_dims():
    # einsum("ij,kj->ik", x, x) reshapes a bmm's 1 x n x n result to n x n: an expand of two
    # dynamic dims, on which MLIR 22's expand-strided-metadata crashed (a segfault).
    f = lambda x: ember.einsum("ij,kj->ik", x, x)
    cf = ember.compile(f, dynamic=True)
    for n in (4, 7, 2):
        x = ember.randn(n, 3, requires_grad=True)
        got = cf(x)
        np.testing.assert_allclose(got.detach().numpy(), f(x).detach().numpy(), rtol=1e-5, atol=1e-6)
        got.pow(2).sum().backward()
        xe = x.detach().clone().requires_grad_()
        f(xe).pow(2).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert cf.stats["compiles"] == 1


def test_adaptive_average_pooling_to_several_outputs_has_a_dynamic_batch():
    # P_h @ x @ P_w^T broadcast the constant P_h over the batch: a batch-sized constant that
    # dynamic=True refused (every nn.AdaptiveAvgPool2d with an output above 1x1).
    m = nn.Sequential(nn.Conv2d(2, 3, 3), nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(), nn.Linear(18, 2))
    compiled = ember.compile(m, dynamic=True)
    for n in (2, 5, 3):
        x = ember.randn(n, 2, 7, 9)
        np.testing.assert_allclose(compiled(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert compiled.stats["compiles"] == 1
