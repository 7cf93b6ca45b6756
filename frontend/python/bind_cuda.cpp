// ember._C.cuda and the device bindings of Tensor: device placement, copies between devices,
// and the CUDA runtime's queries (availability, memory, kernel cache).
#include "ember/Graph.h"
#include "ember/Tensor.h"
#include "ember/runtime/Cublas.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Device.h"
#include "ember/runtime/Error.h"

#include <csignal>
#include <cstring>
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
  // Moving between devices is differentiable, as in PyTorch: the gradient moves back. A
  // non_blocking copy from pinned host memory is queued on the current stream.
  m.def("_to_device", [](const Tensor& t, const std::string& d, bool non_blocking) {
    const Device target = parse_device(d), source = t.device();
    Tensor out;
    if (non_blocking && target.is_cuda() && source.is_cpu() && t.is_contiguous() && t.numel() &&
        cuda::is_pinned(t.raw_data())) {
      out = empty(t.shape(), t.dtype(), target);
      cuda::set_device(target.index);
      cuda::copy_host_to_device_async(out.raw_data(), t.raw_data(), size_t(t.numel()) * itemsize(t.dtype()));
    } else {
      out = t.to(target);
    }
    if (target == source || !t.requires_grad() || !grad_enabled()) return out;
    auto fn = std::make_shared<CustomBackward>();
    fn->name = "ToCopyBackward0";
    fn->backward = [source](const Tensor& g, const Tensor&) {
      return std::vector<Tensor>{g.to(source)};
    };
    return autograd::record_custom(out, {t}, std::move(fn));
  }, nb::arg("t"), nb::arg("device"), nb::arg("non_blocking") = false);
  // Tensor.pin_memory(): a copy in page-locked host memory, freed with cuMemFreeHost.
  m.def("_pin_memory", [](const Tensor& t) {
    EMBER_CHECK(t.device().is_cpu(), Runtime, "ember.Tensor.pin_memory", "cannot pin a ",
                t.device().str(), " tensor: only CPU tensors can be pinned");
    const Tensor src = t.contiguous();
    const size_t bytes = size_t(src.numel()) * itemsize(src.dtype());
    void* p = cuda::pinned_alloc(bytes);
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::make_shared<Storage>(p, bytes, std::shared_ptr<void>(p, cuda::pinned_free));
    impl->shape = src.shape();
    impl->strides = contiguous_strides(src.shape());
    impl->dtype = src.dtype();
    if (bytes) std::memcpy(p, src.raw_data(), bytes);
    return Tensor(std::move(impl));
  });
  m.def("_is_pinned", [](const Tensor& t) {
    return t.device().is_cpu() && t.storage() && t.storage()->data() && cuda::is_pinned(t.storage()->data());
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
  // Streams and events, as integer handles (ember/cuda_streams.py wraps them).
  auto h = [](void* p) { return reinterpret_cast<uintptr_t>(p); };
  auto v = [](uintptr_t x) { return reinterpret_cast<void*>(x); };
  c.def("_stream_create", [h](int d) { return h(cuda::stream_create(d)); });
  c.def("_stream_destroy", [v](uintptr_t s) { cuda::stream_destroy(v(s)); });
  c.def("_stream_synchronize", [v](uintptr_t s) { cuda::stream_synchronize(v(s)); });
  c.def("_stream_query", [v](uintptr_t s) { return cuda::stream_query(v(s)); });
  c.def("_current_stream", [h] { return h(cuda::current_stream()); });
  c.def("_set_stream", [v](uintptr_t s) { cuda::set_current_stream(v(s)); });
  c.def("_stream_wait_event", [v](uintptr_t s, uintptr_t e) { cuda::stream_wait_event(v(s), v(e)); });
  c.def("_event_create", [h](bool timing) { return h(cuda::event_create(timing)); });
  c.def("_event_destroy", [v](uintptr_t e) { cuda::event_destroy(v(e)); });
  c.def("_event_record", [v](uintptr_t e, uintptr_t s) { cuda::event_record(v(e), v(s)); });
  c.def("_event_synchronize", [v](uintptr_t e) { cuda::event_synchronize(v(e)); });
  c.def("_event_query", [v](uintptr_t e) { return cuda::event_query(v(e)); });
  c.def("_event_elapsed_ms", [v](uintptr_t a, uintptr_t b) { return cuda::event_elapsed_ms(v(a), v(b)); });
  c.def("_allow_tf32", &cuda::allow_tf32);
}

} // namespace ember
