// Host memory for tensors: 64-byte aligned blocks, shared by Storage.
#pragma once

#include <cstddef>
#include <memory>

namespace ember {

constexpr std::size_t kHostAlignment = 64;

// Allocates `bytes` of 64-byte aligned host memory. Throws ember::Error when out of memory.
void* host_alloc(std::size_t bytes);
void host_free(void* ptr) noexcept;

// A reference-counted block of host memory that views (tensors) share.
class Storage {
public:
  explicit Storage(std::size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return bytes_; }

private:
  void* data_;
  std::size_t bytes_;
};

} // namespace ember
