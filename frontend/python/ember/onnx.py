"""ember.onnx.export: a traced function or module as a standard ONNX model (opset 17 or newer).

The function is traced into ember's graph (the same one autograd and the compiler use), so
composites (gelu, softmax, layer_norm, cross_entropy, ...) arrive as primitives; each primitive
maps to ONNX operators here, weights (the tensors the function reads) become initializers.
A primitive without a mapping is a NotImplementedError naming it."""
import math
import os

import numpy as np

from . import _C
from ._C import Tensor
from ._compile import _check_args, _trace

onnx = TensorProto = helper = numpy_helper = None


def _load():
    """Imports the onnx package at first use (keeps `import ember` fast)."""
    global onnx, TensorProto, helper, numpy_helper
    if onnx is None:
        try:
            import onnx as _onnx
        except ImportError as e:
            raise RuntimeError("ember.onnx.export needs the onnx package (pip install onnx)") from e
        onnx, TensorProto, helper, numpy_helper = _onnx, _onnx.TensorProto, _onnx.helper, _onnx.numpy_helper

_UNARY = {"neg": "Neg", "abs": "Abs", "sign": "Sign", "reciprocal": "Reciprocal", "relu": "Relu",
          "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "erf": "Erf", "sin": "Sin", "cos": "Cos", "tan": "Tan", "asin": "Asin", "acos": "Acos",
          "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh", "floor": "Floor", "ceil": "Ceil",
          "round": "Round", "isnan": "IsNaN", "logical_not": "Not", "bitwise_not": "BitwiseNot"}
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "maximum": "Max",
           "minimum": "Min", "pow": "Pow", "eq": "Equal", "lt": "Less", "gt": "Greater",
           "le": "LessOrEqual", "ge": "GreaterOrEqual", "logical_and": "And",
           "logical_or": "Or", "logical_xor": "Xor", "bitwise_and": "BitwiseAnd",
           "bitwise_or": "BitwiseOr", "bitwise_xor": "BitwiseXor"}
_COMPARE = {"eq", "ne", "lt", "gt", "le", "ge"}

_ONNX_DTYPE = {"float32": "FLOAT", "float64": "DOUBLE", "float16": "FLOAT16", "int64": "INT64",
               "int32": "INT32", "int16": "INT16", "int8": "INT8", "uint8": "UINT8", "bool": "BOOL"}


def _onnx_type(dtype):
    name = repr(dtype).split(".")[-1]
    if name not in _ONNX_DTYPE:
        raise NotImplementedError(f"ember.onnx.export: dtype {name} has no ONNX export yet")
    return getattr(TensorProto, _ONNX_DTYPE[name])


