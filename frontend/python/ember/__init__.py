"""ember: a deep-learning framework with PyTorch's API, built around an MLIR graph compiler."""
import contextlib as _contextlib

import numpy as _np

from . import _C
from ._C import Tensor, matmul, cuda, is_grad_enabled

__all__ = ["Tensor", "tensor", "from_numpy", "matmul", "sum", "zeros", "ones", "full", "no_grad",
           "enable_grad", "set_grad_enabled", "autograd", "cuda", "compile", "export",
           "load_exported"]

# One function per elementwise op record (frontend/include/ember/ops/Elementwise.def).
for _name in _C._elementwise_ops:
    globals()[_name] = getattr(_C, _name)
    __all__.append(_name)
del _name

float32 = "float32"


def _shape_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return list(size[0])
    return list(size)


def tensor(data, dtype=None, requires_grad=False):
    """Builds a float32 tensor from nested lists, scalars or an array (copies, like torch.tensor)."""
    if dtype not in (None, float32):
        raise NotImplementedError(f"ember.tensor: dtype {dtype!r} is not supported yet; use float32")
    if isinstance(data, Tensor):
        data = data.numpy()
    t = _C._from_array(_np.asarray(data, dtype=_np.float32))
    return t.requires_grad_(True) if requires_grad else t


def from_numpy(array):
    """A float32 tensor with the contents of a numpy array (copied for now)."""
    if not isinstance(array, _np.ndarray):
        raise TypeError(f"ember.from_numpy: expected np.ndarray, got {type(array).__name__}")
    if array.dtype != _np.float32:
        raise TypeError(f"ember.from_numpy: dtype {array.dtype} is not supported yet; "
                        "convert with array.astype(np.float32)")
    return _C._from_array(array)


def _creation(fn):
    def make(*size, requires_grad=False):
        t = fn(_shape_args(size))
        return t.requires_grad_(True) if requires_grad else t
    return make


zeros = _creation(_C.zeros)
ones = _creation(_C.ones)


def full(size, fill_value, requires_grad=False):
    t = _C.full(list(size), float(fill_value))
    return t.requires_grad_(True) if requires_grad else t


def sum(input, dim=None, keepdim=False):
    return input.sum(dim, keepdim)


def transpose(input, dim0, dim1):
    return input.transpose(dim0, dim1)


def reshape(input, shape):
    return input.reshape(shape)


class set_grad_enabled(_contextlib.ContextDecorator):
    """Context manager (and decorator) that turns gradient recording on or off."""

    def __init__(self, mode):
        self.prev = _C.is_grad_enabled()
        self.mode = bool(mode)
        _C._set_grad_enabled(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class no_grad(_contextlib.ContextDecorator):
    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class enable_grad(_contextlib.ContextDecorator):
    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(True)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


def _format_element(a):
    """PyTorch's element format: integral values as '1.', else 4 decimals, scientific for wide ranges."""
    finite = _np.abs(a[_np.isfinite(a)])
    if finite.size and _np.all(finite == _np.round(finite)) and finite.max() < 1e8:
        fmt = lambda v: f"{v:.0f}." if _np.isfinite(v) else str(v)
    elif finite.size and (finite.max() >= 1e8 or (finite.min() > 0 and finite.max() / finite.min() > 1e3)):
        fmt = lambda v: f"{v:.4e}"
    else:
        fmt = lambda v: f"{v:.4f}"
    width = max((len(fmt(v)) for v in a.flat), default=0)
    return lambda v: fmt(v).rjust(width)


def _repr(self):
    a = self.numpy()
    body = _np.array2string(a, separator=", ", prefix="tensor(", threshold=1000,
                            formatter={"float_kind": _format_element(a)})
    suffix = f", grad_fn=<{self.grad_fn}>" if self.grad_fn else (
        ", requires_grad=True" if self.requires_grad else "")
    return f"tensor({body}{suffix})"


def _array(self, dtype=None, copy=None):
    a = self.numpy()
    return a if dtype is None else a.astype(dtype)


Tensor.__repr__ = _repr
Tensor.__array__ = _array
Tensor.tolist = lambda self: self.numpy().tolist()
Tensor.size = lambda self, dim=None: self.shape if dim is None else self.shape[dim]
Tensor.__neg__ = lambda self: mul(self, -1.0)
Tensor.__sub__ = lambda self, other: sub(self, other)
Tensor.__rsub__ = lambda self, other: sub(other, self)
Tensor.T = property(lambda self: self.t())

from . import autograd  # noqa: E402
from ._compile import compile, export, load_exported  # noqa: E402
