"""ember.nn modules against torch.nn: the Module API (registration, iteration, modes, hooks,
state dicts, to(), repr), containers, every layer's forward and gradients with torch's weights
copied over, default initialisation, ember.nn.init and gradient clipping."""
import copy
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn

RNG = np.random.default_rng(7)


def pair(shape, dtype=np.float32, grad=True, scale=1.0):
    x = (RNG.standard_normal(shape) * scale).astype(dtype)
    return ember.tensor(x, requires_grad=grad), torch.tensor(x, requires_grad=grad)


def to_np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def close(e, t, tol=1e-4):
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    np.testing.assert_allclose(to_np(e), to_np(t), rtol=tol, atol=tol)


def copy_weights(em, tm):
    """torch module's state into the ember module (through ember's load_state_dict)."""
    sd = {k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)


def compare(em, tm, *inputs, tol=1e-4, grad_tol=None, out_index=None):
    """Same forward values, then the same gradients for parameters and inputs."""
    e_in = [ember.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    t_in = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    eo, to = em(*e_in), tm(*t_in)
    if out_index is not None:
        eo, to = eo[out_index], to[out_index]
    close(eo, to, tol)
    g = RNG.standard_normal(tuple(to.shape)).astype(to_np(to).dtype)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    gt = grad_tol or tol * 10
    tparams = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        tp = tparams[name]
        if tp.grad is None:
            assert p.grad is None, name
            continue
        close(p.grad, tp.grad, gt)
    for e, t in zip(e_in, t_in):
        if t.grad is not None:
            close(e.grad, t.grad, gt)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# The Module API

class EmberNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(4 * 5 * 5, 8), nn.ReLU())
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(ember.ones(3))
        self.register_buffer("offset", ember.zeros(3))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.body(self.bn(self.conv(x)))) * self.scale + self.offset


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.body = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 5 * 5, 8),
                                        torch.nn.ReLU())
        self.head = torch.nn.Linear(8, 3)
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.register_buffer("offset", torch.zeros(3))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.body(self.bn(self.conv(x)))) * self.scale + self.offset


def test_registration_and_names_match_torch():
    em, tm = EmberNet(), TorchNet()
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in em.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in em.named_modules()] == [n for n, _ in tm.named_modules()]
    assert [n for n, _ in em.named_children()] == [n for n, _ in tm.named_children()]
    assert len(list(em.children())) == 4 and len(list(em.modules())) == 8
    for p in em.parameters():
        assert isinstance(p, nn.Parameter) and isinstance(p, ember.Tensor)
        assert p.requires_grad and p.is_leaf
    assert em.get_submodule("body.1") is em.body[1]
    assert em.get_parameter("body.1.bias") is em.body[1].bias
    assert [n for n, _ in em.named_parameters(recurse=False)] == ["scale"]


def test_net_forward_backward_matches_torch():
    em, tm = EmberNet(), TorchNet()
    copy_weights(em, tm)
    compare(em, tm, randn(2, 1, 5, 5))
    # Running statistics were updated the same way.
    close(em.bn.running_mean, tm.bn.running_mean)
    close(em.bn.running_var, tm.bn.running_var)
    assert em.bn.num_batches_tracked.item() == tm.bn.num_batches_tracked.item() == 1