class _Builder:
    def __init__(self, opset):
        self.opset, self.nodes, self.inits, self.names, self.dtypes, self.count = opset, [], [], {}, {}, 0
        self.shapes = {}  # ONNX value name -> its static shape
        # dynamic_axes: `affine` maps a node's position to {int position: (a, b)}, meaning that
        # attribute is a * batch + b; `batch` names a [1] int64 tensor holding the batch size.
        self.affine, self.batch, self.node_index = {}, None, -1

    def fresh(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def ints_tensor(self, ints, hint):
        """The node's int attributes as a 1-D int64 tensor: a constant, or (where an entry
        depends on the dynamic axis) a Concat with a * batch + b computed at run time."""
        dyn = self.affine.get(self.node_index, {})
        if not dyn:
            return self.const(np.array(ints, np.int64), hint)
        parts = [self.affine_value(*dyn[j], hint) if j in dyn
                 else self.const(np.array([v], np.int64), hint) for j, v in enumerate(ints)]
        return self.node("Concat", parts, hint, axis=0)

    def affine_value(self, a, c, hint):
        """a * batch + c as a [1] int64 tensor computed at run time."""
        t = self.node("Mul", [self.batch, self.const(np.array([a], np.int64))], "mul")
        return self.node("Add", [t, self.const(np.array([c], np.int64))], hint)

    def const(self, array, hint="const"):
        name = self.fresh(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, hint, **attrs):
        out = self.fresh(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def cast(self, name, have, want):
        return name if have == want else self.node("Cast", [name], "cast", to=_onnx_type(want))

    def reduce(self, op, x, axes, keepdim):
        # Before opset 18, ReduceMax/Min/Prod take axes as an attribute (ReduceSum since 13: input).
        kd = int(keepdim)
        if not axes:
            return self.node(op, [x], op.lower(), keepdims=kd)
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [x, self.const(np.array(axes, np.int64), "axes")], op.lower(), keepdims=kd)
        return self.node(op, [x], op.lower(), axes=list(axes), keepdims=kd)


def _emit(b, prim, ints, keepdim, ins, in_dtypes, dtype):
    """ONNX nodes for one ember primitive; returns the output's name."""
    if prim in _COMPARE or prim in _BINARY or prim in _UNARY or prim in (
            "relu_backward", "rsqrt", "exp2", "expm1", "log2", "log10", "log1p", "fmod",
            "isinf", "isfinite", "atan2", "ne", "trunc", "gelu", "gelu_tanh", "silu"):
        # Elementwise: operands in one dtype (PyTorch's promotion already chose the result).
        if prim in _COMPARE or prim.startswith("logical") or prim in ("isnan", "isinf", "isfinite"):
            want = in_dtypes[0] if len(in_dtypes) == 1 else _C.promote_types(in_dtypes[0], in_dtypes[1])
        else:
            want = dtype
        xs = [b.cast(n, d, want) for n, d in zip(ins, in_dtypes)]
        np_t = {"float32": np.float32, "float64": np.float64, "float16": np.float16}.get(
            repr(want).split(".")[-1], np.float32)
        c = lambda v: b.const(np.array(v, np_t))
        if prim in _UNARY:
            return b.node(_UNARY[prim], xs[:1], prim)
        if prim in _BINARY:
            return b.node(_BINARY[prim], xs, prim)
        if prim == "ne":
            return b.node("Not", [b.node("Equal", xs, "eq")], "ne")
        if prim == "relu_backward":
            return b.node("Where", [b.node("Greater", [xs[1], c(0)], "gt"), xs[0], c(0)], prim)
        if prim == "rsqrt":
            return b.node("Reciprocal", [b.node("Sqrt", xs, "sqrt")], prim)
        if prim == "exp2":
            return b.node("Pow", [c(2), xs[0]], prim)
        if prim == "expm1":
            return b.node("Sub", [b.node("Exp", xs, "exp"), c(1)], prim)
        if prim in ("log2", "log10"):
            return b.node("Div", [b.node("Log", xs, "log"), c(math.log(2 if prim == "log2" else 10))], prim)
        if prim == "log1p":
            return b.node("Log", [b.node("Add", [xs[0], c(1)], "add")], prim)
        if prim == "fmod":
            return b.node("Mod", xs, prim, fmod=1)
        if prim == "isinf":
            return b.node("IsInf", xs, prim)
        if prim == "isfinite":
            return b.node("Not", [b.node("Or", [b.node("IsInf", xs, "isinf"),
                                                b.node("IsNaN", xs, "isnan")], "or")], prim)
        if prim == "trunc":  # sign(x) * floor(|x|)
            return b.node("Mul", [b.node("Sign", xs, "sign"),
                                  b.node("Floor", [b.node("Abs", xs, "abs")], "floor")], prim)
        if prim == "atan2":
            raise NotImplementedError("ember.onnx.export: atan2 has no ONNX operator")
        if prim == "silu":
            return b.node("Mul", [xs[0], b.node("Sigmoid", xs, "sigmoid")], prim)
        if prim in ("gelu", "gelu_tanh"):
            if b.opset >= 20:  # ONNX's Gelu arrived in opset 20
                return b.node("Gelu", xs, prim, approximate="tanh" if prim == "gelu_tanh" else "none")
            if prim == "gelu":  # x * (1 + erf(x / sqrt 2)) / 2
                inner = b.node("Erf", [b.node("Mul", [xs[0], c(math.sqrt(0.5))], "mul")], "erf")
            else:  # x * (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2
                cube = b.node("Mul", [b.node("Mul", [xs[0], xs[0]], "mul"), xs[0]], "mul")
                u = b.node("Add", [xs[0], b.node("Mul", [cube, c(0.044715)], "mul")], "add")
                inner = b.node("Tanh", [b.node("Mul", [u, c(math.sqrt(2 / math.pi))], "mul")], "tanh")
            half = b.node("Mul", [xs[0], c(0.5)], "mul")
            return b.node("Mul", [half, b.node("Add", [inner, c(1)], "add")], prim)
    if prim in ("matmul", "bmm"):
        return b.node("MatMul", [b.cast(n, d, dtype) for n, d in zip(ins, in_dtypes)], prim)
    if prim in ("sum", "amax", "amin", "prod"):
        op = {"sum": "ReduceSum", "amax": "ReduceMax", "amin": "ReduceMin", "prod": "ReduceProd"}[prim]
        return b.reduce(op, b.cast(ins[0], in_dtypes[0], dtype), list(ints), keepdim)
    if prim in ("argmax", "argmin"):
        op = "ArgMax" if prim == "argmax" else "ArgMin"
        if not ints:
            flat = b.node("Reshape", [ins[0], b.const(np.array([-1], np.int64), "shape")], "flat")
            return b.node(op, [flat], prim, axis=0, keepdims=0)
        return b.node(op, ins[:1], prim, axis=int(ints[0]), keepdims=int(keepdim))
    if prim == "reshape":
        return b.node("Reshape", [ins[0], b.ints_tensor(ints, "shape")], prim)
    if prim == "transpose":
        rank = len(b.shapes[ins[0]])
        perm = list(range(rank))
        if rank:
            perm[ints[0]], perm[ints[1]] = perm[ints[1]], perm[ints[0]]
        return b.node("Transpose", ins[:1], prim, perm=perm)
    if prim == "permute":
        return b.node("Transpose", ins[:1], prim, perm=list(ints))
    if prim == "expand":
        return b.node("Expand", [ins[0], b.ints_tensor(ints, "shape")], prim)
    if prim == "slice":
        d, start, end, step = ints
        dyn = b.affine.get(b.node_index, {})
        if set(dyn) - {2}:
            raise NotImplementedError("ember.onnx.export: dynamic_axes: a slice whose dim, start or "
                                      "step depends on the dynamic axis")
        a = lambda v: b.const(np.array([v], np.int64))
        end_t = b.affine_value(*dyn[2], "end") if 2 in dyn else a(end)
        return b.node("Slice", [ins[0], a(start), end_t, a(d), a(step)], prim)
    if prim == "cat":
        return b.node("Concat", [b.cast(n, d, dtype) for n, d in zip(ins, in_dtypes)], prim, axis=int(ints[0]))
    if prim == "where":
        cond = b.cast(ins[0], in_dtypes[0], _C.dtype.bool)
        return b.node("Where", [cond, b.cast(ins[1], in_dtypes[1], dtype), b.cast(ins[2], in_dtypes[2], dtype)], prim)
    if prim == "im2col":
        if b.affine.get(b.node_index):
            raise NotImplementedError("ember.onnx.export: dynamic_axes: a convolution window that "
                                      "depends on the dynamic axis (only the batch may vary)")
        return _im2col(b, ins[0], list(ints), in_dtypes[0])
    if prim == "index_select":
        return b.node("Gather", ins, prim, axis=int(ints[0]))
    raise NotImplementedError(f"ember.onnx.export: the primitive '{prim}' has no ONNX mapping yet")


def _im2col(b, x, ints, dtype):
    """ember's Im2Col ([N, C, H, W] -> [C*kh*kw, N*oh*ow] sliding windows) in ONNX operators:
    pad, one strided Slice per kernel offset, stack, transpose, reshape. Exact for any stride,
    padding and dilation (max pooling's windows pad with -inf)."""
    kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, h, w = ints[:12]
    fill = -np.inf if len(ints) > 12 and ints[12] else 0.0
    n, c = b.shapes[x][:2]
    pb = max(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h - pt)
    pr = max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - w - pl)
    np_t = {"float32": np.float32, "float64": np.float64, "float16": np.float16}[repr(dtype).split(".")[-1]]
    xp = x
    if pt or pl or pb or pr:
        xp = b.node("Pad", [x, b.const(np.array([0, 0, pt, pl, 0, 0, pb, pr], np.int64), "pads"),
                            b.const(np.array(fill, np_t), "fill")], "pad", mode="constant")
    a = lambda *v: b.const(np.array(v, np.int64))
    zero_axis = a(0)
    parts = []
    for i in range(kh):
        for j in range(kw):
            s = b.node("Slice", [xp, a(i * dh, j * dw), a(i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1),
                                 a(2, 3), a(sh, sw)], "window")
            parts.append(b.node("Unsqueeze", [s, zero_axis], "window"))
    stacked = parts[0] if len(parts) == 1 else b.node("Concat", parts, "windows", axis=0)
    t = b.node("Transpose", [stacked], "windows", perm=[2, 0, 1, 3, 4])
    return b.node("Reshape", [t, a(c * kh * kw, -1)], "im2col")  # -1: n * oh * ow, any batch


