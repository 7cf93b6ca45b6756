#include "ember/kernels/CudaSource.h"
#include "ember/kernels/FloatLiterals.h"

#include "ember/runtime/Error.h"

#include <cctype>
#include <functional>


namespace ember::kernels::cuda {
namespace {

// Loads a stored value as its arithmetic value (16-bit floats widen to float).
std::string load(DType d, const std::string& v) {
  if (d == DType::Float16) return "ember_load_f16(" + v + ")";
  if (d == DType::BFloat16) return "ember_load_bf16(" + v + ")";
  return v;
}

// Converts an arithmetic value to dtype `d`'s storage.
std::string store(DType d, const std::string& v) {
  if (d == DType::Float16) return "ember_store_f16((float)(" + v + "))";
  if (d == DType::BFloat16) return "ember_store_bf16((float)(" + v + "))";
  return "(" + std::string(storage_type(d)) + ")(" + v + ")";
}

std::string indexer_struct() {
  Text os;
  os << "struct EmberIndexer { long long size[" << kMaxDims << "]; long long stride["
     << kMaxOperands << "][" << kMaxDims << "]; int ndim; };\n";
  return os.str();
}

} // namespace

const char* storage_type(DType dtype) {
  switch (dtype) {
  case DType::Bool: return "bool";
  case DType::UInt8: return "unsigned char";
  case DType::Int8: return "signed char";
  case DType::Int16: return "short";
  case DType::Int32: return "int";
  case DType::Int64: return "long long";
  case DType::Float16: return "ember_f16";
  case DType::BFloat16: return "ember_bf16";
  case DType::Float32: return "float";
  case DType::Float64: return "double";
  }
  return "void";
}

const char* compute_type(DType dtype) {
  if (dtype == DType::Float16 || dtype == DType::BFloat16) return "float";
  return storage_type(dtype);
}

std::string prelude() {
  return R"(// ember CUDA prelude
typedef unsigned short ember_f16;
typedef unsigned short ember_bf16;
__device__ __forceinline__ float ember_load_f16(ember_f16 h) {
  float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f;
}
__device__ __forceinline__ ember_f16 ember_store_f16(float f) {
  ember_f16 h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h;
}
__device__ __forceinline__ float ember_load_bf16(ember_bf16 h) {
  return __uint_as_float(((unsigned)h) << 16);
}
__device__ __forceinline__ ember_bf16 ember_store_bf16(float f) {
  unsigned u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (ember_bf16)0x7fc0;
  return (ember_bf16)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
namespace ember_ops {
template <class A, class B> struct common { typedef decltype(A() + B()) type; };
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type maximum(A x, B y) {
  typename common<A, B>::type a = x, b = y; return (a != a || a > b) ? a : b;
}
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type minimum(A x, B y) {
  typename common<A, B>::type a = x, b = y; return (a != a || a < b) ? a : b;
}
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type where(bool c, A x, B y) {
  typedef typename common<A, B>::type R; return c ? (R)x : (R)y;
}
// Functions the records apply to integers too: float, double, and an integer template.
#define EMBER_INT_TOO(fn, ffn, dfn, int_expr) \
  __device__ __forceinline__ float fn(float x) { return ::ffn(x); } \
  __device__ __forceinline__ double fn(double x) { return ::dfn(x); } \
  template <class T> __device__ __forceinline__ T fn(T x) { return int_expr; }
EMBER_INT_TOO(abs, fabsf, fabs, x < 0 ? (T)(-x) : x)
EMBER_INT_TOO(floor, floorf, floor, x)
EMBER_INT_TOO(ceil, ceilf, ceil, x)
EMBER_INT_TOO(trunc, truncf, trunc, x)
EMBER_INT_TOO(rint, rintf, rint, x)
#undef EMBER_INT_TOO
__device__ __forceinline__ float fmod(float a, float b) { return ::fmodf(a, b); }
__device__ __forceinline__ double fmod(double a, double b) { return ::fmod(a, b); }
template <class T> __device__ __forceinline__ T fmod(T a, T b) { return b == 0 ? (T)0 : (T)(a % b); }
// The rest of ember::sexpr (frontend/include/ember/ops/ScalarExpr.h), for device types.
template <class T> struct is_float { static const bool value = false; };
template <> struct is_float<float> { static const bool value = true; };
template <> struct is_float<double> { static const bool value = true; };
template <class T> struct is_signed { static const bool value = (T)-1 < (T)0; };
template <class T> struct is_bool { static const bool value = false; };
template <> struct is_bool<bool> { static const bool value = true; };
__device__ __forceinline__ float copysign(float a, float b) { return ::copysignf(a, b); }
__device__ __forceinline__ double copysign(double a, double b) { return ::copysign(a, b); }
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type floor_mod(A x, B y) {
  typedef typename common<A, B>::type C;
  C a = x, b = y, m;
  if constexpr (is_float<C>::value) {
    m = fmod(a, b);
  } else {
    if (b == 0 || (is_signed<C>::value && b == (C)-1)) return (C)0;
    m = (C)(a % b);
  }
  return (m != 0 && ((b < 0) != (m < 0))) ? (C)(m + b) : m;
}
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type floor_div(A x, B y) {
  typedef typename common<A, B>::type C;
  C a = x, b = y;
  if constexpr (is_float<C>::value) {
    if (b == 0) return a / b;
    C mod = fmod(a, b);
    C div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= (C)1;
    if (div == 0) return copysign((C)0, a / b);
    C fl = floor(div);
    return div - fl > (C)0.5 ? (C)(fl + 1) : fl;
  } else {
    if (b == 0) return (C)0;
    if (is_signed<C>::value && b == (C)-1) return (C)(0ull - (unsigned long long)a);
    C q = (C)(a / b);
    return (a % b != 0 && ((a < 0) != (b < 0))) ? (C)(q - 1) : q;
  }
}
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type trunc_div(A x, B y) {
  typedef typename common<A, B>::type C;
  C a = x, b = y;
  if constexpr (is_float<C>::value) {
    return trunc(a / b);
  } else {
    if (b == 0) return (C)0;
    if (is_signed<C>::value && b == (C)-1) return (C)(0ull - (unsigned long long)a);
    return (C)(a / b);
  }
}
__device__ __forceinline__ float pow(float a, float b) { return ::powf(a, b); }
__device__ __forceinline__ double pow(double a, double b) { return ::pow(a, b); }
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type pow(A x, B y) {
  typedef typename common<A, B>::type C;
  C a = x, b = y;
  if constexpr (is_float<C>::value) {
    return pow(a, b);
  } else {
    if (is_bool<C>::value) return a || !b;
    if (is_signed<C>::value && b < 0) {
      if (a == 1) return (C)1;
      if (a == -1) return (C)(b % 2 == 0 ? 1 : -1);
      return (C)0;
    }
    unsigned long long base = (unsigned long long)(long long)a, r = 1;
    for (unsigned long long e = (unsigned long long)b; e; e >>= 1) {
      if (e & 1) r *= base;
      base *= base;
    }
    return (C)r;
  }
}
__device__ __forceinline__ float erfinv(float y) { return ::erfinvf(y); }
__device__ __forceinline__ double erfinv(double y) { return ::erfinv(y); }
template <class T> __device__ __forceinline__ bool isinf(T x) {
  if constexpr (is_float<T>::value) return x == x && (x - x) != (x - x);
  else return false;
}
template <class T> __device__ __forceinline__ bool isfinite(T x) {
  if constexpr (is_float<T>::value) return (x - x) == (x - x);
  else return true;
}
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type bitwise_and(A a, B b) { return a & b; }
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type bitwise_or(A a, B b) { return a | b; }
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type bitwise_xor(A a, B b) { return a ^ b; }
__device__ __forceinline__ bool bitwise_not(bool a) { return !a; }
template <class T> __device__ __forceinline__ T bitwise_not(T a) { return (T)~a; }
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type shift_left(A x, B y) {
  typedef typename common<A, B>::type C;
  C a = x, b = y;
  const C bits = (C)(sizeof(C) * 8);
  if ((is_signed<C>::value && b < 0) || b >= bits) return (C)0;
  return (C)((unsigned long long)(long long)a << (unsigned long long)b);
}
template <class A, class B>
__device__ __forceinline__ typename common<A, B>::type shift_right(A x, B y) {
  typedef typename common<A, B>::type C;
  C a = x, b = y;
  const C bits = (C)(sizeof(C) * 8);
  if ((is_signed<C>::value && b < 0) || b >= bits) return (C)(a < 0 ? -1 : 0);
  return (C)(a >> b);
}
} // namespace ember_ops
// Philox4x32-10, word for word as runtime/src/Random.cpp computes it.
__device__ __forceinline__ void ember_philox(unsigned long long seed, unsigned long long counter,
                                             unsigned long long sub, unsigned* out) {
  unsigned c0 = (unsigned)counter, c1 = (unsigned)(counter >> 32), c2 = (unsigned)sub,
           c3 = (unsigned)(sub >> 32), k0 = (unsigned)seed, k1 = (unsigned)(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    const unsigned hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    const unsigned hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    const unsigned n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}
// Four consecutive elements, aligned for one vector load or store.
template <class T> struct alignas(4 * sizeof(T)) EmberVec4 { T v[4]; };
template <class T> __device__ __forceinline__ T ember_lowest() {
  return (T)0 < (T)-1 ? (T)0 : (T)((unsigned long long)1 << (sizeof(T) * 8 - 1));
}
template <class T> __device__ __forceinline__ T ember_highest() { return (T)~ember_lowest<T>(); }
template <> __device__ __forceinline__ bool ember_lowest<bool>() { return false; }
template <> __device__ __forceinline__ bool ember_highest<bool>() { return true; }
)" + indexer_struct();
}

namespace {
// The expression function every pointwise kernel calls (ember_ops::NAME_f).
std::string pointwise_expr(const std::string& name, const std::string& expr, DType compute,
                           const std::vector<PointwiseInput>& inputs) {
  static const char* names[] = {"a", "b", "c"};
  Text os;
  os << "namespace ember_ops {\n__device__ __forceinline__ auto " << name << "_f(";
  for (size_t i = 0; i < inputs.size(); ++i)
    os << (i ? ", " : "") << compute_type(inputs[i].as) << " " << names[i];
  os << ") {\n";
  if (inputs.size() == 1) os << "  const " << compute_type(inputs[0].as) << " b = a; (void)b;\n";
  const bool in_float = std::string(compute_type(compute)) == "float";
  os << "  return (" << (in_float ? float_literals(expr) : expr) << ");\n}\n} // namespace ember_ops\n";
  return os.str();
}
// Lines declaring, for each operand k < ops, `PREFIXk` = the offset of flat index `idx` over
// ix's dimensions [0, dims) (operand k's strides; row-major coordinates). The division is 32-bit
// when `bound` (an upper bound of idx, the same for the whole launch) fits: much cheaper on
// GPUs than 64-bit. Offsets stay 64-bit.
std::string offset_lines(const std::string& prefix, const std::string& idx, const std::string& bound,
                         const std::string& dims, size_t ops, const std::string& in) {
  Text os;
  for (size_t k = 0; k < ops; ++k) os << in << "long long " << prefix << k << " = 0;\n";
  os << in << "if (" << bound << " < 2147483648LL) {\n"
     << in << "  unsigned rem = (unsigned)" << idx << ";\n"
     << in << "  for (int d = " << dims << " - 1; d >= 0; --d) {\n"
     << in << "    const unsigned sz = (unsigned)ix.size[d], c = rem % sz; rem /= sz;\n";
  for (size_t k = 0; k < ops; ++k)
    os << in << "    " << prefix << k << " += (long long)c * ix.stride[" << k << "][d];\n";
  os << in << "  }\n" << in << "} else {\n"
     << in << "  long long rem = " << idx << ";\n"
     << in << "  for (int d = " << dims << " - 1; d >= 0; --d) {\n"
     << in << "    const long long c = rem % ix.size[d]; rem /= ix.size[d];\n";
  for (size_t k = 0; k < ops; ++k) os << in << "    " << prefix << k << " += c * ix.stride[" << k << "][d];\n";
  os << in << "  }\n" << in << "}\n";
  return os.str();
}
} // namespace

std::string pointwise_kernel(const std::string& name, const std::string& expr, DType compute,
                             DType out, const std::vector<PointwiseInput>& inputs,
                             bool contiguous, bool vectorized) {
  EMBER_CHECK(!inputs.empty() && inputs.size() < size_t(kMaxOperands), Runtime, "cuda.pointwise",
              "a pointwise kernel takes 1 to ", kMaxOperands - 1, " inputs");
  Text os;
  os << "// generated by ember: " << name << " = " << expr << " in " << dtype_name(compute)
     << "\n" << prelude() << pointwise_expr(name, expr, compute, inputs);
  os << "extern \"C\" __global__ void " << name << "(" << storage_type(out) << "* out";
  for (size_t i = 0; i < inputs.size(); ++i)
    os << ", const " << storage_type(inputs[i].dtype) << "* in" << i << ", double s" << i;
  os << ", EmberIndexer ix, long long n) {\n";
  std::string args;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string k = std::to_string(i);
    std::string value = inputs[i].scalar
                            ? "s" + k
                            : load(inputs[i].dtype, "in" + k + "[o" + std::to_string(i + 1) + "]");
    args += (i ? ", " : "") + std::string("(") + compute_type(inputs[i].as) + ")(" + value + ")";
  }
  if (vectorized) {
    // Four elements per step with one aligned vector access per operand (the host checked
    // the alignment), then the remainder element by element below.
    os << "  const long long nv = n / 4;\n"
       << "  for (long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x; v < nv;\n"
       << "       v += (long long)gridDim.x * blockDim.x) {\n"
       << "    EmberVec4<" << storage_type(out) << "> r;\n";
    std::string vargs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string k = std::to_string(i);
      if (!inputs[i].scalar)
        os << "    const EmberVec4<" << storage_type(inputs[i].dtype) << "> x" << k
           << " = *(const EmberVec4<" << storage_type(inputs[i].dtype) << ">*)(in" << k << " + v * 4);\n";
      std::string value = inputs[i].scalar ? "s" + k : load(inputs[i].dtype, "x" + k + ".v[u]");
      vargs += (i ? ", " : "") + std::string("(") + compute_type(inputs[i].as) + ")(" + value + ")";
    }
    os << "#pragma unroll\n    for (int u = 0; u < 4; ++u)\n"
       << "      r.v[u] = " << store(out, "ember_ops::" + name + "_f(" + vargs + ")") << ";\n"
       << "    *(EmberVec4<" << storage_type(out) << ">*)(out + v * 4) = r;\n  }\n";
  }
  os << "  for (long long i = " << (vectorized ? "n / 4 * 4 + " : "")
     << "(long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;\n"
     << "       i += (long long)gridDim.x * blockDim.x) {\n";
  const size_t ops = inputs.size() + 1;
  if (contiguous) {
    for (size_t k = 0; k < ops; ++k) os << "    const long long o" << k << " = i;\n";
  } else {
    os << offset_lines("o", "i", "n", "ix.ndim", ops, "    ");
  }
  os << "    out[o0] = " << store(out, "ember_ops::" + name + "_f(" + args + ")") << ";\n  }\n}\n";
  return os.str();
}


