// Counter-based random numbers (Philox4x32-10): value i of a draw depends only on (seed, offset,
// i), so any thread, or later a GPU, reproduces the same stream without shared state.
#pragma once

#include <cstdint>

namespace ember::random {

struct Philox {
  uint32_t out[4];
  // The four 32-bit words for counter (c_hi:c_lo, lane block) under key = seed.
  Philox(uint64_t seed, uint64_t counter, uint64_t subsequence = 0);
};

// Uniform in [0, 1) from a 32-bit word (24 bits of mantissa).
inline float to_uniform(uint32_t u) { return static_cast<float>(u >> 8) * (1.0f / 16777216.0f); }
// Uniform in (0, 1], safe for log.
inline float to_uniform_open(uint32_t u) { return (static_cast<float>(u >> 8) + 1.0f) * (1.0f / 16777216.0f); }

// The process's default generator: a seed and how many 128-bit blocks have been used.
void manual_seed(uint64_t seed);
uint64_t initial_seed();
// Reserves `blocks` counter values for one draw; returns the first.
uint64_t reserve(uint64_t blocks);
// The next counter value a draw would reserve, and setting it (to replay draws: a compiled
// function's backward recomputes its forward with the forward's random numbers).
uint64_t offset();
void set_offset(uint64_t value);

} // namespace ember::random
