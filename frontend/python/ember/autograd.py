"""ember.autograd: gradients by the graph transform (PyTorch's torch.autograd API).

Tensor.backward, grad, custom functions (Function), gradcheck / gradgradcheck. The gradients
come from the per-primitive VJP rules in frontend/src/Autograd.cpp."""
import numpy as _np

from . import _C
from ._C import Tensor

__all__ = ["grad", "backward", "Function", "gradcheck", "gradgradcheck", "GradcheckError"]


def _as_list(x):
    if x is None:
        return None
    return [x] if isinstance(x, Tensor) else list(x)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of `outputs` with respect to `inputs`, a tuple (torch.autograd.grad).

    The graph's saved tensors are freed afterwards unless retain_graph (default: create_graph)."""
    if is_grads_batched:
        raise NotImplementedError("ember.autograd.grad: is_grads_batched is not supported; "
                                  "loop over the batch (or use ember.func.jacrev)")
    ins = _as_list(inputs)
    res = _C._autograd_grad(_as_list(outputs), ins, _as_list(grad_outputs), retain_graph,
                            create_graph, bool(allow_unused) or materialize_grads)
    if materialize_grads:
        res = tuple(r if r is not None else _C.zeros(list(x.shape), x.dtype)
                    for r, x in zip(res, ins))
    return res


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """torch.autograd.backward: backward of each tensor (with its gradient) into .grad."""
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"ember.autograd.backward: got {len(tensors)} tensors but "
                           f"{len(grads)} gradients")
    for i, (t, g) in enumerate(zip(tensors, grads)):
        keep = retain_graph if i == len(tensors) - 1 else True
        t.backward(g, retain_graph=keep, create_graph=create_graph, inputs=inputs)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates the gradient of this tensor into the .grad of the leaves (or of `inputs`)."""
    if gradient is not None and not isinstance(gradient, Tensor):
        gradient = _C.full([], float(gradient), self.dtype)
    _C._backward(self, gradient, retain_graph, create_graph, _as_list(inputs))


class RemovableHandle:
    """What register_hook returns: remove() takes the hook off again."""

    def __init__(self, tensor, hook_id):
        self._tensor, self.id = tensor, hook_id

    def remove(self):
        if self._tensor is not None:
            _C._remove_hook(self._tensor, self.id)
            self._tensor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _register_hook(self, hook):
    """Calls hook(grad) when this tensor's gradient is computed; a returned tensor replaces it."""
    if not callable(hook):
        raise TypeError(f"register_hook expects a callable, got {type(hook).__name__}")
    return RemovableHandle(self, _C._register_hook(self, hook))


Tensor.backward = _tensor_backward
Tensor.register_hook = _register_hook
Tensor.retain_grad = lambda self: _C._retain_grad(self)
Tensor.retains_grad = property(lambda self: _C._retains_grad(self))
Tensor._version = property(lambda self: _C._version(self))
Tensor.detach_ = lambda self: _C._detach_(self)


# ---- custom functions -------------------------------------------------------------------------

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


class FunctionCtx:
    """The `ctx` of a custom Function: what forward saves for backward."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._versions = ()
        self._freed = False
        self.materialize_grads = True
        self._live = None

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save tensors (or None), got "
                                f"{type(t).__name__}; store other values as ctx attributes")
        self._saved = tensors
        self._versions = tuple(None if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED)
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if t is not None and t._version != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: saved tensor {i} of shape {list(t.shape)} is at "
                    f"version {t._version}; expected version {v} instead. Hint: clone() it "
                    "before modifying it in place")
        if self._live is not None:
            raw, live = self._live
            return tuple(live if t is raw else t for t in self._saved)
        return self._saved

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    def mark_non_differentiable(self, *args):
        pass

    def _release(self):
        self._saved, self._freed = (), True


class Function:
    """A custom differentiable function (torch.autograd.Function): subclass it with static
    forward(ctx, *args) and backward(ctx, *grad_outputs), then call Cls.apply(*args).

    forward runs without recording; each floating tensor output gets a node whose VJP calls
    backward (with zeros for the other outputs' gradients), which may itself use ember ops (so
    create_graph differentiates it again)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        from . import no_grad, is_grad_enabled, zeros_like
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if not (is_grad_enabled() and any(ctx.needs_input_grad)):
            return out
        outs = out if isinstance(out, tuple) else (out,)
        # Floating tensor outputs get a node each; the others are not differentiable.
        diff = [j for j, o in enumerate(outs) if isinstance(o, Tensor) and o.dtype.is_floating_point]
        if not diff:
            return out
        nargs = len(args)
        name = cls.__name__ + "Backward"
        pending = [len(diff)]

        def release():  # the context is freed with the last of the outputs' nodes
            pending[0] -= 1
            if pending[0] == 0:
                ctx._release()

        def make_backward(j):
            # One node per output: backward with this output's gradient and zeros for the others
            # (backward is linear in the gradients, so the nodes' contributions add up).
            def backward(g, live_output):
                grads_out = [g if k == j else (zeros_like(outs[k]) if k in diff else None)
                             for k in range(len(outs))]
                ctx._live = (outs[j], live_output)  # the output as saved: differentiable again
                try:
                    grads = cls.backward(ctx, *grads_out)
                finally:
                    ctx._live = None
                if not isinstance(grads, tuple):
                    grads = (grads,)
                if len(grads) != nargs:
                    raise RuntimeError(f"function {name} returned an incorrect number of "
                                       f"gradients (expected {nargs}, got {len(grads)})")
                for i, g_i in enumerate(grads):
                    if g_i is not None and not isinstance(g_i, Tensor):
                        raise TypeError(f"function {name} returned a {type(g_i).__name__} as "
                                        f"gradient {i}; return a Tensor or None")
                    if g_i is not None and i not in positions:
                        raise RuntimeError(f"function {name} returned a gradient different than "
                                           f"None at position {i + 1}, but the corresponding "
                                           "forward input was not a Variable")
                return [grads[i] for i in positions]
            return backward

        inputs = [args[i] for i in positions]
        recorded = list(outs)
        for j in diff:
            recorded[j] = _C._record_custom(outs[j], inputs, make_backward(j), release, name)
        return tuple(recorded) if isinstance(out, tuple) else recorded[0]


