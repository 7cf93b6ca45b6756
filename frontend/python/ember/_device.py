"""Devices with PyTorch's API: ember.device, Tensor.device / .to / .cuda / .cpu, device= on
creation functions. CUDA tensors live in device memory; ops on them run NVRTC-compiled kernels
and cuBLAS."""
from . import _C
from ._C import Tensor, dtype as _dtype


class device:
    """ember.device('cuda:0'), ember.device('cuda', 0), ember.device('cpu')."""

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int):  # a bare ordinal means a CUDA device, as in torch
            type, index = "cuda", type
        if ":" in type:
            if index is not None:
                raise ValueError(f"ember.device: type (string) must not include an index because "
                                 f"index was passed explicitly: {type}")
            type, _, idx = type.partition(":")
            index = int(idx) if idx.isdigit() else idx
        if type not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"ember.device: invalid device index {index!r}")
        self.type, self.index = type, index

    def _spec(self):
        return "cpu" if self.type == "cpu" else f"cuda:{self.index or 0}"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return (f"device(type='{self.type}')" if self.index is None
                else f"device(type='{self.type}', index={self.index})")

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


def _spec(d):
    """The C++ spelling ('cpu', 'cuda:N') of a device argument (None: None)."""
    if d is None:
        return None
    return device(d)._spec()


def _place(t, d):
    return t if d is None else _C._to_device(t, _spec(d))


def _tensor_device(self):
    s = _C._device_of(self)
    return device("cpu") if s == "cpu" else device(s)


def _to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
    """Tensor.to(dtype), .to(device), .to(device, dtype), .to(other), with keywords."""
    for a in args:
        if isinstance(a, _dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, int, globals()["device"])):
            device = a
        elif isinstance(a, bool):
            non_blocking = a
        else:
            raise TypeError(f"Tensor.to: unexpected argument {a!r}; expected a dtype, a device or a tensor")
    out = self
    if device is not None:
        out = _C._to_device(out, _spec(device), non_blocking)
    if dtype is not None:
        out = _C.Tensor._to_dtype(out, dtype)
    if copy and out is self:
        out = self.clone()
    return out


Tensor._to_dtype = Tensor.to
Tensor.to = _to
Tensor.device = property(_tensor_device)
Tensor.is_cuda = property(lambda self: _C._device_of(self) != "cpu")
Tensor.is_cpu = property(lambda self: _C._device_of(self) == "cpu")
Tensor.cuda = lambda self, device=None, non_blocking=False: _C._to_device(
    self, _spec("cuda" if device is None else (device if not isinstance(device, int) else f"cuda:{device}")),
    non_blocking)
Tensor.cpu = lambda self: _C._to_device(self, "cpu")
Tensor.get_device = lambda self: -1 if self.is_cpu else self.device.index
