// NVRTC, loaded with dlopen at first use: compiles generated CUDA C to PTX or a cubin. NVRTC
// needs no GPU, so the GPU code path is compiled (and checked) on every machine that has it.
#pragma once

#include <string>

namespace ember::cuda {

// True when libnvrtc could be loaded (and this build has the CUDA headers).
bool nvrtc_available();
// Why NVRTC is unavailable ("" when it is available).
std::string nvrtc_unavailable_reason();

struct CompiledKernel {
  std::string image; // a cubin for arch "sm_XX", PTX for "compute_XX"
  std::string log;   // NVRTC's log (warnings)
};

// Compiles `source` (file name `name` in messages) for `arch`, e.g. "sm_90" or "compute_80".
// Throws ember::Error carrying NVRTC's log when the source does not compile.
CompiledKernel nvrtc_compile(const std::string& source, const std::string& name,
                             const std::string& arch);

} // namespace ember::cuda
