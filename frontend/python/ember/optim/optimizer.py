"""ember.optim.Optimizer: parameter groups, per-parameter state, zero_grad and state dicts."""
from collections import defaultdict
import copy
import functools
import numbers

import numpy as np

from .._C import Tensor


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _is_number(v):
    """A hyper-parameter given as a number: Python's, NumPy's (np.float32 is not a float) or a
    one-element tensor, as PyTorch accepts; not a bool."""
    if isinstance(v, Tensor):
        return v.numel() == 1 and v.dtype.is_floating_point
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _no_grad_step(step):
    """Runs an optimizer's step under no_grad (updates write parameters in place)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        from .. import no_grad
        with no_grad():
            return step(self, *args, **kwargs)
    return wrapper


class Optimizer:
    """Base class: holds param_groups (dicts with 'params' and hyper-parameters) and state
    (a dict per parameter). Subclasses implement step()."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}"
            for key in sorted(group):
                if key != "params":
                    s += f"\n    {key}: {group[key]}"
        return s + "\n)"

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        param_group = dict(param_group)
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        from .. import no_grad
        for group in self.param_groups:
            for p in group["params"]:
                # (None even when already None: in a compiled step that marks the gradient as
                # cleared, so the step's trace does not depend on whether a previous call left one.)
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure=None):
        raise NotImplementedError

    # ember.compile: a group's numbers (lr, momentum, betas, eps, ...) are read by a compiled
    # step as 0-d tensors, graph inputs refreshed from the group before each call, so a learning
    # rate scheduler (or any change to a group's numbers) takes effect without a recompile; what
    # decides the update's structure (which numbers are zero, the flags) is part of the cache key.
    @staticmethod
    def _numbers(group):
        """(name, value) of the group's numeric hyper-parameters (tuples such as betas by index),
        and for each x also "1-x" (and "1-lr*weight_decay"), computed here in double precision
        as the eager arithmetic on Python numbers does, so a compiled step's float32 inputs hold
        the very values the eager step's scalars round to."""
        base = {}
        for k, v in group.items():
            if k == "params" or isinstance(v, bool) or v is None:
                continue
            if _is_number(v):
                base[k] = float(v)
            elif isinstance(v, tuple) and all(_is_number(x) for x in v):
                for i, x in enumerate(v):
                    base[f"{k}{i}"] = float(x)
        out = dict(base)
        for k, x in base.items():
            out["1-" + k] = 1 - x
        if "lr" in base and "weight_decay" in base:
            out["1-lr*weight_decay"] = 1 - base["lr"] * base["weight_decay"]
        return out.items()

    def _sync_compiled_numbers(self):
        """Creates (first call) and refreshes the groups' 0-d float32 tensors (compiled graphs
        take float32; see _numbers)."""
        from .. import tensor, float32
        held = getattr(self, "_ember_numbers", None)
        if held is None or len(held) != len(self.param_groups):
            held = self._ember_numbers = [{} for _ in self.param_groups]
        for group, mine in zip(self.param_groups, held):
            for name, value in self._numbers(group):
                t, seen = mine.get(name, (None, None))
                if t is None:
                    t = tensor(value, dtype=float32)
                elif seen != value:
                    t.fill_(value)
                mine[name] = (t, value)

    def _compiled_structure(self):
        """What a compiled step's graph depends on besides the numbers' values."""
        return tuple(tuple((k, v) if isinstance(v, bool) or v is None else (k, v == 0)
                           for k, v in sorted(g.items(), key=lambda kv: kv[0])
                           if k != "params" and not isinstance(v, (list, dict)))
                     for g in self.param_groups)

    def _values(self, group):
        """The group's numbers for the arithmetic of step(): floats eagerly, the 0-d tensors
        (graph inputs) while ember.compile traces the step."""
        traced = any(p.grad is not None and p.grad._is_symbolic for p in group["params"])
        numbers = dict(self._numbers(group))
        if traced and getattr(self, "_ember_numbers", None) is not None:
            at = next(i for i, g in enumerate(self.param_groups) if g is group)
            held = self._ember_numbers[at]
            numbers.update({k: held[k][0] for k in numbers if k in held})
        return numbers

    def _prepare_compiled_step(self):
        """ember.compile calls this before tracing a function that names this optimizer: the
        state step() reads is created as tensors first, so the compiled graph reads it as
        inputs and writes it back (no state is created, and no Python number advanced,
        inside the trace)."""

    def _closure_loss(self, closure):
        if closure is None:
            return None
        from .. import enable_grad
        with enable_grad():
            return closure()

    def state_dict(self):
        """{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [indices]}]}, with
        parameters numbered in the order of param_groups (as torch does)."""
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = dict(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores hyper-parameters and state saved by state_dict() (for the same parameters
        in the same order); state tensors are copied onto each parameter's device and dtype."""
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, sg in zip(groups, saved_groups):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        id_map = {}
        for g, sg in zip(groups, saved_groups):
            for p, i in zip(g["params"], sg["params"]):
                id_map[i] = p

        def cast(param, value, key):
            if isinstance(value, Tensor):
                if key == "step":
                    return value.clone()
                v = value.to(param.device)
                if param.dtype.is_floating_point and v.dtype.is_floating_point:
                    v = v.to(param.dtype)
                return v.clone() if v is value else v
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            return copy.deepcopy(value)

        self.state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            k = int(k)
            if k in id_map:
                p = id_map[k]
                self.state[p] = cast(p, v, None)
        new_groups = []
        for g, sg in zip(groups, saved_groups):
            ng = {k: copy.deepcopy(v) for k, v in sg.items() if k != "params"}
            if "betas" in ng and isinstance(ng["betas"], list):
                ng["betas"] = tuple(ng["betas"])
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.param_groups = new_groups

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
