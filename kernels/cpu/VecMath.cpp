// Vectorized float32 elementwise kernels (VecMath.h). The bodies are written once over GCC
// vector types of N floats and compiled three times: AVX-512 (N = 16), AVX2+FMA (N = 8) and
// the baseline (N = 4, SSE2 on x86-64); a function pointer picks one at load time.
//
// The math (float32, polynomials fitted for this file by weighted least squares, then checked
// against double-precision references in test/unit/vecmath_test.cpp):
//   exp   Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, e^r = 1 + r + r^2 S(r) (degree 5),
//         scaled by 2^n in two steps so that results in the denormal range round once.
//   log   x = 2^e m, m in [sqrt(1/2), sqrt(2)), log(1 + f) = f - f^2/2 + f^3 L(f) (degree 8);
//         denormal inputs are scaled by 2^23 first.
//   tanh  |x| < 0.625: x + x^3 R(x^2) (degree 4); else 1 - 2 / (e^{2|x|} + 1), with x's sign.
//   erf   |x| < 1: x + x P(x^2) (degree 6); else 1 - erfc(|x|), erfc(a) = e^{-a^2} Q(s) with Q of
//         degree 10 in s = (1/a - 0.55) / 0.45, fitted on a in [1, 10] (erfc underflows after);
//         e^{-a^2} from the exact a^2 (one multiply-add in the reduction).
// erf/erfc/gelu evaluate their polynomials by Estrin's scheme (short dependency chains).
//   erfc  1 - erf(x) on |x| < 1; else the tail e^{-x^2} Q(s) above (2 minus it for x < 0).
//   gelu  x Phi(x) = x erfc(-x/sqrt2) / 2: on the negative side the tail avoids 1 + erf's
//         cancellation.
//   gelu_tanh  x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3), computed as
//         x / (1 + e^{-2u}) (the same value, without 1 + tanh's cancellation for x << 0).
//   sigmoid, silu  from e = exp(-|x|): 1 / (1 + e), or e / (1 + e) for x < 0.
// NaN propagates through every function; +-inf give the limits. The tests hold every copy, over a
// sweep of all floats, to: exp, log 1 ulp; tanh, erf 2; sigmoid, silu 3; gelu, gelu_tanh 4, on the
// negative side 4 + 2.5 x^2, where their condition number grows like x^2 (in float32, 1 + erf
// as torch computes it loses digits there: gelu(-5) comes out -1.49e-6 for -1.43e-6).
#include "ember/kernels/VecMath.h"

#include "ember/kernels/Elementwise.h"
#include "ember/kernels/ErfCoefficients.h"

#include <cstdlib>
#include <iterator>
#include <cstring>
#include <limits>

namespace ember::kernels {
namespace {

// The helpers are always inlined into the per-ISA copies below, so GCC's note about the
// vector-return ABI of the baseline build does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

#define EMBER_VINLINE __attribute__((always_inline)) inline

template <int N>
struct M {
  typedef float F __attribute__((vector_size(4 * N)));
  typedef int32_t I __attribute__((vector_size(4 * N)));
  typedef uint32_t U __attribute__((vector_size(4 * N)));

