"""ember.autocast / ember.amp.autocast: torch.autocast over ember's C++ autocast state
(frontend/include/ember/Autocast.h). The op policy lives in C++, at the entry of the ops on
PyTorch's autocast lists, so C++ callers (ember::AutocastGuard) get the same casts."""
import functools
import threading
import warnings

from .. import _C

_SUPPORTED = ("bfloat16", "float16")


def _device_type(device_type, op):
    if not isinstance(device_type, str):
        raise ValueError(f"{op}: expected `device_type` of type `str`, got: `{type(device_type)}`")
    kind = device_type.split(":", 1)[0]
    if kind not in ("cpu", "cuda"):
        raise RuntimeError(f"{op}: device_type must be 'cpu' or 'cuda' (ember has no other "
                           f"autocast device), got '{device_type}'")
    return kind


class autocast:
    """Mixed precision for a region (context manager) or a function (decorator), as
    torch.autocast: in an enabled region, ops on tensors of `device_type` follow PyTorch's
    autocast lists (matmul/linear/conv in `dtype`, losses and norms in float32, ...).
    Defaults: cuda -> float16, cpu -> bfloat16. Per thread; nesting restores the outer state."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        self.device = _device_type(device_type, "ember.autocast")
        if dtype is not None and not isinstance(dtype, _C.dtype):
            raise TypeError(f"ember.autocast: dtype must be an ember.dtype (ember.bfloat16 or "
                            f"ember.float16), got {type(dtype).__name__}")
        if not isinstance(enabled, bool):
            raise TypeError(f"ember.autocast: enabled must be a bool, got {type(enabled).__name__}")
        self.fast_dtype = _C._autocast_get_dtype(self.device) if dtype is None else dtype
        self._cache_enabled = (_C._autocast_is_cache_enabled() if cache_enabled is None
                               else bool(cache_enabled))
        if enabled and self.device == "cuda" and not _C.cuda.is_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling autocast.", UserWarning, stacklevel=2)
            enabled = False
        if enabled and str(self.fast_dtype).rsplit(".", 1)[-1] not in _SUPPORTED:
            name = "CPU" if self.device == "cpu" else "CUDA"
            warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling "
                          f"autocast.\n{name} Autocast only supports dtypes of ember.bfloat16, "
                          f"ember.float16 currently (got {self.fast_dtype}).", UserWarning,
                          stacklevel=2)
            enabled = False
        self._enabled = enabled
        self._local = threading.local()  # per thread: a decorated function may run in several

    def __enter__(self):
        saved = self._local.__dict__.setdefault("saved", [])
        saved.append((_C._autocast_is_enabled(self.device),
                            _C._autocast_get_dtype(self.device), _C._autocast_is_cache_enabled()))
        _C._autocast_set_enabled(self.device, self._enabled)
        _C._autocast_set_dtype(self.device, self.fast_dtype)
        _C._autocast_set_cache_enabled(self._cache_enabled)
        _C._autocast_increment_nesting()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if _C._autocast_decrement_nesting() == 0:
            _C._autocast_clear_cache()
        enabled, dtype, cache = self._local.saved.pop()
        _C._autocast_set_enabled(self.device, enabled)
        _C._autocast_set_dtype(self.device, dtype)
        _C._autocast_set_cache_enabled(cache)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def _lower_precision(*tensors):
    """The tensors as an op on autocast's lower-precision list sees them, for the few such ops
    ember writes in Python (prelu): floating tensors other than float64 on the ops' device
    type, cast to the autocast dtype when autocast is on there."""
    dev = "cuda" if any(t.is_cuda for t in tensors) else "cpu"
    if not _C._autocast_active(dev):
        return tensors
    to = _C._autocast_get_dtype(dev)
    return tuple(t.to(to) if (t.dtype.is_floating_point and t.dtype != _C.dtype.float64
                              and t.dtype != to and t.is_cuda == (dev == "cuda")) else t
                 for t in tensors)


def is_autocast_enabled(device_type=None):
    """torch.is_autocast_enabled: without an argument, CUDA's state (as torch)."""
    return _C._autocast_is_enabled(
        "cuda" if device_type is None else _device_type(device_type, "ember.is_autocast_enabled"))


def set_autocast_enabled(device_type, enabled):
    _C._autocast_set_enabled(_device_type(device_type, "ember.set_autocast_enabled"), bool(enabled))


def get_autocast_dtype(device_type):
    return _C._autocast_get_dtype(_device_type(device_type, "ember.get_autocast_dtype"))


def set_autocast_dtype(device_type, dtype):
    if not isinstance(dtype, _C.dtype):
        raise TypeError(f"ember.set_autocast_dtype: dtype must be an ember.dtype, got "
                        f"{type(dtype).__name__}")
    _C._autocast_set_dtype(_device_type(device_type, "ember.set_autocast_dtype"), dtype)


def is_autocast_cpu_enabled():
    return _C._autocast_is_enabled("cpu")


def get_autocast_cpu_dtype():
    return _C._autocast_get_dtype("cpu")


def get_autocast_gpu_dtype():
    return _C._autocast_get_dtype("cuda")


is_autocast_cache_enabled = _C._autocast_is_cache_enabled
set_autocast_cache_enabled = _C._autocast_set_cache_enabled
clear_autocast_cache = _C._autocast_clear_cache
autocast_increment_nesting = _C._autocast_increment_nesting
autocast_decrement_nesting = _C._autocast_decrement_nesting


class _DeviceAutocast(autocast):
    """torch.cuda.amp.autocast / torch.cpu.amp.autocast (deprecated there too)."""
    _device = "cpu"
    _default = None

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn(f"`ember.{self._device}.amp.autocast(args...)` is deprecated. Please use "
                      f"`ember.amp.autocast('{self._device}', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__(self._device, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class cuda_autocast(_DeviceAutocast):
    _device = "cuda"


class cpu_autocast(_DeviceAutocast):
    _device = "cpu"
