#include "ember/LinalgOps.h"

#include "TraceState.h"
#include "ember/Autocast.h"
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

namespace ember {
namespace {

Tensor scaled(const Tensor& t, double s) { return s == 1 ? t : mul(t, scalar(s)); }

Tensor add_scaled(const Tensor& input, const Tensor& product, double beta, double alpha,
                  const char* op) {
  EMBER_CHECK(broadcast_shapes(input.shape(), product.shape(), op) == product.shape(), Value, op,
              "input of shape ", shape_str(input.shape()), " does not broadcast to the product's ",
              "shape ", shape_str(product.shape()));
  if (beta == 0) { // PyTorch ignores input's values (NaNs too) but gives it a zero gradient
    Tensor p = scaled(product, alpha);
    if (!input.requires_grad()) return p;
    return where(wrapped_scalar(1, DType::Bool), p, expand(input, product.shape()));
  }
  return add(scaled(expand(input, product.shape()), beta), scaled(product, alpha));
}

} // namespace

Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, double beta,
             double alpha) {
  if (autocast::Scope s{autocast::Op::AddMM, {input, mat1, mat2}})
    return addmm(s[0], s[1], s[2], beta, alpha);
  EMBER_CHECK(mat1.dim() == 2 && mat2.dim() == 2, Runtime, "ember.addmm", "mat1 and mat2 must be "
              "matrices, got shapes ", shape_str(mat1.shape()), " and ", shape_str(mat2.shape()));
  return add_scaled(input, mm(mat1, mat2), beta, alpha, "ember.addmm");
}

Tensor baddbmm(const Tensor& input, const Tensor& batch1, const Tensor& batch2, double beta,
               double alpha) {
  if (autocast::Scope s{autocast::Op::BAddBMM, {input, batch1, batch2}})
    return baddbmm(s[0], s[1], s[2], beta, alpha);
  return add_scaled(input, bmm(batch1, batch2), beta, alpha, "ember.baddbmm");
}

Tensor vdot(const Tensor& a, const Tensor& b) {
  if (autocast::Scope s{autocast::Op::VDot, {a, b}}) return vdot(s[0], s[1]);
  EMBER_CHECK(a.dim() == 1 && b.dim() == 1, Runtime, "ember.vdot", "1D tensors expected, but got ",
              a.dim(), "D and ", b.dim(), "D tensors");
  return dot(a, b);
}

