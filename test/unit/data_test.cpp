// C++ ember::data: TensorDataset, the DataLoader (order, drop_last, seeded shuffling, worker
// threads giving the same batches as none, a worker's error reaching the caller),
// FashionMNIST's IDX reader, and an MLP trained with Adam from a DataLoader.
#include "TestUtil.h"

#include "ember/Creation.h"
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/data/Data.h"
#include "ember/nn/Layers.h"
#include "ember/optim/Optimizers.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using namespace ember;

namespace {

// Row i of the features holds i, i + 0.5; the label is i.
std::shared_ptr<data::TensorDataset> numbered(int64_t n) {
  std::vector<float> f;
  for (int64_t i = 0; i < n; ++i) {
    f.push_back(float(i));
    f.push_back(float(i) + 0.5f);
  }
  return std::make_shared<data::TensorDataset>(
      std::vector<Tensor>{from_vector(f, {n, 2}), arange(0, double(n), 1, DType::Int64)});
}

std::vector<std::vector<int64_t>> epoch_labels(data::DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (const data::Sample& b : loader) {
    std::vector<int64_t> labels;
    for (float v : b[1].to_vector()) labels.push_back(int64_t(v));
    // Features and labels stay paired.
    auto f = b[0].to_vector();
    for (size_t i = 0; i < labels.size(); ++i) EXPECT_EQ(f[2 * i], float(labels[i]));
    out.push_back(labels);
  }
  return out;
}

// A dataset with the default (stacking) get_batch that fails on one index.
class Squares : public data::Dataset {
public:
  explicit Squares(int64_t bad = -1) : bad_(bad) {}
  int64_t size() const override { return 20; }
  data::Sample get(int64_t i) const override {
    EMBER_CHECK(i != bad_, Value, "Squares", "sample ", i, " is broken");
    return {full({2}, double(i * i)), full({}, double(i), DType::Int64)};
  }

private:
  int64_t bad_;
};

} // namespace

