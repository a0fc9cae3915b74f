// SPEC §6 against the real thing: nukisim, the adapter and a webhook recorder on one virtual
// clock over loopback (tests/support/embedded.h). Each test checks one device's de-duplicated
// webhook sequence against the rule it cites.
#include <gtest/gtest.h>

#include "tests/support/embedded.h"

namespace nukihil::test {
namespace {

using nlohmann::json;
using Seq = std::vector<std::string>;

struct Fixture {
  Embedded e;
  uint64_t lockId = e.addLock({{"model", "3.0 Pro"}, {"name", "Front"}, {"batteryCharge", 80}});
  std::string dev = std::to_string(lockId);
  std::string simLock = "/sim/v1/smartlocks/" + std::to_string(lockId);

  Fixture() {
    e.startAdapter();
    e.advance(0);
  }
  Seq seq(size_t skip = 7) { return e.deviceSequence(dev, skip); }
  json lastPins() { return e.lastPinCodes(dev); }
  std::string createPin(const std::string& code, const std::string& name,
                        json extra = json::object()) {
    extra["pinCode"] = code;
    extra["name"] = name;
    auto r = e.act(dev, "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential", extra);
    e.advance(0);  // let Nuki Web's answer arrive before the test goes on
    return r.value("actionId", "");
  }
  json pinAction(const std::string& action, const json& params, int status = 202) {
    auto r = e.act(dev, "BETA_PIN_CODE_CREDENTIALS", action, params, status);
    e.advance(0);
    return r;
  }
  void syncNow() {
    ASSERT_EQ(e.nuki().post("/smartlock/" + dev + "/sync").status, 204);
    e.advance(0);
  }
};

TEST(Rules, R_DISCOVER_ConfigThenOneSetStatePerFieldInOrder) {
  Fixture f;
  auto all = describe(f.e.deviceWebhooks(f.dev));
  ASSERT_GE(all.size(), 7u);
  EXPECT_EQ(Seq(all.begin(), all.begin() + 7),
            (Seq{"Config", "SetState BETA_CONNECTIVITY.isOnline=true",
                 "SetState LOCK.isJammed=false", "SetState LOCK.isLocked=false",
                 "SetState BATTERY_LEVEL.percentage=80", "SetState BATTERY_LEVEL.status=\"NORMAL\"",
                 "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[0]"}));
  for (auto& w : f.e.webhooks())
    EXPECT_TRUE(w.signatureOk) << w.id;
  auto device = f.e.api().get("/v1/devices/" + f.dev).json();
  EXPECT_EQ(device["model"], "Nuki Smart Lock 3.0 Pro");
  EXPECT_EQ(device["traits"]["LOCK"]["properties"]["supportsIsJammed"], true);
  EXPECT_EQ(
      device["traits"]["BETA_PIN_CODE_CREDENTIALS"]["properties"]["maxNumberOfPinCodeCredentials"],
      100);
}

TEST(Rules, R_ACT_ONLINE_LockResolvesWithTheStateItCaused) {
  Fixture f;
  auto a = f.e.act(f.dev, "LOCK", "setLocked", {{"lock", true}});
  f.e.advance(3);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction setLocked", "UpdateAction PENDING",
                          "SetState LOCK.isLocked=true @act", "UpdateAction RESOLVED"}));
  EXPECT_EQ(f.e.actionStatus(a["actionId"])["status"], "RESOLVED");
  // Locking a locked lock changes nothing: no SetState.
  f.e.act(f.dev, "LOCK", "setLocked", {{"lock", true}});
  f.e.advance(3);
  auto s = f.seq(11);
  EXPECT_EQ(s, (Seq{"QueueAction setLocked", "UpdateAction PENDING", "UpdateAction RESOLVED"}));
}

TEST(Rules, R_ACT_JAMMED_RejectedWithMotorBlockedAndFreedLater) {
  Fixture f;
  f.e.sim().post(f.simLock + "/jam", {{"jammed", true}});
  f.e.act(f.dev, "LOCK", "setLocked", {{"lock", true}});
  f.e.advance(3);
  EXPECT_EQ(f.seq(),
            (Seq{"QueueAction setLocked", "UpdateAction PENDING",
                 "SetState LOCK.isJammed=true @act", "UpdateAction REJECTED MOTOR_BLOCKED"}));
  f.e.sim().post(f.simLock + "/jam", {{"jammed", false}});
  f.e.advance(0);
  EXPECT_EQ(f.seq(11), (Seq{"SetState LOCK.isJammed=false"}));
}