def test_shared_parameters_counted_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_attribute_assignment_rules():
    m = nn.Module()
    m.w = nn.Parameter(ember.ones(2))
    assert "w" in m._parameters
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = ember.ones(2)
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.sub = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="child module 'sub'"):
        m.sub = 3
    m.register_buffer("b", ember.ones(1))
    m.b = ember.zeros(1)
    assert m.b.item() == 0 and "b" in m._buffers
    with pytest.raises(KeyError):
        m.register_buffer("a.b", ember.ones(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("sub", nn.Parameter(ember.ones(1)))
    with pytest.raises(TypeError):
        m.register_buffer("c", 3)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(NotImplementedError, match="forward"):
        m(ember.ones(1))
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("nl", ember.ones(2))


def test_tensor_data_property():
    p = nn.Parameter(ember.ones(2))
    d = p.data
    assert not d.requires_grad and d.is_leaf
    p.data = ember.arange(3.0)
    assert p.shape == (3,) and p.requires_grad and isinstance(p, nn.Parameter)
    p.data = ember.zeros(2, dtype=ember.float64)
    assert p.dtype == ember.float64 and p.requires_grad
    with pytest.raises(TypeError, match="floating"):
        p.data = ember.arange(3)


def test_parameter_is_a_new_leaf():
    t = ember.ones(3)
    p = nn.Parameter(t)
    assert p.requires_grad and not t.requires_grad
    assert nn.Parameter(t, requires_grad=False).requires_grad is False
    with ember.no_grad():
        p.mul_(2)
    assert t.tolist() == [2.0, 2.0, 2.0]  # shares memory like torch.nn.Parameter
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert nn.Parameter().shape == (0,)


def test_train_eval_requires_grad_zero_grad_apply():
    em = EmberNet()
    assert em.training and em.bn.training
    em.eval()
    assert not any(m.training for m in em.modules())
    em.train()
    assert all(m.training for m in em.modules())
    em(ember.randn(2, 1, 5, 5)).sum().backward()
    assert all(p.grad is not None for p in em.parameters())
    em.zero_grad(set_to_none=False)
    assert all(p.grad is not None and p.grad.abs().sum().item() == 0 for p in em.parameters())
    em.zero_grad()
    assert all(p.grad is None for p in em.parameters())
    em.requires_grad_(False)
    assert not any(p.requires_grad for p in em.parameters())
    seen = []
    em.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "EmberNet" and seen.count("Linear") == 2
    with pytest.raises(ValueError):
        em.train("yes")


def test_hooks():
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    x = ember.randn(4, 3)
    out = lin(x)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (4, 2)),
                               rtol=1e-6)
    assert calls == [(4, 2)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(lin(x).numpy(), (x.numpy() @ lin.weight.detach().numpy().T
                                                + lin.bias.detach().numpy()), rtol=1e-5,
                               atol=1e-6)
    assert calls == [(4, 2)]
    # with_kwargs pre-hook replaces args and kwargs.
    ln = nn.Linear(3, 2)
    ln.register_forward_pre_hook(lambda m, a, k: ((a[0] * 0,), k), with_kwargs=True)
    np.testing.assert_allclose(ln(x).numpy(), np.broadcast_to(ln.bias.detach().numpy(), (4, 2)))


def test_state_dict_round_trip_and_errors():
    a, b = EmberNet(), EmberNet()
    sd = a.state_dict()
    assert "scratch" not in sd and "offset" in sd and "bn.num_batches_tracked" in sd
    assert not any(v.requires_grad for v in sd.values())
    assert b.load_state_dict(sd) == ([], [])
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    # The state dict shares memory with the module (as torch's does).
    with ember.no_grad():
        a.head.bias.fill_(5.0)
    assert sd["head.bias"].tolist() == [5.0, 5.0, 5.0]

    bad = dict(sd)
    del bad["head.bias"]
    bad["extra.weight"] = ember.ones(1)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "head.bias"') as ei:
        b.load_state_dict(bad)
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in str(ei.value)
    assert "Error(s) in loading state_dict for EmberNet" in str(ei.value)
    res = b.load_state_dict(bad, strict=False)
    assert res.missing_keys == ["head.bias"] and res.unexpected_keys == ["extra.weight"]
    wrong = dict(sd)
    wrong["head.weight"] = ember.ones(2, 2)
    with pytest.raises(RuntimeError, match=r"size mismatch for head.weight: copying a param "
                                           r"with shape \[2, 2\] from checkpoint, the shape in "
                                           r"current model is \[3, 8\]"):
        b.load_state_dict(wrong, strict=False)
    with pytest.raises(TypeError):
        b.load_state_dict([1, 2])


def test_load_state_dict_from_torch_and_back():
    em, tm = EmberNet(), TorchNet()
    copy_weights(em, tm)
    back = {k: torch.tensor(v.numpy()) for k, v in em.state_dict().items()}
    tm2 = TorchNet()
    tm2.load_state_dict(back)
    x = randn(3, 1, 5, 5)
    tm.eval(), tm2.eval(), em.eval()
    close(em(ember.tensor(x)), tm2(torch.tensor(x)))


def test_to_dtype_keeps_leaf_parameters():
    em = EmberNet()
    ids = [id(p) for p in em.parameters()]
    em.to(ember.float32)  # nothing to do: the same Parameter objects
    assert [id(p) for p in em.parameters()] == ids
    opt_params = list(em.parameters())
    em.double()
    assert [id(p) for p in em.parameters()] == ids  # same objects, as in torch
    assert all(a is b for a, b in zip(opt_params, em.parameters()))
    for p in em.parameters():
        assert isinstance(p, nn.Parameter) and p.is_leaf and p.requires_grad
        assert p.dtype == ember.float64
    assert em.offset.dtype == ember.float64
    assert em.bn.num_batches_tracked.dtype == ember.int64  # integer buffers keep their dtype
    out = em(ember.randn(2, 1, 5, 5).double())
    assert out.dtype == ember.float64
    out.sum().backward()
    assert em.head.weight.grad.dtype == ember.float64
    em.to(dtype=ember.float32).cpu()
    assert em.head.weight.dtype == ember.float32
    with pytest.raises(TypeError, match="floating point"):
        em.to(ember.int64)


def test_repr_matches_torch():
    em = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(),
                       nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 14 * 14, 10, bias=False),
                       nn.Dropout(0.25), nn.LayerNorm(10), nn.GELU(), nn.Embedding(5, 3),
                       nn.LeakyReLU(0.2), nn.GroupNorm(2, 6), nn.AvgPool2d(2),
                       nn.AdaptiveAvgPool2d((1, 1)), nn.Softmax(dim=1),
                       nn.ConvTranspose2d(3, 2, 3, stride=2), nn.Identity(), nn.Tanh())
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.BatchNorm2d(6),
                             torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                             torch.nn.Linear(6 * 14 * 14, 10, bias=False), torch.nn.Dropout(0.25),
                             torch.nn.LayerNorm(10), torch.nn.GELU(), torch.nn.Embedding(5, 3),
                             torch.nn.LeakyReLU(0.2), torch.nn.GroupNorm(2, 6),
                             torch.nn.AvgPool2d(2), torch.nn.AdaptiveAvgPool2d((1, 1)),
                             torch.nn.Softmax(dim=1), torch.nn.ConvTranspose2d(3, 2, 3, stride=2),
                             torch.nn.Identity(), torch.nn.Tanh())
    assert repr(em) == repr(tm)