std::string rows_pointwise_kernel(const std::string& name, const std::string& expr, DType compute,
                                  DType out, const std::vector<PointwiseInput>& inputs,
                                  const std::string& modes) {
  EMBER_CHECK(!inputs.empty() && inputs.size() < size_t(kMaxOperands) && modes.size() == inputs.size(),
              Runtime, "cuda.pointwise", "a rows kernel takes 1 to ", kMaxOperands - 1,
              " inputs and a mode for each");
  Text os;
  os << "// generated by ember: " << name << " = " << expr << " in " << dtype_name(compute)
     << " over rows (modes " << modes << ")\n" << prelude() << pointwise_expr(name, expr, compute, inputs);
  os << "extern \"C\" __global__ void " << name << "(" << storage_type(out) << "* out";
  for (size_t i = 0; i < inputs.size(); ++i)
    os << ", const " << storage_type(inputs[i].dtype) << "* in" << i << ", double s" << i;
  const size_t ops = inputs.size() + 1;
  os << ", EmberIndexer ix, long long n) {\n"
     << "  const int last = ix.ndim - 1;\n"
     << "  const long long quads = ix.size[last] / 4, nv = n / 4;\n"
     << "  for (long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x; v < nv;\n"
     << "       v += (long long)gridDim.x * blockDim.x) {\n"
     << "    long long row, col;\n"
     << "    if (nv < 2147483648LL) { const unsigned q = (unsigned)quads, u = (unsigned)v; row = u / q; col = (u % q) * 4u; }\n"
     << "    else { row = v / quads; col = (v % quads) * 4; }\n"
     << "    // each operand's offset of the row's start, from the row's coordinates\n";
  os << offset_lines("r", "row", "nv", "last", ops, "    ")
     << "    EmberVec4<" << storage_type(out) << "> r;\n";
  std::string vargs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string k = std::to_string(i), T = storage_type(inputs[i].dtype);
    std::string value;
    if (modes[i] == 'v') {
      os << "    const EmberVec4<" << T << "> x" << k << " = *(const EmberVec4<" << T << ">*)(in" << k
         << " + r" << i + 1 << " + col);\n";
      value = load(inputs[i].dtype, "x" + k + ".v[u]");
    } else if (modes[i] == 'b') {
      os << "    const " << T << " x" << k << " = in" << k << "[r" << i + 1 << "];\n";
      value = load(inputs[i].dtype, "x" + k);
    } else {
      value = "s" + k;
    }
    vargs += (i ? ", " : "") + std::string("(") + compute_type(inputs[i].as) + ")(" + value + ")";
  }
  os << "#pragma unroll\n    for (int u = 0; u < 4; ++u)\n"
     << "      r.v[u] = " << store(out, "ember_ops::" + name + "_f(" + vargs + ")") << ";\n"
     << "    *(EmberVec4<" << storage_type(out) << ">*)(out + r0 + col) = r;\n  }\n}\n";
  return os.str();
}

