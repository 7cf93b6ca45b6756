"""ember.save / ember.load: tensors, state dicts and nested containers in the safetensors format.

The file is a plain safetensors file (8-byte little-endian header length, JSON header, raw
little-endian data), so other tools read the tensors by name. A flat {str: Tensor} dict is
stored under its own keys. Anything else (a single tensor, nested dicts/lists/tuples, numbers,
strings, None, as in optimizer state dicts) is stored with tensor keys that are the dotted
paths of the leaves, and the structure as JSON in the header's __metadata__["ember.structure"].

Writes are atomic: the data goes to a temporary file in the same directory, which is then
renamed over the target. Loading validates the header (length, JSON, dtypes, shapes, offsets)
and raises ValueError naming the file and the problem; it never reads outside the file."""
import collections
import json
import os
import tempfile

import numpy as _np

from . import _C
from ._C import Tensor

_MAX_HEADER = 100 * 1024 * 1024
_STRUCT_KEY = "ember.structure"
# {key: "p" (an nn.Parameter requiring grad), "P" (one that does not) or "r" (a tensor requiring
# grad)}: what the safetensors data leaves out, restored on load as torch.load does.
_GRAD_KEY = "ember.grad"

# safetensors dtype → (ember dtype name, numpy storage dtype)
_DTYPES = {
    "F64": ("float64", "<f8"), "F32": ("float32", "<f4"), "F16": ("float16", "<f2"),
    "BF16": ("bfloat16", "<u2"), "I64": ("int64", "<i8"), "I32": ("int32", "<i4"),
    "I16": ("int16", "<i2"), "I8": ("int8", "i1"), "U8": ("uint8", "u1"), "BOOL": ("bool", "?"),
}
_TO_ST = {v[0]: k for k, v in _DTYPES.items()}


def _tensor_bytes(t):
    t = t.detach()
    if t.is_cuda:
        t = t.cpu()
    name = repr(t.dtype).replace("ember.", "")
    if name == "bfloat16":
        # bfloat16 → float32 is exact; its top 16 bits are the bfloat16 bits.
        a = t.to(_C.dtype.float32).numpy().astype("<f4", copy=False)
        a = (_np.ascontiguousarray(a).view("<u4") >> 16).astype("<u2")
    else:
        a = t.numpy().astype(_DTYPES[_TO_ST[name]][1], copy=False)
    return _TO_ST[name], list(t.shape), _np.ascontiguousarray(a).tobytes()


def _from_bytes(buf, st_dtype, shape):
    name, storage = _DTYPES[st_dtype]
    a = _np.frombuffer(buf, dtype=storage).reshape(shape)
    if name == "bfloat16":
        f = (a.astype("<u4") << 16).view("<f4")
        return _C._from_array(_np.array(f, dtype=_np.float32).reshape(shape)).to(
            _C.dtype.bfloat16)
    a = a.astype(a.dtype.newbyteorder("="), copy=True)
    t = _C._from_array(a)
    want = getattr(_C.dtype, name)
    return t if t.dtype == want else t.to(want)


def _is_flat(obj):
    return (isinstance(obj, dict) and len(obj) > 0 and
            all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()))


def _encode(obj, path, tensors, seen):
    """The JSON structure of obj; its tensors go into `tensors` under their dotted paths."""
    if isinstance(obj, Tensor):
        if id(obj) in seen:  # shared tensors are saved once
            return {"t": seen[id(obj)]}
        key = path or "tensor"
        while key in tensors:
            key += "_"
        tensors[key] = obj
        seen[id(obj)] = key
        return {"t": key}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"v": obj}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"ember.save: dict keys must be str or int, got "
                                f"{type(k).__name__} at '{path}'")
            sub = f"{path}.{k}" if path else str(k)
            items.append([["i", k] if isinstance(k, int) else ["s", k],
                          _encode(v, sub, tensors, seen)])
        return {"od" if isinstance(obj, collections.OrderedDict) else "d": items}
    if isinstance(obj, (list, tuple)):
        enc = [_encode(v, f"{path}.{i}" if path else str(i), tensors, seen)
               for i, v in enumerate(obj)]
        return {"tu" if isinstance(obj, tuple) else "l": enc}
    raise TypeError(f"ember.save: cannot save an object of type {type(obj).__name__} at "
                    f"'{path or '<root>'}'; supported: tensors, dicts, lists, tuples, numbers, "
                    "strings and None")


