// ember._C.cuda and the device bindings of Tensor: device placement, copies between devices,
// and the CUDA runtime's queries (availability, memory, kernel cache).
#include "ember/Graph.h"
#include "ember/Tensor.h"
#include "ember/runtime/Cublas.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Device.h"
#include "ember/runtime/Error.h"

#include <csignal>
#include <cstdlib>
#include <execinfo.h>
#include <unistd.h>

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;

namespace ember {

void bind_cuda(nb::module_& m) {
  // EMBER_CUDA_TRACE: a crash prints the native frames (GPU machines have no debugger).
  if (std::getenv("EMBER_CUDA_TRACE"))
    std::signal(SIGSEGV, [](int) {
      void* frames[64];
      int n = backtrace(frames, 64);
      backtrace_symbols_fd(frames, n, STDERR_FILENO);
      _exit(139);
    });
  m.def("_device_of", [](const Tensor& t) { return t.device().str(); });
  m.def("_parse_device", [](const std::string& s) { return parse_device(s).str(); });
  // Moving between devices is differentiable, as in PyTorch: the gradient moves back.
  m.def("_to_device", [](const Tensor& t, const std::string& d) {
    const Device target = parse_device(d), source = t.device();
    Tensor out = t.to(target);
    if (target == source || !t.requires_grad() || !grad_enabled()) return out;
    auto fn = std::make_shared<CustomBackward>();
    fn->name = "ToCopyBackward0";
    fn->backward = [source](const Tensor& g, const Tensor&) {
      return std::vector<Tensor>{g.to(source)};
    };
    return autograd::record_custom(out, {t}, std::move(fn));
  });
  m.def("_full_on", [](const Shape& s, double v, DType d, const std::string& dev) {
    return full(s, v, d, parse_device(dev));
  });
  m.def("_empty_on", [](const Shape& s, DType d, const std::string& dev) {
    return empty(s, d, parse_device(dev));
  });

  nb::module_ c = m.def_submodule("cuda", "CUDA devices (the driver is loaded at run time)");
  c.def("is_available", &cuda::is_available);
  c.def("device_count", &cuda::device_count);
  c.def("built_with_cuda", &cuda::built_with_cuda);
  c.def("unavailable_reason", &cuda::unavailable_reason);
  c.def("synchronize", [](std::optional<int> d) {
    if (d) cuda::set_device(*d);
    cuda::synchronize();
  }, nb::arg("device") = nb::none());
  c.def("set_device", &cuda::set_device, nb::arg("device"));
  c.def("current_device", &cuda::current_device);
  c.def("get_device_name", [](int d) { return cuda::device_name(d); }, nb::arg("device") = 0);
  c.def("get_device_capability", [](int d) { return cuda::compute_capability(d); },
        nb::arg("device") = 0);
  c.def("memory_allocated", [](int d) { return cuda::allocator_stats(d).allocated_bytes; },
        nb::arg("device") = 0);
  c.def("max_memory_allocated", [](int d) { return cuda::allocator_stats(d).peak_allocated_bytes; },
        nb::arg("device") = 0);
  c.def("memory_reserved", [](int d) { return cuda::allocator_stats(d).reserved_bytes; },
        nb::arg("device") = 0);
  c.def("_device_allocations", [](int d) { return cuda::allocator_stats(d).device_allocations; },
        nb::arg("device") = 0);
  c.def("reset_peak_memory_stats", &cuda::reset_peak_memory_stats, nb::arg("device") = 0);
  c.def("empty_cache", &cuda::empty_cache);
  c.def("_kernel_cache_stats", [] {
    auto s = cuda::kernel_cache_stats();
    nb::dict d;
    d["compiled"] = s.compiled;
    d["disk_hits"] = s.disk_hits;
    d["memory_hits"] = s.memory_hits;
    d["compile_ms"] = s.compile_ms;
    return d;
  });
  c.def("_set_allow_tf32", &cuda::set_allow_tf32);
  c.def("_allow_tf32", &cuda::allow_tf32);
}

} // namespace ember
