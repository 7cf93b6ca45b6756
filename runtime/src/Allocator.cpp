#include "ember/runtime/Allocator.h"

#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace ember {
namespace {

// Size classes: powers of two up to 1 MiB, then multiples of 1 MiB (a loop that allocates the
// same large size finds its block again; small sizes share classes).
std::size_t size_class(std::size_t bytes) {
  constexpr std::size_t kMiB = 1 << 20;
  if (bytes <= kHostAlignment) return kHostAlignment;
  if (bytes <= kMiB) {
    std::size_t c = kHostAlignment;
    while (c < bytes) c <<= 1;
    return c;
  }
  return (bytes + kMiB - 1) / kMiB * kMiB;
}

struct Cache {
  std::mutex mu;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;
  HostAllocatorStats stats{};
  int64_t limit = [] {
    const char* env = std::getenv("EMBER_HOST_CACHE_BYTES");
    return env ? std::atoll(env) : int64_t(2) << 30;
  }();
};

Cache& cache() {
  static Cache* c = new Cache(); // outlives every static Storage
  return *c;
}

} // namespace

void* host_alloc(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  const std::size_t cls = size_class(bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    ++c.stats.allocations;
    auto it = c.free_blocks.find(cls);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      ++c.stats.cache_hits;
      c.stats.cached_bytes -= cls;
      c.stats.allocated_bytes += cls;
      c.stats.peak_allocated_bytes = std::max(c.stats.peak_allocated_bytes, c.stats.allocated_bytes);
      return p;
    }
  }
  void* p = std::aligned_alloc(kHostAlignment, cls);
  if (!p) {
    host_empty_cache();
    p = std::aligned_alloc(kHostAlignment, cls);
  }
  EMBER_CHECK(p != nullptr, Runtime, "runtime.alloc", "out of host memory allocating ", bytes,
              " bytes");
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.allocated_bytes += cls;
  c.stats.peak_allocated_bytes = std::max(c.stats.peak_allocated_bytes, c.stats.allocated_bytes);
  return p;
}

void host_free(void* ptr, std::size_t bytes) noexcept {
  if (!ptr) return;
  const std::size_t cls = size_class(bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.allocated_bytes -= cls;
    if (c.stats.cached_bytes + static_cast<int64_t>(cls) <= c.limit) {
      c.free_blocks[cls].push_back(ptr);
      c.stats.cached_bytes += cls;
      return;
    }
  }
  std::free(ptr);
}

HostAllocatorStats host_allocator_stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().stats;
}

void host_empty_cache() {
  Cache& c = cache();
  std::unordered_map<std::size_t, std::vector<void*>> blocks;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    blocks.swap(c.free_blocks);
    c.stats.cached_bytes = 0;
  }
  for (auto& [cls, list] : blocks)
    for (void* p : list) std::free(p);
}

void set_host_cache_limit(int64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(cache().mu);
    cache().limit = bytes;
  }
  if (bytes < host_allocator_stats().cached_bytes) host_empty_cache();
}

Storage::Storage(std::size_t bytes, Device device)
    : data_(device.is_cuda() ? cuda::device_alloc(bytes, device.index) : host_alloc(bytes)),
      bytes_(bytes), device_(device) {}
Storage::Storage(void* external, std::size_t bytes, std::shared_ptr<void> owner)
    : data_(external), bytes_(bytes), owner_(std::move(owner)) {}
Storage::~Storage() {
  if (owner_) return; // the owner's deleter gives the memory back
  if (device_.is_cuda()) cuda::device_free(data_, bytes_, device_.index);
  else host_free(data_, bytes_);
}

} // namespace ember
