// MultiheadAttention, the transformer encoder and decoder (ember/nn/Transformer.h), as
// frontend/python/ember/nn/modules/transformer.py.
#include "ember/nn/Transformer.h"

#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/ShapeOps.h"
#include "ember/nn/Init.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <limits>

namespace ember::nn {
namespace {

const char* kMHA = "ember::nn::MultiheadAttention";

// A bool mask (true: not allowed) as an additive float mask; a float mask as is.
Tensor float_mask(const Tensor& mask, DType dtype, const char* name) {
  if (!mask.defined()) return mask;
  if (mask.dtype() == DType::Bool)
    return where(mask, scalar(-std::numeric_limits<double>::infinity()),
                 zeros(mask.shape(), dtype, mask.device()));
  EMBER_CHECK(is_floating(mask.dtype()), Type, kMHA, "only bool and floating types of ", name,
              " are supported, got ", dtype_name(mask.dtype()));
  return mask.dtype() == dtype ? mask : cast(mask, dtype);
}

} // namespace

MultiheadAttention::MultiheadAttention(int64_t e, int64_t h, double p, bool with_bias,
                                       bool add_bias_kv, bool add_zero_attn, int64_t kd,
                                       int64_t vd, bool first)
    : embed_dim(e), num_heads(h), head_dim(h > 0 ? e / h : 0), kdim(kd > 0 ? kd : e),
      vdim(vd > 0 ? vd : e), dropout(p), batch_first(first) {
  EMBER_CHECK(e > 0 && h > 0, Value, kMHA, "embed_dim and num_heads must be greater than 0, got "
              "embed_dim=", e, " and num_heads=", h, " instead");
  EMBER_CHECK(head_dim * h == e, Value, kMHA, "embed_dim (", e,
              ") must be divisible by num_heads (", h, ")");
  EMBER_CHECK(!add_bias_kv && !add_zero_attn, NotImplemented, kMHA,
              "add_bias_kv and add_zero_attn are not supported yet");
  EMBER_CHECK(p >= 0 && p <= 1, Value, kMHA, "dropout must be in [0, 1], got ", p);
  if (kdim == e && vdim == e) {
    in_proj_weight = register_parameter("in_proj_weight", init::xavier_uniform_(empty({3 * e, e})));
  } else {
    q_proj_weight = register_parameter("q_proj_weight", init::xavier_uniform_(empty({e, e})));
    k_proj_weight = register_parameter("k_proj_weight", init::xavier_uniform_(empty({e, kdim})));
    v_proj_weight = register_parameter("v_proj_weight", init::xavier_uniform_(empty({e, vdim})));
  }
  if (with_bias) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * e}));
  out_proj = register_module("out_proj", std::make_shared<Linear>(e, e, with_bias));
  if (with_bias) init::zeros_(out_proj->bias);
}

Tensor MultiheadAttention::forward(const Tensor& x) { return forward(x, x, x, {}, false).first; }

