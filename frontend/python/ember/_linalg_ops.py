"""addmm, baddbmm, vdot, tensordot, einsum and multinomial with PyTorch's signatures (the
computations are C++ composites in frontend/src/LinalgOps.cpp)."""
from . import _C
from ._C import Tensor


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    return _C._addmm(input, mat1, mat2, float(beta), float(alpha))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _C._baddbmm(input, batch1, batch2, float(beta), float(alpha))


def vdot(input, other):
    return _C._vdot(input, other)


def tensordot(a, b, dims=2):
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.dim() - dims, a.dim())), list(range(dims))
    elif isinstance(dims, Tensor):
        return tensordot(a, b, dims.tolist())
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    return _C._tensordot(a, b, da, db)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    return _C._einsum(equation, list(operands))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    if generator is not None:
        raise NotImplementedError("ember.multinomial: generator= is not supported; use ember.manual_seed")
    return _C._multinomial(input, num_samples, replacement)


FUNCTIONS = ["addmm", "baddbmm", "vdot", "tensordot", "einsum", "multinomial"]
for _name in ["addmm", "baddbmm", "vdot", "multinomial"]:
    setattr(Tensor, _name, globals()[_name])
del _name
