"""ember.optim against torch.optim: 20-step trajectories of every optimizer and option, parameter
groups, state dicts (resume equals an uninterrupted run), and every LR scheduler's learning
rates over 20 steps."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.optim as optim

RNG = np.random.default_rng(11)
STEPS = 20


def models():
    """The same small MLP in both frameworks."""
    tm = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    em = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return em, tm


DATA = [(RNG.standard_normal((8, 4)).astype(np.float32),
         RNG.standard_normal((8, 3)).astype(np.float32)) for _ in range(STEPS)]


def step_both(em, tm, eo, to, i):
    x, y = DATA[i % len(DATA)]
    eo.zero_grad()
    to.zero_grad()
    el = ((em(ember.tensor(x)) - ember.tensor(y)) ** 2).mean()
    tl = ((tm(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
    el.backward()
    tl.backward()
    eo.step()
    to.step()
    return el.item(), tl.item()


def assert_same_params(em, tm, tol):
    for (n, p), (_, q) in zip(em.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=tol, atol=tol,
                                   err_msg=n)
        assert p.is_leaf and p.requires_grad and isinstance(p, nn.Parameter)


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005, centered=True, alpha=0.9)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.05, eps=1e-6, maximize=True)),
]


@pytest.mark.parametrize("fused", [None, False], ids=["fused", "ops"])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)])
def test_optimizer_trajectory_matches_torch(name, kw, fused):
    em, tm = models()
    eo = getattr(optim, name)(em.parameters(), fused=fused, **kw)
    to = getattr(torch.optim, name)(tm.parameters(), **kw)
    for i in range(STEPS):
        el, tl = step_both(em, tm, eo, to, i)
        assert el == pytest.approx(tl, rel=1e-4, abs=1e-6), i
        assert_same_params(em, tm, 2e-5 * (1 + i))


@pytest.mark.parametrize("name,kw,kernel", [("SGD", dict(lr=0.1, momentum=0.9), "sgd"),
                                            ("SGD", dict(lr=0.1), "sgd"),
                                            ("Adam", dict(lr=0.01), "adam"),
                                            ("AdamW", dict(lr=0.01, amsgrad=True), "adam"),
                                            ("RMSprop", dict(lr=0.01, centered=True), "rmsprop"),
                                            ("Adagrad", dict(lr=0.1), "adagrad")])
def test_fused_update_is_used_on_cpu_and_not_otherwise(name, kw, kernel, monkeypatch):
    calls = []
    real = getattr(ember._C._optim, kernel)
    monkeypatch.setattr(ember._C._optim, kernel, lambda *a: calls.append(1) or real(*a))
    em, _ = models()
    o = getattr(optim, name)(em.parameters(), **kw)
    em(ember.randn(2, 4)).sum().backward()
    o.step()
    assert len(calls) == 4  # one pass per parameter
    o2 = getattr(optim, name)(em.parameters(), fused=False, **kw)
    o2.step()
    assert len(calls) == 4
    # A non-contiguous parameter takes the ops path (and still updates).
    w = nn.Parameter(ember.randn(4, 3)).t()
    w = nn.Parameter(w)
    assert not w.is_contiguous()
    w.grad = ember.ones(3, 4)
    before = w.detach().clone()
    o3 = getattr(optim, name)([w], **kw)
    o3.step()
    assert len(calls) == 4 and not np.allclose(w.detach().numpy(), before.numpy())


def test_param_groups_and_missing_grads():
    em, tm = models()
    eo = optim.SGD([{"params": em[0].parameters()},
                    {"params": em[2].parameters(), "lr": 0.01, "momentum": 0.5}], lr=0.1)
    to = torch.optim.SGD([{"params": tm[0].parameters()},
                          {"params": tm[2].parameters(), "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert eo.param_groups[1]["lr"] == 0.01 and eo.param_groups[0]["momentum"] == 0
    for i in range(5):
        step_both(em, tm, eo, to, i)
    assert_same_params(em, tm, 1e-5)
    # A parameter without a gradient is left alone.
    extra = nn.Parameter(ember.ones(2))
    eo.add_param_group({"params": [extra], "lr": 1.0})
    eo.step()
    assert extra.tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="more than one parameter group"):
        eo.add_param_group({"params": [extra]})


def test_optimizer_errors():
    p = nn.Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(TypeError):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="duplicate"):
        optim.SGD([p, p], lr=0.1)


def test_zero_grad_and_closure():
    em, _ = models()
    o = optim.SGD(em.parameters(), lr=0.1)
    x = ember.randn(3, 4)

    def closure():
        o.zero_grad()
        loss = em(x).pow(2).sum()
        loss.backward()
        return loss
    l1 = o.step(closure).item()
    l2 = o.step(closure).item()
    assert l2 < l1
    o.zero_grad(set_to_none=False)
    assert all(p.grad.abs().sum().item() == 0 for p in em.parameters())
    o.zero_grad()
    assert all(p.grad is None for p in em.parameters())


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                     ("Adagrad", dict(lr=0.1))])
def test_state_dict_resume_equals_uninterrupted(name, kw, tmp_path):
    em, tm = models()
    eo = getattr(optim, name)(em.parameters(), **kw)
    to = getattr(torch.optim, name)(tm.parameters(), **kw)
    for i in range(5):
        step_both(em, tm, eo, to, i)
    # Save model and optimizer through ember.save, restore into fresh objects.
    ember.save({"model": em.state_dict(), "optim": eo.state_dict()}, tmp_path / "ckpt.safetensors")
    ck = ember.load(tmp_path / "ckpt.safetensors")
    em2, _ = models()
    em2.load_state_dict(ck["model"])
    eo2 = getattr(optim, name)(em2.parameters(), **kw)
    eo2.load_state_dict(ck["optim"])
    sd = eo2.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert set(sd["state"]) == {0, 1, 2, 3}
    for i in range(5, 10):
        step_both(em2, tm, eo2, to, i)
    assert_same_params(em2, tm, 1e-4)
    bad = eo.state_dict()
    bad["param_groups"] = bad["param_groups"] * 2
    with pytest.raises(ValueError, match="number of parameter groups"):
        eo2.load_state_dict(bad)


# ---------------------------------------------------------------------------------------------
# LR schedulers

def sched_pair(make_e, make_t, opt="SGD", okw=None, groups=False):
    okw = okw or dict(lr=0.1, momentum=0.9)
    ep = [nn.Parameter(ember.ones(2)), nn.Parameter(ember.ones(2))]
    tp = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))]
    if groups:
        eo = getattr(optim, opt)([{"params": [ep[0]]}, {"params": [ep[1]], "lr": 0.03}], **okw)
        to = getattr(torch.optim, opt)([{"params": [tp[0]]}, {"params": [tp[1]], "lr": 0.03}],
                                       **okw)
    else:
        eo, to = getattr(optim, opt)(ep, **okw), getattr(torch.optim, opt)(tp, **okw)
    return eo, to, make_e(eo), make_t(to)


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("CosineAnnealingLR", dict(T_max=20)),
    ("LinearLR", dict(start_factor=0.25, end_factor=1.0, total_iters=8)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=30)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1 + e))),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95)),
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("PolynomialLR", dict(total_iters=10, power=2.0)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=21)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], total_steps=25, anneal_strategy="linear",
                        three_phase=True, pct_start=0.4)),
]


@pytest.mark.parametrize("groups", [False, True])
@pytest.mark.parametrize("name,kw", SCHEDULERS, ids=[f"{c[0]}-{i}" for i, c in
                                                     enumerate(SCHEDULERS)])
def test_scheduler_matches_torch(name, kw, groups):
    if isinstance(kw.get("max_lr"), list) and not groups:
        kw = dict(kw, max_lr=kw["max_lr"][0])
    eo, to, es, ts = sched_pair(lambda o: getattr(optim.lr_scheduler, name)(o, **kw),
                                lambda o: getattr(torch.optim.lr_scheduler, name)(o, **kw),
                                groups=groups)
    assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    for _ in range(STEPS):
        eo.step(), to.step()
        es.step(), ts.step()
        assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-10, abs=1e-15)
        for eg, tg in zip(eo.param_groups, to.param_groups):
            assert eg["lr"] == pytest.approx(tg["lr"], rel=1e-10, abs=1e-15)
            assert eg["momentum"] == pytest.approx(tg["momentum"], rel=1e-10)


def test_onecycle_cycles_adam_betas():
    eo, to, es, ts = sched_pair(lambda o: optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=10),
                                lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.1,
                                                                              total_steps=10),
                                opt="Adam", okw=dict(lr=0.01))
    for _ in range(9):
        eo.step(), to.step(), es.step(), ts.step()
        assert eo.param_groups[0]["betas"] == pytest.approx(to.param_groups[0]["betas"])
        assert es.get_last_lr() == pytest.approx(ts.get_last_lr())
    eo.step(), es.step()
    with pytest.raises(ValueError, match="Tried to step"):
        es.step()


def test_scheduler_drives_training_like_torch():
    em, tm = models()
    eo = optim.SGD(em.parameters(), lr=0.2, momentum=0.9)
    to = torch.optim.SGD(tm.parameters(), lr=0.2, momentum=0.9)
    es = optim.lr_scheduler.StepLR(eo, 4, 0.5)
    ts = torch.optim.lr_scheduler.StepLR(to, 4, 0.5)
    for i in range(STEPS):
        step_both(em, tm, eo, to, i)
        es.step(), ts.step()
    assert_same_params(em, tm, 1e-4)
    sd = es.state_dict()
    es2 = optim.lr_scheduler.StepLR(optim.SGD(em.parameters(), lr=0.2), 4, 0.5)
    es2.load_state_dict(sd)
    assert es2.last_epoch == STEPS and es2.get_last_lr() == es.get_last_lr()


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", factor=0.5, patience=2, cooldown=1),
                                dict(threshold_mode="abs", threshold=0.1, patience=1,
                                     min_lr=0.02)])
def test_reduce_lr_on_plateau(kw):
    eo, to, es, ts = sched_pair(lambda o: optim.lr_scheduler.ReduceLROnPlateau(o, **kw),
                                lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kw))
    metrics = [1.0, 0.9, 0.95, 0.95, 0.89, 0.95, 0.96, 0.97, 0.97, 0.8, 0.8, 0.8, 0.8, 0.85,
               0.9, 0.92, 0.93, 0.7, 0.7, 0.7] * 2
    for m in metrics:
        es.step(m), ts.step(m)
        assert es.get_last_lr() == pytest.approx(ts.get_last_lr())
        assert es.num_bad_epochs == ts.num_bad_epochs
    with pytest.raises(ValueError, match="Factor"):
        optim.lr_scheduler.ReduceLROnPlateau(eo, factor=1.5)


@pytest.mark.gpu
@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9)),
                                     ("Adam", dict(lr=0.01, amsgrad=True))])
def test_training_on_cuda_matches_cpu(name, kw):
    """Module.cuda() moves parameters as leaves; the optimizer's state follows them."""
    cpu, _ = models()
    gpu = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    gpu.load_state_dict(cpu.state_dict())
    gpu.cuda()
    assert all(p.is_cuda and p.is_leaf and p.requires_grad for p in gpu.parameters())
    oc = getattr(optim, name)(cpu.parameters(), **kw)
    og = getattr(optim, name)(gpu.parameters(), **kw)
    for i in range(5):
        x, y = DATA[i]
        for m, o, dev in [(cpu, oc, "cpu"), (gpu, og, "cuda")]:
            o.zero_grad()
            loss = ((m(ember.tensor(x).to(dev)) - ember.tensor(y).to(dev)) ** 2).mean()
            loss.backward()
            o.step()
    for (n, p), (_, q) in zip(cpu.named_parameters(), gpu.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().cpu().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=n)
    gpu.cpu()
    assert not any(p.is_cuda for p in gpu.parameters())


