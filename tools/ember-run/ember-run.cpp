// ember-run: runs an exported model (.ember, through the JIT) or a library built by
// ember-compile (libNAME.so, through its C API) on .npy inputs from the command line.
//
//   ember-run model.ember|libNAME.so --input x=x.npy [--input ...] [--output-dir d/]
//             [--bench N] [--threads N] [--weights NAME.weights]
//
// Inputs are matched by the names given at export (or taken in order when given without a
// name); outputs are written as <output name>.npy (in their dtype) into --output-dir, whole files or
// none. --bench N times N more runs and prints the median and p90 latency and the peak host
// memory. Errors go to stderr with a non-zero exit code.
#include "ember/Tensor.h"
#include "ember/compiler/Export.h"
#include "LibraryModel.h"
#include "ember/runtime/Allocator.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace ember;

namespace {

const char* kUsage =
    "usage: ember-run MODEL.ember|libNAME.so --input NAME=FILE.npy [--input ...]\n"
    "                 [--output-dir DIR] [--bench N] [--threads N] [--weights FILE]\n"
    "\n"
    "Runs an exported ember model (ember.export; compiled by the JIT for the inputs' sizes) or a\n"
    "library built by ember-compile (its C API) on .npy inputs. Floating-point arrays are\n"
    "converted to float32 for float32 inputs, integer arrays to int64/int32 for integer inputs.\n"
    "  --input NAME=FILE.npy  an input by its export name (or FILE.npy alone: inputs in order)\n"
    "  --output-dir DIR       write each output as DIR/<output name>.npy (in its dtype)\n"
    "  --bench N              time N more runs: median and p90 latency, peak host memory\n"
    "  --threads N            kernel threads (default: all cores)\n"
    "  --weights FILE         a library's weights file (default: NAME.weights beside a library\n"
    "                         compiled with --weights=file)\n"
    "  --help                 this message\n";

// The value of key `key` in a .npy header dict, e.g. 'descr': '<f4'.
std::string header_field(const std::string& header, const std::string& key, const std::string& file) {
  const auto at = header.find("'" + key + "'");
  EMBER_CHECK(at != std::string::npos, Value, "ember-run", file, ": .npy header lacks '", key, "'");
  auto colon = header.find(':', at);
  auto start = header.find_first_not_of(' ', colon + 1);
  if (header[start] == '(') return header.substr(start, header.find(')', start) - start + 1);
  if (header[start] == '\'') return header.substr(start + 1, header.find('\'', start + 1) - start - 1);
  return header.substr(start, header.find_first_of(",}", start) - start);
}

// The .npy array as the model's input dtype `want`: floating arrays for float32 inputs, integer
// arrays for int64/int32 inputs, bool arrays for bool inputs.
Tensor read_npy(const std::string& file, const std::string& input, const std::string& want) {
  std::ifstream in(file, std::ios::binary);
  EMBER_CHECK(in.good(), Value, "ember-run", "cannot open input file '", file, "'");
  char magic[8];
  in.read(magic, 8);
  EMBER_CHECK(in.gcount() == 8 && std::memcmp(magic, "\x93NUMPY", 6) == 0, Value, "ember-run", file,
              " is not a .npy file (bad magic); write it with numpy.save");
  uint32_t header_len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  EMBER_CHECK(in.good(), Value, "ember-run", file, ": truncated .npy header");
  const std::string descr = header_field(header, "descr", file);
  EMBER_CHECK(header_field(header, "fortran_order", file) == "False", Value, "ember-run", file,
              ": Fortran-ordered arrays are not supported; save numpy.ascontiguousarray(a)");
  std::string dims = header_field(header, "shape", file);
  Shape shape;
  for (size_t i = 1; i < dims.size();) {
    size_t j = dims.find_first_of(",)", i);
    std::string tok = dims.substr(i, j - i);
    tok.erase(std::remove(tok.begin(), tok.end(), ' '), tok.end());
    if (!tok.empty()) shape.push_back(std::stoll(tok));
    i = j + 1;
  }
  static const std::map<std::string, DType> kTypes = {
      {"<f4", DType::Float32}, {"<f8", DType::Float64}, {"<f2", DType::Float16},
      {"<i8", DType::Int64},   {"<i4", DType::Int32},   {"<i2", DType::Int16},
      {"|i1", DType::Int8},    {"|u1", DType::UInt8},   {"|b1", DType::Bool}};
  auto it = kTypes.find(descr);
  EMBER_CHECK(it != kTypes.end(), Value, "ember-run", file, ": unsupported .npy dtype '", descr,
              "' (use little-endian float32/64, float16, int8-64, uint8 or bool)");
  Tensor t = empty(shape, it->second);
  const auto bytes = static_cast<std::streamsize>(t.numel() * int64_t(itemsize(t.dtype())));
  in.read(static_cast<char*>(t.raw_data()), bytes);
  EMBER_CHECK(in.gcount() == bytes, Value, "ember-run", file, ": truncated data (", in.gcount(),
              " of ", bytes, " bytes)");
  const bool integral = t.dtype() != DType::Bool && !is_floating(t.dtype());
  DType to = DType::Float32;
  bool fits = is_floating(t.dtype());
  if (want == "int64" || want == "int32") {
    to = want == "int64" ? DType::Int64 : DType::Int32;
    fits = integral;
  } else if (want == "bool") {
    to = DType::Bool;
    fits = t.dtype() == DType::Bool;
  }
  EMBER_CHECK(fits, Type, "ember-run", "input '", input, "' (", file, ") is ",
              dtype_name(t.dtype()), " but the model takes ", want, "; save ",
              want == "float32" ? "a floating-point" : want == "bool" ? "a bool" : "an integer",
              " array");
  return t.to(to);
}

void write_npy(const std::string& file, const Tensor& t0) {
  // float32, int64, int32 and bool outputs keep their dtype; others are written as float32.
  const DType d = t0.dtype();
  const bool kept = d == DType::Float32 || d == DType::Int64 || d == DType::Int32 || d == DType::Bool;
  Tensor t = (kept ? t0 : t0.to(DType::Float32)).contiguous();
  const char* descr = t.dtype() == DType::Int64   ? "<i8"
                      : t.dtype() == DType::Int32 ? "<i4"
                      : t.dtype() == DType::Bool  ? "|b1"
                                                  : "<f4";
  std::string dims = "(";
  for (size_t i = 0; i < t.shape().size(); ++i)
    dims += std::to_string(t.shape()[i]) + (t.shape().size() == 1 ? "," : (i + 1 < t.shape().size() ? ", " : ""));
  dims += ")";
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + dims + ", }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    EMBER_CHECK(out.good(), Value, "ember-run", "cannot write '", file, "'");
    out.write("\x93NUMPY\x01\x00", 8);
    const uint16_t len = static_cast<uint16_t>(header.size());
    const char lb[2] = {char(len & 0xff), char(len >> 8)};
    out.write(lb, 2);
    out << header;
    out.write(static_cast<const char*>(t.raw_data()), std::streamsize(t.numel() * int64_t(itemsize(t.dtype()))));
    EMBER_CHECK(out.good(), Value, "ember-run", "writing '", file, "' failed");
  }
  EMBER_CHECK(std::rename(tmp.c_str(), file.c_str()) == 0, Value, "ember-run", "cannot write '",
              file, "'");
}

