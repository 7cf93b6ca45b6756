"""SGD, Adam, AdamW, RMSprop, Adagrad, NAdam, RAdam, Adamax and Adadelta with PyTorch's update
math (its single-tensor implementations, step for step). Updates run under no_grad and write
parameters and state in place: for float32/float64 contiguous parameters in one fused pass per
parameter (ember._C._optim, frontend/src/Optim.cpp; one generated kernel on CUDA), elsewhere
(other layouts, fused=False) with ember ops. NAdam, RAdam, Adamax and Adadelta have no fused
kernel: they always take the ember-ops path, reading their numbers through Optimizer._values like
the others' unfused paths (so they run inside ember.compile too)."""
import math

from .. import _C
from .optimizer import Optimizer, required, _no_grad_step


def _zeros_like(p):
    from .. import zeros_like
    return zeros_like(p)


_FUSED_DTYPES = (_C.dtype.float32, _C.dtype.float64)


def _fusable(group, p, *tensors):
    """Whether the fused C++ update (one pass over the parameter's memory, ember/Optim.h; one
    generated kernel on CUDA) can run: float32/float64, contiguous, every state tensor alike
    and on the parameter's device. fused=False turns it off."""
    if group.get("fused") is False or p.dtype not in _FUSED_DTYPES:
        return False
    if not p.is_contiguous() or p._is_symbolic:
        return False
    n = p.numel()
    for i, t in enumerate(tensors):  # tensors[0] is the gradient: it may be any layout
        if t is None:
            continue
        if (t.device != p.device or t.dtype != p.dtype or (i > 0 and not t.is_contiguous()) or
                t.numel() != n or t._is_symbolic):
            return False
    return True


def _step_tensor(state):
    """The step count as a 0-d float32 tensor (for ember.compile: the graph reads and advances
    it, so one compiled step serves every iteration)."""
    s = state.get("step", 0)
    if not isinstance(s, _C.Tensor):
        from .. import tensor
        state["step"] = tensor(float(s))


def _traced(t):
    return t is not None and t._is_symbolic


def _zeros_state(*names):
    """A state initialiser: step 0 and a zero tensor like the parameter for each of `names`."""
    def init(state, p):
        state["step"] = 0
        for n in names:
            state[n] = _zeros_like(p)
    return init


def _prepare_states(opt, init):
    """Before a compiled step's trace: every parameter's state (made by init(state, p) when
    new), its step a tensor."""
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state[p]
            if not state:
                init(state, p)
            _step_tensor(state)


def _with_grads(opt, group, init):
    """(p, grad (negated under maximize), state) for the group's parameters that have a
    gradient; a new state is made by init(state, p)."""
    for p in group["params"]:
        if p.grad is None:
            continue
        state = opt.state[p]
        if not state:
            init(state, p)
        yield p, (p.grad if not group["maximize"] else -p.grad), state


def _floats(*values):
    return [float(v) for v in values]


