"""Convolution and pooling through ember.compile (ember.im2col / ember.col2im calling ember's CPU
kernels from compiled code): outputs and gradients against eager ember and PyTorch, a LeNet
training step that follows the eager loss curve, and the errors for what does not compile."""
import os
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def compiled_and_eager(fn, arrays, grad=True):
    """fn's outputs and (with grad) the gradients of sum(out * r) w.r.t. every input, eagerly and
    compiled (fullgraph: a graph break fails the test), for ember tensors made from `arrays`."""
    cot = {}

    def with_grads(*xs):
        y = fn(*xs)
        if not grad:
            return y
        r = cot.setdefault("r", ember.tensor(rand(*y.shape)))
        return (y,) + tuple(ember.autograd.grad((y * r).sum(), list(xs)))

    def run(f):
        xs = [ember.tensor(a, requires_grad=grad) for a in arrays]
        out = f(*xs)
        return [t.detach().numpy() for t in (out if isinstance(out, tuple) else (out,))]

    compiled = ember.compile(with_grads, fullgraph=True)
    got = run(compiled)
    assert len(compiled.cache) == 1
    return got, run(with_grads), cot["r"].numpy() if grad else None


def torch_outputs(tfn, arrays, r):
    ts = [torch.tensor(a, requires_grad=r is not None) for a in arrays]
    y = tfn(*ts)
    if r is None:
        return [y.detach().numpy()]
    grads = torch.autograd.grad((y * torch.tensor(r)).sum(), ts)
    return [y.detach().numpy()] + [g.numpy() for g in grads]


def check(fn, tfn, arrays, grad=True, tol=1e-4):
    got, eager, r = compiled_and_eager(fn, arrays, grad)
    ref = torch_outputs(tfn, arrays, r)
    assert len(got) == len(eager) == len(ref)
    for g, e, t in zip(got, eager, ref):
        scale = max(1.0, float(np.abs(t).max()))
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5 * scale)
        np.testing.assert_allclose(g, t, rtol=tol, atol=tol * scale)


