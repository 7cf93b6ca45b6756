"""Step-by-step CUDA smoke test for scripts/gpu-check: prints each step before it runs, so a
crash names the step."""
import faulthandler
import sys

faulthandler.enable()
import ember  # noqa: E402

def _raises(fn, kind):
    try:
        fn()
    except kind as e:
        return f"{kind.__name__}: {e}"
    raise AssertionError(f"expected {kind.__name__}")


steps = [
    ("available", lambda: ember.cuda.is_available()),
    ("zeros on cuda", lambda: ember.zeros(4, device="cuda")),
    ("to cuda", lambda: ember.arange(6, dtype=ember.float32).cuda()),
    ("to cpu", lambda: ember.arange(6, dtype=ember.float32).cuda().cpu().tolist()),
    ("add tensors", lambda: (ember.arange(6, dtype=ember.float32).cuda() + ember.ones(6, device="cuda")).cpu().tolist()),
    ("mul scalar", lambda: (ember.arange(6, dtype=ember.float32).cuda() * 2).cpu().tolist()),
    ("sum", lambda: ember.arange(6, dtype=ember.float32).cuda().sum().item()),
    ("an error crosses the extension", lambda: _raises(lambda: ember.ones(2) + ember.ones(3), ValueError)),
    ("an error from CUDA code", lambda: _raises(lambda: ember.index_select(
        ember.ones(3, device="cuda"), 0, ember.tensor([5]).cuda()), IndexError)),
    ("matmul", lambda: (ember.ones(3, 4, device="cuda") @ ember.ones(4, 2, device="cuda")).tolist()),
]
for name, fn in steps:
    print(f"step {name} ...", flush=True)
    print(f"  -> {fn()!r}", flush=True)
print("probe ok", flush=True)
sys.exit(0)
