// memref.alloc / memref.dealloc of compiled code (JIT and ahead-of-time libraries): the CPU
// pipeline lowers them to MLIR's generic allocation functions (finalize-memref-to-llvm's
// use-generic-functions), defined here over ember's caching host allocator, so a compiled
// training step reuses its large temporaries instead of page-faulting fresh memory every call.
#include "ember/compiler/RuntimeABI.h"
#include "ember/runtime/Allocator.h"

#include <cstddef>
#include <cstdint>

namespace {

// Each block starts with the allocator's base pointer and size, just before what compiled code
// gets (which is at least 64-byte aligned).
struct Header {
  void* base;
  std::size_t bytes;
};

void* allocate(std::size_t alignment, std::size_t size) {
  if (alignment < ember::kHostAlignment) alignment = ember::kHostAlignment;
  const std::size_t bytes = size + alignment; // room for the header and the alignment
  void* base;
  try {
    base = ember::host_alloc(bytes ? bytes : 1);
  } catch (...) {
    return nullptr; // what malloc reports; the error does not cross compiled frames
  }
  auto at = reinterpret_cast<std::uintptr_t>(base) + sizeof(Header);
  at = (at + alignment - 1) / alignment * alignment;
  reinterpret_cast<Header*>(at)[-1] = {base, bytes ? bytes : 1};
  return reinterpret_cast<void*>(at);
}

} // namespace

extern "C" void* _mlir_memref_to_llvm_alloc(std::size_t size) {
  return allocate(ember::kHostAlignment, size);
}

extern "C" void* _mlir_memref_to_llvm_aligned_alloc(std::size_t alignment, std::size_t size) {
  return allocate(alignment, size);
}

extern "C" void _mlir_memref_to_llvm_free(void* ptr) {
  if (!ptr) return;
  const Header h = reinterpret_cast<Header*>(ptr)[-1];
  ember::host_free(h.base, h.bytes);
}
