// Plans for CUDA devices: their text form and their runner (see CudaPlan.h).
#include "ember/runtime/CudaPlan.h"

#include "ember/runtime/Cublas.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace ember::cuda {
namespace {

constexpr const char* kMagic = "ember-cuda-plan";
constexpr const char* kCtx = "cuda.plan";

void putBlob(std::ostringstream& os, const std::string& s) { os << s.size() << "\n" << s << "\n"; }

// A reader over the text form; every failure names what it expected.
struct Reader {
  const std::string& text;
  size_t pos = 0;

  [[noreturn]] void bad(const std::string& what) {
    fail(ErrorKind::Value, kCtx, "malformed plan: expected ", what, " at byte ", pos,
         " (the plan is truncated, corrupt, or from another ember version)");
  }
  std::string word(const char* what) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n')) ++pos;
    size_t end = pos;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n') ++end;
    if (end == pos) bad(what);
    std::string w = text.substr(pos, end - pos);
    pos = end;
    return w;
  }
  int64_t integer(const char* what, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) {
    std::string w = word(what);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(w.c_str(), &end, 10);
    if (errno || *end || v < lo || v > hi) bad(what);
    return v;
  }
  void expect(const char* keyword) {
    if (word(keyword) != keyword) bad(keyword);
  }
  std::string blob(const char* what) {
    const int64_t n = integer(what, 0, int64_t(text.size()));
    if (pos >= text.size() || text[pos] != '\n' || pos + 1 + size_t(n) > text.size()) bad(what);
    std::string s = text.substr(pos + 1, size_t(n));
    pos += 1 + size_t(n);
    return s;
  }
};

} // namespace

std::string Plan::serialize() const {
  std::ostringstream os;
  os << kMagic << " " << kVersion << "\n";
  os << "buffers " << buffers.size() << "\n";
  for (const Buffer& b : buffers) {
    os << b.numel << " " << b.alias << " " << b.itemsize << " " << b.data.size();
    for (float f : b.data) {
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      os << " " << bits;
    }
    os << "\n";
  }
  auto values = [&](const char* name, const std::vector<int>& ids,
                    const std::vector<std::vector<int64_t>>& shapes, const std::vector<DType>& dtypes) {
    os << name << " " << ids.size() << "\n";
    for (size_t i = 0; i < ids.size(); ++i) {
      os << ids[i] << " " << dtype_name(i < dtypes.size() ? dtypes[i] : DType::Float32) << " " << shapes[i].size();
      for (int64_t d : shapes[i]) os << " " << d;
      os << "\n";
    }
  };
  values("inputs", inputs, input_shapes, input_dtypes);
  values("outputs", outputs, output_shapes, output_dtypes);
  os << "checks " << checks.size() << "\n";
  for (const Check& c : checks) os << c.op << " " << c.dim << " " << c.size << "\n";
  os << "kernels " << kernels.size() << "\n";
  for (const Kernel& k : kernels) {
    os << k.name << " " << k.checked << "\n";
    putBlob(os, k.source);
    putBlob(os, k.ptx);
  }
  os << "steps " << steps.size() << "\n";
  for (const Step& s : steps) {
    if (s.kind == StepKind::Launch) {
      os << (s.per_thread == 4 ? "launch4 " : s.per_thread == -32 ? "launch32 " : "launch ") << s.kernel << " " << s.n << " "
         << s.args.size();
    } else {
      os << "gemm " << s.trans_a << " " << s.trans_b << " " << s.m << " " << s.cols << " " << s.k
         << " " << s.lda << " " << s.ldb << " " << s.ldc << " " << s.sa << " " << s.sb << " " << s.sc
         << " " << s.batch << " " << s.args.size();
    }
    for (int a : s.args) os << " " << a;
    os << "\n";
  }
  os << "end\n";
  return os.str();
}

