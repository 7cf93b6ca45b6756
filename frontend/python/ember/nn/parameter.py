"""ember.nn.Parameter: a Tensor that a Module registers as one of its parameters."""
from .. import _C
from .._C import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default; assigning one to a Module attribute
    registers it. Shares memory with `data` (as torch.nn.Parameter does)."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _C.zeros([0], _C.dtype.float32)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: data must be a Tensor, got {type(data).__name__}")
        super().__init__(data.detach())
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)



class Buffer(Tensor):
    """Marks a tensor as a buffer when assigned to a Module attribute (torch.nn.Buffer)."""

    def __init__(self, data, persistent=True):
        super().__init__(data.detach())
        self.persistent = persistent


def _tensor_deepcopy(self, memo):
    """copy.deepcopy of a leaf tensor: new memory, same requires_grad (as in torch)."""
    if not self.is_leaf:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                           "the deepcopy protocol at the moment; detach() first")
    if id(self) in memo:
        return memo[id(self)]
    new = self.detach().clone()
    if self.requires_grad:
        new.requires_grad_(True)
    memo[id(self)] = new
    return new


def _parameter_deepcopy(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    new = Parameter(self.detach().clone(), self.requires_grad)
    if self.grad is not None:
        new.grad = self.grad.clone()
    memo[id(self)] = new
    return new


Tensor.__deepcopy__ = _tensor_deepcopy
Parameter.__deepcopy__ = _parameter_deepcopy


Tensor.data = property(lambda self: self.detach(), lambda self, src: self._set_data(src),
                       doc="The tensor detached from autograd (shares memory); assigning it "
                       "makes this tensor view the new data, keeping its identity and "
                       "requires_grad")