int run(int argc, char** argv) {
  std::string model, out_dir, weights;
  std::vector<std::pair<std::string, std::string>> inputs;
  int bench = 0, threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> std::string {
      EMBER_CHECK(i + 1 < argc, Value, "ember-run", flag, " needs a value\n", kUsage);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--input") {
      std::string v = value("--input");
      auto eq = v.find('=');
      inputs.push_back(eq == std::string::npos ? std::make_pair(std::string(), v)
                                               : std::make_pair(v.substr(0, eq), v.substr(eq + 1)));
    } else if (a == "--weights") {
      weights = value("--weights");
    } else if (a == "--output-dir") {
      out_dir = value("--output-dir");
    } else if (a == "--bench" || a == "--threads") {
      std::string v = value(a.c_str());
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      EMBER_CHECK(*end == '\0' && n >= (a == "--bench" ? 0 : 1), Value, "ember-run", a,
                  " takes a positive integer, got '", v, "'");
      (a == "--bench" ? bench : threads) = int(n);
    } else if (a.rfind("--", 0) == 0) {
      fail(ErrorKind::Value, "ember-run", "unknown option ", a, "\n", kUsage);
    } else {
      EMBER_CHECK(model.empty(), Value, "ember-run", "more than one model given ('", model,
                  "', '", a, "')\n", kUsage);
      model = a;
    }
  }
  EMBER_CHECK(!model.empty(), Value, "ember-run", "no model given\n", kUsage);
  if (threads) set_num_threads(threads);
  const bool library = model.size() > 3 && model.compare(model.size() - 3, 3, ".so") == 0;
  EMBER_CHECK(library || weights.empty(), Value, "ember-run", "--weights is for libraries built by "
              "ember-compile; a .ember file holds its weights");
  std::unique_ptr<LibraryModel> lib;
  std::unique_ptr<ExportedModel> m;
  std::vector<std::string> names, outNames, dtypes;
  if (library) {
    lib = std::make_unique<LibraryModel>(model, weights);
    if (threads) lib->setNumThreads(threads); // the library's own thread pool
    names = lib->inputNames();
    dtypes = lib->inputDTypes();
    outNames = lib->outputNames();
  } else {
    m = std::make_unique<ExportedModel>(load_exported(model));
    names = m->input_names();
    dtypes = m->input_dtypes();
    outNames = m->output_names();
  }
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  EMBER_CHECK(inputs.size() == names.size(), Value, "ember-run", model, " takes ", names.size(),
              " input(s) (", known, "), got ", inputs.size());
  std::vector<Tensor> args(names.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    size_t slot = k;
    if (!inputs[k].first.empty()) {
      auto it = std::find(names.begin(), names.end(), inputs[k].first);
      EMBER_CHECK(it != names.end(), Value, "ember-run", "the model has no input '",
                  inputs[k].first, "' (its inputs: ", known, ")");
      slot = size_t(it - names.begin());
    }
    EMBER_CHECK(!args[slot].defined(), Value, "ember-run", "input '", names[slot], "' given twice");
    args[slot] = read_npy(inputs[k].second, names[slot], dtypes[slot]);
  }
  auto run_once = [&] { return lib ? lib->run(args) : m->run(args); };
  std::vector<Tensor> outs = run_once();
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string name = i < outNames.size() && !outNames[i].empty() ? outNames[i]
                                                                         : "output_" + std::to_string(i);
    std::printf("%s: shape %s\n", name.c_str(), shape_str(outs[i].shape()).c_str());
    if (!out_dir.empty()) write_npy(out_dir + "/" + name + ".npy", outs[i]);
  }
  if (bench > 0) {
    std::vector<double> ms;
    for (int i = 0; i < bench; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      run_once();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("bench: %d runs, median %.3f ms, p90 %.3f ms, peak host memory %.1f MiB\n", bench,
                ms[ms.size() / 2], ms[std::min(ms.size() - 1, size_t(ms.size() * 0.9))],
                double(host_allocator_stats().peak_allocated_bytes) / (1 << 20));
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
