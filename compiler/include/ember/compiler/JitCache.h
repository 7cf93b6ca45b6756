// The on-disk cache of JIT-compiled code: object files keyed by a hash of everything that
// decides the code (ember's build, the host CPU, the pipeline and the IR), so a second process
// skips lowering and codegen. Entries carry a header with the full key's hash, the payload size
// and a checksum: a corrupt, truncated or stale entry is reported as a miss (and overwritten),
// never loaded.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace ember::compiler {

struct JitCacheStats {
  int64_t hits = 0, misses = 0, rejected = 0, writes = 0, evicted = 0;
};

class JitCache {
public:
  // $EMBER_CACHE_DIR/cpu (or $XDG_CACHE_HOME/ember/cpu, ~/.cache/ember/cpu); disabled when
  // EMBER_CACHE_DIR is set to the empty string or EMBER_DISABLE_CACHE=1. The size bound is
  // $EMBER_CACHE_MAX_MB (default 512): writing evicts the least recently used entries beyond it.
  static JitCache& instance();

  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  // The key's file name part (a 64-bit content hash, hex).
  static std::string hashOf(const std::string& key);
  // The object code stored for `key`, or nothing (missing or invalid: counted as rejected).
  std::optional<std::string> load(const std::string& key);
  // Writes atomically (temp file + rename), then evicts down to the size bound.
  void store(const std::string& key, const std::string& object);
  JitCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  // Re-reads the environment (tests point EMBER_CACHE_DIR elsewhere).
  void configure();

private:
  JitCache() { configure(); }
  std::string pathOf(const std::string& key) const;
  void evict();
  std::string dir_;
  uint64_t maxBytes_ = 0;
  JitCacheStats stats_;
  mutable std::mutex mu_; // compilations may run on several threads: stats and eviction
};

// Identifies this build of ember's compiler (the binary that holds it: path, size, mtime), so
// cached code from another build is never reused.
const std::string& buildIdentity();

} // namespace ember::compiler
