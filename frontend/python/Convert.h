// Conversions the binding files share (defined in module.cpp).
#pragma once

#include "ember/Tensor.h"

#include <nanobind/nanobind.h>

namespace ember::python {

// An ember.Tensor, or a Python number as a weak 0-d tensor (PyTorch's wrapped scalars);
// anything else is a TypeError naming `op`.
Tensor as_tensor(nanobind::handle h, const char* op);

} // namespace ember::python
