"""dtypes: PyTorch's promotion (with Python scalars), conversions, and the op records on every
dtype, against PyTorch."""
import itertools

import numpy as np
import pytest
import torch

import ember

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64"]
PAIRS = [(getattr(ember, n), getattr(torch, n)) for n in NAMES]
E2T = {e: t for e, t in PAIRS}


def make(shape, tdtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    if tdtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if tdtype.is_floating_point:
        return (torch.randn(shape, generator=g) * 4).to(tdtype)
    lo = 0 if tdtype == torch.uint8 else -20
    return torch.randint(lo, 20, shape, generator=g).to(tdtype)


def to_ember(t):
    if t.dtype == torch.bfloat16:
        return ember.tensor(t.float().numpy()).to(ember.bfloat16)
    return ember.from_numpy(t.numpy())


def to_torch(e):
    if e.dtype == ember.bfloat16:
        return torch.from_numpy(e.to(ember.float32).numpy()).to(torch.bfloat16)
    return torch.from_numpy(np.array(e.numpy()))


def same(e, t):
    assert E2T[e.dtype] == t.dtype, (e.dtype, t.dtype)
    got = to_torch(e)
    if t.dtype.is_floating_point:
        torch.testing.assert_close(got, t, equal_nan=True)
    else:
        assert torch.equal(got, t), (got, t)


@pytest.mark.parametrize("a,b", list(itertools.product(PAIRS, PAIRS)))
def test_promote_types_matches_torch(a, b):
    assert E2T[ember.promote_types(a[0], b[0])] == torch.promote_types(a[1], b[1])


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("scalar", [True, 3, 2.5])
@pytest.mark.parametrize("zero_dim", [False, True])
def test_result_type_with_python_scalars(pair, scalar, zero_dim):
    shape = () if zero_dim else (3,)
    t = make(shape, pair[1])
    assert E2T[ember.result_type(to_ember(t), scalar)] == torch.result_type(t, scalar)


@pytest.mark.parametrize("a,b", [(ember.int32, torch.int32), (ember.float16, torch.float16)])
def test_zero_dim_tensors_promote_only_across_categories(a, b):
    e = ember.result_type(ember.ones(3, dtype=a), ember.tensor(1.5, dtype=ember.float64))
    assert E2T[e] == torch.result_type(torch.ones(3, dtype=b), torch.tensor(1.5, dtype=torch.float64))


BINARY = ["add", "sub", "mul"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("a,b", [(x, y) for x, y in itertools.product(PAIRS, PAIRS)
                                 if x[1] in (torch.bool, torch.uint8, torch.int32, torch.int64,
                                             torch.float16, torch.bfloat16, torch.float32,
                                             torch.float64)
                                 and y[1] in (torch.int64, torch.float32, torch.float16, torch.bool)])
def test_binary_ops_promote_like_torch(name, a, b):
    ta, tb = make((4, 3), a[1], 1), make((3,), b[1], 2)
    if name == "sub" and torch.bool in (ta.dtype, tb.dtype):
        pytest.skip("torch refuses sub on bool; ember computes it (see the closing note)")
    same(getattr(ember, name)(to_ember(ta), to_ember(tb)), getattr(torch, name)(ta, tb))


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[1] != torch.bool])
@pytest.mark.parametrize("name", ["neg", "relu"])
def test_unary_ops_on_every_dtype(pair, name):
    if pair[1] == torch.uint8 and name == "neg":
        pytest.skip("uint8 negation wraps in both; covered by add/sub")
    t = make((5, 2), pair[1])
    same(getattr(ember, name)(to_ember(t)), getattr(torch, name)(t))


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("scalar", [2, 0.5, True])
def test_python_scalar_operands(pair, scalar):
    t = make((4,), pair[1])
    e = to_ember(t)
    if pair[1] == torch.bool and scalar is True:
        same(e * scalar, t * scalar)
        return
    same(e * scalar, t * scalar)
    same(scalar + e, scalar + t)


@pytest.mark.parametrize("src", PAIRS)
@pytest.mark.parametrize("dst", PAIRS)
def test_conversions_match_torch(src, dst):
    t = make((6,), src[1], 3)
    if src[1].is_floating_point and not dst[1].is_floating_point and dst[1] != torch.bool:
        t = t.clamp(-100, 100) if dst[1] != torch.uint8 else t.abs().clamp(0, 200)
    same(to_ember(t).to(dst[0]), t.to(dst[1]))


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[1] != torch.float16 and p[1] != torch.bfloat16])
def test_sum_dtype_and_value(pair):
    t = make((3, 4), pair[1])
    same(to_ember(t).sum(), t.sum())
    same(to_ember(t).sum(1, True), t.sum(1, keepdim=True))


def test_sum_half_precision_accumulates_in_float():
    t = make((64, 64), torch.float16)
    e = to_ember(t).sum()
    assert e.dtype == ember.float16
    torch.testing.assert_close(to_torch(e), t.sum(), rtol=2e-3, atol=1e-2)


@pytest.mark.parametrize("pair", [(ember.float64, torch.float64), (ember.int64, torch.int64),
                                  (ember.int32, torch.int32)])
def test_matmul_other_dtypes(pair):
    a, b = make((5, 7), pair[1], 1), make((7, 3), pair[1], 2)
    same(to_ember(a) @ to_ember(b), a @ b)


def test_item_and_tolist_give_python_types():
    assert ember.tensor([3]).item() == 3 and isinstance(ember.tensor([3]).item(), int)
    assert ember.tensor([True]).item() is True
    assert isinstance(ember.tensor([1.5]).item(), float)
    assert ember.tensor([1, 2]).tolist() == [1, 2]
    assert ember.tensor([1.5], dtype=ember.bfloat16).tolist() == [1.5]


def test_tensor_infers_dtype_like_torch():
    for data in ([1, 2], [1.0, 2], [True, False], 3, 2.5, np.arange(3, dtype=np.int16),
                 np.ones(2, dtype=np.float64)):
        assert E2T[ember.tensor(data).dtype] == torch.tensor(data).dtype, data
    assert ember.full((2,), 3).dtype == ember.int64 and ember.full((2,), 3.0).dtype == ember.float32


@pytest.mark.parametrize("data,dtype", [([1.0, 2.5], None), ([1, 2], torch.int32),
                                        ([1.0, 2.5], torch.float64), ([True, False], None),
                                        ([1.0, 2.0], torch.float16), ([100, 2], None)])
def test_repr_with_dtype_like_torch(data, dtype):
    e = ember.tensor(data, dtype=None if dtype is None else getattr(ember, str(dtype).split(".")[1]))
    assert repr(e) == repr(torch.tensor(data, dtype=dtype)).replace("torch.", "ember.")


def test_grad_needs_a_floating_dtype():
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        ember.tensor([1, 2]).requires_grad_()
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype == ember.float64 and x.grad.tolist() == [2.0, 4.0]


def test_compile_rejects_other_dtypes_clearly():
    f = ember.compile(lambda a: a + a)
    with pytest.raises(NotImplementedError, match="input 0 is float64; the compiler handles float32"):
        f(ember.ones(3, dtype=ember.float64))
