"""ember: a deep-learning framework with PyTorch's API, built around an MLIR graph compiler."""
import numpy as _np

from . import _C
from ._C import Tensor, add, cuda

__all__ = ["Tensor", "tensor", "from_numpy", "add", "zeros", "ones", "full", "cuda"]

float32 = "float32"


def _shape_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return list(size[0])
    return list(size)


def tensor(data, dtype=None):
    """Builds a float32 tensor from nested lists, scalars or an array (copies, like torch.tensor)."""
    if dtype not in (None, float32):
        raise NotImplementedError(f"ember.tensor: dtype {dtype!r} is not supported yet; use float32")
    if isinstance(data, Tensor):
        return _C._from_array(data.numpy())
    return _C._from_array(_np.asarray(data, dtype=_np.float32))


def from_numpy(array):
    """A float32 tensor with the contents of a numpy array (copied for now)."""
    if not isinstance(array, _np.ndarray):
        raise TypeError(f"ember.from_numpy: expected np.ndarray, got {type(array).__name__}")
    if array.dtype != _np.float32:
        raise TypeError(f"ember.from_numpy: dtype {array.dtype} is not supported yet; "
                        "convert with array.astype(np.float32)")
    return _C._from_array(array)


def zeros(*size):
    return _C.zeros(_shape_args(size))


def ones(*size):
    return _C.ones(_shape_args(size))


def full(size, fill_value):
    return _C.full(list(size), float(fill_value))


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
    return f"tensor({body})"


def _array(self, dtype=None, copy=None):
    a = self.numpy()
    return a if dtype is None else a.astype(dtype)


Tensor.__repr__ = _repr
Tensor.__array__ = _array
Tensor.tolist = lambda self: self.numpy().tolist()
Tensor.size = lambda self, dim=None: self.shape if dim is None else self.shape[dim]
