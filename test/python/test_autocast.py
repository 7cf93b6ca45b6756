"""ember.autocast against torch.autocast: the output dtype and value of every op with an autocast
policy (lower precision, float32, promote, untouched) for bfloat16 and float16 regions on the
CPU, an MLP and a small conv net forward + backward (float32 leaf gradients), nesting,
enabled=False, the decorator, per-thread state, the cast cache, ember.compile, GradScaler
against torch.amp.GradScaler, and bad input. CUDA variants run on a GPU (marker `gpu`)."""
import threading
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF

RNG = np.random.default_rng(7)
gpu = pytest.mark.gpu
TORCH_CUDA = torch.cuda.is_available()


def name(dtype):
    return str(dtype).split(".")[-1]


def arr(*shape, positive=False):
    x = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(x) + 0.1 if positive else x


def check(e, t, lowp_tol, half_tol=2e-3):
    """Same dtype, shape and values (tolerance by the result's dtype)."""
    assert name(e.dtype) == name(t.dtype), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    tol = {"bfloat16": lowp_tol, "float16": half_tol, "float32": 2e-5,
           "float64": 1e-10}[name(t.dtype)]
    ev = e.detach().cpu().to(ember.float64).numpy()
    tv = t.detach().cpu().to(torch.float64).numpy()
    scale = max(1.0, float(np.abs(tv).max())) if tv.size else 1.0
    np.testing.assert_allclose(ev, tv, rtol=tol, atol=tol * scale)


