// Runs a CUDA plan (runtime/CudaPlan.h) on tensors: checks each input against the plan's
// shapes, dtypes and device, reads it in place (a contiguous copy where it is strided), and
// returns new output tensors. `device` is the CUDA device index, or -1 for a runner over the
// host emulation (CPU tensors). What ember.compile on CUDA and _C._cuda_plan_runner both run.
#pragma once

#include "ember/Tensor.h"
#include "ember/runtime/CudaPlan.h"

#include <vector>

namespace ember {

std::vector<Tensor> run_cuda_plan(cuda::PlanRunner& runner, const std::vector<Tensor>& inputs, int device,
                                  const char* context);

} // namespace ember
