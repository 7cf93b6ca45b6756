#include "ember/runtime/Cuda.h"

#include "ember/runtime/Error.h"
#include "ember/runtime/Nvrtc.h"

#include <dlfcn.h>
#ifdef EMBER_HAVE_CUDA_HEADERS
#include <cuda.h>
#endif
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

namespace ember::cuda {
namespace {

// EMBER_CUDA_TRACE=1 prints each runtime step to stderr (for diagnosing a GPU machine).
void trace(const char* what, const std::string& detail = "") {
  static const bool on = std::getenv("EMBER_CUDA_TRACE") != nullptr;
  if (on) std::fprintf(stderr, "[ember.cuda] %s %s\n", what, detail.c_str()), std::fflush(stderr);
}

#ifdef EMBER_HAVE_CUDA_HEADERS
// The driver entry points ember uses, resolved once.
struct Driver {
  int devices = 0;
  std::string reason;
  decltype(&cuGetErrorString) errorString = nullptr;
  decltype(&cuDeviceGet) deviceGet = nullptr;
  decltype(&cuDeviceGetAttribute) attribute = nullptr;
  decltype(&cuDeviceGetName) deviceName = nullptr;
  decltype(&cuDevicePrimaryCtxRetain) retain = nullptr;
  decltype(&cuCtxSetCurrent) setCurrent = nullptr;
  decltype(&cuCtxSynchronize) sync = nullptr;
  decltype(&cuMemAlloc) alloc = nullptr;
  decltype(&cuMemFree) free = nullptr;
  decltype(&cuMemcpyHtoD) h2d = nullptr;
  decltype(&cuMemcpyDtoH) d2h = nullptr;
  decltype(&cuMemcpyDtoD) d2d = nullptr;
  decltype(&cuMemsetD8) memset8 = nullptr;
  decltype(&cuModuleLoadData) loadData = nullptr;
  decltype(&cuModuleGetFunction) getFunction = nullptr;
  decltype(&cuLaunchKernel) launch = nullptr;
  decltype(&cuStreamCreate) streamCreate = nullptr;
  decltype(&cuStreamDestroy) streamDestroy = nullptr;
  decltype(&cuStreamSynchronize) streamSync = nullptr;
  decltype(&cuStreamQuery) streamQuery = nullptr;
  decltype(&cuStreamWaitEvent) streamWaitEvent = nullptr;
  decltype(&cuEventCreate) eventCreate = nullptr;
  decltype(&cuEventDestroy) eventDestroy = nullptr;
  decltype(&cuEventRecord) eventRecord = nullptr;
  decltype(&cuEventSynchronize) eventSync = nullptr;
  decltype(&cuEventQuery) eventQuery = nullptr;
  decltype(&cuEventElapsedTime) eventElapsed = nullptr;
  decltype(&cuMemHostAlloc) hostAlloc = nullptr;
  decltype(&cuMemFreeHost) hostFree = nullptr;
  decltype(&cuMemcpyHtoDAsync) h2dAsync = nullptr;
};

using GetProc = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);

const Driver& driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      d.reason = "the CUDA driver (libcuda.so.1) could not be loaded: no NVIDIA driver on this machine";
      return;
    }
    // EMBER_CUDA_ENTRY=dlsym resolves the versioned symbols directly instead.
    const char* entry = std::getenv("EMBER_CUDA_ENTRY");
    auto getProc = entry && std::string(entry) == "dlsym"
                       ? nullptr
                       : reinterpret_cast<GetProc>(dlsym(lib, "cuGetProcAddress_v2"));
    auto sym = [&](auto& fn, const char* name, const char* versioned) {
      void* p = nullptr;
      CUdriverProcAddressQueryResult status;
      if (getProc && getProc(name, &p, 12000, CU_GET_PROC_ADDRESS_DEFAULT, &status) != CUDA_SUCCESS)
        p = nullptr;
      if (!p) p = dlsym(lib, versioned);
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
      if (!fn && d.reason.empty()) d.reason = std::string("the CUDA driver lacks ") + name;
    };
    decltype(&cuInit) init = nullptr;
    decltype(&cuDeviceGetCount) count = nullptr;
    sym(init, "cuInit", "cuInit");
    sym(count, "cuDeviceGetCount", "cuDeviceGetCount");
    sym(d.errorString, "cuGetErrorString", "cuGetErrorString");
    sym(d.deviceGet, "cuDeviceGet", "cuDeviceGet");
    sym(d.attribute, "cuDeviceGetAttribute", "cuDeviceGetAttribute");
    sym(d.deviceName, "cuDeviceGetName", "cuDeviceGetName");
    sym(d.retain, "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain");
    sym(d.setCurrent, "cuCtxSetCurrent", "cuCtxSetCurrent");
    sym(d.sync, "cuCtxSynchronize", "cuCtxSynchronize");
    sym(d.alloc, "cuMemAlloc", "cuMemAlloc_v2");
    sym(d.free, "cuMemFree", "cuMemFree_v2");
    sym(d.h2d, "cuMemcpyHtoD", "cuMemcpyHtoD_v2");
    sym(d.d2h, "cuMemcpyDtoH", "cuMemcpyDtoH_v2");
    sym(d.d2d, "cuMemcpyDtoD", "cuMemcpyDtoD_v2");
    sym(d.memset8, "cuMemsetD8", "cuMemsetD8_v2");
    sym(d.loadData, "cuModuleLoadData", "cuModuleLoadData");
    sym(d.getFunction, "cuModuleGetFunction", "cuModuleGetFunction");
    sym(d.launch, "cuLaunchKernel", "cuLaunchKernel");
    sym(d.streamCreate, "cuStreamCreate", "cuStreamCreate");
    sym(d.streamDestroy, "cuStreamDestroy", "cuStreamDestroy_v2");
    sym(d.streamSync, "cuStreamSynchronize", "cuStreamSynchronize");
    sym(d.streamQuery, "cuStreamQuery", "cuStreamQuery");
    sym(d.streamWaitEvent, "cuStreamWaitEvent", "cuStreamWaitEvent");
    sym(d.eventCreate, "cuEventCreate", "cuEventCreate");
    sym(d.eventDestroy, "cuEventDestroy", "cuEventDestroy_v2");
    sym(d.eventRecord, "cuEventRecord", "cuEventRecord");
    sym(d.eventSync, "cuEventSynchronize", "cuEventSynchronize");
    sym(d.eventQuery, "cuEventQuery", "cuEventQuery");
    sym(d.eventElapsed, "cuEventElapsedTime", "cuEventElapsedTime_v2");
    sym(d.hostAlloc, "cuMemHostAlloc", "cuMemHostAlloc");
    sym(d.hostFree, "cuMemFreeHost", "cuMemFreeHost");
    sym(d.h2dAsync, "cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2");
    if (!d.reason.empty()) return;
    int n = 0;
    CUresult r = init(0);
    if (r != CUDA_SUCCESS) {
      const char* msg = nullptr;
      d.errorString(r, &msg);
      d.reason = std::string("cuInit failed: ") + (msg ? msg : "unknown error");
      return;
    }
    if (count(&n) != CUDA_SUCCESS || n == 0) {
      d.reason = "the CUDA driver reports no GPU";
      return;
    }
    d.devices = n;
  });
  return d;
}

