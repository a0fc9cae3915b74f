// SPEC §3 "Keypad entry" and "Time zones": codes at the keypad, schedules on the lock's clock.
#include "tests/support/world_fixture.h"

namespace nukihil::test {
namespace {

using namespace sim;

class KeypadEntryTest : public WorldTest {};

TEST_F(KeypadEntryTest, EveryTryIsLoggedWithTheReason) {
  const uint32_t l = addLock();
  auto in = code(345678, "Alice");
  ASSERT_FALSE(world.addDeviceCode(l, in));
  auto disabled = code(456789, "Bob");
  disabled.enabled = false;
  ASSERT_FALSE(world.addDeviceCode(l, disabled));
  ASSERT_FALSE(world.manual(l, true));
  observer.events.clear();

  EXPECT_EQ(world.keypad(l, 111111).reason, "UNKNOWN_CODE");
  EXPECT_EQ(world.keypad(l, 456789).reason, "DISABLED");
  auto ok = world.keypad(l, 345678);
  EXPECT_TRUE(ok.granted);
  EXPECT_EQ(ok.reason, "");
  auto logs = observer.of("log");
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0].name, "");
  EXPECT_EQ(logs[0].logState, 224);
  EXPECT_EQ(logs[1].name, "Bob");
  EXPECT_EQ(logs[1].logState, 224);
  EXPECT_EQ(logs[2].name, "Alice");
  EXPECT_EQ(logs[2].logState, 0);
  for (auto& e : logs) {
    EXPECT_EQ(e.logAction, kActionUnlock);
    EXPECT_EQ(e.logTrigger, kTriggerKeypad);
  }
  advance(3);
  EXPECT_EQ(world.lock(l).state, kUnlocked);
  EXPECT_EQ(world.lock(l).webTrigger, kTriggerAccessory) << "a keypad unlock sets trigger 7";
  EXPECT_EQ(observer.of("log").size(), 3u) << "the keypad unlock is not logged twice";
  // Use is counted on the device.
  for (auto& a : world.lock(l).deviceAuths) {
    if (a->code == 345678) {
      EXPECT_EQ(a->lockCount, 1u);
    }
  }
}

TEST_F(KeypadEntryTest, JammedMotorRefusesAValidCode) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.addDeviceCode(l, code(345678)));
  world.setJammed(l, true);
  auto r = world.keypad(l, 345678);
  EXPECT_FALSE(r.granted);
  EXPECT_EQ(r.reason, "JAMMED");
  advance(3);
  EXPECT_EQ(world.lock(l).state, kMotorBlocked);
}

TEST_F(KeypadEntryTest, RecurringWindowUsesTheLocalClockAndWeekday) {
  const uint32_t l = addLock(Model::k30Pro, "Europe/Berlin");
  auto in = code(345678);
  in.weekDays = 64;  // Monday
  in.fromTime = 8 * 60;
  in.untilTime = 17 * 60;
  ASSERT_FALSE(world.addDeviceCode(l, in));
  auto at = [&](const char* t) {
    clock.set(*parseRfc3339(t));
    return world.keypad(l, 345678);
  };
  EXPECT_EQ(at("2025-01-06T06:59:00Z").reason, "OUTSIDE_SCHEDULE");  // Mon 07:59 CET
  EXPECT_TRUE(at("2025-01-06T07:00:00Z").granted);                   // Mon 08:00 CET
  EXPECT_TRUE(at("2025-01-06T16:00:59Z").granted);                   // 17:00 CET: inclusive
  EXPECT_EQ(at("2025-01-06T16:01:00Z").reason, "OUTSIDE_SCHEDULE");  // 17:01
  EXPECT_EQ(at("2025-01-07T09:00:00Z").reason, "OUTSIDE_SCHEDULE");  // Tuesday
  // Summer time: 08:00 CEST is 06:00 UTC.
  EXPECT_TRUE(at("2025-07-07T06:00:00Z").granted);
  EXPECT_EQ(at("2025-07-07T05:59:00Z").reason, "OUTSIDE_SCHEDULE");
}

TEST_F(KeypadEntryTest, SkippedLocalTimesNeverMatchAndRepeatedOnesMatchTwice) {
  const uint32_t l = addLock(Model::k30Pro, "Europe/Berlin");
  auto in = code(345678);
  in.weekDays = 1;  // Sunday
  in.fromTime = 2 * 60 + 10;
  in.untilTime = 2 * 60 + 50;
  ASSERT_FALSE(world.addDeviceCode(l, in));
  int granted = 0;
  // 30 March 2025: 02:00–03:00 local does not exist. Try every minute of the UTC night.
  for (Time t = *parseRfc3339("2025-03-29T23:00:00Z"); t < *parseRfc3339("2025-03-30T03:00:00Z");
       t += std::chrono::minutes(1)) {
    clock.set(t);
    granted += world.keypad(l, 345678).granted;
  }
  EXPECT_EQ(granted, 0);
  // 26 October 2025: 02:00–03:00 local happens twice.
  granted = 0;
  for (Time t = *parseRfc3339("2025-10-25T23:00:00Z"); t < *parseRfc3339("2025-10-26T03:00:00Z");
       t += std::chrono::minutes(1)) {
    clock.set(t);
    granted += world.keypad(l, 345678).granted;
  }
  EXPECT_EQ(granted, 2 * 41);
}

TEST_F(KeypadEntryTest, TemporaryAndRecurringWindowsMustBothAllow) {
  const uint32_t l = addLock();
  auto in = code(345678);
  in.fromMs = millisOf(*parseRfc3339("2025-01-06T00:00:00Z"));
  in.untilMs = millisOf(*parseRfc3339("2025-01-08T00:00:00Z"));
  in.fromTime = 600;
  in.untilTime = 660;
  ASSERT_FALSE(world.addDeviceCode(l, in));
  auto at = [&](const char* t) {
    clock.set(*parseRfc3339(t));
    return world.keypad(l, 345678).granted;
  };
  EXPECT_FALSE(at("2025-01-05T10:30:00Z"));  // before the temporary window
  EXPECT_TRUE(at("2025-01-06T10:30:00Z"));
  EXPECT_FALSE(at("2025-01-06T12:00:00Z"));  // outside the daily window
  EXPECT_TRUE(at("2025-01-07T10:00:00Z"));
  EXPECT_FALSE(at("2025-01-08T10:30:00Z"));  // after the temporary window
}

TEST_F(KeypadEntryTest, KeypadWorksWhileOfflineAndItsLogsArriveOnReconnect) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.addDeviceCode(l, code(345678)));
  world.setOnline(l, false);
  observer.events.clear();
  EXPECT_TRUE(world.keypad(l, 345678).granted);
  advance(3);
  EXPECT_TRUE(observer.events.empty());
  EXPECT_EQ(world.lock(l).reportedLogs, 0u);
  world.setOnline(l, true);
  auto logs = observer.of("log");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(world.lock(l).reportedLogs, 1u);
}

}  // namespace
}  // namespace nukihil::test
