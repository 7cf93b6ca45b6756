// The symbols JIT-compiled code may call (ember's CPU kernels), by their linker names.
#pragma once

#include <utility>
#include <vector>

namespace ember::compiler {

std::vector<std::pair<const char*, void*>> cpuRuntimeSymbols();

} // namespace ember::compiler