# Each case: (inputs as numpy arrays (float data) or ("long", array)), ember fn, torch fn.
def _cases():
    P = dict(positive=True)
    tgt = ("long", np.array([0, 2, 1]))
    prob = RNG.uniform(0.05, 0.95, (3, 4)).astype(np.float32)
    return {
        # lower precision
        "mm": ([arr(3, 4), arr(4, 5)], ember.mm, torch.mm),
        "bmm": ([arr(2, 3, 4), arr(2, 4, 5)], ember.bmm, torch.bmm),
        "matmul": ([arr(2, 3, 4), arr(4, 5)], ember.matmul, torch.matmul),
        "matmul_vec": ([arr(4), arr(4)], ember.matmul, torch.matmul),
        "addmm": ([arr(3, 5), arr(3, 4), arr(4, 5)], ember.addmm, torch.addmm),
        "baddbmm": ([arr(2, 3, 5), arr(2, 3, 4), arr(2, 4, 5)], ember.baddbmm, torch.baddbmm),
        "linear": ([arr(3, 4), arr(5, 4), arr(5)], EF.linear, TF.linear),
        "conv1d": ([arr(2, 3, 9), arr(4, 3, 3), arr(4)], EF.conv1d, TF.conv1d),
        "conv2d": ([arr(2, 3, 7, 7), arr(4, 3, 3, 3), arr(4)],
                   lambda x, w, b: EF.conv2d(x, w, b, padding=1),
                   lambda x, w, b: TF.conv2d(x, w, b, padding=1)),
        "conv_transpose1d": ([arr(2, 3, 6), arr(3, 2, 3)], EF.conv_transpose1d,
                             TF.conv_transpose1d),
        "conv_transpose2d": ([arr(1, 3, 5, 5), arr(3, 2, 3, 3)],
                             lambda x, w: EF.conv_transpose2d(x, w, stride=2),
                             lambda x, w: TF.conv_transpose2d(x, w, stride=2)),
        "sdpa": ([arr(2, 2, 5, 8), arr(2, 2, 6, 8), arr(2, 2, 6, 8)],
                 EF.scaled_dot_product_attention, TF.scaled_dot_product_attention),
        "sdpa_causal": ([arr(1, 2, 5, 8), arr(1, 2, 5, 8), arr(1, 2, 5, 8)],
                        lambda q, k, v: EF.scaled_dot_product_attention(q, k, v, is_causal=True),
                        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True)),
        # via their matmuls on the CPU (lower precision list on CUDA)
        "einsum": ([arr(3, 4), arr(4, 5)], lambda a, b: ember.einsum("ij,jk->ik", a, b),
                   lambda a, b: torch.einsum("ij,jk->ik", a, b)),
        "tensordot": ([arr(3, 4), arr(4, 5)], lambda a, b: ember.tensordot(a, b, dims=1),
                      lambda a, b: torch.tensordot(a, b, dims=1)),
        # float32 list
        "cross_entropy": ([arr(3, 4), tgt], EF.cross_entropy, TF.cross_entropy),
        "cross_entropy_smooth": ([arr(3, 4), tgt],
                                 lambda x, t: EF.cross_entropy(x, t, label_smoothing=0.1),
                                 lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1)),
        "nll_loss": ([arr(3, 4), tgt], EF.nll_loss, TF.nll_loss),
        "mse_loss": ([arr(3, 4), arr(3, 4)], EF.mse_loss, TF.mse_loss),
        "l1_loss": ([arr(3, 4), arr(3, 4)], EF.l1_loss, TF.l1_loss),
        "smooth_l1_loss": ([arr(3, 4), arr(3, 4)], EF.smooth_l1_loss, TF.smooth_l1_loss),
        "huber_loss": ([arr(3, 4), arr(3, 4)], EF.huber_loss, TF.huber_loss),
        "binary_cross_entropy": ([prob, prob], EF.binary_cross_entropy, TF.binary_cross_entropy),
        "bce_with_logits": ([arr(3, 4), prob], EF.binary_cross_entropy_with_logits,
                            TF.binary_cross_entropy_with_logits),
        "kl_div": ([arr(3, 4), prob], lambda a, b: EF.kl_div(a, b, reduction="batchmean"),
                   lambda a, b: TF.kl_div(a, b, reduction="batchmean")),
        "prod": ([arr(3, 4, **P)], ember.prod, torch.prod),
        "prod_dim": ([arr(3, 4, **P)], lambda x: ember.prod(x, 1), lambda x: torch.prod(x, 1)),
        "pad_reflect": ([arr(1, 2, 4, 4)], lambda x: EF.pad(x, (1, 1, 1, 1), mode="reflect"),
                        lambda x: TF.pad(x, (1, 1, 1, 1), mode="reflect")),
        "pad_replicate": ([arr(1, 2, 4, 4)], lambda x: EF.pad(x, (1, 2, 1, 0), mode="replicate"),
                          lambda x: TF.pad(x, (1, 2, 1, 0), mode="replicate")),
        # promote (CPU: cat, stack; the others promote by themselves)
        "cat": ([arr(3, 4), arr(2, 4)], lambda a, b: ember.cat([a, b.float()]),
                lambda a, b: torch.cat([a, b.float()])),
        "stack": ([arr(3, 4), arr(3, 4)], lambda a, b: ember.stack([a, b.float()]),
                  lambda a, b: torch.stack([a, b.float()])),
        "addcmul": ([arr(3, 4), arr(3, 4), arr(3, 4)],
                    lambda a, b, c: ember.addcmul(a, b.float(), c, value=0.5),
                    lambda a, b, c: torch.addcmul(a, b.float(), c, value=0.5)),
        # on no CPU list: the input's dtype (ember builds some of these from matmuls)
        "softmax": ([arr(3, 4)], lambda x: EF.softmax(x, -1), lambda x: TF.softmax(x, -1)),
        "log_softmax": ([arr(3, 4)], lambda x: EF.log_softmax(x, -1),
                        lambda x: TF.log_softmax(x, -1)),
        "layer_norm": ([arr(3, 4), arr(4), arr(4)], lambda x, w, b: EF.layer_norm(x, [4], w, b),
                       lambda x, w, b: TF.layer_norm(x, [4], w, b)),
        "group_norm": ([arr(2, 4, 3)], lambda x: EF.group_norm(x, 2),
                       lambda x: TF.group_norm(x, 2)),
        "sum": ([arr(3, 4)], ember.sum, torch.sum),
        "cumsum": ([arr(3, 4)], lambda x: ember.cumsum(x, 1), lambda x: torch.cumsum(x, 1)),
        "logsumexp": ([arr(3, 4)], lambda x: ember.logsumexp(x, 1),
                      lambda x: torch.logsumexp(x, 1)),
        "exp": ([arr(3, 4)], ember.exp, torch.exp),
        "exp_method": ([arr(3, 4)], lambda x: x.exp(), lambda x: x.exp()),
        "log": ([arr(3, 4, **P)], ember.log, torch.log),
        "log1p": ([arr(3, 4, **P)], ember.log1p, torch.log1p),
        "rsqrt": ([arr(3, 4, **P)], ember.rsqrt, torch.rsqrt),
        "reciprocal": ([arr(3, 4, **P)], ember.reciprocal, torch.reciprocal),
        "pow_scalar": ([arr(3, 4)], lambda x: x ** 2, lambda x: x ** 2),
        "pow_tensor": ([arr(3, 4, **P), arr(3, 4)], ember.pow, torch.pow),
        "sum_method": ([arr(3, 4)], lambda x: x.sum(1), lambda x: x.sum(1)),
        "sum_dtype": ([arr(3, 4)], lambda x: ember.sum(x, 1, dtype=ember.float64),
                      lambda x: torch.sum(x, 1, dtype=torch.float64)),
        "mean": ([arr(3, 4)], ember.mean, torch.mean),
        "var": ([arr(3, 4)], ember.var, torch.var),
        "softplus": ([arr(3, 4)], EF.softplus, TF.softplus),
        "vector_norm": ([arr(3, 4)], ember.linalg.vector_norm, torch.linalg.vector_norm),
        "dot": ([arr(4), arr(4)], ember.dot, torch.dot),
        "interp_bilinear": ([arr(1, 2, 4, 4)],
                            lambda x: EF.interpolate(x, scale_factor=2, mode="bilinear"),
                            lambda x: TF.interpolate(x, scale_factor=2, mode="bilinear")),
        "interp_nearest": ([arr(1, 2, 4, 4)], lambda x: EF.interpolate(x, scale_factor=2),
                           lambda x: TF.interpolate(x, scale_factor=2)),
        "adaptive_avg_pool2d": ([arr(1, 2, 5, 5)], lambda x: EF.adaptive_avg_pool2d(x, 2),
                                lambda x: TF.adaptive_avg_pool2d(x, 2)),
        "pad_constant": ([arr(1, 2, 4, 4)], lambda x: EF.pad(x, (1, 1)),
                         lambda x: TF.pad(x, (1, 1))),
        "avg_pool2d": ([arr(1, 2, 4, 4)], lambda x: EF.avg_pool2d(x, 2),
                       lambda x: TF.avg_pool2d(x, 2)),
        "relu": ([arr(3, 4)], ember.relu, torch.relu),
        "prelu": ([arr(2, 3, 4), arr(3)], EF.prelu, TF.prelu),
        # norms of a 16-bit input with float32 parameters (a norm layer under autocast): the
        # input's dtype (CPU), float32 (CUDA's layer_norm and group_norm lists)
        "layer_norm_f32_params": ([arr(3, 4), ("f32", arr(4)), ("f32", arr(4))],
                                  lambda x, w, b: EF.layer_norm(x, [4], w, b),
                                  lambda x, w, b: TF.layer_norm(x, [4], w, b)),
        "group_norm_f32_params": ([arr(2, 4, 3), ("f32", arr(4)), ("f32", arr(4))],
                                  lambda x, w, b: EF.group_norm(x, 2, w, b),
                                  lambda x, w, b: TF.group_norm(x, 2, w, b)),
        "batch_norm_train_f32_params": (
            [arr(4, 3, 2), ("f32", arr(3)), ("f32", arr(3, positive=True)), ("f32", arr(3)),
             ("f32", arr(3))],
            lambda x, m, v, w, b: EF.batch_norm(x, m, v, w, b, training=True),
            lambda x, m, v, w, b: TF.batch_norm(x, m, v, w, b, training=True)),
        "batch_norm_eval_f32_params": (
            [arr(4, 3, 2), ("f32", arr(3)), ("f32", arr(3, positive=True)), ("f32", arr(3)),
             ("f32", arr(3))],
            lambda x, m, v, w, b: EF.batch_norm(x, m, v, w, b),
            lambda x, m, v, w, b: TF.batch_norm(x, m, v, w, b)),
        # promote on CUDA: a float32 operand makes the op run in float32 (CPU: dtypes must match)
        "scatter_add_mixed": ([arr(5), ("long", np.array([0, 1, 1])), arr(3)],
                              lambda a, i, s: a.scatter_add(0, i, s.float()),
                              lambda a, i, s: a.scatter_add(0, i, s.float())),
    }


