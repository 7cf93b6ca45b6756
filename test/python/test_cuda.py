"""ember on a CUDA GPU against PyTorch CUDA (and CPU ember): device placement and copies, every
op record for several dtypes, reductions, GEMMs through cuBLAS, indexing and views, autograd of a
small MLP, the caching allocator, and the errors a user gets. Skipped without a GPU; the
device-independent checks (errors without CUDA) run everywhere."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as EF
from test_pointwise import BINARY_FLOAT, COMPARE, TORCH_UNARY, UNARY_FLOAT

RNG = np.random.default_rng(11)
gpu = pytest.mark.gpu
TORCH_CUDA = torch.cuda.is_available()

DTYPES = {"float32": (np.float32, 1e-5, 1e-5), "float64": (np.float64, 1e-12, 1e-12),
          "float16": (np.float16, 2e-3, 2e-3), "bfloat16": (np.float32, 1.6e-2, 1.6e-2)}


def pair(x, dtype="float32", requires_grad=False):
    """The same data as an ember CUDA tensor and a torch tensor (CUDA when torch has it)."""
    e = ember.tensor(x).to(getattr(ember, dtype)).cuda()
    t = torch.tensor(x).to(getattr(torch, dtype))
    if TORCH_CUDA:
        t = t.cuda()
    if requires_grad:
        e.requires_grad_(True)
        t.requires_grad_(True)
    return e, t


def host(e):
    e = e.cpu()
    return (e.to(ember.float32) if e.dtype == ember.bfloat16 else e).numpy()


def thost(t):
    t = t.detach().cpu()
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def close(e, t, rtol=1e-5, atol=1e-5):
    assert e.is_cuda, "the result left the GPU"
    np.testing.assert_allclose(host(e), thost(t), rtol=rtol, atol=atol)


def test_cuda_requested_without_gpu_is_a_clear_error():
    if ember.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.zeros(3, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.ones(2).cuda()
    with pytest.raises(RuntimeError, match="device string"):
        ember.zeros(2).to("gpu")
    assert ember.zeros(2).device == "cpu" and not ember.zeros(2).is_cuda
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.cuda.Stream()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.ones(2).pin_memory()
    assert not ember.ones(2).is_pinned()


@gpu
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                   "bfloat16", "float32", "float64"])
def test_round_trip_and_placement(dtype):
    x = RNG.standard_normal((3, 4)) * 10
    e = ember.tensor(x).to(getattr(ember, dtype))
    g = e.cuda()
    assert g.is_cuda and g.device == ember.device("cuda", 0) and str(g.device) == "cuda:0"
    assert g.dtype == e.dtype and g.shape == e.shape
    np.testing.assert_array_equal(host(g), host(e))
    np.testing.assert_array_equal(host(g.t()), host(e.t()))          # a strided view
    np.testing.assert_array_equal(host(g.t().contiguous()), host(e.t()))
    assert "device='cuda:0'" in repr(g)


@gpu
def test_creation_on_device():
    z = ember.zeros(2, 3, device="cuda")
    f = ember.full((4,), 2.5, device="cuda")
    a = ember.arange(6, device="cuda")
    assert z.is_cuda and f.is_cuda and a.is_cuda
    assert host(z).sum() == 0 and (host(f) == 2.5).all()
    np.testing.assert_array_equal(host(a), np.arange(6))
    r = ember.rand(5, device="cuda")
    assert r.is_cuda and ((host(r) >= 0) & (host(r) < 1)).all()
    assert ember.zeros_like(z).is_cuda and ember.ones_like(a).device == a.device


@gpu
@pytest.mark.parametrize("name", sorted(UNARY_FLOAT))
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_unary_records(name, dtype):
    np_dtype, rtol, atol = DTYPES[dtype]
    x = UNARY_FLOAT[name]((4, 33)).astype(np_dtype)
    e, t = pair(x, dtype)
    tf = TORCH_UNARY.get(name, getattr(torch, name, None))
    close(getattr(ember, name)(e), tf(t), rtol * 4, atol * 4)
    # A transposed (strided) input goes through the strided kernel.
    close(getattr(ember, name)(e.t()), tf(t.t()), rtol * 4, atol * 4)


@gpu
@pytest.mark.parametrize("name", sorted(BINARY_FLOAT) + COMPARE)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int32"])
def test_binary_records_broadcast_and_scalars(name, dtype):
    gen = BINARY_FLOAT.get(name, lambda s: RNG.standard_normal(s))
    if dtype == "int32" and name in ("atan2", "fmod", "div"):
        pytest.skip("float-only input domain")
    np_dtype = np.float32 if dtype != "int32" else np.int32
    x = (gen((3, 1, 5)) * (7 if dtype == "int32" else 1)).astype(np_dtype)
    y = (gen((4, 5)) * (7 if dtype == "int32" else 1)).astype(np_dtype)
    if dtype == "int32" and name == "div":
        y[y == 0] = 1
    (ex, tx), (ey, ty) = pair(x, dtype), pair(y, dtype)
    _, rtol, atol = DTYPES.get(dtype, (None, 0, 0))
    close(getattr(ember, name)(ex, ey), getattr(torch, name)(tx, ty), rtol, atol)
    # A Python scalar operand rides along as a kernel argument.
    close(getattr(ember, name)(ex, 2), getattr(torch, name)(tx, torch.tensor(2, device=tx.device)),
          rtol, atol)


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16"])
def test_reductions(dtype):
    np_dtype = {"int64": np.int64}.get(dtype, DTYPES.get(dtype, (np.float32,))[0])
    x = (RNG.standard_normal((6, 7, 300)) * (5 if dtype == "int64" else 1)).astype(np_dtype)
    e, t = pair(x, dtype)
    tol = 2e-2 if dtype == "float16" else 1e-4
    for dims in [None, (0,), (1, 2), (0, 2), (-1,)]:
        es = e.sum() if dims is None else e.sum(dim=dims)
        ts = t.sum() if dims is None else t.sum(dim=dims)
        close(es, ts, tol, tol * 10)
        ea = e.amax() if dims is None else e.amax(dim=dims, keepdim=True)
        ta = t.amax() if dims is None else t.amax(dim=dims, keepdim=True)
        close(ea, ta, 0, 0)
    close(e.argmax(dim=2), t.argmax(dim=2), 0, 0)
    close(e.argmin(), t.argmin(), 0, 0)
    if dtype != "int64":
        close(e.mean(dim=(0, 2)), t.mean(dim=(0, 2)), tol, tol)
        close(e.var(dim=1), t.var(dim=1), tol * 10, tol * 10)
        close(ember.softmax(e, dim=-1), torch.softmax(t, dim=-1), tol, tol)
        close(ember.log_softmax(e, dim=1), torch.log_softmax(t, dim=1), tol, tol)
        close(ember.logsumexp(e, dim=2), torch.logsumexp(t, dim=2), tol, tol)


@gpu
def test_nan_propagates_through_max_and_argmax():
    x = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 5.0]], np.float32)
    e, t = pair(x)
    close(e.amax(dim=1), t.amax(dim=1), 0, 0)
    close(e.argmax(dim=1), t.argmax(dim=1), 0, 0)


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_matmul_cublas(dtype):
    np_dtype, rtol, atol = DTYPES[dtype]
    a = RNG.standard_normal((37, 64)).astype(np.float32)
    b = RNG.standard_normal((64, 29)).astype(np.float32)
    (ea, ta), (eb, tb) = pair(a, dtype), pair(b, dtype)
    tol = {"float32": 1e-4, "float64": 1e-10, "float16": 3e-2, "bfloat16": 2e-1}[dtype]
    close(ea @ eb, ta @ tb, tol, tol)
    close(eb.t() @ ea.t(), tb.t() @ ta.t(), tol, tol)  # transposed operands, no copies
    x = RNG.standard_normal((5, 37, 64)).astype(np.float32)
    ex, tx = pair(x, dtype)
    close(ember.bmm(ex, ember.matmul(ex.transpose(1, 2), ex)), torch.bmm(tx, tx.transpose(1, 2) @ tx),
          tol * 10, tol * 100)
    close(ember.matmul(ex, eb), torch.matmul(tx, tb), tol, tol)  # broadcast batch (stride 0)


@gpu
def test_views_indexing_cat_where_and_copies():
    x = RNG.standard_normal((4, 6, 5)).astype(np.float32)
    e, t = pair(x)
    close(e[1:3, ::2, -1], t[1:3, ::2, -1], 0, 0)
    close(e.permute(2, 0, 1).reshape(5, -1), t.permute(2, 0, 1).reshape(5, -1), 0, 0)
    close(ember.cat([e, e[:, :2]], dim=1), torch.cat([t, t[:, :2]], dim=1), 0, 0)
    close(ember.where(e > 0, e, 0.5), torch.where(t > 0, t, 0.5), 0, 0)
    idx = ember.tensor([3, 0, 0, -1]).cuda()
    tidx = torch.tensor([3, 0, 0, 3], device=t.device)
    close(ember.index_select(e, 0, idx), torch.index_select(t, 0, tidx), 0, 0)
    with pytest.raises(IndexError):
        ember.index_select(e, 0, ember.tensor([4]).cuda())
    e2 = e.clone()
    e2[0] = 7.0
    e2[1, :, 0] = ember.arange(6, dtype=ember.float32)  # a CPU source is copied over
    t2 = t.clone()
    t2[0] = 7.0
    t2[1, :, 0] = torch.arange(6, dtype=torch.float32, device=t.device)
    close(e2, t2, 0, 0)
    close(e.to(ember.int32), t.to(torch.int32), 0, 0)


@gpu
def test_device_mismatch_and_numpy_errors():
    e = ember.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="same device"):
        e + ember.ones(3)
    with pytest.raises(TypeError, match="cpu"):
        e.numpy()
    # 0-d CPU tensors act as scalars, as in PyTorch.
    np.testing.assert_array_equal(host(e * ember.tensor(2.0)), [2, 2, 2])
    assert e.sum().item() == 3.0 and e.tolist() == [1.0, 1.0, 1.0]


@gpu
def test_mlp_forward_backward_matches_torch():
    w1 = (RNG.standard_normal((64, 32)) * 0.1).astype(np.float32)
    w2 = (RNG.standard_normal((10, 64)) * 0.1).astype(np.float32)
    x = RNG.standard_normal((16, 32)).astype(np.float32)
    y = RNG.integers(0, 10, 16)
    (ew1, tw1), (ew2, tw2) = pair(w1, requires_grad=True), pair(w2, requires_grad=True)
    (ex, tx) = pair(x)
    ey, ty = ember.tensor(y).cuda(), torch.tensor(y, device=tx.device)
    el = EF.cross_entropy(EF.linear(EF.relu(EF.linear(ex, ew1)), ew2), ey)
    tl = torch.nn.functional.cross_entropy(
        torch.nn.functional.linear(torch.relu(torch.nn.functional.linear(tx, tw1)), tw2), ty)
    close(el, tl, 1e-5, 1e-5)
    el.backward()
    tl.backward()
    assert ew1.grad.is_cuda
    close(ew1.grad, tw1.grad, 1e-4, 1e-5)
    close(ew2.grad, tw2.grad, 1e-4, 1e-5)


@gpu
def test_training_loop_reuses_device_memory():
    w = ember.zeros(256, 128, device="cuda").requires_grad_(True)
    x = ember.randn(64, 256, device="cuda")
    for step in range(30):
        loss = ember.tanh(x @ w).sum()
        loss.backward()
        with ember.no_grad():
            w -= 0.001 * w.grad
        w.grad = None
        if step == 5:
            ember.cuda.synchronize()
            allocations = ember.cuda._device_allocations()
            peak = ember.cuda.max_memory_allocated()
    assert ember.cuda._device_allocations() == allocations, "cuMemAlloc in the steady state"
    assert ember.cuda.max_memory_allocated() == peak


@gpu
def test_streams_events_and_pinned_copies():
    s = ember.cuda.Stream()
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    x = ember.randn(1 << 20).pin_memory()
    assert x.is_pinned() and not ember.randn(3).is_pinned()
    with ember.cuda.stream(s):
        assert ember.cuda.current_stream() == s
        start.record()
        y = x.cuda(non_blocking=True)          # queued on s, from pinned memory
        z = (y * 2 + 1).sum()
        m = ember.ones(64, 32, device="cuda") @ ember.ones(32, 16, device="cuda")  # cuBLAS on s
        end.record()
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0
    s.synchronize()
    assert s.query()
    np.testing.assert_allclose(z.item(), float((x.numpy().astype(np.float64) * 2 + 1).sum()), rtol=1e-4)
    assert (host(m) == 32).all()
    s2 = ember.cuda.Stream()
    s2.wait_stream(s)
    with ember.cuda.stream(s2):
        w = y + 1
    s2.synchronize()
    np.testing.assert_allclose(host(w), x.numpy() + 1, rtol=1e-6)
    dl = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(ember.arange(10.0)), batch_size=4,
                                     pin_memory=True)
    assert all(b[0].is_pinned() for b in dl)
    # Blocks freed on one stream are reused there, never handed to another stream.
    del y, w
    with ember.cuda.stream(s):
        for _ in range(3):
            t = ember.ones(1 << 18, device="cuda") * 2
            del t


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_row_broadcast_pointwise_and_long_column_sums(dtype):
    """Bias-like and per-row broadcasts over [rows, inner] take the four-per-step rows kernel
    (misaligned views fall back to the strided one); long column sums split into slabs. All
    equal PyTorch CUDA."""
    tol = 1e-5 if dtype == "float32" else 2e-3
    x = RNG.standard_normal((300, 64)).astype(np.float32)
    bias = RNG.standard_normal(64).astype(np.float32)
    col = RNG.standard_normal((300, 1)).astype(np.float32)
    (ex, tx), (eb, tb), (ec, tc) = pair(x, dtype), pair(bias, dtype), pair(col, dtype)
    close(ex + eb, tx + tb, tol, tol)
    close(ex * ec - eb, tx * tc - tb, tol, tol)
    close(ember.where(ec > 0, ex, eb), torch.where(tc > 0, tx, tb), 0, 0)
    close(ex / ec + 2.5, tx / tc + 2.5, tol, tol)
    # a transposed output row stride and an offset (misaligned) operand
    big = RNG.standard_normal(300 * 64 + 1).astype(np.float32)
    eg, tg = pair(big, dtype)
    close(eg[1:].reshape(300, 64) + eb, tg[1:].reshape(300, 64) + tb, tol, tol)
    close(ex[:, 4:] + eb[4:], tx[:, 4:] + tb[4:], tol, tol)
    # attention-head permutations: whole rows move (4-d rows kernel), and a broadcast add
    h = RNG.standard_normal((4, 64, 8, 16)).astype(np.float32)
    eh, th = pair(h, dtype)
    close(eh.permute(0, 2, 1, 3).contiguous(), th.permute(0, 2, 1, 3).contiguous(), 0, 0)
    close(eh.transpose(1, 2) + eh[:, :1].transpose(1, 2), th.transpose(1, 2) + th[:, :1].transpose(1, 2),
          tol, tol)
    # long columns: sum over the leading dimension of [16384, 96] and a middle one
    y = RNG.standard_normal((16384, 96)).astype(np.float32)
    ey, ty = pair(y, dtype)
    close(ey.sum(0), ty.sum(0), tol * 50, tol * 50)
    z = RNG.standard_normal((3, 4096, 40)).astype(np.float32)
    ez, tz = pair(z, dtype)
    close(ez.sum(1), tz.sum(1), tol * 50, tol * 50)
    close(ez.amax(1), tz.amax(1), 0, 0)
