"""The op record's ops (add, mul, relu, matmul, sum and the structural ones) against PyTorch:
forward, gradients, a second derivative, and the errors bad input raises."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def pair(*arrays):
    """The same data as ember leaves and torch leaves that require grad."""
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    return e, t


def close(e, t, tol=1e-5):
    np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=tol, atol=tol)


BINARY = [("add", (3, 4), (4,)), ("add", (2, 1, 3), (5, 1)), ("sub", (4, 1), (3,)),
          ("mul", (3, 4), (3, 1)),
          ("mul", (), (2, 2)), ("relu_backward", (4, 5), (4, 5))]


def torch_binary(name, a, b):
    if name == "relu_backward":
        return torch.where(b > 0, a, torch.zeros_like(a))
    return getattr(torch, name)(a, b)


@pytest.mark.parametrize("name,sa,sb", BINARY)
def test_binary_forward_and_grad(name, sa, sb):
    (ea, eb), (ta, tb) = pair(rand(*sa), rand(*sb))
    eo, to = getattr(ember, name)(ea, eb), torch_binary(name, ta, tb)
    close(eo, to)
    g = rand(*to.shape)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    close(ea.grad, ta.grad)
    if name != "relu_backward":  # torch.where gives b no gradient; ember gives zeros
        close(eb.grad, tb.grad)


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4)])
def test_relu_forward_and_grad(shape):
    (ea,), (ta,) = pair(rand(*shape))
    eo, to = ember.relu(ea), torch.relu(ta)
    close(eo, to)
    eo.sum().backward()
    to.sum().backward()
    close(ea.grad, ta.grad)


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 4), (64, 33, 17)])
def test_matmul_forward_and_grad(m, k, n):
    (ea, eb), (ta, tb) = pair(rand(m, k), rand(k, n))
    eo, to = ea @ eb, ta @ tb
    close(eo, to, 1e-4)
    g = rand(m, n)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    close(ea.grad, ta.grad, 1e-4)
    close(eb.grad, tb.grad, 1e-4)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 2), False),
                                         (-1, False), ((0, 1, 2), True)])
def test_sum_forward_and_grad(dim, keepdim):
    (ea,), (ta,) = pair(rand(2, 3, 4))
    eo = ea.sum(dim, keepdim)
    to = ta.sum() if dim is None else ta.sum(dim, keepdim=keepdim)
    close(eo, to, 1e-5)
    g = rand(*to.shape)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    close(ea.grad, ta.grad)


def test_views_and_their_grads():
    (ea,), (ta,) = pair(rand(2, 3, 4))
    eo = ea.transpose(0, 2).reshape([4, 6]).expand([2, 4, 6]) * 2.0
    to = ta.transpose(0, 2).reshape(4, 6).expand(2, 4, 6) * 2.0
    close(eo, to)
    g = rand(2, 4, 6)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    close(ea.grad, ta.grad)


def test_mlp_gradients_match_pytorch():
    x = rand(8, 5)
    (w1, b1, w2), (tw1, tb1, tw2) = pair(rand(5, 16), rand(16), rand(16, 3))
    ex = ember.tensor(x)
    loss = (ember.relu(ex @ w1 + b1) @ w2).sum()
    tloss = (torch.relu(torch.tensor(x) @ tw1 + tb1) @ tw2).sum()
    close(loss, tloss, 1e-4)
    loss.backward()
    tloss.backward()
    for e, t in [(w1, tw1), (b1, tb1), (w2, tw2)]:
        close(e.grad, t.grad, 1e-4)
    assert loss.grad_fn.name() == "SumBackward0" and w1.is_leaf and not loss.is_leaf


def test_second_derivative_through_the_same_transform():
    # d/dx sum(x*x*x) = 3x^2, d2/dx2 (summed) = 6x
    (ex,), (tx,) = pair(rand(5))
    (eg,) = ember.autograd.grad((ex * ex * ex).sum(), ex, create_graph=True)
    (tg,) = torch.autograd.grad((tx * tx * tx).sum(), tx, create_graph=True)
    close(eg, tg)
    (egg,) = ember.autograd.grad(eg.sum(), ex)
    (tgg,) = torch.autograd.grad(tg.sum(), tx)
    close(egg, tgg)


def test_gradients_accumulate_and_no_grad():
    (ea,), (ta,) = pair(rand(3))
    for _ in range(2):
        (ea * 3.0).sum().backward()
        (ta * 3.0).sum().backward()
    close(ea.grad, ta.grad)
    with ember.no_grad():
        y = ea * 2.0
    assert not y.requires_grad and y.grad_fn is None


def test_autograd_errors_are_clear():
    a = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (a * 2.0).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(3).sum().backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape: grad_output\\[0\\] has a shape of \\[2\\] and output\\[0\\] has a shape of \\[3\\]"):
        (a * 2.0).backward(ember.ones(2))
    with pytest.raises(RuntimeError, match="allow_unused"):
        ember.autograd.grad((a * 2.0).sum(), [a, ember.ones(2, requires_grad=True)])


def test_shape_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"ember.matmul: shapes \[2, 3\] and \[4, 5\] cannot be multiplied"):
        ember.ones(2, 3) @ ember.ones(4, 5)
    with pytest.raises(ValueError, match=r"ember.matmul: shapes \[2, 3, 4\] and \[5, 6\] cannot be multiplied"):
        ember.ones(2, 3, 4) @ ember.ones(5, 6)
    with pytest.raises(IndexError, match="ember.sum: dimension 3 is out of range"):
        ember.ones(2, 3).sum(3)
    with pytest.raises(ValueError, match=r"ember.reshape: shape \[4, 4\] is invalid for input of size 6"):
        ember.ones(2, 3).reshape([4, 4])
    with pytest.raises(ValueError, match="ember.expand: cannot expand"):
        ember.ones(2, 3).expand([4, 3])


def test_where_with_one_condition_copies_one_side():
    # A single condition (what autograd's rules pass) picks a side; the result is a new tensor.
    x = np.random.default_rng(3).random((3, 4)).astype(np.float32)
    for c in (True, False):
        for shape in [(), (1, 1)]:
            cond = np.array(c).reshape(shape)
            e = ember.where(ember.tensor(cond), ember.tensor(x), 2.5)
            t = torch.where(torch.tensor(cond), torch.tensor(x), 2.5)
            np.testing.assert_array_equal(e.numpy(), t.numpy())
    a = ember.tensor(x)
    r = ember.where(ember.tensor(True), a, 0.0)
    r.add_(1)
    np.testing.assert_array_equal(a.numpy(), x)