Plan Plan::parse(const std::string& text) {
  Reader r{text};
  EMBER_CHECK(r.word("the plan's magic") == kMagic, Value, kCtx,
              "not an ember CUDA plan (no '", kMagic, "' header)");
  const int64_t version = r.integer("a version");
  EMBER_CHECK(version == kVersion, Value, kCtx, "plan version ", version, " but this ember reads ",
              kVersion, "; compile the model again with this ember");
  Plan p;
  r.expect("buffers");
  const int64_t nb = r.integer("a buffer count", 0, 1 << 24);
  for (int64_t i = 0; i < nb; ++i) {
    Buffer b;
    b.numel = r.integer("a buffer size", 0);
    b.alias = int(r.integer("a buffer alias", -1, i - 1));
    b.itemsize = int(r.integer("an item size", 1, 8));
    const int64_t nd = r.integer("a constant size", 0, b.numel);
    EMBER_CHECK(nd == 0 || nd == 1 || nd == b.numel, Value, kCtx, "malformed plan: constant buffer ", i,
                " has ", nd, " values for ", b.numel, " elements");
    b.data.resize(size_t(nd));
    for (int64_t j = 0; j < nd; ++j) {
      const uint32_t bits = uint32_t(r.integer("a constant value", 0, UINT32_MAX));
      std::memcpy(&b.data[size_t(j)], &bits, 4);
    }
    if (b.alias >= 0)
      EMBER_CHECK(p.buffers[size_t(b.alias)].bytes() == b.bytes() && nd == 0, Value, kCtx,
                  "malformed plan: buffer ", i, " aliases buffer ", b.alias, " of another size");
    p.buffers.push_back(std::move(b));
  }
  auto values = [&](const char* name, std::vector<int>& ids, std::vector<std::vector<int64_t>>& shapes,
                    std::vector<DType>& dtypes) {
    r.expect(name);
    const int64_t n = r.integer("a count", 0, 1 << 20);
    for (int64_t i = 0; i < n; ++i) {
      ids.push_back(int(r.integer("a buffer id", 0, nb - 1)));
      DType dt;
      const std::string dtName = r.word("a dtype");
      EMBER_CHECK(dtype_from_name(dtName, dt) && (dt == DType::Float32 || dt == DType::Int64 || dt == DType::Bool),
                  Value, kCtx, "malformed plan: ", name, " ", i, " has dtype '", dtName,
                  "' (plans hold float32, int64 and bool values)");
      EMBER_CHECK(int(itemsize(dt)) == p.buffers[size_t(ids.back())].itemsize, Value, kCtx, "malformed plan: ",
                  name, " ", i, " is ", dtName, " but its buffer holds ", p.buffers[size_t(ids.back())].itemsize,
                  "-byte items");
      dtypes.push_back(dt);
      const int64_t rank = r.integer("a rank", 0, 64);
      std::vector<int64_t> shape;
      int64_t numel = 1;
      for (int64_t d = 0; d < rank; ++d) {
        shape.push_back(r.integer("a dimension", 0));
        numel *= shape.back();
      }
      EMBER_CHECK(numel == p.buffers[size_t(ids.back())].numel, Value, kCtx, "malformed plan: ",
                  name, " ", i, " has ", numel, " elements but its buffer ",
                  p.buffers[size_t(ids.back())].numel);
      shapes.push_back(std::move(shape));
    }
  };
  values("inputs", p.inputs, p.input_shapes, p.input_dtypes);
  values("outputs", p.outputs, p.output_shapes, p.output_dtypes);
  r.expect("checks");
  const int64_t nc = r.integer("a check count", 0, 1 << 20);
  for (int64_t i = 0; i < nc; ++i) {
    Check c;
    c.op = r.word("a checked op's name");
    c.dim = r.integer("a checked dimension", -1); // -1: an integer range check
    c.size = r.integer("a checked size", 0);
    p.checks.push_back(std::move(c));
  }
  r.expect("kernels");
  const int64_t nk = r.integer("a kernel count", 0, 1 << 20);
  for (int64_t i = 0; i < nk; ++i) {
    Kernel k;
    k.name = r.word("a kernel name");
    k.checked = r.integer("a checked flag", 0, 1);
    k.source = r.blob("a kernel source");
    k.ptx = r.blob("a kernel's PTX");
    p.kernels.push_back(std::move(k));
  }
  r.expect("steps");
  const int64_t ns = r.integer("a step count", 0, 1 << 24);
  for (int64_t i = 0; i < ns; ++i) {
    Step s;
    const std::string kind = r.word("a step kind");
    if (kind == "launch" || kind == "launch4" || kind == "launch32") {
      s.kind = StepKind::Launch;
      s.per_thread = kind == "launch4" ? 4 : kind == "launch32" ? -32 : 1;
      s.kernel = int(r.integer("a kernel index", 0, nk - 1));
      s.n = r.integer("an element count", 0);
    } else if (kind == "gemm") {
      s.kind = StepKind::Gemm;
      s.trans_a = r.integer("a flag", 0, 1);
      s.trans_b = r.integer("a flag", 0, 1);
      for (int64_t* f : {&s.m, &s.cols, &s.k, &s.lda, &s.ldb, &s.ldc, &s.sa, &s.sb, &s.sc, &s.batch})
        *f = r.integer("a GEMM size", 0);
    } else {
      r.bad("'launch', 'launch4', 'launch32' or 'gemm'");
    }
    const int64_t na = r.integer("an argument count", 0, 1 << 16);
    for (int64_t j = 0; j < na; ++j) s.args.push_back(int(r.integer("a buffer id", 0, nb - 1)));
    EMBER_CHECK(s.kind == StepKind::Launch ? na >= 1 : na == 3, Value, kCtx, "malformed plan: step ",
                i, " has ", na, " buffers");
    p.steps.push_back(std::move(s));
  }
  r.expect("end");
  return p;
}

