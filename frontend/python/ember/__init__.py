"""ember: a deep-learning framework with PyTorch's API, built around an MLIR graph compiler."""
import contextlib as _contextlib

import builtins as _builtins

import numpy as _np

_builtin_int, _builtin_float = _builtins.int, _builtins.float

from . import _C
from ._device import device, _place, _spec
from ._C import (Tensor, matmul, mm, bmm, dot, outer, cat, stack, where, cuda, is_grad_enabled,
                 dtype, promote_types, result_type, set_num_threads, get_num_threads)

__all__ = ["Tensor", "tensor", "from_numpy", "matmul", "mm", "bmm", "dot", "outer", "cat",
           "stack", "where", "permute", "flatten", "squeeze", "unsqueeze", "narrow", "select", "sum", "zeros", "ones", "full", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_inference_mode_enabled",
           "autograd", "func", "cuda", "compile", "export",
           "load_exported", "Dim", "device", "dtype", "promote_types", "result_type", "set_num_threads",
           "get_num_threads"]

# One function per elementwise op record (frontend/include/ember/ops/Elementwise.def).
for _name in _C._elementwise_ops:
    globals()[_name] = getattr(_C, _name)
    __all__.append(_name)

# dtypes, with PyTorch's names and aliases.
for _name in ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
              "float32", "float64"]:
    globals()[_name] = getattr(dtype, _name)
    __all__.append(_name)
float, double, half, long, int, short = float32, float64, float16, int64, int32, int16
del _name

_NUMPY_FROM_LIST = {"f": float32, "i": int64, "u": int64, "b": bool}


def _check_dtype(d, where):
    if d is not None and not isinstance(d, dtype):
        raise TypeError(f"{where}: dtype must be an ember dtype such as ember.float32, got {d!r}")


def _shape_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return list(size[0])
    return list(size)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor from nested lists, scalars or an array (copies, like torch.tensor).

    Python floats give float32, ints int64, bools bool; arrays keep their dtype."""
    _check_dtype(dtype, "ember.tensor")
    if isinstance(data, Tensor):
        t = data.clone()
    elif isinstance(data, _np.ndarray):
        t = _C._from_array(data)
    else:
        arr = _np.asarray(data)
        if arr.dtype.kind not in _NUMPY_FROM_LIST:
            raise TypeError(f"ember.tensor: cannot make a tensor from {type(data).__name__} "
                            f"(numpy sees dtype {arr.dtype})")
        want = _NUMPY_FROM_LIST[arr.dtype.kind]
        t = _C._from_array(arr.astype({float32: _np.float32, int64: _np.int64, bool: _np.bool_}[want]))
    if dtype is not None:
        t = t.to(dtype)
    t = _place(t, device)
    return t.requires_grad_(True) if requires_grad else t


def from_numpy(array):
    """A tensor sharing the numpy array's memory (like torch.from_numpy): writes through either
    show in both."""
    if not isinstance(array, _np.ndarray):
        raise TypeError(f"ember.from_numpy: expected np.ndarray, got {type(array).__name__}")
    return _C._from_numpy_shared(array)


def _factory(value, name):
    def make(*size, dtype=None, device=None, requires_grad=False):
        _check_dtype(dtype, name)
        t = _C._full_on(_shape_args(size), value, dtype or float32, _spec(device) or "cpu")
        return t.requires_grad_(True) if requires_grad else t
    make.__name__ = name
    return make


zeros = _factory(0.0, "zeros")
ones = _factory(1.0, "ones")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    _check_dtype(dtype, "ember.full")
    if dtype is None:  # like torch: the fill value's kind picks the dtype
        dtype = bool if isinstance(fill_value, _builtins.bool) else (
            int64 if isinstance(fill_value, _builtin_int) else float32)
    t = _C._full_on(list(size), _builtin_float(fill_value), dtype, _spec(device) or "cpu")
    return t.requires_grad_(True) if requires_grad else t


def transpose(input, dim0, dim1):
    return input.transpose(dim0, dim1)


def reshape(input, shape):
    return input.reshape(shape)


def permute(input, dims):
    return input.permute(dims)


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


def squeeze(input, dim=None):
    return input.squeeze(dim)


_squeeze_one = Tensor.squeeze


def _squeeze(self, dim=None):
    """Removes the size-1 dims (all, one, or a tuple of them: dims of other sizes stay)."""
    if isinstance(dim, (tuple, list)):
        n = self.dim() or 1  # (max is ember.max here)
        for d in sorted({d % n for d in dim}, reverse=True):
            self = _squeeze_one(self, d)
        return self
    return _squeeze_one(self, dim)


Tensor.squeeze = _squeeze


def unsqueeze(input, dim):
    return input.unsqueeze(dim)


def narrow(input, dim, start, length):
    return input.narrow(dim, start, length)


def select(input, dim, index):
    return input.select(dim, index)


class set_grad_enabled(_contextlib.ContextDecorator):
    """Context manager (and decorator) that turns gradient recording on or off."""

    def __init__(self, mode):
        self.prev = _C.is_grad_enabled()
        self.mode = _builtins.bool(mode)
        _C._set_grad_enabled(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class _GradMode(_contextlib.ContextDecorator):
    """Sets grad mode on entry and restores the previous mode on exit."""
    MODE = True

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self.MODE)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class no_grad(_GradMode):
    MODE = False


_inference_depth = [0]


class inference_mode(_contextlib.ContextDecorator):
    """Like no_grad (ember has no separate inference tensors): nothing is recorded inside.
    inference_mode(False) leaves grad mode as it is."""

    def __init__(self, mode=True):
        self.mode = _builtins.bool(mode)

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        if self.mode:
            _C._set_grad_enabled(False)
            _inference_depth[0] += 1

    def __exit__(self, *exc):
        if self.mode:
            _inference_depth[0] -= 1
        _C._set_grad_enabled(self.prev)
        return False


def is_inference_mode_enabled():
    return _inference_depth[0] > 0


class enable_grad(_GradMode):
    MODE = True


def _format_element(a):
    """PyTorch's element format: integral values as '1.', else 4 decimals, scientific for wide ranges."""
    finite = _np.abs(a[_np.isfinite(a)]).astype(_np.float64)
    if finite.size and _np.all(finite == _np.round(finite)) and finite.max() < 1e8:
        fmt = lambda v: f"{v:.0f}." if _np.isfinite(v) else str(v)
    elif finite.size and (finite.max() >= 1e8 or (finite.min() > 0 and finite.max() / finite.min() > 1e3)):
        fmt = lambda v: f"{v:.4e}"
    else:
        fmt = lambda v: f"{v:.4f}"
    width = _builtins.max((len(fmt(v)) for v in a.flat), default=0)
    return lambda v: fmt(v).rjust(width)