TEST(Rules, R_ACT_OFFLINE_QueuedActionsResolveInOrderAfterReconnect) {
  Fixture f;
  f.e.sim().post(f.simLock + "/connectivity", {{"online", false}});
  f.e.advance(0);
  f.e.act(f.dev, "LOCK", "setLocked", {{"lock", true}});
  f.e.advance(0);  // Nuki Web's 204 arrives before the next action goes out
  f.e.act(f.dev, "LOCK", "setLocked", {{"lock", false}});
  f.e.advance(86400);  // no expiry
  EXPECT_EQ(f.seq(),
            (Seq{"SetState BETA_CONNECTIVITY.isOnline=false", "QueueAction setLocked",
                 "UpdateAction PENDING", "QueueAction setLocked", "UpdateAction PENDING"}));
  f.e.sim().post(f.simLock + "/connectivity", {{"online", true}});
  f.e.advance(10);
  EXPECT_EQ(f.seq(12), (Seq{"SetState BETA_CONNECTIVITY.isOnline=true",
                            "SetState LOCK.isLocked=true @act", "UpdateAction RESOLVED",
                            "SetState LOCK.isLocked=false @act", "UpdateAction RESOLVED"}));
}

TEST(Rules, R_CONN_R_BATT_R_MANUAL) {
  Fixture f;
  f.e.sim().post(f.simLock + "/battery", {{"charge", 19}});
  f.e.sim().post(f.simLock + "/manual", {{"action", "lock"}});
  f.e.sim().post(f.simLock + "/connectivity", {{"online", false}});
  f.e.sim().post(f.simLock + "/connectivity", {{"online", true}});
  f.e.advance(0);
  EXPECT_EQ(
      f.seq(),
      (Seq{"SetState BATTERY_LEVEL.percentage=19", "SetState BATTERY_LEVEL.status=\"CRITICAL\"",
           "SetState LOCK.isLocked=true", "SetState BETA_CONNECTIVITY.isOnline=false",
           "SetState BETA_CONNECTIVITY.isOnline=true"}));
}

TEST(Rules, R_PIN_ACCEPTED_CreateShowsOnlyAtTheSync) {
  Fixture f;
  auto id = f.createPin(
      "345678", "Alice",
      {{"recurringSchedules",
        {{{"rrule", "RRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=8;BYMINUTE=30"}, {"duration", 90}}}}});
  f.e.advance(60);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction createPinCodeCredential", "UpdateAction PENDING"}));
  // R-KEYPAD: the code works at the keypad before any sync shows it, inside its schedule only.
  // 2025-01-01 is a Wednesday: outside.
  EXPECT_EQ(f.e.sim().post(f.simLock + "/keypad", {{"code", 345678}}).json()["reason"],
            "OUTSIDE_SCHEDULE");
  f.e.advance(86400);  // the daily sync at 03:00
  EXPECT_EQ(f.seq(), (Seq{"QueueAction createPinCodeCredential", "UpdateAction PENDING",
                          "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[1] @act",
                          "UpdateAction RESOLVED"}));
  auto pins = f.lastPins();
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0]["pinCode"], "345678");
  EXPECT_EQ(pins[0]["alwaysActive"], false);
  EXPECT_EQ(pins[0]["recurringSchedules"][0]["rrule"],
            "RRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=8;BYMINUTE=30");
  EXPECT_EQ(pins[0]["recurringSchedules"][0]["duration"], 90);
  const std::string pinId = pins[0]["id"];
  // Update and delete go the same way.
  f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "updatePinCodeCredential",
          {{"id", pinId}, {"name", "Alice B"}});
  f.syncNow();
  EXPECT_EQ(f.lastPins()[0]["name"], "Alice B");
  EXPECT_EQ(f.lastPins()[0]["id"], pinId) << "ids are stable";
  f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "deletePinCodeCredential", {{"id", pinId}});
  f.syncNow();
  EXPECT_EQ(f.lastPins().size(), 0u);
  (void)id;
}

