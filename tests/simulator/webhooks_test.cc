// SPEC §4 "Nuki webhooks": registration, bodies, signatures, per-lock order, retries on
// virtual time.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "runtime/crypto.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

using nlohmann::json;

struct Fixture {
  SimHarness h;
  SimHarness::AccountInfo acc = h.createAccount("Hooks");
  TestClient api{h.port(), acc.token};
  uint64_t lock = h.createLock(acc.accountId, {{"model", "3.0 Pro"}});
  std::string lockPath = "/smartlock/" + std::to_string(lock);

  json registerHook(std::vector<std::string> features = {"DEVICE_STATUS", "DEVICE_MASTERDATA",
                                                         "DEVICE_LOGS", "DEVICE_AUTHS"}) {
    auto r = api.put("/api/decentralWebhook",
                     {{"webhookUrl", h.receiverUrl()}, {"webhookFeatures", features}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  std::vector<std::string> features() {
    std::vector<std::string> out;
    for (auto& w : h.received())
      out.push_back(w.json()["feature"].get<std::string>());
    return out;
  }
};

TEST(NukiWebhooks, RegistrationAnswersIdSecretUrlAndFeatures) {
  Fixture f;
  auto hook = f.registerHook();
  EXPECT_TRUE(hook["id"].is_number_integer());
  EXPECT_GE(hook["secret"].get<std::string>().size(), 32u);
  EXPECT_EQ(hook["webhookUrl"], f.h.receiverUrl());
  EXPECT_EQ(hook["webhookFeatures"].size(), 4u);
  auto list = f.api.get("/api/decentralWebhook").json();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], hook["id"]);
}

TEST(NukiWebhooks, BadRegistrationsAreRefused) {
  Fixture f;
  auto put = [&](json body) { return f.api.put("/api/decentralWebhook", body).status; };
  EXPECT_EQ(
      put({{"webhookUrl", "http://example.com/hook"}, {"webhookFeatures", {"DEVICE_STATUS"}}}), 400)
      << "plain http only for loopback";
  EXPECT_EQ(put({{"webhookUrl", f.h.receiverUrl()}, {"webhookFeatures", {"DEVICE_WHATEVER"}}}),
            400);
  EXPECT_EQ(put({{"webhookUrl", f.h.receiverUrl()}, {"webhookFeatures", json::array()}}), 400);
  EXPECT_EQ(put({{"webhookUrl", f.h.receiverUrl()},
                 {"webhookFeatures", {"DEVICE_STATUS", "DEVICE_STATUS"}}}),
            400);
  EXPECT_EQ(put({{"webhookFeatures", {"DEVICE_STATUS"}}}), 400);
  EXPECT_EQ(put({{"webhookUrl", "ftp://x"}, {"webhookFeatures", {"DEVICE_STATUS"}}}), 400);
  EXPECT_EQ(put({{"webhookUrl", "https://example.com/hook"},
                 {"webhookFeatures", {"DEVICE_CONFIG", "ACCOUNT_USER"}}}),
            200)
      << "https anywhere; DEVICE_CONFIG and ACCOUNT_USER are accepted";
}

TEST(NukiWebhooks, ALockActionIsReportedInOrderAndSigned) {
  Fixture f;
  auto hook = f.registerHook();
  ASSERT_EQ(f.api.post(f.lockPath + "/action/lock").status, 204);
  f.h.advance(3);
  auto got = f.h.received();
  ASSERT_EQ(f.features(),
            (std::vector<std::string>{"DEVICE_STATUS", "DEVICE_LOGS", "DEVICE_STATUS"}));
  EXPECT_EQ(got[0].json()["state"]["state"], 4);
  EXPECT_EQ(got[0].json()["smartlockId"], f.lock);
  EXPECT_EQ(got[1].json()["smartlockLog"]["action"], 2);
  EXPECT_EQ(got[2].json()["state"]["state"], 1);
  const std::string secret = hook["secret"];
  for (auto& w : got) {
    EXPECT_EQ(w.headers.at("x-nuki-signature-sha256"),
              crypto::toHex(crypto::hmacSha256(secret, w.body)));
    EXPECT_EQ(w.headers.at("x-nuki-signature"), crypto::toHex(crypto::hmacSha1(secret, w.body)));
    EXPECT_NE(w.headers.at("content-type").find("application/json"), std::string::npos);
  }
}

TEST(NukiWebhooks, OnlySubscribedFeaturesAndOnlyTheOwnAccount) {
  Fixture f;
  f.registerHook({"DEVICE_MASTERDATA"});
  auto other = f.h.createAccount("Other");
  const uint64_t otherLock = f.h.createLock(other.accountId);
  TestClient otherApi(f.h.port(), other.token);
  f.api.post(f.lockPath + "/action/lock");
  otherApi.post("/smartlock/" + std::to_string(otherLock) + "/sync");
  f.api.post(f.lockPath + "/sync");
  f.h.advance(5);
  ASSERT_EQ(f.features(), (std::vector<std::string>{"DEVICE_MASTERDATA"}));
  EXPECT_EQ(f.h.received()[0].json()["smartlockId"], f.lock);
}

TEST(NukiWebhooks, SyncSendsDeviceAuthsThenMasterData) {
  Fixture f;
  f.registerHook({"DEVICE_AUTHS", "DEVICE_MASTERDATA"});
  for (int c : {345678, 456789})
    ASSERT_EQ(f.api
                  .put(f.lockPath + "/auth", {{"name", "C" + std::to_string(c)},
                                              {"code", c},
                                              {"type", 13},
                                              {"remoteAllowed", false}})
                  .status,
              204);
  f.h.advance(5);
  ASSERT_EQ(f.api.post(f.lockPath + "/sync").status, 204);
  f.h.advance(0);
  auto got = f.h.received();
  ASSERT_EQ(f.features(),
            (std::vector<std::string>{"DEVICE_AUTHS", "DEVICE_AUTHS", "DEVICE_MASTERDATA"}));
  EXPECT_FALSE(got[0].json()["deleted"].get<bool>());
  EXPECT_LT(got[0].json()["smartlockAuth"]["id"].get<std::string>(),
            got[1].json()["smartlockAuth"]["id"].get<std::string>());
  EXPECT_EQ(got[2].json()["smartlockId"], f.lock);
  EXPECT_FALSE(got[2].json().contains("state"));
}

TEST(NukiWebhooks, AFailingDeliveryHoldsBackThatLocksLaterEventsAndIsRetriedWithBackoff) {
  Fixture f;
  f.registerHook({"DEVICE_STATUS"});
  f.h.setReceiverStatus(500);
  f.api.post(f.lockPath + "/action/lock");
  f.h.advance(3);  // DEVICE_STATUS at 0 s (locking, fails) and at 3 s (locked, waits)
  EXPECT_TRUE(f.h.received().empty());
  auto attemptsOf = [&] {
    std::vector<std::pair<int64_t, int>> out;  // (attempt, status)
    auto j = f.h.admin().get("/sim/v1/journal").json();
    for (auto& e : j["entries"])
      if (e["type"] == "webhook")
        out.emplace_back(e["attempt"].get<int64_t>(), e["status"].get<int>());
    return out;
  };
  auto attempts = attemptsOf();
  ASSERT_EQ(attempts.size(), 1u) << "the second event waits behind the first";
  f.h.advance(2);   // t = 5 s: the first retry, 5 s after the first attempt
  f.h.advance(10);  // t = 15 s: the second, 10 s later
  attempts = attemptsOf();
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[2], std::make_pair(int64_t(3), 500));
  f.h.setReceiverStatus(200);
  f.h.advance(19);
  EXPECT_TRUE(f.h.received().empty()) << "the next retry is 20 s after the last (t = 35 s)";
  f.h.advance(1);
  auto got = f.h.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].json()["state"]["state"], 4);
  EXPECT_EQ(got[1].json()["state"]["state"], 1);
}