namespace {

class CudaBackend final : public PlanBackend {
public:
  explicit CudaBackend(int index) : index_(index) {}
  void prepare(const Plan& plan) override {
    require("cuda.plan", index_);
    set_device(index_);
    for (const Plan::Kernel& k : plan.kernels)
      fns_.push_back(k.ptx.empty() ? get_kernel(k.source, k.name) : get_kernel_image(k.ptx, k.name));
  }
  void* alloc(std::size_t bytes) override { return device_alloc(bytes, index_); }
  void free(void* ptr, std::size_t bytes) noexcept override { device_free(ptr, bytes, index_); }
  void upload(void* dst, const void* src, std::size_t bytes) override {
    copy_host_to_device(dst, src, bytes);
  }
  void download(void* dst, const void* src, std::size_t bytes) override {
    copy_device_to_host(dst, src, bytes);
  }
  void copy(void* dst, const void* src, std::size_t bytes) override {
    copy_device_to_device(dst, src, bytes);
  }
  void launch(int kernel, unsigned grid, unsigned block, void** args) override {
    cuda::launch(fns_[size_t(kernel)], grid, block, args);
  }
  void gemm(const Plan::Step& s, const float* a, const float* b, float* c) override {
    cuda::gemm(DType::Float32, s.trans_a, s.trans_b, s.m, s.cols, s.k, a, s.lda, s.sa, b, s.ldb,
               s.sb, c, s.ldc, s.sc, s.batch);
  }

private:
  int index_;
  std::vector<void*> fns_;
};

} // namespace

std::unique_ptr<PlanBackend> cuda_backend(int index) { return std::make_unique<CudaBackend>(index); }

namespace {
// Device memory for a buffer (at least one byte: an empty buffer still gets a pointer).
std::size_t alloc_bytes(const Plan::Buffer& b) { return std::max<std::size_t>(b.bytes(), 1); }
} // namespace

