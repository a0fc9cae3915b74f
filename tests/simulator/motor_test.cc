// SPEC §3 "Motor": states, timing, lock'n'go, unlatch, jam; logs of motor actions.
#include "tests/support/world_fixture.h"

namespace nukihil::test {
namespace {

using namespace sim;

class MotorTest : public WorldTest {};

std::vector<uint8_t> statesOf(const RecordingObserver& o) {
  std::vector<uint8_t> out;
  for (const auto& e : o.of("status"))
    out.push_back(e.state);
  return out;
}

TEST_F(MotorTest, LockPassesThroughLockingForMotorSeconds) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.submitMotorAction(l, kActionLock, "Owner"));
  advance(0);
  EXPECT_EQ(world.lock(l).state, kLocking);
  EXPECT_EQ(world.lock(l).webState, kLocking);
  advance(2);
  EXPECT_EQ(world.lock(l).state, kLocking);
  advance(1);
  EXPECT_EQ(world.lock(l).state, kLocked);
  EXPECT_EQ(world.lock(l).webState, kLocked);
  EXPECT_EQ(world.lock(l).webTrigger, kTriggerWeb);
  EXPECT_EQ(statesOf(observer), (std::vector<uint8_t>{kLocking, kLocked}));
  auto logs = observer.of("log");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].logAction, kActionLock);
  EXPECT_EQ(logs[0].logTrigger, kTriggerWeb);
  EXPECT_EQ(logs[0].logState, 0);
  EXPECT_EQ(logs[0].name, "Owner");
}

TEST_F(MotorTest, AnActionWhoseTargetIsReachedStillRunsAndIsLogged) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.submitMotorAction(l, kActionUnlock, "Owner"));  // already unlocked
  advance(3);
  EXPECT_EQ(statesOf(observer), (std::vector<uint8_t>{kUnlocking, kUnlocked}));
  EXPECT_EQ(observer.of("log").size(), 1u);
}

TEST_F(MotorTest, ActionsRunOneAfterAnotherInOrder) {
  const uint32_t l = addLock();
  world.submitMotorAction(l, kActionLock, "Owner");
  world.submitMotorAction(l, kActionUnlock, "Owner");
  world.submitMotorAction(l, kActionLock, "Owner");
  advance(9);
  EXPECT_EQ(statesOf(observer),
            (std::vector<uint8_t>{kLocking, kLocked, kUnlocking, kUnlocked, kLocking, kLocked}));
  auto logs = observer.of("log");
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0].atMs + 3000, logs[1].atMs);
  EXPECT_EQ(logs[1].atMs + 3000, logs[2].atMs);
}

TEST_F(MotorTest, UnlatchReturnsToUnlockedAfterUnlatchDuration) {
  const uint32_t l = addLock();
  world.submitMotorAction(l, kActionUnlatch, "Owner");
  advance(3);
  EXPECT_EQ(world.lock(l).state, kUnlatched);
  advance(2);
  EXPECT_EQ(world.lock(l).state, kUnlatched);
  advance(1);
  EXPECT_EQ(world.lock(l).state, kUnlocked);
  EXPECT_EQ(statesOf(observer), (std::vector<uint8_t>{kUnlatching, kUnlatched, kUnlocked}));
}

TEST_F(MotorTest, LockNGoEndsUnlockedThenLocksAfterTheTimeout) {
  const uint32_t l = addLock();
  world.submitMotorAction(l, kActionLockNGo, "Owner");
  advance(3);
  EXPECT_EQ(world.lock(l).state, kUnlockedLockNGo);
  advance(19);
  EXPECT_EQ(world.lock(l).state, kUnlockedLockNGo);
  advance(1);  // 20 s lngTimeout: the auto-lock starts
  EXPECT_EQ(world.lock(l).state, kLocking);
  advance(3);
  EXPECT_EQ(world.lock(l).state, kLocked);
  EXPECT_EQ(statesOf(observer),
            (std::vector<uint8_t>{kUnlocking, kUnlockedLockNGo, kLocking, kLocked}));
}

TEST_F(MotorTest, LockNGoWithUnlatchUnlatchesFirst) {
  const uint32_t l = addLock();
  world.submitMotorAction(l, kActionLockNGoUnlatch, "Owner");
  advance(3 + 3 + 20 + 3);
  EXPECT_EQ(statesOf(observer),
            (std::vector<uint8_t>{kUnlatching, kUnlatched, kUnlockedLockNGo, kLocking, kLocked}));
}

TEST_F(MotorTest, AnotherActionCancelsThePendingLockNGo) {
  const uint32_t l = addLock();
  world.submitMotorAction(l, kActionLockNGo, "Owner");
  advance(5);
  world.submitMotorAction(l, kActionUnlock, "Owner");
  advance(60);
  EXPECT_EQ(world.lock(l).state, kUnlocked);
}