namespace {

// The identity and the combine expression (of x and y) of a reduction in accumulation type A.
std::pair<std::string, std::string> reduce_parts(ReduceOp op, DType acc) {
  const std::string A = compute_type(acc);
  switch (op) {
  case ReduceOp::Sum: return {"(" + A + ")0", "x + y"};
  case ReduceOp::Prod: return {"(" + A + ")1", "x * y"};
  case ReduceOp::Max:
    return {is_floating(acc) ? "(" + A + ")__int_as_float(0xff800000)" : "ember_lowest<" + A + ">()",
            "(x != x) ? x : ((y != y || y > x) ? y : x)"};
  case ReduceOp::Min:
    return {is_floating(acc) ? "(" + A + ")__int_as_float(0x7f800000)" : "ember_highest<" + A + ">()",
            "(x != x) ? x : ((y != y || y < x) ? y : x)"};
  }
  return {"0", "x"};
}

} // namespace

std::string reduce_kernel(const std::string& name, ReduceOp op, DType in, DType acc, DType out) {
  const std::string A = compute_type(acc);
  const auto [init, combine] = reduce_parts(op, acc);
  const std::string C = name + "_combine";
  const std::string ld = "(" + A + ")(" + load(in, "p[j]") + ")";
  auto ldk = [&](const char* k) { return "(" + A + ")(" + load(in, std::string("p[j + ") + k + "]") + ")"; };
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude()
     << "__device__ __forceinline__ " << A << " " << C << "(" << A << " x, " << A << " y) { return "
     << combine << "; }\n"
     << "template <class T> __device__ __forceinline__ T " << name << "_shfl(T x, int off) {\n"
     << "  if constexpr (ember_ops::is_float<T>::value) return __shfl_down_sync(0xffffffffu, x, off);\n"
     << "  else return (T)__shfl_down_sync(0xffffffffu, (long long)x, off);\n}\n"
     << "// Each (virtual) row v is columns [k*chunk, min((k+1)*chunk, cols)) of row v / chunks\n"
     << "// (k = v % chunks); wpr warps (1 or 8) reduce one, with four independent accumulators\n"
     << "// per thread, then warp shuffles (and shared memory across the 8 warps).\n"
     << "extern \"C\" __global__ void " << name << "(" << storage_type(out) << "* out, const "
     << storage_type(in) << "* in, long long rows, long long cols, long long chunks, long long chunk, int wpr) {\n"
     << "  __shared__ " << A << " sh[8];\n"
     << "  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, per_block = 8 / wpr;\n"
     << "  const long long nt = 32LL * wpr, t = (long long)(warp % wpr) * 32 + lane;\n"
     << "  const long long vrows = rows * chunks;\n"
     << "  for (long long v0 = (long long)blockIdx.x * per_block; v0 < vrows; v0 += (long long)gridDim.x * per_block) {\n"
     << "    const long long v = v0 + warp / wpr;\n"
     << "    " << A << " a0 = " << init << ", a1 = a0, a2 = a0, a3 = a0;\n"
     << "    if (v < vrows) {\n"
     << "      const long long r = v / chunks, begin = (v % chunks) * chunk;\n"
     << "      const long long end = begin + chunk < cols ? begin + chunk : cols;\n"
     << "      const " << storage_type(in) << "* p = in + r * cols;\n"
     << "      long long j = begin + t;\n"
     << "      for (; j + 3 * nt < end; j += 4 * nt) {\n"
     << "        a0 = " << C << "(a0, " << ld << "); a1 = " << C << "(a1, " << ldk("nt") << ");\n"
     << "        a2 = " << C << "(a2, " << ldk("2 * nt") << "); a3 = " << C << "(a3, " << ldk("3 * nt") << ");\n"
     << "      }\n"
     << "      for (; j < end; j += nt) a0 = " << C << "(a0, " << ld << ");\n"
     << "    }\n"
     << "    " << A << " acc = " << C << "(" << C << "(a0, a1), " << C << "(a2, a3));\n"
     << "    for (int off = 16; off > 0; off >>= 1) acc = " << C << "(acc, " << name << "_shfl(acc, off));\n"
     << "    if (wpr > 1) {\n"
     << "      if (lane == 0) sh[warp] = acc;\n"
     << "      __syncthreads();\n"
     << "      if (warp == 0) {\n"
     << "        acc = lane < 8 ? sh[lane] : " << init << ";\n"
     << "        for (int off = 4; off > 0; off >>= 1) acc = " << C << "(acc, " << name << "_shfl(acc, off));\n"
     << "        if (lane == 0 && v < vrows) out[v] = " << store(out, "acc") << ";\n"
     << "      }\n"
     << "      __syncthreads();\n"
     << "    } else if (lane == 0 && v < vrows) {\n"
     << "      out[v] = " << store(out, "acc") << ";\n"
     << "    }\n  }\n}\n";
  return os.str();
}

