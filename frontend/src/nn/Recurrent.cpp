// RNN, LSTM and GRU (ember/nn/Recurrent.h), as frontend/python/ember/nn/modules/rnn.py.
#include "ember/nn/Recurrent.h"

#include "ember/Creation.h"
#include "ember/Functional.h"
#include "ember/Ops.h"
#include "ember/nn/Init.h"
#include "ember/runtime/Error.h"

#include <cmath>

namespace ember::nn {
namespace {

int64_t gates(int m) { return m == 2 ? 4 : m == 3 ? 3 : 1; } // Mode: Tanh, Relu, LSTM, GRU

const char* mode_name(int m) {
  static const char* names[] = {"RNN", "RNN", "LSTM", "GRU"};
  return names[m];
}

} // namespace

RNNBase::RNNBase(Mode mode, int64_t in, int64_t hidden, int64_t layers, bool with_bias,
                 bool first, double p, bool bidir)
    : input_size(in), hidden_size(hidden), num_layers(layers), bias(with_bias),
      batch_first(first), dropout(p), bidirectional(bidir), mode_(mode) {
  const std::string op = std::string("ember::nn::") + mode_name(int(mode));
  EMBER_CHECK(in > 0 && hidden > 0, Value, op, "input_size and hidden_size must be positive, "
              "got ", in, " and ", hidden);
  EMBER_CHECK(layers >= 1, Value, op, "num_layers must be greater than or equal to 1, got ",
              layers);
  EMBER_CHECK(p >= 0 && p <= 1, Value, op, "dropout should be a number in range [0, 1] "
              "representing the probability of an element being zeroed, got ", p);
  const int64_t dirs = bidir ? 2 : 1, gate = gates(int(mode)) * hidden;
  const double stdv = 1.0 / std::sqrt(double(hidden));
  auto param = [&](const std::string& name, const Shape& shape) {
    Tensor t = empty(shape);
    init::uniform_(t, -stdv, stdv);
    return register_parameter(name, t);
  };
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t d = 0; d < dirs; ++d) {
      const int64_t layer_in = l == 0 ? in : hidden * dirs;
      const std::string sfx = std::to_string(l) + (d == 1 ? "_reverse" : "");
      std::vector<Tensor> w{param("weight_ih_l" + sfx, {gate, layer_in}),
                            param("weight_hh_l" + sfx, {gate, hidden})};
      if (with_bias) {
        w.push_back(param("bias_ih_l" + sfx, {gate}));
        w.push_back(param("bias_hh_l" + sfx, {gate}));
      }
      weights_.push_back(std::move(w));
    }
}