CASES = _cases()
# CUDA only: on the CPU torch's index_put refuses mixed dtypes, where ember's casts the values.
CUDA_CASES = dict(CASES, index_put_mixed=(
    [arr(5), ("long", np.array([0, 3])), arr(2)],
    lambda a, i, v: ember.index_put(a, (i,), v.float()),
    lambda a, i, v: torch.index_put(a, (i,), v.float())))


def make(inputs, dtype, device="cpu"):
    es, ts = [], []
    for x in inputs:
        if isinstance(x, tuple):  # ("long", indices) or ("f32", data that stays float32)
            es.append(ember.tensor(x[1]).to(device))
            ts.append(torch.tensor(x[1]).to(device))
        else:
            es.append(ember.tensor(x).to(getattr(ember, dtype)).to(device))
            ts.append(torch.tensor(x).to(getattr(torch, dtype)).to(device))
    return es, ts


# float64 data with float32 parameters: torch refuses the mix, ember promotes (not autocast's).
MIXED_PARAMS = {op for op in CASES if op.endswith("_f32_params")}


@pytest.mark.parametrize("op,input_dtype", [(op, d) for op in sorted(CASES)
                                            for d in ("float32", "low", "float64")
                                            if not (d == "float64" and op in MIXED_PARAMS)])
@pytest.mark.parametrize("amp", ["bfloat16", "float16"])
def test_op_policy_cpu(op, amp, input_dtype):
    inputs, efn, tfn = CASES[op]
    dtype = amp if input_dtype == "low" else input_dtype
    es, ts = make(inputs, dtype)
    try:
        with torch.autocast("cpu", dtype=getattr(torch, amp)):
            t = tfn(*ts)
    except RuntimeError as err:  # torch refuses it on the CPU (scatter_add of mixed dtypes)
        with pytest.raises(RuntimeError, match=str(err).split(":")[0]):
            with ember.autocast("cpu", dtype=getattr(ember, amp)):
                efn(*es)
        return
    with ember.autocast("cpu", dtype=getattr(ember, amp)):
        e = efn(*es)
    check(e, t, lowp_tol=3e-2)
    # Outside the region the same call is plain float arithmetic again.
    assert name(efn(*es).dtype) == name(tfn(*ts).dtype)


