"""ember.nn.functional: PyTorch's functional API over ember's C++ implementations."""
from .. import _C
from .._C import Tensor

_F = _C._F

sigmoid = _C.sigmoid
tanh = _C.tanh
softmax = lambda input, dim: _C._softmax(input, dim)  # noqa: E731
log_softmax = lambda input, dim: _C._log_softmax(input, dim)  # noqa: E731


def _floating(input, name):
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"ember.nn.functional.{name}: not implemented for {input.dtype} "
                                  "tensors; convert with .to(ember.float32)")
    return input


def _result(input, out, inplace, name):
    """out, or written into input for inplace=True (the `_` variants)."""
    if not inplace:
        return out
    return _C._assign_(input, out, f"ember.nn.functional.{name}_")


def _bounds(input, lo, hi):
    # On integer tensors the bounds are integers, so the result keeps the dtype.
    if input.dtype.is_floating_point:
        return float(lo), float(hi)
    return int(lo), int(hi)


def relu(input, inplace=False):
    return _result(input, _C.relu(input), inplace, "relu")


def linear(input, weight, bias=None):
    return _F.linear(input, weight, bias)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _F.gelu(_floating(input, "gelu"), approximate == "tanh")


def silu(input, inplace=False):
    return _result(input, _F.silu(_floating(input, "silu")), inplace, "silu")


def mish(input, inplace=False):
    return _result(input, _F.mish(_floating(input, "mish")), inplace, "mish")


def softplus(input, beta=1.0, threshold=20.0):
    return _F.softplus(_floating(input, "softplus"), float(beta), float(threshold))


def logsigmoid(input):
    return _F.logsigmoid(_floating(input, "logsigmoid"))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    out = _F.leaky_relu(_floating(input, "leaky_relu"), float(negative_slope))
    return _result(input, out, inplace, "leaky_relu")


def elu(input, alpha=1.0, inplace=False):
    return _result(input, _F.elu(_floating(input, "elu"), float(alpha)), inplace, "elu")


def selu(input, inplace=False):
    return _result(input, _F.selu(_floating(input, "selu")), inplace, "selu")


def celu(input, alpha=1.0, inplace=False):
    return _result(input, _F.celu(_floating(input, "celu"), float(alpha)), inplace, "celu")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    lo, hi = _bounds(input, min_val, max_val)
    return _result(input, _F.clamp(input, lo, hi) if input.dtype.is_floating_point
                   else _C._clamp(input, lo, hi), inplace, "hardtanh")


def relu6(input, inplace=False):
    return hardtanh(input, 0, 6, inplace)


def hardsigmoid(input, inplace=False):
    return _result(input, _F.hardsigmoid(_floating(input, "hardsigmoid")), inplace, "hardsigmoid")


def hardswish(input, inplace=False):
    return _result(input, _F.hardswish(_floating(input, "hardswish")), inplace, "hardswish")


def relu_(input):
    return relu(input, True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu_(input):
    return selu(input, True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def one_hot(tensor, num_classes=-1):
    return _F.one_hot(tensor, num_classes)


def embedding(input, weight):
    return _F.embedding(input, weight)


def dropout(input, p=0.5, training=True):
    return _F.dropout(input, float(p), training)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = [normalized_shape]
    return _F.layer_norm(input, list(normalized_shape), weight, bias, float(eps))


def mse_loss(input, target, reduction="mean"):
    return _F.mse_loss(input, target, reduction)


def l1_loss(input, target, reduction="mean"):
    return _F.l1_loss(input, target, reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    return _F.smooth_l1_loss(input, target, reduction, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0):
    return _F.huber_loss(input, target, reduction, float(delta))


def binary_cross_entropy(input, target, reduction="mean"):
    return _F.binary_cross_entropy(input, target, reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    return _F.binary_cross_entropy_with_logits(input, target, reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    return _F.kl_div(input, target, reduction, log_target)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    return _F.nll_loss(input, target, weight, ignore_index, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    return _F.cross_entropy(input, target, weight, ignore_index, reduction, float(label_smoothing))


def _clamp(input, min=None, max=None):
    return _F.clamp(input, min, max)


Tensor.clamp = _clamp
Tensor.clip = _clamp
