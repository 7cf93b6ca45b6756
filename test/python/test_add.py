"""ember.add against torch.add on random inputs, and the errors bad input raises."""
import numpy as np
import pytest
import torch

import ember

SHAPES = [
    ((), ()),
    ((5,), (5,)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 1, 5), (3, 1)),
    ((0, 3), (3,)),
    ((4, 8, 16), (4, 8, 16)),
]


@pytest.mark.parametrize("sa,sb", SHAPES)
def test_add_matches_torch(sa, sb):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32)
    got = ember.add(ember.tensor(a), ember.tensor(b))
    want = torch.add(torch.from_numpy(a), torch.from_numpy(b))
    assert got.shape == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal((ember.tensor(a) + ember.tensor(b)).numpy(), want.numpy())


def test_tensor_from_lists_and_non_contiguous_numpy():
    t = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.dtype == ember.float32
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    a = np.arange(12, dtype=np.float32).reshape(3, 4).T  # a transposed (strided) view
    np.testing.assert_array_equal(ember.from_numpy(a).numpy(), a)


def test_numpy_view_keeps_storage_alive():
    arr = (ember.ones(3) + ember.ones(3)).numpy()  # the tensor itself is gone after this line
    np.testing.assert_array_equal(arr, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(np.asarray(ember.full((2,), 7)), [7.0, 7.0])


@pytest.mark.parametrize("data", [[1.0, 2.5], [1.0, 2.0], [[1.0, -2.0], [3.0, 4.5]], [0.001, 1000.0], 3.0])
def test_repr_like_pytorch(data):
    assert repr(ember.tensor(data)) == repr(torch.tensor(data))


def test_bad_broadcast_raises_value_error_naming_op_and_shapes():
    with pytest.raises(ValueError, match=r"ember.add: shapes \[2, 3\] and \[4\] are not broadcastable"):
        ember.add(ember.ones(2, 3), ember.ones(4))


def test_non_tensor_operand_raises_type_error():
    with pytest.raises(TypeError, match="expected an ember.Tensor"):
        ember.add(ember.ones(2), [1.0, 2.0])


def test_item_on_many_elements_raises():
    with pytest.raises(ValueError, match="cannot be converted to a scalar"):
        ember.ones(3).item()
    assert ember.full((1,), 4.0).item() == 4.0


def test_unsupported_dtype_is_clear():
    with pytest.raises(TypeError, match="not supported"):
        ember.from_numpy(np.zeros(3, dtype=np.complex64))


def test_cuda_reports_availability():
    assert isinstance(ember.cuda.is_available(), bool)
    if not ember.cuda.is_available():
        assert ember.cuda.device_count() == 0
        assert ember.cuda.unavailable_reason() != ""


@pytest.mark.gpu
def test_cuda_device_count_on_gpu_machines():
    assert ember.cuda.device_count() >= 1
