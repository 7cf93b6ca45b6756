"""Indexing like PyTorch. Basic indexing (integers, slices with steps, None, Ellipsis) gives
views; integer tensors, lists and arrays, and boolean masks (advanced indexing, mixed with the
basic kinds) go through ember.index / index_put (frontend/src/ShapeOps.cpp), which gather and
scatter with gradients."""
import numbers

import numpy as np

from . import _C
from ._C import Tensor

_S = _C._shape
_MASKS = (_C.dtype.bool, _C.dtype.uint8)


def _index_tensor(i):
    """A list / tuple inside an index or an array, as an index tensor (int64 or bool)."""
    arr = np.asarray(i)
    if arr.dtype == object:
        raise IndexError("ember: only integers, slices, None, ..., and integer or boolean "
                         "tensors (or nested lists of them) are valid indices")
    if arr.dtype.kind == "b":
        return _C._from_array(np.ascontiguousarray(arr))
    if arr.dtype.kind in "iu" or arr.size == 0:
        return _C._from_array(np.ascontiguousarray(arr.astype(np.int64)))
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors, got an "
                     f"array of {arr.dtype}")


def _normalize(index):
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, (list, np.ndarray)):
            i = _index_tensor(i)
        elif isinstance(i, np.bool_):
            i = bool(i)
        out.append(i)
    return out


def _consumed(i):
    """How many dims of the indexed tensor an index item uses."""
    if i is None or i is Ellipsis or isinstance(i, bool):
        return 0
    if isinstance(i, Tensor):
        return i.dim() if i.dtype in _MASKS else 1
    return 1


def _prepare(self, index):
    """Applies the basic part of `index` (views); returns the view and the advanced part as the
    per-dim list ember.index takes (None: the whole dim), or None when there is none."""
    items = _normalize(index)
    used = sum(_consumed(i) for i in items)
    if used > self.dim():
        raise IndexError(f"too many indices for tensor of dimension {self.dim()}")
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    out, dim, adv = self, 0, []

    def bool_index(value):  # x[True] / x[False]: a new dim of size 1 or 0
        nonlocal out, dim
        out = out.unsqueeze(dim)
        adv.append((dim, _C.zeros([1 if value else 0], _C.dtype.int64)))
        dim += 1

    for i in items:
        if i is Ellipsis:
            dim += self.dim() - used
        elif i is None:
            out = out.unsqueeze(dim)
            dim += 1
        elif isinstance(i, bool):
            bool_index(i)
        elif isinstance(i, numbers.Integral):
            out = out.select(dim, int(i))
        elif isinstance(i, slice):
            start, stop, step = i.start, i.stop, i.step
            if step is not None and step <= 0:
                raise ValueError("step must be greater than zero")
            out = out._slice(dim, 0 if start is None else start,
                             out.shape[dim] if stop is None else stop, 1 if step is None else step)
            dim += 1
        elif isinstance(i, Tensor):
            if i.dim() == 0 and i.dtype in _MASKS and not i._is_symbolic:
                bool_index(bool(i.item()))
            elif i.dim() == 0 and not i.dtype.is_floating_point and not i._is_symbolic:
                out = out.select(dim, int(i.item()))
            else:
                adv.append((dim, i))
                dim += _consumed(i)
        else:
            raise TypeError("ember: indices must be ints, slices, None, ..., bools, or integer or "
                            f"boolean tensors / lists, got {type(i).__name__}")
    if not adv:
        return out, None
    per_dim, pos = [], 0
    for d, t in adv:
        per_dim += [None] * (d - pos)
        per_dim.append(t)
        pos = d + _consumed(t)
    return out, per_dim


def _getitem(self, index):
    out, adv = _prepare(self, index)
    return out if adv is None else _S.index(out, adv)


Tensor.__getitem__ = _getitem
Tensor.__len__ = lambda self: self.shape[0] if self.dim() else (_ for _ in ()).throw(
    TypeError("len() of a 0-d tensor"))


def __iter__(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (self.select(0, i) for i in range(self.shape[0]))


Tensor.__iter__ = __iter__


def _setitem(self, index, value):
    out, adv = _prepare(self, index)
    if adv is None:
        out.copy_(value)
        return
    if not isinstance(value, Tensor):
        value = _C.full([], float(value), self.dtype)
    out.copy_(_S.index_put(out, adv, value, False))


Tensor.__setitem__ = _setitem
for _op, _name in [("add", "__iadd__"), ("sub", "__isub__"), ("mul", "__imul__"), ("div", "__itruediv__")]:
    setattr(Tensor, _name, (lambda op: lambda self, other: getattr(self, op + "_")(other))(_op))
del _op, _name
