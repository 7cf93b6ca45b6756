// The CUDA runtime of ember: the driver loaded with dlopen at first use (entry points through
// cuGetProcAddress), never linked, so a binary built with the CUDA headers still starts (and
// reports CUDA unavailable) on a machine without it. Device memory comes from a caching
// allocator; kernels are CUDA C compiled by NVRTC for the device's architecture and cached in
// memory and on disk by content hash. Kernels, cuBLAS calls and asynchronous copies run on the
// thread's current stream (the legacy default stream unless a Stream is made current); created
// streams synchronise with the legacy default stream, so plain copies order after them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ember::cuda {

// True when this build has GPU support compiled in (CUDA headers were found at build time).
bool built_with_cuda();
// True when the CUDA driver loads and reports at least one device.
bool is_available();
int device_count();
// Why CUDA is unavailable ("" when it is available).
std::string unavailable_reason();
// Throws ember::Error naming `op` and what is missing unless device `index` can be used.
void require(const char* op, int index = 0);

// Makes device `index` current for this thread (its primary context).
void set_device(int index);
int current_device();
// (major, minor) compute capability, e.g. {9, 0} for an H100.
std::pair<int, int> compute_capability(int index);
std::string device_name(int index);
// Waits until every kernel and copy issued so far has finished.
void synchronize();

// Device memory, from a caching allocator: freed blocks are kept by size class and reused, so
// the steady state of a training loop makes no cuMemAlloc call.
void* device_alloc(std::size_t bytes, int index);
void device_free(void* ptr, std::size_t bytes, int index) noexcept;
struct DeviceAllocatorStats {
  int64_t allocated_bytes = 0;      // in live blocks (size-class rounded)
  int64_t peak_allocated_bytes = 0;
  int64_t reserved_bytes = 0;       // live + cached
  int64_t device_allocations = 0;   // cuMemAlloc calls
  int64_t allocations = 0;          // device_alloc calls
};
DeviceAllocatorStats allocator_stats(int index);
void reset_peak_memory_stats(int index);
// Gives every cached block back to the driver.
void empty_cache();

void copy_host_to_device(void* dst, const void* src, std::size_t bytes);
void copy_device_to_host(void* dst, const void* src, std::size_t bytes);
void copy_device_to_device(void* dst, const void* src, std::size_t bytes);
void memset_zero(void* dst, std::size_t bytes);

// A kernel function: `name` in CUDA C `source`, compiled for the current device (NVRTC,
// cached by content hash in memory and under $EMBER_CACHE_DIR or ~/.cache/ember/cuda).
void* get_kernel(const std::string& source, const std::string& name);
// Kernel `name` from an image compiled ahead of time (PTX text, which the driver compiles for
// the current device, or a cubin for its architecture), loaded once per process.
void* get_kernel_image(const std::string& image, const std::string& name);
// Launches with `args` (pointers to each argument, as cuLaunchKernel takes them).
void launch(void* kernel, unsigned grid, unsigned block, void** args, unsigned shared_bytes = 0);
// The same with a two-dimensional block (block_x * block_y threads).
void launch_xy(void* kernel, unsigned grid, unsigned block_x, unsigned block_y, void** args);
// Blocks for `n` elements at 256 threads each, capped so grid-stride loops cover the rest.
unsigned grid_for(int64_t n, unsigned block = 256);

struct KernelCacheStats {
  int64_t compiled = 0;    // NVRTC compilations
  int64_t disk_hits = 0;   // loaded from the disk cache
  int64_t memory_hits = 0; // found already loaded
  double compile_ms = 0;   // total NVRTC time
};
KernelCacheStats kernel_cache_stats();

// The NVRTC architecture of device `index`, e.g. "sm_90".
std::string arch_of(int index);

// Streams (CUstream handles as void*; nullptr is the legacy default stream). The current
// stream is per thread; the caching allocator hands a freed block only to the stream it was
// allocated on.
void* stream_create(int index);
void stream_destroy(void* stream) noexcept;
void stream_synchronize(void* stream);
bool stream_query(void* stream); // true when all its work has finished
void* current_stream();
void set_current_stream(void* stream);
void stream_wait_event(void* stream, void* event);
// Events (CUevent handles as void*).
void* event_create(bool timing);
void event_destroy(void* event) noexcept;
void event_record(void* event, void* stream);
void event_synchronize(void* event);
bool event_query(void* event);
// Milliseconds between two recorded timing events.
float event_elapsed_ms(void* start, void* end);

// Page-locked host memory (cuMemHostAlloc): copies from it can be asynchronous.
void* pinned_alloc(std::size_t bytes);
void pinned_free(void* ptr) noexcept;
// True when `ptr` lies in a block from pinned_alloc.
bool is_pinned(const void* ptr);
// A host-to-device copy queued on the current stream; `src` must be pinned to be truly
// asynchronous (the driver copies pageable memory synchronously).
void copy_host_to_device_async(void* dst, const void* src, std::size_t bytes);

} // namespace ember::cuda