def test_tensor_methods_and_operators_cpu():
    a, b = arr(3, 4), arr(4, 5)
    ea, eb, ta, tb = ember.tensor(a), ember.tensor(b), torch.tensor(a), torch.tensor(b)
    with ember.autocast("cpu"):
        outs = [ea @ eb, ea.matmul(eb), ea.mm(eb)]
    with torch.autocast("cpu"):
        ref = ta @ tb
    for e in outs:
        check(e, ref, 3e-2)


def _mlp_pair():
    em = ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(), ember.nn.Linear(16, 4))
    tm = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    with torch.no_grad():
        for (_, ep), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
            tp.copy_(torch.tensor(ep.detach().numpy()))
    return em, tm


@pytest.mark.parametrize("amp", ["bfloat16", "float16"])
def test_mlp_forward_backward_cpu(amp):
    em, tm = _mlp_pair()
    x = arr(6, 8)
    target = np.array([0, 3, 1, 2, 2, 0])
    with ember.autocast("cpu", dtype=getattr(ember, amp)):
        ey = em(ember.tensor(x))
        eloss = EF.cross_entropy(ey, ember.tensor(target))
    with torch.autocast("cpu", dtype=getattr(torch, amp)):
        ty = tm(torch.tensor(x))
        tloss = TF.cross_entropy(ty, torch.tensor(target))
    check(ey, ty, 3e-2)
    assert name(eloss.dtype) == name(tloss.dtype) == "float32"
    np.testing.assert_allclose(eloss.item(), tloss.item(), rtol=1e-2)
    eloss.backward()
    tloss.backward()
    for (n, ep), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
        assert name(ep.grad.dtype) == name(tp.grad.dtype) == "float32", n
        g, r = ep.grad.numpy(), tp.grad.numpy()
        np.testing.assert_allclose(g, r, rtol=3e-2, atol=3e-2 * max(1e-3, np.abs(r).max()),
                                   err_msg=n)


def test_conv_net_forward_backward_cpu():
    ec = ember.nn.Conv2d(2, 3, 3, padding=1)
    tc = torch.nn.Conv2d(2, 3, 3, padding=1)
    with torch.no_grad():
        tc.weight.copy_(torch.tensor(ec.weight.detach().numpy()))
        tc.bias.copy_(torch.tensor(ec.bias.detach().numpy()))
    x, y = arr(2, 2, 5, 5), arr(2, 3, 5, 5)
    with ember.autocast("cpu"):
        eo = EF.relu(ec(ember.tensor(x)))
        eloss = EF.mse_loss(eo, ember.tensor(y))
    with torch.autocast("cpu"):
        to = TF.relu(tc(torch.tensor(x)))
        tloss = TF.mse_loss(to, torch.tensor(y))
    check(eo, to, 3e-2)
    assert name(eloss.dtype) == name(tloss.dtype) == "float32"
    eloss.backward()
    tloss.backward()
    for ep, tp in [(ec.weight, tc.weight), (ec.bias, tc.bias)]:
        assert name(ep.grad.dtype) == "float32"
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=3e-2,
                                   atol=3e-2 * np.abs(tp.grad.numpy()).max())


def _copy_params(em, tm):
    with torch.no_grad():
        for (en, ep), (tn, tp) in zip(em.named_parameters(), tm.named_parameters()):
            assert en == tn and tuple(ep.shape) == tuple(tp.shape)
            tp.copy_(torch.tensor(ep.detach().numpy()))


def test_norm_and_prelu_layers_forward_backward_cpu():
    def net(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.PReLU(), nn.Linear(8, 8),
                             nn.Unflatten(1, (2, 4)), nn.GroupNorm(1, 2), nn.Flatten(),
                             nn.Linear(8, 3))
    em, tm = net(ember), net(torch)
    _copy_params(em, tm)
    x = arr(5, 6)
    with ember.autocast("cpu"):
        ey = em(ember.tensor(x))
    with torch.autocast("cpu"):
        ty = tm(torch.tensor(x))
    check(ey, ty, 5e-2)
    ey.float().sum().backward()
    ty.float().sum().backward()
    for (n, ep), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
        assert name(ep.grad.dtype) == name(tp.grad.dtype) == "float32", n
        r = tp.grad.numpy()
        np.testing.assert_allclose(ep.grad.numpy(), r, rtol=6e-2, atol=6e-2 * np.abs(r).max(),
                                   err_msg=n)


def test_batch_norm_layer_after_conv_cpu():
    def net(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.BatchNorm2d(3), lib.nn.ReLU())
    em, tm = net(ember), net(torch)
    _copy_params(em, tm)
    x = arr(2, 2, 6, 6)
    with ember.autocast("cpu"):
        ey = em(ember.tensor(x))
    with torch.autocast("cpu"):
        ty = tm(torch.tensor(x))
    check(ey, ty, 5e-2)
    # The running statistics stay float32 and agree.
    for eb, tb in [(em[1].running_mean, tm[1].running_mean), (em[1].running_var, tm[1].running_var)]:
        assert name(eb.dtype) == "float32"
        np.testing.assert_allclose(eb.numpy(), tb.numpy(), rtol=2e-2, atol=2e-3)