def test_deepcopy_module():
    em = EmberNet()
    c = copy.deepcopy(em)
    for (n, p), (_, q) in zip(em.named_parameters(), c.named_parameters()):
        assert p is not q and isinstance(q, nn.Parameter) and q.requires_grad
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    with ember.no_grad():
        c.head.bias.fill_(3.0)
    assert em.head.bias.detach().numpy().tolist() != [3.0, 3.0, 3.0]


# ---------------------------------------------------------------------------------------------
# Containers

def test_sequential():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[1], nn.ReLU) and isinstance(s[-1], nn.Linear)
    assert isinstance(s[0:2], nn.Sequential) and len(s[0:2]) == 2
    s.append(nn.Sigmoid())
    assert list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and isinstance(s[1], nn.Linear)
    with pytest.raises(IndexError):
        s[5]
    od = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(dict(od.named_children())) == ["fc", "act"]
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    e = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    copy_weights(e, t)
    compare(e, t, randn(4, 2))


def test_module_list_dict_parameter_list():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml.insert(0, nn.Identity())
    assert len(ml) == 6 and isinstance(ml[0], nn.Identity) and isinstance(ml[-1], nn.Tanh)
    assert len(list(ml.parameters())) == 6
    assert isinstance(ml[1:3], nn.ModuleList)
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(5)]
    with pytest.raises(TypeError):
        ml.extend(nn.Linear(1, 1))

    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert md.pop("b").__class__ is nn.ReLU and len(md) == 2

    pl = nn.ParameterList([nn.Parameter(ember.ones(2)), ember.zeros(3)])
    pl.append(ember.ones(1))
    assert len(pl) == 3 and all(isinstance(p, nn.Parameter) for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    holder = nn.Module()
    holder.params = pl
    assert [n for n, _ in holder.named_parameters()] == ["params.0", "params.1", "params.2"]
    tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.zeros(3),
                                  torch.ones(1)])
    assert repr(pl).replace("ember", "torch") == repr(tpl)

    pd = nn.ParameterDict({"w": ember.ones(2)})
    pd["v"] = nn.Parameter(ember.zeros(1))
    assert list(pd.keys()) == ["w", "v"] and isinstance(pd["w"], nn.Parameter)


# ---------------------------------------------------------------------------------------------
# Layers against torch (same weights)