PlanRunner::PlanRunner(Plan plan, std::unique_ptr<PlanBackend> backend)
    : plan_(std::move(plan)), backend_(std::move(backend)) {
  backend_->prepare(plan_);
  const size_t n = plan_.buffers.size();
  root_.resize(n);
  owned_.assign(n, nullptr);
  ptr_.assign(n, nullptr);
  std::vector<bool> is_input(n, false);
  for (int i : plan_.inputs) is_input[size_t(i)] = true;
  for (size_t i = 0; i < n; ++i) {
    const Plan::Buffer& b = plan_.buffers[i];
    root_[i] = b.alias >= 0 ? root_[size_t(b.alias)] : int(i);
  }
  // Which root buffers may share memory, and over which steps each is live (first and last
  // step that names it or an alias of it).
  std::vector<bool> shared(n, false);
  std::vector<int64_t> first(n, -1), last(n, -1);
  for (size_t i = 0; i < n; ++i)
    shared[i] = plan_.buffers[i].alias < 0 && !is_input[i] && plan_.buffers[i].data.empty();
  for (int o : plan_.outputs) shared[size_t(root_[size_t(o)])] = false;
  for (size_t s = 0; s < plan_.steps.size(); ++s)
    for (int a : plan_.steps[s].args) {
      const size_t r = size_t(root_[size_t(a)]);
      if (first[r] < 0) first[r] = int64_t(s);
      last[r] = int64_t(s);
    }
  // Greedy in step order: free the blocks of buffers whose last step has passed, then give
  // each buffer first named at this step the smallest free block that holds it.
  std::vector<std::vector<size_t>> starts(plan_.steps.size()), ends(plan_.steps.size());
  for (size_t i = 0; i < n; ++i) {
    if (!shared[i] || first[i] < 0) continue;
    starts[size_t(first[i])].push_back(i);
    ends[size_t(last[i])].push_back(i);
  }
  std::vector<size_t> block_of(n, SIZE_MAX), free_blocks;
  auto bytes_of = [&](size_t i) { return alloc_bytes(plan_.buffers[i]); };
  std::vector<std::size_t> want; // planned block sizes
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    for (size_t i : starts[s]) {
      size_t best = SIZE_MAX;
      for (size_t k = 0; k < free_blocks.size(); ++k)
        if (want[free_blocks[k]] >= bytes_of(i) &&
            (best == SIZE_MAX || want[free_blocks[k]] < want[free_blocks[best]]))
          best = k;
      if (best == SIZE_MAX) {
        block_of[i] = want.size();
        want.push_back(bytes_of(i));
      } else {
        block_of[i] = free_blocks[best];
        free_blocks.erase(free_blocks.begin() + std::ptrdiff_t(best));
      }
    }
    for (size_t i : ends[s]) free_blocks.push_back(block_of[i]);
  }
  for (std::size_t bytes : want) blocks_.push_back({backend_->alloc(bytes), bytes});
  for (size_t i = 0; i < n; ++i) {
    const Plan::Buffer& b = plan_.buffers[i];
    if (b.alias >= 0 || is_input[i]) continue;
    if (block_of[i] != SIZE_MAX) {
      owned_[i] = blocks_[block_of[i]].first;
      continue;
    }
    blocks_.push_back({backend_->alloc(bytes_of(i)), bytes_of(i)});
    owned_[i] = blocks_.back().first;
    if (b.data.size() == 1 && b.numel > 1) { // a splat: one value, every element
      const std::vector<float> filled(size_t(b.numel), b.data[0]);
      backend_->upload(owned_[i], filled.data(), filled.size() * sizeof(float));
    } else if (!b.data.empty()) {
      backend_->upload(owned_[i], b.data.data(), b.data.size() * sizeof(float));
    }
  }
  if (std::any_of(plan_.kernels.begin(), plan_.kernels.end(), [](const Plan::Kernel& k) { return k.checked; })) {
    status_ = backend_->alloc(2 * sizeof(int64_t));
    const int64_t zero[2] = {0, 0};
    backend_->upload(status_, zero, sizeof zero);
  }
  // Outputs the plan computes into memory of its own (not an input, not a constant, not
  // listed twice): run_device computes them into the caller's memory instead, with no copy.
  direct_.assign(plan_.outputs.size(), false);
  std::vector<bool> bound(n, false);
  for (size_t k = 0; k < plan_.outputs.size(); ++k) {
    const size_t b = size_t(plan_.outputs[k]);
    if (!owned_[b] || !plan_.buffers[b].data.empty() || bound[b] || !plan_.buffers[b].numel) continue;
    bound[b] = true;
    direct_[k] = true;
  }
}

PlanRunner::~PlanRunner() {
  if (status_) backend_->free(status_, 2 * sizeof(int64_t));
  for (const auto& [block, bytes] : blocks_) backend_->free(block, bytes);
  for (size_t i = 0; i < host_inputs_.size(); ++i)
    if (host_inputs_[i])
      backend_->free(host_inputs_[i], alloc_bytes(plan_.buffers[size_t(plan_.inputs[i])]));
}

void PlanRunner::execute(const std::vector<void*>* direct) {
  for (size_t i = 0; i < ptr_.size(); ++i)
    if (owned_[i]) ptr_[i] = owned_[i];
  if (direct)
    for (size_t k = 0; k < plan_.outputs.size(); ++k)
      if (direct_[k]) ptr_[size_t(plan_.outputs[k])] = (*direct)[k];
  for (size_t i = 0; i < ptr_.size(); ++i) ptr_[i] = ptr_[size_t(root_[i])];
  std::vector<void*> argv;
  for (const Plan::Step& s : plan_.steps) {
    if (s.kind == Plan::StepKind::Gemm) {
      backend_->gemm(s, static_cast<const float*>(ptr_[size_t(s.args[0])]),
                     static_cast<const float*>(ptr_[size_t(s.args[1])]),
                     static_cast<float*>(ptr_[size_t(s.args[2])]));
      continue;
    }
    if (s.n == 0) continue;
    argv.clear();
    for (const int& a : s.args) argv.push_back(&ptr_[size_t(a)]);
    long long n = s.n;
    argv.push_back(&n);
    if (plan_.kernels[size_t(s.kernel)].checked) argv.push_back(&status_);
    const long long threads =
        s.per_thread > 0 ? (s.n + s.per_thread - 1) / s.per_thread : s.n * -s.per_thread;
    backend_->launch(s.kernel, unsigned((threads + 255) / 256), 256, argv.data());
  }
}