  static EMBER_VINLINE F splat(float v) { return F{} + v; }
  static EMBER_VINLINE F load(const float* p) {
    F v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  }
  static EMBER_VINLINE void store(float* p, F v) { __builtin_memcpy(p, &v, sizeof v); }
  // A non-temporal store (p aligned to the vector's size): it skips reading the line into the
  // cache first, a quarter of a large binary op's memory traffic. Inline assembly, as GCC's
  // builtins for it exist only inside functions compiled for the instruction set.
  static EMBER_VINLINE void stream(float* p, F v) {
#if defined(__x86_64__) || defined(__i386__)
    if constexpr (N == 4) asm volatile("movntps %1, %0" : "=m"(*reinterpret_cast<F*>(p)) : "x"(v));
    else if constexpr (N == 8) asm volatile("vmovntps %1, %0" : "=m"(*reinterpret_cast<F*>(p)) : "x"(v));
    else asm volatile("vmovntps %1, %0" : "=m"(*reinterpret_cast<F*>(p)) : "v"(v));
#else
    store(p, v);
#endif
  }
  static EMBER_VINLINE void stream_fence() {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("sfence" ::: "memory");
#endif
  }
  // m: a comparison's result (all ones or zero per lane).
  static EMBER_VINLINE F sel(I m, F a, F b) { return m ? a : b; }
  static EMBER_VINLINE F abs(F x) { return (F)((U)x & 0x7fffffffu); }
  static EMBER_VINLINE F neg_abs(F x) { return (F)((U)x | 0x80000000u); }
  static EMBER_VINLINE F copysign(F mag, F sgn) {
    return (F)(((U)mag & 0x7fffffffu) | ((U)sgn & 0x80000000u));
  }
  // c[0] + c[1] x + ... + c[K-1] x^(K-1), Horner (multiply-adds where the copy has FMA).
  template <int K>
  static EMBER_VINLINE F poly(F x, const float (&c)[K]) {
    F r = splat(c[K - 1]);
#pragma GCC unroll 16
    for (int i = K - 2; i >= 0; --i) r = r * x + c[i];
    return r;
  }
  // The same by Estrin's scheme (pairs c[i] + c[i+1] x, then pairs of those with x^2, x^4, ...):
  // about log2(K) dependent steps instead of K - 1. erf, erfc and gelu use it, as the compiler's
  // erfc does (compiler/lib/ApproximateMath.cpp): there a fused loop's iterations overlap only
  // so far, and the chains' length bounded gelu. (The other functions keep Horner: their
  // results are what compiled exp, log and tanh have been checked against.)
  template <int K>
  static EMBER_VINLINE F poly_estrin(F x, const float (&c)[K]) {
    F v[K];
#pragma GCC unroll 16
    for (int i = 0; i < K; ++i) v[i] = splat(c[i]);
    F p = x;
#pragma GCC unroll 8
    for (int n = K; n > 1;) {
      int m = 0;
#pragma GCC unroll 16
      for (int i = 0; i + 1 < n; i += 2) v[m++] = v[i + 1] * p + v[i];
      if (n % 2) v[m++] = v[n - 1];
      n = m;
      if (n > 1) p = p * p;
    }
    return v[0];
  }

  static EMBER_VINLINE F exp(F x) {
    static constexpr float S[] = {0.5f, 0.166666657f, 0.0416662954f, 0.00833349675f,
                                  0.00139446568f, 0.000197906222f};
    x = sel(x < -104.0f, splat(-104.0f), x); // NaN passes both clamps
    x = sel(x > 89.0f, splat(89.0f), x);
    // n = round(x / ln2) by the 1.5 * 2^23 trick: t's low mantissa bits hold n.
    const F t = x * 1.44269504088896341f + 12582912.0f;
    const F nf = t - 12582912.0f;
    const I n = (I)t - 0x4B400000;
    F r = x - nf * 0.693359375f; // ln2 = 0.693359375 - 2.12194440e-4, the first part exact in n
    r = r + nf * 2.12194440e-4f;
    const F p = poly(r, S) * (r * r) + r + 1.0f;
    // 2^n as 2^n1 * 2^n2 (n in [-150, 129]): each factor is a normal float.
    const I n1 = n >> 1, n2 = n - n1;
    const F s1 = (F)((U)(n1 + 127) << 23), s2 = (F)((U)(n2 + 127) << 23);
    return p * s1 * s2;
  }

  static EMBER_VINLINE F log(F x) {
    static constexpr float L[] = {0.333333135f,  -0.250000089f, 0.200021192f,
                                  -0.166679963f, 0.142195389f,  -0.124055684f,
                                  0.118882306f,  -0.116757691f, 0.0674662292f};
    const I tiny = x < 1.17549435e-38f; // denormals (zero and negatives are fixed below)
    const F xs = sel(tiny, x * 8388608.0f, x);
    const I bits = (I)xs;
    I e = ((bits >> 23) & 0xff) - 126 - (tiny & 23);
    const F m = (F)((bits & 0x007fffff) | 0x3f000000); // [0.5, 1)
    const I lo = m < 0.707106781186547524f;
    e = e + lo; // lo is -1 where set
    const F f = sel(lo, m + m, m) - 1.0f;
    const F ef = (F)(e + 0x4B400000) - 12582912.0f; // float(e), by the same trick as exp's
    const F z = f * f;
    F y = f * z * poly(f, L);
    y = y - ef * 2.12194440e-4f;
    y = y - 0.5f * z;
    F r = f + y;
    r = r + ef * 0.693359375f;
    const float inf = std::numeric_limits<float>::infinity();
    r = sel(x == inf, x, r);
    r = sel(x == 0.0f, splat(-inf), r);
    return sel((x < 0.0f) | (x != x), splat(std::numeric_limits<float>::quiet_NaN()), r);
  }