void check(CUresult r, const char* what) {
  if (r == CUDA_SUCCESS) return;
  const char* msg = nullptr;
  driver().errorString(r, &msg);
  fail(ErrorKind::Runtime, "cuda", what, " failed: ", msg ? msg : "unknown error", " (CUresult ",
       int(r), ")");
}

thread_local int tls_device = -1;

// Makes sure the device's primary context is current on this thread.
void ensure_context(int index) {
  static std::mutex mu;
  static std::vector<CUcontext> contexts;
  if (tls_device == index) return;
  require("cuda", index);
  const Driver& d = driver();
  CUcontext ctx;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (contexts.empty()) contexts.assign(d.devices, nullptr);
    if (!contexts[index]) {
      CUdevice dev;
      check(d.deviceGet(&dev, index), "cuDeviceGet");
      check(d.retain(&contexts[index], dev), "cuDevicePrimaryCtxRetain");
    }
    ctx = contexts[index];
  }
  check(d.setCurrent(ctx), "cuCtxSetCurrent");
  tls_device = index;
}
#endif

// Size classes: 512-byte multiples up to 1 MiB, then 2 MiB multiples.
std::size_t size_class(std::size_t bytes) {
  constexpr std::size_t kMiB = 1 << 20;
  if (bytes <= kMiB) return (std::max<std::size_t>(bytes, 1) + 511) / 512 * 512;
  return (bytes + 2 * kMiB - 1) / (2 * kMiB) * (2 * kMiB);
}

