"""The margin, embedding and likelihood losses composed in Python (margin_ranking_loss,
hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss, cosine_embedding_loss,
triplet_margin_loss, triplet_margin_with_distance_loss, poisson_nll_loss, gaussian_nll_loss,
multi_margin_loss, multilabel_margin_loss) and their modules, against PyTorch: values and
input gradients for every reduction, the legacy size_average/reduce arguments, the errors bad
arguments raise, and ember.compile against eager."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F

REDUCTIONS = ["none", "mean", "sum"]
TOL = 2e-5


def _rng(seed):
    return np.random.default_rng(seed)


def normal(shape, seed, scale=1.0):
    return (_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def signs(shape, seed):
    return np.where(_rng(seed).random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


def positive(shape, seed):
    return (_rng(seed).random(shape) + 0.1).astype(np.float32)


def counts(shape, seed):
    return _rng(seed).poisson(2.0, shape).astype(np.float32)  # 0s, 1s and > 1s


def bits(shape, seed):
    return (_rng(seed).random(shape) < 0.5).astype(np.float32)


def classes(n, c, seed):
    return _rng(seed).integers(0, c, n).astype(np.int64)


def multilabel(shape, seed):
    """Class indices per row, the first -1 ending each row's list (so rows of no class too)."""
    r = _rng(seed)
    t = r.integers(0, shape[-1], shape).astype(np.int64)
    flat = t.reshape(-1, shape[-1])
    for i, row in enumerate(flat):
        k = r.integers(0, shape[-1] + 1)
        if k < shape[-1]:
            row[k] = -1
    return t


