// ember::export_model / ember::load_exported from C++: weights bound from the file, symbolic
// batch dims specialised per size, modules, training steps, and clear errors for bad files.
#include "DemoGraphs.h"
#include "ember/compiler/Export.h"
#include "ember/nn/Module.h"
#include "ember/runtime/Error.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

using namespace ember;

namespace {

using test::expectNear;
using test::randn;

std::string tempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

bool exists(const std::string& p) { return std::ifstream(p).good(); }

std::string messageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

} // namespace

TEST(Export, WeightsFromTheFileAndASymbolicBatch) {
  Tensor w1 = randn({5, 16}, 2), b1 = randn({16}, 3), w2 = randn({16, 3}, 4);
  auto fn = [&](const std::vector<Tensor>& in) { return demo::mlp({in[0], w1, b1, w2}); };
  ExportOptions o;
  o.input_names = {"x"};
  o.output_names = {"y"};
  o.weights = {{"w1", w1}, {"b1", b1}, {"w2", w2}};
  o.dynamic_shapes = {{{0, Dim{"batch", 1, 100}}}};
  o.metadata = {{"model", "mlp"}};
  const std::string path = tempPath("mlp.ember");
  export_model(fn, {randn({8, 5}, 1)}, path, o);

  ExportedModel m = load_exported(path);
  ASSERT_EQ(m.file().weights.size(), 3u);
  EXPECT_EQ(m.file().weights[0].name, "w1");
  EXPECT_EQ(m.file().inputs[0].shape[0].text(), "batch");
  EXPECT_EQ(m.file().outputs[0].shape[1].text(), "3");
  EXPECT_EQ(m.file().metadata.at("model"), "mlp");
  EXPECT_EQ(m.file().graph.find("dense<"), std::string::npos); // no weights inside the IR
  for (int64_t batch : {8, 3, 8}) {
    Tensor x = randn({batch, 5}, unsigned(batch));
    expectNear(m.run({x})[0], fn({x})[0], 1e-4f);
  }
  EXPECT_EQ(m.num_specializations(), 2u);
  Tensor x = randn({2, 5}, 9);
  expectNear(m.run(std::map<std::string, Tensor>{{"x", x}})[0], fn({x})[0], 1e-4f);
  EXPECT_NE(messageOf([&] { m.run({randn({101, 5}, 1)}); }).find("outside its range [1, 100]"),
            std::string::npos);
  EXPECT_NE(messageOf([&] { m.run({randn({4, 6}, 1)}); }).find("dim 1 must be 5"), std::string::npos);
  EXPECT_NE(messageOf([&] { m.run(std::map<std::string, Tensor>{{"z", x}}); }).find("no input 'z'"),
            std::string::npos);
  std::remove(path.c_str());
}

TEST(Export, ATrainingStep) {
  // (x, w1, b1, w2) -> (loss, updated weights): gradients inside the exported graph.
  std::vector<Tensor> in = {randn({8, 5}, 1), randn({5, 16}, 2), randn({16}, 3), randn({16, 3}, 4)};
  for (size_t i = 1; i < in.size(); ++i) in[i].set_requires_grad(true);
  const std::string path = tempPath("step.ember");
  export_model(demo::mlpTrainStep, in, path);
  ExportedModel m = load_exported(path);
  EXPECT_EQ(m.input_names(), (std::vector<std::string>{"input0", "input1", "input2", "input3"}));
  EXPECT_EQ(m.output_names().size(), 4u);
  std::vector<Tensor> plain;
  for (const Tensor& t : in) plain.push_back(t.detach());
  Graph g = trace(demo::mlpTrainStep, demo::mlpShapes(), {false, true, true, true});
  auto got = m.run(plain), want = run_graph(g, plain);
  for (size_t i = 0; i < want.size(); ++i) expectNear(got[i], want[i], 1e-4f);
  std::remove(path.c_str());
}

TEST(Export, AModuleWithItsParameters) {
  nn::Sequential net;
  net.add(std::make_shared<nn::Linear>(6, 10)).add(std::make_shared<nn::ReLU>()).add(
      std::make_shared<nn::Linear>(10, 2));
  const std::string path = tempPath("net.ember");
  ExportOptions o;
  o.dynamic_shapes = {{{0, Dim{"n"}}}};
  export_model(net, randn({4, 6}, 5), path, o);
  ExportedModel m = load_exported(path);
  ASSERT_EQ(m.file().weights.size(), 4u);
  EXPECT_EQ(m.file().weights[0].name, net.named_parameters()[0].first);
  Tensor x = randn({7, 6}, 6);
  expectNear(m.run({x})[0], net.forward(x), 1e-4f);
  std::remove(path.c_str());
}

TEST(Export, BadArgumentsAndFiles) {
  auto fn = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{relu(in[0])}; };
  const std::string nodir = "/nonexistent-dir/x.ember";
  EXPECT_THROW(export_model(fn, {randn({2, 2}, 1)}, nodir), Error);
  EXPECT_FALSE(exists(nodir));
  EXPECT_NE(messageOf([&] { export_model(fn, {full({2}, 1.0f).to(DType::Float64)}, tempPath("d.ember")); })
                .find("take float32, int64, int32 and bool inputs"),
            std::string::npos);
  ExportOptions o;
  o.dynamic_shapes = {{{0, Dim{"b"}}}};
  EXPECT_NE(messageOf([&] { export_model(fn, {randn({1, 3}, 1)}, tempPath("one.ember"), o); })
                .find("size-1 dims broadcast"),
            std::string::npos);
  EXPECT_NE(messageOf([&] { load_exported(tempPath("missing.ember")); }).find("cannot open"),
            std::string::npos);
  const std::string junk = tempPath("junk.ember");
  std::ofstream(junk) << "junk junk junk junk";
  EXPECT_NE(messageOf([&] { load_exported(junk); }).find("not an ember export"), std::string::npos);
  // A good file cut short.
  const std::string good = tempPath("good.ember"), cut = tempPath("cut.ember");
  export_model(fn, {randn({2, 2}, 1)}, good);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  EXPECT_NE(messageOf([&] { load_exported(cut); }).find("truncated"), std::string::npos);
  for (const std::string& p : {junk, good, cut}) std::remove(p.c_str());
}
