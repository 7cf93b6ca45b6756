#include "ember/Creation.h"

#include "CudaOps.h"
#include "TraceState.h"

#include "ember/Ops.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/Random.h"
#include "ember/runtime/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ember {
namespace {

bool is_whole(double v) { return std::floor(v) == v; }

// Fills n values value(i) into a contiguous tensor of dtype, in parallel.
template <typename F>
void fill_by_index(Tensor& t, F value) {
  const int64_t n = t.numel();
  EMBER_DISPATCH(t.dtype(), {
    T* p = t.data<T>();
    parallel_for(n, 65536, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(static_cast<compute_t<T>>(value(i)));
    });
  });
}

// Element i of a uniform draw that reserved its blocks at `base`.
float uniform_at(uint64_t seed, uint64_t base, int64_t i) {
  random::Philox ph(seed, base + uint64_t(i) / 4);
  return random::to_uniform(ph.out[i % 4]);
}

// Element i of a normal draw: Box-Muller on the lane pairs (0,1) and (2,3) of block i / 2.
double normal_at(uint64_t seed, uint64_t base, int64_t i) {
  random::Philox ph(seed, base + uint64_t(i) / 2);
  const int pair = int(i % 2) * 2;
  const double u1 = random::to_uniform_open(ph.out[pair]), u2 = random::to_uniform(ph.out[pair + 1]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

void check_float(DType d, const char* op) {
  EMBER_CHECK(is_floating(d), Type, op, "needs a floating point dtype, got ", dtype_name(d));
}

} // namespace

Tensor arange(double start, double end, double step, std::optional<DType> dtype) {
  EMBER_CHECK(step != 0, Value, "ember.arange", "step must be nonzero");
  EMBER_CHECK(std::isfinite(start) && std::isfinite(end), Value, "ember.arange",
              "unsupported range: ", start, " -> ", end);
  EMBER_CHECK((end - start) / step >= 0 || start == end, Value, "ember.arange",
              "upper bound and larger bound inconsistent with step sign (start ", start, ", end ",
              end, ", step ", step, ")");
  const DType d = dtype.value_or(is_whole(start) && is_whole(end) && is_whole(step)
                                     ? DType::Int64 : DType::Float32);
  const int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  Tensor t = empty({std::max<int64_t>(n, 0)}, d);
  fill_by_index(t, [&](int64_t i) { return start + double(i) * step; });
  return t;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  EMBER_CHECK(steps >= 0, Value, "ember.linspace", "number of steps must be non-negative, got ", steps);
  Tensor t = empty({steps}, dtype);
  const double step = steps > 1 ? (end - start) / double(steps - 1) : 0;
  // Like PyTorch: the second half counts back from `end` so both ends are exact.
  fill_by_index(t, [&](int64_t i) {
    if (steps == 1) return start;
    return i < steps / 2 ? start + step * double(i) : end - step * double(steps - 1 - i);
  });
  return t;
}

Tensor logspace(double start, double end, int64_t steps, double base, DType dtype) {
  Tensor exps = linspace(start, end, steps, DType::Float64);
  Tensor t = empty({steps}, dtype);
  const double* e = exps.data<double>();
  fill_by_index(t, [&](int64_t i) { return std::pow(base, e[i]); });
  return t;
}

Tensor eye(int64_t n, std::optional<int64_t> m, DType dtype) {
  const int64_t cols = m.value_or(n);
  EMBER_CHECK(n >= 0 && cols >= 0, Value, "ember.eye", "sizes must be non-negative, got ", n,
              " and ", cols);
  Tensor t = empty({n, cols}, dtype);
  fill_by_index(t, [&](int64_t i) { return i / cols == i % cols ? 1.0 : 0.0; });
  return t;
}

void manual_seed(uint64_t seed) { random::manual_seed(seed); }

Tensor rand(const Shape& shape, DType dtype) {
  check_float(dtype, "ember.rand");
  Tensor t = empty(shape, dtype);
  return uniform_(t, 0, 1);
}

Tensor randn(const Shape& shape, DType dtype) {
  check_float(dtype, "ember.randn");
  Tensor t = empty(shape, dtype);
  return normal_(t, 0, 1);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  return random_int_(t, low, high);
}

Tensor& random_int_(Tensor& t, int64_t low, int64_t high) {
  EMBER_CHECK(low < high, Value, "ember.randint", "random_ expects 'from' to be less than 'to', "
              "but got from=", low, " >= to=", high);
  EMBER_CHECK(t.is_contiguous() && !t.is_cuda(), NotImplemented, "ember.random_",
              "needs a contiguous CPU tensor");
  if (detail::trace_random_draw(t, RandomDraw::Kind::RandInt, double(low), double(high), "ember.randint"))
    return t;
  const uint64_t seed = random::initial_seed(), base = random::reserve((t.numel() + 3) / 4);
  const uint64_t range = uint64_t(high - low);
  fill_by_index(t, [&](int64_t i) {
    random::Philox ph(seed, base + uint64_t(i) / 4, 1);
    return double(low + int64_t(ph.out[i % 4] % range));
  });
  if (t.storage()) t.storage()->bump_version();
  return t;
}

Tensor randperm(int64_t n, DType dtype) {
  EMBER_CHECK(n >= 0, Value, "ember.randperm", "n must be non-negative, got ", n);
  EMBER_CHECK(!detail::tracing(), NotImplemented, "ember.randperm", "inside a compiled function "
              "does not compile yet; draw the permutation outside it and pass it in");
  const uint64_t seed = random::initial_seed(), base = random::reserve((n + 3) / 4);
  std::vector<std::pair<uint32_t, int64_t>> keys(n);
  for (int64_t i = 0; i < n; ++i) keys[i] = {random::Philox(seed, base + uint64_t(i) / 4, 2).out[i % 4], i};
  std::sort(keys.begin(), keys.end());
  Tensor t = empty({n}, dtype);
  fill_by_index(t, [&](int64_t i) { return double(keys[i].second); });
  return t;
}

Tensor& uniform_(Tensor& t, double low, double high) {
  check_float(t.dtype(), "ember.uniform_");
  EMBER_CHECK(t.is_contiguous(), NotImplemented, "ember.uniform_", "needs a contiguous tensor");
  if (detail::trace_random_draw(t, RandomDraw::Kind::Uniform, low, high, "ember.uniform_")) return t;
  const uint64_t seed = random::initial_seed(), base = random::reserve((t.numel() + 3) / 4);
  if (t.is_cuda())
    detail::cuda_random(t, false, low, high, seed, base);
  else
    fill_by_index(t, [&](int64_t i) { return low + (high - low) * double(uniform_at(seed, base, i)); });
  if (t.storage()) t.storage()->bump_version();
  return t;
}

Tensor& normal_(Tensor& t, double mean, double std) {
  check_float(t.dtype(), "ember.normal_");
  EMBER_CHECK(std >= 0, Value, "ember.normal_", "std must be non-negative, got ", std);
  EMBER_CHECK(t.is_contiguous(), NotImplemented, "ember.normal_", "needs a contiguous tensor");
  if (detail::trace_random_draw(t, RandomDraw::Kind::Normal, mean, std, "ember.normal_")) return t;
  const uint64_t seed = random::initial_seed(), base = random::reserve((t.numel() + 1) / 2);
  if (t.is_cuda())
    detail::cuda_random(t, true, mean, std, seed, base);
  else
    fill_by_index(t, [&](int64_t i) { return mean + std * normal_at(seed, base, i); });
  if (t.storage()) t.storage()->bump_version();
  return t;
}

Tensor bernoulli(const Tensor& p) {
  check_float(p.dtype(), "ember.bernoulli");
  Tensor u = empty(p.shape(), p.dtype(), p.device()); // drawn where p lives
  uniform_(u, 0, 1);
  return cast(lt(u, p), p.dtype()); // an op (traced inside a compiled function), not Tensor::to
}

} // namespace ember