def _check(name, value, cond):
    if not cond:
        raise ValueError(f"Invalid {name}: {value}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (dampening, Nesterov), weight decay
    and maximize."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        _check("learning rate", lr, lr >= 0.0)
        _check("momentum value", momentum, momentum >= 0.0)
        _check("weight_decay value", weight_decay, weight_decay >= 0.0)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _prepare_compiled_step(self):
        for group in self.param_groups:
            if group["momentum"] != 0 and group["dampening"] == 0:
                for p in group["params"]:  # buffer 0: the first step's momentum * 0 + grad = grad
                    if "momentum_buffer" not in self.state[p]:
                        self.state[p]["momentum_buffer"] = _zeros_like(p)

    @_no_grad_step
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            v = self._values(group)  # the numbers for the arithmetic (tensors when compiled)
            for p in group["params"]:
                if p.grad is None:
                    continue
                if momentum != 0:
                    buf = self.state[p].get("momentum_buffer")
                    if _fusable(group, p, p.grad, buf):
                        first = buf is None
                        if first:
                            buf = self.state[p]["momentum_buffer"] = _zeros_like(p)
                        _C._optim.sgd(p, p.grad.contiguous(), buf,
                                      *_floats(lr, momentum, dampening, wd), bool(nesterov),
                                      bool(maximize), first)
                        continue
                elif _fusable(group, p, p.grad):
                    _C._optim.sgd(p, p.grad.contiguous(), None,
                                  *_floats(lr, 0.0, dampening, wd), False, bool(maximize), False)
                    continue
                d_p = p.grad if not maximize else -p.grad
                if wd != 0:
                    d_p = d_p + p * v["weight_decay"]
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        if _traced(d_p):
                            raise NotImplementedError(
                                "ember.compile: SGD with dampening takes its first momentum "
                                "step differently; run one step eagerly before compiling")
                        buf = _zeros_like(p).copy_(d_p)
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(v["momentum"]).add_(d_p if dampening == 0 else d_p * v["1-dampening"])
                    d_p = d_p + buf * v["momentum"] if nesterov else buf
                p.sub_(d_p * v["lr"])
        return loss


class Adam(Optimizer):
    """Adam (Kingma & Ba) with optional L2 weight decay, AMSGrad and maximize; with
    decoupled_weight_decay it is AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check("learning rate", lr, 0.0 <= lr)
        _check("epsilon value", eps, 0.0 <= eps)
        _check("beta parameter at index 0", betas[0], 0.0 <= betas[0] < 1.0)
        _check("beta parameter at index 1", betas[1], 0.0 <= betas[1] < 1.0)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay, fused=fused)
        super().__init__(params, defaults)

    def _prepare_compiled_step(self):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                _step_tensor(state)

    @_no_grad_step
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group.get("decoupled_weight_decay", False)
            v = self._values(group)  # the numbers for the arithmetic (tensors when compiled)
            v_lr, v_b1, v_b2, v_eps, v_wd = (v["lr"], v["betas0"], v["betas1"], v["eps"],
                                             v["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if not maximize else -p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                state["step"] += 1
                step = state["step"]
                if _fusable(group, p, p.grad, state["exp_avg"], state["exp_avg_sq"],
                            state.get("max_exp_avg_sq")):
                    _C._optim.adam(p, p.grad.contiguous(), state["exp_avg"], state["exp_avg_sq"],
                                   state.get("max_exp_avg_sq") if amsgrad else None,
                                   *_floats(lr, beta1, beta2, eps, wd), bool(decoupled),
                                   bool(amsgrad), bool(maximize), int(step))
                    continue
                if wd != 0:
                    if decoupled:
                        p.mul_(v["1-lr*weight_decay"])
                    else:
                        grad = grad + p * v_wd
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.add_((grad - exp_avg) * v["1-betas0"])  # lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(v_b2).add_(grad * grad * v["1-betas1"])
                bias_correction1 = 1 - v_b1 ** step
                bias_correction2_sqrt = ((1 - v_b2 ** step).sqrt()
                                         if isinstance(step, _C.Tensor) or isinstance(v_b2, _C.Tensor)
                                         else math.sqrt(1 - v_b2 ** step))
                step_size = v_lr / bias_correction1
                if amsgrad:
                    mx = state["max_exp_avg_sq"]
                    mx.copy_(_C.maximum(mx, exp_avg_sq))
                    denom = mx.sqrt() / bias_correction2_sqrt + v_eps
                else:
                    denom = exp_avg_sq.sqrt() / bias_correction2_sqrt + v_eps
                p.sub_(exp_avg / denom * step_size)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr * weight_decay."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, fused=fused)


class RMSprop(Optimizer):
    """RMSprop with optional momentum, centering, weight decay and maximize."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False, fused=None):
        _check("learning rate", lr, 0.0 <= lr)
        _check("epsilon value", eps, 0.0 <= eps)
        _check("momentum value", momentum, 0.0 <= momentum)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        _check("alpha value", alpha, 0.0 <= alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _prepare_compiled_step(self):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["square_avg"] = _zeros_like(p)
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = _zeros_like(p)
                _step_tensor(state)

    @_no_grad_step
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            v = self._values(group)  # the numbers for the arithmetic (tensors when compiled)
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if not group["maximize"] else -p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                state["step"] += 1
                if _fusable(group, p, p.grad, state["square_avg"], state.get("grad_avg"),
                            state.get("momentum_buffer")):
                    _C._optim.rmsprop(p, p.grad.contiguous(), state["square_avg"],
                                      state.get("grad_avg") if centered else None,
                                      state.get("momentum_buffer") if momentum > 0 else None,
                                      *_floats(lr, alpha, eps, wd, momentum), bool(centered),
                                      bool(group["maximize"]))
                    continue
                if wd != 0:
                    grad = grad + p * v["weight_decay"]
                square_avg = state["square_avg"]
                square_avg.mul_(v["alpha"]).add_(grad * grad * v["1-alpha"])
                if centered:
                    grad_avg = state["grad_avg"]
                    grad_avg.add_((grad - grad_avg) * v["1-alpha"])
                    avg = (square_avg - grad_avg * grad_avg).sqrt() + v["eps"]
                else:
                    avg = square_avg.sqrt() + v["eps"]
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(v["momentum"]).add_(grad / avg)
                    p.sub_(buf * v["lr"])
                else:
                    p.sub_(grad / avg * v["lr"])
        return loss


class Adagrad(Optimizer):
    """Adagrad with learning-rate decay, weight decay, an initial accumulator value and
    maximize."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check("learning rate", lr, 0.0 <= lr)
        _check("lr_decay value", lr_decay, 0.0 <= lr_decay)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        _check("initial_accumulator_value value", initial_accumulator_value,
               0.0 <= initial_accumulator_value)
        _check("epsilon value", eps, 0.0 <= eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                        fused=fused)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        # The accumulators start at initial_accumulator_value as the group's parameters join
        # (a group added later too: its step() found no state).
        super().add_param_group(param_group)
        from .. import full_like
        group = self.param_groups[-1]
        for p in group["params"]:
            state = self.state[p]
            if "sum" not in state:
                state["step"] = 0
                state["sum"] = full_like(p, float(group["initial_accumulator_value"]))

    def _prepare_compiled_step(self):
        for group in self.param_groups:
            for p in group["params"]:
                _step_tensor(self.state[p])

    @_no_grad_step
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay, wd, eps = (group["lr"], group["lr_decay"], group["weight_decay"],
                                     group["eps"])
            v = self._values(group)  # the numbers for the arithmetic (tensors when compiled)
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if not group["maximize"] else -p.grad
                state = self.state[p]
                state["step"] += 1
                clr = v["lr"] / (1 + (state["step"] - 1) * v["lr_decay"])
                if _fusable(group, p, p.grad, state["sum"]):
                    _C._optim.adagrad(p, p.grad.contiguous(), state["sum"],
                                      *_floats(clr, wd, eps), bool(group["maximize"]))
                    continue
                if wd != 0:
                    grad = grad + p * v["weight_decay"]
                state["sum"].add_(grad * grad)
                std = state["sum"].sqrt() + v["eps"]
                p.sub_(grad / std * clr)
        return loss


def _is_tensor(x):
    return isinstance(x, _C.Tensor)


class NAdam(Optimizer):
    """NAdam (Dozat): Adam with Nesterov momentum whose coefficient mu_t = beta1 * (1 - 0.5 *
    0.96 ** (t * momentum_decay)) warms up; optional L2 or (decoupled_weight_decay) decoupled
    weight decay, and maximize. State: step, mu_product (a 0-d float32 tensor, the running
    product of the mu_t, as PyTorch keeps it), exp_avg, exp_avg_sq."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check("learning rate", lr, 0.0 <= lr)
        _check("epsilon value", eps, 0.0 <= eps)
        _check("beta parameter at index 0", betas[0], 0.0 <= betas[0] < 1.0)
        _check("beta parameter at index 1", betas[1], 0.0 <= betas[1] < 1.0)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        _check("momentum_decay value", momentum_decay, 0.0 <= momentum_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p):
        from .. import ones, float32
        state["step"] = 0
        state["mu_product"] = ones((), dtype=float32)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _prepare_compiled_step(self):
        _prepare_states(self, self._init_state)

    @_no_grad_step
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            wd = group["weight_decay"]
            decoupled = group.get("decoupled_weight_decay", False)
            v = self._values(group)  # the numbers for the arithmetic (tensors when compiled)
            v_lr, v_b1, v_b2, v_eps, v_md = (v["lr"], v["betas0"], v["betas1"], v["eps"],
                                             v["momentum_decay"])
            for p, grad, state in _with_grads(self, group, self._init_state):
                state["step"] += 1
                step = state["step"]
                bias_correction2 = 1 - v_b2 ** step
                if wd != 0:
                    if decoupled:
                        p.mul_(v["1-lr*weight_decay"])
                    else:
                        grad = grad + p * v["weight_decay"]
                # the momentum cache mu_t and mu_{t+1}
                mu = v_b1 * (1.0 - 0.5 * (0.96 ** (step * v_md)))
                mu_next = v_b1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * v_md)))
                mu_product = state["mu_product"]
                mu_product.mul_(mu)
                # eagerly the product's float32 value as a number (PyTorch's _get_value); the
                # tensor itself while traced
                mu_prod = mu_product if _traced(grad) else mu_product.item()
                mu_product_next = mu_prod * mu_next
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.add_((grad - exp_avg) * v["1-betas0"])  # lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(v_b2).add_(grad * grad * v["1-betas1"])
                denom = (exp_avg_sq / bias_correction2).sqrt() + v_eps
                p.sub_(grad / denom * (v_lr * (1.0 - mu) / (1.0 - mu_prod)))
                p.sub_(exp_avg / denom * (v_lr * mu_next / (1.0 - mu_product_next)))
        return loss


