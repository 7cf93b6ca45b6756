"""ember.compile: trace a function into the graph, compile it through MLIR and LLVM, and run the
native code (ember.export is in _export.py)."""
import os
import sys
import time
import traceback
import warnings

from . import _C
from ._C import Tensor


def _flatten(out, where):
    """The tensors of a (nested) tuple/list result, and a spec that rebuilds the structure."""
    if isinstance(out, Tensor):
        return [out], None
    if out is None:  # a step that only updates its state (loss.backward(); opt.step())
        return [], (None, [])
    if isinstance(out, (tuple, list)):
        flat, specs = [], []
        for item in out:
            f, sp = _flatten(item, where)
            specs.append((len(f), sp))
            flat.extend(f)
        return flat, (type(out), specs)
    raise TypeError(f"{where}: the function must return a Tensor, None or (nested) tuples/lists "
                    f"of Tensors, got {type(out).__name__}")


def _unflatten(flat, spec):
    if spec is None:
        return flat[0]
    kind, specs = spec
    if kind is None:
        return None
    items, at = [], 0
    for n, sp in specs:
        items.append(_unflatten(flat[at:at + n], sp))
        at += n
    if hasattr(kind, "_fields"):  # a namedtuple (sort, topk, max(dim=...)): fields in order
        return kind(*items)
    return kind(items)


def _check_args(args, where):
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            raise NotImplementedError(
                f"{where}: argument {i} is a {type(a).__name__}; only Tensor arguments are "
                "supported so far (close over other values instead)")


def _trace(fn, args, where, state=None, shapes=None):
    """The graph of fn on symbolic tensors shaped like `args` (or `shapes`); each `state` tensor
    (what fn reads besides its arguments) becomes an input after them, and every op reading it
    is recorded, so values computed from state alone are not baked in as constants. Also
    returns (the outputs' structure, which outputs require grad in the trace)."""
    spec = {}

    def traced(inputs):
        flat, spec["out"] = _flatten(fn(*inputs), where)
        spec["grad"] = [o.requires_grad for o in flat]
        return flat

    if shapes is None:
        shapes = [list(a.shape) for a in args]
    graph = _C._trace(traced, shapes, [a.requires_grad for a in args], [a.dtype for a in args],
                      state)
    return graph, (spec["out"], spec["grad"])


def _referenced(fn):
    """(name, object) for what `fn` can read besides its arguments: itself and its bound
    object ("" for both), the variables of its closure, and the globals it names."""
    yield "", fn
    yield "", getattr(fn, "__self__", None)
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    for var, cell in zip(code.co_freevars if code else (), getattr(func, "__closure__", None) or ()):
        try:
            yield var, cell.cell_contents
        except ValueError:  # an empty cell
            pass
    globs = getattr(func, "__globals__", {})
    for name in (code.co_names if code else ()):
        if name in globs:
            yield name, globs[name]


def _named_state(fn, refs=None):
    """The tensors `fn` reads besides its arguments, with names: a module's (or a bound method's
    module's) parameters and buffers under their state-dict keys, and tensors (or modules, or
    lists of tensors) in its closure and the globals it names, under the variable's name."""
    found = []

    def add(name, obj):
        if isinstance(obj, Tensor):
            found.append((name or "weight", obj))
        elif hasattr(obj, "named_parameters") and hasattr(obj, "named_buffers"):
            prefix = name + "." if name else ""
            found.extend((prefix + n, t) for n, t in obj.named_parameters())
            found.extend((prefix + n, t) for n, t in obj.named_buffers())
        elif hasattr(obj, "param_groups") and hasattr(obj, "state"):  # an optimizer
            prefix = name + "." if name else ""
            for gi, group in enumerate(obj.param_groups):
                found.extend((f"{prefix}group{gi}.{i}", p) for i, p in enumerate(group["params"]))
            for si, st in enumerate(obj.state.values()):
                found.extend((f"{prefix}state{si}.{k}", v) for k, v in st.items()
                             if isinstance(v, Tensor))
            # the groups' numbers as 0-d tensors (Optimizer._sync_compiled_numbers)
            for gi, held in enumerate(getattr(obj, "_ember_numbers", None) or []):
                found.extend((f"{prefix}group{gi}.{k}", t) for k, (t, _) in held.items())
        elif hasattr(obj, "parameters") and hasattr(obj, "buffers"):
            found.extend((name or "weight", t) for t in list(obj.parameters()) + list(obj.buffers()))
        elif isinstance(obj, (list, tuple)):
            for i, o in enumerate(obj):
                if isinstance(o, Tensor):
                    found.append((f"{name}.{i}" if name else str(i), o))

    for name, obj in (refs if refs is not None else _referenced(fn)):
        add(name, obj)
    unique, seen = [], set()
    for name, t in found:
        if id(t) not in seen:
            seen.add(id(t))
            unique.append((name, t))
    return unique


