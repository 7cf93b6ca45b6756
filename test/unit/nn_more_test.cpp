// The C++ layers added after the first set (GroupNorm, Conv1d, ConvTranspose2d, Unflatten,
// ModuleDict, ParameterList, the recurrent and attention layers), nn::init and nn::utils:
// names, state-dict keys, behaviour the torch comparisons (test_cpp_nn.py) do not reach, and
// bad input raising ember::Error with a message naming the module, the shapes and what is valid.
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/ReductionOps.h"
#include "ember/ShapeOps.h"
#include "ember/nn/Module.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

using namespace ember;

namespace {

// The error's message, or "no error".
std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

#define EXPECT_MESSAGE(stmt, ...)                                                                 \
  do {                                                                                            \
    const std::string m_ = message([&] { stmt; });                                                \
    for (const char* part : {__VA_ARGS__})                                                        \
      EXPECT_NE(m_.find(part), std::string::npos) << "'" << part << "' not in: " << m_;           \
  } while (0)

std::vector<std::string> names(const std::vector<std::pair<std::string, Tensor>>& items) {
  std::vector<std::string> out;
  for (const auto& kv : items) out.push_back(kv.first);
  return out;
}

} // namespace

TEST(NNMore, BadLayerArgumentsAreErrors) {
  using namespace nn;
  EXPECT_MESSAGE(GroupNorm(4, 6), "ember::nn::GroupNorm", "num_channels (6)", "num_groups (4)");
  GroupNorm gn(2, 4);
  EXPECT_MESSAGE(gn(zeros({2, 3, 5})), "ember::nn::GroupNorm", "[N, 4, *]", "[2, 3, 5]");
  EXPECT_MESSAGE(Conv1d(3, 4, 3, 1, 0, 1, 2), "ember::nn::Conv1d", "in_channels (3)",
                 "groups (2)");
  EXPECT_MESSAGE(Conv2d(3, 4, 3, 1, 0, false), "ember::nn::Conv2d", "dilation=0");
  EXPECT_MESSAGE(ConvTranspose2d(3, 4, 3, 1, 0, 1), "ember::nn::ConvTranspose2d",
                 "output padding must be smaller");
  EXPECT_MESSAGE(MaxPool2d(2, 2, 2), "ember::nn::MaxPool2d", "padding=2");
  Unflatten u(1, {3, -1});
  EXPECT_EQ(u(zeros({2, 12})).shape(), (Shape{2, 3, 4}));
  EXPECT_MESSAGE(u(zeros({2, 10})), "ember::nn::Unflatten", "[3, -1]", "[2, 10]");
  EXPECT_MESSAGE(Unflatten(0, {-1, -1}), "ember::nn::Unflatten", "only one entry");
  EXPECT_MESSAGE(KLDivLoss("avg"), "ember::nn::KLDivLoss", "'avg'");
  EXPECT_EQ(KLDivLoss("batchmean").reduction, "batchmean");
  EXPECT_MESSAGE(HuberLoss("mean", 0), "ember::nn::HuberLoss", "delta");
}

TEST(NNMore, ModuleDictAndParameterListNameTheirEntries) {
  using namespace nn;
  ModuleDict d({{"enc", std::make_shared<Linear>(4, 3)}, {"act", std::make_shared<ReLU>()}});
  d.insert("dec", std::make_shared<Linear>(3, 2));
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"enc", "act", "dec"}));
  EXPECT_EQ(names(d.named_parameters()),
            (std::vector<std::string>{"enc.weight", "enc.bias", "dec.weight", "dec.bias"}));
  d.insert("enc", std::make_shared<Linear>(4, 5, false)); // replaced in place
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"enc", "act", "dec"}));
  EXPECT_EQ(names(d.named_parameters()),
            (std::vector<std::string>{"enc.weight", "dec.weight", "dec.bias"}));
  EXPECT_TRUE(d.contains("act"));
  EXPECT_MESSAGE(d["nope"], "ember::nn::ModuleDict", "'nope'", "enc, act, dec");
  EXPECT_MESSAGE(d.insert("a.b", std::make_shared<ReLU>()), "can't be empty or contain");

  ParameterList pl({zeros({2}), ones({3, 1})});
  pl.append(full({4}, 2.0));
  EXPECT_EQ(names(pl.named_parameters()), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_TRUE(pl[-1].requires_grad());
  EXPECT_EQ(pl[1].shape(), (Shape{3, 1}));
  EXPECT_MESSAGE(pl[3], "ember::nn::ParameterList", "index 3", "3 parameters");
  EXPECT_MESSAGE(pl.append(zeros({2}, DType::Int64)), "floating point");
  int n = 0;
  for (const Tensor& p : pl) n += int(p.numel());
  EXPECT_EQ(n, 9);
}