std::string column_reduce_kernel(const std::string& name, ReduceOp op, DType in, DType acc, DType out) {
  const std::string A = compute_type(acc);
  const auto [init, combine] = reduce_parts(op, acc);
  const std::string C = name + "_combine";
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude()
     << "__device__ __forceinline__ " << A << " " << C << "(" << A << " x, " << A << " y) { return "
     << combine << "; }\n"
     << "// out[o, i] = reduce over k of in[o, k, i] (dense [outer, n, inner]): blocks of 32 x 32\n"
     << "// threads, x along i (coalesced), y splitting k; shared memory combines the 32 partials.\n"
     << "extern \"C\" __global__ void " << name << "(" << storage_type(out) << "* out, const "
     << storage_type(in) << "* in, long long outer, long long n, long long inner) {\n"
     << "  __shared__ " << A << " sh[32][33];\n"
     << "  const long long tiles = (inner + 31) / 32;\n"
     << "  for (long long b = blockIdx.x; b < outer * tiles; b += gridDim.x) {\n"
     << "    const long long o = b / tiles, i = (b % tiles) * 32 + threadIdx.x;\n"
     << "    " << A << " a0 = " << init << ", a1 = a0;\n"
     << "    if (i < inner) {\n"
     << "      const " << storage_type(in) << "* p = in + o * n * inner + i;\n"
     << "      long long k = threadIdx.y;\n"
     << "      for (; k + 32 < n; k += 64) {\n"
     << "        a0 = " << C << "(a0, (" << A << ")(" << load(in, "p[k * inner]") << "));\n"
     << "        a1 = " << C << "(a1, (" << A << ")(" << load(in, "p[(k + 32) * inner]") << "));\n"
     << "      }\n"
     << "      for (; k < n; k += 32) a0 = " << C << "(a0, (" << A << ")(" << load(in, "p[k * inner]") << "));\n"
     << "    }\n"
     << "    sh[threadIdx.y][threadIdx.x] = " << C << "(a0, a1);\n"
     << "    __syncthreads();\n"
     << "    if (threadIdx.y == 0) {\n"
     << "      " << A << " acc = sh[0][threadIdx.x];\n"
     << "      for (int y = 1; y < 32; ++y) acc = " << C << "(acc, sh[y][threadIdx.x]);\n"
     << "      if (i < inner) out[o * inner + i] = " << store(out, "acc") << ";\n"
     << "    }\n"
     << "    __syncthreads();\n  }\n}\n";
  return os.str();
}

std::string arg_reduce_kernel(const std::string& name, bool is_max, DType in) {
  const std::string A = compute_type(in);
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude()
     << "// Is (yv, yi) a better " << (is_max ? "max" : "min") << " than (xv, xi)? NaN wins, then the first index.\n"
     << "__device__ __forceinline__ bool " << name << "_better(" << A << " yv, long long yi, " << A
     << " xv, long long xi) {\n"
     << "  if (xi < 0) return yi >= 0;\n  if (yi < 0) return false;\n"
     << "  const bool xn = xv != xv, yn = yv != yv;\n"
     << "  if (xn || yn) return yn && (!xn || yi < xi);\n"
     << "  if (yv == xv) return yi < xi;\n"
     << "  return yv " << (is_max ? ">" : "<") << " xv;\n}\n"
     << "extern \"C\" __global__ void " << name << "(long long* out, const " << storage_type(in)
     << "* in, long long rows, long long cols) {\n"
     << "  __shared__ " << A << " sv[256];\n  __shared__ long long si[256];\n"
     << "  for (long long r = blockIdx.x; r < rows; r += gridDim.x) {\n"
     << "    " << A << " bv = 0; long long bi = -1;\n"
     << "    const " << storage_type(in) << "* p = in + r * cols;\n"
     << "    for (long long j = threadIdx.x; j < cols; j += blockDim.x) {\n"
     << "      " << A << " v = (" << A << ")(" << load(in, "p[j]") << ");\n"
     << "      if (" << name << "_better(v, j, bv, bi)) { bv = v; bi = j; }\n    }\n"
     << "    sv[threadIdx.x] = bv; si[threadIdx.x] = bi;\n    __syncthreads();\n"
     << "    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {\n"
     << "      if (threadIdx.x < s && " << name << "_better(sv[threadIdx.x + s], si[threadIdx.x + s], sv[threadIdx.x], si[threadIdx.x])) {\n"
     << "        sv[threadIdx.x] = sv[threadIdx.x + s]; si[threadIdx.x] = si[threadIdx.x + s];\n      }\n"
     << "      __syncthreads();\n    }\n"
     << "    if (threadIdx.x == 0) out[r] = si[0];\n    __syncthreads();\n  }\n}\n";
  return os.str();
}