LAYERS = [
    ("Linear", lambda M: M.Linear(5, 3), (4, 5)),
    ("Linear-3d-nobias", lambda M: M.Linear(5, 3, bias=False), (2, 4, 5)),
    ("Conv1d", lambda M: M.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    ("Conv2d", lambda M: M.Conv2d(2, 4, 3, padding=1), (2, 2, 6, 6)),
    ("Conv2d-groups-dilation", lambda M: M.Conv2d(4, 6, (3, 2), stride=(2, 1), dilation=(1, 2),
                                                  groups=2), (2, 4, 9, 8)),
    ("Conv2d-same", lambda M: M.Conv2d(2, 3, 3, padding="same", bias=False), (1, 2, 5, 5)),
    ("ConvTranspose2d", lambda M: M.ConvTranspose2d(3, 2, 3, stride=2, padding=1,
                                                    output_padding=1), (2, 3, 4, 4)),
    ("ConvTranspose1d", lambda M: M.ConvTranspose1d(2, 4, 3, stride=2, groups=2), (2, 2, 5)),
    ("MaxPool2d", lambda M: M.MaxPool2d(2), (2, 3, 6, 6)),
    ("MaxPool2d-pad", lambda M: M.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
     (1, 2, 7, 7)),
    ("MaxPool1d", lambda M: M.MaxPool1d(2), (2, 3, 8)),
    ("AvgPool2d", lambda M: M.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
    ("AvgPool1d", lambda M: M.AvgPool1d(2), (2, 3, 8)),
    ("AdaptiveAvgPool2d", lambda M: M.AdaptiveAvgPool2d((2, 3)), (2, 2, 7, 8)),
    ("AdaptiveAvgPool1d", lambda M: M.AdaptiveAvgPool1d(3), (2, 2, 7)),
    ("LayerNorm", lambda M: M.LayerNorm(6), (3, 4, 6)),
    ("LayerNorm-2d", lambda M: M.LayerNorm((4, 6), elementwise_affine=False), (3, 4, 6)),
    ("GroupNorm", lambda M: M.GroupNorm(2, 4), (2, 4, 3, 3)),
    ("Flatten", lambda M: M.Flatten(), (2, 3, 4)),
    ("Flatten-range", lambda M: M.Flatten(0, 1), (2, 3, 4)),
    ("Unflatten", lambda M: M.Unflatten(1, (2, 6)), (3, 12)),
    ("Identity", lambda M: M.Identity(), (3, 2)),
    ("PReLU", lambda M: M.PReLU(3), (2, 3, 4)),
    ("Softmax", lambda M: M.Softmax(dim=-1), (3, 5)),
    ("LogSoftmax", lambda M: M.LogSoftmax(dim=1), (3, 5)),
    ("Softmin", lambda M: M.Softmin(dim=0), (3, 5)),
]
ACTIVATIONS = ["ReLU", "ReLU6", "GELU", "SiLU", "Mish", "Tanh", "Sigmoid", "LogSigmoid", "ELU",
               "CELU", "SELU", "Softplus", "Hardtanh", "Hardsigmoid", "Hardswish", "LeakyReLU",
               "Softsign", "Tanhshrink"]


@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, make, shape):
    em, tm = make(nn), make(torch.nn)
    copy_weights(em, tm)
    compare(em, tm, randn(*shape) * 2)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_module_matches_torch(name):
    compare(getattr(nn, name)(), getattr(torch.nn, name)(), randn(3, 7) * 3)


def test_activation_arguments():
    compare(nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh"), randn(4, 5))
    compare(nn.LeakyReLU(0.3), torch.nn.LeakyReLU(0.3), randn(4, 5))
    compare(nn.ELU(alpha=0.5), torch.nn.ELU(alpha=0.5), randn(4, 5))
    compare(nn.Softplus(beta=2, threshold=3), torch.nn.Softplus(beta=2, threshold=3),
            randn(4, 5) * 3)
    compare(nn.Hardtanh(-0.5, 2.0), torch.nn.Hardtanh(-0.5, 2.0), randn(4, 5) * 2)
    x = ember.randn(3, 4)
    y = nn.ReLU(inplace=True)(x)
    assert y.numpy().min() >= 0 and x.numpy().min() >= 0


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 5, 5))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_train_then_eval(cls, shape, momentum):
    em, tm = getattr(nn, cls)(3, momentum=momentum), getattr(torch.nn, cls)(3, momentum=momentum)
    with torch.no_grad():
        tm.weight.uniform_(0.5, 1.5)
        tm.bias.uniform_(-0.5, 0.5)
    copy_weights(em, tm)
    for _ in range(3):
        compare(em, tm, randn(*shape) * 2 + 1)
    close(em.running_mean, tm.running_mean, 1e-5)
    close(em.running_var, tm.running_var, 1e-5)
    assert em.num_batches_tracked.item() == 3
    em.eval(), tm.eval()
    compare(em, tm, randn(*shape))
    assert em.num_batches_tracked.item() == 3
    # Without running statistics, eval mode still normalizes with the batch's.
    e2, t2 = getattr(nn, cls)(3, track_running_stats=False, affine=False), \
        getattr(torch.nn, cls)(3, track_running_stats=False, affine=False)
    e2.eval(), t2.eval()
    assert e2.running_mean is None and list(e2.state_dict()) == []
    compare(e2, t2, randn(*shape))
    with pytest.raises(ValueError, match="expected"):
        em(ember.randn(2, 3, 4, 5, 6))


def test_dropout_module():
    d = nn.Dropout(0.5)
    x = ember.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 350 < (y == 0).sum() < 650
    d.eval()
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_embedding():
    em, tm = nn.Embedding(10, 4, padding_idx=2), torch.nn.Embedding(10, 4, padding_idx=2)
    assert np.all(em.weight.detach().numpy()[2] == 0)
    copy_weights(em, tm)
    idx = np.array([[1, 2, 3], [2, 9, 0]], dtype=np.int64)
    eo, to = em(ember.tensor(idx)), tm(torch.tensor(idx))
    close(eo, to)
    g = randn(2, 3, 4)
    eo.backward(ember.tensor(g)), to.backward(torch.tensor(g))
    close(em.weight.grad, tm.weight.grad)
    pre = nn.Embedding.from_pretrained(ember.ones(3, 2))
    assert not pre.weight.requires_grad and pre.weight.shape == (3, 2)


LOSSES = [
    ("MSELoss", {}, "real"), ("L1Loss", {"reduction": "sum"}, "real"),
    ("SmoothL1Loss", {"beta": 0.5}, "real"), ("HuberLoss", {"delta": 0.7}, "real"),
    ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {"reduction": "none"}, "binary"),
    ("KLDivLoss", {"reduction": "batchmean"}, "logprob"),
    ("CrossEntropyLoss", {}, "class"), ("CrossEntropyLoss", {"label_smoothing": 0.1}, "class"),
    ("CrossEntropyLoss", {"ignore_index": 1, "reduction": "sum"}, "class"),
    ("NLLLoss", {}, "class"),
]


