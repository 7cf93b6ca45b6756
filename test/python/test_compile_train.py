"""Compiled training steps with optimizer.zero_grad(), loss.backward() and optimizer.step()
inside the compiled function: one graph (fullgraph=True) whose parameter, gradient and
optimizer-state updates are written back after each call. Checked step by step against the
same loop run eagerly and against PyTorch."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
]

def _step(m, opt, x, y, loss_fn=EF.mse_loss):
    """zero_grad, forward, loss, backward, update: a training step as the tests write it."""
    opt.zero_grad()
    loss = loss_fn(m(x), y)
    loss.backward()
    opt.step()
    return loss



def _mlp(nn):
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))


def _copy(em, tm):
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_compiled_step_with_backward_and_optimizer_step(name, kw):
    torch.manual_seed(0)
    tm = _mlp(torch.nn)
    models, opts = [], []
    for _ in range(2):  # eager, compiled
        m = _mlp(enn)
        _copy(m, tm)
        models.append(m)
        opts.append(getattr(ember.optim, name)(m.parameters(), **kw))
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    em, cm_model = models
    eopt, copt = opts

    def step_fn(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = EF.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step

    eager_step = step_fn(em, eopt)
    compiled_step = ember.compile(step_fn(cm_model, copt), fullgraph=True)
    rng = np.random.default_rng(1)
    for i in range(6):
        x = rng.standard_normal((8, 12)).astype(np.float32)
        y = rng.integers(0, 4, 8)
        le = eager_step(ember.tensor(x), ember.tensor(y))
        lc = compiled_step(ember.tensor(x), ember.tensor(y))
        topt.zero_grad()
        lt = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
        lt.backward()
        topt.step()
        np.testing.assert_allclose(lc.item(), le.item(), rtol=1e-5)
        np.testing.assert_allclose(lc.item(), lt.item(), rtol=1e-4)
    assert compiled_step.stats["traces"] == 1 and compiled_step.stats["graph_breaks"] == 0
    for (n, pe), pc, pt in zip(em.named_parameters(), cm_model.parameters(), tm.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-4, atol=1e-6, err_msg=n)
        np.testing.assert_allclose(pc.detach().numpy(), pt.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=n)
        # The gradient of the last step is in .grad, as after an eager step.
        np.testing.assert_allclose(pc.grad.numpy(), pe.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=n)
    # The optimizer state was written back (e.g. momentum buffers, Adam moments).
    for pe, pc in zip(em.parameters(), cm_model.parameters()):
        for k, v in eopt.state[pe].items():
            if isinstance(v, ember.Tensor):
                np.testing.assert_allclose(copt.state[pc][k].numpy(), v.numpy(), rtol=1e-4, atol=1e-6)
            else:
                assert float(copt.state[pc][k]) == float(v), k


def test_compiled_step_writes_buffers_and_refuses_accumulated_grads():
    m = enn.Sequential(enn.Linear(5, 6), enn.BatchNorm1d(6), enn.Linear(6, 2))
    opt = ember.optim.SGD(m.parameters(), lr=0.1)

    @ember.compile(fullgraph=True)
    def step(x):
        opt.zero_grad()
        loss = (m(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    x = ember.randn(7, 5)
    before = m[1].running_mean.numpy().copy()
    step(x)
    assert not np.allclose(m[1].running_mean.numpy(), before)  # the running stats moved
    assert int(m[1].num_batches_tracked) == 1
    step(x)
    assert int(m[1].num_batches_tracked) == 2

    w = ember.randn(3, requires_grad=True)

    @ember.compile(fullgraph=True)
    def no_zero_grad(x):
        loss = (w * x).sum()
        loss.backward()  # accumulates into w.grad: refused when w.grad is already set
        return loss

    (w * 2).sum().backward()
    with pytest.raises(NotImplementedError, match="zero_grad"):
        no_zero_grad(ember.ones(3))


def test_in_place_updates_of_closed_over_tensors_are_written_back():
    counter = ember.zeros(())
    total = ember.zeros(3)

    @ember.compile(fullgraph=True)
    def accumulate(x):
        counter.add_(1)
        total.add_(x * counter)
        return total * 1

    for i in range(3):
        out = accumulate(ember.ones(3))
    assert float(counter) == 3.0
    np.testing.assert_allclose(total.numpy(), [6.0, 6.0, 6.0])
    np.testing.assert_allclose(out.numpy(), [6.0, 6.0, 6.0])
    view_writer = ember.compile(lambda x: total[:2].add_(x), fullgraph=True)
    with pytest.raises(RuntimeError, match="views of its parameters"):
        view_writer(ember.ones(2))


def test_compiled_module_in_training_mode_updates_its_buffers():
    """ember.compile(module) with BatchNorm in training mode: outputs and running statistics
    follow the eager module call for call; after eval() the compiled module uses the stats."""
    m = enn.Sequential(enn.Linear(4, 5), enn.BatchNorm1d(5))
    e = enn.Sequential(enn.Linear(4, 5), enn.BatchNorm1d(5))
    e.load_state_dict(m.state_dict())
    cm = ember.compile(m, fullgraph=True)
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = ember.tensor(rng.standard_normal((8, 4)).astype(np.float32))
        np.testing.assert_allclose(cm(x).detach().numpy(), e(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(m[1], name).numpy(), getattr(e[1], name).numpy(), rtol=1e-5)
    assert int(m[1].num_batches_tracked) == int(e[1].num_batches_tracked) == 3
    m.eval()
    e.eval()
    x = ember.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    np.testing.assert_allclose(cm(x).detach().numpy(), e(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_gradient_that_depends_on_no_input_is_written_back():
    # d(y.sum())/d(bias) is a constant (the batch size): it must still land in bias.grad.
    lin = enn.Linear(3, 2)

    def f(x):
        loss = lin(x).sum()
        loss.backward()
        return loss

    for backend in ("ember", "eager"):
        lin.weight.grad = lin.bias.grad = None
        ember.compile(f, backend=backend, fullgraph=True)(ember.randn(5, 3))
        assert lin.bias.grad is not None, backend
        np.testing.assert_allclose(lin.bias.grad.numpy(), [5.0, 5.0])
        assert lin.weight.grad is not None


def test_state_writes_reach_views_of_the_state():
    # A compiled step's new parameter values replace the parameter's memory only when nothing
    # else shares it; a view held outside still sees the update (the copy path).
    lin = enn.Linear(3, 2)
    opt = ember.optim.SGD(lin.parameters(), lr=0.5)
    view = lin.weight.view(-1)
    bias_version = lin.bias._version if hasattr(lin.bias, "_version") else None

    def step(x):
        opt.zero_grad()
        loss = lin(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = ember.compile(step, fullgraph=True)
    x = ember.randn(4, 3)
    w0, b0 = lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy()
    compiled(x)
    assert not np.allclose(lin.weight.detach().numpy(), w0)
    np.testing.assert_array_equal(view.detach().numpy(), lin.weight.detach().numpy().ravel())
    assert not np.allclose(lin.bias.detach().numpy(), b0)
    if bias_version is not None:
        assert lin.bias._version > bias_version


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "layer_norm"])
def test_fused_ops_on_a_parameter_itself_are_traced_not_baked(op):
    # softmax / log_softmax / layer_norm take fused kernels for concrete float32 tensors; handed
    # a parameter itself (not a value computed from it) inside a compiled function, they ran
    # the kernel at trace time: the forward was baked into the graph as a constant (stale once
    # the parameter changed) and the backward failed ("a tensor from another trace").
    f = {"softmax": lambda p: ember.softmax(p, 0),
         "log_softmax": lambda p: ember.log_softmax(p, 0),
         "layer_norm": lambda p: EF.layer_norm(p, (6,))}[op]
    holder = enn.Module()
    holder.p = enn.Parameter(ember.randn(6))
    weights = ember.arange(6).float()
    forward = ember.compile(lambda: f(holder.p), fullgraph=True)
    np.testing.assert_allclose(forward().numpy(), f(holder.p).detach().numpy(), rtol=1e-5, atol=1e-6)
    with ember.no_grad():
        holder.p.mul_(2.0).add_(0.5)
    np.testing.assert_allclose(forward().numpy(), f(holder.p).detach().numpy(), rtol=1e-5, atol=1e-6)

    def step():
        holder.p.grad = None
        loss = (f(holder.p) * weights).sum()
        loss.backward()
        return loss
    eager = holder.p.detach().clone().requires_grad_(True)
    (f(eager) * weights).sum().backward()
    ember.compile(step, fullgraph=True)()
    np.testing.assert_allclose(holder.p.grad.numpy(), eager.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
def test_a_learning_rate_scheduler_reaches_the_compiled_step(name, kwargs):
    # A group's numbers are graph inputs refreshed at each call: StepLR's new lr (and any other
    # change to them) takes effect with no recompile. They used to be baked in at trace time,
    # so the compiled step kept the first lr while the eager one decayed.
    def make():
        ember.manual_seed(0)
        m = enn.Linear(4, 2)
        opt = getattr(ember.optim, name)(m.parameters(), **kwargs)
        return m, opt, ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.3)

    (me, oe, se), (mc, oc, sc) = make(), make()
    compiled = ember.compile(lambda x, y: _step(mc, oc, x, y), fullgraph=True)
    x, y = ember.randn(8, 4), ember.randn(8, 2)
    for i in range(6):
        np.testing.assert_allclose(float(compiled(x, y)), float(_step(me, oe, x, y)), rtol=1e-5, atol=1e-6)
        se.step()
        sc.step()
    oe.param_groups[0]["weight_decay"] = oc.param_groups[0]["weight_decay"] = 0.5
    np.testing.assert_allclose(float(compiled(x, y)), float(_step(me, oe, x, y)), rtol=1e-5, atol=1e-6)
    for pe, pc in zip(me.parameters(), mc.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-5, atol=1e-6)
    # a weight decay that was zero changes the update's structure: one recompile
    assert compiled.stats["compiles"] == (1 if kwargs.get("weight_decay") else 2)


def test_gradients_flow_through_a_compiled_model_into_an_eager_loss():
    # model = ember.compile(model); loss(model(x)).backward(): the compiled call's outputs are
    # differentiable (a node whose backward runs a compiled joint graph, recomputing the forward
    # with its dropout masks replayed). They used to come back detached: parameters got no
    # gradient and training silently did nothing.
    import copy

    ember.manual_seed(0)
    model = enn.Sequential(enn.Conv2d(2, 3, 3, padding=1), enn.BatchNorm2d(3), enn.ReLU(),
                           enn.Dropout(0.4), enn.Flatten(), enn.Linear(48, 2))
    twin = copy.deepcopy(model)
    compiled = ember.compile(model)
    for i in range(3):
        x = ember.randn(4, 2, 4, 4).requires_grad_(True)
        xe = x.detach().clone().requires_grad_(True)
        for m in (model, twin):
            m.zero_grad()
        ember.manual_seed(100 + i)
        y = compiled(x)
        assert y.requires_grad
        (y.pow(2).sum() + x.sum()).backward()
        ember.manual_seed(100 + i)
        ye = twin(xe)
        (ye.pow(2).sum() + xe.sum()).backward()
        np.testing.assert_allclose(y.detach().numpy(), ye.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-4, atol=1e-5)
        for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
        for (name, b), (_, c) in zip(model.named_buffers(), twin.named_buffers()):
            np.testing.assert_allclose(b.float().numpy(), c.float().numpy(), rtol=1e-6, err_msg=name)
    assert compiled.stats["compiles"] == 1

    # several outputs, one of them an integer
    f = ember.compile(lambda a: (a.sum(1), a.argmax(1), a * 2))
    a = ember.randn(3, 4).requires_grad_(True)
    s, idx, d = f(a)
    assert not idx.requires_grad
    (s.sum() + d.pow(2).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), (1 + 8 * a.detach()).numpy(), rtol=1e-6)
    with ember.no_grad():
        assert not f(a)[0].requires_grad


def test_freezing_parameters_after_compiling_retraces():
    # requires_grad of the tensors a compiled step reads is part of the cache key: a layer frozen
    # after the first call stays frozen (the old graph kept computing and applying its update).
    ember.manual_seed(0)
    m = enn.Sequential(enn.Linear(4, 4), enn.Linear(4, 2))
    opt = ember.optim.SGD(m.parameters(), lr=0.1)

    compiled = ember.compile(lambda x, y: _step(m, opt, x, y), fullgraph=True)
    x, y = ember.randn(8, 4), ember.randn(8, 2)
    compiled(x, y)
    for p in m[0].parameters():
        p.requires_grad_(False)
    frozen = m[0].weight.detach().clone()
    last = m[1].weight.detach().clone()
    compiled(x, y)
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), frozen.numpy())
    assert float((m[1].weight.detach() - last).abs().max()) > 0
    assert compiled.stats["compiles"] == 2


def test_compiled_training_step_with_dropout_follows_eager_step_by_step():
    def make():
        ember.manual_seed(0)
        m = ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(), ember.nn.Dropout(0.5),
                                ember.nn.Linear(16, 3))
        return m, ember.optim.SGD(m.parameters(), lr=0.1)

    def step(m, opt, x, y):
        return _step(m, opt, x, y, EF.cross_entropy)
    (me, oe), (mc, oc) = make(), make()
    compiled = ember.compile(lambda x, y: step(mc, oc, x, y), fullgraph=True)
    rng = np.random.default_rng(1)
    for i in range(4):
        x = ember.tensor(rng.standard_normal((6, 8)).astype(np.float32))
        y = ember.tensor(rng.integers(0, 3, 6))
        ember.manual_seed(10 + i)
        le = step(me, oe, x, y)
        ember.manual_seed(10 + i)
        lc = compiled(x, y)
        np.testing.assert_allclose(float(lc), float(le), rtol=1e-5)
    for pe, pc in zip(me.parameters(), mc.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_parameter_the_compiled_call_does_not_use_gets_no_gradient():
    # As eagerly: None, not zeros (an optimizer skips a parameter whose .grad is None; zeros
    # would still decay it under AdamW).
    class Model(enn.Module):
        def __init__(self):
            super().__init__()
            self.used = enn.Linear(3, 2)
            self.unused = enn.Linear(3, 2)

        def forward(self, x):
            return self.used(x)
    m = Model()
    compiled = ember.compile(m)
    for _ in range(2):
        compiled(ember.randn(4, 3)).sum().backward()
    assert m.unused.weight.grad is None and m.unused.bias.grad is None
    np.testing.assert_allclose(m.used.bias.grad.numpy(), [8.0, 8.0])


def test_only_outputs_that_depend_on_a_grad_input_require_grad():
    # An output computed from integer inputs alone came back requiring grad (every floating
    # output got the compiled node): backward then left zeros in x.grad where eager refuses.
    f = lambda x, i: (i * 0.5, x * 2, i + 1, (x * i).sum())
    x, i = ember.randn(3, requires_grad=True), ember.tensor([1, 2, 3])
    got = ember.compile(f)(x, i)
    assert [t.requires_grad for t in got] == [t.requires_grad for t in f(x, i)] == [False, True, False, True]
    (got[1].sum() + got[3]).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.array([3., 4., 5.], np.float32))
    with pytest.raises(RuntimeError, match="does not require grad"):
        got[0].sum().backward()


def test_a_step_that_would_accumulate_into_grads_a_previous_call_left_is_refused():
    # Gradient accumulation over calls (zero_grad outside, every other call): the second call
    # hit the graph traced with .grad None and overwrote the gradient instead of adding to it.
    w = enn.Parameter(ember.tensor([1.0, 2.0]))
    opt = ember.optim.SGD([w], lr=0.1)

    def step(x):
        (w * x).sum().backward()
        opt.step()

    compiled = ember.compile(step)
    opt.zero_grad()
    assert compiled(ember.tensor([1.0, 1.0])) is None
    np.testing.assert_array_equal(w.grad.numpy(), np.ones(2, np.float32))
    with pytest.raises(NotImplementedError, match="accumulates a gradient"):
        compiled(ember.tensor([2.0, 2.0]))
    # With zero_grad inside, the gradients a previous call left do not matter: one compile.
    opt2 = ember.optim.SGD([w], lr=0.1)

    def step2(x):
        opt2.zero_grad()
        (w * x).sum().backward()
        opt2.step()

    compiled2 = ember.compile(step2)
    for k in range(3):
        compiled2(ember.tensor([1.0, 1.0]))
    assert compiled2.stats["compiles"] == 1


def test_backprop_through_a_call_that_writes_a_buffer_it_reads():
    # The compiled backward recomputes the forward: it read the buffer after the call's write
    # (x * s with s already halved twice), so x's gradient came out halved.
    s = ember.tensor([1.0, 2.0])

    def f(x):
        s.mul_(0.5)
        return x * s

    x = ember.ones(2, requires_grad=True)
    ember.compile(f)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.array([0.5, 1.0], np.float32))
    np.testing.assert_array_equal(s.numpy(), np.array([0.5, 1.0], np.float32))


def test_max_along_a_dim_and_where_with_a_number_backprop_through_a_call():
    # Their gradients met a dtype cast of the gradient of where's Python-number operand, which
    # read the traced value: "joint cannot be captured in one graph".
    for fn in (lambda x: x.max(1)[0], lambda x: x.min(1).values * 2,
               lambda x: ember.where(x > 0, x, 0.0)):
        x = ember.randn(3, 4, requires_grad=True)
        ember.compile(fn)(x).sum().backward()
        xe = x.detach().clone().requires_grad_()
        fn(xe).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), xe.grad.numpy())


def test_reading_a_closed_over_tensors_value_breaks_the_graph():
    # x * s.item() baked s's value at trace time: later calls kept using it after s changed.
    import warnings

    x, s = ember.ones(3), ember.tensor(2.0)
    compiled = ember.compile(lambda x: x * s.item())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ember.GraphBreakWarning)
        np.testing.assert_array_equal(compiled(x).numpy(), np.full(3, 2, np.float32))
        s.fill_(3.0)
        np.testing.assert_array_equal(compiled(x).numpy(), np.full(3, 3, np.float32))
    assert compiled.stats["graph_breaks"] == 1
    with pytest.raises(RuntimeError, match="cannot read the data"):
        ember.compile(lambda x: x * s.item(), fullgraph=True)(x)
    # BatchNorm with momentum=None (a cumulative average: 1 / num_batches_tracked) runs
    # eagerly and follows its eager twin (it raised ZeroDivisionError or drifted).
    m, twin = enn.BatchNorm1d(3, momentum=None), enn.BatchNorm1d(3, momentum=None)
    cm = ember.compile(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            xx = ember.randn(5, 3)
            cm(xx)
            twin(xx)
    np.testing.assert_allclose(m.running_mean.numpy(), twin.running_mean.numpy(), rtol=1e-6)
