// Internal: while trace() runs with state tensors (a compiled function's parameters, buffers
// and closed-over tensors), each stands for a placeholder input of the graph: every op that
// reads one records it, so values derived only from state are computed at each call instead
// of being baked into the graph as constants at trace time.
#pragma once

#include "ember/Graph.h"
#include "ember/Tensor.h"

namespace ember::detail {

// The placeholder standing for `t` in the running trace (t itself when it is not state).
const Tensor& traced_state(const Tensor& t);
// Whether a trace with state substitution is running on this thread.
bool tracing_state();
// An in-place write of `value` into `self` under such a trace: when self is a state tensor,
// its placeholder now stands for value (the graph returns it and ember.compile writes it back
// after each call) and this returns true; false when self is not state. A write into a view
// of a state tensor is an error.
bool write_state(const Tensor& self, const Tensor& value, const char* op);
// Marks that placeholder `t`'s .grad was assigned during the trace (zero_grad inside the
// function); grad_assigned says whether it was.
void note_grad_assigned(const Tensor& t);
bool grad_assigned(const Tensor& t);
// A random fill `op` of `t` while a trace runs: t (a tensor the function just made, e.g. by
// rand's empty()) becomes a symbolic input of the graph, drawn at each call (Graph::random), and
// this returns true (the caller fills nothing). False when no trace runs. A fill of a traced
// value, of a parameter or buffer, or of a view is an error (it cannot be compiled yet).
bool trace_random_draw(Tensor& t, RandomDraw::Kind kind, double a, double b, const char* op);
// Whether a trace runs on this thread (random ops that cannot be traced refuse then).
bool tracing();

} // namespace ember::detail
