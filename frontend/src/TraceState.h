// Internal: while trace() runs with state tensors (a compiled function's parameters, buffers
// and closed-over tensors), each stands for a placeholder input of the graph: every op that
// reads one records it, so values derived only from state are computed at each call instead
// of being baked into the graph as constants at trace time.
#pragma once

#include "ember/Tensor.h"

namespace ember::detail {

// The placeholder standing for `t` in the running trace (t itself when it is not state).
const Tensor& traced_state(const Tensor& t);
// Whether a trace with state substitution is running on this thread.
bool tracing_state();

} // namespace ember::detail