# ---- gradcheck --------------------------------------------------------------------------------

class GradcheckError(RuntimeError):
    """gradcheck's failure (a RuntimeError, as in PyTorch)."""


def _flat_outputs(out):
    return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]


def _numerical_jacobians(func, inputs, diff_idx, eps):
    """d(output)/d(input) by central differences, one [out_numel, in_numel] array per pair."""
    from . import tensor
    base = [x.detach().numpy().astype(_np.float64) if isinstance(x, Tensor) else x for x in inputs]

    def run(arrays):
        # Inputs keep requires_grad: func may differentiate inside (gradgradcheck).
        args = [tensor(a, dtype=inputs[i].dtype, requires_grad=True) if i in diff_idx else
                (inputs[i].detach() if isinstance(inputs[i], Tensor) else inputs[i])
                for i, a in enumerate(arrays)]
        return [o.detach().numpy().astype(_np.float64).ravel() for o in _flat_outputs(func(*args))]

    outs0 = run(base)
    jac = {}
    for i in diff_idx:
        n = base[i].size
        cols = [[_np.zeros(n) for _ in range(o.size)] for o in outs0]
        for j in range(n):
            plus = [b.copy() if isinstance(b, _np.ndarray) else b for b in base]
            minus = [b.copy() if isinstance(b, _np.ndarray) else b for b in base]
            plus[i].flat[j] += eps
            minus[i].flat[j] -= eps
            for k, (p, m) in enumerate(zip(run(plus), run(minus))):
                d = (p - m) / (2 * eps)
                for r in range(d.size):
                    cols[k][r][j] = d[r]
        for k in range(len(outs0)):
            jac[(k, i)] = _np.array(cols[k]).reshape(outs0[k].size, n)
    return jac


def _analytical_jacobians(func, inputs, diff_idx):
    outs = _flat_outputs(func(*inputs))
    jac = {}
    for k, o in enumerate(outs):
        n_out = o.numel()
        rows = {i: _np.zeros((n_out, inputs[i].numel())) for i in diff_idx}
        if o.requires_grad:
            for r in range(n_out):
                basis = _np.zeros(n_out)
                basis[r] = 1
                from . import tensor
                g = tensor(basis.reshape(o.shape), dtype=o.dtype)
                grads = grad([o], [inputs[i] for i in diff_idx], [g], retain_graph=True,
                             allow_unused=True)
                for i, gi in zip(diff_idx, grads):
                    if gi is not None:
                        rows[i][r] = gi.detach().numpy().astype(_np.float64).ravel()
        for i in diff_idx:
            jac[(k, i)] = rows[i]
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **kwargs):
    """Checks the gradients of `func` at `inputs` against central finite differences
    (torch.autograd.gradcheck): inputs that require grad should be float64."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in diff_idx:
        from . import float64
        if inputs[i].dtype != float64:
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of double "
                          "precision floating point.")
    numerical = _numerical_jacobians(func, inputs, diff_idx, eps)
    analytical = _analytical_jacobians(func, inputs, diff_idx)
    for key, num in numerical.items():
        ana = analytical[key]
        if not _np.allclose(ana, num, rtol=rtol, atol=atol):
            msg = (f"Jacobian mismatch for output {key[0]} with respect to input {key[1]},\n"
                   f"numerical:{num}\nanalytical:{ana}\n")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **kwargs):
    """Checks second derivatives: gradcheck of the (create_graph) gradient of `func`
    (torch.autograd.gradgradcheck). Random grad_outputs are used when none are given."""
    from . import randn
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if grad_outputs is None:
        outs = _flat_outputs(func(*inputs))
        grad_outputs = [randn(*o.shape, dtype=o.dtype).requires_grad_(True) for o in outs]
    else:
        grad_outputs = _as_list(grad_outputs)
    n_in = len(inputs)

    def first_grad(*args):
        xs, gos = args[:n_in], args[n_in:]
        outs = _flat_outputs(func(*xs))
        gs = grad(outs, [xs[i] for i in diff_idx], list(gos), create_graph=True,
                  allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grad, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