thread_local void* tls_stream = nullptr; // the thread's current stream (nullptr: legacy default)

struct DeviceCache {
  std::mutex mu;
  // Freed blocks by (size class, stream they were allocated on): a block goes back only to
  // its own stream, whose queued work may still use it.
  std::map<std::pair<std::size_t, void*>, std::vector<void*>> free_blocks;
  std::unordered_map<void*, void*> stream_of; // live block -> its stream
  DeviceAllocatorStats stats;
};

DeviceCache& device_cache(int index) {
  static std::mutex mu;
  static std::vector<DeviceCache*> caches;
  std::lock_guard<std::mutex> lock(mu);
  if (int(caches.size()) <= index) caches.resize(index + 1, nullptr);
  if (!caches[index]) caches[index] = new DeviceCache(); // outlives every static Storage
  return *caches[index];
}

} // namespace

bool built_with_cuda() {
#ifdef EMBER_HAVE_CUDA_HEADERS
  return true;
#else
  return false;
#endif
}

#ifdef EMBER_HAVE_CUDA_HEADERS
bool is_available() { return driver().devices > 0; }
int device_count() { return driver().devices; }
std::string unavailable_reason() { return driver().reason; }
#else
bool is_available() { return false; }
int device_count() { return 0; }
std::string unavailable_reason() {
  return "ember was built without CUDA support (no CUDA headers at build time)";
}
#endif

void require(const char* op, int index) {
  EMBER_CHECK(is_available(), Runtime, op, "CUDA is not available: ", unavailable_reason(),
              "; use device='cpu'");
  EMBER_CHECK(index >= 0 && index < device_count(), Runtime, op, "CUDA device ", index,
              " does not exist: this machine has ", device_count(), " CUDA device(s)");
}

#ifdef EMBER_HAVE_CUDA_HEADERS
void set_device(int index) { ensure_context(index); }
int current_device() { return tls_device < 0 ? 0 : tls_device; }

