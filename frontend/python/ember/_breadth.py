"""PyTorch API breadth: small ops written as compositions of existing ember ops (so autograd and
ember.compile cover them with no new kernels), as ember functions and Tensor methods with
PyTorch's names and signatures.

Tensor methods: new_ones/new_zeros/new_full/new_empty/new_tensor, type_as, view_as, expand_as,
reshape_as, ndimension, nelement, is_complex, nbytes/itemsize (properties), positive.
Functions (and methods where PyTorch has them): isclose, allclose, equal, broadcast_to,
swapaxes/swapdims/moveaxis, diag, diagonal, trace, hypot, logaddexp(2), xlogy, deg2rad, rad2deg,
true_divide, absolute, negative, signbit, nansum, nanmean, diff, cross, kron, rot90,
h/v/d/column_stack, atleast_1d/2d/3d, meshgrid, cartesian_prod, tensor_split, h/v/dsplit, take,
cummax, cummin, logcumsumexp, median, kthvalue, searchsorted, bucketize, bincount."""
import builtins
import collections
import math

import numpy as np

from . import _C
from ._C import Tensor, dtype as _dtype
from ._device import _place, _spec
from ._reductions import _dims

_S = _C._shape
_INT64 = _dtype.int64

_Cummax = collections.namedtuple("cummax", ["values", "indices"])
_Cummin = collections.namedtuple("cummin", ["values", "indices"])
_Median = collections.namedtuple("median", ["values", "indices"])
_Kthvalue = collections.namedtuple("kthvalue", ["values", "indices"])


# ---------------------------------------------------------------------------------- helpers

def _wrap(dim, ndim, name):
    """dim in [0, ndim), from a possibly negative dim (0-d tensors take dim 0 / -1)."""
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{name}: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n


