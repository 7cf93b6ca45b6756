// Runs CUDA plans on the host (no GPU): the plan's kernels are compiled by the host C++
// compiler ($CXX, default c++) with stand-ins for CUDA's built-ins and run one thread at a
// time; GEMMs are loops. For tests and for bisecting the CUDA backend's code generation.
#pragma once

#include "ember/runtime/CudaPlan.h"

#include <memory>

namespace ember::compiler {

std::unique_ptr<cuda::PlanBackend> emulationBackend();

} // namespace ember::compiler
