"""CUDA autocast's float32 pointwise ops and sum (torch's AT_FORALL_FP32 and
AT_FORALL_FP32_SET_OPT_DTYPE lists, on the CUDA device only): applied at their Python entry,
because ember's C++ composites (mean, var, softmax, losses, ...) call these ops internally,
where PyTorch would not cast (its versions are single kernels). C++ callers of ember::exp etc.
get no cast."""
from .. import _C
from .._C import Tensor

_LOW = None
_UNARY = ["acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
          "reciprocal", "rsqrt", "sinh", "tan"]


def _to_fp32(x):
    if isinstance(x, Tensor) and x.dtype in _LOW and x.is_cuda:
        return x.float()
    return x


def _unary(fn):
    def wrapper(input, *args, **kwargs):
        if _C._autocast_active("cuda"):
            input = _to_fp32(input)
        return fn(input, *args, **kwargs)
    wrapper.__name__ = getattr(fn, "__name__", "op")
    wrapper.__doc__ = getattr(fn, "__doc__", None)
    return wrapper


def _binary(fn):
    def wrapper(a, b, *args, **kwargs):
        if _C._autocast_active("cuda"):
            a, b = _to_fp32(a), _to_fp32(b)
        return fn(a, b, *args, **kwargs)
    wrapper.__name__ = getattr(fn, "__name__", "op")
    wrapper.__doc__ = getattr(fn, "__doc__", None)
    return wrapper


def _sum(fn):
    def wrapper(input, *args, dtype=None, **kwargs):
        if dtype is None and _C._autocast_active("cuda"):
            input = _to_fp32(input)
        return fn(input, *args, dtype=dtype, **kwargs)
    wrapper.__name__ = "sum"
    wrapper.__doc__ = getattr(fn, "__doc__", None)
    return wrapper


def install(ember):
    global _LOW
    _LOW = (ember.float16, ember.bfloat16)
    for name in _UNARY:
        if hasattr(ember, name):
            setattr(ember, name, _unary(getattr(ember, name)))
        if hasattr(Tensor, name):
            setattr(Tensor, name, _unary(getattr(Tensor, name)))
    for name in ("pow", "__pow__", "__rpow__"):
        if name == "pow":
            ember.pow = _binary(ember.pow)
        if hasattr(Tensor, name):
            setattr(Tensor, name, _binary(getattr(Tensor, name)))
    ember.sum = _sum(ember.sum)
    Tensor.sum = _sum(Tensor.sum)
