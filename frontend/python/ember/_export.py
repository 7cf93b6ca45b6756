"""ember.export and ember.load_exported: a function or module written to one versioned .ember
file (graph, weights in the safetensors layout, JSON metadata), and run back through the JIT.

The container and the specialisation of symbolic dims are C++ (compiler/lib/EmberFile.cpp,
Export.cpp): this module turns PyTorch-style arguments (torch.export's dynamic_shapes and Dim)
into that call."""
import inspect
import os

from . import _C
from ._C import Tensor
from ._compile import _flatten, _named_state

_INT64_MAX = 2**63 - 1


class Dim:
    """A symbolic dim (torch.export.Dim): inputs that use the same Dim (or the same name) must
    have the same size there; `min`/`max` bound it (default 1 and unbounded)."""

    def __init__(self, name, *, min=None, max=None):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"ember.export.Dim: the name must be an identifier, got {name!r}")
        self.name = name
        self.min = 1 if min is None else int(min)
        self.max = _INT64_MAX if max is None else int(max)
        if not 1 <= self.min <= self.max:
            raise ValueError(f"ember.export.Dim('{name}'): need 1 <= min <= max, got min={self.min}, "
                             f"max={self.max}")

    def __repr__(self):
        bounds = "" if (self.min, self.max) == (1, _INT64_MAX) else f", min={self.min}, max={self.max}"
        return f"Dim('{self.name}'{bounds})"


def _signature_names(fn, n):
    """The names of fn's (or a module's forward's) first n positional parameters, or None."""
    target = fn.forward if hasattr(fn, "forward") and not inspect.isroutine(fn) else fn
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return None
    names = [p.name for p in params
             if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if len(names) < n and any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        names += [f"input{i}" for i in range(len(names), n)]
    return names[:n] if len(names) >= n else None


def _dim(spec, where):
    if isinstance(spec, Dim):
        return (spec.name, spec.min, spec.max)
    if isinstance(spec, str):
        return _dim(Dim(spec), where)
    raise TypeError(f"ember.export: dynamic_shapes {where} must be an ember.Dim, a name or None, "
                    f"got {type(spec).__name__}")


def _dynamic(dynamic_shapes, args, arg_names, input_names):
    """torch.export-style dynamic_shapes → per input {dim: (name, min, max)}."""
    if dynamic_shapes is None:
        return []
    n = len(args)
    if isinstance(dynamic_shapes, dict):
        per_input = [None] * n
        for key, spec in dynamic_shapes.items():
            if key in (arg_names or ()):
                i = arg_names.index(key)
            elif key in input_names:
                i = input_names.index(key)
            else:
                raise ValueError(f"ember.export: dynamic_shapes names '{key}', which is not an input "
                                 f"(the inputs: {', '.join(arg_names or input_names)})")
            per_input[i] = spec
    elif isinstance(dynamic_shapes, (tuple, list)):
        if len(dynamic_shapes) != n:
            raise ValueError(f"ember.export: dynamic_shapes has {len(dynamic_shapes)} entries for {n} "
                             "inputs (give one per input, None for a static one)")
        per_input = list(dynamic_shapes)
    else:
        raise TypeError("ember.export: dynamic_shapes must be a dict (by argument name) or a "
                        f"tuple/list (by position), got {type(dynamic_shapes).__name__}")
    out = []
    for i, spec in enumerate(per_input):
        rank = len(args[i].shape)
        dims = {}
        if spec is None:
            pass
        elif isinstance(spec, dict):
            items = spec.items()
        elif isinstance(spec, (tuple, list)):
            if len(spec) != rank:
                raise ValueError(f"ember.export: dynamic_shapes for input {i} lists {len(spec)} dims "
                                 f"but the input has rank {rank}")
            items = enumerate(spec)
        else:
            raise TypeError(f"ember.export: dynamic_shapes for input {i} must be a dict {{dim: Dim}}, "
                            f"a tuple per dim or None, got {type(spec).__name__}")
        if spec is not None:
            for d, dim in items:
                if dim is None:
                    continue
                if isinstance(d, bool) or not isinstance(d, int) or not -rank <= d < rank:
                    raise IndexError(f"ember.export: dynamic_shapes marks dim {d!r} of input {i}, "
                                     f"which has rank {rank}")
                dims[d % rank] = _dim(dim, f"for dim {d} of input {i}")
        out.append(dims)
    return out


def export(fn, example_inputs, path, *, dynamic_shapes=None, input_names=None, output_names=None,
           metadata=None):
    """Traces `fn` (a function or an ember.nn.Module) on `example_inputs` and writes one .ember
    file to `path` (atomically): the graph in the ember dialect, the weights (the module's
    parameters and buffers, and tensors in the function's closure and globals) in the
    safetensors layout as graph inputs, and JSON metadata (names, shapes with symbolic dims,
    dtypes, `metadata`: a dict of strings). `dynamic_shapes` follows torch.export:
    {arg_name: {dim: ember.Dim("batch")}} or a tuple with one entry per input."""
    if not _C.has_compiler:
        raise RuntimeError("ember.export: this build of ember has no compiler "
                           "(configure with EMBER_ENABLE_COMPILER=ON)")
    args = (example_inputs,) if isinstance(example_inputs, Tensor) else tuple(example_inputs)
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            raise TypeError(f"ember.export: example input {i} is a {type(a).__name__}; export takes "
                            "Tensor inputs")
    arg_names = _signature_names(fn, len(args))
    if input_names is None:
        input_names = arg_names or [f"input{i}" for i in range(len(args))]
    input_names = [str(n) for n in input_names]
    if len(input_names) != len(args):
        raise ValueError(f"ember.export: {len(input_names)} input names for {len(args)} inputs")
    meta = dict(metadata or {})
    for k, v in meta.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"ember.export: metadata maps strings to strings; got {k!r}: "
                            f"{type(v).__name__}")
    dynamic = _dynamic(dynamic_shapes, args, arg_names, input_names)

    def traced(inputs):
        flat, _ = _flatten(fn(*inputs), "ember.export")
        return flat

    weights = [(name, t) for name, t in _named_state(fn)]
    _C._export_model(traced, list(args), os.fspath(path), input_names, list(output_names or []),
                     dynamic, weights, meta, "ember.export (Python)")


