"""Autograd against PyTorch: retain_graph and freed graphs, Tensor.backward / autograd.grad and
their errors, version counters and in-place ops in the graph, grad_fn objects, hooks,
retain_grad, grad modes, custom Functions, gradcheck / gradgradcheck, second derivatives, a
gradient penalty, and flat memory over a training loop."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
import torch.nn.functional as TF

RNG = np.random.default_rng(5)


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def pair(*arrays):
    return ([ember.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def close(e, t, tol=1e-5):
    assert e is not None and t is not None
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def both_raise(exc, match, fe, ft):
    """ember and torch raise the same exception type; ember's message says `match`."""
    with pytest.raises(exc):
        ft()
    with pytest.raises(exc, match=match):
        fe()


# ---- retain_graph and freed graphs ------------------------------------------------------------

def test_second_backward_through_freed_graph_raises():
    (x,), (xt,) = pair(rand(3))
    y, yt = (x * x).sum(), (xt * xt).sum()
    y.backward()
    yt.backward()
    both_raise(RuntimeError, "Trying to backward through the graph a second time", y.backward,
               yt.backward)


def test_retain_graph_allows_second_backward_and_accumulates():
    (x, w), (xt, wt) = pair(rand(3, 4), rand(4, 2))
    y, yt = (x @ w).tanh().sum(), (xt @ wt).tanh().sum()
    for _ in range(2):
        y.backward(retain_graph=True)
        yt.backward(retain_graph=True)
    close(x.grad, xt.grad)
    close(w.grad, wt.grad)
    y.backward()  # the last one frees
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_graph_without_saved_tensors_can_run_twice_like_torch():
    (x,), (xt,) = pair(rand(3))
    y, yt = (x + 1).sum(), (xt + 1).sum()
    y.backward()
    y.backward()
    yt.backward()
    yt.backward()
    close(x.grad, xt.grad)


def test_autograd_grad_frees_unless_retain_graph():
    (x,), (xt,) = pair(rand(4))
    y, yt = (x.exp() * x).sum(), (xt.exp() * xt).sum()
    (g1,) = ember.autograd.grad(y, x, retain_graph=True)
    (g2,) = ember.autograd.grad(y, x)
    (gt,) = torch.autograd.grad(yt, xt, retain_graph=True)
    close(g1, gt)
    close(g2, gt)
    both_raise(RuntimeError, "second time", lambda: ember.autograd.grad(y, x),
               lambda: (torch.autograd.grad(yt, xt), torch.autograd.grad(yt, xt)))