  static EMBER_VINLINE F tanh(F x) {
    static constexpr float R[] = {-0.333332807f, 0.133314416f, -0.0537396967f, 0.0206390359f,
                                  -0.00570493471f};
    const F a = abs(x);
    const F z = x * x;
    const F small = x + x * z * poly(z, R);
    const F e = exp(a + a);
    const F big = 1.0f - splat(2.0f) / (e + 1.0f);
    return copysign(sel(a < 0.625f, small, big), x); // tanh(-0) = -0
  }

  static EMBER_VINLINE F sigmoid(F x) {
    const F e = exp(neg_abs(x));
    return sel(x < 0.0f, e, splat(1.0f)) / (e + 1.0f);
  }

  // erf(x) / x - 1 = P(x^2) on |x| < 1 (erf(x) = x + x P(x^2): the leading term stays exact).
  static EMBER_VINLINE F erf_small(F x) { return poly_estrin(x * x, kErfSmallP); }
  // v, hidden from the optimizer: a product computed before it cannot be fused into a later
  // multiply-add (where one product must fuse and not another).
  static EMBER_VINLINE F opaque(F v) {
#if defined(__x86_64__) || defined(__i386__)
    if constexpr (N == 16) asm("" : "+v"(v));
    else asm("" : "+x"(v));
#endif
    return v;
  }
  // e^{-a^2} for a >= 1 as p * 2^(n + 64) * 2^-64 (p returned, 2^(n + 64) in scale): exp's
  // reduction with n = round(-a^2 / ln2) from the rounded a^2, but r = (-n ln2_hi - a^2) +
  // n ln2_lo, whose first part one multiply-add forms from the exact a^2 (n ln2_hi is exact and
  // the difference small), and e^r as one degree-6 polynomial (1.5 ulps). a is clamped at 10.6 (NaN gives
  // 10.6: the caller's other factor carries it), past which the result underflows, so that
  // 2^(n + 64) is a normal float.
  static EMBER_VINLINE F exp_neg_square(F a, F& scale) {
    static constexpr float E[] = {1.0f,          1.0f,           0.49999994f,   0.166665211f,
                                  0.0416683815f, 0.00836872123f, 0.00138149515f};
    a = sel(a < 10.6f, a, splat(10.6f));
    // a (a * -log2 e), not a^2 * -log2 e: a^2 has one use (below), so it fuses there.
    const F t = a * (a * -1.44269504088896341f) + 12582912.0f;
    const F nf = t - 12582912.0f;
    scale = (F)((U)((I)t - (0x4B400000 - 127 - 64)) << 23);
    F r = opaque(nf * -0.693359375f) - a * a;
    r = r + nf * 2.12194440e-4f;
    return poly_estrin(r, E);
  }
  // erfc(a) for a >= 1 (NaN stays NaN; +inf gives 0). s = (1/a - 0.55) / 0.45 is one division
  // and an add; past a = 10 (s < -1, outside the fit) e^{-a^2} is at most a few denormal steps
  // and 0 from 10.6 on.
  struct TailQ { // kErfcTailQ times 2^-64 (exactly), the factor that goes with 2^(n + 64)
    float c[std::size(kErfcTailQ)];
  };
  static constexpr TailQ kTailQ = [] {
    TailQ q{};
    for (size_t i = 0; i < std::size(kErfcTailQ); ++i) q.c[i] = kErfcTailQ[i] * 0x1p-64f;
    return q;
  }();
  static EMBER_VINLINE F erfc_tail(F a) {
    const F s = splat(2.22222222f) / a - 1.22222222f;
    F scale;
    const F p = exp_neg_square(a, scale);
    return p * (poly_estrin(s, kTailQ.c) * scale);
  }
  static EMBER_VINLINE F erf(F x) {
    const F a = abs(x);
    const F big = copysign(1.0f - erfc_tail(a), x);
    return sel(a < 1.0f, x + x * erf_small(x), big);
  }

  // erfc(x): 1 - erf(x) on |x| < 1, else the tail (2 minus it for x < 0). The compiler lowers
  // f32 erfc to the same formula (compiler/lib/ApproximateMath.cpp).
  static EMBER_VINLINE F erfc(F x) {
    const F a = abs(x);
    const F t = erfc_tail(a);
    const F big = sel(x < 0.0f, 2.0f - t, t);
    return sel(a < 1.0f, 1.0f - (x + x * erf_small(x)), big);
  }

