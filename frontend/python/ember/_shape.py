"""Shape and indexing ops with PyTorch's signatures: split/chunk/unbind, unflatten, movedim,
repeat/tile/repeat_interleave, flip/roll, tril/triu, gather/scatter, index_add/index_copy,
masked_fill/masked_select, take_along_dim, sort/argsort/topk, nonzero, unique, unfold and
index_put, as ember functions and Tensor methods (in-place `_` variants where PyTorch has them)."""
import builtins
import collections

from . import _C
from ._C import Tensor

_S = _C._shape

_SortResult = collections.namedtuple("sort", ["values", "indices"])
_TopkResult = collections.namedtuple("topk", ["values", "indices"])


def _ints(args, name):
    """(2, 3), ((2, 3),) or ([2, 3],) as a list, like PyTorch's *sizes arguments."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.item()
        if isinstance(a, builtins.bool) or not isinstance(a, int):
            raise TypeError(f"{name}: expected a sequence of ints, got {type(a).__name__}")
        out.append(a)
    return out


def _as_tensor(v, like, name):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, (builtins.bool, int, float)):
        return _C.full([], float(v), like.dtype)
    raise TypeError(f"{name}: expected a Tensor or a number, got {type(v).__name__}")


def split(tensor, split_size_or_sections, dim=0):
    if isinstance(split_size_or_sections, int):
        return tuple(_S.split(tensor, split_size_or_sections, dim))
    return tuple(_S.split_with_sizes(tensor, _ints((split_size_or_sections,), "split"), dim))


def chunk(input, chunks, dim=0):
    return tuple(_S.chunk(input, chunks, dim))


def unbind(input, dim=0):
    return tuple(_S.unbind(input, dim))


def unflatten(input, dim, sizes):
    return _S.unflatten(input, dim, _ints((sizes,), "unflatten"))


def movedim(input, source, destination):
    return _S.movedim(input, source, destination)


def _repeat(self, *sizes):
    return _S.repeat(self, _ints(sizes, "repeat"))


def tile(input, dims):
    return _S.tile(input, _ints((dims,), "tile"))


def _tile(self, *dims):
    return _S.tile(self, _ints(dims, "tile"))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # torch.repeat_interleave(repeats)
        out = _S.repeat_interleave_index(input)
    elif isinstance(repeats, Tensor):
        out = _S.repeat_interleave_tensor(input, repeats, dim)
    else:
        out = _S.repeat_interleave_int(input, repeats, dim)
    if output_size is not None and out.shape[0 if dim is None else dim] != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"result's size {out.shape[0 if dim is None else dim]}")
    return out


def flip(input, dims):
    return _S.flip(input, _ints((dims,), "flip"))


def _flip(self, *dims):
    return _S.flip(self, _ints(dims, "flip"))


def fliplr(input):
    return _S.flip(input, [1])


def flipud(input):
    return _S.flip(input, [0])


def roll(input, shifts, dims=None):
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = [] if dims is None else ([dims] if isinstance(dims, int) else list(dims))
    return _S.roll(input, shifts, dims)


def tril(input, diagonal=0):
    return _S.tril(input, diagonal)


def triu(input, diagonal=0):
    return _S.triu(input, diagonal)


def gather(input, dim, index):
    return _S.gather(input, dim, index)


_REDUCE = {None, "add", "multiply"}


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    if src is None and value is None:
        raise TypeError("scatter: pass src (a tensor) or value (a number)")
    if src is None:
        src = value
    if reduce not in _REDUCE:
        raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")
    if reduce == "multiply":
        raise NotImplementedError("ember.scatter: reduce='multiply' is not supported yet; use "
                                  "reduce='add' or scatter_add")
    if isinstance(src, Tensor):
        if reduce == "add":
            return _S.scatter_add(input, dim, index, src)
        return _S.scatter(input, dim, index, src)
    if reduce == "add":
        return _S.scatter_add(input, dim, index, _C.full(list(index.shape), float(src), input.dtype))
    return _S.scatter_value(input, dim, index, float(src))


def scatter_add(input, dim, index, src):
    return _S.scatter_add(input, dim, index, src)


def index_add(input, dim, index, source, *, alpha=1):
    return _S.index_add(input, dim, index, source, float(alpha))


def index_copy(input, dim, index, source):
    return _S.index_copy(input, dim, index, source)


def take_along_dim(input, indices, dim=None):
    return _S.take_along_dim(input, indices, dim)


def masked_fill(input, mask, value):
    return _S.masked_fill(input, mask, _as_tensor(value, input, "masked_fill"))


def masked_select(input, mask):
    return _S.masked_select(input, mask)


def sort(input, dim=-1, descending=False, stable=False):
    values, indices = _S.sort(input, dim, descending, builtins.bool(stable))
    return _SortResult(values, indices)


def argsort(input, dim=-1, descending=False, stable=False):
    return _S.argsort(input, dim, descending, builtins.bool(stable))


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    values, indices = _S.topk(input, k, dim, largest, sorted)
    return _TopkResult(values, indices)


def nonzero(input, *, as_tuple=False):
    nz = _S.nonzero(input)
    if not as_tuple:
        return nz
    if input.dim() == 0:  # one entry per nonzero (0 or 1), like PyTorch
        return (_C.zeros([nz.shape[0]], _C.dtype.int64),)
    return tuple(nz.select(1, i) for i in range(input.dim()))


def argwhere(input):
    return _S.nonzero(input)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    if dim is not None:
        raise NotImplementedError("ember.unique: dim is not supported yet; unique over the "
                                  "flattened tensor only")
    values, inverse, counts = _S.unique(input)
    out = (values,)
    if return_inverse:
        out += (inverse,)
    if return_counts:
        out += (counts,)
    return out[0] if len(out) == 1 else out


def _unfold(self, dimension, size, step):
    return _S.unfold(self, dimension, size, step)


def index_put(input, indices, values, accumulate=False):
    return _S.index_put(input, list(indices), _as_tensor(values, input, "index_put"), accumulate)


FUNCTIONS = ["split", "chunk", "unbind", "unflatten", "movedim", "tile", "repeat_interleave",
             "flip", "fliplr", "flipud", "roll", "tril", "triu", "gather", "scatter",
             "scatter_add", "index_add", "index_copy", "take_along_dim", "masked_fill",
             "masked_select", "sort", "argsort", "topk", "nonzero", "argwhere", "unique",
             "index_put"]

# Tensor methods: the functions above with self first, plus the *sizes forms.
for _name in FUNCTIONS:
    if _name not in ("flip", "tile"):
        setattr(Tensor, _name, globals()[_name])
Tensor.repeat = _repeat
Tensor.tile = _tile
Tensor.flip = _flip
Tensor.unfold = _unfold


def _inplace(name, fn):
    def method(self, *args, **kwargs):
        return _S.assign_(self, fn(self, *args, **kwargs), f"ember.Tensor.{name}")
    method.__name__ = name
    return method


for _name, _fn in [("scatter_", scatter), ("scatter_add_", scatter_add), ("index_add_", index_add),
                   ("index_copy_", index_copy), ("masked_fill_", masked_fill),
                   ("index_put_", index_put), ("tril_", tril), ("triu_", triu)]:
    setattr(Tensor, _name, _inplace(_name, _fn))
del _name, _fn