def _sizes(args, name):
    """(2, 3), ((2, 3),) or ([2, 3],) as a list of ints, like PyTorch's *size arguments."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    out = []
    for a in args:
        if isinstance(a, builtins.bool) or not isinstance(a, int):
            raise TypeError(f"{name}: size must be a sequence of ints, got {type(a).__name__}")
        out.append(a)
    return out


def _broadcast_shape(shapes, name):
    nd = builtins.max(len(s) for s in shapes)
    out = []
    for i in range(nd):
        sizes = {s[i - nd + len(s)] for s in shapes if i - nd + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise RuntimeError(f"{name}: shapes {[list(s) for s in shapes]} cannot be broadcast "
                               "together")
        out.append(sizes.pop() if sizes else 1)
    return out


def _float_dtype(t):
    return t.dtype if t.dtype.is_floating_point else _dtype.float32


def _as_float(t):
    return t if t.dtype.is_floating_point else t.to(_dtype.float32)


def _require_tensor(x, what, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor, got {type(x).__name__}")


def _require_float(x, name):
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating-point tensor, got {x.dtype}")


def _positions(n):
    return _C._arange(0.0, float(n), 1.0, _INT64)


# ------------------------------------------------------------------ Tensor-only methods

def _new(self, size, value, dtype, device, requires_grad):
    dev = self.device if device is None else device
    t = _C._full_on(size, float(value), dtype or self.dtype, _spec(dev))
    return t.requires_grad_(True) if requires_grad else t


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given size, with self's dtype and device unless given."""
    return _new(self, _sizes(size, "Tensor.new_ones"), 1, dtype, device, requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of the given size, with self's dtype and device unless given."""
    return _new(self, _sizes(size, "Tensor.new_zeros"), 0, dtype, device, requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor filled with fill_value, with self's dtype and device unless given."""
    return _new(self, _sizes((size,), "Tensor.new_full"), fill_value, dtype, device, requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size, with self's dtype and device unless given."""
    dev = self.device if device is None else device
    t = _C._empty_on(_sizes(size, "Tensor.new_empty"), dtype or self.dtype, _spec(dev))
    return t.requires_grad_(True) if requires_grad else t


_NUMPY_DTYPE = {_dtype.float16: np.float16, _dtype.float32: np.float32, _dtype.float64: np.float64,
                _dtype.int8: np.int8, _dtype.int16: np.int16, _dtype.int32: np.int32,
                _dtype.int64: np.int64, _dtype.uint8: np.uint8, _dtype.bool: np.bool_}


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor (a copy) of data, with self's dtype and device unless given."""
    dtype = dtype or self.dtype
    if isinstance(data, Tensor):
        t = data.detach().clone().to(dtype)
    elif dtype in _NUMPY_DTYPE:  # straight to the dtype: float64 data keeps its precision
        t = _C._from_array(np.array(data, dtype=_NUMPY_DTYPE[dtype], order="C"))
    else:
        from . import tensor
        t = tensor(data).to(dtype)
    t = _place(t, self.device if device is None else device)
    return t.requires_grad_(True) if requires_grad else t


def type_as(self, tensor):
    """self converted to tensor's dtype."""
    return self.to(tensor.dtype)


def view_as(self, other):
    """self viewed with other's shape (self.view(other.shape))."""
    return self.view(list(other.shape))


def expand_as(self, other):
    """self expanded (a view) to other's shape."""
    return self.expand(list(other.shape))


def reshape_as(self, other):
    """self reshaped to other's shape."""
    return self.reshape(list(other.shape))


def is_complex(input):
    """False: ember has no complex dtypes."""
    return False


def positive(input):
    """input itself (+input); bool tensors are refused, as in PyTorch."""
    if input.dtype == _dtype.bool:
        raise RuntimeError("ember.positive: the `+` operator, on a bool tensor is not supported.")
    return input


# ----------------------------------------------------------------------- comparisons

def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (equal values, infinities included,
    are close; NaNs are close to each other only with equal_nan)."""
    if input.dtype != other.dtype:
        raise RuntimeError(f"ember.isclose: input ({input.dtype}) and other ({other.dtype}) must "
                           "have the same dtype")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"ember.isclose: rtol and atol must be non-negative, got rtol={rtol}, "
                           f"atol={atol}")
    close = _C.eq(input, other)
    if equal_nan and input.dtype.is_floating_point:
        close = _C.logical_or(close, _C.logical_and(_C.isnan(input), _C.isnan(other)))
    if (rtol == 0 and atol == 0) or input.dtype == _dtype.bool:
        return close
    a, b = _as_float(input), _as_float(other)
    error = _C.abs(_C.sub(a, b))
    allowed = _C.add(_C.mul(_C.abs(b), float(rtol)), float(atol))
    return _C.logical_or(close, _C.logical_and(_C.isfinite(error), _C.le(error, allowed)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of input is close to other's (a Python bool; see isclose)."""
    return builtins.bool(_C._all(isclose(input, other, rtol, atol, equal_nan), [], False).item())


def equal(input, other):
    """True if the tensors have the same shape and the same elements (a Python bool)."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return builtins.bool(_C._all(_C.eq(input, other), [], False).item())


# ------------------------------------------------------------------- shapes and views

def broadcast_to(input, size):
    """input expanded (a view) to size; -1 keeps a dim's size."""
    return input.expand(_sizes((size,), "ember.broadcast_to"))


def swapaxes(input, axis0, axis1):
    """Alias of transpose."""
    return input.transpose(axis0, axis1)


def swapdims(input, dim0, dim1):
    """Alias of transpose."""
    return input.transpose(dim0, dim1)


def moveaxis(input, source, destination):
    """Alias of movedim: moves dims (an int or a sequence) of input to new positions."""
    if isinstance(source, int) and isinstance(destination, int):
        return _S.movedim(input, source, destination)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    nd = input.dim()
    if len(src) != len(dst):
        raise RuntimeError(f"ember.moveaxis: source ({len(src)} dims) and destination "
                           f"({len(dst)} dims) must have the same number of dims")
    src = [_wrap(d, nd, "ember.moveaxis") for d in src]
    dst = [_wrap(d, nd, "ember.moveaxis") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("ember.moveaxis: repeated dim in source or destination")
    rest = iter(d for d in range(nd) if d not in src)
    where = dict(zip(dst, src))
    return input.permute([where[i] if i in where else next(rest) for i in range(nd)])


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of input over dims dim1 and dim2 (offset > 0: above the main diagonal),
    appended as the last dim. Unlike PyTorch this is a copy, not a view (ember has no strided
    view for it): writes to the result do not reach input. Gradients flow to input."""
    nd = input.dim()
    if nd < 2:
        raise RuntimeError(f"ember.diagonal: expected a tensor with at least 2 dims, got {nd}")
    d1, d2 = _wrap(dim1, nd, "ember.diagonal"), _wrap(dim2, nd, "ember.diagonal")
    if d1 == d2:
        raise RuntimeError(f"ember.diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    x = input.permute([d for d in range(nd) if d not in (d1, d2)] + [d1, d2])
    r0, c0 = builtins.max(-offset, 0), builtins.max(offset, 0)
    n = builtins.max(0, builtins.min(x.shape[-2] - r0, x.shape[-1] - c0))
    rows = _C.add(_positions(n), r0)
    cols = _C.add(_positions(n), c0)
    return _S.index(x, [None] * (nd - 2) + [rows, cols])


def diag(input, diagonal=0):
    """1-D input: a square matrix with input on the given diagonal; 2-D input: that diagonal
    as a 1-D tensor (a copy; see ember.diagonal)."""
    if input.dim() == 2:
        return globals()["diagonal"](input, diagonal)
    if input.dim() != 1:
        raise RuntimeError(f"ember.diag: expected a 1-D or 2-D tensor, got {input.dim()}-D")
    n, k = input.shape[0], diagonal
    size = n + builtins.abs(k)
    pos = _positions(n)
    rows, cols = _C.add(pos, builtins.max(-k, 0)), _C.add(pos, builtins.max(k, 0))
    return _S.index_put(_C.zeros([size, size], input.dtype), [rows, cols], input, False)


def trace(input):
    """The sum of the main diagonal of a 2-D tensor."""
    if input.dim() != 2:
        raise RuntimeError(f"ember.trace: expected a 2-D tensor, got {input.dim()}-D")
    return _C._sum(diagonal(input), [], False)


def kron(input, other):
    """The Kronecker product: blocks input[i] * other, of shape input.shape * other.shape."""
    nd = builtins.max(input.dim(), other.dim())
    sa = [1] * (nd - input.dim()) + list(input.shape)
    sb = [1] * (nd - other.dim()) + list(other.shape)
    a = input.reshape([v for s in sa for v in (s, 1)])
    b = other.reshape([v for s in sb for v in (1, s)])
    return _C.mul(a, b).reshape([x * y for x, y in zip(sa, sb)])


def rot90(input, k=1, dims=(0, 1)):
    """input rotated by 90 degrees k times, from the first dim in dims towards the second."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"ember.rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"ember.rot90: expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = (_wrap(d, input.dim(), "ember.rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"ember.rot90: expected rotation dims to be different, got {dims}")
    k %= 4
    if k == 1:
        return _S.flip(input, [d1]).transpose(d0, d1)
    if k == 2:
        return _S.flip(input, [d0, d1])
    if k == 3:
        return _S.flip(input, [d0]).transpose(d0, d1)
    return input.clone()


def _tensor_list(tensors, name):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    for t in tensors:
        _require_tensor(t, "every argument", name)
    return list(tensors)


def _atleast(fn, name):
    def f(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], Tensor):
            return fn(tensors[0])
        return tuple(fn(t) for t in _tensor_list(tensors, name))
    f.__name__ = name.split(".")[-1]
    return f


def _at_least_1d(t):
    return t.reshape([1]) if t.dim() == 0 else t


def _at_least_2d(t):
    return t.reshape([1, 1]) if t.dim() == 0 else (t.unsqueeze(0) if t.dim() == 1 else t)


def _at_least_3d(t):
    if t.dim() == 0:
        return t.reshape([1, 1, 1])
    if t.dim() == 1:
        return t.unsqueeze(0).unsqueeze(2)
    return t.unsqueeze(2) if t.dim() == 2 else t


atleast_1d = _atleast(_at_least_1d, "ember.atleast_1d")
atleast_1d.__doc__ = "Each tensor as at least 1-D (0-d becomes shape (1,)); one tensor in, one out."
atleast_2d = _atleast(_at_least_2d, "ember.atleast_2d")
atleast_2d.__doc__ = "Each tensor as at least 2-D (a 1-D (n,) becomes (1, n))."
atleast_3d = _atleast(_at_least_3d, "ember.atleast_3d")
atleast_3d.__doc__ = "Each tensor as at least 3-D ((n,) becomes (1, n, 1), (m, n) becomes (m, n, 1))."


def hstack(tensors):
    """Concatenates column-wise: along dim 1, or dim 0 for 1-D tensors."""
    ts = [_at_least_1d(t) for t in _tensor_list((tensors,), "ember.hstack")]
    return _C.cat(ts, 0 if ts and ts[0].dim() == 1 else 1)


def vstack(tensors):
    """Concatenates row-wise (along dim 0) after atleast_2d."""
    return _C.cat([_at_least_2d(t) for t in _tensor_list((tensors,), "ember.vstack")], 0)


row_stack = vstack


def dstack(tensors):
    """Concatenates depth-wise (along dim 2) after atleast_3d."""
    return _C.cat([_at_least_3d(t) for t in _tensor_list((tensors,), "ember.dstack")], 2)


def column_stack(tensors):
    """Concatenates along dim 1, 0-d and 1-D tensors taken as columns."""
    ts = _tensor_list((tensors,), "ember.column_stack")
    return _C.cat([t.reshape([t.numel(), 1]) if t.dim() <= 1 else t for t in ts], 1)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 0-d/1-D tensors; indexing='ij' (the default, as
    in PyTorch) or 'xy' (Cartesian: the first two output dims swapped)."""
    ts = _tensor_list(tensors, "ember.meshgrid")
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"ember.meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in ts:
        if t.dim() > 1:
            raise RuntimeError(f"ember.meshgrid: expected 0-D or 1-D tensors, got {t.dim()}-D")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = [t.numel() for t in ts]
    outs = [t.reshape([-1 if i == j else 1 for j in range(len(ts))]).expand(sizes)
            for i, t in enumerate(ts)]
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)


def cartesian_prod(*tensors):
    """All combinations of the 1-D tensors' elements, one per row (like itertools.product)."""
    ts = _tensor_list(tensors, "ember.cartesian_prod")
    for t in ts:
        if t.dim() != 1:
            raise RuntimeError(f"ember.cartesian_prod: expected 1-D tensors, got {t.dim()}-D")
    if len(ts) == 1:
        return ts[0]
    return _C.stack([g.reshape([-1]) for g in meshgrid(*ts, indexing="ij")], 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Views of input split along dim: into n nearly equal parts (an int; the first
    size % n parts are one longer) or at the given indices (a list), like numpy.array_split."""
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype != _INT64 or ios.dim() > 1:
            raise RuntimeError("ember.tensor_split: indices_or_sections must be a 0-D or 1-D "
                               f"int64 tensor, got {ios.dim()}-D {ios.dtype}")
        ios = ios.item() if ios.dim() == 0 else ios.tolist()
    if input.dim() == 0:
        raise RuntimeError("ember.tensor_split: expected at least a 1-dimensional tensor")
    d = _wrap(dim, input.dim(), "ember.tensor_split")
    n = input.shape[d]
    if isinstance(ios, int) and not isinstance(ios, builtins.bool):
        if ios <= 0:
            raise RuntimeError(f"ember.tensor_split: number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        lengths = [q + 1] * r + [q] * (ios - r)
        starts = [builtins.sum(lengths[:i]) for i in range(ios)]
        return tuple(input.narrow(d, s, length) for s, length in zip(starts, lengths))
    bounds = list(ios)
    out, prev = [], 0
    for b in bounds + [None]:
        start, stop, _ = slice(prev, b).indices(n)
        out.append(input.narrow(d, start, builtins.max(stop - start, 0)))
        prev = b
    return tuple(out)


def _split_along(input, ios, dim, min_dims, name):
    if input.dim() < min_dims:
        raise RuntimeError(f"{name}: requires a tensor with at least {min_dims} dimension(s), but "
                           f"got a tensor with {input.dim()} dimensions")
    if isinstance(ios, int) and (ios <= 0 or input.shape[dim] % ios):
        raise RuntimeError(f"{name}: attempted to split along dimension {dim}, but the size of "
                           f"the dimension {input.shape[dim]} is not divisible by the split_size {ios}")
    return tensor_split(input, ios, dim)


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for 1-D input); an int must divide the size."""
    return _split_along(input, indices_or_sections, 1 if input.dim() >= 2 else 0, 1, "ember.hsplit")


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of an at least 2-D tensor; an int must divide the size."""
    return _split_along(input, indices_or_sections, 0, 2, "ember.vsplit")


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of an at least 3-D tensor; an int must divide the size."""
    return _split_along(input, indices_or_sections, 2, 3, "ember.dsplit")


def take(input, index):
    """input read as 1-D at index (int64, negative counts from the end); the result has
    index's shape."""
    if index.dtype != _INT64:
        raise RuntimeError(f"ember.take: expected an int64 index tensor, got {index.dtype}")
    return _S.index(input.reshape([-1]), [index])


# ------------------------------------------------------------------------- pointwise

def hypot(input, other):
    """sqrt(input**2 + other**2) elementwise, scaled by the larger magnitude so that it does
    not overflow or underflow where the result is representable."""
    a, b = input, other
    for t in (a, b):
        if isinstance(t, Tensor):
            _require_float(t, "ember.hypot")
    # The scale is a constant for autograd: r = s * sqrt((a/s)^2 + (b/s)^2) has the gradient
    # a / r for any constant s.
    m = _C.maximum(_C.abs(a), _C.abs(b))
    scale = _C.where(_C.eq(m, 0.0), 1.0, m).detach()
    r = _C.mul(scale, _C.sqrt(_C.add(_C._square(_C.div(a, scale)), _C._square(_C.div(b, scale)))))
    return _C.where(_C.logical_or(_C.isinf(a), _C.isinf(b)), math.inf, r)


def logaddexp(input, other):
    """log(exp(input) + exp(other)) elementwise, without overflow."""
    _require_float(input, "ember.logaddexp")
    _require_float(other, "ember.logaddexp")
    shape = _broadcast_shape([input.shape, other.shape], "ember.logaddexp")
    both = _C.stack([input.expand(shape), other.expand(shape)], 0)
    r = _C._logsumexp(both, [0], False)
    return _C.where(_C.logical_or(_C._isposinf(input), _C._isposinf(other)), math.inf, r)


def logaddexp2(input, other):
    """log2(2**input + 2**other) elementwise, without overflow."""
    ln2 = math.log(2.0)
    return _C.div(logaddexp(_C.mul(input, ln2), _C.mul(other, ln2)), ln2)


def xlogy(input, other):
    """input * log(other), 0 where input is 0 (unless other is NaN); integer inputs give float."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("ember.xlogy: expected at least one Tensor argument")
    like = input if isinstance(input, Tensor) else other
    fd = _float_dtype(like)
    x = input if isinstance(input, Tensor) else _C.full([], float(input), fd)
    y = other if isinstance(other, Tensor) else _C.full([], float(other), fd)
    out = _C.where(_C.eq(x, 0), 0.0, _C.mul(_as_float(x), _C.log(_as_float(y))))
    return _C.where(_C.isnan(y), math.nan, out) if y.dtype.is_floating_point else out


def deg2rad(input):
    """input (degrees) in radians; integer inputs give float32."""
    return _C.mul(_as_float(input), math.pi / 180.0)


def rad2deg(input):
    """input (radians) in degrees; integer inputs give float32."""
    return _C.mul(_as_float(input), 180.0 / math.pi)


def true_divide(dividend, divisor):
    """Alias of div with rounding_mode=None (true division; integers give float)."""
    return _C.div(dividend, divisor)


def absolute(input):
    """Alias of abs."""
    return _C.abs(input)


def negative(input):
    """Alias of neg."""
    return _C.neg(input)


def signbit(input):
    """True where the sign bit is set (negative numbers and -0.0). Limitation: computed by
    comparisons, so a NaN with its sign bit set gives False (PyTorch: True)."""
    if input.dtype.is_floating_point:
        neg_zero = _C.logical_and(_C.eq(input, 0.0), _C.lt(_C.reciprocal(input), 0.0))
        return _C.logical_or(_C.lt(input, 0.0), neg_zero)
    if input.dtype == _dtype.bool:
        return _C.ne(input, input)
    return _C.lt(input, 0)


# ------------------------------------------------------------------------ reductions

def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """sum, with NaNs counted as zero."""
    from ._reductions import sum as _sum
    x = input if not input.dtype.is_floating_point else _C.where(_C.isnan(input), 0.0, input)
    return _sum(x, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """mean over the non-NaN elements (NaN where all are NaN)."""
    x = input if dtype is None else input.to(dtype)
    _require_float(x, "ember.nanmean")
    count = _C._sum(_C.logical_not(_C.isnan(x)), _dims(dim), keepdim)
    return _C.div(nansum(x, dim, keepdim), count)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim (logical xor for bool), after concatenating
    prepend and append (tensors) along dim."""
    if input.dim() == 0:
        raise RuntimeError("ember.diff: expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"ember.diff: order must be non-negative but got {n}")
    d = _wrap(dim, input.dim(), "ember.diff")
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is not None:
            _require_tensor(extra, f"argument '{name}'", "ember.diff")
            if extra.dim() != input.dim():
                raise RuntimeError(f"ember.diff: {name} must have as many dims as input "
                                   f"({input.dim()}), got {extra.dim()}")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = _C.cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        hi, lo = x.narrow(d, 1, length - 1), x.narrow(d, 0, length - 1)
        x = _C.logical_xor(hi, lo) if x.dtype == _dtype.bool else _C.sub(hi, lo)
    return x


def cross(input, other, dim=None):
    """The 3-D cross product along dim (default: the first dim of size 3), broadcasting."""
    if input.dim() != other.dim():
        raise RuntimeError(f"ember.cross: inputs must have the same number of dims, got "
                           f"{input.dim()} and {other.dim()}")
    shape = _broadcast_shape([input.shape, other.shape], "ember.cross")
    if dim is None:
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError(f"ember.cross: no dimension of size 3 in input (shape {shape})")
        d = dims[0]
    else:
        d = _wrap(dim, len(shape), "ember.cross")
    if not shape or shape[d] != 3:
        raise RuntimeError(f"ember.cross: dimension {dim} does not have size 3 "
                           f"(inputs broadcast to shape {shape})")
    a, b = input.expand(shape), other.expand(shape)
    a0, a1, a2 = (a.select(d, i) for i in range(3))
    b0, b1, b2 = (b.select(d, i) for i in range(3))
    return _C.stack([_C.sub(_C.mul(a1, b2), _C.mul(a2, b1)),
                     _C.sub(_C.mul(a2, b0), _C.mul(a0, b2)),
                     _C.sub(_C.mul(a0, b1), _C.mul(a1, b0))], d)


def _prefix_mask(n):
    """[n, n] bool: entry (i, j) is j <= i."""
    pos = _positions(n)
    return _C.le(pos.unsqueeze(0), pos.unsqueeze(1))


def _cum_extreme(input, dim, largest, result, name):
    if input.dim() == 0:
        return result(input.clone(), _C.zeros([], _INT64))
    d = _wrap(dim, input.dim(), name)
    x = _S.movedim(input.detach(), d, -1)
    n = x.shape[-1]
    if n == 0:
        return result(input.clone(), _C.zeros(list(input.shape), _INT64))
    mask = _prefix_mask(n)
    rows = x.unsqueeze(-2)  # [..., 1, n]: row i sees x[j]; masked-off j take x[0] (always in)
    seen = _C.where(mask, rows, x.narrow(-1, 0, 1).unsqueeze(-1))
    best = (_C._amax if largest else _C._amin)(seen, [-1], False).unsqueeze(-1)
    hit = _C.eq(rows, best)
    if x.dtype.is_floating_point:
        hit = _C.logical_or(hit, _C.logical_and(_C.isnan(rows), _C.isnan(best)))
    last = _C.where(_C.logical_and(mask, hit), _positions(n), -1)
    indices = _S.movedim(_C._amax(last, [-1], False), -1, d)
    return result(_S.gather(input, d, indices), indices)


def cummax(input, dim):
    """(values, indices): the running maximum along dim and where it is (the last position of
    ties; NaN propagates). Computed from an n x n comparison per row (O(n^2) time and memory
    along dim: for small sizes). Gradients go to the positions in indices."""
    return _cum_extreme(input, dim, True, _Cummax, "ember.cummax")


def cummin(input, dim):
    """(values, indices): the running minimum along dim (see cummax; O(n^2) along dim)."""
    return _cum_extreme(input, dim, False, _Cummin, "ember.cummin")


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along dim, without overflow. Computed as a masked logsumexp over
    an n x n block per row (O(n^2) time and memory along dim: for small sizes)."""
    if input.dim() == 0:
        return input.clone()
    _require_float(input, "ember.logcumsumexp")
    d = _wrap(dim, input.dim(), "ember.logcumsumexp")
    x = _S.movedim(input, d, -1)
    n = x.shape[-1]
    if n == 0:
        return input.clone()
    mask = _prefix_mask(n)
    rows = x.unsqueeze(-2)
    out = _C._logsumexp(_C.where(mask, rows, -math.inf), [-1], False)
    # A +inf in the prefix makes the sum +inf (logsumexp itself gives NaN there).
    inf_seen = _C._any(_C.logical_and(mask, _C._isposinf(rows.detach())), [-1], False)
    return _S.movedim(_C.where(inf_seen, math.inf, out), -1, d)


def median(input, dim=None, keepdim=False):
    """Without dim: the lower median of all elements (NaN if any is NaN). With dim:
    (values, indices) along dim, NaN (at the first NaN's index) where a row has a NaN."""
    if dim is None:
        flat = input.reshape([-1])
        n = flat.numel()
        if n == 0:
            return _C.full([], math.nan, input.dtype)
        ordered = _S.sort(flat, 0, False, True)[0]
        value = ordered.select(0, (n - 1) // 2)
        if input.dtype.is_floating_point:  # sort puts NaNs last
            value = _C.where(_C.isnan(ordered.select(0, n - 1)), math.nan, value)
        return value
    x = input.reshape([1]) if input.dim() == 0 else input
    d = _wrap(dim, x.dim(), "ember.median")
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"ember.median: cannot take the median of an empty dimension {dim}")
    order = _S.sort(x, d, False, True)[1]
    if x.dtype.is_floating_point:  # a row with NaNs: its first NaN (stable sort puts NaNs last)
        nans = _C._sum(_C.isnan(x), [d], True)
        pos = _C.where(_C.gt(nans, 0), _C.sub(n, nans), (n - 1) // 2)
    else:
        pos = _C.full([1] * x.dim(), float((n - 1) // 2), _INT64)
    shape = list(x.shape)
    shape[d] = 1
    indices = _S.gather(order, d, pos.expand(shape))
    values = _S.gather(x, d, indices)
    if input.dim() == 0:
        return _Median(values.reshape([]), indices.reshape([]))
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return _Median(values, indices)


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices): the k-th smallest element along dim (k from 1; NaN sorts last)."""
    x = input.reshape([1]) if input.dim() == 0 else input
    d = _wrap(dim, x.dim(), "ember.kthvalue")
    n = x.shape[d]
    if not 1 <= k <= n:
        raise RuntimeError(f"ember.kthvalue: k ({k}) is out of range for a dimension of size {n}")
    indices = _S.sort(x, d, False, True)[1].narrow(d, k - 1, 1)
    values = _S.gather(x, d, indices)
    if input.dim() == 0:
        return _Kthvalue(values.reshape([]), indices.reshape([]))
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return _Kthvalue(values, indices)


# ------------------------------------------------------------------------- searching

def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value in input, the index where it would be inserted in sorted_sequence (along
    its last dim; leading dims must match input's) to keep it sorted: the first such index, or
    the last with right=True / side='right'. Counts comparisons (O(len) per value)."""
    _require_tensor(sorted_sequence, "sorted_sequence", "ember.searchsorted")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"ember.searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("ember.searchsorted: side and right can't be set to opposites, got "
                               "side of left while right was True")
        right = side == "right"
    seq = sorted_sequence
    if sorter is not None:
        seq = _S.take_along_dim(seq, sorter, -1)
    if seq.dim() == 0:
        raise RuntimeError("ember.searchsorted: sorted_sequence must have at least 1 dim")
    values = input if isinstance(input, Tensor) else _C.full([], float(input), seq.dtype)
    if seq.dim() > 1 and list(seq.shape[:-1]) != list(values.shape[:-1]):
        raise RuntimeError("ember.searchsorted: sorted_sequence's leading dims "
                           f"{list(seq.shape[:-1])} must match input's {list(values.shape[:-1])}")
    rows = seq if seq.dim() == 1 else seq.unsqueeze(-2)
    before = (_C.le if right else _C.lt)(rows, values.unsqueeze(-1))
    out = _C._sum(before, [-1], False)
    return out.to(_dtype.int32) if out_int32 else out


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of input among the sorted 1-D boundaries (right=False:
    boundaries[i-1] < x <= boundaries[i]); searchsorted(boundaries, input, right=right)."""
    _require_tensor(boundaries, "boundaries", "ember.bucketize")
    if boundaries.dim() != 1:
        raise RuntimeError(f"ember.bucketize: boundaries must be 1-D, got {boundaries.dim()}-D")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    """Counts of each value in a 1-D tensor of non-negative integers (summed weights if given),
    of length max(input) + 1 or minlength. The length depends on the values, so under
    ember.compile this reads them (a graph break)."""
    if input.dim() != 1 or input.dtype.is_floating_point or input.dtype == _dtype.bool:
        raise RuntimeError("ember.bincount: only supports 1-D non-negative integral inputs, got "
                           f"a {input.dim()}-D {input.dtype} tensor")
    if minlength < 0:
        raise RuntimeError(f"ember.bincount: minlength should be >= 0, got {minlength}")
    n = input.numel()
    if n and _C._amin(input, [], False).item() < 0:
        raise RuntimeError("ember.bincount: only supports 1-D non-negative integral inputs "
                           "(input has negative values)")
    length = builtins.max(int(_C._amax(input, [], False).item()) + 1 if n else 0, minlength)
    index = input.to(_INT64)
    if weights is None:
        return _S.index_add(_C.zeros([length], _INT64), 0, index, _C.ones([n], _INT64), 1.0)
    if weights.dim() != 1 or weights.shape[0] != n:
        raise RuntimeError(f"ember.bincount: weights should be 1-D and have the same length as "
                           f"input ({n}), got shape {list(weights.shape)}")
    wd = weights.dtype if weights.dtype.is_floating_point else _dtype.float64
    return _S.index_add(_C.zeros([length], wd), 0, index, weights.to(wd), 1.0)


# ------------------------------------------------------------------------- exports

FUNCTIONS = ["isclose", "allclose", "equal", "broadcast_to", "swapaxes", "swapdims", "moveaxis",
             "diag", "diagonal", "trace", "kron", "rot90", "atleast_1d", "atleast_2d",
             "atleast_3d", "hstack", "vstack", "row_stack", "dstack", "column_stack", "meshgrid",
             "cartesian_prod", "tensor_split", "hsplit", "vsplit", "dsplit", "take", "hypot",
             "logaddexp", "logaddexp2", "xlogy", "deg2rad", "rad2deg", "true_divide",
             "absolute", "negative", "positive", "signbit", "is_complex", "nansum", "nanmean",
             "diff", "cross", "cummax", "cummin", "logcumsumexp", "median", "kthvalue",
             "searchsorted", "bucketize", "bincount"]

# Tensor methods: PyTorch has these functions as methods too (self first).
for _name in FUNCTIONS:
    if _name not in ("atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack",
                     "dstack", "column_stack", "meshgrid", "cartesian_prod", "searchsorted",
                     "bucketize"):
        setattr(Tensor, _name, globals()[_name])
del _name
for _fn in [new_ones, new_zeros, new_full, new_empty, new_tensor, type_as, view_as, expand_as,
            reshape_as]:
    setattr(Tensor, _fn.__name__, _fn)
del _fn
Tensor.ndimension = lambda self: self.dim()
Tensor.nelement = lambda self: self.numel()
Tensor.nbytes = property(lambda self: self.numel() * self.dtype.itemsize)
Tensor.itemsize = property(lambda self: self.dtype.itemsize)
Tensor.__pos__ = positive
