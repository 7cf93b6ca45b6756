// An LSTM sequence model in C++ (ember::nn::LSTM, ember::optim::Adam, nn::utils): predict the
// next value of noisy sine waves of random frequency and phase from the values so far, as
// examples/lstm_sequence.py does in Python. Checkpoints hold the model and the optimizer state
// (one safetensors file), so a run can stop and resume on the same trajectory.
//
//   ember_lstm_cpp [--steps 300] [--save ckpt.safetensors] [--resume ckpt.safetensors]
#include "ember/Creation.h"
#include "ember/Ops.h"
#include "ember/Serialization.h"
#include "ember/nn/Module.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace ember;

namespace {

struct SineLSTM : nn::Module {
  std::shared_ptr<nn::LSTM> lstm =
      register_module("lstm", std::make_shared<nn::LSTM>(1, 32, 2, true, true));
  std::shared_ptr<nn::Linear> head = register_module("head", std::make_shared<nn::Linear>(32, 1));
  Tensor forward(const Tensor& x) override { return (*head)((*lstm)(x)); }
};

// Batch `step`'s waves: [batch, length, 1] inputs and the next values as targets. Drawn from a
// seed of its own, so a resumed run sees the same batches.
std::pair<Tensor, Tensor> make_batch(int64_t step, int64_t batch = 16, int64_t length = 30) {
  manual_seed(uint64_t(1000 + step));
  Tensor freq = add(mul(rand({batch, 1, 1}), scalar(0.3)), scalar(0.1));
  Tensor phase = mul(rand({batch, 1, 1}), scalar(2 * M_PI));
  Tensor t = reshape(arange(0, double(length + 1)), {1, length + 1, 1});
  Tensor wave = add(sin(add(mul(freq, t), phase)), mul(randn({batch, length + 1, 1}), scalar(0.02)));
  return {narrow(wave, 1, 0, length), narrow(wave, 1, 1, length)};
}

} // namespace

int main(int argc, char** argv) {
  int64_t steps = 300;
  std::string save_path, resume_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) steps = std::atoll(argv[++i]);
    else if (a == "--save" && i + 1 < argc) save_path = argv[++i];
    else if (a == "--resume" && i + 1 < argc) resume_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--steps N] [--save FILE] [--resume FILE]\n", argv[0]);
      return 2;
    }
  }
  try {
    manual_seed(0);
    SineLSTM model;
    optim::Adam opt(model.parameters(), 1e-2);
    nn::MSELoss loss_fn;
    int64_t start = 0;
    if (!resume_path.empty()) { // "model.*", "optim.*" and "step"
      StateDict ckpt = load(resume_path), m, o;
      for (const auto& [k, t] : ckpt) {
        if (k.rfind("model.", 0) == 0) m.insert(k.substr(6), t);
        if (k.rfind("optim.", 0) == 0) o.insert(k.substr(6), t);
      }
      model.load_state_dict(m);
      opt.load_state_dict(o);
      start = int64_t(ckpt.at("step").item());
      std::printf("resumed at step %lld\n", (long long)start);
    }
    double loss_value = 0;
    for (int64_t step = start; step < start + steps; ++step) {
      auto [x, y] = make_batch(step);
      Tensor loss = loss_fn(model(x), y);
      opt.zero_grad();
      loss.backward();
      nn::utils::clip_grad_norm_(model.parameters(), 1.0);
      opt.step();
      loss_value = loss.item();
      if (step % 50 == 0) std::printf("step %lld: mse %.4f\n", (long long)step, loss_value);
    }
    std::printf("final mse %.9g after %lld steps\n", loss_value, (long long)(start + steps));
    if (!save_path.empty()) {
      StateDict ckpt;
      for (const auto& [k, t] : model.state_dict()) ckpt.insert("model." + k, t);
      for (const auto& [k, t] : opt.state_dict()) ckpt.insert("optim." + k, t);
      ckpt.insert("step", full({}, double(start + steps), DType::Int64));
      save(ckpt, save_path);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
