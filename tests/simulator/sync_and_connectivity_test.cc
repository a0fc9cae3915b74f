// SPEC §3 "Connectivity", "One queue per lock", "Delivery", "Daily sync", "Time zones".
#include "tests/support/world_fixture.h"

namespace nukihil::test {
namespace {

using namespace sim;

class SyncTest : public WorldTest {};

TEST_F(SyncTest, ANewCodeWorksAfterDeliveryButShowsOnlyAfterTheSync) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.createKeypadCode(l, code(345678)));
  EXPECT_FALSE(world.keypad(l, 345678).granted);
  advance(4);
  EXPECT_EQ(world.keypad(l, 345678).reason, "UNKNOWN_CODE");
  advance(1);  // deliverySeconds = 5
  EXPECT_TRUE(world.keypad(l, 345678).granted) << "R-KEYPAD: from delivery on";
  EXPECT_TRUE(webCodes(l).empty()) << "not in the web view before a sync";
  advanceTo("2025-01-01T03:00:00Z");  // the daily sync at 03:00 UTC
  EXPECT_EQ(webCodes(l), (std::vector<uint32_t>{345678}));
  auto auths = observer.of("auth");
  ASSERT_EQ(auths.size(), 1u);
  EXPECT_FALSE(auths[0].deleted);
  EXPECT_EQ(observer.of("masterdata").size(), 1u);
}

TEST_F(SyncTest, EverySyncEndsWithMasterDataEvenWhenNothingChanged) {
  const uint32_t l = addLock();
  advance(3 * 86400);
  EXPECT_EQ(observer.of("masterdata").size(), 3u);
  EXPECT_TRUE(observer.of("auth").empty());
  world.syncNow(l);
  EXPECT_EQ(observer.of("masterdata").size(), 4u);
}

TEST_F(SyncTest, DeviceAuthsComeInAuthIdOrderBeforeMasterData) {
  const uint32_t l = addLock();
  for (int64_t c : {345678, 456789, 567891})
    ASSERT_FALSE(world.createKeypadCode(l, code(c)));
  advance(5);
  world.syncNow(l);
  std::vector<std::string> kinds, ids;
  for (const auto& e : observer.events) {
    if (e.kind == "auth" || e.kind == "masterdata") kinds.push_back(e.kind);
    if (e.kind == "auth") ids.push_back(e.authId);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"auth", "auth", "auth", "masterdata"}));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
}

TEST_F(SyncTest, TheSyncDeliversQueuedChangesFirst) {
  const uint32_t l = addLock();
  world.lock(l).settings.deliverySeconds = 3600;
  ASSERT_FALSE(world.createKeypadCode(l, code(345678)));
  world.syncNow(l);
  EXPECT_EQ(webCodes(l), (std::vector<uint32_t>{345678}));
}

TEST_F(SyncTest, DeletedAndUpdatedCodesShowOldValuesUntilTheSync) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.addDeviceCode(l, code(345678, "Old"), true));
  ASSERT_FALSE(world.addDeviceCode(l, code(456789, "Gone"), true));
  ASSERT_FALSE(world.updateAuth(l, webCode(l, 345678)->id, code(345678, "New")));
  ASSERT_FALSE(world.deleteAuth(l, webCode(l, 456789)->id));
  advance(5);
  EXPECT_EQ(webCode(l, 345678)->name, "Old");
  EXPECT_NE(webCode(l, 456789), nullptr);
  EXPECT_EQ(world.keypad(l, 456789).reason, "UNKNOWN_CODE") << "gone from the device already";
  world.syncNow(l);
  EXPECT_EQ(webCode(l, 345678)->name, "New");
  EXPECT_EQ(webCode(l, 456789), nullptr);
  auto auths = observer.of("auth");
  ASSERT_EQ(auths.size(), 2u);
  int deleted = 0;
  for (auto& a : auths)
    deleted += a.deleted;
  EXPECT_EQ(deleted, 1);
}

TEST_F(SyncTest, CodesAddedOnTheLockShowAtTheNextSync) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.addDeviceCode(l, code(345678, "App")));
  EXPECT_TRUE(webCodes(l).empty());
  EXPECT_TRUE(world.keypad(l, 345678).granted);
  world.syncNow(l);
  EXPECT_EQ(webCodes(l), (std::vector<uint32_t>{345678}));
  ASSERT_FALSE(world.removeDeviceCode(l, 345678));
  world.syncNow(l);
  EXPECT_TRUE(webCodes(l).empty());
}

TEST_F(SyncTest, OfflineLockMissesTheSyncWithoutCatchUp) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.createKeypadCode(l, code(345678)));
  world.setOnline(l, false);
  advanceTo("2025-01-01T03:30:00Z");
  EXPECT_TRUE(webCodes(l).empty());
  EXPECT_TRUE(observer.of("masterdata").empty());
  world.setOnline(l, true);  // delivered now, but no sync on reconnect
  EXPECT_TRUE(world.keypad(l, 345678).granted);
  EXPECT_TRUE(webCodes(l).empty());
  advanceTo("2025-01-02T03:00:00Z");
  EXPECT_EQ(webCodes(l), (std::vector<uint32_t>{345678}));
  world.setOnline(l, false);
  world.syncNow(l);  // a sync request to an offline lock does nothing
  EXPECT_EQ(observer.of("masterdata").size(), 1u);
}

