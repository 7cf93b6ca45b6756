"""ember.nn.functional: PyTorch's functional API over ember's C++ implementations."""
from .. import _C
from .._C import Tensor

_F = _C._F
_NN = _C._nn


def _reduction(size_average, reduce, reduction):
    """PyTorch's legacy size_average / reduce arguments mapped to a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def _ints(v, name):
    if isinstance(v, int):
        return [v]
    try:
        out = [int(i) for i in v]
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {v!r}") from None
    return out

sigmoid = _C.sigmoid
tanh = _C.tanh
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        raise TypeError("softmax: give dim (PyTorch's implicit choice of dim is deprecated)")
    return _C._softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        raise TypeError("log_softmax: give dim (PyTorch's implicit choice of dim is deprecated)")
    return _C._log_softmax(input if dtype is None else input.to(dtype), dim)


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


def prelu(input, weight):
    """max(0, x) + weight * min(0, x); weight has one element or one per channel (dim 1).
    On autocast's lower-precision list, as in torch."""
    from ..amp.autocast_mode import _lower_precision
    if weight.dim() > 1:
        raise RuntimeError(f"ember.nn.functional.prelu: weight must be a scalar or a 1-D tensor, "
                           f"got shape {list(weight.shape)}")
    if weight.numel() != 1 and (input.dim() < 2 or weight.numel() != input.shape[1]):
        raise RuntimeError(f"ember.nn.functional.prelu: weight must hold 1 element or one per "
                           f"channel (dim 1 of the input {list(input.shape)}), got "
                           f"{weight.numel()}")
    input, weight = _lower_precision(input, weight)
    if weight.numel() > 1:
        weight = weight.reshape([1, -1] + [1] * (input.dim() - 2))
    return _C.where(input >= 0, input, input * weight)


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


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported yet")
    return _NN.embedding(input, weight, padding_idx)