std::tuple<Tensor, Tensor, Tensor> RNNBase::run(const Tensor& input_, const Tensor& h0_,
                                                const Tensor& c0_) {
  const std::string op = std::string("ember::nn::") + mode_name(int(mode_));
  EMBER_CHECK(input_.dim() == 2 || input_.dim() == 3, Value, op,
              "Expected input to be 2D or 3D, got ", input_.dim(), "D instead (shape ",
              shape_str(input_.shape()), ")");
  EMBER_CHECK(input_.shape().back() == input_size, Value, op,
              "input.size(-1) must be equal to input_size. Expected ", input_size, ", got ",
              input_.shape().back(), " (input shape ", shape_str(input_.shape()), ")");
  const bool batched = input_.dim() == 3, lstm = mode_ == Mode::LSTM;
  Tensor input = input_, h0 = h0_, c0 = c0_;
  if (!batched) {
    input = unsqueeze(input, 1);
    if (h0.defined()) h0 = unsqueeze(h0, 1);
    if (c0.defined()) c0 = unsqueeze(c0, 1);
  } else if (batch_first) {
    input = transpose(input, 0, 1);
  }
  const int64_t dirs = bidirectional ? 2 : 1, L = input.shape()[0], N = input.shape()[1],
                H = hidden_size;
  const Shape expected{num_layers * dirs, N, H};
  for (auto [name, t] : {std::pair{"hidden", &h0}, std::pair{"cell", &c0}}) {
    if (!t->defined()) continue;
    EMBER_CHECK(t->shape() == expected, Value, op, "Expected ", name, " size ",
                shape_str(batched ? expected : Shape{expected[0], H}), ", got ",
                shape_str(batched ? t->shape() : Shape{t->shape()[0], t->shape()[2]}));
  }
  if (!h0.defined()) h0 = zeros(expected, input.dtype(), input.device());
  if (lstm && !c0.defined()) c0 = zeros(expected, input.dtype(), input.device());

  std::vector<Tensor> h_n, c_n;
  Tensor layer_in = input;
  for (int64_t l = 0; l < num_layers; ++l) {
    std::vector<Tensor> outs;
    for (int64_t d = 0; d < dirs; ++d) {
      const std::vector<Tensor>& w = weights_[size_t(l * dirs + d)];
      const Tensor b_ih = bias ? w[2] : Tensor(), b_hh = bias ? w[3] : Tensor();
      const Tensor proj = functional::linear(layer_in, w[0], b_ih); // [L, N, G]: all steps
      Tensor h = select(h0, 0, l * dirs + d), c = lstm ? select(c0, 0, l * dirs + d) : Tensor();
      std::vector<Tensor> steps(static_cast<size_t>(L));
      for (int64_t s = 0; s < L; ++s) {
        const int64_t t = d == 1 ? L - 1 - s : s;
        const Tensor x = select(proj, 0, t);
        const Tensor gh = functional::linear(h, w[1], b_hh);
        switch (mode_) {
        case Mode::Tanh: h = tanh(add(x, gh)); break;
        case Mode::Relu: h = relu(add(x, gh)); break;
        case Mode::LSTM: {
          const Tensor g = add(x, gh);
          const Tensor i = sigmoid(narrow(g, -1, 0, H)), f = sigmoid(narrow(g, -1, H, H));
          const Tensor gg = tanh(narrow(g, -1, 2 * H, H)), o = sigmoid(narrow(g, -1, 3 * H, H));
          c = add(mul(f, c), mul(i, gg));
          h = mul(o, tanh(c));
          break;
        }
        case Mode::GRU: {
          const Tensor r = sigmoid(add(narrow(x, -1, 0, H), narrow(gh, -1, 0, H)));
          const Tensor z = sigmoid(add(narrow(x, -1, H, H), narrow(gh, -1, H, H)));
          const Tensor n = tanh(add(narrow(x, -1, 2 * H, H), mul(r, narrow(gh, -1, 2 * H, H))));
          h = add(mul(sub(scalar(1), z), n), mul(z, h));
          break;
        }
        }
        steps[size_t(t)] = h;
      }
      outs.push_back(L > 0 ? stack(steps, 0) : zeros({0, N, H}, input.dtype(), input.device()));
      h_n.push_back(h);
      if (lstm) c_n.push_back(c);
    }
    layer_in = dirs == 1 ? outs[0] : cat(outs, 2);
    if (dropout > 0 && is_training() && l < num_layers - 1)
      layer_in = functional::dropout(layer_in, dropout, true);
  }
  Tensor out = layer_in, hn = stack(h_n, 0), cn = lstm ? stack(c_n, 0) : Tensor();
  if (!batched) {
    out = squeeze(out, 1);
    hn = squeeze(hn, 1);
    if (lstm) cn = squeeze(cn, 1);
  } else if (batch_first) {
    out = transpose(out, 0, 1);
  }
  return {out, hn, cn};
}

Tensor RNNBase::forward(const Tensor& input) { return std::get<0>(run(input, Tensor(), Tensor())); }

RNN::RNN(int64_t in, int64_t hidden, int64_t layers, const std::string& nl, bool with_bias,
         bool first, double p, bool bidir)
    : RNNBase(nl == "relu" ? Mode::Relu : Mode::Tanh, in, hidden, layers, with_bias, first, p,
              bidir),
      nonlinearity(nl) {
  EMBER_CHECK(nl == "tanh" || nl == "relu", Value, "ember::nn::RNN", "Unknown nonlinearity '",
              nl, "'. Select from 'tanh' or 'relu'.");
}
std::tuple<Tensor, Tensor> RNN::forward(const Tensor& input, const Tensor& hx) {
  auto [out, h, c] = run(input, hx, Tensor());
  return {out, h};
}

LSTM::LSTM(int64_t in, int64_t hidden, int64_t layers, bool with_bias, bool first, double p,
           bool bidir)
    : RNNBase(Mode::LSTM, in, hidden, layers, with_bias, first, p, bidir) {}
std::tuple<Tensor, std::tuple<Tensor, Tensor>> LSTM::forward(const Tensor& input,
                                                             const Tensor& h0, const Tensor& c0) {
  EMBER_CHECK(h0.defined() == c0.defined(), Value, "ember::nn::LSTM",
              "give both initial states (h_0, c_0) or neither");
  auto [out, h, c] = run(input, h0, c0);
  return {out, {h, c}};
}

GRU::GRU(int64_t in, int64_t hidden, int64_t layers, bool with_bias, bool first, double p,
         bool bidir)
    : RNNBase(Mode::GRU, in, hidden, layers, with_bias, first, p, bidir) {}
std::tuple<Tensor, Tensor> GRU::forward(const Tensor& input, const Tensor& hx) {
  auto [out, h, c] = run(input, hx, Tensor());
  return {out, h};
}

} // namespace ember::nn