std::pair<int, int> compute_capability(int index) {
  require("cuda.get_device_capability", index);
  CUdevice dev;
  check(driver().deviceGet(&dev, index), "cuDeviceGet");
  int major = 0, minor = 0;
  check(driver().attribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute");
  check(driver().attribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute");
  return {major, minor};
}

std::string device_name(int index) {
  require("cuda.get_device_name", index);
  CUdevice dev;
  check(driver().deviceGet(&dev, index), "cuDeviceGet");
  char name[256] = {0};
  check(driver().deviceName(name, sizeof(name) - 1, dev), "cuDeviceGetName");
  return name;
}

void synchronize() {
  if (!is_available()) return;
  ensure_context(current_device());
  check(driver().sync(), "cuCtxSynchronize (a kernel may have failed)");
}

void* device_alloc(std::size_t bytes, int index) {
  if (bytes == 0) return nullptr;
  ensure_context(index);
  const std::size_t cls = size_class(bytes);
  DeviceCache& c = device_cache(index);
  std::lock_guard<std::mutex> lock(c.mu);
  ++c.stats.allocations;
  void* p = nullptr;
  auto it = c.free_blocks.find({cls, tls_stream});
  if (it != c.free_blocks.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
  } else {
    CUdeviceptr ptr = 0;
    CUresult r = driver().alloc(&ptr, cls);
    if (r == CUDA_ERROR_OUT_OF_MEMORY) { // give the cache back (once idle) and try once more
      driver().sync();
      for (auto& [key, blocks] : c.free_blocks)
        for (void* b : blocks) {
          driver().free(reinterpret_cast<CUdeviceptr>(b));
          c.stats.reserved_bytes -= key.first;
        }
      c.free_blocks.clear();
      r = driver().alloc(&ptr, cls);
    }
    EMBER_CHECK(r == CUDA_SUCCESS, Runtime, "cuda.alloc", "out of device memory allocating ",
                bytes, " bytes on cuda:", index, " (", c.stats.allocated_bytes,
                " bytes in use by tensors); free tensors or use smaller batches");
    p = reinterpret_cast<void*>(ptr);
    ++c.stats.device_allocations;
    c.stats.reserved_bytes += cls;
  }
  c.stream_of[p] = tls_stream;
  c.stats.allocated_bytes += cls;
  c.stats.peak_allocated_bytes = std::max(c.stats.peak_allocated_bytes, c.stats.allocated_bytes);
  return p;
}

void device_free(void* ptr, std::size_t bytes, int index) noexcept {
  if (!ptr) return;
  DeviceCache& c = device_cache(index);
  std::lock_guard<std::mutex> lock(c.mu);
  const std::size_t cls = size_class(bytes);
  c.stats.allocated_bytes -= cls;
  void* stream = nullptr;
  if (auto it = c.stream_of.find(ptr); it != c.stream_of.end()) {
    stream = it->second;
    c.stream_of.erase(it);
  }
  // Work queued on its stream still sees it valid: only that stream reuses it.
  c.free_blocks[{cls, stream}].push_back(ptr);
}

void empty_cache() {
  if (!is_available()) return;
  synchronize();
  for (int i = 0; i < device_count(); ++i) {
    DeviceCache& c = device_cache(i);
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto& [key, blocks] : c.free_blocks)
      for (void* b : blocks) {
        driver().free(reinterpret_cast<CUdeviceptr>(b));
        c.stats.reserved_bytes -= key.first;
      }
    c.free_blocks.clear();
  }
}

void copy_host_to_device(void* dst, const void* src, std::size_t bytes) {
  if (!bytes) return;
  ensure_context(current_device());
  check(driver().h2d(reinterpret_cast<CUdeviceptr>(dst), src, bytes), "cuMemcpyHtoD");
}
void copy_device_to_host(void* dst, const void* src, std::size_t bytes) {
  if (!bytes) return;
  ensure_context(current_device());
  check(driver().d2h(dst, reinterpret_cast<CUdeviceptr>(src), bytes), "cuMemcpyDtoH");
}
void copy_device_to_device(void* dst, const void* src, std::size_t bytes) {
  if (!bytes) return;
  ensure_context(current_device());
  check(driver().d2d(reinterpret_cast<CUdeviceptr>(dst), reinterpret_cast<CUdeviceptr>(src), bytes),
        "cuMemcpyDtoD");
}
void memset_zero(void* dst, std::size_t bytes) {
  if (!bytes) return;
  ensure_context(current_device());
  check(driver().memset8(reinterpret_cast<CUdeviceptr>(dst), 0, bytes), "cuMemsetD8");
}

void* stream_create(int index) {
  ensure_context(index);
  CUstream st;
  check(driver().streamCreate(&st, CU_STREAM_DEFAULT), "cuStreamCreate");
  return st;
}
void stream_destroy(void* stream) noexcept {
  if (stream && is_available()) driver().streamDestroy(reinterpret_cast<CUstream>(stream));
}
void stream_synchronize(void* stream) {
  ensure_context(current_device());
  check(driver().streamSync(reinterpret_cast<CUstream>(stream)), "cuStreamSynchronize");
}
bool stream_query(void* stream) {
  ensure_context(current_device());
  CUresult r = driver().streamQuery(reinterpret_cast<CUstream>(stream));
  if (r == CUDA_ERROR_NOT_READY) return false;
  check(r, "cuStreamQuery");
  return true;
}
void* current_stream() { return tls_stream; }
void set_current_stream(void* stream) { tls_stream = stream; }
void stream_wait_event(void* stream, void* event) {
  ensure_context(current_device());
  check(driver().streamWaitEvent(reinterpret_cast<CUstream>(stream), reinterpret_cast<CUevent>(event), 0),
        "cuStreamWaitEvent");
}
void* event_create(bool timing) {
  ensure_context(current_device());
  CUevent ev;
  check(driver().eventCreate(&ev, timing ? CU_EVENT_DEFAULT : CU_EVENT_DISABLE_TIMING), "cuEventCreate");
  return ev;
}
void event_destroy(void* event) noexcept {
  if (event && is_available()) driver().eventDestroy(reinterpret_cast<CUevent>(event));
}
void event_record(void* event, void* stream) {
  ensure_context(current_device());
  check(driver().eventRecord(reinterpret_cast<CUevent>(event), reinterpret_cast<CUstream>(stream)),
        "cuEventRecord");
}
void event_synchronize(void* event) {
  check(driver().eventSync(reinterpret_cast<CUevent>(event)), "cuEventSynchronize");
}
bool event_query(void* event) {
  CUresult r = driver().eventQuery(reinterpret_cast<CUevent>(event));
  if (r == CUDA_ERROR_NOT_READY) return false;
  check(r, "cuEventQuery");
  return true;
}
float event_elapsed_ms(void* start, void* end) {
  float ms = 0;
  check(driver().eventElapsed(&ms, reinterpret_cast<CUevent>(start), reinterpret_cast<CUevent>(end)),
        "cuEventElapsedTime (were both events recorded, with enable_timing=True, and has the end one completed?)");
  return ms;
}

namespace {
std::mutex& pinned_mu() {
  static std::mutex mu;
  return mu;
}
std::map<uintptr_t, std::size_t>& pinned_blocks() {
  static auto* m = new std::map<uintptr_t, std::size_t>();
  return *m;
}
} // namespace

void* pinned_alloc(std::size_t bytes) {
  ensure_context(current_device());
  void* p = nullptr;
  check(driver().hostAlloc(&p, std::max<std::size_t>(bytes, 1), CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc");
  std::lock_guard<std::mutex> lock(pinned_mu());
  pinned_blocks()[reinterpret_cast<uintptr_t>(p)] = std::max<std::size_t>(bytes, 1);
  return p;
}
void pinned_free(void* ptr) noexcept {
  if (!ptr) return;
  {
    std::lock_guard<std::mutex> lock(pinned_mu());
    pinned_blocks().erase(reinterpret_cast<uintptr_t>(ptr));
  }
  driver().hostFree(ptr);
}
bool is_pinned(const void* ptr) {
  std::lock_guard<std::mutex> lock(pinned_mu());
  auto& m = pinned_blocks();
  auto it = m.upper_bound(reinterpret_cast<uintptr_t>(ptr));
  if (it == m.begin()) return false;
  --it;
  return reinterpret_cast<uintptr_t>(ptr) < it->first + it->second;
}
void copy_host_to_device_async(void* dst, const void* src, std::size_t bytes) {
  if (!bytes) return;
  ensure_context(current_device());
  check(driver().h2dAsync(reinterpret_cast<CUdeviceptr>(dst), src, bytes,
                          reinterpret_cast<CUstream>(tls_stream)), "cuMemcpyHtoDAsync");
}
#else
void set_device(int) { require("cuda.set_device"); }
int current_device() { return 0; }
std::pair<int, int> compute_capability(int i) { require("cuda.get_device_capability", i); return {0, 0}; }
std::string device_name(int i) { require("cuda.get_device_name", i); return ""; }
void synchronize() {}
void* device_alloc(std::size_t, int i) { require("cuda.alloc", i); return nullptr; }
void device_free(void*, std::size_t, int) noexcept {}
void empty_cache() {}
void copy_host_to_device(void*, const void*, std::size_t) { require("cuda.copy"); }
void copy_device_to_host(void*, const void*, std::size_t) { require("cuda.copy"); }
void copy_device_to_device(void*, const void*, std::size_t) { require("cuda.copy"); }
void memset_zero(void*, std::size_t) { require("cuda.memset"); }
void* stream_create(int i) { require("cuda.Stream", i); return nullptr; }
void stream_destroy(void*) noexcept {}
void stream_synchronize(void*) { require("cuda.Stream.synchronize"); }
bool stream_query(void*) { require("cuda.Stream.query"); return true; }
void* current_stream() { return nullptr; }
void set_current_stream(void*) { require("cuda.set_stream"); }
void stream_wait_event(void*, void*) { require("cuda.Stream.wait_event"); }
void* event_create(bool) { require("cuda.Event"); return nullptr; }
void event_destroy(void*) noexcept {}
void event_record(void*, void*) { require("cuda.Event.record"); }
void event_synchronize(void*) { require("cuda.Event.synchronize"); }
bool event_query(void*) { require("cuda.Event.query"); return true; }
float event_elapsed_ms(void*, void*) { require("cuda.Event.elapsed_time"); return 0; }
void* pinned_alloc(std::size_t) { require("Tensor.pin_memory"); return nullptr; }
void pinned_free(void*) noexcept {}
bool is_pinned(const void*) { return false; }
void copy_host_to_device_async(void*, const void*, std::size_t) { require("cuda.copy"); }
#endif

DeviceAllocatorStats allocator_stats(int index) {
  DeviceCache& c = device_cache(index);
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void reset_peak_memory_stats(int index) {
  DeviceCache& c = device_cache(index);
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.peak_allocated_bytes = c.stats.allocated_bytes;
}

std::string arch_of(int index) {
  auto [major, minor] = compute_capability(index);
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

namespace {

struct KernelCache {
  std::mutex mu;
  std::unordered_map<std::string, void*> loaded; // device:name:hash -> CUfunction
  KernelCacheStats stats;
};
KernelCache& kernel_cache() {
  static KernelCache* c = new KernelCache();
  return *c;
}

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

std::string cache_dir() {
  std::string dir;
  if (const char* e = std::getenv("EMBER_CACHE_DIR")) dir = e;
  else if (const char* x = std::getenv("XDG_CACHE_HOME")) dir = std::string(x) + "/ember";
  else if (const char* h = std::getenv("HOME")) dir = std::string(h) + "/.cache/ember";
  else return "";
  dir += "/cuda";
  // mkdir -p
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/') ::mkdir(dir.substr(0, i).c_str(), 0755);
  return dir;
}

#ifdef EMBER_HAVE_CUDA_HEADERS
// Loads `image` (a cubin, or NUL-terminated PTX) and caches function `name` under `key`.
void* load_function(KernelCache& kc, const std::string& key, const std::string& image,
                    const std::string& name) {
  CUmodule module;
  check(driver().loadData(&module, image.c_str()), "cuModuleLoadData");
  CUfunction fn;
  check(driver().getFunction(&fn, module, name.c_str()), "cuModuleGetFunction");
  kc.loaded[key] = reinterpret_cast<void*>(fn);
  return fn;
}
#endif

} // namespace

void* get_kernel(const std::string& source, const std::string& name) {
#ifdef EMBER_HAVE_CUDA_HEADERS
  const int dev = current_device();
  ensure_context(dev);
  const std::string arch = arch_of(dev);
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016llx",
                static_cast<unsigned long long>(fnv1a(arch + "\n" + name + "\n" + source)));
  const std::string key = std::to_string(dev) + ":" + hash;
  KernelCache& kc = kernel_cache();
  std::lock_guard<std::mutex> lock(kc.mu);
  if (auto it = kc.loaded.find(key); it != kc.loaded.end()) {
    ++kc.stats.memory_hits;
    return it->second;
  }
  std::string image;
  const std::string dir = cache_dir();
  const std::string path = dir.empty() ? "" : dir + "/" + name + "-" + hash + "-" + arch + ".cubin";
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      image = ss.str();
      if (!image.empty()) ++kc.stats.disk_hits;
    }
  }
  if (image.empty()) {
    auto t0 = std::chrono::steady_clock::now();
    trace("nvrtc compile", name + " " + arch);
    image = nvrtc_compile(source, name + ".cu", arch).image;
    trace("nvrtc done", std::to_string(image.size()) + " bytes");
    kc.stats.compile_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ++kc.stats.compiled;
    if (!path.empty()) { // write whole or not at all
      const std::string tmp = path + ".tmp" + std::to_string(::getpid());
      std::ofstream out(tmp, std::ios::binary);
      if (out.write(image.data(), std::streamsize(image.size())) && (out.close(), true))
        std::rename(tmp.c_str(), path.c_str());
      else
        std::remove(tmp.c_str());
    }
  }
  trace("load module", path);
  return load_function(kc, key, image, name);
#else
  (void)source;
  require(name.c_str());
  return nullptr;
#endif
}

void* get_kernel_image(const std::string& image, const std::string& name) {
#ifdef EMBER_HAVE_CUDA_HEADERS
  const int dev = current_device();
  ensure_context(dev);
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016llx",
                static_cast<unsigned long long>(fnv1a(name + "\n" + image)));
  const std::string key = std::to_string(dev) + ":image:" + hash;
  KernelCache& kc = kernel_cache();
  std::lock_guard<std::mutex> lock(kc.mu);
  if (auto it = kc.loaded.find(key); it != kc.loaded.end()) {
    ++kc.stats.memory_hits;
    return it->second;
  }
  return load_function(kc, key, image, name);
#else
  (void)image;
  require(name.c_str());
  return nullptr;
#endif
}

void launch(void* kernel, unsigned grid, unsigned block, void** args, unsigned shared_bytes) {
#ifdef EMBER_HAVE_CUDA_HEADERS
  if (grid == 0) return;
  trace("launch", std::to_string(grid) + "x" + std::to_string(block));
  check(driver().launch(reinterpret_cast<CUfunction>(kernel), grid, 1, 1, block, 1, 1, shared_bytes,
                        reinterpret_cast<CUstream>(tls_stream), args, nullptr),
        "cuLaunchKernel");
#else
  (void)kernel, (void)grid, (void)block, (void)args, (void)shared_bytes;
  require("cuda.launch");
#endif
}

void launch_xy(void* kernel, unsigned grid, unsigned block_x, unsigned block_y, void** args) {
#ifdef EMBER_HAVE_CUDA_HEADERS
  if (grid == 0) return;
  trace("launch", std::to_string(grid) + "x(" + std::to_string(block_x) + "," + std::to_string(block_y) + ")");
  check(driver().launch(reinterpret_cast<CUfunction>(kernel), grid, 1, 1, block_x, block_y, 1, 0,
                        reinterpret_cast<CUstream>(tls_stream), args, nullptr),
        "cuLaunchKernel");
#else
  (void)kernel, (void)grid, (void)block_x, (void)block_y, (void)args;
  require("cuda.launch");
#endif
}

unsigned grid_for(int64_t n, unsigned block) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(std::min<int64_t>(blocks, 65535 * 8));
}

KernelCacheStats kernel_cache_stats() {
  KernelCache& kc = kernel_cache();
  std::lock_guard<std::mutex> lock(kc.mu);
  return kc.stats;
}

} // namespace ember::cuda