class RAdam(Optimizer):
    """RAdam (Liu et al.): Adam whose adaptive step is rectified by the variance of the
    adaptive learning rate, and plain bias-corrected momentum while that variance is
    intractable (rho_t <= 5); optional L2 or (decoupled_weight_decay) decoupled weight decay,
    and maximize."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check("learning rate", lr, 0.0 <= lr)
        _check("epsilon value", eps, 0.0 <= eps)
        _check("beta parameter at index 0", betas[0], 0.0 <= betas[0] < 1.0)
        _check("beta parameter at index 1", betas[1], 0.0 <= betas[1] < 1.0)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    _init_state = staticmethod(_zeros_state("exp_avg", "exp_avg_sq"))

    def _prepare_compiled_step(self):
        _prepare_states(self, self._init_state)

    @_no_grad_step
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            wd = group["weight_decay"]
            decoupled = group.get("decoupled_weight_decay", False)
            v = self._values(group)  # the numbers for the arithmetic (tensors when compiled)
            v_lr, v_b1, v_b2, v_eps = v["lr"], v["betas0"], v["betas1"], v["eps"]
            for p, grad, state in _with_grads(self, group, self._init_state):
                state["step"] += 1
                step = state["step"]
                if wd != 0:
                    if decoupled:
                        p.mul_(v["1-lr*weight_decay"])
                    else:
                        grad = grad + p * v["weight_decay"]
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.add_((grad - exp_avg) * v["1-betas0"])  # lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(v_b2).add_(grad * grad * v["1-betas1"])
                bias_correction1 = 1 - v_b1 ** step
                bias_correction2 = 1 - v_b2 ** step
                bias_corrected_exp_avg = exp_avg / bias_correction1
                # maximum length of the approximated SMA, and its value at this step
                rho_inf = 2 / v["1-betas1"] - 1
                rho_t = rho_inf - 2 * step * (v_b2 ** step) / bias_correction2
                if _is_tensor(rho_t):  # compiled (or a tensor step): no branch on a value
                    from .. import where
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)).sqrt()
                    adaptive = bias_correction2.sqrt() / (exp_avg_sq.sqrt() + v_eps)
                    update = where(rho_t > 5.0, adaptive * rect, 1.0)
                    p.sub_(bias_corrected_exp_avg * v_lr * update)
                elif rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = bias_correction2 ** 0.5 / (exp_avg_sq.sqrt() + v_eps)
                    p.sub_(bias_corrected_exp_avg * v_lr * adaptive * rect)
                else:
                    p.sub_(bias_corrected_exp_avg * v_lr)
        return loss


class Adamax(Optimizer):
    """Adamax (Kingma & Ba): Adam with the infinity norm, exp_inf = max(beta2 * exp_inf,
    |grad| + eps); optional L2 weight decay and maximize."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check("learning rate", lr, 0.0 <= lr)
        _check("epsilon value", eps, 0.0 <= eps)
        _check("beta parameter at index 0", betas[0], 0.0 <= betas[0] < 1.0)
        _check("beta parameter at index 1", betas[1], 0.0 <= betas[1] < 1.0)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    _init_state = staticmethod(_zeros_state("exp_avg", "exp_inf"))

    def _prepare_compiled_step(self):
        _prepare_states(self, self._init_state)

    @_no_grad_step
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            wd = group["weight_decay"]
            v = self._values(group)  # the numbers for the arithmetic (tensors when compiled)
            for p, grad, state in _with_grads(self, group, self._init_state):
                state["step"] += 1
                if wd != 0:
                    grad = grad + p * v["weight_decay"]
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                exp_avg.add_((grad - exp_avg) * v["1-betas0"])  # lerp_(grad, 1 - beta1)
                exp_inf.copy_(_C.maximum(exp_inf * v["betas1"], grad.abs() + v["eps"]))
                clr = v["lr"] / (1 - v["betas0"] ** state["step"])
                p.sub_(exp_avg / exp_inf * clr)
        return loss


