// Issue 3's hard cases against the real simulator: Nuki Web refusing or failing (faults),
// the platform's receiver down for hours, the adapter killed mid-flight and started again,
// PIN changes racing a sync, polling without webhooks, the northbound API's errors.
#include <gtest/gtest.h>

#include "tests/support/embedded.h"

namespace nukihil::test {
namespace {

using nlohmann::json;
using Seq = std::vector<std::string>;

struct Fixture {
  explicit Fixture(Embedded::Options o = {}) : e(o) {
    lockId = e.addLock({{"model", "3.0"}, {"name", "Back"}});
    dev = std::to_string(lockId);
    e.startAdapter();
    e.advance(0);
  }
  Embedded e;
  uint64_t lockId = 0;
  std::string dev;
  Seq seq(size_t skip = 7) { return e.deviceSequence(dev, skip); }
  json fault(json body) {
    auto r = e.sim().post("/sim/v1/faults", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  json lastPins() { return e.lastPinCodes(dev); }
};

TEST(Resilience, R_ACT_FAILED_NukiRefusesWith4xx) {
  Fixture f;
  // The lock is removed from the account on Nuki Web: the action gets 404.
  ASSERT_EQ(f.e.nuki().del("/smartlock/" + f.dev).status, 204);
  auto a = f.e.act(f.dev, "LOCK", "setLocked", {{"lock", true}});
  f.e.advance(0);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction setLocked", "UpdateAction FAILED 404"}));
  EXPECT_EQ(f.e.actionStatus(a["actionId"])["reason"], "404");
}

TEST(Resilience, TransientFailuresAreRetriedWithinTheBudget) {
  Fixture f;
  f.fault({{"route", "/smartlock/*/action/lock"}, {"status", 503}, {"count", 2}});
  f.e.act(f.dev, "LOCK", "setLocked", {{"lock", true}});
  f.e.advance(60);  // backoffs on virtual time
  EXPECT_EQ(f.seq(), (Seq{"QueueAction setLocked", "UpdateAction PENDING",
                          "SetState LOCK.isLocked=true @act", "UpdateAction RESOLVED"}));
  int tries = 0;
  auto journal = f.e.sim().get("/sim/v1/journal?limit=100000").json();
  for (auto& j : journal["entries"])
    tries += j.value("path", "") == "/smartlock/" + f.dev + "/action/lock";
  EXPECT_EQ(tries, 3) << journal.dump().substr(0, 3000);
}

TEST(Resilience, TooManyRequestsPastTheBudgetIsATimeout) {
  Fixture f;
  f.fault({{"route", "/smartlock/*/action/*"}, {"status", 429}, {"retryAfter", 30}});
  auto a = f.e.act(f.dev, "LOCK", "setLocked", {{"lock", false}});
  f.e.advance(15 * 60);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction setLocked", "UpdateAction TIMEOUT"}));
  int tries = 0;
  auto journal = f.e.sim().get("/sim/v1/journal?limit=100000").json();
  for (auto& j : journal["entries"])
    tries += j.value("path", "").find("/action/") != std::string::npos;
  EXPECT_LE(tries, 5);
  EXPECT_GE(tries, 2) << journal.dump().substr(0, 2000);
}

TEST(Resilience, ALostCreateResponseIsRetriedAndTheSyncDecides) {
  Fixture f;
  // The first PUT takes effect but its answer is lost; the retry gets 409 (the code exists).
  f.fault(
      {{"route", "/smartlock/*/auth"}, {"methods", {"PUT"}}, {"resetAfter", true}, {"count", 1}});
  auto a = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                   {{"pinCode", "345678"}, {"name", "Once"}});
  f.e.advance(30);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction createPinCodeCredential", "UpdateAction PENDING"}));
  ASSERT_EQ(f.e.nuki().post("/smartlock/" + f.dev + "/sync").status, 204);
  f.e.advance(0);
  EXPECT_EQ(f.e.actionStatus(a["actionId"])["status"], "RESOLVED");
  EXPECT_EQ(f.lastPins().size(), 1u) << "created once";
}

TEST(Resilience, R_DELIVERY_ReceiverDownForHoursThenBack) {
  Fixture f;
  f.e.setReceiverStatus(503);
  for (int i = 0; i < 3; ++i) {
    f.e.act(f.dev, "LOCK", "setLocked", {{"lock", i % 2 == 0}});
    f.e.advance(5);
  }
  f.e.sim().post("/sim/v1/smartlocks/" + f.dev + "/battery", {{"charge", 50}});
  f.e.advance(30 * 3600);
  const auto before = f.e.deviceWebhooks(f.dev).size();
  EXPECT_EQ(before, 7u) << "nothing new arrived while the receiver was down";
  auto outbox = f.e.api().get("/v1/outbox").json();
  EXPECT_GT(outbox["pending"].get<int>(), 0);
  f.e.setReceiverStatus(204);
  f.e.advance(3600);
  EXPECT_EQ(
      f.seq(),
      (Seq{"QueueAction setLocked", "UpdateAction PENDING", "SetState LOCK.isLocked=true @act",
           "UpdateAction RESOLVED", "QueueAction setLocked", "UpdateAction PENDING",
           "SetState LOCK.isLocked=false @act", "UpdateAction RESOLVED", "QueueAction setLocked",
           "UpdateAction PENDING", "SetState LOCK.isLocked=true @act", "UpdateAction RESOLVED",
           "SetState BATTERY_LEVEL.percentage=50"}));
  for (auto& w : f.e.webhooks())
    EXPECT_TRUE(w.signatureOk);
}

TEST(Resilience, TheAdapterKilledMidFlightLosesNothing) {
  Fixture f;
  f.e.setReceiverStatus(503);  // webhooks pile up in the outbox
  auto a = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                   {{"pinCode", "345678"}, {"name", "Survivor"}});
  f.e.advance(0);
  f.e.killAdapter();
  f.e.setReceiverStatus(204);
  f.e.advance(5);  // the code reaches the lock while the adapter is down
  f.e.startAdapter();
  EXPECT_EQ(f.e.actionStatus(a["actionId"])["status"], "PENDING") << "the action survived";
  ASSERT_EQ(f.e.nuki().post("/smartlock/" + f.dev + "/sync").status, 204);
  f.e.advance(60);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction createPinCodeCredential", "UpdateAction PENDING",
                          "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[1] @act",
                          "UpdateAction RESOLVED"}));
  EXPECT_EQ(f.e.actionStatus(a["actionId"])["status"], "RESOLVED");
  // The device was not discovered twice.
  int configs = 0;
  for (auto& w : f.e.deviceWebhooks(f.dev))
    configs += w.type() == "deviceEventConfig";
  EXPECT_EQ(configs, 1);
}

