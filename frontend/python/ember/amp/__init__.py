"""ember.amp: automatic mixed precision (torch.amp)."""
from .autocast_mode import autocast, is_autocast_enabled, get_autocast_dtype  # noqa: F401
from .grad_scaler import GradScaler  # noqa: F401
from . import _cuda_fp32  # noqa: F401

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype"]


def _attach_device_aliases(cuda_module):
    """ember.cuda.amp / ember.cpu.amp: the deprecated per-device spellings torch keeps."""
    import types
    from .autocast_mode import cuda_autocast, cpu_autocast

    def cuda_scaler(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                    growth_interval=2000, enabled=True):
        return GradScaler("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                          enabled)

    cuda_amp = types.ModuleType("ember.cuda.amp")
    cuda_amp.autocast, cuda_amp.GradScaler = cuda_autocast, cuda_scaler
    cuda_module.amp = cuda_amp
    global _cpu_module
    cpu_amp = types.ModuleType("ember.cpu.amp")
    cpu_amp.autocast = cpu_autocast
    _cpu_module = types.ModuleType("ember.cpu")
    _cpu_module.amp = cpu_amp


_cpu_module = None