def test_backward_inside_region_keeps_forward_dtypes():
    # torch: "backward ops run in the same type that autocast used for corresponding forward ops".
    w = ember.tensor(arr(5, 4), requires_grad=True)
    x = ember.tensor(arr(3, 4), requires_grad=True)
    with ember.autocast("cpu"):
        y = ember.sum(EF.linear(x, w).float())
        y.backward()
    assert name(w.grad.dtype) == name(x.grad.dtype) == "float32"


def test_nesting_disable_and_restore():
    assert not ember.is_autocast_enabled("cpu")
    with ember.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu")
        assert ember.get_autocast_dtype("cpu") == ember.bfloat16
        with ember.autocast("cpu", enabled=False):
            assert not ember.is_autocast_enabled("cpu")
            assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float32
            with ember.autocast("cpu", dtype=ember.float16):
                assert ember.get_autocast_dtype("cpu") == ember.float16
                assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float16
            assert ember.get_autocast_dtype("cpu") == ember.bfloat16
            assert not ember.is_autocast_enabled("cpu")
        assert ember.is_autocast_enabled("cpu")
        assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.bfloat16
    assert not ember.is_autocast_enabled("cpu")
    assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float32


def test_exception_inside_region_restores_state():
    with pytest.raises(ValueError):
        with ember.autocast("cpu"):
            raise ValueError("boom")
    assert not ember.is_autocast_enabled("cpu")


def test_defaults_and_aliases():
    assert ember.get_autocast_dtype("cpu") == ember.bfloat16
    assert ember.get_autocast_dtype("cuda") == ember.float16
    assert ember.get_autocast_dtype("cuda:0") == ember.float16
    assert ember.is_autocast_enabled() is False  # no argument: CUDA, as torch
    assert ember.amp.autocast is ember.autocast
    assert ember.is_autocast_cache_enabled()
    with pytest.warns(FutureWarning, match="ember.amp.autocast"):
        ctx = ember.cpu.amp.autocast(dtype=ember.float16)
    with ctx:
        assert ember.is_autocast_cpu_enabled() and ember.get_autocast_cpu_dtype() == ember.float16
    assert not ember.is_autocast_cpu_enabled()
    assert hasattr(ember.cuda.amp, "autocast") and hasattr(ember.cuda.amp, "GradScaler")


def test_decorator():
    @ember.autocast("cpu", dtype=ember.float16)
    def f(a, b):
        assert ember.is_autocast_enabled("cpu")
        return a @ b

    out = f(ember.ones(2, 3), ember.ones(3, 2))
    assert out.dtype == ember.float16
    assert not ember.is_autocast_enabled("cpu")
    assert f.__name__ == "f"
    # Recursion through the same decorated function nests correctly.

    @ember.autocast("cpu")
    def g(n):
        return g(n - 1) if n else ember.is_autocast_enabled("cpu")

    assert g(3) is True and not ember.is_autocast_enabled("cpu")


def test_state_is_thread_local():
    seen = {}

    def worker():
        seen["enabled"] = ember.is_autocast_enabled("cpu")
        seen["dtype"] = ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype

    with ember.autocast("cpu"):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert ember.is_autocast_enabled("cpu")
    assert seen == {"enabled": False, "dtype": ember.float32}


def test_decorated_function_in_several_threads():
    # One decorator instance entered by three threads (in order 0, 1, 2) and left in the same
    # order restores each thread's own state (a shared save stack would hand thread 0 the
    # state thread 2 saved).
    entered = [threading.Event() for _ in range(3)]
    release = [threading.Event() for _ in range(3)]
    done = [threading.Event() for _ in range(3)]
    outer = [dict(enabled=False, dtype=ember.float16), None, dict(enabled=True, dtype=ember.float16)]
    seen = [None] * 3

    @ember.autocast("cpu")
    def f(i):
        entered[i].set()
        release[i].wait(10)
        return ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype

    def state():
        return ember.is_autocast_enabled("cpu"), ember.get_autocast_dtype("cpu")

    def worker(i):
        if i:
            entered[i - 1].wait(10)
        if outer[i] is None:
            inner = f(i)
            seen[i] = (inner, state())
        else:
            with ember.autocast("cpu", **outer[i]):
                inner = f(i)
                seen[i] = (inner, state())
        done[i].set()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for i in range(3):
        entered[i].wait(10)
    for i in range(3):
        release[i].set()
        done[i].wait(10)
    for t in threads:
        t.join()
    assert seen == [(ember.bfloat16, (False, ember.float16)), (ember.bfloat16, (False, ember.bfloat16)),
                    (ember.bfloat16, (True, ember.float16))]