std::string index_select_kernel(const std::string& name, DType dtype) {
  const char* T = storage_type(dtype);
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << "extern \"C\" __global__ void "
     << name << "(" << T << "* out, const " << T << "* src, const long long* index, long long outer, "
     << "long long n_index, long long src_size, long long inner) {\n"
     << "  const long long n = outer * n_index * inner;\n"
     << "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n;\n"
     << "       e += (long long)gridDim.x * blockDim.x) {\n"
     << "    const long long k = e % inner, i = (e / inner) % n_index, o = e / inner / n_index;\n"
     << "    out[e] = src[(o * src_size + index[i]) * inner + k];\n  }\n}\n";
  return os.str();
}

std::string index_add_kernel(const std::string& name, DType dtype) {
  std::string T = storage_type(dtype), atomic;
  switch (dtype) {
  case DType::Float32: case DType::Float64: case DType::Int32:
    atomic = "atomicAdd(to, from)"; break;
  case DType::Int64:
    atomic = "atomicAdd((unsigned long long*)to, (unsigned long long)from)"; break;
  default:
    fail(ErrorKind::NotImplemented, "ember.index_add", "index_add on CUDA supports float32, "
         "float64, int32 and int64, not ", dtype_name(dtype));
  }
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << "extern \"C\" __global__ void "
     << name << "(" << T << "* out, const " << T << "* src, const long long* index, long long outer, "
     << "long long n_index, long long dst_size, long long inner) {\n"
     << "  const long long n = outer * n_index * inner;\n"
     << "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n;\n"
     << "       e += (long long)gridDim.x * blockDim.x) {\n"
     << "    const long long k = e % inner, i = (e / inner) % n_index, o = e / inner / n_index;\n"
     << "    " << T << "* to = out + (o * dst_size + index[i]) * inner + k;\n"
     << "    const " << T << " from = src[e];\n    " << atomic << ";\n  }\n}\n";
  return os.str();
}

namespace {

// The atomic add of `from` into `*to` for dtype `d`, or an error naming `op`.
std::string atomic_add(DType d, const char* op) {
  switch (d) {
  case DType::Float32: case DType::Float64: case DType::Int32: return "atomicAdd(to, from)";
  case DType::Int64: return "atomicAdd((unsigned long long*)to, (unsigned long long)from)";
  default: break;
  }
  fail(ErrorKind::NotImplemented, op, "on CUDA supports float32, float64, int32 and int64, not ",
       dtype_name(d), "; convert with .float() first");
}

// The grid-stride loop header over `n` elements, with the coordinates of e in ix.size
// accumulated into offsets o0 (ix.stride[0]) and, when `second`, o1 (ix.stride[1]).
std::string walk(bool second) {
  std::string s =
      "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n;\n"
      "       e += (long long)gridDim.x * blockDim.x) {\n"
      "    long long o0 = 0, rem = e;\n" +
      std::string(second ? "    long long o1 = 0;\n" : "") +
      "    for (int d = ix.ndim - 1; d >= 0; --d) {\n"
      "      const long long c = rem % ix.size[d]; rem /= ix.size[d];\n"
      "      o0 += c * ix.stride[0][d];\n";
  if (second) s += "      o1 += c * ix.stride[1][d];\n";
  return s + "    }\n";
}

} // namespace

std::string gather_kernel(const std::string& name, DType dtype) {
  const char* T = storage_type(dtype);
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << "extern \"C\" __global__ void "
     << name << "(" << T << "* out, const " << T << "* src, const long long* index, EmberIndexer ix, "
     << "long long dstride, long long n) {\n" << walk(false)
     << "    out[e] = src[o0 + index[e] * dstride];\n  }\n}\n";
  return os.str();
}

std::string scatter_kernel(const std::string& name, DType dtype, bool add) {
  const std::string T = storage_type(dtype);
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << "extern \"C\" __global__ void "
     << name << "(" << T << "* out, const " << T << "* src, const long long* index, EmberIndexer ix, "
     << "long long dstride, long long n) {\n" << walk(true)
     << "    " << T << "* to = out + o0 + index[e] * dstride;\n"
     << "    const " << T << " from = src[o1];\n"
     << "    " << (add ? atomic_add(dtype, "ember.scatter_add") : "*to = from") << ";\n  }\n}\n";
  return os.str();
}

std::string scan_kernel(const std::string& name, DType in, DType acc, DType out, bool prod,
                        bool reverse) {
  const std::string A = compute_type(acc);
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << "extern \"C\" __global__ void "
     << name << "(" << storage_type(out) << "* out, const " << storage_type(in)
     << "* in, long long outer, long long n, long long inner) {\n"
     << "  for (long long line = (long long)blockIdx.x * blockDim.x + threadIdx.x; line < outer * inner;\n"
     << "       line += (long long)gridDim.x * blockDim.x) {\n"
     << "    const long long base = (line / inner) * n * inner + line % inner;\n"
     << "    " << A << " acc = (" << A << ")" << (prod ? "1" : "0") << ";\n"
     << "    for (long long j = 0; j < n; ++j) {\n"
     << "      const long long at = base + (" << (reverse ? "n - 1 - j" : "j") << ") * inner;\n"
     << "      acc = acc " << (prod ? "*" : "+") << " (" << A << ")(" << load(in, "in[at]") << ");\n"
     << "      out[at] = " << store(out, "acc") << ";\n    }\n  }\n}\n";
  return os.str();
}

