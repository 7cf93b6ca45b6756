"""ember.func: function transforms (torch.func) built on the autograd transform.

grad, grad_and_value, vjp, jacrev by reverse mode; jvp and jacfwd by the double-vjp trick (the
vjp is linear in its cotangent, so differentiating it with respect to the cotangent gives the
jvp): no separate forward-mode rules."""
from . import _C
from ._C import Tensor
from . import autograd as _autograd

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd"]


def _prepare(x):
    """A tensor to differentiate with respect to: connected to an outer transform's graph when
    there is one (so transforms nest), otherwise a fresh leaf."""
    if not isinstance(x, Tensor):
        raise TypeError(f"ember.func: expected tensors as the differentiated arguments, got "
                        f"{type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"ember.func: only floating point tensors can be differentiated, "
                           f"got {x.dtype}")
    if x.requires_grad and _C.is_grad_enabled():
        return x + 0.0, True  # a new node of the outer graph
    return x.detach().requires_grad_(True), False


def _argnums(argnums, n):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"Got argnums={argnums} but only {n} positional inputs")
    return nums


def grad_and_value(func, argnums=0, has_aux=False):
    """Returns a function computing (gradient of func with respect to args[argnums], value)."""

    def wrapper(*args, **kwargs):
        from . import enable_grad
        nums = _argnums(argnums, len(args))
        args = list(args)
        nested = False
        for a in nums:
            args[a], n = _prepare(args[a])
            nested |= n
        with enable_grad():
            out = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be "
                                       "a tuple: (output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   "scalar Tensor, got "
                                   + (f"shape {list(out.shape)}" if isinstance(out, Tensor)
                                      else type(out).__name__))
            if not out.requires_grad:  # f does not depend on the inputs: zero gradient
                gs = tuple(_C.zeros(list(args[a].shape), args[a].dtype) for a in nums)
            else:
                gs = _autograd.grad([out], [args[a] for a in nums], create_graph=nested,
                                    allow_unused=True, materialize_grads=True)
        if not nested:
            gs = tuple(g.detach() for g in gs)
            out = out.detach()
        g = gs[0] if isinstance(argnums, int) else gs
        return (g, (out, aux)) if has_aux else (g, out)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """Returns a function computing the gradient of scalar func with respect to args[argnums]."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn): vjp_fn(cotangent) gives one gradient per primal."""
    from . import enable_grad
    xs, nested = [], False
    for p in primals:
        x, n = _prepare(p)
        xs.append(x)
        nested |= n
    with enable_grad():
        out = func(*xs)
    aux = None
    if has_aux:
        out, aux = out
    if not isinstance(out, Tensor):
        raise NotImplementedError("ember.func.vjp: func must return a single tensor")

    def vjp_fn(cotangent):
        if not isinstance(cotangent, Tensor) or list(cotangent.shape) != list(out.shape):
            raise RuntimeError(f"Mismatch in shape: the cotangent has shape "
                               f"{list(getattr(cotangent, 'shape', []))} but the output has "
                               f"shape {list(out.shape)}")
        with enable_grad():
            if not out.requires_grad:
                return tuple(_C.zeros(list(x.shape), x.dtype) for x in xs)
            gs = _autograd.grad([out], xs, [cotangent], retain_graph=True,
                                create_graph=nested or cotangent.requires_grad,
                                allow_unused=True, materialize_grads=True)
        return gs

    result = out if nested else out.detach()
    return (result, vjp_fn, aux) if has_aux else (result, vjp_fn)


def jacrev(func, argnums=0):
    """The Jacobian of func with respect to args[argnums], one vjp per output element:
    shape out.shape + arg.shape."""
    from . import stack, zeros

    def wrapper(*args):
        nums = _argnums(argnums, len(args))

        def f(*diff):
            full = list(args)
            for a, d in zip(nums, diff):
                full[a] = d
            return func(*full)

        out, fn = vjp(f, *[args[a] for a in nums])
        rows = []
        for k in range(out.numel()):
            e = zeros(out.numel(), dtype=out.dtype)
            e[k] = 1.0
            rows.append(fn(e.reshape(list(out.shape))))
        jacs = []
        for j, a in enumerate(nums):
            shape = list(out.shape) + list(args[a].shape)
            if rows:
                jacs.append(stack([r[j] for r in rows]).reshape(shape))
            else:
                jacs.append(zeros(*shape, dtype=args[a].dtype))
        return jacs[0] if isinstance(argnums, int) else tuple(jacs)

    return wrapper


def jvp(func, primals, tangents):
    """(func(*primals), J @ tangents) by double vjp."""
    from . import enable_grad, zeros
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise RuntimeError("jvp: Expected primals and tangents to have the same length")
    for p, t in zip(primals, tangents):
        if list(p.shape) != list(t.shape):
            raise RuntimeError(f"jvp: Expected primals and tangents to have the same shape, got "
                               f"{list(p.shape)} and {list(t.shape)}")
    xs = [_prepare(p)[0] for p in primals]
    with enable_grad():
        out = func(*xs)
        u = zeros(*out.shape, dtype=out.dtype).requires_grad_(True)
        if not out.requires_grad:
            return out.detach(), zeros(*out.shape, dtype=out.dtype)
        gs = _autograd.grad([out], xs, [u], create_graph=True, allow_unused=True)
        pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None and g.requires_grad]
        if not pairs:
            return out.detach(), zeros(*out.shape, dtype=out.dtype)
        (jv,) = _autograd.grad([g for g, _ in pairs], [u], [t for _, t in pairs],
                               allow_unused=True, materialize_grads=True)
    return out.detach(), jv.detach()


def jacfwd(func, argnums=0):
    """The Jacobian by one jvp per input element (shape out.shape + arg.shape)."""
    from . import stack, zeros

    def wrapper(*args):
        nums = _argnums(argnums, len(args))
        jacs = []
        for a in nums:
            x = args[a]

            def f(d, a=a):
                full = list(args)
                full[a] = d
                return func(*full)

            cols = []
            out = None
            for k in range(x.numel()):
                e = zeros(x.numel(), dtype=x.dtype)
                e[k] = 1.0
                out, col = jvp(f, (x,), (e.reshape(list(x.shape)),))
                cols.append(col.reshape(-1))
            if out is None:
                out = f(x)
            if cols:
                j = stack(cols, 1).reshape(list(out.shape) + list(x.shape))
            else:
                j = zeros(*(list(out.shape) + list(x.shape)), dtype=x.dtype)
            jacs.append(j)
        return jacs[0] if isinstance(argnums, int) else tuple(jacs)

    return wrapper
