// A library built by ember-compile, loaded with dlopen and driven through its C API (NAME.h):
// what `ember-run libNAME.so` runs.
#pragma once

#include "ember/Tensor.h"
#include "ember/runtime/Error.h"

#include <cstring>
#include <dlfcn.h>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace ember {

class LibraryModel {
public:
  // `weights`: the weights file for a library compiled with --weights=file ("" = NAME.weights
  // beside the library).
  LibraryModel(const std::string& path, std::string weights) {
    struct stat st;
    EMBER_CHECK(::stat(path.c_str(), &st) == 0, Value, "ember-run", "cannot open '", path, "'");
    std::string base = path.substr(path.find_last_of('/') + 1);
    EMBER_CHECK(base.rfind("lib", 0) == 0 && base.size() > 6, Value, "ember-run", "'", path,
                "' is not named libNAME.so, as ember-compile names its libraries");
    name_ = base.substr(3, base.size() - 6);
    // The path must contain a '/' or dlopen searches the library path instead.
    const std::string open = path.find('/') == std::string::npos ? "./" + path : path;
    handle_ = ::dlopen(open.c_str(), RTLD_NOW | RTLD_LOCAL);
    EMBER_CHECK(handle_ != nullptr, Value, "ember-run", "cannot load '", path, "': ", ::dlerror());
    auto create = sym<void* (*)()>("create");
    auto create_from_file = sym<void* (*)(const char*)>("create_from_file");
    auto create_error = sym<const char* (*)()>("create_error");
    auto embedded = sym<int (*)()>("weights_embedded");
    destroy_ = sym<void (*)(void*)>("destroy");
    set_input_ = sym<int (*)(void*, const char*, const void*)>("set_input");
    run_ = sym<int (*)(void*)>("run");
    get_output_ = sym<const void* (*)(void*, const char*)>("get_output_data");
    last_error_ = sym<const char* (*)(const void*)>("last_error");
    for (int k = 0; k < 2; ++k) {
      const std::string io = k ? "output" : "input";
      const int n = sym<int (*)()>("num_" + io + "s")();
      auto nm = sym<const char* (*)(int)>(io + "_name");
      auto rank = sym<int (*)(int)>(io + "_rank");
      auto shape = sym<const int64_t* (*)(int)>(io + "_shape");
      auto dtype = sym<const char* (*)(int)>(io + "_dtype");
      for (int i = 0; i < n; ++i) {
        (k ? outNames_ : inNames_).push_back(nm(i));
        (k ? outTypes_ : inTypes_).push_back(dtype(i));
        const int64_t* s = shape(i);
        (k ? outShapes_ : inShapes_).push_back(Shape(s, s + rank(i)));
      }
    }
    if (embedded() && weights.empty()) {
      session_ = create();
    } else {
      if (weights.empty()) weights = path.substr(0, path.size() - base.size()) + name_ + ".weights";
      session_ = create_from_file(weights.c_str());
    }
    EMBER_CHECK(session_ != nullptr, Value, "ember-run", "cannot create a session of '", path,
                "': ", create_error());
  }
  ~LibraryModel() {
    if (session_) destroy_(session_);
    // The library stays loaded: its thread pool may still hold threads.
  }
  LibraryModel(const LibraryModel&) = delete;
  LibraryModel& operator=(const LibraryModel&) = delete;

  // The library's kernel threads (NAME_set_num_threads; a library from before it was added
  // has no such function and is refused).
  void setNumThreads(int n) {
    auto set = sym<int (*)(int)>("set_num_threads");
    auto get = sym<int (*)()>("get_num_threads");
    EMBER_CHECK(set(n) == 0 && get() == n, Value, "ember-run", "the library refused ", n, " threads");
  }

  const std::vector<std::string>& inputNames() const { return inNames_; }
  const std::vector<std::string>& outputNames() const { return outNames_; }
  const std::vector<std::string>& inputDTypes() const { return inTypes_; }

  std::vector<Tensor> run(const std::vector<Tensor>& inputs) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      EMBER_CHECK(inputs[i].shape() == inShapes_[i], Value, "ember-run", "input '", inNames_[i],
                  "' has shape ", shape_str(inputs[i].shape()), " but the library takes ",
                  shape_str(inShapes_[i]), " (ember-compile fixed it; recompile with --shape to change it)");
      EMBER_CHECK(dtype_name(inputs[i].dtype()) == inTypes_[i], Type, "ember-run", "input '",
                  inNames_[i], "' is ", dtype_name(inputs[i].dtype()), " but the library takes ",
                  inTypes_[i]);
      keep_.push_back(inputs[i].contiguous());
      check(set_input_(session_, inNames_[i].c_str(), keep_.back().raw_data()));
    }
    check(run_(session_));
    std::vector<Tensor> out;
    for (size_t i = 0; i < outNames_.size(); ++i) {
      const void* p = get_output_(session_, outNames_[i].c_str());
      EMBER_CHECK(p != nullptr, Runtime, "ember-run", "the library gave no output '", outNames_[i], "'");
      DType d = DType::Float32;
      for (DType c : {DType::Int64, DType::Int32, DType::Bool})
        if (outTypes_[i] == dtype_name(c)) d = c;
      Tensor t = empty(outShapes_[i], d);
      std::memcpy(t.raw_data(), p, size_t(t.numel()) * itemsize(d));
      out.push_back(t);
    }
    keep_.clear();
    return out;
  }

private:
  template <typename F>
  F sym(const std::string& suffix) {
    void* p = ::dlsym(handle_, (name_ + "_" + suffix).c_str());
    EMBER_CHECK(p != nullptr, Value, "ember-run", "the library has no function ", name_, "_", suffix,
                ": it is not an ember-compile library of model '", name_, "' (or an older one)");
    return reinterpret_cast<F>(p);
  }
  void check(int rc) {
    // Code 3: an index input out of range (the library's message names the op and the index).
    EMBER_CHECK(rc != 3, Index, "ember-run", "the library failed (code 3): ", last_error_(session_));
    EMBER_CHECK(rc == 0, Value, "ember-run", "the library failed (code ", rc, "): ", last_error_(session_));
  }
  std::string name_;
  void* handle_ = nullptr;
  void* session_ = nullptr;
  void (*destroy_)(void*) = nullptr;
  int (*set_input_)(void*, const char*, const void*) = nullptr;
  int (*run_)(void*) = nullptr;
  const void* (*get_output_)(void*, const char*) = nullptr;
  const char* (*last_error_)(const void*) = nullptr;
  std::vector<std::string> inNames_, outNames_, inTypes_, outTypes_;
  std::vector<Shape> inShapes_, outShapes_;
  std::vector<Tensor> keep_;
};

} // namespace ember