class Adadelta(Optimizer):
    """Adadelta (Zeiler): steps of sqrt(acc_delta + eps) / sqrt(square_avg + eps) * grad,
    both running averages with coefficient rho, scaled by lr; optional L2 weight decay and
    maximize."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check("learning rate", lr, 0.0 <= lr)
        _check("rho value", rho, 0.0 <= rho <= 1.0)
        _check("epsilon value", eps, 0.0 <= eps)
        _check("weight_decay value", weight_decay, 0.0 <= weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    _init_state = staticmethod(_zeros_state("square_avg", "acc_delta"))

    def _prepare_compiled_step(self):
        _prepare_states(self, self._init_state)

    @_no_grad_step
    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            wd = group["weight_decay"]
            v = self._values(group)  # the numbers for the arithmetic (tensors when compiled)
            for p, grad, state in _with_grads(self, group, self._init_state):
                state["step"] += 1
                if wd != 0:
                    grad = grad + p * v["weight_decay"]
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg.mul_(v["rho"]).add_(grad * grad * v["1-rho"])
                std = (square_avg + v["eps"]).sqrt()
                delta = (acc_delta + v["eps"]).sqrt() / std * grad
                acc_delta.mul_(v["rho"]).add_(delta * delta * v["1-rho"])
                p.sub_(delta * v["lr"])
        return loss