TEST(NukiWebhooks, AnUnreachableReceiverIsRetriedAndNothingIsLost) {
  Fixture f;
  auto r = f.api.put("/api/decentralWebhook", {{"webhookUrl", "http://127.0.0.1:1/nowhere"},
                                               {"webhookFeatures", {"DEVICE_STATUS"}}});
  ASSERT_EQ(r.status, 200);
  f.api.post(f.lockPath + "/action/lock");
  f.h.advance(3600);
  auto health = f.h.admin().get("/sim/v1/health").json();
  EXPECT_EQ(health["pendingWebhookDeliveries"], 2);
}

TEST(NukiWebhooks, DeletingAWebhookStopsItsDeliveries) {
  Fixture f;
  auto hook = f.registerHook({"DEVICE_STATUS"});
  const std::string path = "/api/decentralWebhook/" + std::to_string(hook["id"].get<int64_t>());
  auto other = f.h.createAccount("Other");
  TestClient otherApi(f.h.port(), other.token);
  EXPECT_EQ(otherApi.del(path).status, 403);
  EXPECT_EQ(f.api.del(path).status, 204);
  EXPECT_EQ(f.api.del(path).status, 404);
  f.api.post(f.lockPath + "/action/lock");
  f.h.advance(3);
  EXPECT_TRUE(f.h.received().empty());
}

