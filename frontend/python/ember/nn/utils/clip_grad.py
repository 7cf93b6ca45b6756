"""clip_grad_norm_ and clip_grad_value_ with PyTorch's semantics (norm over all gradients
together; the clip coefficient clamped to 1)."""
import math

from ... import _C
from ..._C import Tensor


def _no_grad():
    from ... import no_grad
    return no_grad()


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of tensors (as one vector)."""
    from ... import linalg, stack, tensor
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    with _no_grad():
        norms = [linalg.vector_norm(g.to(_C.dtype.float32) if not g.dtype.is_floating_point
                                    else g, norm_type) for g in tensors]
        total = linalg.vector_norm(stack([n.to(norms[0].dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    grads = _grads(parameters)
    if not grads:
        return
    with _no_grad():
        coef = (total_norm + 1e-6).reciprocal().mul(float(max_norm)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scales the gradients of parameters in place so their total norm is at most max_norm;
    returns the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient of parameters to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with _no_grad():
        for g in _grads(parameters):
            g.copy_(g.clamp(-clip_value, clip_value))
