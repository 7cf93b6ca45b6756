// The kernels' thread pool. Idle workers sleep on a condition variable (never spin), so a
// loaded 2-core machine keeps its cycles for whoever needs them.
#pragma once

#include <cstdint>
#include <functional>

namespace ember {

// Threads a parallel_for may use, the caller included (default: hardware concurrency).
void set_num_threads(int n);
int get_num_threads();

// Calls fn(begin, end) on disjoint chunks covering [0, n), in parallel when n > grain. Blocks
// until every chunk is done. Called from inside a chunk, it runs serially.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

} // namespace ember