TEST(Resilience, TwoPinChangesRacingOneSync) {
  Fixture f;
  ASSERT_EQ(f.e.sim()
                .post("/sim/v1/smartlocks/" + f.dev + "/device-codes",
                      {{"name", "Old"}, {"code", 345678}})
                .status,
            201);
  ASSERT_EQ(f.e.nuki().post("/smartlock/" + f.dev + "/sync").status, 204);
  f.e.advance(0);
  const std::string pin = f.lastPins()[0]["id"];
  f.e.clearWebhooks();
  // Both changes are accepted in the second before the daily sync at 03:00 (deliverySeconds 5).
  f.e.advance(3 * 3600 - 2);
  auto up = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "updatePinCodeCredential",
                    {{"id", pin}, {"name", "New"}});
  f.e.advance(0);
  auto cr = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                    {{"pinCode", "456789"}, {"name", "Fresh"}});
  f.e.advance(10);
  EXPECT_EQ(f.seq(0), (Seq{"QueueAction updatePinCodeCredential", "UpdateAction PENDING",
                           "QueueAction createPinCodeCredential", "UpdateAction PENDING",
                           "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[1] @act",
                           "UpdateAction RESOLVED",
                           "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials[2] @act",
                           "UpdateAction RESOLVED"}));
  auto pins = f.lastPins();
  ASSERT_EQ(pins.size(), 2u);
  EXPECT_EQ(f.e.actionStatus(up["actionId"])["status"], "RESOLVED");
  EXPECT_EQ(f.e.actionStatus(cr["actionId"])["status"], "RESOLVED");
}