def _dynamic_inputs(dynamic_axes, input_names, output_names, args):
    """{input index: set of axes} and the one symbol name from torch.onnx.export's
    dynamic_axes ({name: [axes]} or {name: {axis: symbol}}). One symbol (the batch size) is
    supported; outputs' dynamic dims are found by tracing, whatever the dict says of them."""
    where = "ember.onnx.export: dynamic_axes"
    dyn, names = {}, set()
    for key, axes in dynamic_axes.items():
        if key in output_names:
            continue
        if key not in input_names:
            raise ValueError(f"{where}: '{key}' is neither an input nor an output name "
                             f"(inputs {input_names}, outputs {output_names})")
        i = input_names.index(key)
        items = axes.items() if isinstance(axes, dict) else [(a, "batch") for a in axes]
        for axis, name in items:
            rank = len(args[i].shape)
            if not -rank <= axis < rank:
                raise IndexError(f"{where}: axis {axis} of input '{key}' (shape "
                                 f"{list(args[i].shape)}) is out of range")
            dyn.setdefault(i, set()).add(axis % rank)
            names.add(str(name))
    if len(names) > 1:
        raise NotImplementedError(f"{where}: one symbolic size is supported (the batch), got "
                                  f"{sorted(names)}")
    sizes = {args[i].shape[a] for i, axes in dyn.items() for a in axes}
    if len(sizes) > 1:
        raise ValueError(f"{where}: the dynamic axes share one size, but the example inputs have "
                         f"sizes {sorted(sizes)} there")
    if sizes and sizes.pop() < 2:
        raise ValueError(f"{where}: the example size of a dynamic axis must be at least 2 (a size "
                         "of 1 broadcasts, so it cannot show how shapes follow the axis)")
    return dyn, (names.pop() if names else "batch")


