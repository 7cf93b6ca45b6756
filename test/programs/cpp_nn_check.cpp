// The C++ side of test/python/test_cpp_nn.py: runs one ember::nn layer (or nn::init /
// nn::utils) on tensors written by the test, which compares with PyTorch.
//
//   ember_cpp_nn_check CASE DIR
//     DIR/in.safetensors:  "state.<key>" (the module's state dict, loaded strictly), "in.<name>"
//                          (inputs; floating ones require grad), "gy.<name>" (a cotangent per
//                          output)
//     DIR/out.safetensors: "out.<name>" (outputs), "grad.in.<name>" and "grad.<param>" (the
//                          gradients of sum(out * gy) over every output)
//   CASE "init" writes initialised tensors; "clip" clips the gradients "in.<i>" (see below).
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/Serialization.h"
#include "ember/nn/Init.h"
#include "ember/nn/Layers.h"
#include "ember/nn/Recurrent.h"
#include "ember/nn/Transformer.h"
#include "ember/nn/Utils.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace ember;

namespace {

using Outputs = std::vector<std::pair<std::string, Tensor>>;
using Inputs = std::map<std::string, Tensor>;
struct Case {
  std::function<std::shared_ptr<nn::Module>()> make;
  std::function<Outputs(nn::Module&, const Inputs&)> run;
};

template <typename M, typename... A>
std::function<std::shared_ptr<nn::Module>()> make(A... args) {
  return [=] { return std::make_shared<M>(args...); };
}

Outputs one(nn::Module& m, const Inputs& in) { return {{"y", m.forward(in.at("x"))}}; }
Outputs loss(nn::Module& m, const Inputs& in) {
  return {{"y", dynamic_cast<nn::Loss&>(m)(in.at("x"), in.at("target"))}};
}

// Encoder-decoder through a ModuleDict, as the test's torch module does.
struct DictNet : nn::Module {
  std::shared_ptr<nn::ModuleDict> layers = register_module("layers", std::make_shared<nn::ModuleDict>());
  std::shared_ptr<nn::ParameterList> scales = register_module("scales", std::make_shared<nn::ParameterList>());
  DictNet() {
    layers->insert("enc", std::make_shared<nn::Linear>(4, 3));
    layers->insert("dec", std::make_shared<nn::Linear>(3, 2));
    scales->append(ones({3}));
    scales->append(ones({2}));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = relu(mul((*(*layers)["enc"])(x), (*scales)[0]));
    return mul((*(*layers)["dec"])(h), (*scales)[1]);
  }
};

std::map<std::string, Case> cases() {
  using namespace nn;
  std::map<std::string, Case> c;
  c["groupnorm"] = {make<GroupNorm>(3, 6), one};
  c["groupnorm_noaffine"] = {make<GroupNorm>(2, 4, 1e-3, false), one};
  c["conv1d"] = {make<Conv1d>(4, 6, 3, 2, 1, 1, 2), one};
  c["conv1d_dilated_nobias"] = {make<Conv1d>(3, 5, 3, 1, 2, 2, 1, false), one};
  c["conv2d_groups_dilation"] = {make<Conv2d>(4, 6, 3, 1, 2, 2, 2), one};
  c["convtranspose2d"] = {make<ConvTranspose2d>(4, 6, 3, 2, 1, 1, 2), one};
  c["convtranspose2d_dilated"] = {make<ConvTranspose2d>(3, 2, 3, 1, 0, 0, 1, true, 2), one};
  c["maxpool2d"] = {make<MaxPool2d>(3, 2, 1, 1, true), [](Module& m, const Inputs& in) {
                      auto [y, idx] = dynamic_cast<MaxPool2d&>(m).forward_with_indices(in.at("x"));
                      return Outputs{{"y", y}, {"indices", idx}};
                    }};
  c["maxpool2d_dilated"] = {make<MaxPool2d>(2, 1, 0, 2), one};
  c["unflatten"] = {make<Unflatten>(1, Shape{2, -1}), one};
  c["unflatten_last"] = {make<Unflatten>(-1, Shape{3, 2}), one};
  c["smoothl1"] = {make<SmoothL1Loss>("mean", 0.5), loss};
  c["huber"] = {make<HuberLoss>("sum", 0.7), loss};
  c["bce"] = {[] { return std::make_shared<BCELoss>(from_vector({0.5f, 2.0f, 1.0f}, {3})); },
              loss};
  c["bce_none"] = {make<BCELoss>(Tensor(), "none"), loss};
  c["kldiv_batchmean"] = {make<KLDivLoss>("batchmean"), loss};
  c["kldiv_logtarget"] = {make<KLDivLoss>("none", true), loss};
  c["moduledict"] = {make<DictNet>(), one};

  // Recurrent layers: "x" and optional initial states "h0" (and "c0").
  auto rnn = [](Module& m, const Inputs& in) {
    auto h0 = in.count("h0") ? in.at("h0") : Tensor();
    auto [y, h] = dynamic_cast<RNN&>(m).forward(in.at("x"), h0);
    return Outputs{{"y", y}, {"h", h}};
  };
  auto gru = [](Module& m, const Inputs& in) {
    auto h0 = in.count("h0") ? in.at("h0") : Tensor();
    auto [y, h] = dynamic_cast<GRU&>(m).forward(in.at("x"), h0);
    return Outputs{{"y", y}, {"h", h}};
  };
  auto lstm = [](Module& m, const Inputs& in) {
    auto h0 = in.count("h0") ? in.at("h0") : Tensor(), c0 = in.count("c0") ? in.at("c0") : Tensor();
    auto [y, hc] = dynamic_cast<LSTM&>(m).forward(in.at("x"), h0, c0);
    return Outputs{{"y", y}, {"h", std::get<0>(hc)}, {"c", std::get<1>(hc)}};
  };
  c["rnn_tanh"] = {make<RNN>(4, 5, 2), rnn};
  c["rnn_relu_bidir_batchfirst"] = {make<RNN>(4, 5, 1, "relu", true, true, 0.0, true), rnn};
  c["lstm_bidir_2layers"] = {make<LSTM>(4, 5, 2, true, false, 0.0, true), lstm};
  c["lstm_batchfirst_nobias"] = {make<LSTM>(3, 4, 1, false, true), lstm};
  c["lstm_unbatched"] = {make<LSTM>(3, 4), lstm};
  c["gru_bidir_2layers_batchfirst"] = {make<GRU>(4, 5, 2, true, true, 0.0, true), gru};
  c["gru_unbatched"] = {make<GRU>(3, 4, 1, false), gru};

  // Attention: "q", "k", "v", optional "kpm" (key_padding_mask), "mask" (attn_mask).
  auto opt = [](const Inputs& in, const char* k) { return in.count(k) ? in.at(k) : Tensor(); };
  auto mha = [opt](bool average) {
    return [opt, average](Module& m, const Inputs& in) {
      auto [y, w] = dynamic_cast<MultiheadAttention&>(m).forward(
          in.at("q"), in.at("k"), in.at("v"), opt(in, "kpm"), true, opt(in, "mask"), average);
      return Outputs{{"y", y}, {"weights", w}};
    };
  };
  c["mha"] = {make<MultiheadAttention>(8, 2), mha(true)};
  c["mha_batchfirst_kvdim"] = {
      make<MultiheadAttention>(8, 4, 0.0, true, false, false, 6, 5, true), mha(false)};
  c["mha_unbatched_nobias"] = {make<MultiheadAttention>(6, 3, 0.0, false), mha(true)};
  auto encoder = [opt](Module& m, const Inputs& in) {
    if (auto* l = dynamic_cast<TransformerEncoderLayer*>(&m))
      return Outputs{{"y", l->forward(in.at("x"), opt(in, "mask"), opt(in, "kpm"))}};
    return Outputs{{"y", dynamic_cast<TransformerEncoder&>(m).forward(in.at("x"), opt(in, "mask"),
                                                                      opt(in, "kpm"))}};
  };
  c["encoder_layer"] = {make<TransformerEncoderLayer>(8, 2, 16, 0.0), encoder};
  c["encoder_layer_gelu_normfirst_batchfirst"] = {
      make<TransformerEncoderLayer>(8, 2, 16, 0.0, "gelu", 1e-5, true, true), encoder};
  c["encoder"] = {[] {
                    TransformerEncoderLayer layer(8, 2, 16, 0.0, "gelu", 1e-5, true, true);
                    return std::make_shared<TransformerEncoder>(
                        layer, 2, std::make_shared<LayerNorm>(Shape{8}));
                  },
                  encoder};
  auto decoder = [opt](Module& m, const Inputs& in) {
    const Tensor tgt = in.at("x"), mem = in.at("memory");
    if (auto* l = dynamic_cast<TransformerDecoderLayer*>(&m))
      return Outputs{{"y", l->forward(tgt, mem, opt(in, "mask"), opt(in, "memory_mask"),
                                      opt(in, "kpm"), opt(in, "memory_kpm"))}};
    return Outputs{{"y", dynamic_cast<TransformerDecoder&>(m).forward(
                             tgt, mem, opt(in, "mask"), opt(in, "memory_mask"), opt(in, "kpm"),
                             opt(in, "memory_kpm"))}};
  };
  c["decoder_layer"] = {make<TransformerDecoderLayer>(8, 2, 16, 0.0), decoder};
  c["decoder"] = {[] {
                    TransformerDecoderLayer layer(8, 2, 16, 0.0, "gelu", 1e-5, true, true);
                    return std::make_shared<TransformerDecoder>(
                        layer, 2, std::make_shared<LayerNorm>(Shape{8}));
                  },
                  decoder};
  return c;
}

// nn::init on fixed shapes (the test checks each against torch.nn.init's distribution).
void run_init(const std::string& dir) {
  manual_seed(0);
  StateDict out;
  auto add = [&](const std::string& name, Tensor t) { out.insert(name, t); };
  namespace I = nn::init;
  add("uniform", I::uniform_(empty({1000}), -0.5, 1.5));
  add("normal", I::normal_(empty({4000}), 2.0, 0.5));
  add("trunc_normal", I::trunc_normal_(empty({4000}), 0.5, 1.0, -1.0, 1.5));
  add("constant", I::constant_(empty({3, 4}), 0.25));
  add("zeros", I::zeros_(ones({5})));
  add("ones", I::ones_(empty({2, 2})));
  add("eye", I::eye_(empty({3, 5})));
  add("xavier_uniform", I::xavier_uniform_(empty({64, 32, 3, 3}), 2.0));
  add("xavier_normal", I::xavier_normal_(empty({256, 128})));
  add("kaiming_uniform", I::kaiming_uniform_(empty({128, 64, 3}), 0.1, "fan_out", "relu"));
  add("kaiming_uniform_default", I::kaiming_uniform_(empty({100, 200})));
  add("kaiming_normal", I::kaiming_normal_(empty({96, 48, 2, 2}), 0.2, "fan_in", "leaky_relu"));
  add("orthogonal_tall", I::orthogonal_(empty({30, 4, 2}), 1.5));
  add("orthogonal_wide", I::orthogonal_(empty({5, 12})));
  const char* gains[] = {"linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"};
  std::vector<float> g;
  for (const char* n : gains) g.push_back(float(I::calculate_gain(n)));
  g.push_back(float(I::calculate_gain("leaky_relu", 0.3)));
  add("gains", from_vector(g, {int64_t(g.size())}));
  // A parameter initialised in place stays the same leaf.
  Tensor p = zeros({4, 4});
  p.set_requires_grad(true);
  void* before = p.raw_data();
  I::xavier_uniform_(p);
  EMBER_CHECK(p.raw_data() == before && p.requires_grad() && p.is_leaf(), Runtime, "init",
              "the parameter was not written in place");
  save(out, dir + "/out.safetensors");
}

// "in.<i>" are gradients; "max_norm" and "norm_type" 0-d; "value" the clip value for
// clip_grad_value_ (applied after clip_grad_norm_ when present).
void run_clip(const std::string& dir) {
  StateDict in = load(dir + "/in.safetensors");
  std::vector<Tensor> params;
  for (int i = 0; in.contains("in." + std::to_string(i)); ++i) {
    Tensor g = in.at("in." + std::to_string(i));
    Tensor p = zeros(g.shape());
    p.set_requires_grad(true);
    p.set_grad(clone(g));
    params.push_back(p);
  }
  Tensor none = zeros({2});
  none.set_requires_grad(true); // a parameter without a gradient is skipped
  params.push_back(none);
  StateDict out;
  const double norm_type = in.at("norm_type").item();
  out.insert("total", full({}, nn::utils::clip_grad_norm_(params, in.at("max_norm").item(),
                                                          norm_type), DType::Float64));
  if (in.contains("value")) nn::utils::clip_grad_value_(params, in.at("value").item());
  for (size_t i = 0; i + 1 < params.size(); ++i) out.insert("grad." + std::to_string(i), params[i].grad());
  save(out, dir + "/out.safetensors");
}

void run_case(const std::string& name, const std::string& dir) {
  const auto all = cases();
  auto it = all.find(name);
  EMBER_CHECK(it != all.end(), Value, "cpp_nn_check", "unknown case ", name);
  StateDict in = load(dir + "/in.safetensors");
  auto module = it->second.make();
  StateDict state;
  Inputs inputs;
  for (const auto& [k, t] : in) {
    if (k.rfind("state.", 0) == 0) state.insert(k.substr(6), t);
    if (k.rfind("in.", 0) == 0) {
      Tensor x = t;
      if (is_floating(x.dtype())) x.set_requires_grad(true);
      inputs[k.substr(3)] = x;
    }
  }
  if (!state.empty() || !module->state_dict().empty()) module->load_state_dict(state);
  if (in.contains("train")) module->train(in.at("train").item() != 0);
  Outputs outs = it->second.run(*module, inputs);
  StateDict out;
  Tensor total;
  for (const auto& [k, y] : outs) {
    out.insert("out." + k, y.detach());
    if (!in.contains("gy." + k) || !y.requires_grad()) continue;
    Tensor term = sum(mul(y, in.at("gy." + k)));
    total = total.defined() ? add(total, term) : term;
  }
  if (total.defined()) total.backward();
  for (const auto& [k, x] : inputs)
    if (x.requires_grad() && x.grad().defined()) out.insert("grad.in." + k, x.grad());
  for (const auto& [k, p] : module->named_parameters())
    if (p.grad().defined()) out.insert("grad." + k, p.grad());
  for (const auto& [k, b] : module->named_buffers()) out.insert("buffer." + k, b);
  save(out, dir + "/out.safetensors");
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CASE DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string c = argv[1], dir = argv[2];
    if (c == "init") run_init(dir);
    else if (c == "clip") run_clip(dir);
    else run_case(c, dir);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
