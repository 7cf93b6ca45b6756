"""The compiler's CUDA backend: ember.compile builds a CUDA plan (generated kernels, cuBLAS
GEMMs) for a traced graph. Without a GPU, backend="cuda_emulation" runs the same plan on the
host (its kernels compiled by the host C++ compiler), so the generated code is checked against
eager ember here, and every kernel compiles with NVRTC for sm_80 and sm_90. On a GPU (marker
`gpu`), the plans run on the device against eager CUDA."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import _C

gpu = pytest.mark.gpu


def _mlp_forward():
    m = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 5))
    return (lambda x: m(x)), [(6, 12)], m


def _mlp_train_step():
    m = nn.Sequential(nn.Linear(12, 32), nn.Tanh(), nn.Linear(32, 5))

    def step(x, y):
        loss = F.mse_loss(m(x), y)
        loss.backward()
        return loss
    return step, [(6, 12), (6, 5)], m


def _soft_cross_entropy():
    lin = nn.Linear(10, 7)

    def step(x, p):
        loss = F.cross_entropy(lin(x), p.softmax(-1))  # class probabilities as targets
        loss.backward()
        return loss
    return step, [(4, 10), (4, 7)], lin


def _norms_and_activations():
    ln = nn.LayerNorm(16)

    def f(x):
        y = F.gelu(ln(x)) + F.gelu(x, approximate="tanh") * F.silu(x)
        z = F.log_softmax(y, dim=-1) + y.softmax(dim=0)
        out = (z * z).sum() + y.amax(dim=1).sum() - y.amin().abs() + x.clamp(-0.5, 0.5).mean()
        out.backward()
        return out
    return f, [(5, 16)], ln


def _encoder_layer():
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)

    def f(x):
        y = layer(x)
        (y * y).mean().backward()
        return y
    return f, [(2, 5, 16)], layer


def _lenet():
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                      nn.Conv2d(3, 4, 3, stride=2), nn.Flatten(), nn.Linear(4, 3))

    def f(x):
        y = m(x)
        y.pow(2).sum().backward()
        return y
    return f, [(2, 1, 8, 8)], m


def _shape_ops():
    holder = nn.Module()
    holder.w = nn.Parameter(ember.randn(4, 6))

    def f(x):
        a = ember.cat([x, holder.w * 2, x[:, ::2].repeat(1, 2)[:, :6]], dim=0)   # cat, slice with step
        b = a.t().unsqueeze(0).expand(3, 6, 12).permute(2, 0, 1)           # expand, permute
        c = ember.where(a > 0, a, a * 0.1).sum(dim=1, keepdim=True)        # comparison, where
        out = b.sum() + (c * c).sum() + a[1:3].max()
        out.backward()
        return out
    return f, [(4, 6)], holder


def _max_pool():
    conv = nn.Conv2d(2, 2, 3, padding=1)

    def f(x):
        y = F.max_pool2d(conv(x), 2)
        y.sum().backward()
        return y
    return f, [(1, 2, 6, 6)], conv


def _classifier():
    # int64 class indices and token ids: embedding (index_select / index_add), cross_entropy
    # (gather / scatter_add), argmax accuracy.
    holder = nn.Module()
    holder.emb = nn.Embedding(10, 6)
    holder.lin = nn.Linear(6, 4)

    def f(ids, y):
        logits = holder.lin(holder.emb(ids))
        loss = F.cross_entropy(logits, y, label_smoothing=0.1) + F.nll_loss(logits.log_softmax(1), y)
        loss.backward()
        return loss + (logits.argmax(1) == y).float().mean() + logits.argmin(1).float().sum()
    return f, [("int", (7,), 10), ("int", (7,), 4)], holder


def _large_reductions():
    # Few outputs over many elements: the plan splits these into chunk partials.
    lin = nn.Linear(512, 2)

    def f(x):
        y = lin(x)
        out = x.sum() + x.pow(2).mean() - x.amax() + x.abs().amin() + (x * 3).sum(dim=0).amax()
        (out + y.sum()).backward()
        return out
    return f, [(40, 512)], lin


CASES = {"classifier": _classifier, "large_reductions": _large_reductions, "mlp_forward": _mlp_forward, "mlp_train_step": _mlp_train_step,
         "soft_cross_entropy": _soft_cross_entropy, "norms_and_activations": _norms_and_activations,
         "encoder_layer": _encoder_layer, "lenet": _lenet, "shape_ops": _shape_ops,
         "max_pool": _max_pool}


def _setup(name, device="cpu"):
    ember.manual_seed(0)
    fn, shapes, module = CASES[name]()
    module.to(device)
    rng = np.random.default_rng(len(name))
    args = [ember.tensor(rng.integers(0, s[2], s[1]) if s[0] == "int" else
                         rng.standard_normal(s).astype(np.float32)).to(device) for s in shapes]
    params = list(module.parameters())
    return fn, args, params


def _run(fn, args, params):
    for p in params:
        p.grad = None
    out = fn(*args)
    return out, [None if p.grad is None else p.grad.cpu().numpy() for p in params]


@pytest.mark.parametrize("name", sorted(CASES))
def test_cuda_plan_emulated_equals_eager_and_compiles_with_nvrtc(name):
    fn, args, params = _setup(name)
    want, want_grads = _run(fn, args, params)
    compiled = ember.compile(fn, backend="cuda_emulation", fullgraph=True)
    got, got_grads = _run(compiled, args, params)
    assert compiled.stats["compiles"] == 1
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=2e-5, atol=2e-5)
    for g, w in zip(got_grads, want_grads):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-5)
    # The same plan's kernels compile for the GPUs the backend targets.
    plan = next(iter(compiled.cache.values()))[0]
    assert plan.kernels
    if not _C._nvrtc_available():
        pytest.skip("NVRTC is not available")
    for kname, source in plan.kernels:
        for arch in ("sm_80", "sm_90"):
            assert len(_C._nvrtc_compile(source, kname, arch)) > 100


def test_cuda_plan_fuses_and_reads_transposed_operands_in_place():
    ember.manual_seed(0)
    fn, shapes, _ = _mlp_forward()
    compiled = ember.compile(fn, backend="cuda_emulation")
    compiled(ember.randn(*shapes[0]))
    plan = next(iter(compiled.cache.values()))[0]
    names = [k for k, _ in plan.kernels]
    # bias + relu is one kernel; x @ W.t() transposes nothing (cuBLAS reads W transposed).
    assert names == ["ember_add_relu_0", "ember_add_1"], names
    text = plan.plan
    assert text.startswith("ember-cuda-plan 2\n")
    assert text.count("\ngemm 0 1 ") == 2, text[-400:]


def test_compiled_training_steps_on_the_cuda_plan_follow_eager():
    """zero_grad + forward + cross_entropy (int targets) + backward + SGD momentum in one plan:
    parameters, momentum buffers and outputs (an int64 argmax among them) follow eager."""
    def make():
        ember.manual_seed(0)
        m = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
        opt = ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            out = m(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss, out.argmax(1)
        return m, step
    (em, eager), (cm, compiled) = make(), make()
    compiled = ember.compile(compiled, backend="cuda_emulation", fullgraph=True)
    rng = np.random.default_rng(3)
    for _ in range(4):
        x = ember.tensor(rng.standard_normal((5, 6)).astype(np.float32))
        y = ember.tensor(rng.integers(0, 4, 5))
        (le, ae), (lc, ac) = eager(x, y), compiled(x, y)
        np.testing.assert_allclose(lc.numpy(), le.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert ac.dtype == ember.int64
        np.testing.assert_array_equal(ac.numpy(), ae.numpy())
    assert compiled.stats["compiles"] == 1
    for pe, pc in zip(em.parameters(), cm.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_cuda_plan_refuses_what_it_does_not_compile():
    # integer arithmetic inside a reduction's prologue (no status word there to check its range)
    compiled = ember.compile(lambda i: (i * 3).sum(), backend="cuda_emulation")
    with pytest.raises(NotImplementedError, match="ember.mul on i64"):
        compiled(ember.tensor([1, 2, 3]))
    compiled = ember.compile(lambda x: x.double() * 2, backend="cuda_emulation")
    with pytest.raises(NotImplementedError, match="float64"):
        compiled(ember.randn(3))


@gpu
@pytest.mark.skipif(not _C.has_compiler, reason="ember.compile needs the compiler (the GPU machine's "
                    "build has none: it runs the carried plans, test_cuda_plans_carried.py)")
@pytest.mark.parametrize("name", sorted(CASES))
def test_cuda_plan_on_the_gpu_equals_eager_cuda(name):
    fn, args, params = _setup(name, "cuda")
    want, want_grads = _run(fn, args, params)
    compiled = ember.compile(fn, fullgraph=True)
    got, got_grads = _run(compiled, args, params)
    assert isinstance(next(iter(compiled.cache.values()))[0], _C.CudaCompiledGraph)
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().cpu().numpy(),
                               rtol=1e-4, atol=1e-4)
    for g, w in zip(got_grads, want_grads):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4)


def test_cuda_plan_elementwise_chain_is_float_and_reads_dense_operands_at_i():
    """The gelu/tanh chain of the GPU benchmark: the record's literals are float (a double
    literal made gelu's erfc double precision on the GPU), and operands of the output's shape
    are read at i, with no coordinate division; a broadcast operand still gets coordinates."""
    def chain(x, b):
        return F.gelu(x * 1.5 + 0.5) * 2.0 + ember.tanh(x), x + b

    ember.manual_seed(0)
    x, b = ember.randn(64, 32), ember.randn(32)
    compiled = ember.compile(chain, backend="cuda_emulation", fullgraph=True)
    got = compiled(x, b)
    want = chain(x, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=2e-5, atol=2e-5)
    plan = next(iter(compiled.cache.values()))[0]
    sources = dict(plan.kernels)
    gelu = next(s for k, s in sources.items() if "gelu" in k)
    assert "a * 0.5f * erfc(a * -0.7071067811865476f)" in gelu, gelu[:3000]
    body = gelu[gelu.index('extern "C"'):]
    assert "rem %" not in body and "in0[i]" in body, body
    bias = next(s for k, s in sources.items() if "gelu" not in k)
    body = bias[bias.index('extern "C"'):]
    assert "unsigned i1 = rem % 32u" in body and "in1[i1 * 1LL]" in body, body


def test_cuda_plan_dense_elementwise_moves_float4_and_writes_outputs_in_place():
    """A dense chain of 4096+ elements runs four elements per thread (a launch4 step), as
    float4 where every pointer is 16-byte aligned and element by element where a view's offset
    is not; both equal eager, and a second call leaves the first call's result alone (outputs
    are written straight into the returned tensors)."""
    def chain(x):
        return F.gelu(x * 1.5 + 0.5) * 2.0 + ember.tanh(x)

    ember.manual_seed(0)
    base = ember.randn(2 * 4096 + 1)
    compiled = ember.compile(chain, backend="cuda_emulation", fullgraph=True)
    for x in (base[:8192], base[1:]):  # aligned, then 4 bytes off
        got = compiled(x)
        np.testing.assert_allclose(got.numpy(), chain(x).numpy(), rtol=2e-5, atol=2e-5)
        first = got.numpy().copy()
        again = compiled(x * 2.0)  # must not write into the first call's result
        np.testing.assert_array_equal(got.numpy(), first)
        np.testing.assert_allclose(again.numpy(), chain(x * 2.0).numpy(), rtol=2e-5, atol=2e-5)
    plan = next(iter(compiled.cache.values()))[0]
    assert "\nlaunch4 0 8192 " in plan.plan, plan.plan[-300:]
    source = dict(plan.kernels)[plan.kernels[0][0]]
    assert "reinterpret_cast<const float4*>(in0)[t]" in source and "x0[k] = in0[t * 4 + k]" in source
    if _C._nvrtc_available():
        for arch in ("sm_80", "sm_90"):
            assert len(_C._nvrtc_compile(source, plan.kernels[0][0], arch)) > 100


def test_cuda_plan_row_reductions_take_a_warp_per_row():
    """Sums and maxima over dense rows (softmax's) run a warp per row (launch32 steps, shuffles
    on the GPU, lane 0 alone in the host emulation); column sums read base + r * stride without
    dividing r. All equal eager, and the kernels compile with NVRTC."""
    def fn(x):
        return ember.softmax(x, -1), x.sum(-1), x.amax(dim=(1, 2)), x.sum(0)

    ember.manual_seed(0)
    x = ember.randn(6, 40, 37)
    compiled = ember.compile(fn, backend="cuda_emulation", fullgraph=True)
    for g, w in zip(compiled(x), fn(x)):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=2e-5, atol=2e-5)
    plan = next(iter(compiled.cache.values()))[0]
    assert plan.plan.count("\nlaunch32 ") >= 3, plan.plan[-600:]
    sources = dict(plan.kernels)
    warp = [s for s in sources.values() if "a warp per row" in s]
    assert warp and all("__shfl_xor_sync" in s for s in warp)
    column = [s for k, s in sources.items() if "sum" in k and "a warp per row" not in s]
    assert any("long long off = base + r * 1480LL;" in s for s in column), column
    if _C._nvrtc_available():
        for k, s in plan.kernels:
            assert len(_C._nvrtc_compile(s, k, "sm_90")) > 100


def test_cuda_plan_reads_expanded_operands_without_materialising_them():
    """An expand whose users are all elementwise kernels is not a kernel of its own: they read
    its input with broadcast offsets (softmax's backward expands a [.., 1] sum). One used by a
    reduction too is still materialised. Both equal eager."""
    def fn(x, g):
        s = g.sum(-1, keepdim=True).expand(x.shape)
        return s * x + s, (g[:1].expand(x.shape) * 2.0).sum(0)

    ember.manual_seed(0)
    x, g = ember.randn(5, 6), ember.randn(5, 6)
    compiled = ember.compile(fn, backend="cuda_emulation", fullgraph=True)
    for got, want in zip(compiled(x, g), fn(x, g)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-5, atol=2e-5)
    names = [k for k, _ in next(iter(compiled.cache.values()))[0].kernels]
    assert sum("expand" in k for k in names) == 0, names

    xs = ember.randn(4, 33).requires_grad_(True)  # state: its .grad is written back

    def softmax_step(scale):
        y = ember.softmax(xs * scale, -1)
        (y * y).sum().backward()
        return y

    scale = ember.tensor(1.5)
    want = softmax_step(scale)
    want_grad = xs.grad.numpy().copy()
    xs.grad = None
    compiled = ember.compile(softmax_step, backend="cuda_emulation", fullgraph=True)
    got = compiled(scale)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(xs.grad.numpy(), want_grad, rtol=2e-4, atol=2e-6)
    names = [k for k, _ in next(iter(compiled.cache.values()))[0].kernels]
    assert not any("expand" in k for k in names), names


def test_cuda_plan_runner_shares_memory_between_values_that_are_not_live_together():
    """Memory planning: intermediates whose steps do not overlap share device memory (the
    runner holds less than one allocation per value), and results still equal eager, also
    on a second run of the same runner."""
    ember.manual_seed(0)
    ws = [ember.randn(48, 48) * 0.2 for _ in range(6)]

    def deep(x):
        for w in ws:
            x = ember.relu(x @ w) + 0.5
        return x

    x = ember.randn(32, 48)
    compiled = ember.compile(deep, backend="cuda_emulation", fullgraph=True)
    np.testing.assert_allclose(compiled(x).numpy(), deep(x).numpy(), rtol=2e-5, atol=2e-5)
    plan = next(iter(compiled.cache.values()))[0]
    runner = _C._cuda_plan_runner(plan.plan, -1)
    assert runner.device_bytes < runner.unplanned_bytes * 0.6, (runner.device_bytes,
                                                                runner.unplanned_bytes)
    inputs = [x] + ws if len(runner.input_shapes) == 7 else [x]
    for _ in range(2):
        got = runner.run(inputs, -1)[0]
        np.testing.assert_allclose(got.numpy(), deep(x).numpy(), rtol=2e-5, atol=2e-5)


def _log_softmax_and_grad(logits, weights):
    import ember.nn.functional as F
    t = logits.detach().requires_grad_()
    y = F.log_softmax(t, -1)
    g, = ember.autograd.grad((y * weights).sum(), [t])
    return y, g


def test_cuda_plan_recomputes_what_softmax_and_layer_norm_would_store():
    """softmax's exp(x - max) feeds the row sum and the division, layer_norm's x - mean the
    variance and the normalisation: each is recomputed for its elementwise reader, so the
    reduction computes it in its prologue and it is never stored (5 kernels for layer_norm, not
    6). softmax over rows of 32 or more is then one kernel, a warp per row (softmax_rows). A
    value that also reaches a matmul is stored, as is one whose recomputation would move more
    memory than storing it."""
    import ember.nn.functional as F
    ember.manual_seed(0)
    x, y, z, w = ember.randn(64, 128), ember.randn(64, 128), ember.randn(64, 128), ember.randn(128, 8)
    cases = [
        (lambda t: F.softmax(t, -1), (x,), ["ember_softmax_rows"]),
        # a softmax whose row is narrower than a warp keeps the three kernels
        (lambda t: F.softmax(t, -1), (ember.randn(64, 16),), ["ember_amax", "ember_sum", "ember_sub_exp_div"]),
        # what follows the division may read more buffers (here an input): still one kernel
        (lambda t, u: F.softmax(t, -1) * u, (x, y), ["ember_softmax_rows"]),
        # log_softmax: x - max - log(s), the log once per row inside the kernel
        (lambda t: F.log_softmax(t, -1), (x,), ["ember_softmax_rows"]),
        # log_softmax returned with its gradient: the row kernel, then the backward's kernels
        (lambda t, u: _log_softmax_and_grad(t, u), (x, y), None),
        (lambda t: F.layer_norm(t, (128,)), (x,),
         ["ember_sum", "ember_div", "ember_sum", "ember_div_add_rsqrt", "ember_sub_mul"]),
        # exp(x) reaches a matmul too: stored once, read by the sum, the add and the GEMM
        (lambda t: (ember.exp(t).sum(-1, keepdim=True) + ember.exp(t), ember.exp(t) @ w), (x,),
         ["ember_exp", "ember_sum", "ember_add"]),
        # x * y + z reads three full-size buffers and has two readers besides its sum: stored
        # (recomputing it would read nine buffers' worth where storing moves seven)
        (lambda a, b, c: ((a * b + c) / (a * b + c).sum(-1, keepdim=True), (a * b + c) * 2.0), (x, y, z),
         ["ember_mul_add", "ember_sum", "ember_div", "ember_mul"]),
        # with one reader besides the sum, recomputing moves no more (six buffers' worth either
        # way) and saves a kernel
        (lambda a, b, c: (a * b + c) / (a * b + c).sum(-1, keepdim=True), (x, y, z),
         ["ember_sum", "ember_mul_add_div"]),
    ]
    for fn, args, kernels in cases:
        compiled = ember.compile(fn, backend="cuda_emulation", fullgraph=True)
        got, want = compiled(*args), fn(*args)
        if kernels is None:  # only the row kernel is asserted
            kernels = [k.rsplit("_", 1)[0] for k, _ in next(iter(compiled.cache.values()))[0].kernels]
            assert "ember_softmax_rows" in kernels and "ember_amax" not in kernels, kernels
        for g, e in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=2e-5, atol=2e-6)
        plan = next(iter(compiled.cache.values()))[0]
        names = [k.rsplit("_", 1)[0] for k, _ in plan.kernels]
        assert names == kernels, names
        if _C._nvrtc_available():
            for k, s in plan.kernels:
                assert len(_C._nvrtc_compile(s, k, "sm_90")) > 100, k


def test_cuda_plan_row_softmax_in_a_training_step_stores_what_the_backward_reads():
    """Attention's softmax in a compiled training step: one softmax_rows kernel computes the
    forward (the scores' scale in its prologue) and also stores the row max and sum, which the
    backward reads; losses and gradients equal eager, and the kernels compile with NVRTC."""
    ember.manual_seed(0)
    layer = ember.nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)

    def block(x):
        loss = (layer(x) ** 2).mean()
        loss.backward()
        return loss

    x = ember.randn(2, 64, 64)
    compiled = ember.compile(block, backend="cuda_emulation", fullgraph=True)
    got = compiled(x).item()
    got_grads = [p.grad.numpy().copy() for p in layer.parameters()]
    for p in layer.parameters():
        p.grad = None
    want = block(x).item()
    np.testing.assert_allclose(got, want, rtol=1e-5)
    for g, p in zip(got_grads, layer.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-4, atol=1e-6)
    plan = next(iter(compiled.cache.values()))[0]
    rows = [s for k, s in plan.kernels if "softmax_rows" in k]
    assert len(rows) == 1 and "m_store" in rows[0] and "s_store" in rows[0], [k for k, _ in plan.kernels]
    assert not any("amax" in k for k, _ in plan.kernels)
    if _C._nvrtc_available():
        for k, s in plan.kernels:
            assert len(_C._nvrtc_compile(s, k, "sm_80")) > 100, k


def test_cuda_plan_computes_a_reductions_only_producer_inside_it():
    """A fusion or elementwise op whose only user is a sum/amax/amin is not a kernel of its own:
    the reduction computes its values (a __device__ prologue) on every path: a warp per row,
    a thread per output, and chunks plus partials for a whole-tensor loss. A producer with
    another elementwise user is recomputed for that user (rematerializeForReductions). All
    equal eager, and the kernels compile with NVRTC."""
    def fn(x, y):
        sq = (x - y) * (x - y)
        return (sq.sum(),                        # chunks + partials
                (x * 2.0 + y).abs().amax(-1),    # a warp per row
                ember.exp(x - 1.0).sum(0),       # a thread per output (columns)
                ember.tanh(y) + (ember.tanh(y)).sum(-1, keepdim=True))  # tanh(y) used twice

    ember.manual_seed(0)
    x, y = ember.randn(96, 160), ember.randn(96, 160)
    compiled = ember.compile(fn, backend="cuda_emulation", fullgraph=True)
    for got, want in zip(compiled(x, y), fn(x, y)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=3e-5, atol=3e-5)
    plan = next(iter(compiled.cache.values()))[0]
    names = [k for k, _ in plan.kernels]
    sources = dict(plan.kernels)
    # besides the reductions, only the last add is a kernel (tanh(y) recomputed in it): the
    # squared difference, the abs chain, the exp and the summed tanh run inside reductions
    stored = [k for k in names if not any(r in k for r in ("sum", "amax", "amin"))]
    assert [k.rsplit("_", 1)[0] for k in stored] == ["ember_tanh_add"], names
    assert sum("_at(" in s for s in sources.values()) >= 3, names
    if _C._nvrtc_available():
        for k, s in plan.kernels:
            assert len(_C._nvrtc_compile(s, k, "sm_90")) > 100, k


_INDEXING = {
    "index_select": lambda x, i: ember.index_select(x, 0, i),
    "gather": lambda x, i: ember.gather(x, 0, i.reshape(2, 1).expand(2, 3)),
    "scatter_add": lambda x, i: ember.scatter_add(x, 0, i.reshape(2, 1).expand(2, 3), ember.ones(2, 3)),
    "index_add": lambda x, i: x.index_add(0, i, ember.ones(2, 3)),
}


@pytest.mark.parametrize("op", sorted(_INDEXING))
def test_cuda_plan_index_out_of_range_raises_like_eager_and_the_plan_runs_on(op):
    # Plan kernels report an index out of range through the plan's status word and the runner
    # raises it (they used to read NaN or drop the entry silently).
    fn = _INDEXING[op]
    x = ember.randn(5, 3)
    compiled = ember.compile(fn, backend="cuda_emulation")
    good = ember.tensor([0, 4])
    np.testing.assert_allclose(compiled(x, good).numpy(), fn(x, good).numpy(), rtol=1e-6)
    for bad in ([0, 7], [5, 1]) + (([-6, 0],) if op in ("index_select", "index_add") else ([-1, 0],)):
        with pytest.raises(IndexError, match=rf"ember\.{op}: index {bad[0] if bad[0] != 0 else bad[1]} is "
                           r"out of bounds for dimension 0 with size 5 \(in a CUDA plan\)"):
            compiled(x, ember.tensor(bad))
        # The failure is cleared: the same plan runs on.
        np.testing.assert_allclose(compiled(x, good).numpy(), fn(x, good).numpy(), rtol=1e-6)
    if op in ("index_select", "index_add"):  # negative indices wrap
        wrapped = ember.tensor([-5, -1])
        np.testing.assert_allclose(compiled(x, wrapped).numpy(), fn(x, wrapped).numpy(), rtol=1e-6)
    assert compiled.stats["compiles"] == 1
    plan = next(iter(compiled.cache.values()))[0]
    assert f"\nchecks 1\nember.{op} 0 5\n" in plan.plan
    if _C._nvrtc_available():
        for kname, source in plan.kernels:
            assert len(_C._nvrtc_compile(source, kname, "sm_80")) > 100


_TIES = np.array([[1., 3., np.nan, 3., -0.0, 0.0, 2., 1.], [5., 5., 5., 1., np.nan, np.nan, -1., 0.]], dtype=np.float32)
_SCANS_SORTS = {
    "prod": (lambda x: ember.prod(x * 0.5 + 1, dim=1), (4, 37)),
    "prod_all": (lambda x: ember.prod(x.reshape(-1)[:20] * 0.1 + 1), (4, 37)),
    "cumsum": (lambda x: ember.cumsum(x, 1), (4, 37)),
    "cumsum_dim0": (lambda x: ember.cumsum(x, 0), (4, 37)),
    "cumprod": (lambda x: ember.cumprod(x * 0.1 + 1, 1), (4, 37)),
    "unfold": (lambda x: x.unfold(1, 5, 3), (4, 37)),
    "sort": (lambda x: ember.sort(x, 1), _TIES),
    "sort_descending": (lambda x: ember.sort(x, 1, descending=True), _TIES),
    "sort_dim0": (lambda x: ember.sort(x, 0), (4, 37)),
    "argsort": (lambda x: ember.argsort(x, 1), _TIES),
    "topk": (lambda x: ember.topk(x, 3, 1), (4, 37)),
    "topk_smallest_with_ties": (lambda x: ember.topk(x, 2, 1, largest=False), _TIES),
}


@pytest.mark.parametrize("name", sorted(_SCANS_SORTS))
def test_cuda_plan_scans_products_unfold_and_sorts_equal_eager(name):
    # Stable sorts with NaN last (first when descending) and -0.0 == 0.0, as eager ember and torch.
    fn, data = _SCANS_SORTS[name]
    x = ember.tensor(data) if isinstance(data, np.ndarray) else ember.randn(*data)
    compiled = ember.compile(fn, backend="cuda_emulation", fullgraph=True)
    got, want = compiled(x), fn(x)
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6, equal_nan=True)
    plan = next(iter(compiled.cache.values()))[0]
    if _C._nvrtc_available():
        for kname, source in plan.kernels:
            assert len(_C._nvrtc_compile(source, kname, "sm_80")) > 100


@pytest.mark.parametrize("name", ["prod", "prod_with_zeros", "cumsum", "cumprod", "sort", "topk", "unfold"])
def test_cuda_plan_gradients_of_scans_products_and_sorts_follow_eager(name):
    fn = {"prod": lambda p: ember.prod(p * 0.5 + 1, dim=1).sum(),
          "prod_with_zeros": lambda p: ember.prod(ember.relu(p), dim=1).sum(),
          "cumsum": lambda p: (ember.cumsum(p, 1) * ember.arange(9).float()).sum(),
          "cumprod": lambda p: ember.cumprod(p * 0.1 + 1, 1).sum(),
          "sort": lambda p: (ember.sort(p, 1)[0] * ember.arange(9).float()).sum(),
          "topk": lambda p: ember.topk(p, 3, 1)[0].pow(2).sum(),
          "unfold": lambda p: p.unfold(1, 4, 2).pow(2).sum()}[name]
    ember.manual_seed(5)
    x = ember.randn(3, 9)
    eager = x.clone().requires_grad_(True)
    fn(eager).backward()
    holder = nn.Module()
    holder.p = nn.Parameter(x.clone())

    def step():
        holder.p.grad = None
        loss = fn(holder.p)
        loss.backward()
        return loss
    ember.compile(step, backend="cuda_emulation", fullgraph=True)()
    np.testing.assert_allclose(holder.p.grad.numpy(), eager.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_cuda_plan_integer_arithmetic_is_exact_or_an_error():
    # Integers travel as exact float32 values: add, sub, mul, neg, abs, max and min of them
    # compile (batch norm's num_batches_tracked += 1, max_pool2d's index math) and each result
    # is checked against 2^24, past which float32 stops holding integers exactly.
    x = ember.randn(1, 2, 4, 4)
    for fn, arg in [(lambda i: i * 3 - i.abs() + ember.maximum(i, -i), ember.tensor([1, -2, 3])),
                    (lambda t: F.max_pool2d(t, 2, return_indices=True)[1], x)]:
        got = ember.compile(fn, backend="cuda_emulation", fullgraph=True)(arg)
        assert got.dtype == ember.int64
        np.testing.assert_array_equal(got.numpy(), fn(arg).numpy())
    m = nn.BatchNorm1d(3)
    ember.compile(m, backend="cuda_emulation")(ember.randn(4, 3))
    assert int(m.num_batches_tracked) == 1
    compiled = ember.compile(lambda i: i * 3, backend="cuda_emulation")
    with pytest.raises(NotImplementedError, match=r"ember\.mul: an integer result reached 18000000, beyond "
                                                  r"\+-16777216.*run this function eagerly on CUDA"):
        compiled(ember.tensor([1, 6000000]))
    np.testing.assert_array_equal(compiled(ember.tensor([1, 2])).numpy(), [3, 6])  # and it runs on


def test_bool_not_and_zero_dim_gather_on_the_cuda_plan():
    # ~ on a bool mask: bools travel as 0.0f / 1.0f in the plan, and ~(long long)1 is -2, so
    # every element came out True. gather over a 0-d tensor crashed building the kernel.
    x = ember.randn(3, 4)
    for fn in (lambda x: ~(x > 0), lambda x: (~(x > 0)).float().sum(1),
               lambda x: ember.gather(x.mean(), -1, x.mean().argmax(-1, keepdim=True)),
               lambda x: ember.scatter_add(x[0].amax(-1), -1, x[0].amax(-1).argsort(-1), x[1])):
        want = fn(x)
        got = ember.compile(fn, backend="cuda_emulation")(x)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=1e-6)