def test_cuda_region_leaves_cpu_ops_alone():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autocast("cuda"):
            assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float32
            assert not ember.is_autocast_enabled("cpu")


@pytest.mark.parametrize("cache_enabled", [True, False])
def test_cast_cache(cache_enabled):
    # Parameters' casts are reused within a region; an in-place update is seen (ember checks
    # the version counter: torch's cache would return the stale cast here).
    w = ember.ones(2, 2, requires_grad=True)
    x = ember.ones(1, 2)
    with ember.autocast("cpu", cache_enabled=cache_enabled):
        assert ember.is_autocast_cache_enabled() is cache_enabled
        y1 = EF.linear(x, w)
        y2 = EF.linear(x, w)
        with ember.no_grad():
            w.add_(1)
        y3 = EF.linear(x, w)
    assert ember.is_autocast_cache_enabled()
    np.testing.assert_array_equal(y1.float().detach().numpy(), [[2, 2]])
    np.testing.assert_array_equal(y2.float().detach().numpy(), [[2, 2]])
    np.testing.assert_array_equal(y3.float().detach().numpy(), [[4, 4]])
    (y1.float().sum() + y2.float().sum()).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[2, 2], [2, 2]])


def test_two_backward_passes_through_one_cached_cast():
    # Gradient accumulation inside one region: the second forward reuses the parameter's
    # cached cast, whose node the first backward already walked.
    grads, w0 = [], arr(3, 2)
    for lib, F in [(ember, EF), (torch, TF)]:
        w = lib.tensor(w0, requires_grad=True)
        x = lib.tensor(np.ones((4, 2), np.float32))
        with lib.autocast("cpu"):
            F.linear(x, w).float().sum().backward()
            F.linear(x, w).float().pow(2).sum().backward()
        grads.append(w.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=2e-2)


def test_compile_with_autocast_inside_is_a_clear_error():
    w = ember.tensor(arr(5, 4), requires_grad=True)

    def f(x):
        with ember.autocast("cpu"):
            return EF.linear(x, w).float().sum()

    x = ember.tensor(arr(3, 4))
    eager = f(x)
    assert eager.dtype == ember.float32
    with pytest.raises(NotImplementedError, match=r"ember.compile: .*bfloat16"):
        ember.compile(f)(x)
    assert not ember.is_autocast_enabled("cpu")
    # The same function with autocast disabled compiles and matches eager float32.

    def g(x):
        with ember.autocast("cpu", enabled=False):
            return EF.linear(x, w).sum()

    np.testing.assert_allclose(ember.compile(g)(x).item(), g(x).item(), rtol=1e-5)


def test_compiled_function_called_inside_a_region_retraces():
    # A function compiled outside autocast is not reused inside a region (it would silently
    # compute in float32): the autocast state is part of the signature, so the call retraces,
    # and the bfloat16 casts are refused with the compiler's error.
    w = ember.tensor(arr(5, 4))
    cf = ember.compile(lambda x: EF.linear(x, w).float())
    x = ember.tensor(arr(3, 4))
    np.testing.assert_allclose(cf(x).numpy(), EF.linear(x, w).numpy(), rtol=1e-5, atol=1e-5)
    with ember.autocast("cpu"):
        with pytest.raises(NotImplementedError, match="bfloat16"):
            cf(x)
    with ember.autocast("cpu", enabled=False):
        cf(x)
    assert cf.stats["compiles"] == 1


# Bad input: what torch raises (or warns).

def test_unknown_device_type():
    with pytest.raises(RuntimeError, match="ember.autocast: device_type must be 'cpu' or 'cuda'"):
        ember.autocast("tpu")
    with pytest.raises(RuntimeError):
        torch.autocast("tpu")
    with pytest.raises(RuntimeError, match="ember.get_autocast_dtype: device_type"):
        ember.get_autocast_dtype("tpu")
    with pytest.raises(RuntimeError, match="ember.is_autocast_enabled: device_type"):
        ember.is_autocast_enabled("tpu")
    with pytest.raises(ValueError, match="device_type"):
        ember.autocast(0)
    with pytest.raises(ValueError):
        torch.autocast(0)


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_unsupported_dtype_warns_and_disables(dtype):
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        ctx = ember.autocast("cpu", dtype=getattr(ember, dtype))
    with ctx:
        assert not ember.is_autocast_enabled("cpu")
        assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float32
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        with torch.autocast("cpu", dtype=getattr(torch, dtype)):
            assert not torch.is_autocast_enabled("cpu")


def test_bad_argument_types():
    with pytest.raises(TypeError, match="ember.autocast: dtype must be an ember.dtype"):
        ember.autocast("cpu", dtype="bfloat16")
    with pytest.raises(TypeError, match="ember.autocast: enabled must be a bool"):
        ember.autocast("cpu", enabled="yes")
    with pytest.raises(TypeError):
        ember.get_autocast_dtype()


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-GPU warning")
def test_cuda_without_gpu_warns_and_disables():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        ctx = ember.autocast("cuda")
    with ctx:
        assert not ember.is_autocast_enabled("cuda")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = ember.amp.GradScaler("cuda")
    assert not scaler.is_enabled()