TEST_F(MotorTest, JammedMotorEndsBlockedWithACompletionStateAndFreeingRestores) {
  const uint32_t l = addLock();
  world.submitMotorAction(l, kActionLock, "Owner");
  advance(3);
  ASSERT_EQ(world.lock(l).state, kLocked);
  world.setJammed(l, true);
  EXPECT_EQ(world.lock(l).state, kLocked) << "jamming only matters to the next action";
  world.submitMotorAction(l, kActionUnlock, "Owner");
  advance(3);
  EXPECT_EQ(world.lock(l).state, kMotorBlocked);
  EXPECT_EQ(world.lock(l).webState, kMotorBlocked);
  auto logs = observer.of("log");
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[1].logState, 1) << "motor blocked";
  world.setJammed(l, false);
  EXPECT_EQ(world.lock(l).state, kLocked) << "back to the last stable state";
  EXPECT_EQ(world.lock(l).webState, kLocked);
}

TEST_F(MotorTest, FreeingTheMotorDuringABlockedRunReturnsToTheLastStableStateAfterIt) {
  const uint32_t l = addLock();
  world.submitMotorAction(l, kActionLock, "Owner");
  advance(3);
  ASSERT_EQ(world.lock(l).state, kLocked);
  world.setJammed(l, true);
  world.submitMotorAction(l, kActionUnlock, "Owner");
  advance(1);
  ASSERT_EQ(world.lock(l).state, kUnlocking);
  world.setJammed(l, false);  // freed while the blocked run is under way
  EXPECT_EQ(world.lock(l).state, kUnlocking);
  advance(2);
  // The run started on a jammed motor: it fails and is reported so, then the freed motor is
  // back in its last stable state.
  auto logs = observer.of("log");
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[1].logState, 1) << "motor blocked";
  EXPECT_EQ(world.lock(l).state, kLocked);
  EXPECT_EQ(world.lock(l).webState, kLocked);
  EXPECT_EQ(statesOf(observer),
            (std::vector<uint8_t>{kLocking, kLocked, kUnlocking, kMotorBlocked, kLocked}));
  world.submitMotorAction(l, kActionUnlock, "Owner");
  advance(3);
  EXPECT_EQ(world.lock(l).state, kUnlocked);
}

// README decision: the queue is FIFO across kinds, so an action behind an auth change still in
// transit starts when that change is delivered.
TEST_F(MotorTest, AnActionQueuedBehindACodeInTransitStartsOnceTheCodeIsDelivered) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.createKeypadCode(l, code(345678)));
  advance(1);
  ASSERT_FALSE(world.submitMotorAction(l, kActionLock, "Owner"));
  advance(3);
  EXPECT_EQ(world.lock(l).state, kUnlocked) << "waits for the code ahead of it";
  EXPECT_TRUE(deviceCodes(l).empty());
  advance(1);  // t = 5 s: the code is delivered, then the action starts
  EXPECT_EQ(deviceCodes(l), (std::vector<uint32_t>{345678}));
  EXPECT_EQ(world.lock(l).state, kLocking);
  advance(3);
  EXPECT_EQ(world.lock(l).state, kLocked);
  EXPECT_TRUE(world.lock(l).queue.empty());
}

TEST_F(MotorTest, OutOfRangeActionIsRefused) {
  const uint32_t l = addLock();
  auto e = world.submitMotorAction(l, 6, "Owner");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "action");
  EXPECT_EQ(world.submitMotorAction(l, 0, "Owner").status, 400);
}

TEST_F(MotorTest, KnobTurnsAtOnceWithManualTriggerButNotOnABlockedMotor) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.manual(l, true));
  EXPECT_EQ(world.lock(l).state, kLocked);
  EXPECT_EQ(world.lock(l).webTrigger, kTriggerManual);
  auto logs = observer.of("log");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].logTrigger, kTriggerManual);
  world.setJammed(l, true);
  EXPECT_EQ(world.manual(l, false).code, "JAMMED");
}

TEST_F(MotorTest, BatteryIsCriticalAtTwentyOrBelow) {
  const uint32_t l = addLock();
  world.setBattery(l, 21);
  EXPECT_EQ(world.lock(l).webBattery, 21);
  world.setBattery(l, 20);
  EXPECT_EQ(observer.of("status").back().battery, 20);
  EXPECT_EQ(world.setBattery(l, 101).status, 400);
  EXPECT_EQ(world.setBattery(l, -1).status, 400);
}

// SPEC §4: DEVICE_STATUS when motor state, battery or serverState changed, not otherwise.
TEST_F(MotorTest, AStatusIsReportedOnlyWhenSomethingChanged) {
  const uint32_t l = addLock();
  world.setBattery(l, 100);  // the charge it has
  EXPECT_TRUE(observer.of("status").empty());
  world.setBattery(l, 80);
  world.setBattery(l, 80);
  ASSERT_EQ(observer.of("status").size(), 1u);
  EXPECT_EQ(observer.of("status")[0].battery, 80);
  ASSERT_FALSE(world.manual(l, true));
  ASSERT_FALSE(world.manual(l, true));  // already locked by hand: logged, nothing to report
  EXPECT_EQ(observer.of("log").size(), 2u);
  ASSERT_EQ(observer.of("status").size(), 2u);
  EXPECT_EQ(observer.of("status")[1].state, kLocked);
  world.setJammed(l, true);
  world.setJammed(l, false);
  EXPECT_EQ(observer.of("status").size(), 2u);
}

}  // namespace
}  // namespace nukihil::test
