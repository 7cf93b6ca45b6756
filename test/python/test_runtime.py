"""Threads and memory: results do not depend on the thread count, idle threads do not spin,
and a loop over large temporaries reuses memory."""
import os
import time

import numpy as np
import torch

import ember


def test_results_do_not_depend_on_threads():
    rng = np.random.default_rng(5)
    a = ember.tensor(rng.standard_normal((300, 200)).astype(np.float32))
    b = ember.tensor(rng.standard_normal((200, 500)).astype(np.float32))
    v = ember.tensor(rng.standard_normal((1 << 18,)).astype(np.float32))
    results = []
    for n in (1, 2):
        ember.set_num_threads(n)
        assert ember.get_num_threads() == n
        results.append(((a @ b).numpy(), (v * v + v).numpy(), ember.relu(a - 0.5).numpy()))
    for x, y in zip(*results):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(results[0][0], a.numpy() @ b.numpy(), rtol=1e-4, atol=1e-4)


def test_idle_threads_do_not_spin():
    ember.set_num_threads(2)
    v = ember.ones(1 << 22)
    # Other libraries' threads from earlier tests (torch's OpenMP pool spin-waits 200 ms after
    # each parallel region) must settle first: only ember's pool is under test.
    time.sleep(0.3)
    for _ in range(3):
        v = v + v  # wakes the pool
    start = os.times()
    time.sleep(0.5)
    end = os.times()
    cpu = (end.user - start.user) + (end.system - start.system)
    assert cpu < 0.1, f"the process used {cpu:.2f} s of CPU while idle: a thread is spinning"


def test_loop_over_large_temporaries_reuses_memory():
    x = ember.ones(1 << 22)  # 16 MiB
    for _ in range(3):
        (x * 2.0 + x).sum()
    before = ember._C._host_allocator_stats()
    for _ in range(20):
        (x * 2.0 + x).sum()
    after = ember._C._host_allocator_stats()
    assert after["allocations"] - before["allocations"] >= 40
    assert after["cache_hits"] - before["cache_hits"] == after["allocations"] - before["allocations"]
    assert after["allocated_bytes"] == before["allocated_bytes"]


def test_training_loop_memory_is_flat():
    w = ember.ones(256, 256, requires_grad=True)
    x = ember.ones(64, 256)
    peaks = []
    for i in range(60):
        loss = ember.relu(x @ w).sum()
        (g,) = ember.autograd.grad(loss, w)
        w = (w - 0.001 * g).detach().requires_grad_()
        if i in (10, 59):
            peaks.append(ember._C._host_allocator_stats()["allocated_bytes"])
    assert peaks[1] == peaks[0]


def test_profile_ops_prints_the_time_per_primitive_at_exit():
    import subprocess
    import sys
    code = "import ember; a = ember.ones(64, 64); [ember.matmul(a, a) for _ in range(3)]; (a + a).sum()"
    env = dict(os.environ, EMBER_PROFILE_OPS="1")
    err = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stderr
    assert "EMBER_PROFILE_OPS:" in err
    lines = {l.split()[0]: int(l.split()[3]) for l in err.splitlines()[1:]}
    assert lines["matmul"] == 3 and lines["add"] == 1 and lines["sum"] == 1
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "EMBER_PROFILE_OPS" not in quiet.stderr