def _repr(self):
    if self._is_symbolic:
        return f"tensor(<traced>, shape={list(self.shape)}, dtype={self.dtype!r})"
    host = self.detach().cpu() if self.is_cuda else self
    a = (host.to(float32) if self.dtype == bfloat16 else host).numpy()
    formatter = {"float_kind": _format_element(a)} if a.dtype.kind == "f" else None
    body = _np.array2string(a, separator=", ", prefix="tensor(", threshold=1000,
                            formatter=formatter)
    suffix = f", device='{self.device}'" if self.is_cuda else ""
    suffix += "" if self.dtype in (float32, int64, bool) else f", dtype={self.dtype!r}"
    suffix += f", grad_fn=<{self.grad_fn.name()}>" if self.grad_fn else (
        ", requires_grad=True" if self.requires_grad else "")
    return f"tensor({body}{suffix})"


def _array(self, dtype=None, copy=None):
    a = self.numpy()
    return a if dtype is None else a.astype(dtype)


Tensor.__repr__ = _repr
Tensor.__array__ = _array
Tensor.tolist = lambda self: (lambda h: (h.to(float32) if h.dtype == bfloat16 else h).numpy().tolist())(self.cpu())
Tensor.size = lambda self, dim=None: self.shape if dim is None else self.shape[dim]


def _one_element(self, what):
    if self.numel() != 1:
        if what == "bool":
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {list(self.shape)})")
        raise ValueError("only one element tensors can be converted to Python scalars "
                         f"(shape {list(self.shape)})")
    return self.item()


# Python number conversions, as in torch: int(t), float(t), bool(t), and t as an index.
Tensor.__int__ = lambda self: _builtin_int(_one_element(self, "int"))
Tensor.__float__ = lambda self: _builtin_float(_one_element(self, "float"))
Tensor.__bool__ = lambda self: _builtins.bool(_one_element(self, "bool"))


def _index(self):
    if self.dtype.is_floating_point or self.numel() != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return _builtin_int(self.item())


