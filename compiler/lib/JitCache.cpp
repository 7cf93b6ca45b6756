#include "ember/compiler/JitCache.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace ember::compiler {
namespace {

constexpr char kMagic[8] = {'E', 'M', 'B', 'R', 'J', 'I', 'T', '1'};

// The entry header: magic, full key hash, payload size, payload checksum (little-endian u64s).
struct Header {
  char magic[8];
  uint64_t keyHash;
  uint64_t size;
  uint64_t checksum;
};

uint64_t fnv1a(const char* data, size_t n, uint64_t h = 1469598103934665603ull) {
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
  return h;
}

uint64_t fnv1a(const std::string& s) { return fnv1a(s.data(), s.size()); }

} // namespace

const std::string& buildIdentity() {
  static const std::string id = [] {
    Dl_info info{};
    std::string where = "unknown";
    if (dladdr(reinterpret_cast<void*>(&buildIdentity), &info) && info.dli_fname) {
      struct stat st{};
      where = info.dli_fname;
      if (::stat(info.dli_fname, &st) == 0)
        where += ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime);
    }
    return where + " (" __DATE__ " " __TIME__ ")";
  }();
  return id;
}

JitCache& JitCache::instance() {
  static JitCache* cache = new JitCache();
  return *cache;
}

void JitCache::configure() {
  std::lock_guard<std::mutex> lock(mu_);
  dir_.clear();
  const char* disable = std::getenv("EMBER_DISABLE_CACHE");
  if (disable && std::strcmp(disable, "0") != 0 && *disable) return;
  std::string root;
  if (const char* e = std::getenv("EMBER_CACHE_DIR")) root = e;
  else if (const char* x = std::getenv("XDG_CACHE_HOME")) root = std::string(x) + "/ember";
  else if (const char* h = std::getenv("HOME")) root = std::string(h) + "/.cache/ember";
  if (root.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(root + "/cpu", ec);
  if (ec) return; // an unusable cache directory only costs compile time
  dir_ = root + "/cpu";
  maxBytes_ = 512ull << 20;
  if (const char* mb = std::getenv("EMBER_CACHE_MAX_MB")) maxBytes_ = std::strtoull(mb, nullptr, 10) << 20;
}

std::string JitCache::hashOf(const std::string& key) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(fnv1a(key)));
  return hex;
}

std::string JitCache::pathOf(const std::string& key) const { return dir_ + "/" + hashOf(key) + ".o"; }

std::optional<std::string> JitCache::load(const std::string& key) {
  if (!enabled()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  const std::string path = pathOf(key);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ++stats_.misses;
    return std::nullopt;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Header h{};
  const bool valid = [&] {
    if (bytes.size() < sizeof(Header)) return false;
    std::memcpy(&h, bytes.data(), sizeof(Header));
    return std::memcmp(h.magic, kMagic, sizeof(kMagic)) == 0 && h.keyHash == fnv1a(key) &&
           h.size == bytes.size() - sizeof(Header) &&
           h.checksum == fnv1a(bytes.data() + sizeof(Header), h.size);
  }();
  if (!valid) { // never loaded; the fresh compilation overwrites it
    ++stats_.rejected;
    return std::nullopt;
  }
  ++stats_.hits;
  std::error_code ec; // least recently used eviction goes by modification time
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now(), ec);
  return bytes.substr(sizeof(Header));
}

void JitCache::store(const std::string& key, const std::string& object) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.keyHash = fnv1a(key);
  h.size = object.size();
  h.checksum = fnv1a(object);
  const std::string path = pathOf(key);
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&h), sizeof(h));
    out.write(object.data(), std::streamsize(object.size()));
    if (!out.good()) {
      out.close();
      std::remove(tmp.c_str());
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return;
  }
  ++stats_.writes;
  evict();
}

void JitCache::evict() {
  struct Entry {
    std::filesystem::path path;
    std::filesystem::file_time_type time;
    uint64_t size;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    if (!e.is_regular_file(ec) || e.path().extension() != ".o") continue;
    const uint64_t size = e.file_size(ec);
    entries.push_back({e.path(), e.last_write_time(ec), size});
    total += size;
  }
  if (total <= maxBytes_) return;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.time < b.time; });
  for (const Entry& e : entries) {
    if (total <= maxBytes_) break;
    if (std::filesystem::remove(e.path, ec)) {
      total -= e.size;
      ++stats_.evicted;
    }
  }
}

} // namespace ember::compiler