def _affine_ints(model, args, graph, dyn, was_training):
    """Traces at two more sizes of the dynamic axis and fits every node attribute that changes
    as a * size + b: {node index: {attribute index: (a, b)}}, plus each output's dynamic dims.
    The graph must keep its structure and its constants across sizes."""
    where = "ember.onnx.export: dynamic_axes"
    base = next(args[i].shape[a] for i, axes in dyn.items() for a in axes)

    def resized(n):
        out = []
        for i, t in enumerate(args):
            shape = [n if d in dyn.get(i, ()) else s for d, s in enumerate(t.shape)]
            out.append(_C.zeros(shape, t.dtype) if i in dyn else t)
        return tuple(out)

    traces = []
    for n in (base + 1, base + 3):
        if was_training:
            model.eval()
        try:
            traces.append((n, _trace(model, resized(n), "ember.onnx.export")[0]))
        finally:
            if was_training:
                model.train()
    nodes0 = graph.nodes
    for n, g in traces:
        nodes = g.nodes
        if [x[0] for x in nodes] != [x[0] for x in nodes0] or len(g.constants) != len(graph.constants):
            raise NotImplementedError(f"{where}: the function traces to a different graph at size "
                                      f"{n} than at size {base}")
    fills = {}
    for k, c0 in enumerate(graph.constants):
        cs = [c0.detach().cpu().numpy()] + [g.constants[k].detach().cpu().numpy() for _, g in traces]
        if all(c.shape == cs[0].shape and np.array_equal(c, cs[0]) for c in cs[1:]):
            continue
        # A filled constant whose shape follows the axis (an RNN's zero initial state of
        # [layers, batch, hidden]) becomes Expand(value, shape computed at run time).
        if all(c.ndim == cs[0].ndim and c.size and (c == c.flat[0]).all() and c.flat[0] == cs[0].flat[0]
               for c in cs):
            dims = []
            for d in range(cs[0].ndim):
                v0, v1, v2 = (c.shape[d] for c in cs)
                a, off = v1 - v0, v0 - (v1 - v0) * base
                if a * traces[1][0] + off != v2:
                    break
                dims.append((a, off) if a else v0)
            else:
                fills[k] = (cs[0].flat[0], dims)
                continue
        raise NotImplementedError(
            f"{where}: a constant of shape {list(c0.shape)} depends on the dynamic axis "
            "(e.g. a mean over it); export with a fixed size")
    affine = {}
    for k, node in enumerate(nodes0):
        for j, v0 in enumerate(node[1]):
            (n1, g1), (n2, g2) = traces
            v1, v2 = g1.nodes[k][1][j], g2.nodes[k][1][j]
            if v0 == v1 == v2:
                continue
            a = v1 - v0
            c = v0 - a * base
            if a * n2 + c != v2:
                raise NotImplementedError(f"{where}: the '{node[0]}' node's attribute {j} is not "
                                          "affine in the dynamic axis")
            affine.setdefault(k, {})[j] = (a, c)
    out_dims = {}
    for o, t in enumerate(graph.outputs):
        for d, n0 in enumerate(t.shape):
            if any(list(g.outputs[o].shape)[d] != n0 for _, g in traces):
                out_dims.setdefault(o, set()).add(d)
    return affine, out_dims, fills


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=17, **kwargs):
    """Writes `model(*args)` as ONNX to `f` (a path), like torch.onnx.export."""
    _load()
    if opset_version < 17:
        raise ValueError(f"ember.onnx.export: opset_version must be 17 or newer, got {opset_version}")
    if kwargs:
        raise NotImplementedError(f"ember.onnx.export: options {sorted(kwargs)} are not supported")
    args = (args,) if isinstance(args, Tensor) else tuple(args)
    _check_args(args, "ember.onnx.export")
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        graph, _ = _trace(model, args, "ember.onnx.export")
    finally:
        if was_training:
            model.train()
    if len(graph.random_draws):
        raise NotImplementedError("ember.onnx.export: the model draws random numbers (ember.rand, "
                                  "dropout outside a module, ...), which the exporter does not "
                                  "translate yet; pass the numbers in as inputs")
    b = _Builder(opset_version)
    input_names = list(input_names or [f"input_{i}" for i in range(len(args))])
    if len(input_names) != len(args):
        raise ValueError(f"ember.onnx.export: {len(input_names)} input names for {len(args)} inputs")
    output_names = list(output_names or [f"output_{i}" for i in range(len(graph.outputs))])
    dyn_in, symbol, out_dims, fills = {}, None, {}, {}
    if dynamic_axes:
        dyn_in, symbol = _dynamic_inputs(dynamic_axes, input_names, output_names, args)
        b.affine, out_dims, fills = _affine_ints(model, args, graph, dyn_in, was_training)
    vid = _C._value_id
    inputs = []
    for i, (name, t) in enumerate(zip(input_names, graph.inputs)):
        b.names[vid(t)], b.dtypes[vid(t)] = name, t.dtype
        b.shapes[name] = list(t.shape)
        dims = [symbol if d in dyn_in.get(i, ()) else n for d, n in enumerate(t.shape)]
        inputs.append(helper.make_tensor_value_info(name, _onnx_type(t.dtype), dims))
    if dyn_in:
        i = min(dyn_in)
        b.batch = b.node("Gather", [b.node("Shape", [input_names[i]], "shape"),
                                    b.const(np.array([min(dyn_in[i])], np.int64), "axis")], "batch")
    for k, c in enumerate(graph.constants):
        if c.dtype == _C.dtype.bfloat16:
            c = c.to(_C.dtype.float32)
        if k in fills:
            value, dims = fills[k]
            shape = b.node("Concat", [b.affine_value(*d, "dim") if isinstance(d, tuple)
                                      else b.const(np.array([d], np.int64), "dim") for d in dims],
                           "shape", axis=0)
            name = b.node("Expand", [b.const(np.array([value], value.dtype), "fill"), shape], "fill")
        else:
            name = b.const(c.detach().cpu().numpy(), "weight")
        b.names[vid(c)], b.dtypes[vid(c)] = name, c.dtype
        b.shapes[name] = list(c.shape)
    for index, (prim, ints, keepdim, ins, out, shape, dtype) in enumerate(graph.nodes):
        b.node_index = index
        if b.affine.get(index) and prim not in ("reshape", "expand", "slice", "im2col"):
            raise NotImplementedError(f"ember.onnx.export: dynamic_axes: the '{prim}' node's "
                                      "attributes depend on the dynamic axis")
        names = [b.names[i] for i in ins]
        out_name = _emit(b, prim, list(ints), keepdim, names, [b.dtypes[i] for i in ins], dtype)
        b.names[out], b.dtypes[out] = out_name, dtype
        b.shapes[out_name] = list(shape)
    if len(output_names) != len(graph.outputs):
        raise ValueError(f"ember.onnx.export: {len(output_names)} output names for "
                         f"{len(graph.outputs)} outputs")
    outputs = []
    for name, t in zip(output_names, graph.outputs):
        b.nodes.append(helper.make_node("Identity", [b.names[vid(t)]], [name]))
        dims = [symbol if d in out_dims.get(len(outputs), ()) else n for d, n in enumerate(t.shape)]
        outputs.append(helper.make_tensor_value_info(name, _onnx_type(t.dtype), dims))
    g = helper.make_graph(b.nodes, type(model).__name__ if not hasattr(model, "__name__") else model.__name__,
                          inputs, outputs, b.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset_version)],
                          producer_name="ember")
    onnx.checker.check_model(m)
    tmp = os.fspath(f) + ".tmp"
    onnx.save(m, tmp)
    os.replace(tmp, os.fspath(f))
    return m
