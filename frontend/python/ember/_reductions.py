"""Reductions with PyTorch's signatures (dim as int, tuple or None; keepdim; correction)."""
import collections

from . import _C
from ._C import Tensor

_MinMax = collections.namedtuple("_MinMax", ["values", "indices"])


def _dims(dim):
    if dim is None:
        return []
    if isinstance(dim, int):
        return [dim]
    return list(dim)


def _cast(input, dtype, op):
    """The input converted for a dtype= argument (PyTorch converts before reducing)."""
    return input if dtype is None else _C._reduction_input(input, dtype, op)


def _as(out, dtype):
    # Integer sums and products accumulate in int64; dtype= asks for another integer type.
    return out if dtype is None or out.dtype == dtype else out.to(dtype)


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    return _as(_C._sum(_cast(input, dtype, "ember.sum"), _dims(dim), keepdim), dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    return _C._mean(_cast(input, dtype, "ember.mean"), _dims(dim), keepdim)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    return _as(_C._prod(_cast(input, dtype, "ember.prod"), _dims(dim), keepdim), dtype)


def amax(input, dim=(), keepdim=False):
    return _C._amax(input, _dims(dim), keepdim)


def amin(input, dim=(), keepdim=False):
    return _C._amin(input, _dims(dim), keepdim)


def argmax(input, dim=None, keepdim=False):
    return _C._argmax(input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _C._argmin(input, dim, keepdim)


def _at_indices(input, indices, dim):
    """input's entries at `indices` (keepdim-shaped) along dim: the gradient goes to those
    entries only, as for torch.max(input, dim)."""
    d = dim % input.dim()
    shape = [1] * input.dim()
    shape[d] = input.shape[d]
    positions = _C._arange(0, input.shape[d], 1, _C.dtype.int64).reshape(shape)
    return _C._sum(_C.where(_C.eq(positions, indices), input, 0.0), [d], True)


def _min_max(reduce, arg, elementwise):
    def f(input, dim=None, keepdim=False):
        if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
            return elementwise(input, dim)
        if dim is None:
            return reduce(input, [], False)
        indices = arg(input, dim, True)
        if input.requires_grad and _C.is_grad_enabled() and input.dim() > 0:
            values = _at_indices(input, indices, dim)
        else:
            values = reduce(input, [dim], True)
        if not keepdim and input.dim() > 0:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        elif not keepdim:
            values, indices = values.reshape(()), indices.reshape(())
        return _MinMax(values, indices)
    return f


max = _min_max(_C._amax, _C._argmax, lambda a, b: _C.maximum(a, b))  # noqa: A001
min = _min_max(_C._amin, _C._argmin, lambda a, b: _C.minimum(a, b))  # noqa: A001


def _correction(unbiased, correction):
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _C._var(input, _dims(dim), _correction(unbiased, correction), keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _C._std(input, _dims(dim), _correction(unbiased, correction), keepdim)


def logsumexp(input, dim, keepdim=False):
    return _C._logsumexp(input, _dims(dim), keepdim)


def softmax(input, dim, dtype=None):
    """softmax along dim; dtype: the input is cast to it first (torch's dtype argument)."""
    return _C._softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim, dtype=None):
    return _C._log_softmax(input if dtype is None else input.to(dtype), dim)


def all(input, dim=None, keepdim=False):  # noqa: A001
    return _C._all(input, _dims(dim), keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001
    return _C._any(input, _dims(dim), keepdim)


FUNCTIONS = ["sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "max", "min", "var",
             "std", "logsumexp", "softmax", "log_softmax", "all", "any"]

for _name in FUNCTIONS:
    setattr(Tensor, _name, globals()[_name])
del _name