void PlanRunner::run_device(const std::vector<const void*>& inputs, const std::vector<void*>& outputs) {
  EMBER_CHECK(inputs.size() == plan_.inputs.size() && outputs.size() == plan_.outputs.size(), Value,
              kCtx, "the plan takes ", plan_.inputs.size(), " inputs and ", plan_.outputs.size(),
              " outputs, got ", inputs.size(), " and ", outputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) ptr_[size_t(plan_.inputs[i])] = const_cast<void*>(inputs[i]);
  execute(&outputs);
  raise_failed_check();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const int b = plan_.outputs[i];
    if (plan_.buffers[size_t(b)].numel && !direct_[i])
      backend_->copy(outputs[i], ptr_[size_t(b)], plan_.buffers[size_t(b)].bytes());
  }
}

void PlanRunner::run_host(const std::vector<const void*>& inputs, const std::vector<void*>& outputs) {
  EMBER_CHECK(inputs.size() == plan_.inputs.size() && outputs.size() == plan_.outputs.size(), Value,
              kCtx, "the plan takes ", plan_.inputs.size(), " inputs and ", plan_.outputs.size(),
              " outputs, got ", inputs.size(), " and ", outputs.size());
  allocate_host_inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int b = plan_.inputs[i];
    if (!kept_[i]) backend_->upload(host_inputs_[i], inputs[i], plan_.buffers[size_t(b)].bytes());
    ptr_[size_t(b)] = host_inputs_[i];
  }
  execute();
  raise_failed_check();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const int b = plan_.outputs[i];
    backend_->download(outputs[i], ptr_[size_t(b)], plan_.buffers[size_t(b)].bytes());
  }
}

void PlanRunner::raise_failed_check() {
  if (!status_) return;
  int64_t status[2];
  backend_->download(status, status_, sizeof status);
  if (status[0] == 0) return;
  const int64_t zero[2] = {0, 0};
  backend_->upload(status_, zero, sizeof zero);
  const int64_t k = status[0] - 1;
  EMBER_CHECK(k >= 0 && size_t(k) < plan_.checks.size(), Runtime, kCtx, "a kernel reported check ", status[0],
              " of a plan with ", plan_.checks.size());
  const Plan::Check& c = plan_.checks[size_t(k)];
  if (c.dim < 0) // an integer result's range (plans compute integers as exact float32 values)
    fail(ErrorKind::NotImplemented, c.op, "an integer result reached ", status[1], ", beyond +-", c.size,
         ", where the CUDA backend's float32 values stop holding integers exactly (in a CUDA plan); "
         "run this function eagerly on CUDA");
  fail(ErrorKind::Index, c.op, "index ", status[1], " is out of bounds for dimension ", c.dim, " with size ",
       c.size, " (in a CUDA plan)");
}

std::size_t PlanRunner::device_bytes() const {
  std::size_t total = 0;
  for (const auto& block : blocks_) total += block.second;
  return total;
}

std::size_t PlanRunner::unplanned_bytes() const {
  std::size_t total = 0;
  for (size_t i = 0; i < plan_.buffers.size(); ++i)
    if (owned_[i]) total += alloc_bytes(plan_.buffers[i]);
  return total;
}

void PlanRunner::allocate_host_inputs() {
  if (!host_inputs_.empty() || plan_.inputs.empty()) return;
  host_inputs_.assign(plan_.inputs.size(), nullptr);
  kept_.assign(plan_.inputs.size(), false);
  for (size_t i = 0; i < plan_.inputs.size(); ++i)
    host_inputs_[i] = backend_->alloc(alloc_bytes(plan_.buffers[size_t(plan_.inputs[i])]));
}

void PlanRunner::keep_host_inputs(size_t first, const std::vector<const void*>& data) {
  EMBER_CHECK(first + data.size() <= plan_.inputs.size(), Value, kCtx, "inputs ", first, "..",
              first + data.size(), " of a plan with ", plan_.inputs.size());
  allocate_host_inputs();
  for (size_t j = 0; j < data.size(); ++j) {
    const size_t i = first + j;
    backend_->upload(host_inputs_[i], data[j], plan_.buffers[size_t(plan_.inputs[i])].bytes());
    kept_[i] = true;
  }
}

} // namespace ember::cuda