  // x Phi(x) = x/2 erfc(-x/sqrt2), as the op record (and so the compiler) writes it (x/2 first:
  // it is exact and off erfc's dependency chain).
  static EMBER_VINLINE F gelu(F x) { return (0.5f * x) * erfc(-(x * 0.707106781186547524f)); }

  static EMBER_VINLINE F gelu_tanh(F x) {
    // x (1 + tanh(u)) / 2 = x sigmoid(2u) = x / (1 + e^{-2u}): no cancellation for x << 0.
    // As in sigmoid, e^{-|2u|} keeps exp from overflowing where the result is still normal.
    const F u2 = -1.59576912160573071f * (x + 0.044715f * (x * x * x));
    const F e = exp(neg_abs(u2));
    return sel(u2 > 0.0f, x * e, x) / (e + 1.0f);
  }

  template <VecOp Op>
  static EMBER_VINLINE F apply(F a, F b) {
    (void)b;
    if constexpr (Op == VecOp::Add) return a + b;
    else if constexpr (Op == VecOp::Sub) return a - b;
    else if constexpr (Op == VecOp::Mul) return a * b;
    else if constexpr (Op == VecOp::Div) return a / b;
    else if constexpr (Op == VecOp::Maximum) return sel((a != a) | (a > b), a, b);
    else if constexpr (Op == VecOp::Minimum) return sel((a != a) | (a < b), a, b);
    else if constexpr (Op == VecOp::ReluBackward) return sel(b > 0.0f, a, F{});
    else if constexpr (Op == VecOp::Neg) return -a;
    else if constexpr (Op == VecOp::Abs) return abs(a);
    else if constexpr (Op == VecOp::Reciprocal) return splat(1.0f) / a;
    else if constexpr (Op == VecOp::Relu) return sel(a <= 0.0f, F{}, a); // NaN stays
    else if constexpr (Op == VecOp::Exp) return exp(a);
    else if constexpr (Op == VecOp::Log) return log(a);
    else if constexpr (Op == VecOp::Tanh) return tanh(a);
    else if constexpr (Op == VecOp::Sigmoid) return sigmoid(a);
    else if constexpr (Op == VecOp::Erf) return erf(a);
    else if constexpr (Op == VecOp::Silu) return a * sigmoid(a);
    else if constexpr (Op == VecOp::Gelu) return gelu(a);
    else if constexpr (Op == VecOp::Erfc) return erfc(a);
    else return gelu_tanh(a);
  }

  // out[i] = Op(a[i or 0], b[i or 0]) for i in [i0, i1), through a zero-padded buffer (the
  // part of a vector at either end of a span).
  template <VecOp Op, bool kAVec, bool kBVec>
  static EMBER_VINLINE void partial(const float* a, const float* b, float* out, int64_t i0,
                                    int64_t i1) {
    float ta[N] = {}, tb[N] = {}, to[N];
    for (int64_t j = i0; j < i1; ++j) {
      ta[j - i0] = kAVec ? a[j] : a[0];
      tb[j - i0] = kBVec ? b[j] : b[0];
    }
    store(to, apply<Op>(load(ta), load(tb)));
    for (int64_t j = i0; j < i1; ++j) out[j] = to[j - i0];
  }

  // out[i] = Op(a[i or 0], b[i or 0]) for i in [0, n); `nt`: non-temporal stores.
  template <VecOp Op, bool kAVec, bool kBVec>
  static EMBER_VINLINE void span(const float* a, const float* b, float* out, int64_t n, bool nt) {
    const F a0 = kAVec ? F{} : splat(a[0]);
    const F b0 = kBVec ? F{} : splat(b[0]);
    int64_t i = 0;
    if (nt) {
      // Up to the first vector-aligned output element, then aligned streaming stores.
      const int64_t head = std::min<int64_t>(
          n, ((sizeof(F) - reinterpret_cast<uintptr_t>(out) % sizeof(F)) % sizeof(F)) / 4);
      if (head > 0) partial<Op, kAVec, kBVec>(a, b, out, 0, head);
      for (i = head; i + N <= n; i += N)
        stream(out + i, apply<Op>(kAVec ? load(a + i) : a0, kBVec ? load(b + i) : b0));
      stream_fence();
    }
    // Two vectors per iteration: the math functions' long dependency chains overlap (exp, tanh,
    // gelu 10-20% faster on cache-resident data).
#pragma GCC unroll 2
    for (; i + N <= n; i += N)
      store(out + i, apply<Op>(kAVec ? load(a + i) : a0, kBVec ? load(b + i) : b0));
    if (i < n) partial<Op, kAVec, kBVec>(a, b, out, i, n);
  }