CONV_CASES = [
    # (x shape, w shape, stride, padding, dilation, groups, bias)
    ((2, 3, 10, 10), (4, 3, 3, 3), 1, 0, 1, 1, True),
    ((2, 3, 10, 9), (5, 3, 3, 2), 2, 1, 1, 1, True),
    ((1, 2, 11, 11), (3, 2, 3, 3), (2, 1), (1, 2), (2, 1), 1, False),
    ((2, 4, 8, 8), (6, 2, 3, 3), 1, 1, 1, 2, True),
    ((2, 4, 7, 7), (4, 1, 3, 3), 2, 1, 2, 4, False),  # depthwise, strided and dilated
    ((3, 1, 28, 28), (6, 1, 5, 5), 1, 2, 1, 1, True),  # LeNet's first layer
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups,bias", CONV_CASES)
def test_conv2d_forward_and_gradients(xs, ws, stride, padding, dilation, groups, bias):
    arrays = [rand(*xs), rand(*ws)] + ([rand(ws[0])] if bias else [])

    def fn(x, w, *b):
        return F.conv2d(x, w, b[0] if b else None, stride, padding, dilation, groups)

    def tfn(x, w, *b):
        return TF.conv2d(x, w, b[0] if b else None, stride, padding, dilation, groups)

    check(fn, tfn, arrays)


def test_conv2d_on_a_strided_view():
    # The sliced input reaches ember.im2col as a strided buffer: the kernel's packed-copy path.
    arrays = [rand(2, 3, 12, 12), rand(4, 3, 3, 3)]
    check(lambda x, w: F.conv2d(x[:, :, 1:, 2:], w, padding=1),
          lambda x, w: TF.conv2d(x[:, :, 1:, 2:], w, padding=1), arrays)


def test_conv_transpose2d_forward_and_gradients():
    arrays = [rand(2, 4, 5, 5), rand(4, 3, 3, 3), rand(3)]
    check(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
          lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
          arrays)


MAX_POOL_CASES = [
    # (x shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 9), 3, 2, 1, 1, False),
    ((1, 2, 9, 10), (3, 2), (2, 1), (1, 0), (1, 2), False),
    ((2, 2, 7, 7), 2, 2, 0, 1, True),  # ceil_mode: the last windows hang over the edge
    ((1, 2, 5, 5), 2, 2, 1, 1, True),
]


@pytest.mark.parametrize("xs,k,s,p,d,ceil", MAX_POOL_CASES)
def test_max_pool2d_forward_and_gradients(xs, k, s, p, d, ceil):
    # Distinct values: no ties, so the gradient goes to one element (as in PyTorch).
    x = RNG.permutation(np.prod(xs)).reshape(xs).astype(np.float32) / 10
    check(lambda t: F.max_pool2d(t, k, s, p, d, ceil),
          lambda t: TF.max_pool2d(t, k, s, p, d, ceil), [x])


AVG_POOL_CASES = [
    # (x shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    ((2, 3, 8, 8), 2, None, 0, False, True, None),
    ((2, 3, 9, 9), 3, 2, 1, False, True, None),
    ((2, 3, 9, 9), 3, 2, 1, False, False, None),
    ((1, 2, 7, 8), (3, 2), (2, 3), (1, 1), True, False, None),
    ((1, 2, 6, 6), 3, 3, 0, False, True, 4),
]


@pytest.mark.parametrize("xs,k,s,p,ceil,cip,div", AVG_POOL_CASES)
def test_avg_pool2d_forward_and_gradients(xs, k, s, p, ceil, cip, div):
    check(lambda t: F.avg_pool2d(t, k, s, p, ceil, cip, div),
          lambda t: TF.avg_pool2d(t, k, s, p, ceil, cip, div), [rand(*xs)])


def test_lenet_module_forward_compiles():
    from lenet_fashion_mnist import LeNet5
    ember.manual_seed(0)
    model = LeNet5()
    x = ember.tensor(rand(4, 1, 28, 28))
    compiled = ember.compile(model, fullgraph=True)
    with ember.no_grad():
        np.testing.assert_allclose(compiled(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_compiled_temporaries_come_from_the_host_cache():
    # memref.alloc in compiled code goes to ember's caching allocator: a repeated call reuses
    # blocks (no fresh page-faulting memory) and frees everything it allocated.
    f = ember.compile(lambda x, w: F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2),
                      fullgraph=True)
    x, w = ember.tensor(rand(4, 3, 16, 16)), ember.tensor(rand(8, 3, 3, 3))
    f(x, w)
    f(x, w)
    before = ember._C._host_allocator_stats()
    out = f(x, w)
    after = ember._C._host_allocator_stats()
    made = after["allocations"] - before["allocations"]
    assert made >= 3  # the im2col columns, the GEMM result, the pooling columns, the output
    assert after["cache_hits"] - before["cache_hits"] == made
    del out
    assert ember._C._host_allocator_stats()["allocated_bytes"] == before["allocated_bytes"]


def lenet_params(rng):
    def uniform(fan_in, *shape):
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)
    return [uniform(25, 6, 1, 5, 5), uniform(25, 6), uniform(150, 16, 6, 5, 5), uniform(150, 16),
            uniform(400, 120, 400), uniform(400, 120), uniform(120, 84, 120), uniform(120, 84),
            uniform(84, 10, 84), uniform(84, 10)]


def lenet(x, c1, c1b, c2, c2b, f1, f1b, f2, f2b, f3, f3b):
    x = F.max_pool2d(F.relu(F.conv2d(x, c1, c1b, padding=2)), 2)
    x = F.max_pool2d(F.relu(F.conv2d(x, c2, c2b)), 2)
    x = F.relu(F.linear(x.flatten(1), f1, f1b))
    x = F.relu(F.linear(x, f2, f2b))
    return F.linear(x, f3, f3b)


def lenet_step(x, y, *params, lr=0.1):
    loss = F.cross_entropy(lenet(x, *params), y)  # y: class probabilities (one-hot)
    grads = ember.autograd.grad(loss, list(params))
    return (loss,) + tuple(p - lr * g for p, g in zip(params, grads))


def test_lenet_training_step_follows_the_eager_loss_curve():
    rng = np.random.default_rng(0)
    init = lenet_params(rng)
    batches = []
    for _ in range(6):
        labels = rng.integers(0, 10, 16)
        x = (rand(16, 1, 28, 28) * 0.5 + labels[:, None, None, None] * 0.1).astype(np.float32)
        batches.append((x, np.eye(10, dtype=np.float32)[labels]))

    def train(step):
        params = [ember.tensor(p, requires_grad=True) for p in init]
        losses = []
        for x, y in batches:
            loss, *params = step(ember.tensor(x), ember.tensor(y), *params)
            params = [p.detach().requires_grad_() for p in params]
            losses.append(loss.item())
        return losses, params

    compiled = ember.compile(lenet_step, fullgraph=True)
    c_losses, c_params = train(compiled)
    e_losses, e_params = train(lenet_step)
    assert len(compiled.cache) == 1
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-4)
    assert c_losses[-1] < c_losses[0]  # it trains
    for c, e in zip(c_params, e_params):
        np.testing.assert_allclose(c.detach().numpy(), e.detach().numpy(), rtol=1e-4, atol=1e-5)

    # The first step against PyTorch.
    ts = [torch.tensor(p, requires_grad=True) for p in init]
    tx, ty = torch.tensor(batches[0][0]), torch.tensor(batches[0][1])
    h = TF.max_pool2d(TF.relu(TF.conv2d(tx, ts[0], ts[1], padding=2)), 2)
    h = TF.max_pool2d(TF.relu(TF.conv2d(h, ts[2], ts[3])), 2)
    h = TF.relu(TF.linear(h.flatten(1), ts[4], ts[5]))
    tloss = TF.cross_entropy(TF.linear(TF.relu(TF.linear(h, ts[6], ts[7])), ts[8], ts[9]), ty)
    np.testing.assert_allclose(c_losses[0], tloss.item(), rtol=1e-5)


