// Linear algebra beyond Ops.h, written with ember ops (so gradients, and compilation where the
// primitives lower, come for free): addmm, baddbmm, vdot, tensordot, einsum; and multinomial
// sampling.
#pragma once

#include "ember/Tensor.h"

#include <string>
#include <vector>

namespace ember {

// beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape (torch.addmm);
// beta == 0 ignores input (NaNs in it do not propagate), as in PyTorch.
Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, double beta = 1,
             double alpha = 1);
// beta * input + alpha * bmm(batch1, batch2) (torch.baddbmm).
Tensor baddbmm(const Tensor& input, const Tensor& batch1, const Tensor& batch2, double beta = 1,
               double alpha = 1);
// dot product of two 1-D tensors (torch.vdot; ember has no complex dtypes, so it is dot).
Tensor vdot(const Tensor& a, const Tensor& b);
// Contracts a's dims `dims_a` with b's `dims_b` (torch.tensordot).
Tensor tensordot(const Tensor& a, const Tensor& b, const Shape& dims_a, const Shape& dims_b);
// torch.einsum: "ij,jk->ik", implicit output ("ij,jk"), "..." for leading dims, any number of
// operands (contracted pairwise, left to right, each pair as one batched matmul). A label
// repeated within one operand (a diagonal) is not supported: an error says so.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);
// `num_samples` category indices per row of `probs` (1-D or 2-D, non-negative weights), with or
// without replacement (torch.multinomial). Uses ember's generator (manual_seed).
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false);

} // namespace ember