TEST_F(SyncTest, CommandsToAnOfflineLockWaitAndRunInOrderOnReconnect) {
  const uint32_t l = addLock();
  world.setOnline(l, false);
  observer.events.clear();
  ASSERT_FALSE(world.submitMotorAction(l, kActionLock, "Owner"));
  ASSERT_FALSE(world.createKeypadCode(l, code(345678)));
  ASSERT_FALSE(world.submitMotorAction(l, kActionUnlock, "Owner"));
  advance(7 * 86400);  // no expiry
  EXPECT_TRUE(observer.events.empty());
  EXPECT_EQ(world.lock(l).queue.size(), 3u);
  EXPECT_EQ(world.keypad(l, 345678).reason, "UNKNOWN_CODE");  // keypad works offline
  world.setOnline(l, true);
  // First the online report and the keypad try made while offline, then the queue.
  ASSERT_GE(observer.events.size(), 3u);
  EXPECT_EQ(observer.events[0].kind, "status");
  EXPECT_TRUE(observer.events[0].online);
  EXPECT_EQ(observer.events[1].kind, "log");
  EXPECT_EQ(observer.events[1].logTrigger, kTriggerKeypad);
  EXPECT_EQ(observer.events[2].kind, "status");
  EXPECT_EQ(observer.events[2].state, kLocking);
  advance(3);
  // The lock finished; the code behind it was delivered at once; the unlock started.
  EXPECT_EQ(world.lock(l).state, kUnlocking);
  EXPECT_EQ(deviceCodes(l), (std::vector<uint32_t>{345678}));
  advance(3);
  std::vector<uint8_t> motor;
  for (auto& e : observer.of("log"))
    if (e.logTrigger == kTriggerWeb) motor.push_back(e.logAction);
  EXPECT_EQ(motor, (std::vector<uint8_t>{kActionLock, kActionUnlock}));
  EXPECT_TRUE(world.lock(l).queue.empty());
}

TEST_F(SyncTest, GoingOfflineIsReportedAndStateFreezesInTheWebView) {
  const uint32_t l = addLock();
  world.setOnline(l, false);
  ASSERT_EQ(observer.of("status").size(), 1u);
  EXPECT_FALSE(observer.of("status")[0].online);
  ASSERT_FALSE(world.manual(l, true));
  EXPECT_EQ(world.lock(l).state, kLocked);
  EXPECT_EQ(world.lock(l).webState, kUnlocked) << "Nuki Web does not see an offline lock";
  world.setOnline(l, true);
  EXPECT_EQ(world.lock(l).webState, kLocked);
}

TEST_F(SyncTest, LocksOnOneBridgeGoOfflineTogether) {
  const uint32_t a = addLock(Model::k30, "UTC", 777);
  const uint32_t b = addLock(Model::k30, "UTC", 777);
  const uint32_t other = addLock(Model::k30);
  EXPECT_EQ(world.lock(a).bridge, world.lock(b).bridge);
  EXPECT_NE(world.lock(a).bridge, world.lock(other).bridge);
  world.setOnline(b, false);
  EXPECT_FALSE(world.online(world.lock(a)));
  EXPECT_FALSE(world.lock(a).webOnline);
  EXPECT_TRUE(world.online(world.lock(other)));
  world.setOnline(a, true);
  EXPECT_TRUE(world.online(world.lock(b)));
}

TEST_F(SyncTest, ABridgeOfAnotherAccountCannotBeShared) {
  addLock(Model::k30, "UTC", 4242);
  const uint32_t stranger = world.addAccount("Stranger");
  LockSpec spec;
  spec.account = stranger;
  spec.model = Model::k30;
  spec.bridgeId = 4242;
  EXPECT_EQ(world.addLock(spec).second.status, 409);
  spec.model = Model::k30Pro;
  EXPECT_EQ(world.addLock(spec).second.status, 400) << "a 3.0 Pro has no bridge";
}

TEST_F(SyncTest, SyncAtFollowsTheLocalClockAcrossDaylightSaving) {
  // 02:30 local in Berlin: skipped on 30 March 2025, repeated on 26 October 2025.
  auto berlinLockAt = [&](const char* now) {
    clock.set(*parseRfc3339(now));
    LockSpec spec;
    spec.account = account;
    spec.settings.timeZone = TimeZone::find("Europe/Berlin");
    spec.settings.syncAtMinute = 150;
    return world.addLock(spec).first;
  };
  const uint32_t m = berlinLockAt("2025-03-29T12:00:00Z");
  EXPECT_EQ(formatRfc3339(timeFromMillis(world.lock(m).nextSyncMs)), "2025-03-30T01:00:00.000Z")
      << "02:30 is skipped: the sync runs at the first instant after the gap";
  advanceTo("2025-03-31T12:00:00Z");
  EXPECT_EQ(formatRfc3339(timeFromMillis(world.lock(m).nextSyncMs)), "2025-04-01T00:30:00.000Z");
  world.removeLock(m);

  const uint32_t n = berlinLockAt("2025-10-25T12:00:00Z");
  observer.events.clear();
  advanceTo("2025-10-26T23:00:00Z");
  std::vector<int64_t> syncs;
  for (auto& e : observer.of("masterdata"))
    if (e.smartlockId == world.lock(n).smartlockId) syncs.push_back(e.atMs);
  ASSERT_EQ(syncs.size(), 1u) << "the repeated 02:30 runs the sync once";
  EXPECT_EQ(formatRfc3339(timeFromMillis(syncs[0])), "2025-10-26T00:30:00.000Z");
  EXPECT_EQ(formatRfc3339(timeFromMillis(world.lock(n).nextSyncMs)), "2025-10-27T01:30:00.000Z");
}

}  // namespace
}  // namespace nukihil::test