  // mode 0: a and b (binary) contiguous; 1: b broadcast; 2: a broadcast. Unary ops read a.
  static EMBER_VINLINE void run(VecOp op, int mode, const float* a, const float* b, float* out,
                                int64_t n, bool nt) {
    switch (op) {
#define EMBER_VEC_BINARY(Op)                                                          \
  case VecOp::Op:                                                                     \
    if (mode == 0) span<VecOp::Op, true, true>(a, b, out, n, nt);                         \
    else if (mode == 1) span<VecOp::Op, true, false>(a, b, out, n, nt);                   \
    else span<VecOp::Op, false, true>(a, b, out, n, nt);                                  \
    return;
#define EMBER_VEC_UNARY(Op)                                                           \
  case VecOp::Op: span<VecOp::Op, true, false>(a, a, out, n, nt); return;
      EMBER_VEC_BINARY(Add)
      EMBER_VEC_BINARY(Sub)
      EMBER_VEC_BINARY(Mul)
      EMBER_VEC_BINARY(Div)
      EMBER_VEC_BINARY(Maximum)
      EMBER_VEC_BINARY(Minimum)
      EMBER_VEC_BINARY(ReluBackward)
      EMBER_VEC_UNARY(Neg)
      EMBER_VEC_UNARY(Abs)
      EMBER_VEC_UNARY(Reciprocal)
      EMBER_VEC_UNARY(Relu)
      EMBER_VEC_UNARY(Exp)
      EMBER_VEC_UNARY(Log)
      EMBER_VEC_UNARY(Tanh)
      EMBER_VEC_UNARY(Sigmoid)
      EMBER_VEC_UNARY(Erf)
      EMBER_VEC_UNARY(Silu)
      EMBER_VEC_UNARY(Gelu)
      EMBER_VEC_UNARY(GeluTanh)
      EMBER_VEC_UNARY(Erfc)
#undef EMBER_VEC_BINARY
#undef EMBER_VEC_UNARY
    case VecOp::kCount: break;
    }
  }
};

using SpanFn = void (*)(VecOp, int, const float*, const float*, float*, int64_t, bool);

#define EMBER_SPAN_ARGS \
  VecOp op, int mode, const float *a, const float *b, float *out, int64_t n, bool nt
void span_generic(EMBER_SPAN_ARGS) { M<4>::run(op, mode, a, b, out, n, nt); }
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) void span_avx2(EMBER_SPAN_ARGS) {
  M<8>::run(op, mode, a, b, out, n, nt);
}
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma"))) void span_avx512(EMBER_SPAN_ARGS) {
  M<16>::run(op, mode, a, b, out, n, nt);
}
#endif
#undef EMBER_SPAN_ARGS

#pragma GCC diagnostic pop

SpanFn span_for(VecIsa isa) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == VecIsa::Avx512) return span_avx512;
  if (isa == VecIsa::Avx2) return span_avx2;
#endif
  (void)isa;
  return span_generic;
}

VecIsa pick_isa() {
  VecIsa best = VecIsa::Generic;
  for (VecIsa isa : {VecIsa::Avx2, VecIsa::Avx512})
    if (vec_isa_supported(isa)) best = isa;
  if (const char* env = std::getenv("EMBER_CPU_ISA")) {
    for (VecIsa isa : {VecIsa::Generic, VecIsa::Avx2, VecIsa::Avx512})
      if (std::strcmp(env, vec_isa_name(isa)) == 0 && static_cast<int>(isa) <= static_cast<int>(best))
        best = isa;
  }
  return best;
}

// The memory-bound ops: a few flops per element.
bool is_cheap(VecOp op) {
  return vec_op_is_binary(op) || op == VecOp::Neg || op == VecOp::Abs || op == VecOp::Relu;
}

// Below this many elements per thread, another thread costs more than it saves: cheap ops are
// memory-bound, the transcendental ones do ~20-60 flops per element.
int64_t grain_of(VecOp op) { return is_cheap(op) ? int64_t(1) << 16 : int64_t(1) << 14; }

constexpr int64_t kStreamElements = int64_t(1) << 22; // 16 MB of float32

} // namespace

