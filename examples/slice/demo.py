"""The slice in Python: ember tensors added eagerly, compared with PyTorch."""
import numpy as np
import torch

import ember

a = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = ember.tensor([0.5, 0.25, 0.125])
c = a + b
print("ember:", c)
want = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) + torch.tensor([0.5, 0.25, 0.125])
print("torch:", want)
assert np.array_equal(c.numpy(), want.numpy()), "ember and PyTorch disagree"
print("ember.add matches torch.add")
