#include "ember/runtime/Device.h"

#include "ember/runtime/Error.h"

#include <cctype>

namespace ember {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device parse_device(const std::string& spec) {
  if (spec == "cpu") return cpu_device();
  if (spec == "cuda") return cuda_device(0);
  if (spec.rfind("cuda:", 0) == 0 && spec.size() > 5 && spec.size() < 9) {
    int index = 0;
    for (size_t i = 5; i < spec.size(); ++i) {
      EMBER_CHECK(std::isdigit(static_cast<unsigned char>(spec[i])), Runtime, "ember.device",
                  "invalid device string '", spec, "': expected cpu, cuda or cuda:N");
      index = index * 10 + (spec[i] - '0');
    }
    return cuda_device(index);
  }
  fail(ErrorKind::Runtime, "ember.device", "invalid device string '", spec,
       "': expected cpu, cuda or cuda:N");
}

} // namespace ember
