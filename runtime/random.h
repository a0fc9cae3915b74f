// Seeded pseudo-random numbers with a fixed algorithm (xoshiro256**, seeded through splitmix64)
// and distributions of our own, so that a seed gives the same world on every platform and
// standard library.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace nukihil {

class Random {
 public:
  using State = std::array<uint64_t, 4>;

  explicit Random(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed);
  uint64_t next();
  // Uniform in [0, bound); bound must be > 0. Unbiased (rejection sampling).
  uint64_t below(uint64_t bound);
  // Uniform in [lo, hi], inclusive.
  int64_t between(int64_t lo, int64_t hi);
  // Uniform in [0, 1) with 53 bits.
  double unit();
  // True with probability p (p ≤ 0 never, p ≥ 1 always; no draw is taken for those).
  bool chance(double p);
  // `n` lower-case hex digits.
  std::string hex(size_t n);

  const State& state() const { return s_; }
  void setState(const State& s) { s_ = s; }

 private:
  State s_{};
};

}  // namespace nukihil