def test_what_does_not_compile_is_a_clear_error():
    x = ember.tensor(rand(1, 2, 6, 6))
    # max_pool2d's indices (argmax, int64) compile, and so does a cumsum of its output.
    pool = lambda t: F.max_pool2d(t, 2, return_indices=True)[1]
    np.testing.assert_array_equal(ember.compile(pool, fullgraph=True)(x).numpy(), pool(x).numpy())
    scan = lambda t: F.relu(t).cumsum(0)
    np.testing.assert_array_equal(ember.compile(scan, fullgraph=True)(x).numpy(), scan(x).numpy())
    # Convolution in float64 does not compile (graph values are float32).
    with pytest.raises(NotImplementedError, match="input 0 is float64"):
        ember.compile(lambda t, w: F.conv2d(t, w), fullgraph=True)(
            ember.tensor(rand(1, 2, 6, 6).astype(np.float64)),
            ember.tensor(rand(3, 2, 3, 3).astype(np.float64)))
    # Bad geometry is still the eager op's error, raised while tracing.
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        ember.compile(lambda t, w: F.conv2d(t, w), fullgraph=True)(x, ember.tensor(rand(3, 2, 7, 7)))


def test_lenet_export_round_trip(tmp_path):
    # The export holds ember.im2col / ember.col2im ops; load_exported JIT-compiles them.
    rng = np.random.default_rng(3)
    weights = [ember.tensor(p) for p in lenet_params(rng)]
    x = ember.tensor(rand(5, 1, 28, 28))
    path = tmp_path / "lenet.ember"
    ember.export(lambda t: lenet(t, *weights), (x,), path, input_names=["images"],
                 output_names=["logits"])
    model = ember.load_exported(path)
    np.testing.assert_allclose(model(x).numpy(), lenet(x, *weights).numpy(), rtol=1e-5, atol=1e-5)


OTHER_WINDOW_OPS = [
    ("conv1d", lambda x, w: F.conv1d(x, w, stride=2, padding=1),
     lambda x, w: TF.conv1d(x, w, stride=2, padding=1), [(2, 3, 11), (4, 3, 3)]),
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1), lambda x: TF.max_pool1d(x, 3, 2, 1),
     [(2, 3, 11)]),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1), lambda x: TF.avg_pool1d(x, 3, 2, 1),
     [(2, 3, 11)]),
    ("unfold", lambda x: F.unfold(x, (2, 3), padding=1, stride=(1, 2)),
     lambda x: TF.unfold(x, (2, 3), padding=1, stride=(1, 2)), [(2, 3, 6, 7)]),
    ("fold", lambda c: F.fold(c, (5, 6), (2, 2), stride=2, padding=1),
     lambda c: TF.fold(c, (5, 6), (2, 2), stride=2, padding=1), [(2, 12, 12)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
     lambda x: TF.adaptive_avg_pool2d(x, (3, 2)), [(2, 3, 7, 5)]),
]


@pytest.mark.parametrize("name,fn,tfn,shapes", OTHER_WINDOW_OPS, ids=[c[0] for c in OTHER_WINDOW_OPS])
def test_other_window_ops_compile(name, fn, tfn, shapes):
    arrays = [rand(*s) for s in shapes]
    if name == "max_pool1d":
        arrays = [RNG.permutation(np.prod(shapes[0])).reshape(shapes[0]).astype(np.float32)]
    check(fn, tfn, arrays)