# (function, arrays, which arrays get gradients, keyword arguments): each case runs at every
# reduction. Targets in {-1, 1}, batches of 1, 1-D inputs, and broadcasting where torch allows it.
CASES = [
    ("margin_ranking_loss", [normal(6, 1), normal(6, 2), signs(6, 3)], [0, 1], {}),
    ("margin_ranking_loss", [normal(6, 1), normal(6, 2), signs(6, 3)], [0, 1], {"margin": 0.5}),
    ("margin_ranking_loss", [normal(1, 1), normal(1, 2), signs(1, 3)], [0, 1], {"margin": 0.2}),
    ("margin_ranking_loss", [normal((3, 1), 1), normal((1, 4), 2), signs((3, 4), 3)], [0, 1],
     {"margin": 0.1}),
    ("hinge_embedding_loss", [normal((4, 5), 4, 2.0), signs((4, 5), 5)], [0], {}),
    ("hinge_embedding_loss", [normal((4, 5), 4, 2.0), signs((4, 5), 5)], [0], {"margin": 2.0}),
    ("hinge_embedding_loss", [normal(1, 4), signs(1, 5)], [0], {}),
    ("hinge_embedding_loss", [normal((3, 1), 4), signs((1, 4), 5)], [0], {"margin": 0.5}),
    ("soft_margin_loss", [normal((4, 5), 6, 3.0), signs((4, 5), 7)], [0], {}),
    ("soft_margin_loss", [normal(1, 6), signs(1, 7)], [0], {}),
    ("soft_margin_loss", [normal((3, 4), 6), signs((1, 4), 7)], [0], {}),
    ("multilabel_soft_margin_loss", [normal((4, 5), 8, 2.0), bits((4, 5), 9)], [0], {}),
    ("multilabel_soft_margin_loss", [normal((4, 5), 8), bits((4, 5), 9), positive(5, 10)], [0],
     {"weight": 2}),
    ("multilabel_soft_margin_loss", [normal((1, 5), 8), bits((1, 5), 9)], [0], {}),
    ("multilabel_soft_margin_loss", [normal(5, 8), bits(5, 9)], [0], {}),
    ("multilabel_soft_margin_loss", [normal((2, 3, 4), 8), bits((2, 3, 4), 9)], [0], {}),
    ("cosine_embedding_loss", [normal((6, 5), 11), normal((6, 5), 12), signs(6, 13)], [0, 1], {}),
    ("cosine_embedding_loss", [normal((6, 5), 11), normal((6, 5), 12), signs(6, 13)], [0, 1],
     {"margin": -0.3}),
    ("cosine_embedding_loss", [normal((1, 5), 11), normal((1, 5), 12), signs(1, 13)], [0, 1],
     {"margin": 0.2}),
    ("cosine_embedding_loss", [normal(5, 11), normal(5, 12), np.float32(-1.0)], [0, 1],
     {"margin": -0.5}),
    ("cosine_embedding_loss", [normal((6, 5), 11), normal((1, 5), 12), signs(6, 13)], [0, 1],
     {"margin": -0.2}),
    ("triplet_margin_loss", [normal((6, 5), 14), normal((6, 5), 15), normal((6, 5), 16)],
     [0, 1, 2], {}),
    ("triplet_margin_loss", [normal((6, 5), 14), normal((6, 5), 15), normal((6, 5), 16)],
     [0, 1, 2], {"margin": 2.0, "p": 1, "swap": True}),
    ("triplet_margin_loss", [normal((6, 5), 14), normal((6, 5), 15), normal((6, 5), 16)],
     [0, 1, 2], {"p": 3.0, "eps": 1e-3, "swap": True}),
    ("triplet_margin_loss", [normal((1, 5), 14), normal((1, 5), 15), normal((1, 5), 16)],
     [0, 1, 2], {"margin": 3.0}),
    ("triplet_margin_loss", [normal(5, 14), normal(5, 15), normal(5, 16)], [0, 1, 2],
     {"margin": 3.0}),
    ("triplet_margin_loss", [normal((6, 5), 14), normal((1, 5), 15), normal((1, 5), 16)],
     [0, 1, 2], {"margin": 1.5}),
    ("triplet_margin_with_distance_loss", [normal((6, 5), 14), normal((6, 5), 15),
                                           normal((6, 5), 16)], [0, 1, 2], {"swap": True}),
    ("poisson_nll_loss", [normal((4, 5), 17), counts((4, 5), 18)], [0], {}),
    ("poisson_nll_loss", [normal((4, 5), 17), counts((4, 5), 18)], [0], {"full": True}),
    ("poisson_nll_loss", [positive((4, 5), 17), counts((4, 5), 18)], [0],
     {"log_input": False, "full": True}),
    ("poisson_nll_loss", [positive((4, 5), 17), counts((4, 5), 18)], [0],
     {"log_input": False, "eps": 1e-2}),
    ("poisson_nll_loss", [normal(1, 17), counts(1, 18)], [0], {}),
    ("poisson_nll_loss", [normal((3, 1), 17), counts((1, 4), 18)], [0], {"full": True}),
    ("gaussian_nll_loss", [normal((4, 5), 19), normal((4, 5), 20), positive((4, 5), 21)],
     [0, 1, 2], {}),
    ("gaussian_nll_loss", [normal((4, 5), 19), normal((4, 5), 20), positive((4, 5), 21)],
     [0, 1, 2], {"full": True, "eps": 0.3}),  # some variances clamped
    ("gaussian_nll_loss", [normal((4, 5), 19), normal((4, 5), 20), positive(4, 21)],
     [0, 1, 2], {}),  # one dim short: a variance per row
    ("gaussian_nll_loss", [normal((4, 5), 19), normal((4, 5), 20), positive((4, 1), 21)],
     [0, 1, 2], {}),
    ("gaussian_nll_loss", [normal((4, 5), 19), normal((4, 5), 20), positive((1, 5), 21)],
     [0, 1, 2], {"full": True}),
    ("gaussian_nll_loss", [normal((1, 5), 19), normal((1, 5), 20), positive(1, 21)],
     [0, 1, 2], {}),
    ("gaussian_nll_loss", [normal((4, 5), 19), normal((1, 5), 20), positive((4, 5), 21)],
     [0, 1, 2], {}),  # target broadcast
    ("multi_margin_loss", [normal((6, 5), 22), classes(6, 5, 23)], [0], {}),
    ("multi_margin_loss", [normal((6, 5), 22), classes(6, 5, 23)], [0], {"p": 2, "margin": 0.5}),
    ("multi_margin_loss", [normal((6, 5), 22), classes(6, 5, 23), positive(5, 24)], [0],
     {"weight": 2, "margin": 1.5}),
    ("multi_margin_loss", [normal((6, 5), 22), classes(6, 5, 23), positive(5, 24)], [0],
     {"weight": 2, "p": 2}),
    ("multi_margin_loss", [normal((1, 5), 22), classes(1, 5, 23)], [0], {}),
    ("multi_margin_loss", [normal(5, 22), np.int64(3)], [0], {"p": 2}),
    ("multilabel_margin_loss", [normal((6, 5), 25), multilabel((6, 5), 26)], [0], {}),
    ("multilabel_margin_loss", [normal((1, 5), 25), multilabel((1, 5), 27)], [0], {}),
    ("multilabel_margin_loss", [normal(5, 25), np.array([3, 0, 3, -1, 4])], [0], {}),
]


