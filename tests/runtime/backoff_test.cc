// runtime/backoff: the one doubling and the one jitter the simulator and the adapter retry with.
#include "runtime/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace nukihil {
namespace {

using namespace std::chrono_literals;

TEST(ExponentialBackoff, DoublesFromTheFirstPauseUpToTheLongest) {
  EXPECT_EQ(exponentialBackoff(5s, 1h, 1), 5s);
  EXPECT_EQ(exponentialBackoff(5s, 1h, 2), 10s);
  EXPECT_EQ(exponentialBackoff(5s, 1h, 3), 20s);
  EXPECT_EQ(exponentialBackoff(5s, 1h, 10), 2560s);
  EXPECT_EQ(exponentialBackoff(5s, 1h, 11), 1h) << "5120 s would pass the longest pause";
  EXPECT_EQ(exponentialBackoff(5s, 1h, 1000), 1h);
}

TEST(ExponentialBackoff, AttemptZeroCountsAsOne) {
  EXPECT_EQ(exponentialBackoff(2s, 10min, 0), 2s);
}

TEST(ExponentialBackoff, TheLongestPauseWinsOverALongerFirst) {
  EXPECT_EQ(exponentialBackoff(10s, 3s, 1), 3s);
  EXPECT_EQ(exponentialBackoff(10s, 3s, 5), 3s);
}

TEST(ExponentialBackoff, ZeroAndNegativeFirstPausesStayZero) {
  EXPECT_EQ(exponentialBackoff(0s, 1h, 4'000'000'000u), 0s);
  EXPECT_EQ(exponentialBackoff(-5s, 1h, 3), 0s);
}

TEST(ExponentialBackoff, NeverOverflows) {
  const Duration longest = Duration::max();
  EXPECT_EQ(exponentialBackoff(1ms, longest, 63), Duration(INT64_C(1) << 62));
  EXPECT_EQ(exponentialBackoff(1ms, longest, 64), longest) << "2^63 ms does not fit";
  EXPECT_EQ(exponentialBackoff(1ms, longest, UINT32_MAX), longest);
  EXPECT_EQ(exponentialBackoff(Duration(INT64_MAX / 2 + 1), longest, 2), longest);
}

TEST(EqualJitter, KeepsHalfAndDrawsTheOtherHalf) {
  Random r(7);
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const Duration d = equalJitter(10ms, r);
    EXPECT_GE(d, 5ms);
    EXPECT_LE(d, 10ms);
    seen.insert(d.count());
  }
  EXPECT_EQ(seen.size(), 6u) << "every value of [5, 10] ms";
  // An odd base keeps the larger half: 7 → [4, 7].
  for (int i = 0; i < 200; ++i) {
    const Duration d = equalJitter(7ms, r);
    EXPECT_GE(d, 4ms);
    EXPECT_LE(d, 7ms);
  }
}

TEST(EqualJitter, TakesOneDrawFromTheGivenRandomEvenWithNothingToSpread) {
  Random a(42), b(42);
  EXPECT_EQ(equalJitter(1ms, a), 1ms);
  EXPECT_EQ(equalJitter(0ms, a), 0ms);
  b.below(1);
  b.below(1);
  EXPECT_EQ(a.next(), b.next()) << "the same stream as two draws of below()";
}

TEST(EqualJitter, IsReproducibleFromTheSeed) {
  Random a(99), b(99);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(equalJitter(60s, a), equalJitter(60s, b));
}

}  // namespace
}  // namespace nukihil
