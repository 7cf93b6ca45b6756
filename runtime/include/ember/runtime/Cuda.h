// CUDA availability. The driver is loaded with dlopen at run time, never linked, so a binary
// built with the CUDA headers still starts (and reports CUDA unavailable) on a machine without it.
#pragma once

#include <string>

namespace ember::cuda {

// True when this build has GPU support compiled in (CUDA headers were found at build time).
bool built_with_cuda();
// True when the CUDA driver loads and reports at least one device.
bool is_available();
int device_count();
// Why CUDA is unavailable ("" when it is available).
std::string unavailable_reason();

} // namespace ember::cuda