def test_create_graph_retains_by_default():
    (x,), (xt,) = pair(rand(3))
    y, yt = (x ** 3).sum(), (xt ** 3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    (gt,) = torch.autograd.grad(yt, xt, create_graph=True)
    g.sum().backward()
    gt.sum().backward()
    close(x.grad, xt.grad)
    (g,) = ember.autograd.grad(y, x)  # the first graph is still there
    close(g, 3 * xt.detach() ** 2)


def test_backward_gradient_and_inputs():
    (x, w), (xt, wt) = pair(rand(2, 3), rand(3, 3))
    v = rand(2, 3)
    y, yt = x @ w, xt @ wt
    y.backward(ember.tensor(v), inputs=[w])
    yt.backward(torch.tensor(v), inputs=[wt])
    assert x.grad is None and xt.grad is None
    close(w.grad, wt.grad)


def test_backward_inputs_nonleaf_and_autograd_backward():
    (x,), (xt,) = pair(rand(4))
    h, ht = x * 2, xt * 2
    y, yt = (h * h).sum(), (ht * ht).sum()
    y.backward(inputs=[h], retain_graph=True)
    yt.backward(inputs=[ht], retain_graph=True)
    close(h.grad, ht.grad)
    ember.autograd.backward([y], retain_graph=False)
    torch.autograd.backward([yt])
    close(x.grad, xt.grad)


# ---- bad input --------------------------------------------------------------------------------

def test_non_scalar_backward_without_gradient():
    (x,), (xt,) = pair(rand(3))
    both_raise(RuntimeError, "grad can be implicitly created only for scalar outputs",
               lambda: (x * 2).backward(), lambda: (xt * 2).backward())


def test_mismatched_gradient_shape():
    (x,), (xt,) = pair(rand(3))
    both_raise(RuntimeError, "Mismatch in shape", lambda: (x * 2).backward(ember.ones(2)),
               lambda: (xt * 2).backward(torch.ones(2)))
    both_raise(RuntimeError, "Mismatch in shape",
               lambda: ember.autograd.grad(x * 2, x, ember.ones(4)),
               lambda: torch.autograd.grad(xt * 2, xt, torch.ones(4)))


def test_grad_of_input_that_does_not_require_grad():
    (x,), (xt,) = pair(rand(3))
    c, ct = ember.ones(3), torch.ones(3)
    both_raise(RuntimeError, "does not require grad",
               lambda: ember.autograd.grad((x * c).sum(), [x, c]),
               lambda: torch.autograd.grad((xt * ct).sum(), [xt, ct]))


def test_output_that_does_not_require_grad():
    c, ct = ember.ones(3), torch.ones(3)
    both_raise(RuntimeError, "does not require grad and does not have a grad_fn",
               lambda: c.sum().backward(), lambda: ct.sum().backward())
    with ember.no_grad():
        (x,), _ = pair(rand(3))
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_unused_input_needs_allow_unused():
    (x, u), (xt, ut) = pair(rand(3), rand(3))
    both_raise(RuntimeError, "appears to not have been used in the graph",
               lambda: ember.autograd.grad((x * x).sum(), [x, u]),
               lambda: torch.autograd.grad((xt * xt).sum(), [xt, ut]))
    g = ember.autograd.grad((x * x).sum(), [x, u], allow_unused=True)
    gt = torch.autograd.grad((xt * xt).sum(), [xt, ut], allow_unused=True)
    close(g[0], gt[0])
    assert g[1] is None and gt[1] is None
    g = ember.autograd.grad((x * x).sum(), [x, u], materialize_grads=True)
    assert g[1].tolist() == [0, 0, 0]


# ---- version counters and in-place ops --------------------------------------------------------

def test_version_counter_bumps_on_every_inplace_write():
    e, t = ember.zeros(4), torch.zeros(4)
    assert e._version == t._version == 0
    for f in [lambda a: a.add_(1), lambda a: a.mul_(2), lambda a: a.copy_(a * 3),
              lambda a: a.__setitem__(0, 5.0), lambda a: a.zero_(), lambda a: a.fill_(2.0),
              lambda a: a.exp_()]:
        f(e)
        f(t)
        assert e._version == t._version
    v = e[1:]  # views share the counter
    v.add_(1)
    assert e._version == v._version == t._version + 1


def test_modified_saved_tensor_raises():
    (x,), (xt,) = pair(rand(3))
    h, ht = x * 2, xt * 2
    z, zt = h * h, ht * ht
    h.add_(1)
    ht.add_(1)
    both_raise(RuntimeError, "modified by an inplace operation", lambda: z.sum().backward(),
               lambda: zt.sum().backward())


def test_modified_saved_tensor_through_a_view_raises():
    (x, w), (xt, wt) = pair(rand(3, 2), rand(2, 2))
    h, ht = x * 1, xt * 1
    y, yt = h @ w, ht @ wt
    h[0].mul_(2)
    ht[0].mul_(2)
    both_raise(RuntimeError, "modified by an inplace operation", lambda: y.sum().backward(),
               lambda: yt.sum().backward())


def test_modifying_an_unsaved_input_is_fine():
    (x,), (xt,) = pair(rand(3))
    h, ht = x * 2, xt * 2
    z, zt = h + 1, ht + 1
    h.mul_(3)
    ht.mul_(3)
    z.sum().backward()
    zt.sum().backward()
    close(x.grad, xt.grad)


def test_leaf_requiring_grad_in_place_raises():
    (x,), (xt,) = pair(rand(3))
    both_raise(RuntimeError, "a leaf Variable that requires grad is being used in an in-place",
               lambda: x.add_(1), lambda: xt.add_(1))
    both_raise(RuntimeError, "a view of a leaf Variable that requires grad",
               lambda: x[1:].mul_(2), lambda: xt[1:].mul_(2))
    both_raise(RuntimeError, "a leaf Variable that requires grad",
               lambda: x.__setitem__(0, 1.0), lambda: xt.__setitem__(0, 1.0))
    with ember.no_grad():
        x.add_(1)
    with torch.no_grad():
        xt.add_(1)
    close(x, xt)
    assert x.is_leaf and x.requires_grad and x.grad_fn is None


@pytest.mark.parametrize("case", ["add_", "mul_", "div_", "exp_", "tanh_", "sigmoid_", "relu",
                                  "sub_"])
def test_inplace_on_nonleaf_gradients(case):
    (x, w), (xt, wt) = pair(rand(3, 4), rand(3, 4))

    def run(lib, x, w):
        h = x * 1.5
        if case == "relu":
            (F if lib is ember else TF).relu(h, inplace=True)
        elif case.endswith("_") and case[:-1] in ("add", "sub", "mul", "div"):
            getattr(h, case)(w.abs() + 1 if case == "div_" else w)
        else:
            getattr(h, case)()
        return (h * h).sum(), h

    (y, h), (yt, ht) = run(ember, x, w), run(torch, xt, wt)
    close(h, ht)
    assert h.grad_fn is not None and not h.is_leaf
    y.backward()
    yt.backward()
    close(x.grad, xt.grad, 1e-4)
    if wt.grad is not None:
        close(w.grad, wt.grad, 1e-4)


def test_inplace_grad_fn_is_the_inplace_node():
    (x,), (xt,) = pair(rand(3))
    h, ht = x * 2, xt * 2
    h.add_(1)
    ht.add_(1)
    assert h.grad_fn.name() == ht.grad_fn.name() == "AddBackward0"
    h.mul_(x)
    ht.mul_(xt)
    assert h.grad_fn.name() == ht.grad_fn.name() == "MulBackward0"


def test_setitem_gradients_through_views():
    (x, w), (xt, wt) = pair(rand(4, 3), rand(3))

    def run(x, w):
        h = x * 1.0
        h[0] = w * 3
        h[1:, 1] = 0.0
        h[2:3, ::2] *= 2
        h.T[0].add_(w[0])
        return h

    h, ht = run(x, w), run(xt, wt)
    close(h, ht)
    (h * h).sum().backward()
    (ht * ht).sum().backward()
    close(x.grad, xt.grad)
    close(w.grad, wt.grad)


def test_copy_into_nonleaf_and_base_after_view_write():
    (x, s), (xt, st) = pair(rand(2, 3), rand(3))
    h, ht = x * 1, xt * 1
    v, vt = h[1], ht[1]
    v.copy_(s * s)
    vt.copy_(st * st)
    close(h, ht)
    (h.exp().sum() + v.sum()).backward()
    (ht.exp().sum() + vt.sum()).backward()
    close(x.grad, xt.grad)
    close(s.grad, st.grad)


def test_inplace_under_no_grad_on_nonleaf_keeps_graph():
    (x,), (xt,) = pair(rand(3))
    h, ht = x * 2, xt * 2
    with ember.no_grad():
        h.add_(1)
    with torch.no_grad():
        ht.add_(1)
    assert h.grad_fn.name() == "MulBackward0"
    h.sum().backward()
    ht.sum().backward()
    close(x.grad, xt.grad)


# ---- grad_fn, leaves, hooks, grad modes -------------------------------------------------------

GRAD_FN_CASES = [
    ("add", lambda m, a, b: a + b), ("mul", lambda m, a, b: a * b),
    ("sub", lambda m, a, b: a - b), ("div", lambda m, a, b: a / b),
    ("tanh", lambda m, a, b: a.tanh()), ("exp", lambda m, a, b: a.exp()),
    ("sigmoid", lambda m, a, b: a.sigmoid()), ("neg", lambda m, a, b: -a),
    ("relu", lambda m, a, b: a.relu()), ("mm", lambda m, a, b: a @ b.T),
    ("sum", lambda m, a, b: a.sum()), ("sum_dim", lambda m, a, b: a.sum(0)),
    ("transpose", lambda m, a, b: a.transpose(0, 1)), ("permute", lambda m, a, b: a.permute(1, 0)),
    ("expand", lambda m, a, b: a[:1].expand(3, 3)), ("cat", lambda m, a, b: m.cat([a, b])),
    ("where", lambda m, a, b: m.where(a > 0, a, b)), ("view", lambda m, a, b: a.reshape(9)),
]


@pytest.mark.parametrize("name,f", GRAD_FN_CASES, ids=[c[0] for c in GRAD_FN_CASES])
def test_grad_fn_names_match_torch(name, f):
    (a, b), (at, bt) = pair(rand(3, 3), rand(3, 3))
    assert f(ember, a, b).grad_fn.name() == f(torch, at, bt).grad_fn.name()


def test_next_functions_and_repr():
    (x, y, w), (xt, yt, wt) = pair(rand(3), rand(3), rand(3))
    z, zt = x * y + w, xt * yt + wt
    names = [(f.name() if f else None) for f, _ in z.grad_fn.next_functions]
    tnames = [(f.name().split("::")[-1] if f else None) for f, _ in zt.grad_fn.next_functions]
    assert names == tnames == ["MulBackward0", "AccumulateGrad"]
    acc = z.grad_fn.next_functions[1][0]
    assert acc.variable is not None and acc.variable.tolist() == w.tolist()
    assert "AddBackward0 object at" in repr(z.grad_fn)
    assert "grad_fn=<AddBackward0>" in repr(z)
    c = ember.ones(3)
    assert [f for f, _ in (x * c).grad_fn.next_functions][1] is None


def test_leaves_retain_grad_requires_grad_and_detach_():
    (x,), (xt,) = pair(rand(3))
    assert x.is_leaf and ember.ones(2).is_leaf
    h, ht = x * 2, xt * 2
    assert not h.is_leaf
    h.retain_grad()
    ht.retain_grad()
    assert h.retains_grad and ht.retains_grad
    (h * h).sum().backward()
    (ht * ht).sum().backward()
    close(h.grad, ht.grad)
    k = x * 3
    k.detach_()
    assert not k.requires_grad and k.is_leaf and k.grad_fn is None
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        (x * 2).requires_grad_(False)
    c = ember.ones(3).requires_grad_()
    assert c.requires_grad and c.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        ember.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        ember.ones(3).retain_grad()


def test_tensor_hooks_replace_and_observe_and_remove():
    (x,), (xt,) = pair(rand(3))
    seen = []
    hx = x.register_hook(lambda g: g * 2)
    xt.register_hook(lambda g: g * 2)
    h, ht = x * x, xt * xt
    h.register_hook(lambda g: seen.append(g.tolist()))
    h.register_hook(lambda g: g + 1)
    ht.register_hook(lambda g: g + 1)
    h.sum().backward()
    ht.sum().backward()
    close(x.grad, xt.grad)
    assert seen == [[1, 1, 1]]
    hx.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3, 3, 3]
    (g,) = ember.autograd.grad((x * x).sum(), x)  # grad runs leaf hooks too
    x.register_hook(lambda g: g * 0)
    (g,) = ember.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [0, 0, 0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_hook(lambda g: g)


def test_grad_modes():
    x = ember.ones(2, requires_grad=True)
    with ember.inference_mode():
        assert ember.is_inference_mode_enabled() and not ember.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled() and not ember.is_inference_mode_enabled()
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)
    with ember.no_grad():
        with ember.enable_grad():
            assert (x * 2).requires_grad

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with ember.inference_mode(False):
        assert (x * 2).requires_grad


