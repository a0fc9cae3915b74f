#include "runtime/backoff.h"

#include <algorithm>

namespace nukihil {

Duration exponentialBackoff(Duration first, Duration max, uint32_t attempt) {
  int64_t base = std::max<int64_t>(first.count(), 0);
  const int64_t cap = max.count();
  // Doubling stops at the cap (or at 0, which doubles to itself); a step past half the cap lands
  // on it, so nothing overflows.
  for (uint32_t i = 1; i < attempt && base < cap && base > 0; ++i)
    base = base > cap / 2 ? cap : base * 2;
  return Duration(std::min(base, cap));
}

Duration equalJitter(Duration base, Random& random) {
  const int64_t half = base.count() / 2;
  return Duration(base.count() - half + int64_t(random.below(uint64_t(half) + 1)));
}

}  // namespace nukihil
