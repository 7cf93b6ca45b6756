"""ember.compile of cumsum, prod, cumprod, unfold and argsort (sort, topk): compiled results
against eager ember and against PyTorch on random inputs, forward over several shapes, dims and
dtypes, gradients (cumsum, prod, cumprod, unfold, and sort/topk values through gather) and a
compiled training step; dynamic=True; the CUDA plan builder's refusal."""
import numpy as np
import pytest
import torch

import ember

pytestmark = pytest.mark.skipif(not ember._C.has_compiler, reason="built without the compiler")

RNG = np.random.default_rng(7)
SHAPES_DIMS = [((7,), 0), ((7,), -1), ((3, 5), 0), ((3, 5), 1), ((2, 3, 4), 0), ((2, 3, 4), 1),
               ((2, 3, 4), 2), ((4, 1, 6), 1), ((), 0), ((0, 3), 1)]


def data(shape, dtype):
    """Random values of `dtype` (numpy), with repeated values for ints and bools."""
    if dtype == "float32":
        return RNG.standard_normal(shape).astype(np.float32)
    if dtype == "bool":
        return RNG.integers(0, 2, shape).astype(bool)
    return RNG.integers(-3, 4, shape).astype(dtype)


def to_ember(a):
    return ember.tensor(a) if a.dtype != np.int32 else ember.tensor(a.astype(np.int64)).int()


def check(compiled, eager, want, exact):
    """compiled == eager ember (exactly, or within float tolerance), and both match torch."""
    assert compiled.dtype == eager.dtype and compiled.shape == eager.shape
    c, e = compiled.detach().numpy(), eager.detach().numpy()
    w = want.detach().numpy()
    assert c.shape == w.shape, (c.shape, w.shape)
    if exact:
        np.testing.assert_array_equal(c, e)
        np.testing.assert_array_equal(c, w)
    else:
        np.testing.assert_allclose(c, e, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(c, w, rtol=1e-4, atol=1e-5)


def compiled_fn(fn):
    return ember.compile(fn, fullgraph=True)


# ---------------------------------------------------------------------------------------------
# Forward

@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "bool"])
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans_forward(name, shape, dim, dtype):
    a = data(shape, dtype)
    fn = lambda x: getattr(ember, name)(x, dim)
    check(compiled_fn(fn)(to_ember(a)), fn(to_ember(a)), getattr(torch, name)(torch.tensor(a), dim),
          exact=dtype != "float32")


def test_scans_of_long_lines_and_integer_wrapping():
    a = RNG.standard_normal((3, 2000)).astype(np.float32)
    for dim in (0, 1):
        fn = lambda x: ember.cumsum(x, dim)
        check(compiled_fn(fn)(ember.tensor(a)), fn(ember.tensor(a)), torch.cumsum(torch.tensor(a), dim),
              exact=False)
    # int64 products wrap as in PyTorch (and eager ember).
    big = np.full((2, 70), 3, dtype=np.int64)
    fn = lambda x: ember.cumprod(x, 1)
    check(compiled_fn(fn)(ember.tensor(big)), fn(ember.tensor(big)),
          torch.cumprod(torch.tensor(big), 1), exact=True)


PROD_DIMS = [((5,), None, False), ((3, 4), None, False), ((3, 4), 0, False), ((3, 4), 1, True),
             ((2, 3, 4), -1, False), ((2, 3, 4), 1, True), ((), None, False), ((0, 3), 0, False)]


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "bool"])
@pytest.mark.parametrize("shape,dim,keepdim", PROD_DIMS)
def test_prod_forward(shape, dim, keepdim, dtype):
    a = data(shape, dtype)
    if dtype == "float32":
        a = (a * 0.5 + np.sign(a)).astype(np.float32)  # away from 0, products of moderate size
    if dim is None:
        fn = lambda x: ember.prod(x)
        want = torch.prod(torch.tensor(a))
    else:
        fn = lambda x: ember.prod(x, dim, keepdim)
        want = torch.prod(torch.tensor(a), dim, keepdim)
    check(compiled_fn(fn)(to_ember(a)), fn(to_ember(a)), want, exact=dtype != "float32")