@pytest.mark.parametrize("name,kw,kind", LOSSES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in
                                                      enumerate(LOSSES)])
def test_loss_module_matches_torch(name, kw, kind):
    x = randn(6, 5)
    if kind == "class":
        tgt = RNG.integers(0, 5, size=6).astype(np.int64)
        if name == "NLLLoss":
            x = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True)).astype(np.float32)
    elif kind == "prob":
        x = (1 / (1 + np.exp(-x))).astype(np.float32)
        tgt = RNG.uniform(size=(6, 5)).astype(np.float32)
    elif kind == "binary":
        tgt = RNG.integers(0, 2, size=(6, 5)).astype(np.float32)
    elif kind == "logprob":
        x = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True)).astype(np.float32)
        tgt = np.exp(randn(6, 5))
        tgt = (tgt / tgt.sum(1, keepdims=True)).astype(np.float32)
    else:
        tgt = randn(6, 5)
    em, tm = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    eo, to = em(ex, ember.tensor(tgt)), tm(tx, torch.tensor(tgt))
    close(eo, to, 1e-5)
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g)), to.backward(torch.tensor(g))
    close(ex.grad, tx.grad, 1e-5)


def test_weighted_losses():
    w = np.array([0.2, 1.0, 3.0], dtype=np.float32)
    x, tgt = randn(5, 3), RNG.integers(0, 3, size=5).astype(np.int64)
    em, tm = nn.CrossEntropyLoss(weight=ember.tensor(w)), torch.nn.CrossEntropyLoss(
        weight=torch.tensor(w))
    close(em(ember.tensor(x), ember.tensor(tgt)), tm(torch.tensor(x), torch.tensor(tgt)), 1e-5)
    assert "weight" in dict(em.named_buffers())
    pw = np.array([2.0, 0.5, 1.0], dtype=np.float32)
    b = RNG.integers(0, 2, size=(5, 3)).astype(np.float32)
    close(nn.BCEWithLogitsLoss(pos_weight=ember.tensor(pw))(ember.tensor(x), ember.tensor(b)),
          torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw))(torch.tensor(x),
                                                                  torch.tensor(b)), 1e-5)


# ---------------------------------------------------------------------------------------------
# Attention and transformers

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "bool", "float", "padding", "both"])
def test_multihead_attention(batch_first, masks):
    E, H, L, S, N = 8, 2, 4, 5, 3
    em = nn.MultiheadAttention(E, H, batch_first=batch_first)
    tm = torch.nn.MultiheadAttention(E, H, batch_first=batch_first)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    copy_weights(em, tm)
    qs = (N, L, E) if batch_first else (L, N, E)
    ks = (N, S, E) if batch_first else (S, N, E)
    q, k, v = randn(*qs), randn(*ks), randn(*ks)
    ek, tk = {}, {}
    if masks in ("bool", "both"):
        m = np.triu(np.ones((L, S), dtype=bool), 2)
        ek["attn_mask"], tk["attn_mask"] = ember.tensor(m), torch.tensor(m)
    if masks == "float":
        m = randn(N * H, L, S)
        ek["attn_mask"], tk["attn_mask"] = ember.tensor(m), torch.tensor(m)
    if masks in ("padding", "both"):
        m = np.zeros((N, S), dtype=bool)
        m[0, -2:] = True
        m[2, 0] = True
        ek["key_padding_mask"], tk["key_padding_mask"] = ember.tensor(m), torch.tensor(m)
    for need, avg in [(True, True), (True, False), (False, True)]:
        eq, ekk, ev = (ember.tensor(a, requires_grad=True) for a in (q, k, v))
        tq, tkk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        eo, ew = em(eq, ekk, ev, need_weights=need, average_attn_weights=avg, **ek)
        to, tw = tm(tq, tkk, tv, need_weights=need, average_attn_weights=avg, **tk)
        close(eo, to, 1e-5)
        if need:
            close(ew, tw, 1e-5)
        else:
            assert ew is None and tw is None
        g = randn(*to.shape)
        eo.backward(ember.tensor(g)), to.backward(torch.tensor(g))
        for a, b in [(eq, tq), (ekk, tkk), (ev, tv)]:
            close(a.grad, b.grad, 1e-4)
        for (n, p), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
            close(p.grad, tp.grad, 1e-4)
        em.zero_grad(), tm.zero_grad()