std::pair<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query_, const Tensor& key_,
                                                      const Tensor& value_,
                                                      const Tensor& key_padding_mask,
                                                      bool need_weights,
                                                      const Tensor& attn_mask_,
                                                      bool average_attn_weights,
                                                      bool is_causal) {
  EMBER_CHECK(query_.dim() == 2 || query_.dim() == 3, Value, kMHA,
              "query should be unbatched 2D or batched 3D tensor but received ", query_.dim(),
              "-D query tensor");
  const bool batched = query_.dim() == 3;
  EMBER_CHECK(key_.dim() == query_.dim() && value_.dim() == query_.dim(), Value, kMHA,
              "query, key and value must have the same number of dimensions, got shapes ",
              shape_str(query_.shape()), ", ", shape_str(key_.shape()), ", ",
              shape_str(value_.shape()));
  Tensor query = query_, key = key_, value = value_, kpm_in = key_padding_mask;
  if (batched && batch_first) {
    query = transpose(query, 0, 1);
    key = transpose(key, 0, 1);
    value = transpose(value, 0, 1);
  }
  if (!batched) {
    query = unsqueeze(query, 1);
    key = unsqueeze(key, 1);
    value = unsqueeze(value, 1);
    if (kpm_in.defined()) kpm_in = unsqueeze(kpm_in, 0);
  }
  const int64_t L = query.shape()[0], N = query.shape()[1], E = query.shape()[2];
  const int64_t S = key.shape()[0], H = num_heads, hd = head_dim;
  EMBER_CHECK(E == embed_dim, Value, kMHA, "was expecting embedding dimension of ", embed_dim,
              ", but got ", E, " (query shape ", shape_str(query_.shape()), ")");
  EMBER_CHECK(key.shape()[1] == N && value.shape()[1] == N && value.shape()[0] == S &&
                  key.shape()[2] == kdim && value.shape()[2] == vdim,
              Value, kMHA, "key shape ", shape_str(key_.shape()), " and value shape ",
              shape_str(value_.shape()), " must match the query's batch (", N,
              "), each other's length and kdim=", kdim, " / vdim=", vdim);
  Tensor bq, bk, bv, wq, wk, wv;
  if (in_proj_bias.defined()) {
    bq = narrow(in_proj_bias, 0, 0, E);
    bk = narrow(in_proj_bias, 0, E, E);
    bv = narrow(in_proj_bias, 0, 2 * E, E);
  }
  if (in_proj_weight.defined()) {
    wq = narrow(in_proj_weight, 0, 0, E);
    wk = narrow(in_proj_weight, 0, E, E);
    wv = narrow(in_proj_weight, 0, 2 * E, E);
  } else {
    wq = q_proj_weight;
    wk = k_proj_weight;
    wv = v_proj_weight;
  }
  Tensor q = functional::linear(query, wq, bq), k = functional::linear(key, wk, bk),
         v = functional::linear(value, wv, bv);
  q = transpose(reshape(q, {L, N * H, hd}), 0, 1);
  k = transpose(reshape(k, {S, N * H, hd}), 0, 1);
  v = transpose(reshape(v, {S, N * H, hd}), 0, 1);

  Tensor attn_mask = attn_mask_;
  if (is_causal && !attn_mask.defined())
    attn_mask = triu(ones({L, S}, DType::Bool, query.device()), 1);
  Tensor mask = float_mask(attn_mask, q.dtype(), "attn_mask");
  if (mask.defined()) {
    if (mask.dim() == 2) {
      EMBER_CHECK(mask.shape() == Shape({L, S}), Value, kMHA, "The shape of the 2D attn_mask is ",
                  shape_str(mask.shape()), ", but should be ", shape_str({L, S}), ".");
      mask = unsqueeze(mask, 0);
    } else {
      EMBER_CHECK(mask.dim() == 3, Value, kMHA, "attn_mask's dimension ", mask.dim(),
                  " is not supported (2D [L, S] or 3D [N * num_heads, L, S])");
      EMBER_CHECK(mask.shape() == Shape({N * H, L, S}), Value, kMHA,
                  "The shape of the 3D attn_mask is ", shape_str(mask.shape()),
                  ", but should be ", shape_str({N * H, L, S}), ".");
    }
  }
  Tensor kpm = float_mask(kpm_in, q.dtype(), "key_padding_mask");
  if (kpm.defined()) {
    EMBER_CHECK(kpm.shape() == Shape({N, S}), Value, kMHA, "expecting key_padding_mask shape of ",
                shape_str({N, S}), ", but got ", shape_str(kpm.shape()));
    kpm = reshape(expand(reshape(kpm, {N, 1, 1, S}), {N, H, 1, S}), {N * H, 1, S});
    mask = mask.defined() ? add(mask, kpm) : kpm;
  }
  Tensor scores = bmm(mul(q, scalar(1.0 / std::sqrt(double(hd)))), transpose(k, 1, 2));
  if (mask.defined()) scores = add(scores, mask);
  Tensor weights = softmax(scores, -1);
  if (is_training() && dropout > 0) weights = functional::dropout(weights, dropout, true);
  Tensor out = reshape(transpose(bmm(weights, v), 0, 1), {L * N, E});
  out = reshape(functional::linear(out, out_proj->weight, out_proj->bias), {L, N, E});
  if (batched && batch_first) out = transpose(out, 0, 1);
  if (!batched) out = squeeze(out, 1);
  if (!need_weights) return {out, Tensor()};
  weights = reshape(weights, {N, H, L, S});
  if (average_attn_weights) weights = mean(weights, {1});
  if (!batched) weights = squeeze(weights, 0);
  return {out, weights};
}

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d_model, int64_t nhead, int64_t ff,
                                                 double p, const std::string& act, double eps,
                                                 bool first, bool norm_first_, bool with_bias)
    : norm_first(norm_first_), activation(act), d_model_(d_model), nhead_(nhead),
      dim_feedforward_(ff), dropout_p_(p), eps_(eps), batch_first_(first), bias_(with_bias) {
  EMBER_CHECK(act == "relu" || act == "gelu", Value, "ember::nn::TransformerEncoderLayer",
              "activation should be relu/gelu, not ", act);
  self_attn = register_module("self_attn", std::make_shared<MultiheadAttention>(
                                               d_model, nhead, p, with_bias, false, false, 0, 0,
                                               first));
  linear1 = register_module("linear1", std::make_shared<Linear>(d_model, ff, with_bias));
  dropout = register_module("dropout", std::make_shared<Dropout>(p));
  linear2 = register_module("linear2", std::make_shared<Linear>(ff, d_model, with_bias));
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(Shape{d_model}, eps, true, with_bias));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(Shape{d_model}, eps, true, with_bias));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(p));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(p));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src) { return forward(src, Tensor()); }

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask, bool is_causal) {
  auto sa = [&](const Tensor& x) {
    return (*dropout1)(
        self_attn->forward(x, x, x, src_key_padding_mask, false, src_mask, true, is_causal).first);
  };
  auto ff = [&](const Tensor& x) {
    Tensor h = (*linear1)(x);
    h = activation == "gelu" ? functional::gelu(h) : relu(h);
    return (*dropout2)((*linear2)((*dropout)(h)));
  };
  Tensor x = src;
  if (norm_first) {
    x = add(x, sa((*norm1)(x)));
    x = add(x, ff((*norm2)(x)));
  } else {
    x = (*norm1)(add(x, sa(x)));
    x = (*norm2)(add(x, ff(x)));
  }
  return x;
}