std::string argsort_kernel(const std::string& name, DType dtype) {
  const std::string A = compute_type(dtype);
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude()
     << "// Does element x come before y (values vx, vy) in the stable order? NaN is largest.\n"
     << "__device__ __forceinline__ bool " << name << "_before(" << A << " vx, long long x, " << A
     << " vy, long long y, bool desc) {\n"
     << "  const bool nx = vx != vx, ny = vy != vy;\n"
     << "  if (nx || ny) return nx == ny ? x < y : (desc ? nx : ny);\n"
     << "  if (vx != vy) return desc ? vx > vy : vx < vy;\n"
     << "  return x < y;\n}\n"
     << "extern \"C\" __global__ void " << name << "(long long* out, const " << storage_type(dtype)
     << "* in, long long outer, long long n, long long inner, long long k, int desc) {\n"
     << "  for (long long line = blockIdx.x; line < outer * inner; line += gridDim.x) {\n"
     << "    const long long o = line / inner, i = line % inner, base = o * n * inner + i;\n"
     << "    for (long long y = threadIdx.x; y < n; y += blockDim.x) {\n"
     << "      const " << A << " vy = (" << A << ")(" << load(dtype, "in[base + y * inner]") << ");\n"
     << "      long long rank = 0;\n"
     << "      for (long long x = 0; x < n; ++x)\n"
     << "        rank += " << name << "_before((" << A << ")(" << load(dtype, "in[base + x * inner]")
     << "), x, vy, y, desc != 0);\n"
     << "      if (rank < k) out[o * k * inner + i + rank * inner] = y;\n"
     << "    }\n  }\n}\n";
  return os.str();
}

namespace {
const char* kWindowArgs =
    "long long n, long long c, long long kh, long long kw, long long sh, long long sw, "
    "long long pt, long long pl, long long dh, long long dw, long long oh, long long ow, "
    "long long h, long long w";
}

std::string im2col_kernel(const std::string& name, DType dtype) {
  const char* T = storage_type(dtype);
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << "extern \"C\" __global__ void "
     << name << "(" << T << "* cols, const " << T << "* img, " << kWindowArgs << ", double fill) {\n"
     << "  const long long ncols = n * oh * ow, total = c * kh * kw * ncols;\n"
     << "  const " << T << " outside = " << store(dtype, "fill") << ";\n"
     << "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;\n"
     << "       e += (long long)gridDim.x * blockDim.x) {\n"
     << "    const long long row = e / ncols, col = e % ncols;\n"
     << "    const long long ch = row / (kh * kw), i = (row / kw) % kh, j = row % kw;\n"
     << "    const long long b = col / (oh * ow), y = (col / ow) % oh, x = col % ow;\n"
     << "    const long long iy = y * sh - pt + i * dh, ix = x * sw - pl + j * dw;\n"
     << "    cols[e] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? img[((b * c + ch) * h + iy) * w + ix]"
     << " : outside;\n  }\n}\n";
  return os.str();
}

std::string col2im_kernel(const std::string& name, DType dtype) {
  const char* T = storage_type(dtype);
  const std::string A = compute_type(dtype == DType::Float64 ? DType::Float64 : DType::Float32);
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << "extern \"C\" __global__ void "
     << name << "(" << T << "* img, const " << T << "* cols, " << kWindowArgs << ") {\n"
     << "  const long long ncols = n * oh * ow, total = n * c * h * w;\n"
     << "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;\n"
     << "       e += (long long)gridDim.x * blockDim.x) {\n"
     << "    const long long px = e % w, py = (e / w) % h, ch = (e / (w * h)) % c, b = e / (w * h * c);\n"
     << "    " << A << " acc = 0;\n"
     << "    for (long long i = 0; i < kh; ++i) {\n"
     << "      const long long ty = py + pt - i * dh;\n"
     << "      if (ty < 0 || ty % sh != 0 || ty / sh >= oh) continue;\n"
     << "      for (long long j = 0; j < kw; ++j) {\n"
     << "        const long long tx = px + pl - j * dw;\n"
     << "        if (tx < 0 || tx % sw != 0 || tx / sw >= ow) continue;\n"
     << "        const long long row = (ch * kh + i) * kw + j, col = (b * oh + ty / sh) * ow + tx / sw;\n"
     << "        acc += (" << A << ")(" << load(dtype, "cols[row * ncols + col]") << ");\n"
     << "      }\n    }\n"
     << "    img[e] = " << store(dtype, "acc") << ";\n  }\n}\n";
  return os.str();
}

std::string random_kernel(const std::string& name, DType dtype, bool normal) {
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude()
     << "extern \"C\" __global__ void " << name << "(" << storage_type(dtype)
     << "* out, unsigned long long seed, unsigned long long base, long long n, double a, double b) {\n"
     << "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;\n"
     << "       i += (long long)gridDim.x * blockDim.x) {\n"
     << "    unsigned w[4];\n";
  if (normal)
    os << "    ember_philox(seed, base + (unsigned long long)i / 2, 0, w);\n"
       << "    const int pair = (int)(i % 2) * 2;\n"
       << "    const float u1 = ((float)(w[pair] >> 8) + 1.0f) * (1.0f / 16777216.0f);\n"
       << "    const float u2 = (float)(w[pair + 1] >> 8) * (1.0f / 16777216.0f);\n"
       << "    const double v = a + b * (sqrt(-2.0 * log((double)u1)) * cos(2.0 * 3.14159265358979323846 * (double)u2));\n";
  else
    os << "    ember_philox(seed, base + (unsigned long long)i / 4, 0, w);\n"
       << "    const float u = (float)(w[i % 4] >> 8) * (1.0f / 16777216.0f);\n"
       << "    const double v = a + (b - a) * (double)u;\n";
  os << "    out[i] = " << store(dtype, "v") << ";\n  }\n}\n";
  return os.str();
}

namespace {
// The head shared by the row kernels: a warp per row, rows strided over the grid; `W` is the
// arithmetic type, `ld(k)` a column's value of row r.
struct RowKernel {
  std::string T, W;
  DType d;
  explicit RowKernel(DType dtype)
      : T(storage_type(dtype)), W(dtype == DType::Float64 ? "double" : "float"), d(dtype) {}
  std::string ld(const std::string& ptr, const std::string& k) const {
    return "(" + W + ")" + load(d, ptr + "[" + k + "]");
  }
  std::string sum_helper(const std::string& name) const {
    return "__device__ __forceinline__ " + W + " " + name + "_wsum(" + W + " v) {\n"
           "  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);\n"
           "  return v;\n}\n";
  }
  // A statement for each element j of the row: the lane's registers t = 0..31 (element
  // lane + 32 t, for rows of at most 1024 cached by the kernel), or streamed from memory.
  static std::string cached(const std::string& stmt) {
    return "#pragma unroll\n    for (int t = 0; t < 32; ++t) {\n"
           "      const long long j = lane + 32 * t;\n      if (j >= n) break;\n      " + stmt + "\n    }\n";
  }
  static std::string streamed(const std::string& stmt) {
    return "    for (long long j = lane; j < n; j += 32) {\n      " + stmt + "\n    }\n";
  }
  static const char* loop() {
    return "  const int lane = threadIdx.x & 31;\n"
           "  for (long long r = (long long)blockIdx.x * 8 + (threadIdx.x >> 5); r < rows;\n"
           "       r += (long long)gridDim.x * 8) {\n";
  }
};
} // namespace

