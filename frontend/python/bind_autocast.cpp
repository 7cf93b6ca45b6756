// Python bindings of ember/Autocast.h; ember/amp/autocast_mode.py builds torch's autocast API
// (the context manager, decorator and device-type checks) over them.
#include "ember/Autocast.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;

void bind_autocast(nb::module_& m) {
  using namespace ember;
  auto dev = [](const std::string& d) { return autocast_device_type(d, "ember.autocast"); };
  m.def("_autocast_is_enabled",
        [dev](const std::string& d) { return is_autocast_enabled(dev(d)); });
  m.def("_autocast_set_enabled",
        [dev](const std::string& d, bool on) { set_autocast_enabled(dev(d), on); });
  m.def("_autocast_get_dtype", [dev](const std::string& d) { return get_autocast_dtype(dev(d)); });
  m.def("_autocast_set_dtype",
        [dev](const std::string& d, DType t) { set_autocast_dtype(dev(d), t); });
  m.def("_autocast_is_cache_enabled", &is_autocast_cache_enabled);
  m.def("_autocast_set_cache_enabled", &set_autocast_cache_enabled);
  m.def("_autocast_increment_nesting", &autocast_increment_nesting);
  m.def("_autocast_decrement_nesting", &autocast_decrement_nesting);
  m.def("_autocast_clear_cache", &clear_autocast_cache);
  // The policy an op (autocast::op_name) has on a device type: the tests check it against torch.
  m.def("_autocast_policy", [dev](const std::string& op, const std::string& d) {
    for (int i = 0; i < autocast::kNumOps; ++i) {
      const auto o = static_cast<autocast::Op>(i);
      if (op != autocast::op_name(o)) continue;
      switch (autocast::policy(o, dev(d))) {
      case autocast::Policy::LowerPrecision: return "lower_precision_fp";
      case autocast::Policy::Float32: return "fp32";
      case autocast::Policy::Promote: return "promote";
      case autocast::Policy::Banned: return "banned";
      case autocast::Policy::None: return "none";
      }
    }
    throw nb::value_error(("ember._C._autocast_policy: no autocast op named '" + op + "'").c_str());
  });
  m.def("_autocast_ops", [] {
    std::vector<std::string> names;
    for (int i = 0; i < autocast::kNumOps; ++i)
      names.push_back(autocast::op_name(static_cast<autocast::Op>(i)));
    return names;
  });
  m.def("_autocast_active", [dev](const std::string& d) { return autocast::active(dev(d)); });
}
