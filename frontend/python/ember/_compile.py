"""ember.compile and ember.export: trace a function into the graph, compile it through MLIR and
LLVM, and run the native code; or write the traced graph to a .ember file."""
import os

from . import _C
from ._C import Tensor


def _flatten(out, where):
    if isinstance(out, Tensor):
        return [out], None
    if isinstance(out, (tuple, list)) and all(isinstance(t, Tensor) for t in out):
        return list(out), type(out)
    raise TypeError(f"{where}: the function must return a Tensor or a tuple/list of Tensors, "
                    f"got {type(out).__name__}")


def _unflatten(flat, spec):
    return flat[0] if spec is None else spec(flat)


def _check_args(args, where):
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            raise NotImplementedError(
                f"{where}: argument {i} is a {type(a).__name__}; only Tensor arguments are "
                "supported so far (close over other values instead)")


def _trace(fn, args, where):
    spec = {}

    def traced(inputs):
        flat, spec["out"] = _flatten(fn(*inputs), where)
        return flat

    graph = _C._trace(traced, [list(a.shape) for a in args], [a.requires_grad for a in args],
                      [a.dtype for a in args])
    return graph, spec["out"]


class CompiledFunction:
    """What ember.compile returns: traces `fn` once per input signature (shapes and
    requires_grad), compiles the graph, and runs the compiled code on later calls."""

    def __init__(self, fn):
        if not _C.has_compiler:
            raise RuntimeError("ember.compile: this build of ember has no compiler "
                               "(configure with EMBER_ENABLE_COMPILER=ON)")
        self.fn = fn
        self.cache = {}
        self.__wrapped__ = fn

    def __call__(self, *args):
        _check_args(args, "ember.compile")
        key = tuple((a.shape, a.dtype, a.requires_grad) for a in args)
        entry = self.cache.get(key)
        if entry is None:
            graph, spec = _trace(self.fn, args, "ember.compile")
            entry = self.cache[key] = (_C._compile_graph(graph), spec)
        compiled, spec = entry
        return _unflatten(compiled.run(list(args)), spec)

    def ir(self, *args):
        """The ember dialect IR compiled for these arguments' signature."""
        self(*args)
        return self.cache[tuple((a.shape, a.dtype, a.requires_grad) for a in args)][0].ir


def compile(fn=None, **options):
    """Compiles `fn` (PyTorch's torch.compile call style); also usable as a decorator."""
    if options:
        raise NotImplementedError(f"ember.compile: options {sorted(options)} are not supported yet")
    if fn is None:
        return lambda f: CompiledFunction(f)
    return CompiledFunction(fn)


def export(fn, example_inputs, path, input_names=None, output_names=None):
    """Traces `fn` on `example_inputs` and writes the graph (with its constants) to `path`."""
    args = tuple(example_inputs)
    _check_args(args, "ember.export")
    graph, _ = _trace(fn, args, "ember.export")
    _C._export_graph(graph, os.fspath(path), list(input_names or []), list(output_names or []))


class ExportedModule:
    """A loaded .ember file: call it with tensors in the exported input order."""

    def __init__(self, path):
        self.input_names, self.output_names, self._compiled = _C._load_exported(os.fspath(path))

    def __call__(self, *args):
        _check_args(args, "ember.load_exported")
        out = self._compiled.run(list(args))
        return out[0] if len(out) == 1 else tuple(out)


def load_exported(path):
    return ExportedModule(path)