const char* vec_op_name(VecOp op) {
  static const char* const names[] = {"add",  "sub",        "mul",  "div",  "maximum", "minimum",
                                      "relu_backward", "neg", "abs", "reciprocal", "relu",
                                      "exp",  "log",        "tanh", "sigmoid", "erf", "silu",
                                      "gelu", "gelu_tanh", "erfc"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<int>(VecOp::kCount));
  return names[static_cast<int>(op)];
}

bool vec_isa_supported(VecIsa isa) {
  switch (isa) {
  case VecIsa::Generic: return true;
#if defined(__x86_64__) || defined(__i386__)
  case VecIsa::Avx2:
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case VecIsa::Avx512:
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
#endif
  default: return false;
  }
}

const char* vec_isa_name(VecIsa isa) {
  switch (isa) {
  case VecIsa::Avx2: return "avx2";
  case VecIsa::Avx512: return "avx512";
  default: return "generic";
  }
}

VecIsa vec_isa() {
  static const VecIsa isa = pick_isa();
  return isa;
}

void vec_span_f32(VecIsa isa, VecOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                  float* out, int64_t n, bool streaming) {
  if (n <= 0) return;
  const bool binary = vec_op_is_binary(op);
  // A broadcast scalar operand everywhere: one value, computed once.
  if ((!binary && sa == 0) || (binary && sa == 0 && sb == 0)) {
    float r;
    span_for(isa)(op, 0, a, b, &r, 1, false);
    for (int64_t i = 0; i < n; ++i) out[i] = r;
    return;
  }
  const int mode = !binary || (sa == 1 && sb == 1) ? 0 : sb == 0 ? 1 : 2;
  span_for(isa)(op, mode, a, b, out, n, streaming);
}

bool vec_map_f32(VecOp op, const float* a, const int64_t* as, const float* b, const int64_t* bs,
                 float* out, const int64_t* shape, int ndim) {
  const bool binary = vec_op_is_binary(op);
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) total *= shape[d];
  if (total == 0) return true;
  // Drop size-1 dims and merge each dim into the one outside it where both operands' strides
  // allow (a contiguous tensor, or a scalar, becomes one dim). No heap: tiny ops stay cheap.
  constexpr int kMaxDims = 16;
  int64_t s[kMaxDims], xa[kMaxDims], xb[kMaxDims];
  int nd = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    const int64_t sbd = binary ? bs[d] : 0;
    if (nd > 0 && xa[nd - 1] == as[d] * shape[d] && xb[nd - 1] == sbd * shape[d]) {
      s[nd - 1] *= shape[d];
      xa[nd - 1] = as[d];
      xb[nd - 1] = sbd;
    } else {
      if (nd == kMaxDims) return false;
      s[nd] = shape[d];
      xa[nd] = as[d];
      xb[nd] = sbd;
      ++nd;
    }
  }
  if (nd == 0) { // one element
    s[0] = 1;
    xa[0] = 1;
    xb[0] = binary ? 1 : 0;
    nd = 1;
  }
  const int64_t ia = xa[nd - 1], ib = xb[nd - 1], inner = s[nd - 1];
  int mode;
  if (ia == 1 && (!binary || ib == 1)) mode = 0;
  else if (ia == 1 && ib == 0) mode = 1;
  else if (binary && ia == 0 && ib == 1) mode = 2;
  else return false;
  if (nd > 1 && inner < 16) return false; // short rows: the generic loop is as fast
  if (!binary) b = a;
  static const SpanFn run = span_for(vec_isa());
  // An output this large is not read back from the cache (the last level holds 32 MB or
  // less on the machines this was measured on): a memory-bound op stores it past the cache
  // (add on 16M floats: 18 -> 14.5 ms; the math functions, compute-bound, gained nothing).
  const bool nt = is_cheap(op) && total >= kStreamElements;
  if (nd == 1 && total <= grain_of(op)) { // one task: no std::function, no pool
    run(op, mode, a, b, out, total, nt);
    return true;
  }
  if (nd == 1) {
    parallel_for(total, grain_of(op), [&](int64_t i0, int64_t i1) {
      run(op, mode, a + i0 * ia, b + i0 * ib, out + i0, i1 - i0, nt);
    });
    return true;
  }
  parallel_for(total, grain_of(op), [&](int64_t begin, int64_t end) {
    for_each_span(s, nd, xa, xb, begin, end,
                  [&](int64_t o, int64_t ao, int64_t bo, int64_t i0, int64_t i1) {
      run(op, mode, a + ao + i0 * ia, b + bo + i0 * ib, out + o + i0, i1 - i0, nt);
    });
  });
  return true;
}

} // namespace ember::kernels
