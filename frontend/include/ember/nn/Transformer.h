// MultiheadAttention, TransformerEncoderLayer/TransformerEncoder and
// TransformerDecoderLayer/TransformerDecoder with PyTorch's constructor
// arguments, parameter names (in_proj_weight, in_proj_bias, out_proj.*; q/k/v_proj_weight when
// kdim/vdim differ), initialisation, masks and layouts ([L, N, E], or [N, L, E] with
// batch_first; unbatched [L, E]). Written with ember ops, so autograd works through them.
#pragma once

#include "ember/nn/Layers.h"

#include <memory>
#include <string>
#include <utility>

namespace ember::nn {

// softmax(Q K^T / sqrt(head_dim) + mask) V over num_heads heads with input and output
// projections. Masks: attn_mask [L, S] or [N * num_heads, L, S], key_padding_mask [N, S]; a
// bool mask is true where attention is not allowed, a float mask is added to the scores.
class MultiheadAttention : public Module {
public:
  // kdim / vdim 0: embed_dim. add_bias_kv and add_zero_attn are not supported (ember::Error).
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout = 0, bool bias = true,
                     bool add_bias_kv = false, bool add_zero_attn = false, int64_t kdim = 0,
                     int64_t vdim = 0, bool batch_first = false);
  // Self-attention (query = key = value), the output alone.
  Tensor forward(const Tensor& x) override;
  // (output, attention weights [N, L, S] averaged over heads, or [N, heads, L, S]; undefined
  // unless need_weights).
  std::pair<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& key_padding_mask = Tensor(),
                                    bool need_weights = true, const Tensor& attn_mask = Tensor(),
                                    bool average_attn_weights = true, bool is_causal = false);
  int64_t embed_dim, num_heads, head_dim, kdim, vdim;
  double dropout;
  bool batch_first;
  Tensor in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias;
  std::shared_ptr<Linear> out_proj;
};

// Self-attention then a feed-forward block (activation "relu" or "gelu"), each with dropout, a
// residual and LayerNorm (after the residual, or before the block with norm_first).
class TransformerEncoderLayer : public Module {
public:
  TransformerEncoderLayer(int64_t d_model, int64_t nhead, int64_t dim_feedforward = 2048,
                          double dropout = 0.1, const std::string& activation = "relu",
                          double layer_norm_eps = 1e-5, bool batch_first = false,
                          bool norm_first = false, bool bias = true);
  Tensor forward(const Tensor& src) override;
  Tensor forward(const Tensor& src, const Tensor& src_mask,
                 const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false);
  // A new layer with the same arguments and a copy of this one's parameters.
  std::shared_ptr<TransformerEncoderLayer> clone() const;

  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1;
  std::shared_ptr<Dropout> dropout;
  std::shared_ptr<Linear> linear2;
  std::shared_ptr<LayerNorm> norm1, norm2;
  std::shared_ptr<Dropout> dropout1, dropout2;
  bool norm_first;
  std::string activation;

private:
  int64_t d_model_, nhead_, dim_feedforward_;
  double dropout_p_, eps_;
  bool batch_first_, bias_;
};

// num_layers copies of encoder_layer (each starting from its parameters, as PyTorch's deep
// copies do), then an optional norm.
class TransformerEncoder : public Module {
public:
  TransformerEncoder(const TransformerEncoderLayer& encoder_layer, int64_t num_layers,
                     std::shared_ptr<Module> norm = nullptr);
  Tensor forward(const Tensor& src) override;
  Tensor forward(const Tensor& src, const Tensor& mask,
                 const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false);
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<Module> norm;
  int64_t num_layers;
};

// Self-attention, attention over the encoder's memory, then a feed-forward block; each with
// dropout, a residual and LayerNorm (post-norm, or pre-norm with norm_first).
class TransformerDecoderLayer : public Module {
public:
  TransformerDecoderLayer(int64_t d_model, int64_t nhead, int64_t dim_feedforward = 2048,
                          double dropout = 0.1, const std::string& activation = "relu",
                          double layer_norm_eps = 1e-5, bool batch_first = false,
                          bool norm_first = false, bool bias = true);
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                 const Tensor& memory_mask = Tensor(),
                 const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor(), bool tgt_is_causal = false,
                 bool memory_is_causal = false);
  // A new layer with the same arguments and a copy of this one's parameters.
  std::shared_ptr<TransformerDecoderLayer> clone() const;

  std::shared_ptr<MultiheadAttention> self_attn, multihead_attn;
  std::shared_ptr<Linear> linear1;
  std::shared_ptr<Dropout> dropout;
  std::shared_ptr<Linear> linear2;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
  std::shared_ptr<Dropout> dropout1, dropout2, dropout3;
  bool norm_first;
  std::string activation;

private:
  int64_t d_model_, nhead_, dim_feedforward_;
  double dropout_p_, eps_;
  bool batch_first_, bias_;
};

// num_layers copies of decoder_layer, then an optional norm.
class TransformerDecoder : public Module {
public:
  TransformerDecoder(const TransformerDecoderLayer& decoder_layer, int64_t num_layers,
                     std::shared_ptr<Module> norm = nullptr);
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                 const Tensor& memory_mask = Tensor(),
                 const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor(), bool tgt_is_causal = false,
                 bool memory_is_causal = false);
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<Module> norm;
  int64_t num_layers;
};

} // namespace ember::nn
