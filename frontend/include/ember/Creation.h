// Creating tensors: ranges, identity, random draws (reproducible with manual_seed).
#pragma once

#include "ember/Tensor.h"

#include <optional>

namespace ember {

// [start, end) in steps (torch.arange); dtype int64 when all three are integral, else float32.
Tensor arange(double start, double end, double step = 1, std::optional<DType> dtype = std::nullopt);
Tensor linspace(double start, double end, int64_t steps, DType dtype = DType::Float32);
Tensor logspace(double start, double end, int64_t steps, double base = 10,
                DType dtype = DType::Float32);
Tensor eye(int64_t n, std::optional<int64_t> m = std::nullopt, DType dtype = DType::Float32);

void manual_seed(uint64_t seed);
// Uniform in [0, 1).
Tensor rand(const Shape& shape, DType dtype = DType::Float32);
// Standard normal.
Tensor randn(const Shape& shape, DType dtype = DType::Float32);
// Integers uniform in [low, high).
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype = DType::Int64);
// A random permutation of 0..n-1.
Tensor randperm(int64_t n, DType dtype = DType::Int64);
// In place: fills `t` (a floating tensor) from U(low, high) / N(mean, std).
Tensor& uniform_(Tensor& t, double low = 0, double high = 1);
Tensor& normal_(Tensor& t, double mean = 0, double std = 1);
// Integers uniform in [low, high) (Tensor.random_(from, to); randint's draw).
Tensor& random_int_(Tensor& t, int64_t low, int64_t high);
// 1 with probability p (elementwise), else 0; p's dtype.
Tensor bernoulli(const Tensor& p);

} // namespace ember
