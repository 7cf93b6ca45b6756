"""Creation functions with PyTorch's signatures."""
import builtins

from . import _C
from ._C import Tensor, dtype as _dtype
from ._device import _place, _spec


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return list(size[0])
    return list(size)


def _grad(t, requires_grad, device=None):
    t = _place(t, device)
    return t.requires_grad_(True) if requires_grad else t


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if dtype is None and any(isinstance(v, builtins.float) for v in (start, end, step)):
        dtype = _dtype.float32  # torch: a float bound or step gives the default float dtype
    return _grad(_C._arange(builtins.float(start), builtins.float(end), builtins.float(step), dtype),
                 requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    return _grad(_C._linspace(builtins.float(start), builtins.float(end), steps,
                              dtype or _dtype.float32), requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    return _grad(_C._logspace(builtins.float(start), builtins.float(end), steps,
                              builtins.float(base), dtype or _dtype.float32), requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _grad(_C._eye(n, m, dtype or _dtype.float32), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _grad(_C._empty(_size(size), dtype or _dtype.float32), requires_grad, device)


def _draw_on(device, size, dtype, fill):
    """A draw made on a CUDA device directly (the same values as the CPU draw: both evaluate
    the counter-based generator at the same positions)."""
    t = _C._empty_on(_size(size), dtype or _dtype.float32, _spec(device))
    fill(t)
    return t


def rand(*size, dtype=None, device=None, requires_grad=False):
    if device is not None and _spec(device) != "cpu":
        return _grad(_draw_on(device, size, dtype, lambda t: t.uniform_(0, 1)), requires_grad)
    return _grad(_C._rand(_size(size), dtype or _dtype.float32), requires_grad, device)


def randn(*size, dtype=None, device=None, requires_grad=False):
    if device is not None and _spec(device) != "cpu":
        return _grad(_draw_on(device, size, dtype, lambda t: t.normal_(0, 1)), requires_grad)
    return _grad(_C._randn(_size(size), dtype or _dtype.float32), requires_grad, device)


def randint(low, high=None, size=None, *, dtype=None, device=None):
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    return _place(_C._randint(low, high, list(size), dtype or _dtype.int64), device)


def randperm(n, *, dtype=None, device=None):
    return _place(_C._randperm(n, dtype or _dtype.int64), device)


def _like(make):
    def like(input, *, dtype=None, device=None, requires_grad=False):
        return _grad(make(list(input.shape), dtype or input.dtype), requires_grad,
                     input.device if device is None else device)
    return like


zeros_like = _like(lambda s, d: _C.zeros(s, d))
ones_like = _like(lambda s, d: _C.ones(s, d))
empty_like = _like(lambda s, d: _C._empty(s, d))
rand_like = _like(lambda s, d: _C._rand(s, d))
randn_like = _like(lambda s, d: _C._randn(s, d))


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _grad(_C.full(list(input.shape), builtins.float(fill_value), dtype or input.dtype),
                 requires_grad, input.device if device is None else device)


FUNCTIONS = ["arange", "linspace", "logspace", "eye", "empty", "rand", "randn", "randint",
             "randperm", "zeros_like", "ones_like", "empty_like", "rand_like", "randn_like",
             "full_like"]
