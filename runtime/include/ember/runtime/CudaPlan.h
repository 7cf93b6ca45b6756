// A compiled graph for CUDA devices, as data: the buffers of its values, its generated kernels
// (CUDA C, and PTX where compiled ahead of time) and the steps that run them (kernel launches
// and cuBLAS GEMMs). The compiler (compiler/lib/CudaPlanBuilder.cpp) builds plans from the ember
// dialect; this header and its runner need no MLIR, so a plan made on a machine with the
// compiler runs on a machine without it (ember.compile on CUDA tensors, ember-compile
// --target=cuda libraries, and the GPU machine's tests all run plans through PlanRunner).
#pragma once

#include "ember/runtime/DType.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ember::cuda {

struct Plan {
  static constexpr int kVersion = 2;

  // Storage of one value, contiguous and row-major: float32 (bool and integer values travel
  // as exact floats), except the integer and bool inputs and outputs as the caller holds them
  // (itemsize 8: int64, 1: bool), which conversion kernels read and write.
  struct Buffer {
    int64_t numel = 0;
    int alias = -1;          // >= 0: shares that (earlier) buffer's memory (a reshape)
    int itemsize = 4;
    std::vector<float> data; // a constant's contents (one value: a splat), empty otherwise
    std::size_t bytes() const { return std::size_t(numel) * std::size_t(itemsize); }
  };
  // A generated kernel. Every kernel's parameters are (const float* in..., float* out, long long
  // n), and then `long long* status` where `checked`; it is launched with one thread per index
  // in [0, n), in blocks of 256.
  struct Kernel {
    std::string name;   // names the ops it came from, e.g. ember_add_relu_0
    std::string source; // a complete CUDA C translation unit
    std::string ptx;    // compiled ahead of time (compute_80), or empty: NVRTC at load
    // Reads indices and checks them: an index out of range sets status[0] to the number of
    // the failing check (1 + its position in `checks`) and status[1] to the index, where
    // status[0] is still 0; the runner raises it after the steps.
    bool checked = false;
  };
  // What a bounds check tests, for the error: `op`'s index along `dim` must lie in [0, size)
  // (negative ones wrap first where the op allows them); dim -1: an integer result of `op`
  // must stay below `size` (2^24) in magnitude, where float32 holds integers exactly.
  struct Check {
    std::string op; // e.g. "ember.index_select"
    int64_t dim = 0, size = 0;
  };
  enum class StepKind { Launch, Gemm };
  struct Step {
    StepKind kind = StepKind::Launch;
    int kernel = -1;       // Launch: kernels[kernel] over args (buffers) and n
    std::vector<int> args; // Launch: input buffers then the output buffer; Gemm: a, b, c
    int64_t n = 0;
    // Launch: indices per thread (1, or 4: written "launch4"), or -32: a warp (32 threads) per
    // index ("launch32").
    int per_thread = 1;
    // Gemm: row-major C[b] = op(A[b]) @ op(B[b]) (ember::cuda::gemm's arguments).
    bool trans_a = false, trans_b = false;
    int64_t m = 0, cols = 0, k = 0, lda = 0, ldb = 0, ldc = 0, sa = 0, sb = 0, sc = 0, batch = 1;
  };

  std::vector<Buffer> buffers;
  std::vector<int> inputs, outputs; // buffer ids, in the function's argument / result order
  std::vector<std::vector<int64_t>> input_shapes, output_shapes;
  std::vector<DType> input_dtypes, output_dtypes; // float32, int64 or bool
  std::vector<Kernel> kernels;
  std::vector<Step> steps;
  std::vector<Check> checks;

  // A versioned, self-delimiting text form (kernel sources and PTX embedded verbatim).
  std::string serialize() const;
  // Throws ember::Error (Value) naming what is wrong in a malformed or foreign text.
  static Plan parse(const std::string& text);
};

