"""CUDA streams and events (ember.cuda.Stream, Event, stream, current_stream, ...) and pinned
host memory (Tensor.pin_memory, is_pinned, non_blocking copies), with PyTorch's API. Kernels,
cuBLAS calls and non_blocking copies go to the thread's current stream."""
import contextlib

from . import _C

_c = _C.cuda


class Stream:
    """A CUDA stream on `device` (default: the current device). Streams synchronise with the
    default stream, as PyTorch's do."""

    def __init__(self, device=None, priority=0, _handle=None):
        if _handle is not None:
            self._handle, self._owned = _handle, False
        else:
            dev = _c.current_device() if device is None else _index(device)
            self._handle, self._owned = _c._stream_create(dev), True
        self.device_index = _c.current_device() if device is None else _index(device)

    def __del__(self):
        if getattr(self, "_owned", False):
            _c._stream_destroy(self._handle)

    @property
    def cuda_stream(self):
        return self._handle

    def synchronize(self):
        _c._stream_synchronize(self._handle)

    def query(self):
        return _c._stream_query(self._handle)

    def wait_event(self, event):
        _c._stream_wait_event(self._handle, event._handle)

    def wait_stream(self, stream):
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and other._handle == self._handle

    def __hash__(self):
        return hash(self._handle)

    def __repr__(self):
        return f"<ember.cuda.Stream device=cuda:{self.device_index} cuda_stream={self._handle:#x}>"


class Event:
    """A CUDA event: record it on a stream, wait for it, time between two of them."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        self.enable_timing = enable_timing
        self._handle = _c._event_create(enable_timing)

    def __del__(self):
        if getattr(self, "_handle", None):
            _c._event_destroy(self._handle)

    def record(self, stream=None):
        _c._event_record(self._handle, (stream or current_stream())._handle)

    def wait(self, stream=None):
        (stream or current_stream()).wait_event(self)

    def query(self):
        return _c._event_query(self._handle)

    def synchronize(self):
        _c._event_synchronize(self._handle)

    def elapsed_time(self, end_event):
        """Milliseconds from this event to `end_event` (both recorded, with enable_timing)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("ember.cuda.Event.elapsed_time: both events need enable_timing=True")
        return _c._event_elapsed_ms(self._handle, end_event._handle)


def _index(device):
    if isinstance(device, int):
        return device
    from ._device import device as _dev
    d = _dev(device)
    return d.index or 0


def current_stream(device=None):
    return Stream(_handle=_c._current_stream(), device=device)


def default_stream(device=None):
    return Stream(_handle=0, device=device)


def set_stream(stream):
    _c._set_stream(stream._handle)


@contextlib.contextmanager
def stream(s):
    """with ember.cuda.stream(s): work issued inside goes to `s` (None: unchanged)."""
    if s is None:
        yield
        return
    before = _c._current_stream()
    _c._set_stream(s._handle)
    try:
        yield
    finally:
        _c._set_stream(before)


for _name in ("Stream", "Event", "current_stream", "default_stream", "set_stream", "stream"):
    setattr(_c, _name, globals()[_name])


def _pin_memory(self, device=None):
    return _C._pin_memory(self)


_C.Tensor.pin_memory = _pin_memory
_C.Tensor.is_pinned = lambda self, device=None: _C._is_pinned(self)