UNFOLDS = [((10,), 0, 3, 1), ((10,), 0, 3, 3), ((10,), 0, 2, 4), ((10,), 0, 10, 1), ((10,), 0, 0, 2),
           ((3, 9), 1, 4, 2), ((3, 9), 0, 2, 1), ((2, 7, 3), 1, 3, 2), ((2, 7, 3), -1, 2, 1),
           ((), 0, 1, 1)]


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "bool"])
@pytest.mark.parametrize("shape,dim,size,step", UNFOLDS)
def test_unfold_forward(shape, dim, size, step, dtype):
    a = data(shape, dtype)
    fn = lambda x: x.unfold(dim, size, step) * 1 if dtype != "bool" else x.unfold(dim, size, step)
    tfn = lambda x: x.unfold(dim, size, step) * 1 if dtype != "bool" else x.unfold(dim, size, step)
    check(compiled_fn(fn)(to_ember(a)), fn(to_ember(a)), tfn(torch.tensor(a)), exact=True)


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "bool"])
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("descending", [False, True])
def test_argsort_forward(shape, dim, descending, dtype):
    a = data(shape, dtype)  # ints and bools repeat: the order of ties is checked (stable)
    fn = lambda x: ember.argsort(x, dim, descending=descending)
    t = torch.tensor(a)
    want = torch.argsort(t, dim=dim, descending=descending, stable=True) if t.dim() else torch.zeros((), dtype=torch.int64)
    check(compiled_fn(fn)(to_ember(a)), fn(to_ember(a)), want, exact=True)


def test_argsort_of_strided_inputs_nan_and_long_lines():
    a = RNG.standard_normal((4, 300)).astype(np.float32)
    a[0, 5] = a[2, 17] = a[2, 100] = np.nan
    a[1, :50] = 0.5  # a run of ties
    t = torch.tensor(a)
    for dim, desc in ((1, False), (1, True), (0, False)):
        fn = lambda x: ember.argsort(x, dim, descending=desc)
        check(compiled_fn(fn)(ember.tensor(a)), fn(ember.tensor(a)),
              torch.argsort(t, dim=dim, descending=desc, stable=True), exact=True)
    # The input of the sort is a transposed (strided) value and the result is transposed back.
    fn = lambda x: ember.argsort((x * 2).t(), 0).t() + 0
    check(compiled_fn(fn)(ember.tensor(a)), fn(ember.tensor(a)),
          torch.argsort((t * 2).t(), dim=0, stable=True).t(), exact=True)


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_sort_and_topk_forward(dtype):
    a = data((5, 8), dtype)
    t = torch.tensor(a)
    for dim in (0, 1, -1):
        for desc in (False, True):
            fn = lambda x: ember.sort(x, dim, descending=desc, stable=True)
            got, eager = compiled_fn(fn)(to_ember(a)), fn(to_ember(a))
            want = torch.sort(t, dim=dim, descending=desc, stable=True)
            check(got.values, eager.values, want.values, exact=True)  # namedtuples come back
            check(got.indices, eager.indices, want.indices, exact=True)
    for dim, k in ((1, 3), (0, 2), (1, 8), (1, 1)):
        for largest in (True, False):
            fn = lambda x: ember.topk(x, k, dim, largest=largest)
            got, eager = compiled_fn(fn)(to_ember(a)), fn(to_ember(a))
            want = torch.topk(t, k, dim, largest=largest)
            check(got[0], eager[0], want[0], exact=True)
            np.testing.assert_array_equal(got[1].numpy(), eager[1].numpy())  # ties: ember's order


# ---------------------------------------------------------------------------------------------
# Gradients: the VJPs are ember ops, so they compile in the same graph.

