// SPEC §3 "Keypad codes": K1–K7 in order, counting accepted changes, operationId / 423,
// delivery, the lock dropping what breaks its own truth.
#include "tests/support/world_fixture.h"

namespace nukihil::test {
namespace {

using namespace sim;

class KeypadCodesTest : public WorldTest {};

TEST_F(KeypadCodesTest, K1ToK3AreBadParametersOnCode) {
  const uint32_t l = addLock();
  for (int64_t bad : {12345, 1234567, 0, -345678, 345670, 304567, 123456, 129999}) {
    auto e = world.createKeypadCode(l, code(bad));
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_EQ(e.param, "code") << bad;
    EXPECT_EQ(e.message,
              "The supplied value '" + std::to_string(bad) + "' for parameter 'code' is not valid");
  }
  EXPECT_FALSE(world.createKeypadCode(l, code(112345)));  // starts with 1, not 12
  EXPECT_FALSE(world.createKeypadCode(l, code(213456)));  // contains 12 later: fine
}

TEST_F(KeypadCodesTest, K6NameLengthIs422CountingCodePoints) {
  const uint32_t l = addLock();
  EXPECT_EQ(world.createKeypadCode(l, code(345678, "")).status, 422);
  auto noName = code(345678);
  noName.name.reset();
  EXPECT_EQ(world.createKeypadCode(l, noName).status, 422);
  EXPECT_EQ(world.createKeypadCode(l, code(345678, std::string(21, 'a'))).status, 422);
  EXPECT_FALSE(world.createKeypadCode(l, code(345678, std::string(20, 'a'))));
  // 20 code points of two bytes each are fine.
  std::string umlauts;
  for (int i = 0; i < 20; ++i)
    umlauts += "\xc3\xbc";
  EXPECT_FALSE(world.createKeypadCode(l, code(345679, umlauts)));
  EXPECT_EQ(world.createKeypadCode(l, code(345671, umlauts + "x")).status, 422);
}

TEST_F(KeypadCodesTest, RulesAreCheckedInOrderFirstFailureWins) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.createKeypadCode(l, code(345678)));
  // K2 (400) beats K6 (422) beats K7 (400 on a schedule field) beats K4 (409).
  auto in = code(345078, "");
  in.weekDays = 0;
  EXPECT_EQ(world.createKeypadCode(l, in).param, "code");
  in.code = 345678;
  EXPECT_EQ(world.createKeypadCode(l, in).status, 422);
  in.name = "ok";
  auto e = world.createKeypadCode(l, in);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "allowedWeekDays");
  in.weekDays.reset();
  EXPECT_EQ(world.createKeypadCode(l, in).status, 409);
}

TEST_F(KeypadCodesTest, K7Schedules) {
  const uint32_t l = addLock();
  const auto codes = validCodes(50);
  size_t next = 0;
  auto check = [&](auto edit, int status, const char* param = "") {
    auto in = code(codes[next++]);
    edit(in);
    auto e = world.createKeypadCode(l, in);
    EXPECT_EQ(e.status, status) << "code " << codes[next - 1];
    if (status == 400) {
      EXPECT_EQ(e.param, param);
    }
  };
  const int64_t t0 = millisOf(*parseRfc3339("2025-02-01T00:00:00Z"));
  check([&](AuthInput& in) { in.fromMs = t0; }, 400, "allowedUntilDate");
  check([&](AuthInput& in) { in.untilMs = t0; }, 400, "allowedFromDate");
  check(
      [&](AuthInput& in) {
        in.fromMs = t0;
        in.untilMs = t0;
      },
      400, "allowedUntilDate");
  check(
      [&](AuthInput& in) {
        in.fromMs = t0;
        in.untilMs = t0 + 1000;
      },
      0);
  check([&](AuthInput& in) { in.weekDays = 128; }, 400, "allowedWeekDays");
  check([&](AuthInput& in) { in.weekDays = 0; }, 400, "allowedWeekDays");
  check(
      [&](AuthInput& in) {
        in.fromTime = 1440;
        in.untilTime = 1441;
      },
      400, "allowedFromTime");
  check(
      [&](AuthInput& in) {
        in.fromTime = 600;
        in.untilTime = 600;
      },
      400, "allowedUntilTime");
  check([&](AuthInput& in) { in.fromTime = 600; }, 400, "allowedUntilTime");
  check(
      [&](AuthInput& in) {
        in.fromTime = 0;
        in.untilTime = 0;
        in.weekDays = 64;
      },
      0);
  check(
      [&](AuthInput& in) {
        in.fromTime = 480;
        in.untilTime = 1020;
      },
      0);
  // Both windows at once (temporary AND recurring).
  check(
      [&](AuthInput& in) {
        in.fromMs = t0;
        in.untilMs = t0 + 86400000;
        in.weekDays = 96;
        in.fromTime = 480;
        in.untilTime = 600;
      },
      0);
}

TEST_F(KeypadCodesTest, K4CountsAcceptedChangesAndIsPerLock) {
  const uint32_t a = addLock(), b = addLock();
  ASSERT_FALSE(world.createKeypadCode(a, code(345678)));
  EXPECT_EQ(world.createKeypadCode(a, code(345678)).status, 409) << "not synced, still counted";
  EXPECT_FALSE(world.createKeypadCode(b, code(345678))) << "the same code on another lock is fine";
}

