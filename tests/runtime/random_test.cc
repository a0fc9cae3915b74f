#include <gtest/gtest.h>

#include <map>
#include <set>

#include "runtime/random.h"

namespace nukihil {
namespace {

TEST(Random, TheSameSeedGivesTheSameSequence) {
  Random a(1234), b(1234), c(1235);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    (void)c;
  }
  Random d(1234), e(1235);
  EXPECT_NE(d.next(), e.next());
}

TEST(Random, FixedAlgorithmPinsKnownValues) {
  // xoshiro256** seeded through splitmix64 from 0: pinned so a platform or library change
  // cannot silently change every seeded world.
  Random r(0);
  const uint64_t first = r.next();
  Random again(0);
  EXPECT_EQ(first, again.next());
  // splitmix64(0) → e220a8397b1dcdaf; the first output follows from the algorithm.
  Random s(0);
  auto st = s.state();
  EXPECT_EQ(st[0], 0xe220a8397b1dcdafULL);
  EXPECT_EQ(st[1], 0x6e789e6aa1b965f4ULL);
}

TEST(Random, BelowStaysInRangeAndCoversIt) {
  Random r(7);
  std::map<uint64_t, int> seen;
  for (int i = 0; i < 7000; ++i) {
    const uint64_t v = r.below(7);
    ASSERT_LT(v, 7u);
    ++seen[v];
  }
  EXPECT_EQ(seen.size(), 7u);
  for (auto& [v, n] : seen)
    EXPECT_GT(n, 800) << v;
}

TEST(Random, BetweenIsInclusiveAndChanceHonoursItsEdges) {
  Random r(9);
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const int64_t v = r.between(-2, 2);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 2);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 5u);
  const auto before = r.state();
  EXPECT_FALSE(r.chance(0.0));
  EXPECT_TRUE(r.chance(1.0));
  EXPECT_EQ(r.state(), before) << "certain outcomes must not consume draws";
  int hits = 0;
  for (int i = 0; i < 10000; ++i)
    hits += r.chance(0.25);
  EXPECT_NEAR(hits, 2500, 250);
}

TEST(Random, StateRoundTrips) {
  Random r(99);
  r.next();
  const auto s = r.state();
  const uint64_t expected = r.next();
  Random other(1);
  other.setState(s);
  EXPECT_EQ(other.next(), expected);
  EXPECT_EQ(Random(5).hex(24).size(), 24u);
}

}  // namespace
}  // namespace nukihil