def _ids():
    return [f"{i}-{c[0]}" for i, c in enumerate(CASES)]


def _tensors(arrays, grads):
    es, ts = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        g = i in grads
        es.append(ember.tensor(a, requires_grad=g))
        ts.append(torch.tensor(a, requires_grad=g))
    return es, ts


def _call(module, name, tensors, kwargs):
    kw = dict(kwargs)
    if "weight" in kw:  # the index of the array that is the weight
        kw["weight"] = tensors[kw["weight"]]
        tensors = tensors[:-1]
    return getattr(module, name)(*tensors, **kw)


def _compare(eo, to, es, ts, grads, seed=0):
    assert tuple(eo.shape) == tuple(to.shape), (eo.shape, to.shape)
    assert str(eo.dtype).split(".")[-1] == str(to.dtype).split(".")[-1], (eo.dtype, to.dtype)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=TOL, atol=TOL)
    if eo.dim() == 0:
        eo.backward()
        to.backward()
    else:  # a random-weighted sum of the unreduced losses
        w = normal(tuple(to.shape), seed + 100)
        (eo * ember.tensor(w)).sum().backward()
        (to * torch.tensor(w)).sum().backward()
    for i in grads:
        np.testing.assert_allclose(es[i].grad.numpy(), ts[i].grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_functional_matches_torch(case, reduction):
    name, arrays, grads, kwargs = case
    es, ts = _tensors(arrays, grads)
    eo = _call(F, name, es, dict(kwargs, reduction=reduction))
    to = _call(TF, name, ts, dict(kwargs, reduction=reduction))
    _compare(eo, to, es, ts, grads)


@pytest.mark.parametrize("legacy", [dict(size_average=False), dict(reduce=False),
                                    dict(size_average=True, reduce=True)])
@pytest.mark.parametrize("name", ["margin_ranking_loss", "hinge_embedding_loss",
                                  "soft_margin_loss", "multilabel_soft_margin_loss",
                                  "cosine_embedding_loss", "triplet_margin_loss",
                                  "poisson_nll_loss", "multi_margin_loss",
                                  "multilabel_margin_loss"])
def test_legacy_size_average_and_reduce(name, legacy):
    case = next(c for c in CASES if c[0] == name)
    _, arrays, grads, kwargs = case
    es, ts = _tensors(arrays, grads)
    with pytest.warns(UserWarning):  # torch's deprecation warning; ember stays quiet
        to = _call(TF, name, ts, dict(kwargs, **legacy))
    _compare(_call(F, name, es, dict(kwargs, **legacy)), to, es, ts, grads)


def test_triplet_with_a_custom_distance():
    arrays = [normal((6, 5), 30), normal((6, 5), 31), normal((6, 5), 32)]
    es, ts = _tensors(arrays, [0, 1, 2])

    def dist(M):
        return lambda a, b: 1.0 - M.cosine_similarity(a, b)

    eo = F.triplet_margin_with_distance_loss(*es, distance_function=dist(F), margin=0.5)
    to = TF.triplet_margin_with_distance_loss(*ts, distance_function=dist(TF), margin=0.5)
    _compare(eo, to, es, ts, [0, 1, 2])


def test_float_variance_and_float64():
    x, t = normal((4, 5), 33).astype(np.float64), normal((4, 5), 34).astype(np.float64)
    es, ts = _tensors([x, t], [0])
    _compare(F.gaussian_nll_loss(es[0], es[1], 0.7), TF.gaussian_nll_loss(ts[0], ts[1], 0.7),
             es, ts, [0])
    es, ts = _tensors([x, signs((4, 5), 35).astype(np.float64)], [0])
    _compare(F.soft_margin_loss(*es), TF.soft_margin_loss(*ts), es, ts, [0])


def test_integer_targets_in_minus_one_one():
    a, b = normal((6, 5), 36), normal((6, 5), 37)
    t = signs(6, 38).astype(np.int64)
    es, ts = _tensors([a, b, t], [0, 1])
    _compare(F.cosine_embedding_loss(*es, margin=0.1), TF.cosine_embedding_loss(*ts, margin=0.1),
             es, ts, [0, 1])
    es, ts = _tensors([a, signs((6, 5), 39).astype(np.int64)], [0])
    _compare(F.hinge_embedding_loss(*es, reduction="sum"),
             TF.hinge_embedding_loss(*ts, reduction="sum"), es, ts, [0])


def test_soft_margin_and_poisson_are_stable_for_large_inputs():
    x = np.array([-80.0, -30.0, 0.0, 30.0, 80.0], np.float32)
    es, ts = _tensors([x, np.array([1, -1, 1, 1, -1], np.float32)], [0])
    _compare(F.soft_margin_loss(*es, reduction="none"), TF.soft_margin_loss(*ts, reduction="none"),
             es, ts, [0])
    es, ts = _tensors([positive(4, 40), np.array([0.0, 1.0, 0.5, 7.0], np.float32)], [0])
    eo = F.poisson_nll_loss(*es, log_input=False, full=True, reduction="none")
    assert np.isfinite(eo.detach().numpy()).all()
    _compare(eo, TF.poisson_nll_loss(*ts, log_input=False, full=True, reduction="none"),
             es, ts, [0])


# Modules against torch's modules: (class name, constructor kwargs, case index into CASES).
MODULES = [
    ("MarginRankingLoss", {"margin": 0.5}, 1),
    ("HingeEmbeddingLoss", {"margin": 2.0, "reduction": "sum"}, 5),
    ("SoftMarginLoss", {"reduction": "none"}, 8),
    ("MultiLabelSoftMarginLoss", {"weight": 2}, 12),
    ("CosineEmbeddingLoss", {"margin": -0.3, "reduction": "none"}, 17),
    ("TripletMarginLoss", {"margin": 2.0, "p": 1, "swap": True}, 22),
    ("TripletMarginLoss", {"p": 3.0, "eps": 1e-3, "swap": True, "reduce": False}, 23),
    ("TripletMarginWithDistanceLoss", {"swap": True, "margin": 0.7}, 27),
    ("PoissonNLLLoss", {"log_input": False, "full": True, "reduction": "sum"}, 30),
    ("PoissonNLLLoss", {"size_average": False}, 28),
    ("GaussianNLLLoss", {"full": True, "eps": 0.3}, 35),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, 42),
    ("MultiMarginLoss", {"weight": 2, "reduction": "none"}, 43),
    ("MultiLabelMarginLoss", {}, 47),
    ("MultiLabelMarginLoss", {"reduction": "none"}, 48),
]