def test_fused_kernels_reject_bad_state():
    p, g = ember.ones(4), ember.ones(4)
    with pytest.raises(ValueError, match=r"ember\.optim\.SGD: every state tensor"):
        ember._C._optim.sgd(p, g, ember.zeros(3), 0.1, 0.9, 0.0, 0.0, False, False, True)
    with pytest.raises(ValueError, match="momentum needs a momentum buffer"):
        ember._C._optim.sgd(p, g, None, 0.1, 0.9, 0.0, 0.0, False, False, True)
    with pytest.raises(TypeError, match="float32 and float64"):
        h = ember.ones(4, dtype=ember.float16)
        ember._C._optim.adagrad(h, h, h, 0.1, 0.0, 1e-10, False)
    with pytest.raises(ValueError, match=r"ember\.optim\.Adam: every state tensor"):
        ember._C._optim.adam(p, g, ember.zeros(4, dtype=ember.float64), ember.zeros(4), None,
                             0.1, 0.9, 0.99, 1e-8, 0.0, False, False, False, 1)
    with pytest.raises(ValueError, match="missing state"):
        ember._C._optim.rmsprop(p, g, ember.zeros(4), None, None, 0.1, 0.99, 1e-8, 0.0, 0.0,
                                True, False)
    # float16 parameters use the ops path and still match torch's math.
    w = nn.Parameter(ember.ones(3, dtype=ember.float16))
    w.grad = ember.full((3,), 0.5, dtype=ember.float16)
    optim.SGD([w], lr=0.5).step()
    assert w.tolist() == [0.75, 0.75, 0.75]


