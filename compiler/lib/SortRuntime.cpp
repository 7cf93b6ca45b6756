// ember.argsort at run time: ember's threaded sort kernel (kernels/Sort.h) behind MLIR's C
// interface for unranked memrefs (what ember-sort-to-runtime-call emits calls to).
#include "ember/compiler/RuntimeABI.h"

#include "ember/kernels/Sort.h"

#include <vector>

using ember::compiler::abi::UnrankedMemRef;

namespace {

// A ranked descriptor {allocated, aligned, offset, sizes[rank], strides[rank]} read through its
// unranked handle.
struct View {
  char* aligned;
  int64_t offset, rank;
  const int64_t* sizes;
  const int64_t* strides;
};

View view(const UnrankedMemRef* m) {
  auto* const* ptrs = static_cast<char* const*>(m->descriptor);
  const auto* ints = reinterpret_cast<const int64_t*>(ptrs + 2);
  return {ptrs[1], ints[0], m->rank, ints + 1, ints + 1 + m->rank};
}

// Element offset of the first entry of line r (lines enumerate the dims other than `dim` in
// row-major order).
int64_t lineOffset(const View& v, int64_t dim, int64_t r) {
  int64_t off = v.offset;
  for (int64_t d = v.rank - 1; d >= 0; --d) {
    if (d == dim) continue;
    off += (r % v.sizes[d]) * v.strides[d];
    r /= v.sizes[d];
  }
  return off;
}

template <typename T, typename C = T>
void argsort(const UnrankedMemRef* input, UnrankedMemRef* output, int64_t dim, int64_t descending) {
  const View in = view(input), out = view(output);
  ember::kernels::SortLines s;
  for (int64_t d = 0; d < in.rank; ++d)
    if (d != dim) s.lines *= in.sizes[d];
  s.n = in.rank ? in.sizes[dim] : 1;
  s.step = in.rank ? in.strides[dim] : 0;
  const int64_t k = out.rank ? out.sizes[dim] : 1;
  if (s.lines == 0 || k == 0) return;
  const T* src = reinterpret_cast<const T*>(in.aligned);
  ember::kernels::argsort_lines<C>(
      s, k, descending != 0, out.rank ? out.strides[dim] : 0,
      [src](int64_t at) { return static_cast<C>(src[at]); },
      [&](int64_t r) { return lineOffset(in, dim, r); },
      [&](int64_t r) { return lineOffset(out, dim, r); }, reinterpret_cast<int64_t*>(out.aligned));
}

} // namespace

extern "C" void _mlir_ciface_ember_cpu_argsort_f32(UnrankedMemRef* in, UnrankedMemRef* out,
                                                   int64_t dim, int64_t descending) {
  argsort<float>(in, out, dim, descending);
}
extern "C" void _mlir_ciface_ember_cpu_argsort_i64(UnrankedMemRef* in, UnrankedMemRef* out,
                                                   int64_t dim, int64_t descending) {
  argsort<int64_t>(in, out, dim, descending);
}
extern "C" void _mlir_ciface_ember_cpu_argsort_i32(UnrankedMemRef* in, UnrankedMemRef* out,
                                                   int64_t dim, int64_t descending) {
  argsort<int32_t>(in, out, dim, descending);
}
// i1 memrefs hold one byte per element.
extern "C" void _mlir_ciface_ember_cpu_argsort_i1(UnrankedMemRef* in, UnrankedMemRef* out,
                                                  int64_t dim, int64_t descending) {
  argsort<uint8_t, int>(in, out, dim, descending);
}
