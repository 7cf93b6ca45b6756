"""Step-by-step CUDA smoke test for scripts/gpu-check: prints each step before it runs, so a
crash names the step."""
import faulthandler
import sys

faulthandler.enable()
import ember  # noqa: E402

steps = [
    ("available", lambda: ember.cuda.is_available()),
    ("zeros on cuda", lambda: ember.zeros(4, device="cuda")),
    ("to cuda", lambda: ember.arange(6, dtype=ember.float32).cuda()),
    ("to cpu", lambda: ember.arange(6, dtype=ember.float32).cuda().cpu().tolist()),
    ("add tensors", lambda: (ember.arange(6, dtype=ember.float32).cuda() + ember.ones(6, device="cuda")).cpu().tolist()),
    ("mul scalar", lambda: (ember.arange(6, dtype=ember.float32).cuda() * 2).cpu().tolist()),
    ("sum", lambda: ember.arange(6, dtype=ember.float32).cuda().sum().item()),
    ("matmul", lambda: (ember.ones(3, 4, device="cuda") @ ember.ones(4, 2, device="cuda")).tolist()),
]
for name, fn in steps:
    print(f"step {name} ...", flush=True)
    print(f"  -> {fn()!r}", flush=True)
print("probe ok", flush=True)
sys.exit(0)