@pytest.mark.parametrize("spec", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_modules_match_torch(spec):
    cls, kwargs, index = spec
    name, arrays, grads, _ = CASES[index]
    es, ts = _tensors(arrays, grads)
    kwargs = dict(kwargs)
    if "weight" in kwargs:
        ekw, tkw = dict(kwargs, weight=es[-1]), dict(kwargs, weight=ts[-1])
        es_in, ts_in = es[:-1], ts[:-1]
    else:
        ekw, tkw, es_in, ts_in = kwargs, kwargs, es, ts
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's size_average/reduce deprecation warning
        tm = getattr(tnn, cls)(**tkw)
    em = getattr(nn, cls)(**ekw)
    assert isinstance(em, nn.Module)
    assert em.reduction == tm.reduction
    for attr in ("margin", "p", "eps", "swap", "full", "log_input"):
        if hasattr(tm, attr):
            assert getattr(em, attr) == getattr(tm, attr), attr
    if "weight" in kwargs:
        np.testing.assert_array_equal(em.weight.numpy(), tm.weight.numpy())
    assert repr(em) == repr(tm)
    _compare(em(*es_in), tm(*ts_in), es, ts, grads)


def test_module_defaults_match_torch():
    for cls in ("MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
                "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
                "TripletMarginWithDistanceLoss", "PoissonNLLLoss", "GaussianNLLLoss",
                "MultiMarginLoss", "MultiLabelMarginLoss"):
        em, tm = getattr(nn, cls)(), getattr(tnn, cls)()
        for attr in ("reduction", "margin", "p", "eps", "swap", "full", "log_input"):
            assert hasattr(em, attr) == hasattr(tm, attr), (cls, attr)
            if hasattr(tm, attr):
                assert getattr(em, attr) == getattr(tm, attr), (cls, attr)
        assert getattr(em, "weight", None) is None


def test_bad_reduction_names_the_function():
    x, s = ember.tensor(normal(4, 41)), ember.tensor(signs(4, 42))
    calls = {
        "margin_ranking_loss": lambda r: F.margin_ranking_loss(x, x, s, reduction=r),
        "hinge_embedding_loss": lambda r: F.hinge_embedding_loss(x, s, reduction=r),
        "soft_margin_loss": lambda r: F.soft_margin_loss(x, s, reduction=r),
        "multilabel_soft_margin_loss": lambda r: F.multilabel_soft_margin_loss(x, s, reduction=r),
        "cosine_embedding_loss": lambda r: F.cosine_embedding_loss(x, x, s[0], reduction=r),
        "triplet_margin_loss": lambda r: F.triplet_margin_loss(x, x, x, reduction=r),
        "triplet_margin_with_distance_loss":
            lambda r: F.triplet_margin_with_distance_loss(x, x, x, reduction=r),
        "poisson_nll_loss": lambda r: F.poisson_nll_loss(x, s, reduction=r),
        "gaussian_nll_loss": lambda r: F.gaussian_nll_loss(x, s, 1.0, reduction=r),
        "multi_margin_loss": lambda r: F.multi_margin_loss(x, ember.tensor(1), reduction=r),
        "multilabel_margin_loss":
            lambda r: F.multilabel_margin_loss(x, ember.tensor([0, -1, 0, 0]), reduction=r),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=f"{name}.*'avg' is not a valid value for reduction"):
            call("avg")
    with pytest.raises(ValueError, match="SoftMarginLoss|soft_margin_loss"):
        nn.SoftMarginLoss(reduction="avg")(x, s)


def test_bad_arguments_raise_like_torch():
    a, b = ember.tensor(normal((3, 4), 43)), ember.tensor(normal((3, 4), 44))
    with pytest.raises(RuntimeError, match="margin_ranking_loss.*same number of dimensions"):
        F.margin_ranking_loss(a[0], b[0], ember.tensor(signs((2, 4), 45)))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss.*multi-target not supported"):
        F.cosine_embedding_loss(a, b, ember.ones(3, 1))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss.*1D target tensor expects 2D"):
        F.cosine_embedding_loss(a[0], b[0], ember.ones(4))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss.*0D target tensor expects 1D"):
        F.cosine_embedding_loss(a, b, ember.tensor(1.0))
    with pytest.raises(RuntimeError, match="triplet_margin_loss.*anchor 2D, positive 2D, and "
                                           "negative 1D"):
        F.triplet_margin_loss(a, b, b[0])
    with pytest.raises(ValueError, match="triplet_margin_loss: margin must be greater than 0"):
        F.triplet_margin_loss(a, b, b, margin=0.0)
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(ValueError, match="TripletMarginWithDistanceLoss: expected margin"):
        nn.TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(RuntimeError, match="soft_margin_loss.*broadcast shape"):
        F.soft_margin_loss(a[:1], b)
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(a, b, -1.0)
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(a, b, ember.tensor(normal((3, 4), 46)))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var is of incorrect size"):
        F.gaussian_nll_loss(a, b, ember.ones(3, 2))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var is of incorrect size"):
        F.gaussian_nll_loss(a, b, ember.ones(1, 1))  # two mismatched dims
    t = ember.tensor([0, 3, 1])
    with pytest.raises(ValueError, match="multi_margin_loss: only p == 1 and p == 2"):
        F.multi_margin_loss(a, t, p=3)
    with pytest.raises(ValueError, match="MultiMarginLoss: only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="MultiMarginLoss: expected weight to be None or 1D"):
        nn.MultiMarginLoss(weight=ember.ones(2, 2))
    with pytest.raises(ValueError, match="multi_margin_loss: weight must be one-dimensional"):
        F.multi_margin_loss(a, t, weight=ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="multi_margin_loss: inconsistent weight size"):
        F.multi_margin_loss(a, t, weight=ember.ones(3))
    with pytest.raises(RuntimeError, match="multi_margin_loss: target out of range"):
        F.multi_margin_loss(a, ember.tensor([0, 4, 1]))
    with pytest.raises(RuntimeError, match="multi_margin_loss: target out of range"):
        F.multi_margin_loss(a, ember.tensor([0, -1, 1]))
    with pytest.raises(RuntimeError, match="multi_margin_loss: target tensor should be 1-D"):
        F.multi_margin_loss(a, ember.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="multi_margin_loss: expected an integer"):
        F.multi_margin_loss(a, ember.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="multi_margin_loss: expected a non-empty vector"):
        F.multi_margin_loss(a.reshape(3, 4, 1), t)
    with pytest.raises(RuntimeError, match="multilabel_margin_loss: inconsistent target size"):
        F.multilabel_margin_loss(a, ember.zeros(3, 3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="multilabel_margin_loss: target out of range"):
        F.multilabel_margin_loss(a, ember.tensor([[0, -1, 7, 0]] * 3))
    with pytest.raises(RuntimeError, match="multilabel_margin_loss: target out of range"):
        F.multilabel_margin_loss(a, ember.tensor([[0, -2, 1, 0]] * 3))


def _compiled_equals_eager(fn, *args):
    got = ember.compile(fn, fullgraph=True)(*args)
    want = fn(*args)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_compile_matches_eager(reduction):
    x1, x2 = ember.tensor(normal((6, 5), 47)), ember.tensor(normal((6, 5), 48))
    x3, s = ember.tensor(normal((6, 5), 49)), ember.tensor(signs(6, 50))
    _compiled_equals_eager(
        lambda a, b, t: F.margin_ranking_loss(a, b, t, margin=0.2, reduction=reduction),
        x1[:, 0], x2[:, 0], s)
    _compiled_equals_eager(
        lambda a, b, c: F.triplet_margin_loss(a, b, c, p=1, swap=True, reduction=reduction),
        x1, x2, x3)
    _compiled_equals_eager(
        lambda a, t, w: F.multi_margin_loss(a, t, p=2, weight=w, reduction=reduction),
        x1, ember.tensor(classes(6, 5, 51)), ember.tensor(positive(5, 52)))


def test_distance_modules_match_torch():
    arrays = [normal((4, 5), 53), normal((1, 5), 54)]
    for cls, kwargs in (("PairwiseDistance", {"p": 1.5, "keepdim": True}),
                        ("PairwiseDistance", {}), ("CosineSimilarity", {"eps": 1e-6})):
        es, ts = _tensors(arrays, [0, 1])
        em, tm = getattr(nn, cls)(**kwargs), getattr(tnn, cls)(**kwargs)
        assert repr(em) == repr(tm)
        _compare(em(*es), tm(*ts), es, ts, [0, 1])
