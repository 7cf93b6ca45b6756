#include "ember/runtime/Random.h"

#include <atomic>

namespace ember::random {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

std::atomic<uint64_t> g_seed{67280421310721ull};
std::atomic<uint64_t> g_offset{0};

inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

} // namespace

Philox::Philox(uint64_t seed, uint64_t counter, uint64_t subsequence) {
  uint32_t c[4] = {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32),
                   static_cast<uint32_t>(subsequence), static_cast<uint32_t>(subsequence >> 32)};
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kM0, c[0], hi0, lo0);
    mulhilo(kM1, c[2], hi1, lo1);
    const uint32_t n[4] = {hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0};
    c[0] = n[0], c[1] = n[1], c[2] = n[2], c[3] = n[3];
    k0 += kW0;
    k1 += kW1;
  }
  for (int i = 0; i < 4; ++i) out[i] = c[i];
}

void manual_seed(uint64_t seed) {
  g_seed = seed;
  g_offset = 0;
}

uint64_t initial_seed() { return g_seed; }

uint64_t reserve(uint64_t blocks) { return g_offset.fetch_add(blocks); }
uint64_t offset() { return g_offset.load(); }
void set_offset(uint64_t value) { g_offset.store(value); }

} // namespace ember::random