def dropout(input, p=0.5, training=True, inplace=False):
    out = _F.dropout(input, float(p), training)
    if inplace:
        return input.copy_(out)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = [normalized_shape]
    return _F.layer_norm(input, list(normalized_shape), weight, bias, float(eps))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _F.mse_loss(input, target, _reduction(size_average, reduce, reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _F.l1_loss(input, target, _reduction(size_average, reduce, reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    return _F.smooth_l1_loss(input, target, _reduction(size_average, reduce, reduction), float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0):
    return _F.huber_loss(input, target, reduction, float(delta))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    return _NN.binary_cross_entropy(input, target, weight, _reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    return _NN.binary_cross_entropy_with_logits(
        input, target, weight, _reduction(size_average, reduce, reduction), pos_weight)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    return _F.kl_div(input, target, _reduction(size_average, reduce, reduction), log_target)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    return _F.nll_loss(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    return _F.cross_entropy(input, target, weight, ignore_index,
                            _reduction(size_average, reduce, reduction), float(label_smoothing))


# Losses composed of existing ops (autograd and ember.compile come with the ops).

def _check_reduction(reduction, name):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"ember.nn.functional.{name}: {reduction!r} is not a valid value for "
                         "reduction; use 'none', 'mean' or 'sum'")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _shape(t):
    return list(t.shape)


def _concrete(*tensors):
    """True when every tensor holds data (not traced by ember.compile): data checks run then."""
    return all(t is not None and not t._is_symbolic for t in tensors)


def _class_targets(target, name):
    if target.dtype.is_floating_point or target.dtype == _C.dtype.bool:
        raise RuntimeError(f"ember.nn.functional.{name}: expected an integer (class index) target, "
                           f"got {target.dtype}")


def _vector_or_matrix(input, name):
    if not (input.dim() == 1 and input.numel() > 0 or input.dim() == 2 and input.shape[1] > 0):
        raise RuntimeError(f"ember.nn.functional.{name}: expected a non-empty vector or matrix "
                           f"with optional 0-dim batch size, but got: {_shape(input)}")


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin) (torch.nn.functional.margin_ranking_loss)."""
    reduction = _check_reduction(_reduction(size_average, reduce, reduction), "margin_ranking_loss")
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError("ember.nn.functional.margin_ranking_loss: all input tensors should have "
                           f"the same number of dimensions, but got sizes: input1: "
                           f"{_shape(input1)}, input2: {_shape(input2)}, target: {_shape(target)}")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """input where target == 1, max(0, margin - input) where target == -1
    (torch.nn.functional.hinge_embedding_loss)."""
    from .. import where
    reduction = _check_reduction(_reduction(size_average, reduce, reduction),
                                 "hinge_embedding_loss")
    margin_clamp = (margin - input).clamp(min=0)
    loss = where(target != 1, margin_clamp, 0.0) + where(target != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)) (torch.nn.functional.soft_margin_loss)."""
    reduction = _check_reduction(_reduction(size_average, reduce, reduction), "soft_margin_loss")
    loss = -logsigmoid(target * input)  # = log1p(exp(-target * input)), without overflow
    if _shape(loss) != _shape(input):
        raise RuntimeError(f"ember.nn.functional.soft_margin_loss: output with shape "
                           f"{_shape(input)} doesn't match the broadcast shape {_shape(loss)}")
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per-class binary cross-entropy with logits, averaged over the classes (the last dim)
    (torch.nn.functional.multilabel_soft_margin_loss)."""
    reduction = _check_reduction(_reduction(size_average, reduce, reduction),
                                 "multilabel_soft_margin_loss")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(input1, input2) where target == 1, max(0, cos - margin) where target == -1
    (torch.nn.functional.cosine_embedding_loss)."""
    from .. import where
    reduction = _check_reduction(_reduction(size_average, reduce, reduction),
                                 "cosine_embedding_loss")
    dim = target.dim()
    if dim > 1:
        raise RuntimeError("ember.nn.functional.cosine_embedding_loss: 0D or 1D target tensor "
                           f"expected, multi-target not supported (got {_shape(target)})")
    if dim == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError("ember.nn.functional.cosine_embedding_loss: 1D target tensor expects "
                           f"2D input tensors, but found inputs with sizes {_shape(input1)} and "
                           f"{_shape(input2)}")
    if dim == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError("ember.nn.functional.cosine_embedding_loss: 0D target tensor expects "
                           f"1D input tensors, but found inputs with sizes {_shape(input1)} and "
                           f"{_shape(input2)}")
    eps = 1e-12  # PyTorch's EPSILON
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def _triplet_dims(anchor, positive, negative, name):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p == n):
        raise RuntimeError(f"ember.nn.functional.{name}: the anchor, positive, and negative "
                           "tensors are expected to have the same number of dimensions, but got: "
                           f"anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm pairwise
    distance (torch.nn.functional.triplet_margin_loss)."""
    reduction = _check_reduction(_reduction(size_average, reduce, reduction), "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"ember.nn.functional.triplet_margin_loss: margin must be greater than 0, "
                         f"got {margin}")
    _triplet_dims(anchor, positive, negative, "triplet_margin_loss")
    from .. import minimum
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any distance, pairwise_distance by default
    (torch.nn.functional.triplet_margin_with_distance_loss)."""
    name = "triplet_margin_with_distance_loss"
    reduction = _check_reduction(reduction, name)
    if margin <= 0:
        raise ValueError(f"ember.nn.functional.{name}: margin must be greater than 0, got {margin}")
    _triplet_dims(anchor, positive, negative, name)
    from .. import minimum
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(input) - target * input (log_input) or input - target * log(input + eps), plus
    Stirling's term for target > 1 when full (torch.nn.functional.poisson_nll_loss)."""
    import math
    from .. import where
    reduction = _check_reduction(_reduction(size_average, reduce, reduction), "poisson_nll_loss")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = where(target > 1, target, 1.0)  # the term is 0 for target <= 1: keep log(0) out
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 * log(2 pi) when
    full), var of input's shape, or one dim short, or with one dim of size 1
    (torch.nn.functional.gaussian_nll_loss)."""
    import math
    from .. import ones_like
    name = "gaussian_nll_loss"
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"ember.nn.functional.{name}: var has negative entry/entries")
        var = var * ones_like(input)
    elif _concrete(var) and (var < 0).any().item():
        raise ValueError(f"ember.nn.functional.{name}: var has negative entry/entries")
    vs, ins = _shape(var), _shape(input)
    if vs != ins:
        if ins[:-1] == vs:  # homoscedastic: one variance per row
            var = var.unsqueeze(-1)
        elif len(ins) == len(vs) and sum(v for i, v in zip(ins, vs) if i != v) == 1:
            pass  # broadcastable, a single dimension of size 1
        else:
            raise ValueError(f"ember.nn.functional.{name}: var is of incorrect size {vs} for "
                             f"input of size {ins}")
    _check_reduction(reduction, name)
    # Clamped for stability, the gradient passing through as if unclamped (as in PyTorch).
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over j != y of max(0, margin - x[y] + x[j])^p (times weight[y]) / C per sample,
    y = target (torch.nn.functional.multi_margin_loss)."""
    from .. import where, index_select
    name = "multi_margin_loss"
    reduction = _check_reduction(_reduction(size_average, reduce, reduction), name)
    if p != 1 and p != 2:
        raise ValueError(f"ember.nn.functional.{name}: only p == 1 and p == 2 supported, got {p}")
    if weight is not None and weight.dim() != 1:
        raise ValueError(f"ember.nn.functional.{name}: weight must be one-dimensional, got "
                         f"{weight.dim()}D")
    _vector_or_matrix(input, name)
    _class_targets(target, name)
    C = input.shape[-1]
    n = 1 if input.dim() == 1 else input.shape[0]
    if target.dim() > 1 or target.numel() != n:
        raise RuntimeError(f"ember.nn.functional.{name}: target tensor should be 1-D with size "
                           f"equal to the number of input samples (batch size). Expected target "
                           f"size [{n}], but got {_shape(target)}. Input has shape "
                           f"{_shape(input)}.")
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"ember.nn.functional.{name}: inconsistent weight size, expected {C} "
                           f"but got {_shape(weight)}")
    if n and _concrete(target) and (target.min().item() < 0 or target.max().item() >= C):
        raise RuntimeError(f"ember.nn.functional.{name}: target out of range (expected class "
                           f"indices in [0, {C}))")
    x = input.reshape(n, C)
    t = target.reshape(n)
    z = (margin - x.gather(1, t.unsqueeze(1)) + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * index_select(weight, 0, t).unsqueeze(1)
    z = where(one_hot(t, C) != 0, 0.0, z)  # j == y does not count
    loss = (z.sum(1) / C).reshape(_shape(target))
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes k of max(0, 1 - (x[j] - x[k])) / C per
    sample; target holds class indices, ended by the first -1
    (torch.nn.functional.multilabel_margin_loss)."""
    from .. import where
    name = "multilabel_margin_loss"
    reduction = _check_reduction(_reduction(size_average, reduce, reduction), name)
    _vector_or_matrix(input, name)
    _class_targets(target, name)
    if _shape(target) != _shape(input):
        raise RuntimeError(f"ember.nn.functional.{name}: inconsistent target size: "
                           f"{_shape(target)} for input of size: {_shape(input)}")
    C = input.shape[-1]
    if target.numel() and _concrete(target) and (target.min().item() < -1
                                                 or target.max().item() >= C):
        raise RuntimeError(f"ember.nn.functional.{name}: target out of range (expected class "
                           f"indices in [0, {C}) or -1)")
    x = input.reshape(-1, C)
    t = target.reshape(-1, C)
    valid = (t == -1).cumsum(1) == 0                        # (N, C): the positions before the -1
    tc = t.clamp(min=0)
    is_target = where(valid.unsqueeze(2), one_hot(tc, C), 0).sum(1) > 0  # (N, C): per class
    xt = x.gather(1, tc)                                     # (N, C): x at each target position
    z = (1 - xt.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)  # (N, position j, class k)
    mask = valid.unsqueeze(2) & is_target.logical_not().unsqueeze(1)
    loss = where(mask, z, 0.0).sum((1, 2)) / C
    if input.dim() == 1:
        loss = loss.reshape([])
    return _reduce(loss, reduction)


# Convolution and pooling (im2col + GEMM in C++).

def _padding(padding):
    return padding if isinstance(padding, str) else _ints(padding, "padding")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _NN.conv(input, weight, bias, _ints(stride, "stride"), _padding(padding),
                    _ints(dilation, "dilation"), groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _NN.conv(input, weight, bias, _ints(stride, "stride"), _padding(padding),
                    _ints(dilation, "dilation"), groups, 2)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _NN.conv_transpose(input, weight, bias, _ints(stride, "stride"), _ints(padding, "padding"),
                              _ints(output_padding, "output_padding"), groups,
                              _ints(dilation, "dilation"), 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _NN.conv_transpose(input, weight, bias, _ints(stride, "stride"), _ints(padding, "padding"),
                              _ints(output_padding, "output_padding"), groups,
                              _ints(dilation, "dilation"), 2)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    return _NN.unfold(input, _ints(kernel_size, "kernel_size"), _ints(dilation, "dilation"),
                      _ints(padding, "padding"), _ints(stride, "stride"))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    return _NN.fold(input, _ints(output_size, "output_size"), _ints(kernel_size, "kernel_size"),
                    _ints(dilation, "dilation"), _ints(padding, "padding"), _ints(stride, "stride"))


def _stride(stride):
    return [] if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _ints(stride, "stride")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _NN.max_pool(input, _ints(kernel_size, "kernel_size"), _stride(stride),
                        _ints(padding, "padding"), _ints(dilation, "dilation"), ceil_mode,
                        return_indices, 1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _NN.max_pool(input, _ints(kernel_size, "kernel_size"), _stride(stride),
                        _ints(padding, "padding"), _ints(dilation, "dilation"), ceil_mode,
                        return_indices, 2)


def max_pool1d_with_indices(*args, **kwargs):
    return max_pool1d(*args, **{**kwargs, "return_indices": True})


def max_pool2d_with_indices(*args, **kwargs):
    return max_pool2d(*args, **{**kwargs, "return_indices": True})


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _NN.avg_pool(input, _ints(kernel_size, "kernel_size"), _stride(stride),
                        _ints(padding, "padding"), ceil_mode, count_include_pad, None, 1)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _NN.avg_pool(input, _ints(kernel_size, "kernel_size"), _stride(stride),
                        _ints(padding, "padding"), ceil_mode, count_include_pad, divisor_override, 2)


def _output_size(size):
    if size is None or isinstance(size, int):
        return [-1 if size is None else size]
    return [-1 if s is None else int(s) for s in size]


def adaptive_avg_pool1d(input, output_size):
    return _NN.adaptive_avg_pool(input, _output_size(output_size), 1)


def adaptive_avg_pool2d(input, output_size):
    return _NN.adaptive_avg_pool(input, _output_size(output_size), 2)


# Normalization.

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    if momentum is None:
        raise NotImplementedError("batch_norm: momentum=None (a cumulative average) is not "
                                  "supported yet")
    return _NN.batch_norm(input, running_mean, running_var, weight, bias, training,
                          float(momentum), float(eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    return _NN.group_norm(input, num_groups, weight, bias, float(eps))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise NotImplementedError("instance_norm: running statistics are not supported yet")
    return _NN.instance_norm(input, weight, bias, float(eps))


# Padding, resizing, attention.

def pad(input, pad, mode="constant", value=None):
    return _NN.pad(input, _ints(pad, "pad"), mode, 0.0 if value is None else float(value))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if antialias:
        raise NotImplementedError("interpolate: antialias is not supported yet")
    linear = mode in ("linear", "bilinear", "bicubic", "trilinear")
    if align_corners is not None and not linear:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    sizes = [] if size is None else _ints(size, "size")
    scales = [] if scale_factor is None else (
        [float(scale_factor)] if isinstance(scale_factor, (int, float)) else [float(f) for f in scale_factor])
    if recompute_scale_factor and scales:
        # The output size computed from the scale, then used as if given.
        spatial = input.dim() - 2
        sizes = [int(input.shape[2 + i] * (scales[0] if len(scales) == 1 else scales[i]))
                 for i in range(spatial)]
        scales = []
    return _NN.interpolate(input, sizes, scales, mode, bool(align_corners))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported yet")
    return _NN.sdpa(query, key, value, attn_mask, float(dropout_p), is_causal,
                    None if scale is None else float(scale))


def _clamp(input, min=None, max=None):
    return _F.clamp(input, min, max)


Tensor.clamp = _clamp
Tensor.clip = _clamp


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps) (torch.nn.functional.normalize)."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; assign the result instead")
    return input / input.norm(p=p, dim=dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along dim, the operands broadcast
    (torch.nn.functional.cosine_similarity): 0 for a zero vector."""
    from .. import broadcast_to
    from .._breadth import _broadcast_shape
    shape = _broadcast_shape([list(x1.shape), list(x2.shape)], "cosine_similarity")
    a, b = broadcast_to(x1, shape), broadcast_to(x2, shape)
    n = a.norm(p=2, dim=dim).clamp(min=eps) * b.norm(p=2, dim=dim).clamp(min=eps)
    return (a * b).sum(dim) / n


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (torch.nn.functional.pairwise_distance)."""
    return (x1 - x2 + eps).norm(p=p, dim=-1, keepdim=keepdim)