TEST(Rules, R_PIN_INVALID_TypedErrorsAndNoWebhook) {
  Fixture f;
  struct Case {
    json params;
    const char* code;
  };
  const std::vector<Case> cases = {
      {{{"pinCode", "12345"}, {"name", "x"}}, "PIN_FORMAT"},
      {{{"pinCode", "34567a"}, {"name", "x"}}, "PIN_FORMAT"},
      {{{"pinCode", "345670"}, {"name", "x"}}, "PIN_CONTAINS_ZERO"},
      {{{"pinCode", "123456"}, {"name", "x"}}, "PIN_STARTS_WITH_12"},
      {{{"pinCode", "345678"}, {"name", ""}}, "NAME_LENGTH"},
      {{{"pinCode", "345678"}, {"name", std::string(21, 'n')}}, "NAME_LENGTH"},
      {{{"pinCode", "345678"},
        {"name", "x"},
        {"temporarySchedules",
         {{{"startDatetime", "2025-02-01T00:00:00Z"}, {"endDatetime", "2025-01-01T00:00:00Z"}}}}},
       "SCHEDULE_INVALID"},
      {{{"pinCode", "345678"},
        {"name", "x"},
        {"recurringSchedules", {{{"rrule", "RRULE:FREQ=DAILY"}, {"duration", 60}}}}},
       "SCHEDULE_INVALID"},
      {{{"pinCode", "345678"},
        {"name", "x"},
        {"recurringSchedules",
         {{{"rrule", "RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=23"}, {"duration", 120}}}}},
       "SCHEDULE_INVALID"},
      // K2 before K6: the first failure wins.
      {{{"pinCode", "345670"}, {"name", ""}}, "PIN_CONTAINS_ZERO"},
  };
  for (const auto& c : cases) {
    auto r = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential", c.params, 422);
    EXPECT_EQ(r["error"]["code"], c.code) << c.params.dump();
  }
  // K4 counts the adapter's own accepted change; K5 the hundredth.
  f.createPin("345678", "One");
  auto dup = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                     {{"pinCode", "345678"}, {"name", "Two"}}, 422);
  EXPECT_EQ(dup["error"]["code"], "PIN_DUPLICATE");
  f.e.advance(0);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction createPinCodeCredential", "UpdateAction PENDING"}));
}

TEST(Rules, PIN_PENDING_RefusesChangesToACodeWithAnUnresolvedAction) {
  Fixture f;
  f.createPin("345678", "A");
  f.syncNow();
  const std::string pinId = f.lastPins()[0]["id"];
  f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "updatePinCodeCredential",
          {{"id", pinId}, {"name", "B"}});
  auto r =
      f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "deletePinCodeCredential", {{"id", pinId}}, 422);
  EXPECT_EQ(r["error"]["code"], "PIN_PENDING");
  auto created = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                         {{"pinCode", "456789"}, {"name", "C"}});
  auto r2 = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "updatePinCodeCredential",
                    {{"id", created["pinId"]}, {"name", "D"}}, 422);
  EXPECT_EQ(r2["error"]["code"], "PIN_PENDING");
  auto r3 = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "deletePinCodeCredential",
                    {{"id", "pin_nope"}}, 404);
  EXPECT_EQ(r3["error"]["code"], "NOT_FOUND");
}

TEST(Rules, R_PIN_DROPPED_And_R_PIN_LOCAL_ACodeAddedOnTheLockWins) {
  Fixture f;
  f.createPin("345678", "From app");
  // Before delivery, someone adds the same digits on the lock itself (Bluetooth).
  ASSERT_EQ(f.e.sim()
                .post(f.simLock + "/device-codes", {{"name", "On the lock"}, {"code", 345678}})
                .status,
            201);
  f.e.advance(5);
  f.syncNow();
  EXPECT_EQ(f.seq(), (Seq{"QueueAction createPinCodeCredential", "UpdateAction PENDING",
                          "UpdateAction REJECTED DROPPED_BY_LOCK",
                          "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[1]"}));
  EXPECT_EQ(f.lastPins()[0]["name"], "On the lock");
}