TEST(NNMore, InitChecksItsArgumentsAndWritesInPlace) {
  namespace I = nn::init;
  EXPECT_MESSAGE(I::xavier_uniform_(zeros({5})), "fewer than 2 dimensions", "[5]");
  EXPECT_MESSAGE(I::kaiming_normal_(zeros({3, 3}), 0, "fan_avg"), "kaiming_normal_",
                 "fan_avg", "fan_in, fan_out");
  EXPECT_MESSAGE(I::calculate_gain("swish"), "calculate_gain", "swish", "leaky_relu");
  EXPECT_MESSAGE(I::orthogonal_(zeros({4})), "orthogonal_", "2 or more dimensions");
  EXPECT_MESSAGE(I::uniform_(zeros({2}, DType::Int64)), "floating point");
  EXPECT_NEAR(I::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04), 1e-12);
  EXPECT_EQ(I::calculate_fan_in_and_fan_out(zeros({6, 4, 3, 2})), (std::pair<int64_t, int64_t>{24, 36}));
  manual_seed(3);
  Tensor t = zeros({2000});
  I::trunc_normal_(t, 0.0, 2.0, -1.0, 0.5);
  for (float v : t.to_vector()) ASSERT_TRUE(v >= -1.0f && v <= 0.5f) << v;
  nn::Linear lin(6, 4);
  const void* data = lin.weight.raw_data();
  I::orthogonal_(lin.weight, 2.0);
  EXPECT_EQ(lin.weight.raw_data(), data);
  EXPECT_TRUE(lin.weight.is_leaf() && lin.weight.requires_grad());
  Tensor wwt = matmul(lin.weight, transpose(lin.weight, 0, 1)).detach(); // 4 x 4: 4 I
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_NEAR(wwt.to_vector()[size_t(i * 4 + j)], i == j ? 4.0 : 0.0, 1e-5);
}

