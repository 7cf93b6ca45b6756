"""Pointwise ops beyond the op records, and PyTorch's signatures for some records (div with
rounding_mode, pow's checks, the bitwise and arithmetic operators), scans and extra reductions."""
import collections

from . import _C
from ._C import Tensor
from ._reductions import _correction, _dims


def _inplace(fn, name):
    def method(self, *args, **kwargs):
        return _C._assign_(self, fn(self, *args, **kwargs), f"ember.Tensor.{name}_")
    method.__name__ = name + "_"
    return method


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return _C.div(input, other)
    if rounding_mode == "trunc":
        return _C.trunc_divide(input, other)
    if rounding_mode == "floor":
        return _C.floor_divide(input, other)
    raise RuntimeError(f"ember.div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


divide = div


def pow(input, exponent):  # noqa: A001
    if (isinstance(exponent, int) and not isinstance(exponent, bool) and exponent < 0
            and isinstance(input, Tensor) and not input.dtype.is_floating_point):
        raise RuntimeError("ember.pow: integers to negative integer powers are not allowed "
                           f"(exponent {exponent} on a {input.dtype} tensor); convert the "
                           "base with .to(ember.float32)")
    return _C.pow(input, exponent)


def float_power(input, exponent):
    return _C._float_power(input, exponent)


def square(input):
    return _C._square(input)


def frac(input):
    return _C._frac(input)


def isposinf(input):
    return _C._isposinf(input)


def isneginf(input):
    return _C._isneginf(input)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return _C._nan_to_num(input, nan, posinf, neginf)


def lerp(input, end, weight):
    return _C._lerp(input, end, weight)


def addcmul(input, tensor1, tensor2, *, value=1):
    return _C._addcmul(input, tensor1, tensor2, float(value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    return _C._addcdiv(input, tensor1, tensor2, float(value))


def clamp(input, min=None, max=None):  # noqa: A002
    return _C._clamp(input, min, max)


clip = clamp


def clamp_min(input, min):  # noqa: A002
    return _C._clamp(input, min, None)


def clamp_max(input, max):  # noqa: A002
    return _C._clamp(input, None, max)



def cumsum(input, dim, *, dtype=None):
    return _C._cumsum(input, dim, dtype)


def cumprod(input, dim, *, dtype=None):
    return _C._cumprod(input, dim, dtype)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _C._var_mean(input, _dims(dim), _correction(unbiased, correction), keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _C._std_mean(input, _dims(dim), _correction(unbiased, correction), keepdim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    if not isinstance(ord, (int, float)) or isinstance(ord, bool):
        raise TypeError(f"ember.linalg.vector_norm: ord must be a number, got {ord!r}")
    return _C._vector_norm(x, float(ord), _dims(dim), keepdim, dtype)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p == "fro":
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"ember.norm: p={p!r} is not supported; use a number or 'fro'")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def count_nonzero(input, dim=None):
    return _C._count_nonzero(input, _dims(dim))


_AminMax = collections.namedtuple("aminmax", ["min", "max"])


def aminmax(input, *, dim=None, keepdim=False):
    dims = _dims(dim)
    return _AminMax(_C._amin(input, dims, keepdim), _C._amax(input, dims, keepdim))


# Python operators on tensors, as in PyTorch.
def _reflect(fn):
    return lambda self, other: fn(other, self)


Tensor.__floordiv__ = lambda self, other: _C.floor_divide(self, other)
Tensor.__rfloordiv__ = _reflect(_C.floor_divide)
Tensor.__mod__ = lambda self, other: _C.remainder(self, other)
Tensor.__rmod__ = _reflect(_C.remainder)
Tensor.__pow__ = lambda self, other: pow(self, other)
Tensor.__rpow__ = _reflect(_C.pow)
Tensor.__and__ = lambda self, other: _C.bitwise_and(self, other)
Tensor.__rand__ = _reflect(_C.bitwise_and)
Tensor.__or__ = lambda self, other: _C.bitwise_or(self, other)
Tensor.__ror__ = _reflect(_C.bitwise_or)
Tensor.__xor__ = lambda self, other: _C.bitwise_xor(self, other)
Tensor.__rxor__ = _reflect(_C.bitwise_xor)
Tensor.__lshift__ = lambda self, other: _C.bitwise_left_shift(self, other)
Tensor.__rlshift__ = _reflect(_C.bitwise_left_shift)
Tensor.__rshift__ = lambda self, other: _C.bitwise_right_shift(self, other)
Tensor.__rrshift__ = _reflect(_C.bitwise_right_shift)


def _invert(self):
    if self.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and bool tensors, "
                        f"got {self.dtype}")
    return _C.bitwise_not(self)


Tensor.__invert__ = _invert
# (+=, -=, *=, /= still rebind the name, as before: in place they would refuse tensors that
# require grad, which autograd's version counters have to allow first.)
for _op, _record in [("ifloordiv", "floor_divide"), ("imod", "remainder"), ("ipow", "pow"),
                     ("iand", "bitwise_and"), ("ior", "bitwise_or"), ("ixor", "bitwise_xor"),
                     ("ilshift", "bitwise_left_shift"), ("irshift", "bitwise_right_shift")]:
    setattr(Tensor, f"__{_op}__", getattr(Tensor, _record + "_"))

_round_record = _C.round


def round(input, *, decimals=0):  # noqa: A001
    """Round half to even; with decimals, round(input * 10**decimals) / 10**decimals, as
    torch.round (integers are returned as they are when decimals is 0)."""
    if not decimals:
        return _round_record(input)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"round: decimals={decimals} needs a floating-point tensor, got "
                           f"{input.dtype}")
    scale = 10.0 ** decimals
    return _round_record(input * scale) / scale


# Methods and in-place variants of the functions above.
Tensor.round = round
Tensor.round_ = lambda self, *, decimals=0: self.copy_(round(self, decimals=decimals))
Tensor.div = lambda self, other, *, rounding_mode=None: div(self, other, rounding_mode=rounding_mode)
Tensor.div_ = _inplace(Tensor.div, "div")
Tensor.divide = Tensor.div
Tensor.divide_ = Tensor.div_
Tensor.pow = pow
Tensor.pow_ = _inplace(pow, "pow")
Tensor.__ipow__ = Tensor.pow_
Tensor.float_power = float_power
Tensor.float_power_ = _inplace(float_power, "float_power")
Tensor.lerp = lerp
Tensor.addcmul = addcmul
Tensor.addcdiv = addcdiv
Tensor.clamp = clamp
Tensor.clip = clamp
Tensor.clamp_min = clamp_min
Tensor.clamp_max = clamp_max
Tensor.cumsum = cumsum
Tensor.cumprod = cumprod
Tensor.norm = norm
Tensor.count_nonzero = count_nonzero
Tensor.aminmax = aminmax
for _name, _fn in [("square", square), ("frac", frac), ("isposinf", isposinf),
                   ("isneginf", isneginf), ("nan_to_num", nan_to_num)]:
    setattr(Tensor, _name, _fn)
for _name in ["lerp", "addcmul", "addcdiv", "clamp", "clip", "clamp_min", "clamp_max", "square",
              "frac", "nan_to_num", "cumsum", "cumprod"]:
    setattr(Tensor, _name + "_", _inplace(getattr(Tensor, _name), _name))

FUNCTIONS = ["round", "div", "divide", "pow", "float_power", "square", "frac", "isposinf", "isneginf",
             "nan_to_num", "lerp", "addcmul", "addcdiv", "clamp", "clip", "clamp_min",
             "clamp_max", "cumsum", "cumprod", "var_mean", "std_mean", "norm", "count_nonzero",
             "aminmax"]
del _op, _record, _name, _fn