Tensor tensordot(const Tensor& a, const Tensor& b, const Shape& dims_a, const Shape& dims_b) {
  if (autocast::Scope s{autocast::Op::TensorDot, {a, b}}) return tensordot(s[0], s[1], dims_a, dims_b);
  const char* op = "ember.tensordot";
  EMBER_CHECK(dims_a.size() == dims_b.size(), Runtime, op, "both dimension lists should have the "
              "same length, got ", dims_a.size(), " and ", dims_b.size());
  std::vector<bool> ca(a.dim(), false), cb(b.dim(), false);
  Shape pa, pb, out;
  int64_t k = 1;
  for (size_t i = 0; i < dims_a.size(); ++i) {
    int64_t da = dims_a[i] < 0 ? dims_a[i] + a.dim() : dims_a[i];
    int64_t db = dims_b[i] < 0 ? dims_b[i] + b.dim() : dims_b[i];
    EMBER_CHECK(da >= 0 && da < a.dim() && db >= 0 && db < b.dim(), Index, op, "dimension out of "
                "range: ", dims_a[i], " for a tensor of rank ", a.dim(), " / ", dims_b[i],
                " for rank ", b.dim());
    EMBER_CHECK(a.shape()[da] == b.shape()[db], Runtime, op, "contracted dimensions need to match, "
                "but first has size ", a.shape()[da], " in dim ", da, " and second has size ",
                b.shape()[db], " in dim ", db);
    ca[da] = cb[db] = true;
    k *= a.shape()[da];
  }
  int64_t m = 1, n = 1;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (!ca[d]) pa.push_back(d), out.push_back(a.shape()[d]), m *= a.shape()[d];
  for (int64_t d : dims_a) pa.push_back(d < 0 ? d + a.dim() : d);
  for (int64_t d : dims_b) pb.push_back(d < 0 ? d + b.dim() : d);
  for (int64_t d = 0; d < b.dim(); ++d)
    if (!cb[d]) pb.push_back(d), out.push_back(b.shape()[d]), n *= b.shape()[d];
  Tensor r = mm(reshape(permute(a, pa), {m, k}), reshape(permute(b, pb), {k, n}));
  return reshape(r, out);
}

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  if (autocast::Scope s{autocast::Op::Einsum, operands}) return einsum(equation, s.inputs());
  const char* op = "ember.einsum";
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  const auto arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  EMBER_CHECK(terms.size() == operands.size(), Value, op, "the equation '", equation, "' has ",
              terms.size(), " operand(s) but ", operands.size(), " tensor(s) were given");
  // Labels per operand; "..." becomes upper-case-free private labels '0', '1', ... for the
  // leading dims it covers (aligned from the right across operands, like broadcasting).
  int64_t ell_rank = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    const auto dots = terms[i].find("...");
    const int64_t named = int64_t(terms[i].size()) - (dots == std::string::npos ? 0 : 3);
    if (dots != std::string::npos) ell_rank = std::max(ell_rank, operands[i].dim() - named);
    else EMBER_CHECK(named == operands[i].dim(), Runtime, op, "operand ", i, " has ",
                     operands[i].dim(), " dimensions but the subscripts '", terms[i], "' name ",
                     named);
  }
  auto expand_ellipsis = [&](const std::string& t, int64_t rank) {
    const auto dots = t.find("...");
    if (dots == std::string::npos) return t;
    std::string e;
    for (int64_t j = ell_rank - rank; j < ell_rank; ++j) e += char('0' + j);
    return t.substr(0, dots) + e + t.substr(dots + 3);
  };
  std::vector<std::string> labels;
  std::map<char, int64_t> size, count;
  for (size_t i = 0; i < terms.size(); ++i) {
    const auto dots = terms[i].find("...");
    const int64_t rank = dots == std::string::npos ? 0 : operands[i].dim() - int64_t(terms[i].size() - 3);
    std::string l = expand_ellipsis(terms[i], rank);
    EMBER_CHECK(int64_t(l.size()) == operands[i].dim(), Runtime, op, "operand ", i, " has ",
                operands[i].dim(), " dimensions but the subscripts '", terms[i], "' name ", l.size());
    for (size_t d = 0; d < l.size(); ++d) {
      const char c = l[d];
      EMBER_CHECK(std::isalpha(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)),
                  Value, op, "invalid subscript '", c, "' in '", equation, "': use letters");
      EMBER_CHECK(std::count(l.begin(), l.end(), c) == 1, NotImplemented, op, "the subscript '", c,
                  "' repeats within operand ", i, " ('", terms[i], "'): diagonals are not supported");
      const int64_t s = operands[i].shape()[d];
      auto it = size.find(c);
      if (it == size.end() || it->second == 1) size[c] = s;
      else EMBER_CHECK(s == it->second || s == 1, Runtime, op, "subscript '", c, "' has size ", s,
                       " for operand ", i, " which does not broadcast with previously seen size ",
                       it->second);
      ++count[c];
    }
    labels.push_back(l);
  }
  std::string out;
  if (arrow != std::string::npos) {
    out = expand_ellipsis(eq.substr(arrow + 2), ell_rank);
    for (char c : out)
      EMBER_CHECK(size.count(c), Value, op, "output subscript '", c, "' does not appear in an operand");
  } else { // implicit: the ellipsis dims, then labels seen once, in alphabetical order
    for (int64_t j = 0; j < ell_rank; ++j) out += char('0' + j);
    for (auto& [c, n] : count)
      if (n == 1 && !std::isdigit(static_cast<unsigned char>(c))) out += c;
  }
  // Expand size-1 (broadcast) dims, then contract operands left to right.
  std::vector<Tensor> ts;
  for (size_t i = 0; i < operands.size(); ++i) {
    Shape s;
    for (char c : labels[i]) s.push_back(size[c]);
    ts.push_back(s == operands[i].shape() ? operands[i] : expand(operands[i], s));
  }
  // Labels still needed after position i: the output's and later operands'.
  auto needed_after = [&](size_t i, char c) {
    if (out.find(c) != std::string::npos) return true;
    for (size_t j = i + 1; j < labels.size(); ++j)
      if (labels[j].find(c) != std::string::npos) return true;
    return false;
  };
  // Sums out labels that only this operand has and nothing later needs.
  auto reduce_private = [&](Tensor t, std::string& l, size_t i, const std::string& other) {
    Shape dims;
    std::string kept;
    for (size_t d = 0; d < l.size(); ++d) {
      if (!needed_after(i, l[d]) && other.find(l[d]) == std::string::npos) dims.push_back(int64_t(d));
      else kept += l[d];
    }
    if (!dims.empty()) t = sum(t, dims);
    l = kept;
    return t;
  };
  Tensor acc = ts[0];
  std::string al = labels[0];
  acc = reduce_private(acc, al, 0, labels.size() > 1 ? labels[1] : "");
  for (size_t i = 1; i < ts.size(); ++i) {
    std::string bl = labels[i];
    Tensor b = reduce_private(ts[i], bl, i, al);
    std::string batch, left, right, contract;
    for (char c : al) {
      if (bl.find(c) != std::string::npos) (needed_after(i, c) ? batch : contract) += c;
      else left += c;
    }
    for (char c : bl)
      if (al.find(c) == std::string::npos) right += c;
    auto perm_of = [](const std::string& from, const std::string& order) {
      Shape p;
      for (char c : order) p.push_back(int64_t(from.find(c)));
      return p;
    };
    auto prod = [&](const std::string& ls) {
      int64_t p = 1;
      for (char c : ls) p *= size[c];
      return p;
    };
    const int64_t B = prod(batch), M = prod(left), K = prod(contract), N = prod(right);
    Tensor x = reshape(permute(acc, perm_of(al, batch + left + contract)), {B, M, K});
    Tensor y = reshape(permute(b, perm_of(bl, batch + contract + right)), {B, K, N});
    Shape rs;
    for (char c : batch + left + right) rs.push_back(size[c]);
    acc = reshape(bmm(x, y), rs);
    al = batch + left + right;
  }
  Shape perm;
  for (char c : out) {
    const auto at = al.find(c);
    EMBER_CHECK(at != std::string::npos, Runtime, op, "internal: label '", c, "' was lost");
    perm.push_back(int64_t(at));
  }
  EMBER_CHECK(al.size() == out.size(), Runtime, op, "internal: labels '", al, "' vs output '", out, "'");
  return permute(acc, perm);
}

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement) {
  const char* op = "ember.multinomial";
  EMBER_CHECK(!detail::tracing(), NotImplemented, op, "inside a compiled function does not compile "
              "yet (it reads the probabilities' values); draw the samples outside it and pass them in");
  EMBER_CHECK(probs.dim() == 1 || probs.dim() == 2, Runtime, op, "prob_dist must be 1 or 2 dim, "
              "got shape ", shape_str(probs.shape()));
  EMBER_CHECK(is_floating(probs.dtype()), Runtime, op, "multinomial only supports floating-point "
              "dtypes for input, got ", dtype_name(probs.dtype()));
  const int64_t rows = probs.dim() == 2 ? probs.shape()[0] : 1, cats = probs.shape().back();
  EMBER_CHECK(num_samples > 0, Runtime, op, "cannot sample n_sample <= 0 samples");
  EMBER_CHECK(replacement || num_samples <= cats, Runtime, op, "cannot sample n_sample > "
              "prob_dist.size(-1) samples without replacement (", num_samples, " > ", cats, ")");
  std::vector<float> p;
  {
    GradModeGuard no_grad(false);
    p = probs.to_vector();
  }
  Tensor u = rand({rows, num_samples}, DType::Float64);
  const double* uv = u.data<double>();
  Tensor out = empty({rows, num_samples}, DType::Int64);
  int64_t* o = out.data<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> w(p.begin() + r * cats, p.begin() + (r + 1) * cats);
    double total = 0;
    for (double x : w) {
      EMBER_CHECK(x >= 0 && x == x && x != INFINITY, Runtime, op, "probability tensor contains "
                  "either `inf`, `nan` or element < 0");
      total += x;
    }
    EMBER_CHECK(total > 0, Runtime, op, "invalid multinomial distribution (sum of probabilities "
                "<= 0) in row ", r);
    for (int64_t s = 0; s < num_samples; ++s) {
      double target = uv[r * num_samples + s] * total, run = 0;
      int64_t pick = cats - 1;
      for (int64_t c = 0; c < cats; ++c) {
        run += w[c];
        if (w[c] > 0 && target < run) {
          pick = c;
          break;
        }
      }
      while (w[pick] <= 0 && pick > 0) --pick; // rounding at the top end
      o[r * num_samples + s] = pick;
      if (!replacement) {
        total -= w[pick];
        w[pick] = 0;
        if (s + 1 < num_samples)
          EMBER_CHECK(total > 0, Runtime, op, "invalid multinomial distribution: row ", r, " has "
                      "fewer than ", num_samples, " categories with non-zero probability");
      }
    }
  }
  Tensor res = probs.dim() == 1 ? reshape(out, {num_samples}) : out;
  return res.to(probs.device());
}

} // namespace ember