std::string softmax_kernel(const std::string& name, DType dtype, bool log) {
  const RowKernel k(dtype);
  const std::string& W = k.W;
  const std::string e = W == "float" ? "expf" : "exp";
  const std::string ninf = W == "float" ? "__int_as_float(0xff800000)"
                                        : "__longlong_as_double(0xfff0000000000000ULL)";
  // The row's passes, reading element j as `v(j)`: from memory, or from the registers a row
  // of at most 32 * 32 elements is first loaded into (one read of global memory per element).
  using Each = std::function<std::string(const std::string&)>;
  auto passes = [&](const Each& each, const std::function<std::string(const char*)>& v) {
    Text os;
    os << "    " << W << " m = " << ninf << ", s = 0;\n"
       << each("const " + W + " v = " + v("j") + ";\n"
               "      if (v != v) { m = v; s = v; }  // NaN: the row's result is NaN\n"
               "      else if (v > m) { s = s * " + e + "(m - v) + 1; m = v; }\n"
               "      else if (v != " + ninf + ") s += " + e + "(v - m);")
       << "    for (int off = 16; off > 0; off >>= 1) {\n"
       << "      const " << W << " m2 = __shfl_xor_sync(0xffffffffu, m, off);\n"
       << "      const " << W << " s2 = __shfl_xor_sync(0xffffffffu, s, off);\n"
       << "      if (m != m || m2 != m2) { m = m != m ? m : m2; s = m; }\n"
       << "      else " << name << "_merge(m, s, m2, s2);\n"
       << "    }\n";
    if (log)
      os << "    const " << W << " shift = m + log(s);\n"
         << each("y[j] = " + store(dtype, v("j") + std::string(" - shift")) + ";");
    else
      os << "    const " << W << " inv = 1 / s;\n"
         << each("y[j] = " + store(dtype, e + "(" + v("j") + " - m) * inv") + ";");
    return os.str();
  };
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude()
     << "// Merges a lane's (max, sum of exp(x - max)) into another's; an empty side (max -inf)\n"
     << "// adds nothing, so all -inf lanes never make exp(-inf - -inf) = NaN.\n"
     << "__device__ __forceinline__ void " << name << "_merge(" << W << "& m, " << W << "& s, "
     << W << " m2, " << W << " s2) {\n"
     << "  const " << W << " mm = m > m2 ? m : m2;\n"
     << "  s = (m == " << ninf << " ? (" << W << ")0 : s * " << e << "(m - mm)) + (m2 == " << ninf << " ? ("
     << W << ")0 : s2 * " << e << "(m2 - mm));\n"
     << "  m = mm;\n}\n"
     << "extern \"C\" __global__ void " << name << "(" << k.T << "* __restrict__ out, const " << k.T
     << "* __restrict__ in, long long rows, long long n) {\n"
     << RowKernel::loop()
     << "    const " << k.T << "* x = in + r * n;\n    " << k.T << "* y = out + r * n;\n"
     << "    if (n <= 1024) {\n"
     << "      " << W << " c[32];\n"
     << "#pragma unroll\n"
     << "      for (int t = 0; t < 32; ++t) { const long long j = lane + 32 * t; if (j < n) c[t] = "
     << k.ld("x", "j") << "; }\n"
     << passes(RowKernel::cached, [](const char*) { return std::string("c[t]"); })
     << "      continue;\n    }\n"
     << passes(RowKernel::streamed, [&](const char* j) { return k.ld("x", j); })
     << "  }\n}\n";
  return os.str();
}

std::string softmax_backward_kernel(const std::string& name, DType dtype, bool log) {
  const RowKernel k(dtype);
  const std::string& W = k.W;
  using Each = std::function<std::string(const std::string&)>;
  auto passes = [&](const Each& each, const std::string& y, const std::string& g) {
    Text os;
    os << "    " << W << " dot = 0;\n"
       << each("dot += " + (log ? g : g + " * " + y) + ";")
       << "    dot = " << name << "_wsum(dot);\n"
       << each("dx[r * n + j] = " +
               store(dtype, log ? g + " - exp(" + y + ") * dot" : y + " * (" + g + " - dot)") + ";");
    return os.str();
  };
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << k.sum_helper(name)
     << "extern \"C\" __global__ void " << name << "(" << k.T << "* __restrict__ dx, const " << k.T
     << "* __restrict__ yp, const " << k.T << "* __restrict__ gp, long long rows, long long n) {\n"
     << RowKernel::loop()
     << "    const " << k.T << "* y = yp + r * n;\n    const " << k.T << "* g = gp + r * n;\n"
     << "    if (n <= 1024) {  // the row in registers: one read of y and g\n"
     << "      " << W << " cy[32], cg[32];\n"
     << "#pragma unroll\n"
     << "      for (int t = 0; t < 32; ++t) { const long long j = lane + 32 * t; if (j < n) { cy[t] = "
     << k.ld("y", "j") << "; cg[t] = " << k.ld("g", "j") << "; } }\n"
     << passes(RowKernel::cached, "cy[t]", "cg[t]")
     << "      continue;\n    }\n"
     << passes(RowKernel::streamed, k.ld("y", "j"), k.ld("g", "j"))
     << "  }\n}\n";
  return os.str();
}

std::string layer_norm_kernel(const std::string& name, DType dtype) {
  const RowKernel k(dtype);
  const std::string& W = k.W;
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << k.sum_helper(name)
     << "extern \"C\" __global__ void " << name << "(" << k.T << "* __restrict__ out, float* mean_, "
     << "float* rstd_, const " << k.T << "* __restrict__ in, const " << k.T << "* __restrict__ w, const "
     << k.T << "* __restrict__ b, long long rows, long long n, double eps) {\n"
     << RowKernel::loop()
     << "    const " << k.T << "* x = in + r * n;\n    " << k.T << "* y = out + r * n;\n"
     << "    " << W << " s = 0;\n"
     << "    for (long long j = lane; j < n; j += 32) s += " << k.ld("x", "j") << ";\n"
     << "    const " << W << " mean = " << name << "_wsum(s) / n;\n"
     << "    " << W << " q = 0;\n"
     << "    for (long long j = lane; j < n; j += 32) { const " << W << " c = " << k.ld("x", "j")
     << " - mean; q += c * c; }\n"
     << "    const " << W << " rstd = (" << W << ")1 / sqrt(" << name << "_wsum(q) / n + (" << W
     << ")eps);\n"
     << "    if (lane == 0) { mean_[r] = (float)mean; rstd_[r] = (float)rstd; }\n"
     << "    for (long long j = lane; j < n; j += 32) {\n"
     << "      " << W << " v = (" << k.ld("x", "j") << " - mean) * rstd;\n"
     << "      if (w) v *= " << k.ld("w", "j") << ";\n"
     << "      if (b) v += " << k.ld("b", "j") << ";\n"
     << "      y[j] = " << store(dtype, "v") << ";\n"
     << "    }\n  }\n}\n";
  return os.str();
}

