#include <gtest/gtest.h>

#include <vector>

#include "runtime/clock.h"

namespace nukihil {
namespace {

using namespace std::chrono_literals;

TEST(VirtualClock, StartsAtTheDefaultInstantAndStandsStill) {
  VirtualClock c;
  EXPECT_EQ(formatRfc3339(c.now()), "2025-01-01T00:00:00.000Z");
  EXPECT_EQ(c.now(), c.now());
}

TEST(VirtualClock, FiresAlarmsInTimeOrderWithTiesInArmingOrder) {
  VirtualClock c;
  std::vector<std::string> fired;
  auto a = c.addAlarm([&] { fired.push_back("a@" + formatRfc3339(c.now())); });
  auto b = c.addAlarm([&] { fired.push_back("b@" + formatRfc3339(c.now())); });
  auto d = c.addAlarm([&] { fired.push_back("d@" + formatRfc3339(c.now())); });
  c.arm(a, c.now() + 10s);
  c.arm(b, c.now() + 5s);
  c.arm(d, c.now() + 10s);
  c.advanceBy(20s);
  EXPECT_EQ(fired,
            (std::vector<std::string>{"b@2025-01-01T00:00:05.000Z", "a@2025-01-01T00:00:10.000Z",
                                      "d@2025-01-01T00:00:10.000Z"}));
  EXPECT_EQ(c.now(), VirtualClock::kDefaultStart + 20s);
}

TEST(VirtualClock, RearmingReplacesTheDeadlineAndDisarmedAlarmsStayQuiet) {
  VirtualClock c;
  int fired = 0;
  auto a = c.addAlarm([&] { ++fired; });
  c.arm(a, c.now() + 5s);
  c.arm(a, c.now() + 50s);
  c.advanceBy(10s);
  EXPECT_EQ(fired, 0);
  c.disarm(a);
  c.advanceBy(100s);
  EXPECT_EQ(fired, 0);
  c.arm(a, c.now());
  c.advanceBy(0s);
  EXPECT_EQ(fired, 1);
}

TEST(VirtualClock, AnAlarmArmedWhileFiringRunsInTheSameAdvanceIfDue) {
  VirtualClock c;
  std::vector<int64_t> at;
  Clock::AlarmId id = 0;
  id = c.addAlarm([&] {
    at.push_back(secondsOf(c.now()));
    if (at.size() < 3) c.arm(id, c.now() + 1s);
  });
  c.arm(id, c.now() + 1s);
  c.advanceBy(10s);
  ASSERT_EQ(at.size(), 3u);
  EXPECT_EQ(at[2] - at[0], 2);
}

TEST(VirtualClock, WaitsForWorkInFlightBeforeTheNextAlarm) {
  VirtualClock c;
  std::vector<std::string> log;
  std::vector<std::function<void()>> pendingIo;  // stands in for the io_context
  auto first = c.addAlarm([&] {
    log.push_back("first");
    c.work().begin();
    pendingIo.push_back([&] {
      log.push_back("io done");
      c.work().end();
    });
  });
  auto second = c.addAlarm([&] { log.push_back("second"); });
  c.arm(first, c.now() + 1s);
  c.arm(second, c.now() + 2s);
  c.advanceBy(5s, [&] {
    ASSERT_FALSE(pendingIo.empty());
    auto f = std::move(pendingIo.front());
    pendingIo.erase(pendingIo.begin());
    f();
  });
  EXPECT_EQ(log, (std::vector<std::string>{"first", "io done", "second"}));
}

TEST(VirtualClock, RefusesASecondConcurrentAdvanceAndWorkWithoutAPump) {
  VirtualClock c;
  c.work().begin();
  bool done = false;
  EXPECT_TRUE(c.advanceTo(c.now() + 1s, [&] { done = true; }));
  EXPECT_FALSE(done);
  EXPECT_FALSE(c.advanceTo(c.now() + 1s, [] {}));
  c.work().end();
  EXPECT_TRUE(done);
  c.work().begin();
  EXPECT_THROW(c.advanceBy(1s), std::logic_error);
}

TEST(VirtualClock, NeverMovesBackwards) {
  VirtualClock c;
  c.advanceBy(10s);
  const Time t = c.now();
  c.advanceUntil(t - 5s);
  EXPECT_EQ(c.now(), t);
}

}  // namespace
}  // namespace nukihil