def test_multihead_attention_unbatched_kdim_and_init():
    em, tm = nn.MultiheadAttention(6, 3, kdim=4, vdim=5), torch.nn.MultiheadAttention(
        6, 3, kdim=4, vdim=5)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    copy_weights(em, tm)
    q, k, v = randn(3, 6), randn(4, 4), randn(4, 5)
    eo, ew = em(ember.tensor(q), ember.tensor(k), ember.tensor(v))
    to, tw = tm(torch.tensor(q), torch.tensor(k), torch.tensor(v))
    close(eo, to, 1e-5), close(ew, tw, 1e-5)
    fresh = nn.MultiheadAttention(16, 4)
    assert fresh.in_proj_bias.abs().sum().item() == 0
    assert fresh.out_proj.bias.abs().sum().item() == 0
    bound = math.sqrt(6 / (16 + 48))
    assert fresh.in_proj_weight.abs().max().item() <= bound
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer(norm_first, batch_first, activation):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.1, norm_first=norm_first,
              batch_first=batch_first, activation=activation)
    em, tm = nn.TransformerEncoderLayer(**kw), torch.nn.TransformerEncoderLayer(**kw)
    assert list(em.state_dict()) == list(tm.state_dict())
    copy_weights(em, tm)
    em.eval(), tm.eval()
    x = randn(3, 5, 8)
    # key_padding_mask is (batch, source length) either way.
    pad = np.zeros((3, 5) if batch_first else (5, 3), dtype=bool)
    pad[0, -1] = True

    # torch's eval-mode fast path needs grad disabled; with grad on it runs the same math.
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo = em(ex, src_key_padding_mask=ember.tensor(pad))
    to = tm(tx, src_key_padding_mask=torch.tensor(pad))
    close(eo, to, 1e-4)
    g = randn(*to.shape)
    eo.backward(ember.tensor(g)), to.backward(torch.tensor(g))
    close(ex.grad, tx.grad, 1e-4)
    for (nm, p), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
        close(p.grad, tp.grad, 1e-4)


def test_transformer_encoder_stack_and_dropout():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    tlayer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    em = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    tm = torch.nn.TransformerEncoder(tlayer, 2, norm=torch.nn.LayerNorm(8),
                                     enable_nested_tensor=False)
    assert list(em.state_dict()) == list(tm.state_dict())
    # The layers are copies: equal at first, but separate parameters.
    np.testing.assert_array_equal(em.layers[0].linear1.weight.detach().numpy(),
                                  em.layers[1].linear1.weight.detach().numpy())
    assert em.layers[0].linear1.weight is not em.layers[1].linear1.weight
    copy_weights(em, tm)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    x = randn(2, 4, 8)
    close(em(ember.tensor(x), mask=ember.tensor(causal)),
          tm(torch.tensor(x), mask=torch.tensor(causal)), 1e-4)
    # Training mode with dropout: random, but the shape and finiteness hold.
    d = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    out = d(ember.randn(4, 2, 8))
    assert out.shape == (4, 2, 8) and np.isfinite(out.numpy()).all()


# ---------------------------------------------------------------------------------------------
# Initialisation

def test_default_init_bounds():
    ember.manual_seed(0)
    lin = nn.Linear(400, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    conv = nn.Conv2d(8, 16, 3)
    bound = 1 / math.sqrt(8 * 9)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    ct = nn.ConvTranspose2d(8, 6, 3)  # fan_in from weight dim 1: 6 * 9
    assert np.abs(ct.weight.detach().numpy()).max() <= 1 / math.sqrt(6 * 9)
    emb = nn.Embedding(500, 64).weight.detach().numpy()
    assert abs(emb.mean()) < 0.02 and abs(emb.std() - 1) < 0.02
    ln = nn.LayerNorm(5)
    assert ln.weight.tolist() == [1.0] * 5 and ln.bias.tolist() == [0.0] * 5
    bn = nn.BatchNorm2d(3)
    assert bn.running_var.tolist() == [1.0] * 3 and bn.num_batches_tracked.item() == 0
    # Same seed, same weights.
    ember.manual_seed(3)
    a = nn.Linear(4, 4).weight.tolist()
    ember.manual_seed(3)
    assert nn.Linear(4, 4).weight.tolist() == a


def test_init_functions():
    ember.manual_seed(1)
    w = ember.empty(200, 300)
    nn.init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 500)
    a = w.numpy()
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    nn.init.xavier_normal_(w)
    assert abs(w.numpy().std() - math.sqrt(2 / 500)) < 0.01 * math.sqrt(2 / 500) * 5
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 200)) < 0.03 * math.sqrt(2 / 200)
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 300)
    nn.init.trunc_normal_(w, mean=1.0, std=2.0, a=-1.0, b=2.0)
    assert w.numpy().min() >= -1.0 and w.numpy().max() <= 2.0
    nn.init.uniform_(w, -3, -2)
    assert -3 <= w.numpy().min() and w.numpy().max() <= -2
    nn.init.normal_(w, 5.0, 0.1)
    assert abs(w.numpy().mean() - 5.0) < 0.01
    nn.init.constant_(w, 0.5)
    assert np.all(w.numpy() == 0.5)
    nn.init.zeros_(w), nn.init.ones_(w)
    assert np.all(w.numpy() == 1)
    q = ember.empty(4, 6)
    nn.init.orthogonal_(q)
    np.testing.assert_allclose(q.numpy() @ q.numpy().T, np.eye(4), atol=1e-5)
    e = ember.empty(3, 5)
    nn.init.eye_(e)
    np.testing.assert_array_equal(e.numpy(), np.eye(3, 5))
    d = ember.empty(4, 2, 3, 3)
    nn.init.dirac_(d, groups=2)
    np.testing.assert_array_equal(d.numpy(), torch.nn.init.dirac_(torch.empty(4, 2, 3, 3),
                                                                  groups=2).numpy())
    # Works on parameters that require grad (under no_grad) and keeps them leaves.
    p = nn.Parameter(ember.empty(3, 3))
    nn.init.kaiming_uniform_(p, a=math.sqrt(5))
    assert p.is_leaf and p.requires_grad
    for nl, prm in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("selu", None),
                    ("conv2d", None), ("sigmoid", None)]:
        assert nn.init.calculate_gain(nl, prm) == pytest.approx(
            torch.nn.init.calculate_gain(nl, prm))
    with pytest.raises(ValueError, match="fewer than 2"):
        nn.init.xavier_uniform_(ember.empty(3))
    with pytest.raises(ValueError):
        nn.init.calculate_gain("nope")


