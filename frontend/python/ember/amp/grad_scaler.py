"""ember.amp.GradScaler: torch.amp.GradScaler's dynamic loss scaling (scale, unscale_, step
skipped on inf/nan gradients, update with growth and backoff)."""
import warnings
from collections import defaultdict

from .. import _C

_READY, _UNSCALED, _STEPPED = 0, 1, 2


def _fresh():
    return {"stage": _READY, "found_inf": None}


class GradScaler:
    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        from .autocast_mode import _device_type
        self._device = _device_type(device, "ember.amp.GradScaler")
        if enabled and self._device == "cuda" and not _C.cuda.is_available():
            warnings.warn("ember.amp.GradScaler is enabled, but CUDA is not available. Disabling.",
                          UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled
        if enabled:
            if growth_factor <= 1.0:
                raise ValueError("ember.amp.GradScaler: the growth factor must be > 1.0, got "
                                 f"{growth_factor}")
            if backoff_factor >= 1.0:
                raise ValueError("ember.amp.GradScaler: the backoff factor must be < 1.0, got "
                                 f"{backoff_factor}")
            if not isinstance(growth_interval, int) or growth_interval <= 0:
                raise ValueError("ember.amp.GradScaler: growth_interval must be a positive int, "
                                 f"got {growth_interval!r}")
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer = defaultdict(_fresh)

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        """outputs * scale (a tensor, or tensors in lists/tuples)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, _C.Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("ember.amp.GradScaler.scale: outputs must be a Tensor or an iterable of "
                         f"Tensors, got {type(outputs).__name__}")

    def _unscale(self, optimizer, inv_scale, allow_fp16):
        import ember
        found = False
        with ember.no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    if not allow_fp16 and g.dtype == ember.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    g.mul_(inv_scale)
                    if not found and not bool(ember.isfinite(g).all()):
                        found = True
        return found

    def unscale_(self, optimizer):
        """Divides the optimizer's gradients by the scale (once per step) and records whether
        any is inf or nan."""
        if not self._enabled:
            return
        state = self._per_optimizer[id(optimizer)]
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        state["found_inf"] = self._unscale(optimizer, 1.0 / self._scale, False)
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(), skipped when the unscaled gradients hold inf or nan."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._per_optimizer[id(optimizer)]
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None
        if not state["found_inf"]:
            result = optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None):
        """Backs the scale off after a skipped step, grows it after growth_interval clean ones."""
        if not self._enabled:
            return
        if new_scale is not None:
            if isinstance(new_scale, _C.Tensor):
                new_scale = new_scale.item()
            self._scale = float(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer.values()
                     if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer = defaultdict(_fresh)

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