TEST(Rules, R_PIN_SYNC_OneSyncExplainsSeveralChangesInAcceptanceOrder) {
  Fixture f;
  f.createPin("345678", "A");
  f.syncNow();
  const std::string pinA = f.lastPins()[0]["id"];
  f.e.clearWebhooks();
  f.createPin("456789", "B");
  f.pinAction("updatePinCodeCredential", {{"id", pinA}, {"pinCode", "567891"}});
  f.createPin("678912", "C");
  ASSERT_EQ(
      f.e.sim().post(f.simLock + "/device-codes", {{"name", "Local"}, {"code", 789123}}).status,
      201);
  f.e.advance(5);
  f.syncNow();
  EXPECT_EQ(
      f.seq(0),
      (Seq{"QueueAction createPinCodeCredential", "UpdateAction PENDING",
           "QueueAction updatePinCodeCredential", "UpdateAction PENDING",
           "QueueAction createPinCodeCredential", "UpdateAction PENDING",
           "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[2] @act", "UpdateAction RESOLVED",
           "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[2] @act", "UpdateAction RESOLVED",
           "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[3] @act", "UpdateAction RESOLVED",
           "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[4]"}));
}

TEST(Rules, R_PIN_LOCAL_CodesRemovedOrAddedOnTheLockShowAtTheNextSync) {
  Fixture f;
  f.createPin("345678", "Ours");
  f.syncNow();
  ASSERT_EQ(f.lastPins().size(), 1u);
  f.e.clearWebhooks();
  ASSERT_EQ(f.e.sim().del(f.simLock + "/device-codes/345678").status, 204);
  ASSERT_EQ(
      f.e.sim().post(f.simLock + "/device-codes", {{"name", "Theirs"}, {"code", 456789}}).status,
      201);
  f.e.advance(60);
  EXPECT_TRUE(f.seq(0).empty()) << "nothing before the sync shows it";
  f.syncNow();
  EXPECT_EQ(f.seq(0), (Seq{"SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[1]"}));
  EXPECT_EQ(f.lastPins()[0]["name"], "Theirs");
}

TEST(Rules, R_MANUAL_AKeypadUnlockIsAStateChangeWithoutAction) {
  Fixture f;
  f.e.sim().post(f.simLock + "/manual", {{"action", "lock"}});
  f.e.advance(0);
  ASSERT_EQ(
      f.e.sim().post(f.simLock + "/device-codes", {{"name", "Door"}, {"code", 567891}}).status,
      201);
  EXPECT_EQ(f.e.sim().post(f.simLock + "/keypad", {{"code", 567891}}).json()["granted"], true);
  f.e.advance(3);
  EXPECT_EQ(f.seq(), (Seq{"SetState LOCK.isLocked=true", "SetState LOCK.isLocked=false"}));
}

TEST(Rules, R_DELIVERY_AStreamFailingFor72HoursIsParkedNotSkippedAndResumes) {
  Fixture f;
  f.e.setReceiverStatus(500);
  f.e.act(f.dev, "LOCK", "setLocked", {{"lock", true}});
  f.e.advance(3);
  f.e.advance(73 * 3600);
  auto outbox = f.e.api().get("/v1/outbox").json();
  bool parked = false;
  for (auto& s : outbox["streams"])
    if (s["deviceId"] == f.dev) parked = s["parked"].get<bool>();
  EXPECT_TRUE(parked) << outbox.dump();
  EXPECT_EQ(f.e.api().get("/v1/health").json()["outboxParkedStreams"], 1);
  f.e.setReceiverStatus(204);
  f.e.advance(3600);
  EXPECT_EQ(f.seq(), Seq{}) << "a parked stream waits for an operator";
  ASSERT_EQ(f.e.api().post("/v1/outbox/" + f.dev + "/resume").status, 200);
  f.e.advance(60);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction setLocked", "UpdateAction PENDING",
                          "SetState LOCK.isLocked=true @act", "UpdateAction RESOLVED"}));
  EXPECT_EQ(f.e.api().post("/v1/outbox/" + f.dev + "/resume").status, 409);
}

}  // namespace
}  // namespace nukihil::test