std::string layer_norm_backward_kernel(const std::string& name, DType dtype) {
  const RowKernel k(dtype);
  const std::string& W = k.W;
  // x-hat, g and g times the weight at column j: read in both passes over the row
  const std::string terms = "      const " + W + " xh = (" + k.ld("x", "j") + " - mean) * rstd;\n" +
                            "      const " + W + " gv = " + k.ld("g", "j") + ";\n" + "      const " + W +
                            " gw = w ? gv * " + k.ld("w", "j") + " : gv;\n";
  Text os;
  os << "// generated by ember: " << name << "\n" << prelude() << k.sum_helper(name)
     << "extern \"C\" __global__ void " << name << "(" << k.T << "* __restrict__ dx, float* __restrict__ gxhat, const "
     << k.T << "* __restrict__ xp, const " << k.T << "* __restrict__ w, const float* __restrict__ mean_, "
     << "const float* __restrict__ rstd_, const " << k.T << "* __restrict__ gp, long long rows, long long n) {\n"
     << RowKernel::loop()
     << "    const " << k.T << "* x = xp + r * n;\n    const " << k.T << "* g = gp + r * n;\n"
     << "    const " << W << " mean = mean_[r], rstd = rstd_[r];\n"
     << "    " << W << " a = 0, c = 0;\n"
     << "    for (long long j = lane; j < n; j += 32) {\n" << terms
     << "      a += gw; c += gw * xh;\n"
     << "      if (gxhat) gxhat[r * n + j] = (float)(gv * xh);\n"
     << "    }\n"
     << "    if (!dx) continue;\n"
     << "    a = " << name << "_wsum(a) / n; c = " << name << "_wsum(c) / n;\n"
     << "    for (long long j = lane; j < n; j += 32) {\n" << terms
     << "      dx[r * n + j] = " << store(dtype, "rstd * (gw - a - xh * c)") << ";\n"
     << "    }\n  }\n}\n";
  return os.str();
}

std::string optimizer_kernel(const std::string& name, const std::string& kind, DType dtype) {
  EMBER_CHECK(dtype == DType::Float32 || dtype == DType::Float64, Type, "cuda.optim",
              "fused updates take float32 or float64 parameters, got ", dtype_name(dtype));
  const std::string T = dtype == DType::Float32 ? "float" : "double";
  // Each body reads h[] (as T) and flags; bit 0 maximize, bit 1 weight decay, the rest per kind.
  std::string head, body;
  if (kind == "sgd") { // h: lr, momentum, 1 - dampening, weight_decay; 4 momentum, 8 nesterov, 16 first
    head = "const T rate = (T)a.h[0], mom = (T)a.h[1], damp = (T)a.h[2], wd = (T)a.h[3];";
    body = "if (a.flags & 4) {\n"
           "      s0[i] = (a.flags & 16) ? d : s0[i] * mom + damp * d;\n"
           "      d = (a.flags & 8) ? d + mom * s0[i] : s0[i];\n    }\n"
           "    p[i] = p[i] - rate * d;";
  } else if (kind == "adam") {
    // h: weight_decay, 1 - lr wd, 1 - beta1, beta2, 1 - beta2, eps, sqrt(bias correction 2),
    // step size; 4 decoupled weight decay, 8 amsgrad
    head = "const T wd = (T)a.h[0], decay = (T)a.h[1], b1 = (T)a.h[2], b2 = (T)a.h[3], nb2 = (T)a.h[4],\n"
           "          e = (T)a.h[5], bc = (T)a.h[6], ss = (T)a.h[7];";
    body = "s0[i] = s0[i] + b1 * (d - s0[i]);\n"
           "    s1[i] = s1[i] * b2 + nb2 * d * d;\n"
           "    T second = s1[i];\n"
           "    if (a.flags & 8) second = s2[i] = s2[i] < s1[i] ? s1[i] : s2[i];\n"
           "    const T denom = sqrt(second) / bc + e;\n"
           "    p[i] = p[i] - ss * (s0[i] / denom);";
  } else if (kind == "rmsprop") {
    // h: lr, alpha, 1 - alpha, eps, weight_decay, momentum; 4 centered, 8 momentum > 0
    head = "const T rate = (T)a.h[0], al = (T)a.h[1], na = (T)a.h[2], e = (T)a.h[3], wd = (T)a.h[4],\n"
           "          mom = (T)a.h[5];";
    body = "s0[i] = s0[i] * al + na * d * d;\n"
           "    T avg;\n"
           "    if (a.flags & 4) { s1[i] = s1[i] + na * (d - s1[i]); avg = sqrt(s0[i] - s1[i] * s1[i]) + e; }\n"
           "    else avg = sqrt(s0[i]) + e;\n"
           "    if (a.flags & 8) { s2[i] = s2[i] * mom + d / avg; p[i] = p[i] - rate * s2[i]; }\n"
           "    else p[i] = p[i] - rate * (d / avg);";
  } else if (kind == "adagrad") { // h: clr, weight_decay, eps
    head = "const T rate = (T)a.h[0], wd = (T)a.h[1], e = (T)a.h[2];";
    body = "s0[i] = s0[i] + d * d;\n    p[i] = p[i] - rate * (d / (sqrt(s0[i]) + e));";
  } else {
    fail(ErrorKind::Value, "cuda.optim", "unknown optimizer kind '", kind, "'");
  }
  // Adam's decoupled weight decay scales the parameter instead of adding to the gradient.
  const std::string decay = kind == "adam"
                                ? "if (a.flags & 2) { if (a.flags & 4) p[i] = p[i] * decay; else d = d + wd * p[i]; }"
                                : "if (a.flags & 2) d = d + wd * p[i];";
  Text os;
  os << "// generated by ember: " << name << " (fused " << kind << " update)\n"
     << "struct EmberOptimArgs { double h[8]; int flags; };\n"
     << "typedef " << T << " T;\n"
     << "extern \"C\" __global__ void " << name << "(T* __restrict__ p, const T* __restrict__ g, "
     << "T* __restrict__ s0, T* __restrict__ s1, T* __restrict__ s2, long long n, EmberOptimArgs a) {\n"
     << "  " << head << "\n"
     << "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;\n"
     << "       i += (long long)gridDim.x * blockDim.x) {\n"
     << "    T d = (a.flags & 1) ? -g[i] : g[i];\n"
     << "    " << decay << "\n"
     << "    " << body << "\n  }\n}\n";
  return os.str();
}

} // namespace ember::kernels::cuda