def _nn_module():
    """ember.nn.modules.module, imported on first use (ember.nn imports this file's package)."""
    global _NN_MODULE
    if _NN_MODULE is None:
        from .nn.modules import module as m
        _NN_MODULE = m
    return _NN_MODULE


_NN_MODULE = None


def _module_state(module):
    """A module's parameters and buffers, reused while no module's structure changed (walking
    the module tree on every call of a compiled module costs more than the call itself)."""
    version = _nn_module().structure_version()
    cached = module.__dict__.get("_ember_compile_state")
    if cached is None or cached[0] != version:
        cached = (version, list(module.parameters()) + list(module.buffers()))
        module.__dict__["_ember_compile_state"] = cached
    return cached[1]


def _optimizers(fn, refs=None):
    """The optimizers a function names in its closure or globals."""
    return [o for _, o in (refs if refs is not None else _referenced(fn))
            if hasattr(o, "param_groups") and hasattr(o, "_prepare_compiled_step")]


_PLAIN = (int, float, bool, str, type(None))


def _plain(v):
    """v itself if it is a plain Python value a trace bakes in (a number, bool, string, None, or
    a short tuple/list of them), else None."""
    if isinstance(v, _PLAIN):
        return (v,)
    if isinstance(v, (tuple, list)) and len(v) <= 32 and all(isinstance(x, _PLAIN) for x in v):
        return (tuple(v),)
    return None


def _baked_values(fn, refs=None):
    """What a trace of `fn` bakes in from Python and what it depends on besides tensors: the
    plain values (numbers, strings, ...) in its closure and the globals it names, and for the
    modules it reads (and their submodules) the training flag and their public plain attributes
    (a dropout's p, a norm's eps, a scale set on a module). Part of the cache key, so changing
    one retraces instead of running a graph that still computes with the old value."""
    Module = _nn_module().Module
    values, modules = [], []
    if isinstance(fn, Module):
        modules.append(fn)
    else:
        for name, obj in (refs if refs is not None else _referenced(fn)):
            if isinstance(obj, Module):
                modules.append(obj)
            elif name:
                v = _plain(obj)
                if v is not None:
                    values.append((name, v[0]))
    for top in modules:
        for m in top.modules():
            values.append(m.training)
            for k, obj in m.__dict__.items():
                if k[:1] != "_" and k != "training":
                    v = _plain(obj)
                    if v is not None:
                        values.append((k, v[0]))
    return tuple(values)


def _state_tensors(fn, refs=None):
    """The tensors `fn` reads besides its arguments (see _named_state). Compiled graphs take
    them as inputs, so in-place updates (optimizer steps, running stats) are seen by later
    calls."""
    if isinstance(fn, _nn_module().Module):  # a compiled module: its state is its parameters and buffers
        unique, seen = [], set()
        for t in _module_state(fn):
            if id(t) not in seen:
                seen.add(id(t))
                unique.append(t)
        return unique
    return [t for _, t in _named_state(fn, refs)]


