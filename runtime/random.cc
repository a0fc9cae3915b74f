#include "runtime/random.h"

namespace nukihil {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

void Random::reseed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_)
    w = splitmix64(x);
}

uint64_t Random::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Random::below(uint64_t bound) {
  // Reject the top partial range so every residue is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t v;
  do
    v = next();
  while (v >= limit);
  return v % bound;
}

int64_t Random::between(int64_t lo, int64_t hi) {
  const uint64_t span = uint64_t(hi) - uint64_t(lo);
  if (span == UINT64_MAX) return int64_t(next());
  return int64_t(uint64_t(lo) + below(span + 1));
}

double Random::unit() {
  return double(next() >> 11) * 0x1.0p-53;
}

bool Random::chance(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return unit() < p;
}

std::string Random::hex(size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n, '0');
  uint64_t bits = 0;
  int left = 0;
  for (auto& c : out) {
    if (left == 0) {
      bits = next();
      left = 16;
    }
    c = kDigits[bits & 15];
    bits >>= 4;
    --left;
  }
  return out;
}

}  // namespace nukihil