def grads_match(fn, targs, eargs, tfn, rtol=1e-4, atol=1e-5):
    """Compiled (out, grads) of fn == eager == torch's for these arguments."""
    def with_grads(*xs):
        out = fn(*xs)
        g = ember.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(np.float32))
        return (out, *ember.autograd.grad((out * g).sum(), list(xs)))

    got, eager = ember.compile(with_grads, fullgraph=True)(*eargs), with_grads(*eargs)
    tout = tfn(*targs)
    tg = torch.tensor(np.linspace(-1, 1, tout.numel()).reshape(tout.shape).astype(np.float32))
    (tout * tg).sum().backward()
    want = (tout, *[t.grad for t in targs])
    assert len(got) == len(want)
    for c, e, w in zip(got, eager, want):
        np.testing.assert_allclose(c.detach().numpy(), e.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(c.detach().numpy(), w.detach().numpy(), rtol=rtol, atol=atol)


def leaves(a):
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("shape,dim", [((6,), 0), ((3, 5), 0), ((3, 5), 1), ((2, 3, 4), 1)])
def test_cumsum_and_cumprod_gradients(shape, dim):
    a = data(shape, "float32")
    e, t = leaves(a)
    grads_match(lambda x: ember.cumsum(x, dim), [t], [e], lambda x: torch.cumsum(x, dim))
    # cumprod's VJP handles zeros (the first zero of a line, and after it): put some in.
    z = a.copy()
    z.reshape(-1)[::4] = 0
    for v in (a, z):
        e, t = leaves(v)
        grads_match(lambda x: ember.cumprod(x, dim), [t], [e], lambda x: torch.cumprod(x, dim))


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_prod_gradients(dim, keepdim):
    a = (data((3, 4), "float32") * 0.5 + 1.0).astype(np.float32)
    e, t = leaves(a)
    if dim is None:
        grads_match(lambda x: ember.prod(x), [t], [e], lambda x: torch.prod(x))
    else:
        grads_match(lambda x: ember.prod(x, dim, keepdim), [t], [e], lambda x: torch.prod(x, dim, keepdim))


@pytest.mark.parametrize("shape,dim,size,step", [((10,), 0, 3, 2), ((10,), 0, 2, 4), ((3, 9), 1, 4, 1),
                                                 ((2, 7, 3), 1, 3, 2), ((4, 5), 0, 2, 1)])
def test_unfold_gradients(shape, dim, size, step):
    e, t = leaves(data(shape, "float32"))  # overlapping windows accumulate their gradients
    grads_match(lambda x: x.unfold(dim, size, step), [t], [e], lambda x: x.unfold(dim, size, step))


def test_sort_and_topk_value_gradients():
    a = data((4, 6), "float32")
    for fn, tfn in ((lambda x: ember.sort(x, 1)[0], lambda x: torch.sort(x, 1)[0]),
                    (lambda x: ember.sort(x, 0, descending=True)[0],
                     lambda x: torch.sort(x, 0, descending=True)[0]),
                    (lambda x: ember.topk(x, 2, 1)[0], lambda x: torch.topk(x, 2, 1)[0])):
        e, t = leaves(a)
        grads_match(fn, [t], [e], tfn)


def test_training_step_through_the_new_ops():
    # A parameter used through cumsum, cumprod, prod, unfold and sort: loss.backward() and an
    # SGD step compile into one graph and follow eager ember step for step.
    w0 = RNG.standard_normal((4, 6)).astype(np.float32) * 0.3 + 1

    def make():
        w = ember.nn.Parameter(ember.tensor(w0))
        return w, ember.optim.SGD([w], lr=0.05)

    def loss_of(w, x):
        y = x * w
        windows = y.unfold(1, 3, 1)                     # [4, 4, 3]
        s = ember.sort(windows.sum(-1), 1)[0]           # [4, 4]
        return (ember.cumsum(s, 1).pow(2).mean() + ember.cumprod(y * 0.5, 1).sum() * 0.1
                + ember.prod(y * 0.5 + 1, 1).mean())

    def step_fn(w, opt):
        def step(x):
            opt.zero_grad()
            loss = loss_of(w, x)
            loss.backward()
            opt.step()
            return loss
        return step

    w_c, opt_c = make()
    w_e, opt_e = make()
    compiled = ember.compile(step_fn(w_c, opt_c), fullgraph=True)
    eager = step_fn(w_e, opt_e)
    for i in range(4):
        x = ember.tensor(RNG.standard_normal((4, 6)).astype(np.float32))
        lc, le = compiled(x), eager(x)
        np.testing.assert_allclose(lc.item(), le.item(), rtol=1e-4)
        np.testing.assert_allclose(w_c.detach().numpy(), w_e.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert compiled.stats["compiles"] == 1 and compiled.stats["graph_breaks"] == 0


# ---------------------------------------------------------------------------------------------
# dynamic=True (a symbolic batch) and the CUDA plan builder

def test_dynamic_batch_for_every_new_op():
    def fn(x):
        return (ember.cumsum(x, 1), ember.cumsum(x, 0), ember.cumprod(x, 1), ember.cumprod(x, 0),
                ember.prod(x, 1), ember.prod(x, 0, keepdim=True), x.unfold(1, 3, 2), x.unfold(0, 2, 1),
                ember.argsort(x, 1), ember.argsort(x, 0, descending=True), ember.sort(x, 0)[0],
                ember.topk(x, 2, 1)[0])

    compiled = ember.compile(fn, dynamic=True, fullgraph=True)
    for b in (3, 8, 21, 2):
        x = ember.tensor((RNG.standard_normal((b, 7)) * 0.5 + 1).astype(np.float32))
        for got, want in zip(compiled(x), fn(x)):
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    assert compiled.stats["compiles"] == 1
    assert "?x" in compiled.ir(ember.zeros(5, 7))


def test_dynamic_batch_gradients():
    # (Each term's cotangent depends on x: one computed from constants alone, whose shape follows
    # the batch, is a documented dynamic-shape limitation of its own, not these ops'.)
    def fn(x):
        y = (ember.cumsum(x, 0) * x).sum() + (ember.cumsum(x, 1) * x).sum() \
            + (ember.cumprod(x, 1) * x).sum() + (ember.cumprod(x, 0) * x).sum() \
            + (ember.prod(x, 1) * x[:, 0]).sum() + (ember.prod(x, 0) * x).sum() \
            + x.unfold(1, 2, 1).pow(2).sum() + (ember.sort(x, 0)[0] * x).sum() \
            + (ember.sort(x, 1, descending=True)[0] * x).sum()
        return y, ember.autograd.grad(y, [x])[0]

    compiled = ember.compile(fn, dynamic=True, fullgraph=True)
    for b in (3, 5, 12):
        x = ember.tensor((RNG.standard_normal((b, 4)) * 0.5 + 1).astype(np.float32), requires_grad=True)
        for got, want in zip(compiled(x), fn(x)):
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-4)
    assert compiled.stats["compiles"] == 1


def test_what_dynamic_shapes_do_not_cover_is_named():
    x = ember.randn(6, 5)
    # topk along the batch keeps k of a dynamic length: the batch is specialised, the warning
    # names the op.
    with pytest.warns(ember.RecompileWarning, match=r"ember\.argsort keeping the first k \(topk\) "
                      r"along a dimension of dynamic size.*dynamic=True"):
        ember.compile(lambda t: ember.topk(t, 2, 0)[0], dynamic=True, fullgraph=True)(x)
    # windows with a step over the batch: their count is not affine in the batch size.
    # The node is named by its position in the graph, not as a "step" (unfold has a step).
    with pytest.warns(ember.RecompileWarning,
                      match=r"ember\.unfold \(graph node \d+\).*not an affine function"):
        ember.compile(lambda t: t.unfold(0, 2, 2), dynamic=True, fullgraph=True)(x)
    # Both compile with static shapes.
    for fn in (lambda t: ember.topk(t, 2, 0)[0], lambda t: t.unfold(0, 2, 2)):
        np.testing.assert_array_equal(ember.compile(fn)(x).numpy(), fn(x).numpy())


@pytest.mark.parametrize("name,fn", [
    ("cumsum", lambda x: x.cumsum(1)), ("cumprod", lambda x: x.cumprod(0)),
    ("prod", lambda x: x.prod(1)), ("unfold", lambda x: x.unfold(1, 2, 1) * 2),
    ("argsort", lambda x: ember.argsort(x, 1))])
def test_cuda_plan_compiles_them_as_the_cpu_compiler_does(name, fn):
    # (The CUDA backend refused these until it got scan, product, unfold and rank-sort kernels.)
    x = ember.randn(3, 4)
    got = ember.compile(fn, backend="cuda_emulation", fullgraph=True)(x)
    want = ember.compile(fn, fullgraph=True)(x)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_export_and_load_run_the_sort_kernel(tmp_path):
    # ember.export / load_exported go through the same importer and JIT (runtime symbols).
    fn = lambda x: (ember.sort(x, 1)[0], ember.cumsum(x, 0), ember.prod(x, 1), x.unfold(1, 2, 2))
    x = ember.tensor(data((3, 6), "float32"))
    path = str(tmp_path / "ops2.ember")
    ember.export(fn, (x,), path)
    loaded = ember.load_exported(path)
    y = ember.tensor(data((3, 6), "float32"))
    for got, want in zip(loaded(y), fn(y)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


def test_ahead_of_time_library_runs_them(tmp_path):
    # ember-compile links the library against ember_aot_runtime, which holds the sort entry.
    import ctypes
    import os
    build = os.path.abspath(os.path.join(os.path.dirname(ember.__file__), "..", ".."))
    tool = os.path.join(build, "tools", "ember-compile")
    if not os.path.exists(tool):
        pytest.skip("ember-compile is built with the compiler")
    import subprocess
    fn = lambda x: (ember.sort(x, 1, descending=True)[0], ember.argsort(x, 0), ember.cumsum(x, 1),
                    ember.cumprod(x, 0), ember.prod(x, 1), x.unfold(1, 3, 2))
    x = data((4, 7), "float32")
    ember.export(fn, (ember.tensor(x),), str(tmp_path / "ops.ember"))
    r = subprocess.run([tool, str(tmp_path / "ops.ember"), "--target=cpu", "-o", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lib = ctypes.CDLL(str(tmp_path / "out" / "libops.so"))
    lib.ops_create.restype = ctypes.c_void_p
    lib.ops_run_buffers.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.ops_destroy.argtypes = [ctypes.c_void_p]
    s = lib.ops_create()
    y = data((4, 7), "float32")
    want = [t.numpy() for t in fn(ember.tensor(y))]
    outs = [np.empty(w.shape, w.dtype) for w in want]
    assert lib.ops_run_buffers(s, (ctypes.c_void_p * 1)(y.ctypes.data),
                               (ctypes.c_void_p * len(outs))(*[o.ctypes.data for o in outs])) == 0
    lib.ops_destroy(s)
    for got, w in zip(outs, want):
        np.testing.assert_allclose(got, w, rtol=1e-6, atol=1e-6)