// Where a plan runs: device memory, kernels and GEMMs. cuda_backend() is ember's CUDA runtime
// (driver and cuBLAS through dlopen); tests substitute a host emulation.
class PlanBackend {
public:
  virtual ~PlanBackend() = default;
  // Called once before anything else with the plan it will run (e.g. to load every kernel).
  virtual void prepare(const Plan& plan) = 0;
  virtual void* alloc(std::size_t bytes) = 0;
  virtual void free(void* ptr, std::size_t bytes) noexcept = 0;
  virtual void upload(void* dst, const void* src, std::size_t bytes) = 0;
  virtual void download(void* dst, const void* src, std::size_t bytes) = 0;
  virtual void copy(void* dst, const void* src, std::size_t bytes) = 0;
  // Launches plan.kernels[kernel] with cuLaunchKernel-style argument pointers.
  virtual void launch(int kernel, unsigned grid, unsigned block, void** args) = 0;
  virtual void gemm(const Plan::Step& step, const float* a, const float* b, float* c) = 0;
};

// The CUDA backend on device `index` (kernels from the plan's PTX, or compiled with NVRTC).
std::unique_ptr<PlanBackend> cuda_backend(int index);

// Runs a plan: allocates its buffers once, uploads its constants, loads its kernels, then runs
// the steps per call. Not thread-safe (one call at a time per runner).
// Memory planning: intermediates (buffers neither inputs, outputs nor constants) whose step
// ranges do not overlap share device memory. In step order, a buffer takes the smallest free
// block that holds it (or a new one) at its first step and frees it after its last, so peak
// memory follows the live set instead of the sum of every value's size.
// A plan whose kernels check indices costs one synchronising read of a status word per call; an
// index out of range raises ember::Error (Index) naming the op, the index and the bound.
class PlanRunner {
public:
  PlanRunner(Plan plan, std::unique_ptr<PlanBackend> backend);
  ~PlanRunner();
  PlanRunner(const PlanRunner&) = delete;
  PlanRunner& operator=(const PlanRunner&) = delete;

  const Plan& plan() const { return plan_; }
  // Inputs and outputs in device memory: the inputs are read in place (the steps never write
  // them); the outputs land in `outputs` (numel * itemsize bytes each): the kernels write
  // straight into them, except outputs that are inputs, constants or repeats, which are copied.
  void run_device(const std::vector<const void*>& inputs, const std::vector<void*>& outputs);
  // Inputs and outputs in host memory: uploaded into, and downloaded from, the runner's buffers.
  // Inputs kept on the device by keep_host_inputs are not uploaded again (their entries in
  // `inputs` are ignored).
  void run_host(const std::vector<const void*>& inputs, const std::vector<void*>& outputs);
  // Uploads inputs [first, first + data.size()) once (e.g. the weights of a deployed model).
  void keep_host_inputs(size_t first, const std::vector<const void*>& data);
  // Device memory the runner holds for the plan's own buffers (not run_host's input copies),
  // and what it would hold with one allocation per buffer.
  std::size_t device_bytes() const;
  std::size_t unplanned_bytes() const;

private:
  // Runs the steps; `direct` (indexed like plan_.outputs) binds output buffers to the caller's
  // memory where direct_ allows.
  void execute(const std::vector<void*>* direct = nullptr);
  // After the steps of a plan with checked kernels: reads the status word (a synchronising
  // copy) and raises the first failed check as an ember::Error (Index), clearing it.
  void raise_failed_check();
  Plan plan_;
  void* status_ = nullptr;         // 2 x int64 on the device, where a kernel is checked
  std::vector<bool> direct_;       // per output: computed in place by execute(direct)
  std::unique_ptr<PlanBackend> backend_;
  std::vector<int> root_;          // each buffer's memory owner (itself unless an alias)
  std::vector<void*> owned_;       // memory per root buffer (nullptr for aliases / inputs)
  std::vector<std::pair<void*, std::size_t>> blocks_; // the allocations owned_ points into
  std::vector<void*> ptr_;         // resolved per call
  std::vector<void*> host_inputs_; // run_host's device copies of the inputs
  std::vector<bool> kept_;         // inputs uploaded once by keep_host_inputs
  void allocate_host_inputs();
};

} // namespace ember::cuda
