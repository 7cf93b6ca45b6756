// Floating-point literals of an op record's expression, marked float: CUDA C reads `0.5` as a
// double, and one double literal turns a float kernel's arithmetic (erfc, exp, ...) into double
// precision, several times slower on the GPU. Shared by the eager kernels (CudaSource.cpp) and
// the compiler's CUDA prelude; header-only, so the compiler needs no kernels library.
#pragma once

#include <cctype>
#include <string>

namespace ember::kernels::cuda {

// `expr` with every floating-point literal (one with a '.' or an exponent) marked float.
inline std::string float_literals(const std::string& expr) {
  std::string out;
  const size_t n = expr.size();
  size_t i = 0;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < n) {
    const char c = expr[i];
    const bool starts = (std::isdigit(static_cast<unsigned char>(c)) ||
                         (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(expr[i + 1])))) &&
                        (i == 0 || !(ident(expr[i - 1]) || expr[i - 1] == '.'));
    if (!starts) {
      out += c, ++i;
      continue;
    }
    size_t j = i;
    bool floating = false;
    while (j < n && std::isdigit(static_cast<unsigned char>(expr[j]))) ++j;
    if (j < n && expr[j] == '.') {
      floating = true;
      ++j;
      while (j < n && std::isdigit(static_cast<unsigned char>(expr[j]))) ++j;
    }
    if (j < n && (expr[j] == 'e' || expr[j] == 'E')) {
      size_t k = j + 1;
      if (k < n && (expr[k] == '+' || expr[k] == '-')) ++k;
      if (k < n && std::isdigit(static_cast<unsigned char>(expr[k]))) {
        floating = true;
        j = k;
        while (j < n && std::isdigit(static_cast<unsigned char>(expr[j]))) ++j;
      }
    }
    out += expr.substr(i, j - i);
    if (floating && !(j < n && (ident(expr[j]) || expr[j] == '.'))) out += 'f';
    i = j;
  }
  return out;
}

} // namespace ember::kernels::cuda
