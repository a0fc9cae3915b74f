// How often the adapter warns about a failure that repeats (the platform's receiver down, Nuki
// Web unreachable): soon, then without flooding the log. One rule for the outbox and the Nuki
// client.
#pragma once

#include <cstdint>

namespace nukihil::adapter {

// Whether the `n`-th failure in a row is worth a warning: the 3rd, then the 30th, 300th, …
inline bool warnAgainAt(uint64_t n) {
  if (n < 3 || n % 3 != 0) return false;
  for (n /= 3; n % 10 == 0; n /= 10) {
  }
  return n == 1;
}

}  // namespace nukihil::adapter
