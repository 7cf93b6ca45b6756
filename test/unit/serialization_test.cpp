// C++ ember::save / ember::load: safetensors round trips of every dtype, the byte layout
// Python's ember.save writes, atomic writes, and corrupt files as errors naming the problem.
// (C++ ↔ Python in both directions: test/python/test_cpp_api.py.)
#include "TestUtil.h"

#include "ember/Creation.h"
#include "ember/Serialization.h"
#include "ember/nn/Layers.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace ember;

namespace {

std::string temp_path(const std::string& name) { return testing::TempDir() + name; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file of the given JSON header and data bytes.
std::string safetensors(const std::string& header, const std::string& body) {
  uint64_t n = header.size();
  std::string out(reinterpret_cast<const char*>(&n), 8);
  return out + header + body;
}

std::string load_error(const std::string& path) {
  try {
    load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(Serialization, EveryDTypeRoundTrips) {
  StateDict sd;
  Tensor base = test::randn({3, 4}, 1);
  sd.insert("f32", base);
  sd.insert("f64", base.to(DType::Float64));
  sd.insert("f16", base.to(DType::Float16));
  sd.insert("bf16", base.to(DType::BFloat16));
  sd.insert("i64", arange(-5, 7, 1, DType::Int64));
  sd.insert("i32", arange(-5, 7, 1, DType::Int32));
  sd.insert("i16", arange(-5, 7, 1, DType::Int16));
  sd.insert("i8", arange(-5, 7, 1, DType::Int8));
  sd.insert("u8", arange(0, 250, 25, DType::UInt8));
  sd.insert("bool", gt(base, scalar(0)));
  sd.insert("scalar", full({}, 3.5));
  sd.insert("empty", zeros({0, 3}));
  sd.insert("transposed", transpose(base, 0, 1)); // saved as its values, row-major
  const std::string path = temp_path("ember_all_dtypes.safetensors");
  save(sd, path, {{"producer", "gtest"}});
  StateDict back = load(path);
  EXPECT_EQ(back.keys(), sd.keys());
  for (const auto& [key, t] : sd) {
    const Tensor& got = back.at(key);
    EXPECT_EQ(got.dtype(), t.dtype()) << key;
    EXPECT_EQ(got.shape(), t.shape()) << key;
    EXPECT_EQ(got.to_vector(), t.to_vector()) << key;
  }
  EXPECT_EQ(load_metadata(path).at("producer"), "gtest");
  std::remove(path.c_str());
}

TEST(Serialization, TheLayoutIsPythonsSafetensors) {
  const std::string path = temp_path("ember_layout.safetensors");
  save(StateDict{{"b", from_vector({1, 2}, {2})}, {"a", full({}, 5, DType::Int64)}}, path);
  const std::string bytes = read_bytes(path);
  uint64_t hlen = 0;
  std::memcpy(&hlen, bytes.data(), 8);
  EXPECT_EQ(hlen % 8, 0u);
  // The header json.dumps(..., separators=(",", ":")) gives, padded with spaces.
  const std::string want = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                           "\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}";
  EXPECT_EQ(bytes.substr(8, want.size()), want);
  EXPECT_EQ(bytes.substr(8 + want.size(), hlen - want.size()),
            std::string(hlen - want.size(), ' '));
  ASSERT_EQ(bytes.size(), 8 + hlen + 16);
  float f[2];
  std::memcpy(f, bytes.data() + 8 + hlen, 8);
  EXPECT_EQ(f[1], 2.0f);
  std::remove(path.c_str());
}

TEST(Serialization, WritesAreAtomic) {
  const std::string dir = temp_path("ember_atomic_dir");
  std::remove((dir + "/ckpt.safetensors").c_str());
  ::mkdir(dir.c_str(), 0700);
  const std::string path = dir + "/ckpt.safetensors";
  save(StateDict{{"x", ones({4})}}, path);
  save(StateDict{{"x", zeros({4})}}, path); // replaces it
  EXPECT_EQ(load(path).at("x").to_vector(), std::vector<float>(4, 0.0f));
  // No temporary file is left beside it.
  int entries = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) entries += e->d_name[0] != '.';
    closedir(d);
  }
  EXPECT_EQ(entries, 1);
  // A directory that does not exist: an error, no file.
  EXPECT_THROW(save(StateDict{{"x", ones({1})}}, dir + "/missing/ckpt.safetensors"), Error);
  // An undefined tensor: an error before anything is written; the old file stays.
  EXPECT_THROW(save(StateDict{{"x", Tensor()}}, path), Error);
  EXPECT_EQ(load(path).at("x").to_vector(), std::vector<float>(4, 0.0f));
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(Serialization, CorruptFilesAreErrorsNamingTheProblem) {
  const std::string path = temp_path("ember_corrupt.safetensors");
  const std::string ok = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
  const std::string data(8, '\0');
  struct Case {
    std::string bytes, expect;
  };
  const std::vector<Case> cases = {
      {"abc", "truncated"},
      {std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}", "larger than the limit"},
      {safetensors(ok, data).substr(0, 30), "runs past the end"},
      {safetensors("{\"x\": [1, 2", ""), "not valid JSON"},
      {safetensors("[1, 2]", ""), "not a JSON object"},
      {safetensors(std::string(100, '[') + std::string(100, ']'), ""), "nested too deeply"},
      {safetensors("{\"x\":{\"dtype\":\"F8\",\"shape\":[2],\"data_offsets\":[0,8]}}", data),
       "unknown dtype 'F8'"},
      {safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", data),
       "bad shape"},
      {safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", data),
       "bad data_offsets"},
      {safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,80]}}", data),
       "outside the data section"},
      {safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data),
       "needs 12 bytes but its data_offsets span 8"},
      {safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
                   "\"data_offsets\":[0,8]}}", data),
       "data_offsets span 8"},
      {safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data),
       "duplicate key"},
      {safetensors("{\"__metadata__\":{\"a\":1}}", ""), "__metadata__ must map strings"},
  };
  for (const Case& c : cases) {
    write_bytes(path, c.bytes);
    const std::string e = load_error(path);
    EXPECT_NE(e.find(c.expect), std::string::npos) << "want '" << c.expect << "', got: " << e;
    EXPECT_NE(e.find(path), std::string::npos) << e;
  }
  EXPECT_NE(load_error(temp_path("ember_no_such_file")).find("cannot open"), std::string::npos);
  // A valid file with JSON escapes and spaces loads.
  write_bytes(path, safetensors("{ \"a\\u00e9\\n\" : {\"dtype\":\"U8\",\"shape\":[1],"
                                "\"data_offsets\":[0,1]}}   ", "\x07"));
  StateDict sd = load(path);
  EXPECT_EQ(sd.at("a\xc3\xa9\n").item(), 7);
  std::remove(path.c_str());
}

