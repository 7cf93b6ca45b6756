// Recurrent layers: RNN (tanh / relu), LSTM and GRU with PyTorch's constructor arguments, gate
// order (LSTM: i, f, g, o; GRU: r, z, n), parameter names (weight_ih_l0, weight_hh_l0,
// bias_ih_l0, bias_hh_l0, ..._reverse), initialisation (U(+-1/sqrt(hidden_size))) and layouts:
// input [L, N, input_size] ([N, L, input_size] with batch_first; unbatched [L, input_size]),
// states [num_layers * num_directions, N, hidden_size] (unbatched: without N). Written with
// ember ops (one input projection per layer and direction, one small matmul per step), so
// autograd works through them.
#pragma once

#include "ember/nn/Module.h"

#include <string>
#include <tuple>
#include <utility>

namespace ember::nn {

class RNNBase : public Module {
public:
  // The output sequence alone (zero initial states).
  Tensor forward(const Tensor& input) override;
  int64_t input_size, hidden_size, num_layers;
  bool bias, batch_first;
  double dropout; // between layers, in training mode
  bool bidirectional;

protected:
  enum class Mode { Tanh, Relu, LSTM, GRU };
  RNNBase(Mode mode, int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias,
          bool batch_first, double dropout, bool bidirectional);
  // (output, h_n, c_n; c_n undefined unless LSTM), h0 / c0 undefined for zeros.
  std::tuple<Tensor, Tensor, Tensor> run(const Tensor& input, const Tensor& h0,
                                         const Tensor& c0);
  Mode mode_;

private:
  std::vector<std::vector<Tensor>> weights_; // per layer * direction: w_ih, w_hh[, b_ih, b_hh]
};

// Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).
class RNN : public RNNBase {
public:
  RNN(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1,
      const std::string& nonlinearity = "tanh", bool bias = true, bool batch_first = false,
      double dropout = 0, bool bidirectional = false);
  using RNNBase::forward;
  // (output, h_n); hx undefined: zeros.
  std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& hx);
  std::string nonlinearity;
};

class LSTM : public RNNBase {
public:
  LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true,
       bool batch_first = false, double dropout = 0, bool bidirectional = false);
  using RNNBase::forward;
  // (output, (h_n, c_n)); h0 and c0 undefined: zeros (both or neither, as in PyTorch).
  std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(const Tensor& input, const Tensor& h0,
                                                         const Tensor& c0);
};

class GRU : public RNNBase {
public:
  GRU(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true,
      bool batch_first = false, double dropout = 0, bool bidirectional = false);
  using RNNBase::forward;
  // (output, h_n); hx undefined: zeros.
  std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& hx);
};

} // namespace ember::nn