Tensor.__index__ = _index
Tensor.__neg__ = lambda self: neg(self)  # noqa: F821 (generated from the op records)
Tensor.__abs__ = lambda self: abs(self)  # noqa: F821
Tensor.__sub__ = lambda self, other: sub(self, other)  # noqa: F821
Tensor.__rsub__ = lambda self, other: sub(other, self)  # noqa: F821
Tensor.__truediv__ = lambda self, other: div(self, other)  # noqa: F821
Tensor.__rtruediv__ = lambda self, other: div(other, self)  # noqa: F821
Tensor.__lt__ = lambda self, other: lt(self, other)  # noqa: F821
Tensor.__le__ = lambda self, other: le(self, other)  # noqa: F821
Tensor.__gt__ = lambda self, other: gt(self, other)  # noqa: F821
Tensor.__ge__ = lambda self, other: ge(self, other)  # noqa: F821
Tensor.__eq__ = lambda self, other: eq(self, other)  # noqa: F821
Tensor.__ne__ = lambda self, other: ne(self, other)  # noqa: F821
Tensor.__hash__ = object.__hash__
Tensor.T = property(lambda self: self.t())
Tensor.is_floating_point = lambda self: self.dtype.is_floating_point
Tensor.element_size = lambda self: self.dtype.itemsize
for _name, _dt in [("float", float32), ("double", float64), ("half", float16),
                   ("bfloat16", bfloat16), ("long", int64), ("int", int32), ("short", int16),
                   ("char", int8), ("byte", uint8), ("bool", bool)]:
    setattr(Tensor, _name, (lambda d: lambda self: self.to(d))(_dt))
del _name, _dt

from . import autograd  # noqa: E402
from . import func  # noqa: E402
from . import _reductions  # noqa: E402
from . import _indexing  # noqa: E402,F401
from . import _creation  # noqa: E402
from . import cuda_streams  # noqa: E402,F401  (ember.cuda.Stream/Event, Tensor.pin_memory)
from ._C import manual_seed, initial_seed, bernoulli  # noqa: E402

for _name in _creation.FUNCTIONS:
    globals()[_name] = getattr(_creation, _name)
    __all__.append(_name)
del _name
__all__ += ["manual_seed", "initial_seed", "bernoulli"]

from . import nn  # noqa: E402
from ._C import index_select  # noqa: E402

clamp = clip = nn.functional._clamp
__all__ += ["nn", "index_select", "clamp", "clip"]

for _name in _reductions.FUNCTIONS:
    globals()[_name] = getattr(_reductions, _name)
    __all__.append(_name)
del _name
from . import _shape  # noqa: E402

for _name in _shape.FUNCTIONS:
    globals()[_name] = getattr(_shape, _name)
    __all__.append(_name)
del _name
from ._compile import compile, GraphBreakWarning, RecompileWarning  # noqa: E402
from ._export import export, load_exported, Dim, ExportedModule  # noqa: E402

from . import _pointwise, linalg  # noqa: E402
for _name in _pointwise.FUNCTIONS:
    globals()[_name] = getattr(_pointwise, _name)
    __all__.append(_name)
del _name
__all__ += ["linalg"]

from . import _linalg_ops  # noqa: E402
for _name in _linalg_ops.FUNCTIONS:
    globals()[_name] = getattr(_linalg_ops, _name)
    __all__.append(_name)
del _name
from . import _breadth  # noqa: E402  (isclose, diag, cummax, searchsorted, ... as composites)
for _name in _breadth.FUNCTIONS:
    globals()[_name] = getattr(_breadth, _name)
    __all__.append(_name)
del _name
from . import onnx  # noqa: E402,F401
__all__.append("onnx")
from . import optim, utils, datasets  # noqa: E402
from .serialization import save, load  # noqa: E402
from .utils.data import Generator  # noqa: E402
__all__ += ["optim", "utils", "datasets", "save", "load", "Generator"]

import sys as _sys  # noqa: E402
from . import amp  # noqa: E402
from .amp.autocast_mode import (autocast, is_autocast_enabled, set_autocast_enabled,  # noqa: E402
                                get_autocast_dtype, set_autocast_dtype, is_autocast_cpu_enabled,
                                get_autocast_cpu_dtype, get_autocast_gpu_dtype,
                                is_autocast_cache_enabled, set_autocast_cache_enabled,
                                clear_autocast_cache, autocast_increment_nesting,
                                autocast_decrement_nesting)
__all__ += ["amp", "autocast", "is_autocast_enabled", "set_autocast_enabled",
            "get_autocast_dtype", "set_autocast_dtype", "is_autocast_cache_enabled",
            "set_autocast_cache_enabled", "clear_autocast_cache"]
amp._attach_device_aliases(cuda)
amp._cuda_fp32.install(_sys.modules[__name__])  # CUDA autocast's float32 pointwise ops
cpu = amp._cpu_module
