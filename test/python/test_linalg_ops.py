"""addmm, baddbmm, vdot, tensordot, einsum and multinomial against PyTorch (values and
gradients), and their errors."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(5)


def pair(*shape, dtype=np.float64):
    x = RNG.standard_normal(shape).astype(dtype)
    return ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def check(e_out, t_out, e_in, t_in, tol=1e-9):
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=tol, atol=tol)
    g = RNG.standard_normal(tuple(t_out.shape))
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    for e, t in zip(e_in, t_in):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1.5)])
def test_addmm_and_baddbmm(beta, alpha):
    (ei, ti), (ea, ta), (eb, tb) = pair(5), pair(3, 4), pair(4, 5)
    check(ember.addmm(ei, ea, eb, beta=beta, alpha=alpha),
          torch.addmm(ti, ta, tb, beta=beta, alpha=alpha), [ei, ea, eb], [ti, ta, tb])
    (ei, ti), (ea, ta), (eb, tb) = pair(2, 3, 5), pair(2, 3, 4), pair(2, 4, 5)
    check(ember.baddbmm(ei, ea, eb, beta=beta, alpha=alpha),
          torch.baddbmm(ti, ta, tb, beta=beta, alpha=alpha), [ei, ea, eb], [ti, ta, tb])


def test_addmm_beta_zero_ignores_nan_input():
    i = ember.full((2, 2), float("nan"))
    out = ember.addmm(i, ember.ones(2, 3), ember.ones(3, 2), beta=0)
    assert (out.numpy() == 3).all()


def test_vdot_and_tensordot():
    (ea, ta), (eb, tb) = pair(6), pair(6)
    check(ember.vdot(ea, eb), torch.vdot(ta, tb), [ea, eb], [ta, tb])
    (ea, ta), (eb, tb) = pair(2, 3, 4), pair(3, 4, 5)
    check(ember.tensordot(ea, eb, dims=2), torch.tensordot(ta, tb, dims=2), [ea, eb], [ta, tb])
    (ea, ta), (eb, tb) = pair(2, 3, 4), pair(4, 2, 6)
    check(ember.tensordot(ea, eb, dims=([0, 2], [1, 0])), torch.tensordot(ta, tb, dims=([0, 2], [1, 0])),
          [ea, eb], [ta, tb])


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...j,j", [(2, 3, 4), (4,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("abc,cd,ae->bde", [(2, 3, 4), (4, 5), (2, 6)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("ij,kj->ik", [(3, 4), (1, 4)]),  # broadcast size-1
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum(eq, shapes):
    pairs = [pair(*s) for s in shapes]
    e_in, t_in = [p[0] for p in pairs], [p[1] for p in pairs]
    check(ember.einsum(eq, *e_in), torch.einsum(eq, *t_in), e_in, t_in)


def test_einsum_errors():
    a = ember.ones(3, 4)
    with pytest.raises(RuntimeError, match="dimensions"):
        ember.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="operand"):
        ember.einsum("ij,jk->ik", a)
    with pytest.raises(NotImplementedError, match="diagonal"):
        ember.einsum("ii->i", ember.ones(3, 3))
    with pytest.raises(RuntimeError, match="size"):
        ember.einsum("ij,jk->ik", a, ember.ones(5, 2))


def test_multinomial_statistics_and_rules():
    ember.manual_seed(0)
    p = ember.tensor([0.1, 0.0, 0.6, 0.3])
    draws = ember.multinomial(p, 20000, replacement=True).numpy()
    assert draws.shape == (20000,) and draws.dtype == np.int64
    freq = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.02)
    rows = ember.multinomial(ember.tensor([[1.0, 1.0, 1.0], [0.5, 5.0, 1.0]]), 3)
    for r in rows.numpy():
        assert sorted(r) == [0, 1, 2]  # without replacement: each category once
    ember.manual_seed(3)
    a = ember.multinomial(p, 10, replacement=True).numpy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(a, ember.multinomial(p, 10, replacement=True).numpy())
    with pytest.raises(RuntimeError, match="n_sample"):
        ember.multinomial(p, 5)
    with pytest.raises(RuntimeError, match="nan"):
        ember.multinomial(ember.tensor([1.0, -1.0]), 1)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [1, 3, 10, 15, 16, 17, 31, 33, 120, 1040, 2100])
def test_matmul_right_edge_panels(n, threads):
    """Column counts that leave a partial 16-column panel (zero-padded in the GEMM), with a
    row-major and a transposed B, several row counts (micro-kernels of 1-6 rows); 1040 and
    2100 columns give a thread more panels than one packed block of B holds (64)."""
    rng = np.random.default_rng(n)
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        _check_matmul_panels(rng, n)
    finally:
        ember.set_num_threads(before)


def _check_matmul_panels(rng, n):
    for m in (1, 5, 6, 13, 100):
        a = rng.standard_normal((m, 300)).astype(np.float32)
        b = rng.standard_normal((300, n)).astype(np.float32)
        ref = a.astype(np.float64) @ b.astype(np.float64)
        np.testing.assert_allclose((ember.tensor(a) @ ember.tensor(b)).numpy(), ref, rtol=1e-4, atol=1e-4)
        bt = ember.tensor(np.ascontiguousarray(b.T)).t()
        np.testing.assert_allclose((ember.tensor(a) @ bt).numpy(), ref, rtol=1e-4, atol=1e-4)
        # A transposed (packed into row slivers per block), with B plain and transposed.
        at = ember.tensor(np.ascontiguousarray(a.T)).t()
        np.testing.assert_allclose((at @ ember.tensor(b)).numpy(), ref, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose((at @ bt).numpy(), ref, rtol=1e-4, atol=1e-4)


_GEMM_SCRIPT = r"""
import sys, numpy as np, ember
rng = np.random.default_rng(3)
worst = 0.0
for m, k, n in [(1, 7, 33), (2, 300, 70), (5, 1, 15), (13, 300, 33), (25, 257, 65), (97, 130, 100),
                (12, 512, 32), (130, 1030, 40)]:
    for ta in (False, True):
        for tb in (False, True):
            a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
            b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
            ea, eb = ember.tensor(a), ember.tensor(b)
            got = ((ea.t() if ta else ea) @ (eb.t() if tb else eb)).numpy()
            want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
            worst = max(worst, float(np.abs(got - want).max() / (np.abs(want).max() + 1)))
print(ember._C._vec_isa(), worst)
"""


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
def test_each_gemm_copy_on_edge_shapes(isa):
    # The GEMM's per-ISA copies (AVX-512: 12 x 32 tiles, A packed when its rows are 4 KiB
    # apart; AVX2 and generic: 6 x 16) on row/column counts that leave partial tiles and
    # panels, transposed operands, and K blocks with a remainder; EMBER_CPU_ISA picks the copy.
    import os
    import subprocess
    import sys
    env = dict(os.environ, EMBER_CPU_ISA=isa)
    out = subprocess.run([sys.executable, "-c", _GEMM_SCRIPT], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert float(out[1]) < 1e-5, out
