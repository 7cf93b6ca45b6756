"""Basic indexing (integers, slices with steps, None, Ellipsis) as views, like PyTorch."""
from . import _C
from ._C import Tensor


def _getitem(self, index):
    if not isinstance(index, tuple):
        index = (index,)
    if any(isinstance(i, (Tensor, list)) or (hasattr(i, "__array__") and not isinstance(i, int))
           for i in index):
        raise NotImplementedError("ember: advanced indexing with tensors, lists or arrays is not "
                                  "supported yet; use basic indexing (ints, slices, None, ...)")
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    if used > self.dim():
        raise IndexError(f"too many indices for tensor of dimension {self.dim()}")
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    out, dim = self, 0
    for i in index:
        if i is Ellipsis:
            dim += self.dim() - used
        elif i is None:
            out = out.unsqueeze(dim)
            dim += 1
        elif isinstance(i, bool):
            raise NotImplementedError("ember: boolean indices are not supported yet")
        elif isinstance(i, int):
            out = out.select(dim, i)
        elif isinstance(i, slice):
            start, stop, step = i.start, i.stop, i.step
            if step is not None and step <= 0:
                raise ValueError("step must be greater than zero")
            out = out._slice(dim, 0 if start is None else start,
                             out.shape[dim] if stop is None else stop, 1 if step is None else step)
            dim += 1
        else:
            raise TypeError(f"ember: indices must be ints, slices, None or ..., got {type(i).__name__}")
    return out


Tensor.__getitem__ = _getitem
Tensor.__len__ = lambda self: self.shape[0] if self.dim() else (_ for _ in ()).throw(
    TypeError("len() of a 0-d tensor"))


def __iter__(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (self.select(0, i) for i in range(self.shape[0]))


Tensor.__iter__ = __iter__


def _setitem(self, index, value):
    self[index].copy_(value)


Tensor.__setitem__ = _setitem
for _op, _name in [("add", "__iadd__"), ("sub", "__isub__"), ("mul", "__imul__"), ("div", "__itruediv__")]:
    setattr(Tensor, _name, (lambda op: lambda self, other: getattr(self, op + "_")(other))(_op))
del _op, _name
