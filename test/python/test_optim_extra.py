"""NAdam, RAdam, Adamax and Adadelta against torch.optim (8-step trajectories with two parameter
groups, a parameter without a gradient, a state-dict round trip mid-run; compiled steps);
CosineAnnealingWarmRestarts, SequentialLR, ChainedScheduler, CyclicLR, PolynomialLR and ConstantLR
learning rates against torch.optim.lr_scheduler; ember.utils.data.WeightedRandomSampler."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.optim as optim
from ember.utils.data import WeightedRandomSampler

STEPS = 8
SHAPES = [(4, 3), (3,), (5,), (2, 2)]  # group 0: the first two; group 1: the others
NO_GRAD = 3  # this parameter never gets a gradient (skipped by step())


def _init():
    rng = np.random.default_rng(3)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


NOISE = [[np.random.default_rng(100 + 10 * i + j).standard_normal(s).astype(np.float32)
          for j, s in enumerate(SHAPES)] for i in range(STEPS)]


def _grads(params, i):
    """The same gradient in both frameworks, depending on the current parameter (so the
    trajectories feed back): noise + 0.3 * p."""
    for j, p in enumerate(params):
        if j == NO_GRAD:
            continue
        g = NOISE[i][j] + 0.3 * np.asarray(p.detach().numpy(), dtype=np.float32)
        p.grad = ember.tensor(g) if isinstance(p, ember.Tensor) else torch.tensor(g)


def _groups(params, second):
    return [{"params": params[:2]}, {"params": params[2:], **second}]


CONFIGS = [
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1)),  # rho_t > 5 from step 6 on
    ("RAdam", dict(lr=0.01, betas=(0.3, 0.6), weight_decay=0.05, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.02, betas=(0.9, 0.5), maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.9), eps=1e-4, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(lr=2.0, maximize=True)),
]
SECOND = {"NAdam": dict(lr=0.03, momentum_decay=0.1), "RAdam": dict(lr=0.05, betas=(0.6, 0.8)),
          "Adamax": dict(lr=0.02, weight_decay=0.0), "Adadelta": dict(lr=0.3, rho=0.5)}


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)])
def test_optimizer_matches_torch_with_groups_and_state_dict_round_trip(name, kw):
    init = _init()
    ep = [nn.Parameter(ember.tensor(a)) for a in init]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    eo = getattr(optim, name)(_groups(ep, SECOND[name]), **kw)
    to = getattr(torch.optim, name)(_groups(tp, SECOND[name]), **kw)
    for i in range(STEPS):
        _grads(ep, i)
        _grads(tp, i)
        eo.step()
        to.step()
        for j, (p, q) in enumerate(zip(ep, tp)):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                       atol=1e-5, err_msg=f"step {i} param {j}")
        if i == 3:  # mid-run: a fresh optimizer resumes from the state dict
            sd = eo.state_dict()
            tsd = to.state_dict()
            assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2]  # not the grad-less
            for k in sd["state"]:
                assert set(sd["state"][k]) == set(tsd["state"][k])
                assert float(sd["state"][k]["step"]) == float(tsd["state"][k]["step"]) == 4
            eo = getattr(optim, name)(_groups(ep, {}), lr=123.0)
            eo.load_state_dict(sd)
            assert eo.param_groups[1]["lr"] == SECOND[name]["lr"]
    assert ep[NO_GRAD].grad is None and np.array_equal(ep[NO_GRAD].detach().numpy(),
                                                       init[NO_GRAD])
    assert not eo.state.get(ep[NO_GRAD])


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Adadelta"])
def test_defaults_and_validation_match_torch(name):
    ep = [nn.Parameter(ember.ones(2))]
    tp = [torch.nn.Parameter(torch.ones(2))]
    eg = getattr(optim, name)(ep).param_groups[0]
    tg = getattr(torch.optim, name)(tp).param_groups[0]
    for k, v in eg.items():
        if k != "params":
            assert tg[k] == v, k
    bad = [dict(lr=-1.0), dict(eps=-1.0), dict(weight_decay=-0.1)]
    if name == "Adadelta":
        bad += [dict(rho=1.5), dict(rho=-0.1)]
    else:
        bad += [dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1))]
    if name == "NAdam":
        bad += [dict(momentum_decay=-1.0)]
    for kw in bad:
        with pytest.raises(ValueError) as te:
            getattr(torch.optim, name)(tp, **kw)
        with pytest.raises(ValueError, match="Invalid") as ee:
            getattr(optim, name)(ep, **kw)
        assert str(ee.value) == str(te.value), kw


def test_nadam_mu_product_is_a_float32_tensor_like_torch():
    ep = [nn.Parameter(ember.ones(3))]
    tp = [torch.nn.Parameter(torch.ones(3))]
    eo, to = optim.NAdam(ep, lr=0.1), torch.optim.NAdam(tp, lr=0.1)
    for _ in range(3):
        ep[0].grad = ember.ones(3)
        tp[0].grad = torch.ones(3)
        eo.step()
        to.step()
    m = eo.state[ep[0]]["mu_product"]
    assert m.dtype == ember.float32 and m.item() == to.state[tp[0]]["mu_product"].item()


COMPILED = [
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.1)),
    ("RAdam", dict(lr=0.01, maximize=True)),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,kw", COMPILED, ids=[f"{c[0]}-{i}" for i, c in enumerate(COMPILED)])
def test_compiled_training_step(name, kw):
    """ember.compile(fullgraph=True) of zero_grad/forward/backward/step: one trace, no graph
    break, the same trajectory as eager and as torch (the compiled graph computes the step's
    scalars in float32, hence the looser tolerance) and the state written back."""
    import ember.nn.functional as F
    torch.manual_seed(0)
    tm = torch.nn.Linear(6, 3)
    models, opts = [], []
    for _ in range(2):  # eager, compiled
        m = nn.Linear(6, 3)
        m.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
        models.append(m)
        opts.append(getattr(optim, name)(m.parameters(), **kw))
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)

    def make(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step

    eager, compiled = make(models[0], opts[0]), ember.compile(make(models[1], opts[1]),
                                                               fullgraph=True)
    rng = np.random.default_rng(1)
    for i in range(STEPS):
        x = rng.standard_normal((4, 6)).astype(np.float32)
        y = rng.standard_normal((4, 3)).astype(np.float32)
        le = eager(ember.tensor(x), ember.tensor(y))
        lc = compiled(ember.tensor(x), ember.tensor(y))
        topt.zero_grad()
        lt = torch.nn.functional.mse_loss(tm(torch.tensor(x)), torch.tensor(y))
        lt.backward()
        topt.step()
        np.testing.assert_allclose(lc.item(), le.item(), rtol=1e-4)
        np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-5)
    assert compiled.stats["traces"] == 1 and compiled.stats["graph_breaks"] == 0
    for pe, pc, pt in zip(models[0].parameters(), models[1].parameters(), tm.parameters()):
        np.testing.assert_allclose(pe.detach().numpy(), pt.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(pc.detach().numpy(), pt.detach().numpy(), rtol=1e-4, atol=1e-5)
        for k, v in opts[0].state[pe].items():
            np.testing.assert_allclose(np.asarray(float(opts[1].state[pc][k]) if k == "step" else
                                                  opts[1].state[pc][k].numpy()),
                                       np.asarray(float(v) if k == "step" else v.numpy()),
                                       rtol=1e-4, atol=1e-6, err_msg=k)


# LR schedulers

def _sched_pair(make_e, make_t, optimizer="SGD", groups=2, okw=None):
    okw = okw or dict(lr=0.1, momentum=0.9)
    params_e = [[nn.Parameter(ember.ones(1))] for _ in range(groups)]
    params_t = [[torch.nn.Parameter(torch.ones(1))] for _ in range(groups)]
    lrs = [0.1 * (g + 1) for g in range(groups)]
    eo = getattr(optim, optimizer)([{"params": p, "lr": lr} for p, lr in zip(params_e, lrs)],
                                   **okw)
    to = getattr(torch.optim, optimizer)([{"params": p, "lr": lr} for p, lr in zip(params_t, lrs)],
                                         **okw)
    return eo, to, make_e(eo, optim.lr_scheduler), make_t(to, torch.optim.lr_scheduler)


def _run(eo, to, es, ts, steps=30, epochs=None, momentum=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        for i in range(steps):
            eo.step()
            to.step()
            if epochs is None:
                es.step()
                ts.step()
            else:
                es.step(epochs[i])
                ts.step(epochs[i])
            assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15), i
            assert [g["lr"] for g in eo.param_groups] == pytest.approx(
                [g["lr"] for g in to.param_groups], rel=1e-12, abs=1e-15)
            if momentum is not None:
                got = [momentum(g) for g in eo.param_groups]
                want = [momentum(g) for g in to.param_groups]
                assert got == pytest.approx(want, rel=1e-12), i


@pytest.mark.parametrize("kw", [dict(T_0=5), dict(T_0=3, T_mult=2, eta_min=0.01),
                                dict(T_0=4, T_mult=3, eta_min=0.001)])
def test_cosine_annealing_warm_restarts(kw):
    name = "CosineAnnealingWarmRestarts"
    _run(*_sched_pair(lambda o, m: getattr(m, name)(o, **kw),
                      lambda o, m: getattr(m, name)(o, **kw)))


@pytest.mark.parametrize("kw", [dict(T_0=5), dict(T_0=3, T_mult=2, eta_min=0.01)])
def test_cosine_annealing_warm_restarts_fractional_epochs(kw):
    name = "CosineAnnealingWarmRestarts"
    # batches within an epoch (epoch + i / iters), then jumps and a restart from 0
    epochs = [e + b / 4 for e in range(6) for b in range(4)] + [20, 2.5, 0, 7.25, 44.75, 1]
    _run(*_sched_pair(lambda o, m: getattr(m, name)(o, **kw),
                      lambda o, m: getattr(m, name)(o, **kw)), steps=len(epochs), epochs=epochs)


def test_cosine_annealing_warm_restarts_errors():
    eo, _, _, _ = _sched_pair(lambda o, m: None, lambda o, m: None)
    C = optim.lr_scheduler.CosineAnnealingWarmRestarts
    with pytest.raises(ValueError, match="positive integer T_0"):
        C(eo, T_0=0)
    with pytest.raises(ValueError, match="T_mult >= 1"):
        C(eo, T_0=2, T_mult=0)
    s = C(eo, T_0=2)
    with pytest.raises(ValueError, match="non-negative epoch"):
        s.step(-1)


SEQUENTIAL = [
    (lambda o, m: [m.ConstantLR(o, factor=0.1, total_iters=2),
                   m.ExponentialLR(o, gamma=0.9)], [2]),
    (lambda o, m: [m.LinearLR(o, start_factor=0.2, total_iters=5),
                   m.CosineAnnealingLR(o, T_max=10, eta_min=0.001)], [5]),
    (lambda o, m: [m.LinearLR(o, start_factor=0.5, total_iters=4),
                   m.StepLR(o, step_size=3, gamma=0.5),
                   m.PolynomialLR(o, total_iters=8, power=2.0)], [4, 12]),
    (lambda o, m: [m.ConstantLR(o, factor=0.5, total_iters=3),
                   m.MultiStepLR(o, milestones=[3, 6], gamma=0.3),
                   m.ConstantLR(o, factor=0.25, total_iters=4)], [5, 15]),
]


@pytest.mark.parametrize("make,milestones", SEQUENTIAL,
                         ids=[str(i) for i in range(len(SEQUENTIAL))])
def test_sequential_lr(make, milestones):
    _run(*_sched_pair(lambda o, m: m.SequentialLR(o, make(o, m), milestones),
                      lambda o, m: m.SequentialLR(o, make(o, m), milestones)))


CHAINED = [
    lambda o, m: [m.ConstantLR(o, factor=0.1, total_iters=2), m.ExponentialLR(o, gamma=0.9)],
    lambda o, m: [m.LinearLR(o, start_factor=0.3, total_iters=6), m.StepLR(o, 4, 0.5),
                  m.CosineAnnealingLR(o, T_max=7)],
    lambda o, m: [m.PolynomialLR(o, total_iters=20, power=0.5),
                  m.CosineAnnealingWarmRestarts(o, T_0=4)],
]


@pytest.mark.parametrize("make", CHAINED, ids=[str(i) for i in range(len(CHAINED))])
def test_chained_scheduler(make):
    _run(*_sched_pair(lambda o, m: m.ChainedScheduler(make(o, m)),
                      lambda o, m: m.ChainedScheduler(make(o, m))))


def test_composite_scheduler_errors_and_state_dict():
    eo, _, _, _ = _sched_pair(lambda o, m: None, lambda o, m: None)
    other, _, _, _ = _sched_pair(lambda o, m: None, lambda o, m: None)
    S = optim.lr_scheduler
    with pytest.raises(ValueError, match="at least one scheduler"):
        S.SequentialLR(eo, [], [])
    with pytest.raises(ValueError, match="one more"):
        S.SequentialLR(eo, [S.StepLR(eo, 2), S.StepLR(eo, 3)], [1, 2])
    with pytest.raises(ValueError, match="same optimizer"):
        S.SequentialLR(eo, [S.StepLR(eo, 2), S.StepLR(other, 3)], [4])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.ChainedScheduler([S.ReduceLROnPlateau(eo)])
    with pytest.raises(ValueError, match="at least one scheduler"):
        S.ChainedScheduler([])
    seq = S.SequentialLR(eo, [S.ConstantLR(eo, factor=0.5, total_iters=2),
                              S.ExponentialLR(eo, gamma=0.9)], [3])
    for _ in range(5):
        seq.step()
    sd = seq.state_dict()
    assert len(sd["_schedulers"]) == 2 and sd["last_epoch"] == 5
    eo2, _, _, _ = _sched_pair(lambda o, m: None, lambda o, m: None)
    seq2 = S.SequentialLR(eo2, [S.ConstantLR(eo2, factor=0.5, total_iters=2),
                                S.ExponentialLR(eo2, gamma=0.9)], [3])
    seq2.load_state_dict(sd)
    assert seq2.last_epoch == 5 and seq2._schedulers[1].last_epoch == seq._schedulers[1].last_epoch


CYCLIC = [
    ("SGD", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("SGD", dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3, step_size_down=5,
                 mode="triangular2", base_momentum=0.7, max_momentum=[0.95, 0.9])),
    ("SGD", dict(base_lr=0.001, max_lr=0.05, step_size_up=5, mode="exp_range", gamma=0.95)),
    ("SGD", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, cycle_momentum=False)),
    ("SGD", dict(base_lr=0.01, max_lr=0.1, step_size_up=3,
                 scale_fn=lambda x: 0.5 ** x, scale_mode="iterations")),
    ("Adam", dict(base_lr=0.001, max_lr=0.01, step_size_up=4, base_momentum=0.8,
                  max_momentum=0.95)),
]


@pytest.mark.parametrize("opt,kw", CYCLIC, ids=[str(i) for i in range(len(CYCLIC))])
def test_cyclic_lr(opt, kw):
    okw = dict(lr=0.1, momentum=0.9) if opt == "SGD" else dict(lr=0.1)
    if opt == "SGD" and kw.get("cycle_momentum", True):
        momentum = lambda g: g["momentum"]  # noqa: E731
    elif opt == "Adam":
        momentum = lambda g: g["betas"][0]  # noqa: E731
    else:
        momentum = None
    _run(*_sched_pair(lambda o, m: m.CyclicLR(o, **kw), lambda o, m: m.CyclicLR(o, **kw),
                      optimizer=opt, okw=okw), momentum=momentum)


def test_cyclic_lr_errors_and_state_dict():
    S = optim.lr_scheduler
    eo, _, _, _ = _sched_pair(lambda o, m: None, lambda o, m: None, optimizer="SGD",
                              okw=dict(lr=0.1))
    with pytest.raises(ValueError, match="mode is invalid"):
        S.CyclicLR(eo, 0.01, 0.1, mode="sawtooth")
    with pytest.raises(ValueError, match="same length"):
        S.CyclicLR(eo, [0.01, 0.02, 0.03], 0.1)
    ad, _, _, _ = _sched_pair(lambda o, m: None, lambda o, m: None, optimizer="Adagrad",
                              okw=dict(lr=0.1))
    with pytest.raises(ValueError, match="momentum or beta1"):
        S.CyclicLR(ad, 0.01, 0.1)
    S.CyclicLR(ad, 0.01, 0.1, cycle_momentum=False)
    s = S.CyclicLR(eo, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9)
    for _ in range(4):
        s.step()
    sd = s.state_dict()
    assert "_scale_fn_ref" not in sd and sd["_scale_fn_custom"] is None
    s2 = S.CyclicLR(eo, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9)
    s2.load_state_dict(sd)
    s.step()
    s2.step()
    assert s2.get_last_lr() == s.get_last_lr() and s2.last_epoch == 5


@pytest.mark.parametrize("name,kw", [
    ("PolynomialLR", dict(total_iters=10)),
    ("PolynomialLR", dict(total_iters=7, power=2.0)),
    ("PolynomialLR", dict(total_iters=25, power=0.5)),
    ("ConstantLR", dict(factor=0.25, total_iters=6)),
    ("ConstantLR", dict()),
])
def test_polynomial_and_constant_lr(name, kw):
    _run(*_sched_pair(lambda o, m: getattr(m, name)(o, **kw),
                      lambda o, m: getattr(m, name)(o, **kw)))
    # step(epoch): the closed forms
    epochs = [3, 0, 9, 30, 5, 1]
    _run(*_sched_pair(lambda o, m: getattr(m, name)(o, **kw),
                      lambda o, m: getattr(m, name)(o, **kw)), steps=len(epochs), epochs=epochs)


@pytest.mark.parametrize("name,kw", [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 7, 7], gamma=0.5)),
    ("LinearLR", dict(start_factor=0.25, total_iters=6)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=9, eta_min=0.01)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1 / (1 + e))),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=31)),
])
def test_other_schedulers_still_match_torch(name, kw):
    """The base class's step now goes through _initial_step/_update_lr (as torch's does)."""
    _run(*_sched_pair(lambda o, m: getattr(m, name)(o, **kw),
                      lambda o, m: getattr(m, name)(o, **kw)))


# WeightedRandomSampler

def test_weighted_random_sampler():
    weights = [0.0, 1.0, 6.0, 0.0, 2.0, 1.0]
    g = ember.Generator().manual_seed(5)
    s = WeightedRandomSampler(weights, 20000, generator=g)
    assert len(s) == 20000 and s.replacement
    drawn = list(s)
    assert len(drawn) == 20000 and all(isinstance(i, int) for i in drawn)
    counts = np.bincount(drawn, minlength=len(weights))
    assert len(counts) == len(weights)  # indices in range
    assert counts[0] == 0 and counts[3] == 0  # zero weight: never drawn
    assert abs(counts[2] / 20000 - 0.6) < 0.05
    assert abs(counts[4] / 20000 - 0.2) < 0.05
    # the same seed draws the same indices; the stream goes on between epochs
    assert list(WeightedRandomSampler(weights, 50, generator=ember.Generator().manual_seed(5))) \
        == drawn[:50]
    # without replacement: distinct indices, zero weights never drawn
    for seed in range(20):
        s = WeightedRandomSampler(weights, 4, replacement=False,
                                  generator=ember.Generator().manual_seed(seed))
        d = list(s)
        assert len(d) == 4 and len(set(d)) == 4 and set(d) <= {1, 2, 4, 5}
    d = list(WeightedRandomSampler(ember.tensor([3.0, 1.0, 2.0]), 3, replacement=False))
    assert sorted(d) == [0, 1, 2]
    # without a generator: ember's global RNG seeds it
    ember.manual_seed(0)
    a = list(WeightedRandomSampler(weights, 30))
    ember.manual_seed(0)
    assert list(WeightedRandomSampler(weights, 30)) == a


def test_weighted_random_sampler_errors_and_data_loader():
    for n in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            WeightedRandomSampler([1.0, 2.0], n)
    with pytest.raises(ValueError, match="replacement should be a boolean"):
        WeightedRandomSampler([1.0, 2.0], 2, replacement=1)
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    s = WeightedRandomSampler([1.0, 2.0], 2)
    assert s.weights.dtype == ember.float64 and s.weights.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError):
        list(WeightedRandomSampler([1.0, 0.0, 0.0], 2, replacement=False))
    with pytest.raises(RuntimeError):
        list(WeightedRandomSampler([1.0, 1.0], 3, replacement=False))
    with pytest.raises(RuntimeError):
        list(WeightedRandomSampler([1.0, -1.0], 3))
    from ember.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(ember.arange(10).float())
    sampler = WeightedRandomSampler([0.0] * 5 + [1.0] * 5, 12,
                                    generator=ember.Generator().manual_seed(1))
    dl = DataLoader(ds, batch_size=4, sampler=sampler)
    batches = [b[0].tolist() for b in dl]
    assert [len(b) for b in batches] == [4, 4, 4]
    assert all(x >= 5 for b in batches for x in b)