def test_adagrad_state_for_a_group_added_later():
    # add_param_group's parameters had no accumulator: step() raised KeyError: 'step'.
    a, b = nn.Parameter(ember.ones(2)), nn.Parameter(ember.ones(2))
    opt = optim.Adagrad([a], lr=0.1)
    opt.add_param_group({"params": [b]})
    a.grad, b.grad = ember.ones(2), ember.ones(2)
    opt.step()
    ta, tb = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    topt = torch.optim.Adagrad([ta], lr=0.1)
    topt.add_param_group({"params": [tb]})
    ta.grad, tb.grad = torch.ones(2), torch.ones(2)
    topt.step()
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.detach().numpy(), ta.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("make_lr", [lambda: np.float32(0.01), lambda: ember.tensor(0.01)])
@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adagrad", "SGD", "RMSprop"])
def test_numpy_scalars_and_one_element_tensors_as_hyper_parameters(name, make_lr):
    # Adam/AdamW/Adagrad dropped numbers that are not Python ints/floats (KeyError: 'lr').
    p = nn.Parameter(ember.tensor([1.0, 2.0, 3.0]))
    opt = getattr(optim, name)([p], lr=make_lr(), weight_decay=np.float32(0.1))
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
    topt = getattr(torch.optim, name)([tp], lr=0.01, weight_decay=0.1)
    for _ in range(2):
        p.grad, tp.grad = ember.ones(3), torch.ones(3)
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-5)