# ---- custom functions -------------------------------------------------------------------------

class EmberExp(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class EmberScaledMul(ember.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        ctx.needs = ctx.needs_input_grad
        return a * b * scale

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b * ctx.scale, g * a * ctx.scale, None


class TorchScaledMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b * ctx.scale, g * a * ctx.scale, None


def test_custom_function_gradients_match_torch():
    (a, b), (at, bt) = pair(rand(3, 4), rand(4))
    y = EmberScaledMul.apply(a, b, 2.5)
    yt = TorchScaledMul.apply(at, bt, 2.5)
    close(y, yt)
    assert y.grad_fn.name() == "EmberScaledMulBackward"
    (y.tanh().sum()).backward()
    (yt.tanh().sum()).backward()
    close(a.grad, at.grad)
    close(b.grad, bt.grad)


def test_custom_function_needs_input_grad_and_no_grad_inputs():
    a = ember.tensor(rand(3), requires_grad=True)
    c = ember.tensor(rand(3))
    ctx_needs = []

    class Probe(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, c, k):
            ctx_needs.append(ctx.needs_input_grad)
            return a * c

        @staticmethod
        def backward(ctx, g):
            return g, None, None

    y = Probe.apply(a, c, 3)
    assert ctx_needs == [(True, False, False)]
    y.sum().backward()
    assert a.grad.tolist() == [1, 1, 1]
    z = Probe.apply(c, c, 1)
    assert not z.requires_grad


def test_custom_function_with_several_outputs():
    class SinCos(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos(), ember.tensor(3)

        @staticmethod
        def backward(ctx, gs, gc, gi):
            (x,) = ctx.saved_tensors
            assert gi is None
            return gs * x.cos() - gc * x.sin()

    class TSinCos(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            return gs * x.cos() - gc * x.sin()

    (x,), (xt,) = pair(rand(4))
    s, c, n = SinCos.apply(x)
    st, ct = TSinCos.apply(xt)
    assert n.tolist() == 3 and not n.requires_grad
    (s * 2 + c * c).sum().backward()
    (st * 2 + ct * ct).sum().backward()
    close(x.grad, xt.grad)
    x.grad = None
    s, c, _ = SinCos.apply(x)
    s.sum().backward()  # only one output used
    close(x.grad, xt.detach().cos())
    with pytest.raises(RuntimeError, match="second time"):
        s.sum().backward()


def test_custom_function_double_backward():
    (x,), (xt,) = pair(rand(4))
    y = EmberExp.apply(x * 2)
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    close(g, 2 * torch.exp(2 * xt))
    close(gg, 4 * torch.exp(2 * xt))


def test_custom_function_errors():
    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class Torch(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    (x,), (xt,) = pair(rand(3))
    both_raise(RuntimeError, "returned an incorrect number of gradients",
               lambda: Wrong.apply(x).sum().backward(), lambda: Torch.apply(xt).sum().backward())

    class BadShape(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return ember.ones(7)

    with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
        BadShape.apply(x).sum().backward()
    # a saved tensor modified in place, and a freed context
    h = x * 1
    y = EmberExp.apply(h)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = EmberExp.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()

    class NoBackward(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x + 1

    with pytest.raises(NotImplementedError):
        NoBackward.apply(x).sum().backward()


# ---- gradcheck and second derivatives ---------------------------------------------------------

def d64(*shape, positive=False):
    a = rand(*shape, dtype=np.float64)
    a = np.abs(a) + 0.5 if positive else a
    return ember.tensor(a, dtype=ember.float64, requires_grad=True)


GRADCHECK = {
    "tanh": (lambda x: x.tanh(), [(3, 4)]),
    "mul": (lambda a, b: a * b, [(3, 4), (4,)]),
    "div": (lambda a, b: a / b, [(3, 4), "pos4"]),
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    "bmm": (lambda a, b: ember.bmm(a, b), [(2, 3, 4), (2, 4, 2)]),
    "softmax": (lambda x: ember.softmax(x, 1), [(3, 4)]),
    "log_softmax": (lambda x: ember.log_softmax(x, 1), [(3, 4)]),
    "gelu": (lambda x: F.gelu(x), [(3, 4)]),
    "cross_entropy": (lambda x: F.cross_entropy(x, ember.tensor([0, 2, 1])), [(3, 4)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, [4], w, b), [(3, 4), (4,), (4,)]),
    "conv2d": (lambda x, w: F.conv2d(x, w, padding=1), [(1, 2, 4, 4), (2, 2, 3, 3)]),
    "sigmoid_exp_log": (lambda x: (x.sigmoid() * x.exp()).log(), [(5,)]),
    "mean_var": (lambda x: x.var(0) + x.mean(), [(4, 3)]),
    "amax": (lambda x: x.amax(1), [(3, 4)]),
    "index": (lambda x: x[ember.tensor([2, 0])][:, 1:], [(3, 4)]),
    "pow": (lambda a, b: a ** b, ["pos4", (4,)]),
    "mse_loss": (lambda a, b: F.mse_loss(a, b), [(3, 4), (3, 4)]),
}
SECOND_ORDER = ["tanh", "mul", "div", "matmul", "softmax", "log_softmax", "gelu",
                "cross_entropy", "layer_norm", "conv2d"]


def gc_inputs(shapes):
    return [d64(4, positive=True) if s == "pos4" else d64(*s) for s in shapes]


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    f, shapes = GRADCHECK[name]
    assert ember.autograd.gradcheck(f, gc_inputs(shapes), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradgradcheck(name):
    f, shapes = GRADCHECK[name]
    assert ember.autograd.gradgradcheck(f, gc_inputs(shapes), atol=1e-4, rtol=1e-3)


TORCH_FN = {
    "tanh": lambda x: x.tanh(), "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "matmul": lambda a, b: a @ b, "softmax": lambda x: torch.softmax(x, 1),
    "log_softmax": lambda x: torch.log_softmax(x, 1), "gelu": lambda x: TF.gelu(x),
    "cross_entropy": lambda x: TF.cross_entropy(x, torch.tensor([0, 2, 1])),
    "layer_norm": lambda x, w, b: TF.layer_norm(x, [4], w, b),
    "conv2d": lambda x, w: TF.conv2d(x, w, padding=1),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives_match_torch(name):
    f, shapes = GRADCHECK[name]
    xs = gc_inputs(shapes)
    ts = [torch.tensor(x.detach().numpy(), requires_grad=True) for x in xs]
    out, outt = f(*xs), TORCH_FN[name](*ts)
    v = rand(*out.shape, dtype=np.float64)
    gs = ember.autograd.grad(out, xs, ember.tensor(v, dtype=ember.float64), create_graph=True)
    gts = torch.autograd.grad(outt, ts, torch.tensor(v), create_graph=True)
    s = sum(((g * g).sum() for g in gs), ember.zeros([], dtype=ember.float64))
    st = sum((g * g).sum() for g in gts)
    hs = ember.autograd.grad(s, xs, allow_unused=True)
    hts = torch.autograd.grad(st, ts, allow_unused=True)
    for h, ht in zip(hs, hts):
        if ht is None or h is None:
            assert h is None or np.allclose(h.numpy(), 0)
            continue
        close(h, ht, 1e-6)


def test_gradcheck_catches_a_wrong_backward():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # missing the factor 2

    x = d64(3)
    assert ember.autograd.gradcheck(Bad.apply, (x,), raise_exception=False) is False
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Bad.apply, (x,))
    with pytest.raises(RuntimeError):
        ember.autograd.gradcheck(Bad.apply, (x,))
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        ember.autograd.gradcheck(lambda x: x * 2, (ember.ones(2, dtype=ember.float64),))


def test_gradient_penalty_through_mlp():
    W1, b1, W2, b2 = rand(8, 4), rand(8), rand(1, 8), rand(1)
    xa = rand(5, 4)

    def run(lib, Fn, params, x):
        W1, b1, W2, b2 = params
        out = Fn.linear(Fn.linear(x, W1, b1).tanh(), W2, b2)
        (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        penalty = ((g * g).sum(1) - 1) ** 2
        loss = out.mean() + 10 * penalty.mean()
        loss.backward()
        return loss

    pe, pt = pair(W1, b1, W2, b2)
    xe, xt = ember.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    le, lt = run(ember, F, pe, xe), run(torch, TF, pt, xt)
    close(le, lt, 1e-4)
    for a, b in zip(pe, pt):
        close(a.grad, b.grad, 1e-4)
    close(xe.grad, xt.grad, 1e-4)


# ---- memory (1000 steps: peak after step 50 equals peak after step 1000) -----------------------------------------------------------------------------------

def mlp_step(params, x, y, lr=0.01):
    W1, b1, W2, b2 = params
    out = F.linear(F.linear(x, W1, b1).relu(), W2, b2)
    loss = F.cross_entropy(out, y)
    loss.backward()
    with ember.no_grad():
        for p in params:
            p.sub_(p.grad * lr)
            p.grad = None
    return loss


def test_training_loop_peak_memory_is_flat():
    params = [ember.tensor(rand(64, 32) * 0.1, requires_grad=True),
              ember.zeros(64, requires_grad=True),
              ember.tensor(rand(10, 64) * 0.1, requires_grad=True),
              ember.zeros(10, requires_grad=True)]
    x, y = ember.tensor(rand(16, 32)), ember.tensor(RNG.integers(0, 10, 16))
    losses = []
    for i in range(1000):
        losses.append(mlp_step(params, x, y).item())
        if i == 49:
            peak50 = ember._C._host_allocator_stats()["peak_allocated_bytes"]
            live50 = ember._C._host_allocator_stats()["allocated_bytes"]
    stats = ember._C._host_allocator_stats()
    assert stats["peak_allocated_bytes"] == peak50
    assert stats["allocated_bytes"] == live50
    assert losses[-1] < losses[0]


def test_backward_frees_saved_tensors_of_a_live_graph():
    x = ember.tensor(rand(256, 256), requires_grad=True)

    def graph():
        h = x
        for _ in range(4):
            h = (h * h).tanh()
        return h.sum()

    def live_after(retain):
        base = ember._C._host_allocator_stats()["allocated_bytes"]
        y = graph()
        y.backward(retain_graph=retain)
        x.grad = None
        used = ember._C._host_allocator_stats()["allocated_bytes"] - base
        del y
        return used

    kept, freed = live_after(True), live_after(False)
    assert kept >= 8 * 256 * 256 * 4  # the retained graph holds its activations
    assert freed < 256 * 256 * 4  # released: at most the loss and small scalars


@pytest.mark.gpu
def test_inplace_and_views_on_cuda():
    (x, w), (xt, wt) = pair(rand(3, 4), rand(4))
    xc, wc = x.detach().cuda().requires_grad_(), w.detach().cuda().requires_grad_()

    def run(x, w):
        h = x * 2
        h[1] = w.exp()
        h.mul_(x)
        return (h * h).sum()

    run(xc, wc).backward()
    run(xt, wt).backward()
    close(xc.grad.cpu(), xt.grad, 1e-4)
    close(wc.grad.cpu(), wt.grad, 1e-4)


def test_views_see_inplace_writes_to_their_base_and_siblings():
    (x, w), (xt, wt) = pair(rand(3, 4), rand(4))

    def run(x, w):
        h = x * 1
        v, u, col = h[0], h[1:], h[:, 2]
        h.mul_(2)          # v, u and col were made before: their gradients must see it
        u[0].add_(w * w)   # a sibling view writes: v and col see the new base too
        return (v * v).sum() + (u ** 3).sum() + col.exp().sum()

    run(x, w).backward()
    run(xt, wt).backward()
    close(x.grad, xt.grad, 1e-4)
    close(w.grad, wt.grad, 1e-4)


def test_view_of_a_base_that_stops_requiring_grad():
    (x,), _ = pair(rand(3))
    h = x * 2
    v = h[:2]
    h.copy_(ember.ones(3))  # the new value does not depend on x
    assert not (v * 1).requires_grad and (v * 1).tolist() == [1, 1]


def test_contiguous_clone_and_to_are_differentiable_like_torch():
    import torch
    x0 = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    ex, tx = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    ew, tw = ember.full((3, 2), 2.0, requires_grad=True), torch.full((3, 2), 2.0, requires_grad=True)

    def f(m, x, w):
        return ((x.t().contiguous() * w).sum() + (x.clone() ** 2).sum()
                + (x.to(m.float64) * 3).sum().to(m.float32) + x.double().half().float().sum())

    f(ember, ex, ew).backward()
    f(torch, tx, tw).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-3)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy())
    assert ex.t().contiguous().grad_fn is not None
    c = ex.contiguous()  # already dense: itself, as in torch
    assert c.shape == ex.shape


def test_a_gradient_has_its_inputs_dtype_after_type_promotion():
    # The float32 operand of a product promoted to float64 got a float64 .grad (PyTorch casts
    # each gradient to its input's dtype).
    x = ember.randn(3, requires_grad=True)
    d = ember.randn(3, dtype=ember.float64)
    (x * d).sum().backward()
    assert x.grad.dtype == ember.float32
    np.testing.assert_allclose(x.grad.numpy(), d.numpy().astype(np.float32), rtol=1e-6)
    y = ember.randn(3, requires_grad=True)
    (y.to(ember.float64) * y).sum().backward()
    assert y.grad.dtype == ember.float32
    g, = ember.autograd.grad((x * d).sum(), [x])
    assert g.dtype == ember.float32


def test_division_gradient_does_not_overflow_for_large_divisors():
    # d(a/b)/db was -g*a/(b*b): b*b overflowed to inf for |b| > 1.8e19 and the gradient to 0.
    a = ember.tensor([1e20, 3.0], requires_grad=True)
    b = ember.tensor([1e20, 4e19], requires_grad=True)
    (a / b).sum().backward()
    ta = torch.tensor([1e20, 3.0], requires_grad=True)
    tb = torch.tensor([1e20, 4e19], requires_grad=True)
    (ta / tb).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)


def test_an_input_no_gradient_reads_may_change_in_place_afterwards():
    # c = b * 3 never reads b for the backward (b's gradient is 3 * g), yet changing b in place
    # afterwards raised "modified by an inplace operation"; PyTorch allows it. An input that a
    # needed gradient does read still raises.
    a = ember.ones(2, requires_grad=True)
    b = a * 1
    c = b * 3
    b.mul_(2)
    c.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full(2, 3, np.float32))
    a = ember.ones(2, requires_grad=True)
    w = ember.ones(2)
    c = (a * 1) * w
    w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_gradients_at_ties_and_bounds_follow_torch():
    # maximum/minimum at a tie gave the whole gradient to one side (torch splits it); clamp
    # with number bounds gave 1 at the bound (torch: 0, and 0 at NaN); tensor bounds split.
    import math
    cases = [lambda M, a: M.maximum(a, M.tensor([1., 1., 4., 6.])),
             lambda M, a: M.minimum(a, M.tensor([1., 1., 4., 6.])),
             lambda M, a: M.clamp(a, min=1.), lambda M, a: M.clamp(a, max=1.),
             lambda M, a: M.clamp(a, 1., 2.), lambda M, a: M.clamp(a, 3., 2.),
             lambda M, a: a.clamp(min=M.tensor(1.)), lambda M, a: M.nn.functional.relu6(a),
             lambda M, a: M.nn.functional.hardtanh(a, 1., 2.),
             lambda M, a: M.clamp(M.tensor([float("nan"), 1., 0., 0.]) + a, 0., 1.5)]
    same = lambda u, v: all(x == w or (math.isnan(x) and math.isnan(w)) for x, w in zip(u, v))
    for f in cases:
        a = ember.tensor([1., 2., 0.5, 6.], requires_grad=True)
        t = torch.tensor([1., 2., 0.5, 6.], requires_grad=True)
        y, z = f(ember, a), f(torch, t)
        y.sum().backward()
        z.sum().backward()
        assert same(y.tolist(), z.tolist()), (y, z)
        assert same(a.grad.tolist(), t.grad.tolist()), (a.grad, t.grad)
    # the values without grad are the same as with it
    x = ember.tensor([1., 2., float("nan"), -3.])
    assert same(ember.clamp(x, 0., 1.5).tolist(), torch.clamp(torch.tensor(x.tolist()), 0., 1.5).tolist())


def test_a_zero_dim_tensor_views_as_ones():
    # view(-1) of a 0-d tensor was "not compatible with the input's strides"
    x = ember.tensor(2.0)
    assert x.view(-1).shape == (1,) and x.view(1, 1).shape == (1, 1)
    v = x.view(-1)
    v[0] = 5.0
    assert float(x) == 5.0
