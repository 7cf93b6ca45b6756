// The symbols JIT-compiled code may call (ember's CPU kernels), by their linker names.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ember::compiler {

std::vector<std::pair<const char*, void*>> cpuRuntimeSymbols();

// What went wrong inside one call of compiled code: the first out-of-range index (compiled
// code cannot throw; it reports here and the caller raises after the call).
struct RunStatus {
  std::atomic<bool> failed{false};
  int64_t op = 0, index = 0, dim = 0, size = 0;
  // "ember.gather: index 7 is out of bounds for dimension 1 with size 5" (empty when fine).
  std::string message() const;
};

// Makes `status` the calling thread's run status while it lives (ember_parallel_for passes it
// on to the pool's threads); reports without one go to a process-wide status.
class RunStatusScope {
public:
  explicit RunStatusScope(RunStatus& status);
  ~RunStatusScope();
  RunStatusScope(const RunStatusScope&) = delete;
  RunStatusScope& operator=(const RunStatusScope&) = delete;

private:
  RunStatus* previous_;
};

} // namespace ember::compiler
