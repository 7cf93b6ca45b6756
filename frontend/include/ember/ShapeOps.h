// Shape and indexing ops beyond the basic views: split/chunk/unbind, repeat/tile, flip/roll,
// tril/triu, gather/scatter, masked ops, sorting, nonzero/unique, unfold and advanced indexing
// (torch's names and semantics). Most are composites of primitives (so they have gradients and,
// where their primitives lower, compile); gather, scatter, scatter_add, argsort and unfold are
// primitives (frontend/src/IndexKernels.cpp). nonzero, masked_select, unique and boolean-mask
// indexing have data-dependent shapes: they run eagerly only.
#pragma once

#include "ember/Ops.h"

#include <optional>
#include <tuple>
#include <vector>

namespace ember {

std::vector<Tensor> split(const Tensor& a, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split_with_sizes(const Tensor& a, const Shape& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& a, int64_t chunks, int64_t dim = 0);
std::vector<Tensor> unbind(const Tensor& a, int64_t dim = 0);
// Splits dimension `dim` into `sizes` (one entry may be -1).
Tensor unflatten(const Tensor& a, int64_t dim, const Shape& sizes);
Tensor movedim(const Tensor& a, int64_t source, int64_t destination);

Tensor repeat(const Tensor& a, const Shape& repeats);
Tensor tile(const Tensor& a, const Shape& dims);
Tensor repeat_interleave(const Tensor& a, int64_t repeats, std::optional<int64_t> dim = std::nullopt);
Tensor repeat_interleave(const Tensor& a, const Tensor& repeats,
                         std::optional<int64_t> dim = std::nullopt);
// torch.repeat_interleave(repeats): index i repeated repeats[i] times.
Tensor repeat_interleave(const Tensor& repeats);
Tensor flip(const Tensor& a, const Shape& dims);
// Rolls along `dims` (the flattened tensor when empty; then `shifts` has one entry).
Tensor roll(const Tensor& a, const Shape& shifts, const Shape& dims = {});
Tensor tril(const Tensor& a, int64_t diagonal = 0);
Tensor triu(const Tensor& a, int64_t diagonal = 0);

Tensor gather(const Tensor& a, int64_t dim, const Tensor& index);
Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, double value);
Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& source,
                 double alpha = 1);
Tensor index_copy(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& source);
Tensor take_along_dim(const Tensor& a, const Tensor& indices,
                      std::optional<int64_t> dim = std::nullopt);
// `value` is 0-d; it is cast to a's dtype.
Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value);
Tensor masked_select(const Tensor& a, const Tensor& mask);

// (values, indices); NaN sorts as the largest value, as in PyTorch. Sorting is always stable.
std::pair<Tensor, Tensor> sort(const Tensor& a, int64_t dim = -1, bool descending = false,
                               bool stable = false);
Tensor argsort(const Tensor& a, int64_t dim = -1, bool descending = false, bool stable = false);
std::pair<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim = -1, bool largest = true,
                               bool sorted = true);

// Eager only: [n, a.dim()] int64 coordinates of the nonzero elements, in row-major order.
Tensor nonzero(const Tensor& a);
// Eager only: (sorted unique values, inverse indices shaped like a, counts).
std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& a);

// Every `step`-th window of `size` elements along dim as a new last dimension (a view).
Tensor unfold(const Tensor& a, int64_t dim, int64_t size, int64_t step);

// Advanced indexing (torch's aten::index / index_put): indices[i] indexes dim i (undefined: the
// whole dimension); integer tensors broadcast together, bool tensors select their nonzeros.
Tensor index(const Tensor& a, const std::vector<Tensor>& indices);
Tensor index_put(const Tensor& a, const std::vector<Tensor>& indices, const Tensor& values,
                 bool accumulate = false);

} // namespace ember