TEST(NukiWebhooks, OfflineAndBackIsReportedWithServerState) {
  Fixture f;
  f.registerHook({"DEVICE_STATUS"});
  f.h.admin().post("/sim/v1/smartlocks/" + std::to_string(f.lock) + "/connectivity",
                   {{"online", false}});
  f.h.admin().post("/sim/v1/smartlocks/" + std::to_string(f.lock) + "/connectivity",
                   {{"online", true}});
  f.h.advance(0);
  auto got = f.h.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].json()["serverState"], 4);
  EXPECT_EQ(got[1].json()["serverState"], 0);
}

// A delivery still in flight when the world is restored or reset belongs to the world that is
// gone: its answer must not touch the stream that replaced it, even one with the same webhook
// and lock ids (a reset with the same seed builds the same ids again). The test runs the event
// loop itself, so the old answer arrives exactly when it wants it to.
void anAnswerFromBeforeLeavesTheNewStreamsAlone(bool restore) {
  boost::asio::io_context io;
  VirtualClock clock;
  WorkTracker inFlight;  // deliveries sent and not yet answered
  http::ClientOptions co;
  co.tracker = &inFlight;
  http::HttpClient client(io, co);
  // The receiver holds the first delivery's answer; later ones get `status` at once.
  std::vector<http::Respond> held;
  std::vector<nlohmann::json> bodies;
  int status = 500;
  http::HttpServer receiver(io, {}, [&](http::Request& req, http::Respond respond) {
    bodies.push_back(nlohmann::json::parse(req.body));
    if (bodies.size() == 1)
      held.push_back(std::move(respond));
    else
      respond(http::Response::empty(status));
  });
  receiver.start();
  auto runUntil = [&](const std::function<bool()>& done) {
    while (!done())
      if (io.run_one_for(std::chrono::seconds(10)) == 0) break;  // a safety net, never a pace
  };
  sim::Simulator sim(clock, &client, sim::SimulatorOptions{});
  const std::string url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/nuki";
  auto build = [&] {  // the same seed builds the same ids
    auto& w = sim.world();
    sim::LockSpec spec;
    spec.account = w.addAccount("Hooks");
    auto [lock, e] = w.addLock(spec);
    EXPECT_FALSE(e);
    EXPECT_FALSE(sim.webhooks().add(spec.account, url, {"DEVICE_STATUS"}).second);
    EXPECT_FALSE(w.submitMotorAction(lock, sim::kActionLock, "Owner"));
  };
  build();
  const auto before = sim.snapshot();  // the action queued, nothing reported yet
  clock.advanceBy(Duration::zero());   // DEVICE_STATUS "locking" goes out and is held
  runUntil([&] { return held.size() == 1; });
  ASSERT_EQ(held.size(), 1u);
  if (restore) {
    ASSERT_FALSE(sim.restore(before));
  } else {
    sim.reset();
    build();
  }
  // The new world's first delivery fails (500) and waits for its retry in 5 s…
  clock.advanceBy(Duration::zero());
  runUntil([&] { return bodies.size() == 2 && inFlight.inFlight() == 1; });
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[1]["state"]["state"], 4);
  // …when the old world's delivery is answered 200.
  held[0](http::Response::empty(200));
  runUntil([&] { return inFlight.idle(); });
  ASSERT_TRUE(inFlight.idle());
  // The retry still goes out: the old answer did not take the new head of the stream.
  status = 200;
  clock.advanceBy(std::chrono::seconds(5));
  runUntil([&] { return bodies.size() == 3 && inFlight.idle(); });
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[2], bodies[1]);
  clock.advanceBy(std::chrono::seconds(3));  // and then "locked"
  runUntil([&] { return bodies.size() == 4 && inFlight.idle(); });
  ASSERT_EQ(bodies.size(), 4u);
  EXPECT_EQ(bodies[3]["state"]["state"], 1);
  receiver.stop();
  runUntil([&] { return receiver.connectionCount() == 0; });
}

TEST(NukiWebhooks, AnAnswerFromBeforeARestoreLeavesTheNewStreamsAlone) {
  anAnswerFromBeforeLeavesTheNewStreamsAlone(/*restore=*/true);
}

TEST(NukiWebhooks, AnAnswerFromBeforeAResetLeavesTheNewStreamsAlone) {
  anAnswerFromBeforeLeavesTheNewStreamsAlone(/*restore=*/false);
}

}  // namespace
}  // namespace nukihil::test