class GraphBreakWarning(UserWarning):
    """ember.compile could not capture a function in one graph (a data-dependent operation such
    as item(), `if tensor:` or nonzero ran during tracing); that signature runs eagerly."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_location(tb):
    """'file:line: source' of the innermost traceback frame outside the ember package."""
    where = "<unknown>"
    for frame in traceback.extract_tb(tb):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            where = f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return where


def _symbols(args, static=()):
    """dynamic=True: dim 0 of every argument of rank >= 1 whose size is not 0 or 1 (those are
    specialised, as in PyTorch) is symbolic, except at the positions in `static` (arguments
    found not to vary, e.g. a weight); arguments whose dim 0 has the same size share a symbol.
    Returns (the symbol of each argument or None, each symbol's size)."""
    of, sizes = [], []
    for i, a in enumerate(args):
        n = a.shape[0] if a.dim() >= 1 else None
        if n is None or n in (0, 1) or i in static:
            of.append(None)
            continue
        if n not in sizes:
            sizes.append(n)
        of.append(sizes.index(n))
    return of, sizes


def _is_data_dependent(error):
    """Whether tracing failed because the function needs a traced value's data (item(), `if
    tensor:`, nonzero, boolean masks, ...): the errors ember raises there say so."""
    text = str(error)
    return "traced tensor" in text or "cannot be traced" in text or "data-dependent" in text


class RecompileWarning(UserWarning):
    """ember.compile(dynamic=True) specialised a dim it was asked to make symbolic (the
    function does not trace with it at another size): each size of it compiles separately."""


class _Specialise(Exception):
    """dynamic=True: the function does not trace with this symbol at another size."""

    def __init__(self, symbol):
        super().__init__(symbol)
        self.symbol = symbol


_COMPILED_NODE = []


def _compiled_node():
    """The autograd.Function whose node stands for a compiled call (made at first use: autograd
    imports this module)."""
    if not _COMPILED_NODE:
        from .autograd import Function

        class Compiled(Function):
            @staticmethod
            def forward(ctx, owner, nargs, state, rng, results, *tensors):
                ctx.owner, ctx.nargs, ctx.state, ctx.rng = owner, nargs, state, rng
                ctx.save_for_backward(*tensors)
                return tuple(results)

            @staticmethod
            def backward(ctx, *grad_outputs):
                cots = [g for g in grad_outputs if g is not None]
                grads = ctx.owner._backward(ctx.nargs, ctx.state, ctx.rng, ctx.saved_tensors, cots)
                return (None, None, None, None, None) + tuple(grads)
        _COMPILED_NODE.append(Compiled)
    return _COMPILED_NODE[0]


class CompiledFunction:
    """What ember.compile returns: traces `fn` once per input signature (shapes, dtypes and
    requires_grad of the arguments, and which tensors it reads from its module, closure and
    globals), compiles the graph, and runs the compiled code on later calls. Tensors `fn` reads
    besides its arguments are graph inputs, not constants: later calls see their current
    values. A signature change recompiles; more than `recompile_limit` signatures is an error
    naming the guard that failed."""

    recompile_limit = 8
    _dump_counts = {}  # EMBER_DUMP directory names handed out, per function name

    def __init__(self, fn, fullgraph=False, backend="ember", dynamic=False):
        if backend not in ("ember", "eager", "cuda_emulation"):
            raise ValueError(f"ember.compile: unknown backend {backend!r}; use 'ember' (MLIR + "
                             "LLVM on the CPU, generated CUDA kernels on a GPU), 'eager' (run the "
                             "traced graph op by op) or 'cuda_emulation' (the CUDA backend's plan "
                             "run on the host, for testing it without a GPU)")
        if backend in ("ember", "cuda_emulation") and not _C.has_compiler:
            raise RuntimeError("ember.compile: this build of ember has no compiler "
                               "(configure with EMBER_ENABLE_COMPILER=ON, or use backend='eager')")
        self.fn = fn
        self.fullgraph = fullgraph
        self.dynamic = bool(dynamic)
        self._static_args = set()  # dynamic=True: argument positions whose dim 0 is specialised
        self.backend = backend
        self.cache = {}
        self.graph_breaks = []  # (reason, location) per signature that runs eagerly
        # traces, compiles, in-memory and disk (EMBER_CACHE_DIR) cache hits, graph breaks, and
        # seconds per compile stage (summed)
        self.stats = {"traces": 0, "compiles": 0, "cache_hits": 0, "disk_cache_hits": 0,
                      "graph_breaks": 0,
                      "trace_s": 0.0, "import_s": 0.0, "parse_s": 0.0, "lower_s": 0.0,
                      "codegen_s": 0.0}
        self.__wrapped__ = fn
        self._joint = None  # the compiled backward (see _differentiable), made at first use
        self._discard_state_writes = False  # a joint: its forward's state writes already happened
        self._state_override = None
        self._fresh_grads = set()  # ids of state whose .grad a trace wrote: keyed (_state_key)

    def _name(self):
        return getattr(self.fn, "__name__", type(self.fn).__name__)

    def _dump_dir(self):
        """EMBER_DUMP=<dir>: each compiled graph's stages go to <dir>/<function>-<n>/, n counting
        that function name's compilations in this process (stable across runs)."""
        root = os.environ.get("EMBER_DUMP")
        if not root:
            return ""
        name = "".join(c if c.isalnum() or c in "_-" else "_" for c in self._name()) or "fn"
        n = CompiledFunction._dump_counts.get(name, 0)
        CompiledFunction._dump_counts[name] = n + 1
        return os.path.join(root, f"{name}-{n}")

    def _build(self, graph, device=None):
        """The runnable for a traced graph: JIT-compiled code, a CUDA plan (tensors on a GPU,
        or the host emulation of the plan), or the graph itself (eager)."""
        if self.backend == "eager":
            return graph
        if self.backend == "cuda_emulation" or device is not None:
            compiled = _C._compile_graph_cuda(graph, -1 if device is None else device.index)
        else:
            compiled = _C._compile_graph(graph, self._dump_dir())
        self._count_compile(compiled)
        return compiled

    def _count_compile(self, compiled):
        self.stats["compiles"] += 1
        times = compiled.times
        if times.pop("from_disk_cache"):
            self.stats["disk_cache_hits"] += 1
        for stage, seconds in times.items():
            self.stats[stage + "_s"] += seconds

    def _key(self, args):
        # Optimizers the function steps get their state before the trace (tensors the graph
        # reads and writes back), so the first call traces what later calls run.
        refs = list(_referenced(self.fn))  # one walk of what fn reads, for all three below
        structure = ()
        for opt in _optimizers(self.fn, refs):
            opt._prepare_compiled_step()
            # A group's numbers are inputs (a scheduler's new lr needs no recompile); which of
            # them are zero, and its flags, decide the graph.
            opt._sync_compiled_numbers()
            structure += opt._compiled_structure()
        # (A compiled backward reads the state its forward read: CompiledFunction._backward.)
        state = self._state_override if self._state_override is not None else _state_tensors(self.fn, refs)
        # An ember.autocast region around the call changes what the function computes; so do
        # the Python values a trace bakes in (a module's training mode, a global scale, ...).
        autocast = tuple((d, str(_C._autocast_get_dtype(d))) for d in ("cpu", "cuda")
                         if _C._autocast_is_enabled(d))
        return (self._sig(args), self._state_key(state), (autocast, _baked_values(self.fn, refs), structure)), state

    def _state_key(self, state):
        """The state's part of the key: each tensor's identity and requires_grad, and whether
        .grad is set for those a trace's backward wrote without clearing first (zero_grad
        inside): a step that would accumulate into gradients a previous call left traces again
        (and is refused) instead of overwriting them as its first trace did."""
        key = tuple((id(t), t.requires_grad) for t in state)
        if self._fresh_grads:
            key += tuple(t.grad is not None for t in state if id(t) in self._fresh_grads)
        return key

    def _keyed_by_grads(self, key, state, fresh):
        """The key for a new entry: the tensors whose .grad this trace wrote without clearing
        join those whose .grad is keyed (_state_key), this entry's key included."""
        fresh = {id(state[i]) for i in fresh} - self._fresh_grads
        if fresh:
            self._fresh_grads |= fresh
            key = (key[0], self._state_key(state), key[2])
        return key

    def _sig(self, args):
        if self.dynamic:  # a symbolic dim 0 is keyed by its symbol, not its size
            of, _ = _symbols(args, self._static_args)
            return tuple(((tuple(a.shape) if j is None else (("sym", j),) + tuple(a.shape[1:])),
                          a.dtype, a.requires_grad) for a, j in zip(args, of))
        return tuple((tuple(a.shape), a.dtype, a.requires_grad) for a in args)

    def _build_symbolic(self, args, state):
        """dynamic=True: traces at the call's sizes and a few more (symbolicTraceSizes), and
        compiles one graph whose symbolic dims are dynamic. A symbol the function cannot trace
        with at another size (dim 0 of a weight passed as an argument) is specialised, as
        PyTorch does. Returns (compiled, spec, writes, lifted, grad_fresh), or None when no argument has a
        symbolic dim."""
        while True:
            of, base = _symbols(args, self._static_args)
            if not base:
                return None
            try:
                return self._trace_symbolic(args, state, of, base)
            except _Specialise as s:
                fixed = [i for i, j in enumerate(of) if j == s.symbol]
                self._static_args.update(fixed)
                warnings.warn(
                    f"ember.compile(dynamic=True): {self._name()}: dim 0 of argument(s) {fixed} "
                    f"(size {base[s.symbol]}) is specialised: the function does not trace with it "
                    f"at another size ({s.__cause__}); each size of it compiles separately",
                    RecompileWarning, stacklevel=4)

    def _trace_symbolic(self, args, state, of, base):
        sources = [(of.index(j), 0) for j in range(len(base))]
        sizes = _C._symbolic_trace_sizes(base)
        graphs, lifted_ids, first = [], None, None
        for at in sizes:
            shapes = [list(a.shape) for a in args]
            for i, j in enumerate(of):
                if j is not None:
                    shapes[i][0] = at[j]
            start = time.perf_counter()
            self.stats["traces"] += 1
            try:
                graph, spec = _trace(self.fn, args, "ember.compile", state, shapes)
            except Exception as e:  # noqa: BLE001 (a Python error of the function's too)
                if first is None or _is_data_dependent(e):
                    raise
                moved = [j for j in range(len(base)) if at[j] != base[j]]
                if len(moved) == 1 and len(graphs) == 1 + moved[0]:
                    raise _Specialise(moved[0]) from e
                raise type(e)(
                    f"ember.compile(dynamic=True): {self._name()} fails to trace with its "
                    f"symbolic dims at {at} (dim 0 of each argument is symbolic; sizes at the "
                    f"first call: {base}): {e}. Compile it with dynamic=False") from e
            self.stats["trace_s"] += time.perf_counter() - start
            if len(graph.random_draws):
                raise NotImplementedError(
                    f"ember.compile(dynamic=True): {self._name()} draws random numbers (dropout "
                    "in training mode, ember.rand, ...), which dynamic shapes do not cover yet; "
                    "compile it with dynamic=False")
            lifted = list(state) + list(_C._lift_constants(graph, state))
            if first is None:
                first = (spec, (list(graph.state_writes), list(graph.grad_writes),
                                list(graph.grad_clears)), lifted, list(graph.grad_fresh))
                lifted_ids = [id(t) for t in lifted]
            elif [id(t) for t in lifted] != lifted_ids:
                raise RuntimeError(
                    f"ember.compile(dynamic=True): {self._name()} reads different tensors at "
                    f"sizes {at} than at {base}; compile it with dynamic=False")
            graphs.append(graph)
        compiled = _C._compile_graph_symbolic(graphs, sizes, sources, self._dump_dir())
        self._count_compile(compiled)
        spec, writes, lifted, fresh = first
        return compiled, spec, writes, lifted, fresh

    def _entry(self, args):
        _check_args(args, "ember.compile")
        key, state = self._key(args)
        entry = self.cache.get(key)
        if entry is not None:
            self.stats["cache_hits"] += 1
        else:
            if len(self.cache) >= self.recompile_limit:
                old_sigs = {k[0] for k in self.cache}
                guard = ("the argument shapes/dtypes/requires_grad" if key[0] not in old_sigs
                         else "the autocast state (an ember.autocast region around the call)"
                         if key[2][0] not in {k[2][0] for k in self.cache}
                         else "the training mode of a module it calls (train() / eval()), or a "
                              "Python number, string or flag it reads (a global, a closure "
                              "variable, a module attribute)"
                         if key[2][1] not in {k[2][1] for k in self.cache}
                         else "an optimizer's options (a hyper-parameter that became zero or "
                              "nonzero, or a flag such as nesterov)"
                         if key[2] not in {k[2] for k in self.cache}
                         else "the identity or requires_grad of the tensors it reads from its "
                              "module/closure/globals (a parameter or buffer was replaced by a new "
                              "tensor, or frozen / unfrozen), or whether their .grad is set")
                raise RuntimeError(
                    f"ember.compile: {getattr(self.fn, '__name__', type(self.fn).__name__)} was "
                    f"compiled {len(self.cache)} times (the limit); the guard that failed: {guard}. "
                    "Keep shapes fixed, update parameters in place, or raise "
                    "CompiledFunction.recompile_limit")
            start = time.perf_counter()
            # Tensors on a GPU compile to a CUDA plan on that device.
            cuda = next((t.device for t in list(args) + list(state) if t.is_cuda), None)
            try:
                # (The CUDA backend compiles static shapes: each batch size is its own plan.)
                if self.dynamic and self.backend == "ember" and cuda is None:
                    try:
                        built = self._build_symbolic(args, state)
                    except NotImplementedError as e:
                        if _is_data_dependent(e):
                            raise
                        # What dynamic shapes do not cover (a window that follows the batch, a
                        # constant built from its size, ...): the batch dims are specialised, as
                        # PyTorch does, and each batch size compiles separately.
                        self._static_args.update(range(len(args)))
                        warnings.warn(
                            f"ember.compile(dynamic=True): {self._name()}: the batch dims are "
                            f"specialised (each batch size compiles separately): {e}",
                            RecompileWarning, stacklevel=3)
                        built = None
                    if built is not None:
                        compiled, spec, writes, lifted, fresh = built
                        key = (self._sig(args), key[1], key[2])  # specialised dims are keyed by size
                        key = self._keyed_by_grads(key, state, fresh)
                        entry = self.cache[key] = (compiled, (spec, writes), lifted, state)
                        return entry
                    key = (self._sig(args), key[1], key[2])
                self.stats["traces"] += 1
                graph, spec = _trace(self.fn, args, "ember.compile", state)
            except (RuntimeError, NotImplementedError) as e:
                if not _is_data_dependent(e):
                    raise
                where = _user_location(sys.exc_info()[2])
                name = getattr(self.fn, "__name__", type(self.fn).__name__)
                if self.fullgraph:
                    raise RuntimeError(f"ember.compile(fullgraph=True): {name} cannot be captured "
                                       f"in one graph at {where}: {e}") from e
                entry = self.cache[key] = ("eager", str(e), where, state)
                self.graph_breaks.append((str(e), where))
                self.stats["graph_breaks"] += 1
                warnings.warn(f"ember.compile: graph break in {name} at {where}: {e}. This "
                              "input signature runs eagerly (fullgraph=True makes this an error)",
                              GraphBreakWarning, stacklevel=3)
                return entry
            self.stats["trace_s"] += time.perf_counter() - start
            # The state is already an input; what else the trace met that must stay live (a
            # constant requiring grad, a view of state made outside the dispatcher) is lifted.
            lifted = list(state)
            draws = graph.random_draws
            extra = list(_C._lift_constants(graph, state))
            if len(draws):
                # Random draws are inputs after the state's, drawn again at each call (on the
                # device the graph runs on); lifted constants follow them.
                lifted = (lifted, draws, extra, "cpu" if cuda is None else str(cuda))
            else:
                lifted += extra
            writes = (list(graph.state_writes), list(graph.grad_writes), list(graph.grad_clears))
            key = self._keyed_by_grads(key, state, graph.grad_fresh)
            # The entry holds the state tensors themselves: their ids in the key stay theirs.
            # Outputs that are views of an argument or of state (x.t(), x[1:], w.view(-1)) come
            # back as views of the call's tensors, rebuilt eagerly from the trace's view steps,
            # so writes through them reach the input as eagerly (not a copy the graph made).
            nargs, nout = len(args), len(spec[1])
            views = [(j, src, steps) for j, (src, steps) in enumerate(graph.view_chains[:nout])
                     if 0 <= src < nargs + len(state)]
            if views:
                viewed = {j for j, _, _ in views}
                spec = (spec[0], [d and j not in viewed for j, d in enumerate(spec[1])],
                        (graph, views))
            entry = self.cache[key] = (self._build(graph, cuda), (spec, writes), lifted, state)
        return entry

    def __call__(self, *args):
        entry = self._entry(args)
        if entry[0] == "eager":
            return self.fn(*args)
        compiled, (spec, (state_writes, grad_writes, grad_clears)), lifted, state = entry
        rng = _C._rng_offset()  # where this call's random draws start (replayed by backward)
        if type(lifted) is tuple:  # random draws: new numbers at each call
            before, draws, after, device = lifted
            out = compiled.run(list(args) + before + draws.draw(device) + after)
        else:
            out = compiled.run(list(args) + list(lifted))
        n = len(out) - len(state_writes) - len(grad_writes)
        if self._discard_state_writes:
            return out[:n]
        out_spec, differentiable = spec[:2]
        # Outputs of a function that does not differentiate inside, called with grad enabled on
        # inputs or parameters that require grad: the ones that depend on those (as the trace
        # says) are differentiable, as eagerly (a loss computed from a compiled model's output
        # backpropagates into its parameters).
        backprop = (not grad_writes and not grad_clears and _C.is_grad_enabled()
                    and any(differentiable))
        # Their backward recomputes the forward: from the state as the forward read it, so the
        # values it is about to write (running statistics, a buffer it scales) are kept.
        before = [(i, state[i].detach().clone()) for i in state_writes] if backprop else []
        if n < len(out) or grad_clears:
            # What the function wrote to its state (parameter updates, optimizer state, running
            # statistics) goes into those tensors; gradients it computed land in their .grad.
            from . import no_grad
            with no_grad():
                for i, value in zip(state_writes, out[n:n + len(state_writes)]):
                    if not state[i]._adopt(value):  # no view shares it: take the new memory
                        state[i].copy_(value)
            for i, value in zip(grad_writes, out[n + len(state_writes):]):
                state[i].grad = value
            for i in grad_clears:
                state[i].grad = None
        results = out[:n]
        if len(spec) > 2:  # views of the arguments or state: as views of this call's tensors
            graph, views = spec[2]
            for j, src, steps in views:  # (no steps: the function returned the tensor itself)
                source = args[src] if src < len(args) else state[src - len(args)]
                results[j] = graph.replay_view(steps, source) if steps else source
        if backprop:
            results = self._differentiable(args, state, before, results, rng, differentiable)
        return _unflatten(results, out_spec)

    def _differentiable(self, args, state, before, results, rng, differentiable):
        """The compiled outputs that require grad (`differentiable`) as outputs of an autograd
        node whose backward runs a compiled joint graph: the function again on the saved inputs
        (its random draws replayed from `rng`; `before`: (index, value before the call) of the
        state the call wrote) and the vector-Jacobian product of those outputs, so no
        activations are kept."""
        params = [t for t in state if t.requires_grad]
        picked = [r for r, d in zip(results, differentiable) if d]
        made = iter(_compiled_node().apply(self, len(args), (state, before, differentiable), rng,
                                           picked, *args, *params))
        return [next(made) if d else r for r, d in zip(results, differentiable)]

    def _backward(self, nargs, state_and_before, rng, tensors, cotangents):
        """Gradients for `tensors` (the call's arguments, then its parameters that require
        grad; None where one does not): the joint graph at the call's signature, run on the
        state as the forward read it (the values it wrote are swapped out meanwhile)."""
        state, before, picked = state_and_before
        if self._joint is None:
            fn, frame = self.fn, {"nargs": 0, "state": [], "unused": {}}

            def joint(*xs):
                from . import autograd, zeros_like
                count, state_ = frame["nargs"], frame["state"]
                outs, _ = _flatten(fn(*xs[:count]), "ember.compile")
                cots = xs[count:]
                # the outputs the node stands for (those that require grad, as the forward's
                # trace says, and are not views of the inputs: those backpropagate eagerly),
                # one cotangent each
                pairs = list(zip([o for o, p in zip(outs, frame["picked"]) if p], cots))
                targets = [a for a in xs[:count] if a.requires_grad] + [
                    t for t in state_ if t.requires_grad]
                grads = autograd.grad([o for o, _ in pairs], targets,
                                      grad_outputs=[c for _, c in pairs], allow_unused=True)
                # Targets the outputs do not depend on get None, as eagerly (not zeros: an
                # optimizer skips a parameter whose .grad is None), by requires_grad pattern.
                frame["unused"][tuple(t.requires_grad for t in xs[:count] + tuple(state_))] = [
                    g is None for g in grads]
                return tuple(zeros_like(t) if g is None else g for g, t in zip(grads, targets))

            self._joint = CompiledFunction(joint, fullgraph=True, backend=self.backend)
            self._joint._discard_state_writes = True
            self._joint._frame = frame
        frame = self._joint._frame
        # The joint reads (its key and its trace) the state the forward read.
        frame["nargs"], frame["state"], frame["picked"] = nargs, list(state), picked
        self._joint._state_override = frame["state"]
        saved = _C._rng_offset()
        _C._set_rng_offset(rng)
        from . import no_grad
        with no_grad():
            now = [(i, state[i].detach().clone()) for i, _ in before]
            for i, old in before:
                state[i].copy_(old)
        try:
            with no_grad():
                grads = list(self._joint(*tensors[:nargs], *cotangents))
        finally:
            _C._set_rng_offset(saved)
            with no_grad():
                for i, value in now:
                    state[i].copy_(value)
        unused = frame["unused"].get(tuple(t.requires_grad for t in list(tensors[:nargs]) + list(state)), [])
        grads = [None if i < len(unused) and unused[i] else g for i, g in enumerate(grads)]
        grads.reverse()
        return [grads.pop() if t.requires_grad else None for t in tensors]

    def ir(self, *args):
        """The ember dialect IR compiled for these arguments' signature."""
        entry = self._entry(args)
        if entry[0] == "eager":
            raise RuntimeError(f"ember.compile: this signature runs eagerly (graph break at "
                               f"{entry[2]}: {entry[1]}); there is no IR")
        if self.backend == "eager":
            raise RuntimeError("ember.compile: backend='eager' does not compile; there is no IR "
                               "(graph_text() shows the traced graph)")
        return entry[0].ir

    def graph_text(self, *args):
        """The traced graph for these arguments' signature, one step per line."""
        entry = self._entry(args)
        if entry[0] == "eager":
            raise RuntimeError(f"ember.compile: this signature runs eagerly (graph break at "
                               f"{entry[2]}: {entry[1]}); there is no graph")
        graph, _ = _trace(self.fn, args, "ember.compile", entry[3])
        _C._lift_constants(graph, entry[3])
        return _C._graph_text(graph)


def compile(fn=None, *, fullgraph=False, backend="ember", dynamic=None, **options):
    """Compiles `fn` (PyTorch's torch.compile call style); also usable as a decorator.
    fullgraph=True makes a graph break (a data-dependent operation) an error instead of a
    warning and an eager run. backend="eager" traces the same graph but runs it op by op
    (to bisect a wrong compiled result). dynamic=True makes dim 0 of the arguments (the batch)
    symbolic: one compiled graph serves every batch size (docs/compiler.md). EMBER_DUMP=<dir>
    writes every compilation stage."""
    if options:
        raise NotImplementedError(f"ember.compile: options {sorted(options)} are not supported yet")
    if fn is None:
        return lambda f: CompiledFunction(f, fullgraph=fullgraph, backend=backend, dynamic=dynamic)
    return CompiledFunction(fn, fullgraph=fullgraph, backend=backend, dynamic=dynamic)