TEST_F(KeypadCodesTest, K5AllowsOneHundredCodesAndAnAcceptedDeleteFreesASlotAtOnce) {
  const uint32_t l = addLock();
  const auto codes = validCodes(100);
  for (int64_t c : codes)
    ASSERT_FALSE(world.createKeypadCode(l, code(c))) << c;
  auto e = world.createKeypadCode(l, code(999999));
  EXPECT_EQ(e.status, 409);
  EXPECT_EQ(e.code, "CAPACITY");
  advance(5);  // delivered
  world.syncNow(l);
  ASSERT_EQ(webCodes(l).size(), 100u);
  ASSERT_FALSE(world.deleteAuth(l, webCode(l, uint32_t(codes[0]))->id));
  EXPECT_FALSE(world.createKeypadCode(l, code(999999))) << "the accepted delete freed a slot";
  EXPECT_EQ(world.createKeypadCode(l, code(888888)).status, 409);
}

TEST_F(KeypadCodesTest, OperationIdLocksTheAuthUntilDelivery) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.addDeviceCode(l, code(345678), /*synced=*/true));
  const ObjectId id = webCode(l, 345678)->id;
  auto rename = code(345678, "Renamed");
  ASSERT_FALSE(world.updateAuth(l, id, rename));
  ASSERT_NE(world.operationFor(world.lock(l), id), nullptr);
  EXPECT_EQ(world.updateAuth(l, id, rename).status, 423);
  EXPECT_EQ(world.deleteAuth(l, id).status, 423);
  advance(5);  // deliverySeconds
  EXPECT_EQ(world.operationFor(world.lock(l), id), nullptr);
  EXPECT_EQ(webCode(l, 345678)->name, "Guest") << "the web view shows old values until a sync";
  EXPECT_FALSE(world.deleteAuth(l, id)) << "delivered: changes are allowed again";
  EXPECT_EQ(world.deleteAuth(l, id).status, 404) << "an accepted delete makes the id unknown";
  EXPECT_EQ(world.updateAuth(l, id, rename).status, 404);
  world.syncNow(l);
  EXPECT_TRUE(webCodes(l).empty());
}

TEST_F(KeypadCodesTest, UpdateKeepsOmittedFieldsAndChecksTheMergedSchedule) {
  const uint32_t l = addLock();
  auto in = code(345678);
  in.weekDays = 64;
  in.fromTime = 480;
  in.untilTime = 600;
  ASSERT_FALSE(world.addDeviceCode(l, in, true));
  const ObjectId id = webCode(l, 345678)->id;
  auto upd = code(456789, "New");
  upd.code = 456789;
  ASSERT_FALSE(world.updateAuth(l, id, upd));
  advance(5);
  world.syncNow(l);
  const Auth* a = webCode(l, 456789);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "New");
  EXPECT_EQ(a->schedule.weekDays, 64);
  EXPECT_EQ(a->schedule.fromTime, 480);
  auto bad = code(456789, "New");
  bad.untilTime = 100;  // merged: 480 .. 100
  EXPECT_EQ(world.updateAuth(l, id, bad).param, "allowedUntilTime");
}

TEST_F(KeypadCodesTest, UpdateToAnotherCodesValueIsADuplicate) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.addDeviceCode(l, code(345678), true));
  ASSERT_FALSE(world.addDeviceCode(l, code(456789), true));
  auto id = webCode(l, 345678)->id;
  auto upd = code(456789);
  EXPECT_EQ(world.updateAuth(l, id, upd).status, 409);
  auto same = code(345678, "Same code");
  EXPECT_FALSE(world.updateAuth(l, id, same)) << "its own code is not a duplicate";
}

TEST_F(KeypadCodesTest, TheLockDropsACodeThatDuplicatesOneAddedOnTheDevice) {
  const uint32_t l = addLock();
  ASSERT_FALSE(world.createKeypadCode(l, code(345678, "From web")));
  ASSERT_FALSE(world.addDeviceCode(l, code(345678, "From app")));  // Bluetooth, before delivery
  advance(5);
  world.syncNow(l);
  ASSERT_EQ(webCodes(l), (std::vector<uint32_t>{345678}));
  EXPECT_EQ(webCode(l, 345678)->name, "From app") << "the web create was dropped";
}

TEST_F(KeypadCodesTest, TheLockDropsTheHundredAndFirstCode) {
  const uint32_t l = addLock();
  const auto codes = validCodes(100);
  for (size_t i = 0; i < 99; ++i)
    ASSERT_FALSE(world.createKeypadCode(l, code(codes[i])));
  ASSERT_FALSE(world.createKeypadCode(l, code(999999, "Web")));
  ASSERT_FALSE(world.addDeviceCode(l, code(codes[99], "App")));  // the lock is now full
  advance(5);
  world.syncNow(l);
  EXPECT_EQ(webCodes(l).size(), 100u);
  EXPECT_EQ(webCode(l, 999999), nullptr);
}

TEST_F(KeypadCodesTest, OnlyKeypadCodesCanBeCreatedAndAppAuthsNeedAnAccountUser) {
  const uint32_t l = addLock();
  auto in = code(345678);
  in.type.reset();
  EXPECT_EQ(world.createKeypadCode(l, in).param, "accountUserId");
  in.type = 2;
  EXPECT_EQ(world.createKeypadCode(l, in).param, "type");
  auto noRemote = code(345678);
  noRemote.remoteAllowed.reset();
  EXPECT_EQ(world.createKeypadCode(l, noRemote).param, "remoteAllowed");
}

TEST_F(KeypadCodesTest, BatchesRollBack) {
  const uint32_t l = addLock();
  auto mark = world.mark(l);
  ASSERT_FALSE(world.createKeypadCode(l, code(345678)));
  world.rollback({mark});
  EXPECT_TRUE(world.lock(l).pending.empty());
  EXPECT_TRUE(world.lock(l).queue.empty());
  EXPECT_FALSE(world.createKeypadCode(l, code(345678)))
      << "nothing of the rolled-back create is left";
}

}  // namespace
}  // namespace nukihil::test
