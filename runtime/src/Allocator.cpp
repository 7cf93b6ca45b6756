#include "ember/runtime/Allocator.h"

#include "ember/runtime/Error.h"

#include <cstdlib>

namespace ember {

void* host_alloc(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  std::size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
  void* p = std::aligned_alloc(kHostAlignment, rounded);
  EMBER_CHECK(p != nullptr, Runtime, "runtime.alloc", "out of host memory allocating ", bytes,
              " bytes");
  return p;
}

void host_free(void* ptr) noexcept { std::free(ptr); }

Storage::Storage(std::size_t bytes) : data_(host_alloc(bytes)), bytes_(bytes) {}
Storage::~Storage() { host_free(data_); }

} // namespace ember