export.Dim = Dim  # torch.export.Dim's spelling: ember.export.Dim("batch")


class ExportedModule:
    """A loaded .ember file. Call it with tensors in the exported input order, or by input name
    (keywords). A symbolic dim takes any size in its range: each new size compiles once."""

    def __init__(self, path):
        self._model = _C._load_exported(os.fspath(path))
        info = self._model.info
        self.input_names = list(self._model.input_names)
        self.output_names = list(self._model.output_names)
        self.inputs, self.outputs = info["inputs"], info["outputs"]
        self.symbols = {name: (lo, hi) for name, lo, hi in info["symbols"]}
        self.weights = info["weights"]
        self.metadata = dict(info["metadata"])
        self.ember_version, self.producer = info["ember_version"], info["producer"]

    @property
    def num_specializations(self):
        """How many input sizes have been compiled (and are cached)."""
        return self._model.num_specializations

    @property
    def graph(self):
        """The graph's MLIR text at the example sizes."""
        return self._model.graph

    def __call__(self, *args, **kwargs):
        for a in list(args) + list(kwargs.values()):
            if not isinstance(a, Tensor):
                raise TypeError(f"ember.load_exported: inputs must be Tensors, got {type(a).__name__}")
        if kwargs:
            if args:
                raise TypeError("ember.load_exported: give the inputs by position or by name, not both")
            out = self._model.run_named(kwargs)
        else:
            out = self._model.run(list(args))
        return out[0] if len(out) == 1 else tuple(out)

    def __repr__(self):
        sig = ", ".join(f"{t['name']}: {t['dtype']}{t['shape']}" for t in self.inputs)
        return f"ExportedModule({sig})"


def load_exported(path):
    """Loads a .ember file written by ember.export (or ember::export_model)."""
    return ExportedModule(path)
