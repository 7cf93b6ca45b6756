"""ember.nn.functional: PyTorch's functional API over ember's C++ implementations."""
from .. import _C
from .._C import Tensor

_F = _C._F

relu = _C.relu
sigmoid = _C.sigmoid
tanh = _C.tanh
softmax = lambda input, dim: _C._softmax(input, dim)  # noqa: E731
log_softmax = lambda input, dim: _C._log_softmax(input, dim)  # noqa: E731


def linear(input, weight, bias=None):
    return _F.linear(input, weight, bias)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _F.gelu(input, approximate == "tanh")


def silu(input):
    return _F.silu(input)


def mish(input):
    return _F.mish(input)


def softplus(input, beta=1.0, threshold=20.0):
    return _F.softplus(input, float(beta), float(threshold))


def logsigmoid(input):
    return _F.logsigmoid(input)


def leaky_relu(input, negative_slope=0.01):
    return _F.leaky_relu(input, float(negative_slope))


def elu(input, alpha=1.0):
    return _F.elu(input, float(alpha))


def selu(input):
    return _F.selu(input)


def celu(input, alpha=1.0):
    return _F.celu(input, float(alpha))


def hardtanh(input, min_val=-1.0, max_val=1.0):
    return _F.hardtanh(input, float(min_val), float(max_val))


def relu6(input):
    return _F.relu6(input)


def hardsigmoid(input):
    return _F.hardsigmoid(input)


def hardswish(input):
    return _F.hardswish(input)


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