TEST(NNMore, ClipGradNormRefusesANonFiniteTotalWhenAsked) {
  Tensor a = zeros({3}), b = zeros({2});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  a.set_grad(from_vector({3.0f, 0.0f, 4.0f}, {3}));
  b.set_grad(from_vector({INFINITY, 1.0f}, {2}));
  EXPECT_MESSAGE(nn::utils::clip_grad_norm_({a, b}, 1.0, 2.0, true), "clip_grad_norm_",
                 "non-finite");
  EXPECT_EQ(a.grad().to_vector()[0], 3.0f); // nothing scaled
  b.set_grad(zeros({2}));
  EXPECT_NEAR(nn::utils::clip_grad_norm_({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad().to_vector()[2], 0.8f, 1e-5);
  EXPECT_EQ(nn::utils::clip_grad_norm_({zeros({2})}, 1.0), 0.0); // no gradients at all
}

TEST(NNMore, RecurrentLayersNameParametersAsTorchAndCheckShapes) {
  using namespace nn;
  LSTM lstm(3, 4, 2, true, false, 0.0, true);
  const auto keys = names(lstm.named_parameters());
  ASSERT_EQ(keys.size(), 16u);
  EXPECT_EQ(keys[0], "weight_ih_l0");
  EXPECT_EQ(keys[4], "weight_ih_l0_reverse");
  EXPECT_EQ(keys[15], "bias_hh_l1_reverse");
  EXPECT_EQ(lstm.named_parameters()[8].second.shape(), (Shape{16, 8})); // layer 1 sees 2 * 4
  EXPECT_MESSAGE(lstm(zeros({5, 2, 4})), "ember::nn::LSTM", "input_size. Expected 3, got 4");
  EXPECT_MESSAGE(lstm.forward(zeros({5, 2, 3}), zeros({4, 3, 4}), zeros({4, 3, 4})),
                 "ember::nn::LSTM", "Expected hidden size [4, 2, 4], got [4, 3, 4]");
  EXPECT_MESSAGE(lstm.forward(zeros({5, 2, 3}), zeros({4, 2, 4}), Tensor()), "both");
  EXPECT_MESSAGE(lstm(zeros({2, 3, 4, 3})), "Expected input to be 2D or 3D, got 4D");
  EXPECT_MESSAGE(RNN(3, 4, 1, "sigmoid"), "ember::nn::RNN", "'sigmoid'", "'tanh' or 'relu'");
  EXPECT_MESSAGE(GRU(3, 4, 0), "ember::nn::GRU", "num_layers");
  GRU gru(3, 4);
  auto [y, h] = gru.forward(zeros({6, 3}), Tensor()); // unbatched
  EXPECT_EQ(y.shape(), (Shape{6, 4}));
  EXPECT_EQ(h.shape(), (Shape{1, 4}));
}

TEST(NNMore, RecurrentDropoutActsBetweenLayersInTrainingOnly) {
  nn::RNN rnn(3, 8, 2, "tanh", true, false, 0.5);
  manual_seed(0);
  Tensor x = randn({4, 2, 3});
  rnn.eval();
  Tensor a = rnn(x), b = rnn(x);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  rnn.train();
  manual_seed(1);
  Tensor c = rnn(x);
  EXPECT_NE(a.to_vector(), c.to_vector());
}

TEST(NNMore, AttentionChecksMasksAndIsCausalIsTheTriangularMask) {
  using namespace nn;
  EXPECT_MESSAGE(MultiheadAttention(10, 3), "ember::nn::MultiheadAttention",
                 "embed_dim (10) must be divisible by num_heads (3)");
  EXPECT_MESSAGE(MultiheadAttention(8, 2, 0.0, true, true), "add_bias_kv");
  MultiheadAttention mha(8, 2);
  manual_seed(0);
  Tensor q = randn({5, 3, 8});
  EXPECT_MESSAGE(mha.forward(q, q, q, Tensor(), true, zeros({4, 5})),
                 "The shape of the 2D attn_mask is [4, 5], but should be [5, 5]");
  EXPECT_MESSAGE(mha.forward(q, q, q, zeros({5, 3}, DType::Bool)),
                 "expecting key_padding_mask shape of [3, 5], but got [5, 3]");
  EXPECT_MESSAGE(mha.forward(q, q, q, Tensor(), true, zeros({5, 5}, DType::Int64)),
                 "only bool and floating types of attn_mask");
  EXPECT_MESSAGE(mha(randn({5, 3, 6})), "was expecting embedding dimension of 8, but got 6");
  GradModeGuard no_grad(false);
  auto [causal, w1] = mha.forward(q, q, q, Tensor(), true, Tensor(), true, true);
  auto [masked, w2] = mha.forward(q, q, q, Tensor(), true, triu(ones({5, 5}, DType::Bool), 1));
  EXPECT_EQ(causal.to_vector(), masked.to_vector());
  // Row 0 attends to position 0 only.
  EXPECT_NEAR(w1.to_vector()[0], 1.0f, 1e-6);
  EXPECT_EQ(w1.shape(), (Shape{3, 5, 5}));
}

TEST(NNMore, TransformerEncoderLayersAreIndependentCopies) {
  using namespace nn;
  TransformerEncoderLayer layer(8, 2, 16, 0.1);
  TransformerEncoder enc(layer, 3);
  const StateDict sd = enc.state_dict();
  EXPECT_TRUE(sd.contains("layers.2.self_attn.in_proj_weight"));
  EXPECT_TRUE(sd.contains("layers.0.norm2.bias"));
  EXPECT_EQ(sd.at("layers.0.linear1.weight").to_vector(), layer.linear1->weight.to_vector());
  EXPECT_EQ(sd.at("layers.2.linear1.weight").to_vector(), layer.linear1->weight.to_vector());
  EXPECT_NE(sd.at("layers.0.linear1.weight").raw_data(), sd.at("layers.1.linear1.weight").raw_data());
  EXPECT_MESSAGE(TransformerEncoderLayer(8, 2, 16, 0.1, "tanh"), "activation should be relu/gelu");
  // Dropout acts in training mode only.
  manual_seed(0);
  Tensor x = randn({4, 2, 8});
  enc.eval();
  GradModeGuard no_grad(false);
  Tensor a = enc(x), b = enc(x);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  enc.train();
  EXPECT_NE(enc(x).to_vector(), a.to_vector());
}

TEST(NNMore, AnLSTMLearnsToCountWithAdam) {
  // Targets: the running sum of a 0/1 sequence; an LSTM + Linear head fits it.
  manual_seed(0);
  nn::LSTM lstm(1, 16, 1, true, true);
  nn::Linear head(16, 1);
  std::vector<Tensor> params = lstm.parameters();
  for (const Tensor& p : head.parameters()) params.push_back(p);
  optim::Adam opt(params, 0.02);
  Tensor x = cast(gt(rand({32, 8, 1}), scalar(0.5)), DType::Float32);
  Tensor y = cumsum(x, 1);
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    Tensor loss = nn::functional::mse_loss(head(lstm(x)), y);
    loss.backward();
    nn::utils::clip_grad_norm_(params, 1.0);
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  EXPECT_LT(last, first * 0.05) << first << " -> " << last;
}