std::shared_ptr<TransformerEncoderLayer> TransformerEncoderLayer::clone() const {
  auto copy = std::make_shared<TransformerEncoderLayer>(d_model_, nhead_, dim_feedforward_,
                                                        dropout_p_, activation, eps_,
                                                        batch_first_, norm_first, bias_);
  copy->load_state_dict(state_dict());
  copy->train(is_training());
  return copy;
}

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayer& layer, int64_t n,
                                       std::shared_ptr<Module> norm_)
    : num_layers(n) {
  EMBER_CHECK(n >= 1, Value, "ember::nn::TransformerEncoder",
              "num_layers must be at least 1, got ", n);
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < n; ++i) layers->push_back(layer.clone());
  if (norm_) norm = register_module("norm", std::move(norm_));
}

Tensor TransformerEncoder::forward(const Tensor& src) { return forward(src, Tensor()); }

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask,
                                   const Tensor& src_key_padding_mask, bool is_causal) {
  Tensor out = src;
  for (const auto& m : *layers)
    out = static_cast<TransformerEncoderLayer&>(*m).forward(out, mask, src_key_padding_mask,
                                                            is_causal);
  return norm ? (*norm)(out) : out;
}

TransformerDecoderLayer::TransformerDecoderLayer(int64_t d_model, int64_t nhead, int64_t ff,
                                                 double p, const std::string& act, double eps,
                                                 bool first, bool norm_first_, bool with_bias)
    : norm_first(norm_first_), activation(act), d_model_(d_model), nhead_(nhead),
      dim_feedforward_(ff), dropout_p_(p), eps_(eps), batch_first_(first), bias_(with_bias) {
  EMBER_CHECK(act == "relu" || act == "gelu", Value, "ember::nn::TransformerDecoderLayer",
              "activation should be relu/gelu, not ", act);
  auto attn = [&] {
    return std::make_shared<MultiheadAttention>(d_model, nhead, p, with_bias, false, false, 0, 0,
                                                first);
  };
  auto norm = [&] { return std::make_shared<LayerNorm>(Shape{d_model}, eps, true, with_bias); };
  self_attn = register_module("self_attn", attn());
  multihead_attn = register_module("multihead_attn", attn());
  linear1 = register_module("linear1", std::make_shared<Linear>(d_model, ff, with_bias));
  dropout = register_module("dropout", std::make_shared<Dropout>(p));
  linear2 = register_module("linear2", std::make_shared<Linear>(ff, d_model, with_bias));
  norm1 = register_module("norm1", norm());
  norm2 = register_module("norm2", norm());
  norm3 = register_module("norm3", norm());
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(p));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(p));
  dropout3 = register_module("dropout3", std::make_shared<Dropout>(p));
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory,
                                        const Tensor& tgt_mask, const Tensor& memory_mask,
                                        const Tensor& tgt_kpm, const Tensor& memory_kpm,
                                        bool tgt_is_causal, bool memory_is_causal) {
  auto sa = [&](const Tensor& x) {
    return (*dropout1)(
        self_attn->forward(x, x, x, tgt_kpm, false, tgt_mask, true, tgt_is_causal).first);
  };
  auto mha = [&](const Tensor& x) {
    return (*dropout2)(multihead_attn
                           ->forward(x, memory, memory, memory_kpm, false, memory_mask, true,
                                     memory_is_causal)
                           .first);
  };
  auto ff = [&](const Tensor& x) {
    Tensor h = (*linear1)(x);
    h = activation == "gelu" ? functional::gelu(h) : relu(h);
    return (*dropout3)((*linear2)((*dropout)(h)));
  };
  Tensor x = tgt;
  if (norm_first) {
    x = add(x, sa((*norm1)(x)));
    x = add(x, mha((*norm2)(x)));
    x = add(x, ff((*norm3)(x)));
  } else {
    x = (*norm1)(add(x, sa(x)));
    x = (*norm2)(add(x, mha(x)));
    x = (*norm3)(add(x, ff(x)));
  }
  return x;
}

