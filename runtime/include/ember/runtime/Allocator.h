// Host memory for tensors: 64-byte aligned blocks from a caching allocator, shared by Storage.
// Freed blocks are kept by size class and handed out again, so a loop over large temporaries
// does not go back to the OS (and page-fault) on every iteration.
#pragma once

#include "ember/runtime/Device.h"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ember {

constexpr std::size_t kHostAlignment = 64;

// Allocates `bytes` of 64-byte aligned host memory. Throws ember::Error when out of memory.
void* host_alloc(std::size_t bytes);
// Returns a block from host_alloc(bytes) to the cache (or to the OS when the cache is full).
void host_free(void* ptr, std::size_t bytes) noexcept;

struct HostAllocatorStats {
  int64_t allocated_bytes;     // in live blocks (size-class rounded)
  int64_t peak_allocated_bytes;
  int64_t cached_bytes;        // freed blocks kept for reuse
  int64_t allocations;         // host_alloc calls
  int64_t cache_hits;          // ... served from the cache
};
HostAllocatorStats host_allocator_stats();
// Gives every cached block back to the OS.
void host_empty_cache();
// The most bytes the cache keeps (default 2 GiB; EMBER_HOST_CACHE_BYTES overrides).
void set_host_cache_limit(int64_t bytes);

// A reference-counted block of memory that views (tensors) share: host memory, or device memory
// from the CUDA caching allocator (runtime/Cuda.h) when `device` is a CUDA device.
class Storage {
public:
  explicit Storage(std::size_t bytes, Device device = Device());
  // Host memory someone else owns (a numpy array): `owner` keeps it alive while tensors use it.
  Storage(void* external, std::size_t bytes, std::shared_ptr<void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return bytes_; }
  const Device& device() const { return device_; }
  // Autograd's version counter: bumped by every in-place write, read by backward to detect a
  // saved tensor modified after it was saved.
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

private:
  uint64_t version_ = 0;
  void* data_;
  std::size_t bytes_;
  Device device_;
  std::shared_ptr<void> owner_; // set for external memory
};

} // namespace ember