# ---------------------------------------------------------------------------------------------
# Gradient clipping

@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm):
    grads = [randn(3, 4), randn(5), randn(2, 2, 2)]
    eps = [nn.Parameter(ember.zeros(*g.shape)) for g in grads]
    tps = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads]
    for e, t, g in zip(eps, tps, grads):
        e.grad, t.grad = ember.tensor(g), torch.tensor(g)
    en = nn.utils.clip_grad_norm_(eps, max_norm, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    assert en.item() == pytest.approx(tn.item(), rel=1e-5)
    for e, t in zip(eps, tps):
        close(e.grad, t.grad, 1e-6)


def test_clip_grad_value_and_nonfinite():
    g = randn(4, 4) * 3
    e, t = nn.Parameter(ember.zeros(4, 4)), torch.nn.Parameter(torch.zeros(4, 4))
    e.grad, t.grad = ember.tensor(g), torch.tensor(g)
    nn.utils.clip_grad_value_([e], 1.5)
    torch.nn.utils.clip_grad_value_([t], 1.5)
    close(e.grad, t.grad, 0)
    e.grad = ember.tensor(np.array([[np.inf] * 4] * 4, dtype=np.float32))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(e, 1.0, error_if_nonfinite=True)
    v = nn.utils.parameters_to_vector([e, nn.Parameter(ember.ones(2))])
    assert v.shape == (18,)
    nn.utils.vector_to_parameters(ember.arange(16.0), [e])
    assert e.detach().numpy().ravel().tolist() == list(range(16))


# ---------------------------------------------------------------------------------------------
# Recurrent layers

RNN_CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, batch_first=True),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=3, bidirectional=True, batch_first=True, bias=False),
]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("cfg", RNN_CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in
                                                                     c.items()))
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_match_torch(cls, cfg, with_state):
    em, tm = getattr(nn, cls)(5, 4, **cfg), getattr(torch.nn, cls)(5, 4, **cfg)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert repr(em) == repr(tm)
    copy_weights(em, tm)
    N, L = 3, 6
    x = randn(N, L, 5) if cfg.get("batch_first") else randn(L, N, 5)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    D = 2 if cfg.get("bidirectional") else 1
    state_shape = (cfg["num_layers"] * D, N, 4)
    e_state = t_state = None
    if with_state:
        h0 = randn(*state_shape)
        if cls == "LSTM":
            c0 = randn(*state_shape)
            e_state = (ember.tensor(h0, requires_grad=True), ember.tensor(c0, requires_grad=True))
            t_state = (torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True))
        else:
            e_state, t_state = ember.tensor(h0, requires_grad=True), torch.tensor(
                h0, requires_grad=True)
    eo, eh = em(ex, e_state)
    to, th = tm(tx, t_state)
    close(eo, to, 1e-5)
    if cls == "LSTM":
        close(eh[0], th[0], 1e-5), close(eh[1], th[1], 1e-5)
        e_loss = eo.sum() + eh[0].sum() * 2 + eh[1].sum()
        t_loss = to.sum() + th[0].sum() * 2 + th[1].sum()
    else:
        close(eh, th, 1e-5)
        e_loss, t_loss = eo.sum() + eh.sum() * 2, to.sum() + th.sum() * 2
    e_loss.backward(), t_loss.backward()
    close(ex.grad, tx.grad, 1e-4)
    tparams = dict(tm.named_parameters())
    for n, p in em.named_parameters():
        close(p.grad, tparams[n].grad, 1e-4)
    if with_state:
        es = e_state if cls != "LSTM" else e_state[0]
        ts = t_state if cls != "LSTM" else t_state[0]
        close(es.grad, ts.grad, 1e-4)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_recurrent_unbatched_and_errors(cls):
    em, tm = getattr(nn, cls)(3, 2, num_layers=2), getattr(torch.nn, cls)(3, 2, num_layers=2)
    copy_weights(em, tm)
    x = randn(5, 3)
    eo, to = em(ember.tensor(x))[0], tm(torch.tensor(x))[0]
    close(eo, to, 1e-5)
    with pytest.raises(RuntimeError, match="input_size"):
        em(ember.randn(5, 2, 4))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        em(ember.randn(5, 2, 3), ember.zeros(1, 2, 2) if cls != "LSTM" else
           (ember.zeros(1, 2, 2), ember.zeros(1, 2, 2)))