def _serialize(obj, metadata=None):
    if _is_flat(obj):
        tensors, structure = dict(obj), None
    else:
        tensors = {}
        structure = _encode(obj, "", tensors, {})
    header, chunks, offset = {}, [], 0
    for key, t in tensors.items():
        st, shape, data = _tensor_bytes(t)
        header[key] = {"dtype": st, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    meta = dict(metadata or {})
    if structure is not None:
        meta[_STRUCT_KEY] = json.dumps(structure)
    from .nn.parameter import Parameter
    grad = {k: ("p" if t.requires_grad else "P") if isinstance(t, Parameter) else "r"
            for k, t in tensors.items() if isinstance(t, Parameter) or t.requires_grad}
    if grad:
        meta[_GRAD_KEY] = json.dumps(grad)
    if meta:
        header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # safetensors aligns the data to 8 bytes
    return [len(h).to_bytes(8, "little"), h] + chunks


def save(obj, f, metadata=None):
    """Saves a tensor, a state dict or a nested container of tensors to the path f (atomically)
    or to a writable binary file object."""
    parts = _serialize(obj, metadata)
    if hasattr(f, "write"):
        for p in parts:
            f.write(p)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            for p in parts:
                out.write(p)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _fail(name, msg):
    raise ValueError(f"ember.load: {name}: {msg}")


def _parse(data, name):
    n = len(data)
    if (bytes(data[:4]) == b"PK\x03\x04" or bytes(data[:4]) == b"\x80\x02\x8a\x0a") and \
            bytes(data[8:9]) != b"{":  # (a safetensors header, JSON, starts with "{")
        # torch.save's zip archive (or its legacy pickle): pickled objects, not safetensors
        _fail(name, "this is a PyTorch checkpoint (torch.save's zip/pickle format); ember.load "
                    "reads safetensors files. Convert it where torch is installed: "
                    "safetensors.torch.save_file(torch.load(path), 'model.safetensors') for a "
                    "state dict of tensors")
    if n < 8:
        _fail(name, f"file is truncated ({n} bytes; a safetensors file starts with an 8-byte "
                    "header length)")
    hlen = int.from_bytes(data[:8], "little")
    if hlen > _MAX_HEADER:
        _fail(name, f"header length {hlen} is larger than the limit of {_MAX_HEADER} bytes "
                    "(corrupt or not a safetensors file)")
    if 8 + hlen > n:
        _fail(name, f"header length {hlen} runs past the end of the file ({n} bytes); the file "
                    "is truncated or corrupt")
    try:
        header = json.loads(bytes(data[8:8 + hlen]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as ex:
        _fail(name, f"header is not valid JSON ({type(ex).__name__}: {ex})")
    if not isinstance(header, dict):
        _fail(name, "header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        _fail(name, "__metadata__ must map strings to strings")
    body = memoryview(data)[8 + hlen:]
    tensors = {}
    for key, info in header.items():
        if not isinstance(info, dict):
            _fail(name, f"entry '{key}' is not an object")
        st = info.get("dtype")
        if st not in _DTYPES:
            _fail(name, f"tensor '{key}' has unknown dtype {st!r} (known: "
                        f"{', '.join(sorted(_DTYPES))})")
        shape = info.get("shape")
        if (not isinstance(shape, list) or
                not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                        for s in shape)):
            _fail(name, f"tensor '{key}' has a bad shape {shape!r}")
        offs = info.get("data_offsets")
        if (not isinstance(offs, list) or len(offs) != 2 or
                not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)):
            _fail(name, f"tensor '{key}' has bad data_offsets {offs!r}")
        begin, end = offs
        if not 0 <= begin <= end <= len(body):
            _fail(name, f"tensor '{key}' has data_offsets [{begin}, {end}] outside the data "
                        f"section ({len(body)} bytes)")
        numel = 1
        for s in shape:
            numel *= s
        itemsize = _np.dtype(_DTYPES[st][1]).itemsize
        if numel * itemsize != end - begin:
            _fail(name, f"tensor '{key}' of shape {shape} and dtype {st} needs "
                        f"{numel * itemsize} bytes but its data_offsets span {end - begin}")
        tensors[key] = _from_bytes(body[begin:end], st, shape)
    return tensors, meta


def _decode(enc, tensors, name):
    if not isinstance(enc, dict) or len(enc) != 1:
        _fail(name, f"bad {_STRUCT_KEY} entry {enc!r}")
    (kind, val), = enc.items()
    if kind == "t":
        if val not in tensors:
            _fail(name, f"{_STRUCT_KEY} refers to tensor '{val}', which the file does not hold")
        return tensors[val]
    if kind == "v":
        return val
    if kind in ("l", "tu"):
        if not isinstance(val, list):
            _fail(name, f"bad {_STRUCT_KEY} list {val!r}")
        out = [_decode(v, tensors, name) for v in val]
        return tuple(out) if kind == "tu" else out
    if kind in ("d", "od"):
        out = collections.OrderedDict() if kind == "od" else {}
        if not isinstance(val, list):
            _fail(name, f"bad {_STRUCT_KEY} dict {val!r}")
        for item in val:
            try:
                (ktype, k), v = item
            except (TypeError, ValueError):
                _fail(name, f"bad {_STRUCT_KEY} dict item {item!r}")
            out[int(k) if ktype == "i" else str(k)] = _decode(v, tensors, name)
        return out
    _fail(name, f"unknown {_STRUCT_KEY} kind {kind!r}")


def load(f, map_location=None, weights_only=True):
    """Loads what ember.save wrote (or any safetensors file: a dict of its tensors) from a path
    or a readable binary file object. map_location moves every tensor to that device."""
    if hasattr(f, "read"):
        data, name = f.read(), getattr(f, "name", "<file object>")
    else:
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    tensors, meta = _parse(data, name)
    if map_location is not None:
        tensors = {k: v.to(map_location) for k, v in tensors.items()}
    if _GRAD_KEY in meta:
        try:
            grad = json.loads(meta[_GRAD_KEY])
        except (json.JSONDecodeError, RecursionError) as ex:
            _fail(name, f"{_GRAD_KEY} is not valid JSON ({type(ex).__name__}: {ex})")
        if not isinstance(grad, dict):
            _fail(name, f"{_GRAD_KEY} is not a JSON object")
        from .nn.parameter import Parameter
        for k, kind in grad.items():
            if k in tensors and kind in ("p", "P"):
                tensors[k] = Parameter(tensors[k], requires_grad=kind == "p")
            elif k in tensors and kind == "r" and tensors[k].dtype.is_floating_point:
                tensors[k].requires_grad_(True)
    if _STRUCT_KEY in meta:
        try:
            structure = json.loads(meta[_STRUCT_KEY])
        except (json.JSONDecodeError, RecursionError) as ex:
            _fail(name, f"{_STRUCT_KEY} is not valid JSON ({type(ex).__name__}: {ex})")
        try:
            return _decode(structure, tensors, name)
        except RecursionError:
            _fail(name, f"{_STRUCT_KEY} is nested too deeply")
    return collections.OrderedDict(tensors)