TEST(Resilience, PollingAloneResolvesActionsWithoutNukiWebhooks) {
  Embedded::Options o;
  o.nukiWebhooks = false;
  o.pollSeconds = 30;
  Fixture f(o);
  f.e.act(f.dev, "LOCK", "setLocked", {{"lock", true}});
  f.e.advance(0);
  f.e.advance(60);
  EXPECT_EQ(f.seq(), (Seq{"QueueAction setLocked", "UpdateAction PENDING",
                          "SetState LOCK.isLocked=true @act", "UpdateAction RESOLVED"}));
  auto cr = f.e.act(f.dev, "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                    {{"pinCode", "456789"}, {"name", "Polled"}});
  f.e.advance(86400);
  EXPECT_EQ(f.e.actionStatus(cr["actionId"])["status"], "RESOLVED");
}

TEST(Resilience, IdempotencyKeyReturnsTheSameAction) {
  Fixture f;
  json body = {{"trait", "LOCK"}, {"action", "setLocked"}, {"parameters", {{"lock", true}}}};
  auto r1 = f.e.api().request("POST", "/v1/devices/" + f.dev + "/actions", body.dump(),
                              {{"Idempotency-Key", "k-1"}});
  auto r2 = f.e.api().request("POST", "/v1/devices/" + f.dev + "/actions", body.dump(),
                              {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(r1.status, 202);
  EXPECT_EQ(r1.json()["actionId"], r2.json()["actionId"]);
  body["parameters"]["lock"] = false;
  auto r3 = f.e.api().request("POST", "/v1/devices/" + f.dev + "/actions", body.dump(),
                              {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(r3.status, 409);
  f.e.advance(5);
  int queued = 0;
  for (auto& s : f.seq())
    queued += s.rfind("QueueAction", 0) == 0;
  EXPECT_EQ(queued, 1);
}

TEST(Resilience, NorthboundErrorsAreClear) {
  Fixture f;
  TestClient anonymous(f.e.adapterPort());
  EXPECT_EQ(anonymous.get("/v1/devices").status, 401);
  // Without the key nothing is told, not even which paths or methods exist.
  EXPECT_EQ(anonymous.get("/v1/nothing").status, 401);
  EXPECT_EQ(anonymous.del("/v1/devices").status, 401);
  EXPECT_EQ(f.e.api().get("/v1/devices/nope").status, 404);
  EXPECT_EQ(f.e.api().get("/v1/actions/nope").status, 404);
  EXPECT_EQ(f.e.api().get("/v1/nothing").status, 404);
  EXPECT_EQ(f.e.api().request("POST", "/v1/devices/" + f.dev + "/actions", "{not json").status,
            400);
  EXPECT_EQ(f.e.api().post("/v1/devices/" + f.dev + "/actions", {{"trait", "LOCK"}}).status, 400);
  auto r = f.e.api().post(
      "/v1/devices/" + f.dev + "/actions",
      {{"trait", "LOCK"}, {"action", "setLocked"}, {"parameters", {{"lock", "yes"}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["error"]["code"], "BAD_REQUEST");
  EXPECT_EQ(f.e.api()
                .post("/v1/devices/" + f.dev + "/actions",
                      {{"trait", "LOCK"}, {"action", "explode"}, {"parameters", json::object()}})
                .status,
            400);
  EXPECT_EQ(f.e.api().del("/v1/devices").status, 405);
  // A forged Nuki webhook is refused.
  TestClient nukiSide(f.e.adapterPort());
  auto forged = nukiSide.request("POST", "/nuki/webhook", R"({"feature":"DEVICE_STATUS"})",
                                 {{"X-Nuki-Signature-SHA256", std::string(64, '0')}});
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(f.e.api().get("/v1/health").json()["status"], "ok");
}

}  // namespace
}  // namespace nukihil::test