def test_rnn_relu_dropout_and_init():
    em, tm = nn.RNN(3, 4, nonlinearity="relu"), torch.nn.RNN(3, 4, nonlinearity="relu")
    assert repr(em) == repr(tm)
    copy_weights(em, tm)
    compare(em, tm, randn(4, 2, 3), out_index=0)
    bound = 1 / math.sqrt(16)
    lstm = nn.LSTM(8, 16, dropout=0.5, num_layers=2)
    assert all(p.abs().max().item() <= bound for p in lstm.parameters())
    out, _ = lstm(ember.randn(5, 2, 8))
    assert out.shape == (5, 2, 16)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(cls):
    em, tm = getattr(nn, cls)(3, 4), getattr(torch.nn, cls)(3, 4)
    copy_weights(em, tm)
    x, h = randn(2, 3), randn(2, 4)
    if cls == "LSTMCell":
        c = randn(2, 4)
        eo = em(ember.tensor(x), (ember.tensor(h), ember.tensor(c)))
        to = tm(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
        close(eo[0], to[0], 1e-5), close(eo[1], to[1], 1e-5)
        eo1, to1 = em(ember.tensor(x[0]))[0], tm(torch.tensor(x[0]))[0]
    else:
        close(em(ember.tensor(x), ember.tensor(h)), tm(torch.tensor(x), torch.tensor(h)), 1e-5)
        eo1, to1 = em(ember.tensor(x[0])), tm(torch.tensor(x[0]))
    close(eo1, to1, 1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_decoder(norm_first, batch_first):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, norm_first=norm_first,
              batch_first=batch_first)
    em = nn.TransformerDecoder(nn.TransformerDecoderLayer(**kw), 2, norm=nn.LayerNorm(8))
    tm = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(**kw), 2,
                                     norm=torch.nn.LayerNorm(8))
    assert list(em.state_dict()) == list(tm.state_dict())
    copy_weights(em, tm)
    T, S, N = 4, 5, 3
    tgt = randn(N, T, 8) if batch_first else randn(T, N, 8)
    mem = randn(N, S, 8) if batch_first else randn(S, N, 8)
    causal = np.triu(np.ones((T, T), dtype=bool), 1)
    mpad = np.zeros((N, S), dtype=bool)
    mpad[1, -2:] = True
    et, tt = ember.tensor(tgt, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    emm, tmm = ember.tensor(mem, requires_grad=True), torch.tensor(mem, requires_grad=True)
    eo = em(et, emm, tgt_mask=ember.tensor(causal), memory_key_padding_mask=ember.tensor(mpad))
    to = tm(tt, tmm, tgt_mask=torch.tensor(causal), memory_key_padding_mask=torch.tensor(mpad))
    close(eo, to, 1e-4)
    g = randn(*to.shape)
    eo.backward(ember.tensor(g)), to.backward(torch.tensor(g))
    close(et.grad, tt.grad, 1e-4), close(emm.grad, tmm.grad, 1e-4)
    for (n, p), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
        close(p.grad, tp.grad, 1e-4)


def test_char_transformer_example_learns_and_samples():
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    try:
        import char_transformer as ex
    finally:
        sys.path.pop(0)
    model, stoi, itos, losses = ex.train(steps=60, batch_size=8, context=32, d_model=32,
                                         layers=1, log=None)
    uniform = math.log(len(itos))
    assert losses[0] > uniform - 0.5
    assert np.mean(losses[-10:]) < uniform - 1.0, losses
    text = ex.sample(model, stoi, itos, "The ", 20)
    assert text.startswith("The ") and len(text) == 24 and set(text) <= set(itos)


def test_lstm_sequence_example_learns():
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    try:
        import lstm_sequence as ex
    finally:
        sys.path.pop(0)
    _, losses = ex.train(steps=60, log=None)
    # Repeating the last value scores about 0.036 (E[freq^2] / 2); the model must beat it.
    assert np.mean(losses[:5]) > 0.2 and np.mean(losses[-10:]) < 0.02, losses


def test_linear_weight_gradients_are_contiguous():
    # y = x @ w.t(): the weight's gradient comes out in the weight's own layout (as PyTorch's
    # does), so optimizer steps need no transposed copy; values still match torch.
    import torch
    lin = ember.nn.Linear(7, 5)
    tlin = torch.nn.Linear(7, 5)
    with torch.no_grad():
        tlin.weight.copy_(torch.tensor(lin.weight.detach().numpy()))
        tlin.bias.copy_(torch.tensor(lin.bias.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((3, 7)).astype(np.float32)
    (lin(ember.tensor(x)) ** 2).sum().backward()
    (tlin(torch.tensor(x)) ** 2).sum().backward()
    assert lin.weight.grad.is_contiguous()
    np.testing.assert_allclose(lin.weight.grad.numpy(), tlin.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
