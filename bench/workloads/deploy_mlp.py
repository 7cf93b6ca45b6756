"""Inference of the Fashion-MNIST MLP (784-128-10, batch 1000) as deployed: ember's
ahead-of-time library (ember-compile, called through its C API with ctypes), the same model
through ember's JIT (ember.load_exported), PyTorch eager, and ONNX Runtime on ember's ONNX
export."""
import ctypes
import os
import subprocess
import tempfile

import numpy as np
import torch

import ember

# EMBER_DEPLOY_SHAPE="B,D,H1[,H2...],C" picks another MLP, e.g. issue 9's "1,784,1024,1024,10".
_SHAPE = [int(v) for v in os.environ.get("EMBER_DEPLOY_SHAPE", "1000,784,128,10").split(",")]
B, D, C = _SHAPE[0], _SHAPE[1], _SHAPE[-1]
HIDDEN = _SHAPE[2:-1]
DESCRIPTION = (f"deployed MLP {'-'.join(map(str, _SHAPE[1:]))} inference, batch {B}, float32 "
               "(AOT library vs peers)")
_TMP = tempfile.mkdtemp(prefix="ember-bench-deploy-")


def make(threads):
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, D), dtype=np.float32)
    dims = [D, *HIDDEN, C]
    arrays = []
    for fan_in, fan_out in zip(dims, dims[1:]):
        arrays += [rng.standard_normal((fan_in, fan_out), dtype=np.float32) * 0.05,
                   np.zeros(fan_out, np.float32)]
    ew = [ember.tensor(a) for a in arrays]

    def forward(t):
        for i in range(0, len(ew), 2):
            t = t @ ew[i] + ew[i + 1]
            if i + 2 < len(ew):
                t = ember.relu(t)
        return t

    path = os.path.join(_TMP, "mlp.ember")
    ember.export(forward, (ember.tensor(x),), path, input_names=["images"], output_names=["logits"])
    tool = os.path.join(os.path.dirname(ember.__file__), "..", "..", "tools", "ember-compile")
    subprocess.run([tool, path, "--target=cpu", "-O3", "--name", "mlp", "-o", _TMP], check=True,
                   capture_output=True)
    lib = ctypes.CDLL(os.path.join(_TMP, "libmlp.so"))
    lib.mlp_create.restype = ctypes.c_void_p
    lib.mlp_run_buffers.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.mlp_set_num_threads(threads)  # the library's own pool (it links its own runtime)
    session = lib.mlp_create()
    out = np.empty((B, C), np.float32)
    ins = (ctypes.c_void_p * 1)(x.ctypes.data)
    outs = (ctypes.c_void_p * 1)(out.ctypes.data)
    jit = ember.load_exported(path)
    ex = ember.tensor(x)
    tx = torch.tensor(x)
    tw = [torch.tensor(a) for a in arrays]

    def torch_forward():
        with torch.no_grad():
            t = tx
            for i in range(0, len(tw), 2):
                t = t @ tw[i] + tw[i + 1]
                if i + 2 < len(tw):
                    t = torch.relu(t)
            return t

    fns = {
        # `x` and `out` must outlive the raw pointers in `ins` / `outs`: the lambda holds them.
        "ember": lambda x=x, out=out: lib.mlp_run_buffers(session, ins, outs),
        "ember.load_exported": lambda: jit(ex),
        "torch": torch_forward,
    }
    if os.environ.get("EMBER_DEPLOY_TORCH_COMPILE", "1") == "1":
        compiled = torch.compile(torch_forward)
        compiled()  # compile outside the timing
        fns["torch.compile"] = compiled
    try:
        import onnxruntime as ort
        onnx_path = os.path.join(_TMP, "mlp.onnx")
        ember.onnx.export(forward, (ember.tensor(x),), onnx_path, input_names=["images"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
        fns["onnxruntime"] = lambda: sess.run(None, {"images": x})
    except ImportError:
        pass
    # The AOT library computes what the JIT does.
    lib.mlp_run_buffers(session, ins, outs)
    np.testing.assert_allclose(out, jit(ex).numpy(), rtol=1e-5, atol=1e-5)
    return fns
