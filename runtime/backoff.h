// Retrying after failures in a row: the pause doubles from a first one up to a longest one, and,
// where many clients must not retry in step, is spread by "equal jitter". The simulator's Nuki
// webhooks, the adapter's Nuki client and its platform-webhook outbox all retry this way.
#pragma once

#include <cstdint>

#include "runtime/random.h"
#include "runtime/time.h"

namespace nukihil {

// The pause after `attempt` failures in a row (1-based; 0 counts as 1): first·2^(attempt−1),
// at most `max`. A negative `first` counts as 0. Never overflows, whatever `attempt` and `max`.
Duration exponentialBackoff(Duration first, Duration max, uint32_t attempt);

// "Equal jitter": half of `base` (rounded up) kept, the other half drawn uniformly from
// `random` with one call of Random::below, so the result lies in [base − ⌊base/2⌋, base].
// `base` must not be negative.
Duration equalJitter(Duration base, Random& random);

}  // namespace nukihil