# GradScaler against torch.amp.GradScaler on the CPU.

def _scaler_run(lib, grads_per_step, **kw):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    scaler = (ember.amp.GradScaler("cpu", **kw) if lib is ember
              else torch.amp.GradScaler("cpu", **kw))
    scales, weights = [], []
    for g in grads_per_step:
        opt.zero_grad()
        loss = (w * lib.tensor(g)).sum()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        weights.append(w.detach().numpy().copy())
    return scales, weights


def test_grad_scaler_matches_torch():
    steps = [[1.0, 1.0], [float("inf"), 1.0], [0.5, 0.25], [float("nan"), 0.0], [1.0, 2.0],
             [1.0, 1.0], [3.0, 1.0]]
    kw = dict(init_scale=1024.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    es, ew = _scaler_run(ember, steps, **kw)
    ts, tw = _scaler_run(torch, steps, **kw)
    assert es == ts
    np.testing.assert_allclose(np.array(ew), np.array(tw), rtol=1e-6)


def test_grad_scaler_unscale_and_errors():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = ember.optim.SGD([w], lr=0.1)
    scaler = ember.amp.GradScaler("cpu", init_scale=8.0)
    out = scaler.scale(ember.tensor([3.0]))
    np.testing.assert_array_equal(out.numpy(), [24.0])
    assert [x.item() for x in scaler.scale([ember.tensor(1.0), ember.tensor(2.0)])] == [8.0, 16.0]
    scaler.scale((w * w).sum()).backward()
    scaler.unscale_(opt)
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step\\(\\)"):
        scaler.unscale_(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: None)
    with pytest.raises(ValueError, match="growth factor"):
        ember.amp.GradScaler("cpu", growth_factor=0.5)
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        h = ember.tensor([1.0]).to(ember.float16).requires_grad_(True)
        o = ember.optim.SGD([h], lr=0.1)
        (h * 2).sum().backward()
        scaler.unscale_(o)
    disabled = ember.amp.GradScaler("cpu", enabled=False)
    t = ember.tensor([3.0])
    assert disabled.scale(t) is t and disabled.get_scale() == 1.0
    sd = scaler.state_dict()
    other = ember.amp.GradScaler("cpu")
    other.load_state_dict(sd)
    assert other.get_scale() == scaler.get_scale()


# The CUDA policy table against torch's own CUDA lists (ATen/autocast_mode.h), so it is
# checked without a GPU. ember op name -> the torch op names that decide it.
TORCH_NAMES = {
    "conv": ["conv1d", "conv2d"], "conv_transpose": ["conv_transpose1d", "conv_transpose2d"],
    "vector_norm": ["linalg_vector_norm"], "interpolate": ["upsample_nearest2d",
                                                           "upsample_bilinear2d"],
    "pad": ["reflection_pad2d", "replication_pad2d"], "cross_entropy": ["cross_entropy_loss"],
}


def _torch_cuda_lists():
    import os
    import re
    header = os.path.join(os.path.dirname(torch.__file__), "include", "ATen", "autocast_mode.h")
    if not os.path.exists(header):
        pytest.skip("torch's ATen/autocast_mode.h is not installed")
    text = open(header).read()
    lists = {}
    for macro, policy in [("LOWER_PRECISION_FP", "lower_precision_fp"), ("FP32", "fp32"),
                          ("FP32_SET_OPT_DTYPE", "fp32"), ("PROMOTE", "promote")]:
        m = re.search(r"#define AT_FORALL_%s\(_\)(.*?)\n\n" % macro, text, re.S)
        assert m, macro
        for op in re.findall(r"_\((\w+)", m.group(1)):
            lists.setdefault(op, policy)
    return lists


def test_cuda_policy_table_matches_torch_lists():
    lists = _torch_cuda_lists()
    ops = ember._C._autocast_ops()
    assert len(ops) >= 30
    for op in ops:
        want = {lists.get(t, "none") for t in TORCH_NAMES.get(op, [op])}
        assert len(want) == 1, (op, want)
        want = want.pop()
        if op == "binary_cross_entropy":
            want = "banned"  # torch's CUDA autocast refuses it (not on a list: a banned kernel)
        assert ember._C._autocast_policy(op, "cuda") == want, op
    with pytest.raises(ValueError, match="no autocast op named"):
        ember._C._autocast_policy("frobnicate", "cuda")


# CUDA: torch's CUDA lists (run on a GPU machine; torch CUDA is the oracle when it has a GPU,
# else the expected dtypes are checked).

CUDA_EXPECT = {
    "mm": "low", "bmm": "low", "matmul": "low", "addmm": "low", "baddbmm": "low",
    "linear": "low", "conv2d": "low", "conv1d": "low", "conv_transpose2d": "low", "sdpa": "low",
    "einsum": "low", "tensordot": "promote",
    "softmax": "float32", "log_softmax": "float32", "layer_norm": "float32",
    "group_norm": "float32", "cross_entropy": "float32", "nll_loss": "float32",
    "mse_loss": "float32", "l1_loss": "float32", "kl_div": "float32", "prod": "float32",
    "cumsum": "float32", "logsumexp": "float32", "softplus": "float32",
    "exp": "float32", "exp_method": "float32", "log": "float32", "log1p": "float32",
    "rsqrt": "float32", "reciprocal": "float32", "pow_scalar": "float32",
    "pow_tensor": "float32", "sum": "float32", "sum_method": "float32", "mean": "input",
    "var": "input", "dot": "promote", "scatter_add_mixed": "promote_mixed", "prelu": "low",
    "layer_norm_f32_params": "float32", "group_norm_f32_params": "float32",
    "batch_norm_train_f32_params": "input", "batch_norm_eval_f32_params": "input",
    "index_put_mixed": "promote_mixed",
    "vector_norm": "float32", "interp_bilinear": "float32", "interp_nearest": "float32",
    "bce_with_logits": "float32", "relu": "input", "avg_pool2d": "input",
    "pad_reflect": "input", "adaptive_avg_pool2d": "input",
}


@gpu
@pytest.mark.parametrize("op", sorted(CUDA_EXPECT))
@pytest.mark.parametrize("amp", ["float16", "bfloat16"])
def test_op_policy_cuda(op, amp):
    inputs, efn, tfn = CUDA_CASES[op]
    # Lower-precision inputs: float32 ops compute in float32, the others keep the dtype.
    es, ts = make(inputs, amp, "cuda")
    with ember.autocast("cuda", dtype=getattr(ember, amp)):
        e = efn(*es)
    want = {"low": amp, "float32": "float32", "input": amp, "promote": amp,
            "promote_mixed": "float32"}[CUDA_EXPECT[op]]
    assert name(e.dtype) == want
    if TORCH_CUDA:
        with torch.autocast("cuda", dtype=getattr(torch, amp)):
            t = tfn(*ts)
        check(e, t, lowp_tol=3e-2, half_tol=5e-3)
    # float32 inputs: lower-precision ops cast them down.
    es, ts = make(inputs, "float32", "cuda")
    with ember.autocast("cuda", dtype=getattr(ember, amp)):
        e = efn(*es)
    want = {"low": amp, "float32": "float32", "input": "float32", "promote": "float32",
            "promote_mixed": "float32"}
    assert name(e.dtype) == want[CUDA_EXPECT[op]]
    if TORCH_CUDA:
        with torch.autocast("cuda", dtype=getattr(torch, amp)):
            t = tfn(*ts)
        check(e, t, lowp_tol=3e-2)


@gpu
def test_cuda_binary_cross_entropy_is_refused():
    p = ember.tensor(RNG.uniform(0.1, 0.9, (3, 4)).astype(np.float32)).cuda()
    with ember.autocast("cuda"):
        with pytest.raises(RuntimeError, match="binary_cross_entropy.*unsafe to autocast"):
            EF.binary_cross_entropy(p, p)
        assert EF.binary_cross_entropy_with_logits(p, p).dtype == ember.float32


@gpu
def test_cuda_mlp_forward_backward():
    em, tm = _mlp_pair()
    em.cuda()
    tdev = "cuda" if TORCH_CUDA else "cpu"
    tm.to(tdev)
    x = arr(6, 8)
    target = np.array([0, 3, 1, 2, 2, 0])
    with ember.autocast("cuda"):
        ey = em(ember.tensor(x).cuda())
        eloss = EF.cross_entropy(ey, ember.tensor(target).cuda())
    assert ey.dtype == ember.float16 and eloss.dtype == ember.float32
    eloss.backward()
    for _, p in em.named_parameters():
        assert p.grad.dtype == ember.float32 and p.grad.is_cuda
    if TORCH_CUDA:
        with torch.autocast("cuda"):
            ty = tm(torch.tensor(x, device=tdev))
            tloss = TF.cross_entropy(ty, torch.tensor(target, device=tdev))
        tloss.backward()
        check(ey, ty, 3e-2, half_tol=5e-3)
        np.testing.assert_allclose(eloss.item(), tloss.item(), rtol=1e-2)
        for (n, ep), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
            r = tp.grad.cpu().numpy()
            np.testing.assert_allclose(ep.grad.cpu().numpy(), r, rtol=2e-2,
                                       atol=2e-2 * np.abs(r).max(), err_msg=n)


@gpu
def test_cuda_grad_scaler_skips_inf_step():
    w = ember.tensor([1.0, 2.0]).cuda().requires_grad_(True)
    opt = ember.optim.SGD([w], lr=0.1)
    scaler = ember.amp.GradScaler("cuda", init_scale=4.0)
    loss = (w * ember.tensor([float("inf"), 1.0]).cuda()).sum()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(w.detach().cpu().numpy(), [1.0, 2.0])
    assert scaler.get_scale() == 2.0