TEST(Data, TensorDatasetIndexesRows) {
  auto ds = numbered(5);
  EXPECT_EQ(ds->size(), 5);
  data::Sample s = ds->get(3);
  EXPECT_EQ(s[0].to_vector(), (std::vector<float>{3.0f, 3.5f}));
  EXPECT_EQ(s[1].item(), 3);
  data::Sample b = ds->get_batch({4, 0});
  EXPECT_EQ(b[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(b[1].to_vector(), (std::vector<float>{4.0f, 0.0f}));
  EXPECT_THROW(ds->get(5), Error);
  EXPECT_THROW(ds->get_batch({1, -1}), Error);
  EXPECT_THROW(data::TensorDataset({ones({3, 2}), ones({4})}), Error);
}

TEST(Data, DataLoaderBatchesInOrderAndDropsTheLast) {
  auto ds = numbered(10);
  data::DataLoader keep(ds, 4);
  EXPECT_EQ(keep.size(), 3);
  EXPECT_EQ(epoch_labels(keep),
            (std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}));
  data::DataLoader drop(ds, 4, false, 0, true);
  EXPECT_EQ(drop.size(), 2);
  EXPECT_EQ(epoch_labels(drop).size(), 2u);
  // The default collate stacks samples of a plain Dataset.
  data::DataLoader sq(std::make_shared<Squares>(), 8);
  auto it = sq.begin();
  EXPECT_EQ((*it)[0].shape(), (Shape{8, 2}));
  EXPECT_EQ((*it)[1].dtype(), DType::Int64);
  EXPECT_EQ((*it)[0].to_vector()[6], 9.0f);
  EXPECT_THROW(data::DataLoader(ds, 0), Error);
  EXPECT_THROW(data::DataLoader(nullptr, 2), Error);
}

TEST(Data, SeededShuffleIsReproducibleAndCoversEverySample) {
  auto ds = numbered(50);
  data::DataLoader a(ds, 8, true, 0, false, 1234), b(ds, 8, true, 0, false, 1234),
      c(ds, 8, true, 0, false, 99);
  auto a1 = epoch_labels(a), a2 = epoch_labels(a), b1 = epoch_labels(b), c1 = epoch_labels(c);
  EXPECT_EQ(a1, b1);
  EXPECT_EQ(a2, epoch_labels(b)); // the second epochs agree too
  EXPECT_NE(a1, a2);              // and differ from the first
  EXPECT_NE(a1, c1);
  std::vector<int64_t> all;
  for (auto& batch : a1) all.insert(all.end(), batch.begin(), batch.end());
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(all[size_t(i)], i);
  // Without a seed, ember::manual_seed makes it reproducible.
  data::DataLoader g(ds, 8, true);
  manual_seed(7);
  auto g1 = epoch_labels(g);
  manual_seed(7);
  EXPECT_EQ(epoch_labels(g), g1);
}

TEST(Data, WorkersGiveTheSameBatchesAsNone) {
  auto ds = numbered(103);
  for (int64_t workers : {1, 2, 4}) {
    data::DataLoader serial(ds, 10, true, 0, false, 5), parallel(ds, 10, true, workers, false, 5);
    for (int epoch = 0; epoch < 3; ++epoch)
      EXPECT_EQ(epoch_labels(parallel), epoch_labels(serial)) << workers << " workers";
  }
  // Leaving an epoch early stops its workers.
  data::DataLoader early(ds, 1, false, 3, false, std::nullopt, 4);
  int seen = 0;
  for (const data::Sample& b : early) {
    (void)b;
    if (++seen == 3) break;
  }
  EXPECT_EQ(seen, 3);
  // A plain Dataset's samples are collated on the workers.
  data::DataLoader sq0(std::make_shared<Squares>(), 3);
  data::DataLoader sq2(std::make_shared<Squares>(), 3, false, 2);
  auto x = sq0.begin(), y = sq2.begin();
  for (; x != sq0.end(); ++x, ++y) ember::test::expectNear((*y)[0], (*x)[0]);
  EXPECT_TRUE(y == sq2.end());
}

TEST(Data, AWorkersErrorReachesTheCallerAtItsBatch) {
  for (int64_t workers : {0, 2}) {
    data::DataLoader loader(std::make_shared<Squares>(13), 4, false, workers);
    int batches = 0;
    std::string message;
    try {
      for (const data::Sample& b : loader) {
        (void)b;
        ++batches;
      }
    } catch (const Error& e) {
      message = e.what();
    }
    EXPECT_EQ(batches, 3) << workers; // batches 0..2 arrive, batch 3 holds sample 13
    EXPECT_NE(message.find("sample 13 is broken"), std::string::npos) << message;
  }
}

TEST(Data, FashionMNISTReadsTheIDXFiles) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  std::ifstream probe(dir + "/t10k-labels-idx1-ubyte.gz");
  std::ifstream probe2(dir + "/t10k-labels-idx1-ubyte");
  if (!probe.good() && !probe2.good()) GTEST_SKIP() << "no Fashion-MNIST under " << dir;
  data::FashionMNIST test(dir, /*train=*/false);
  EXPECT_EQ(test.size(), 10000);
  data::Sample s = test.get(0);
  EXPECT_EQ(s[0].shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(s[1].dtype(), DType::Int64);
  // Pixel values are the IDX bytes / 255.
  std::string path = dir + "/t10k-images-idx3-ubyte";
  if (!std::ifstream(path).good()) path += ".gz";
  Tensor raw = data::read_idx(path);
  EXPECT_EQ(raw.shape(), (Shape{10000, 28, 28}));
  EXPECT_EQ(raw.dtype(), DType::UInt8);
  auto px = s[0].to_vector();
  const uint8_t* bytes = raw.data<uint8_t>();
  for (size_t i = 0; i < px.size(); ++i) ASSERT_FLOAT_EQ(px[i], float(bytes[i] / 255.0));
  data::FashionMNIST norm(dir, false, 0.2860, 0.3530);
  EXPECT_NEAR(norm.get(0)[0].to_vector()[300], (px[300] - 0.2860) / 0.3530, 1e-5);
}

TEST(Data, MissingOrBadFilesAreErrorsNamingThem) {
  std::string e;
  try {
    data::FashionMNIST("/nonexistent/fmnist", true);
  } catch (const Error& err) {
    e = err.what();
  }
  EXPECT_NE(e.find("train-images-idx3-ubyte"), std::string::npos) << e;
  EXPECT_NE(e.find("/nonexistent/fmnist"), std::string::npos) << e;
  const std::string bad = testing::TempDir() + "ember_bad.idx";
  std::ofstream(bad) << "not an idx file";
  EXPECT_THROW(data::read_idx(bad), Error);
  std::remove(bad.c_str());
}

TEST(Data, AnMLPTrainedWithAdamFromADataLoaderLearns) {
  // Two interleaved half-moons-like clusters: the label is whether x0 * x1 > 0 (not linear).
  manual_seed(0);
  const int64_t n = 512;
  Tensor x = sub(mul(rand({n, 2}), scalar(2)), scalar(1));
  Tensor y = cast(gt(mul(select(x, 1, 0), select(x, 1, 1)), scalar(0)), DType::Int64);
  auto ds = std::make_shared<data::TensorDataset>(std::vector<Tensor>{x, y});
  data::DataLoader loader(ds, 32, true, 2, false, 42);
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Linear>(2, 32)).add(std::make_shared<nn::Tanh>())
      .add(std::make_shared<nn::Linear>(32, 32)).add(std::make_shared<nn::ReLU>())
      .add(std::make_shared<nn::Linear>(32, 2));
  optim::Adam opt(model->parameters(), 0.01);
  nn::CrossEntropyLoss criterion;
  std::vector<double> epoch_loss;
  for (int epoch = 0; epoch < 15; ++epoch) {
    double total = 0;
    int64_t count = 0;
    for (const data::Sample& b : loader) {
      opt.zero_grad();
      Tensor loss = criterion((*model)(b[0]), b[1]);
      loss.backward();
      opt.step();
      total += loss.item();
      ++count;
    }
    epoch_loss.push_back(total / double(count));
  }
  EXPECT_LT(epoch_loss.back(), 0.5 * epoch_loss.front())
      << "first " << epoch_loss.front() << " last " << epoch_loss.back();
  model->eval();
  GradModeGuard no_grad(false);
  const double acc = mean(cast(eq(argmax((*model)(x), 1), y), DType::Float32)).item();
  EXPECT_GT(acc, 0.9);
}