TEST(Serialization, ModulesSaveAndLoadTheirStateDicts) {
  manual_seed(0);
  nn::Sequential a, b;
  a.add(std::make_shared<nn::Linear>(3, 4)).add(std::make_shared<nn::BatchNorm1d>(4));
  b.add(std::make_shared<nn::Linear>(3, 4)).add(std::make_shared<nn::BatchNorm1d>(4));
  a(test::randn({6, 3}, 2));
  const std::string path = temp_path("ember_module.safetensors");
  save(a, path);
  load(b, path);
  for (const auto& [key, t] : a.state_dict())
    EXPECT_EQ(b.state_dict().at(key).to_vector(), t.to_vector()) << key;
  nn::Linear other(3, 5);
  EXPECT_THROW(load(other, path), Error);
  std::remove(path.c_str());
}

// A GPU tensor is saved as its values (copied to the host); load gives CPU tensors.
TEST(CudaGPU, CppSaveCopiesGPUTensorsToTheFile) {
  if (!cuda::is_available()) GTEST_SKIP() << "no GPU: " << cuda::unavailable_reason();
  Tensor host = test::randn({3, 5}, 4);
  const std::string path = temp_path("ember_gpu.safetensors");
  save(StateDict{{"w", host.to(cuda_device(0))}}, path);
  Tensor back = load(path).at("w");
  EXPECT_FALSE(back.is_cuda());
  EXPECT_EQ(back.to_vector(), host.to_vector());
  std::remove(path.c_str());
}
