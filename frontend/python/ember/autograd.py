"""ember.autograd: gradients by the graph transform (PyTorch's torch.autograd API)."""
from . import _C
from ._C import Tensor


def _as_list(x):
    if x is None:
        return None
    return [x] if isinstance(x, Tensor) else list(x)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of `outputs` with respect to `inputs` (a tuple, like torch.autograd.grad).

    ember keeps the recorded graph alive as long as its tensors are, so `retain_graph` is
    accepted for compatibility and has no effect."""
    return _C._autograd_grad(_as_list(outputs), _as_list(inputs), _as_list(grad_outputs),
                             create_graph, allow_unused)