std::shared_ptr<TransformerDecoderLayer> TransformerDecoderLayer::clone() const {
  auto copy = std::make_shared<TransformerDecoderLayer>(d_model_, nhead_, dim_feedforward_,
                                                        dropout_p_, activation, eps_,
                                                        batch_first_, norm_first, bias_);
  copy->load_state_dict(state_dict());
  copy->train(is_training());
  return copy;
}

TransformerDecoder::TransformerDecoder(const TransformerDecoderLayer& layer, int64_t n,
                                       std::shared_ptr<Module> norm_)
    : num_layers(n) {
  EMBER_CHECK(n >= 1, Value, "ember::nn::TransformerDecoder",
              "num_layers must be at least 1, got ", n);
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < n; ++i) layers->push_back(layer.clone());
  if (norm_) norm = register_module("norm", std::move(norm_));
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory,
                                   const Tensor& tgt_mask, const Tensor& memory_mask,
                                   const Tensor& tgt_kpm, const Tensor& memory_kpm,
                                   bool tgt_is_causal, bool memory_is_causal) {
  Tensor out = tgt;
  for (const auto& m : *layers)
    out = static_cast<TransformerDecoderLayer&>(*m).forward(
        out, memory, tgt_mask, memory_mask, tgt_kpm, memory_kpm, tgt_is_causal,
        memory_is_causal);
  return norm ? (*norm)(out) : out;
}

} // namespace ember::nn
