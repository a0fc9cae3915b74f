// DESIGN "Time and determinism": the same seed and calls give byte-identical responses and
// webhook bodies; a snapshot restored and continued gives the same future.
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

using nlohmann::json;

// A scripted session touching most of the API; returns every response (status and body).
std::vector<std::string> script(SimHarness& h, TestClient& admin, const std::string& receiver,
                                int rounds = 1) {
  std::vector<std::string> out;
  auto record = [&](const HttpResult& r) {
    out.push_back(std::to_string(r.status) + " " + r.body);
  };
  auto acc = admin.post("/sim/v1/accounts", {{"name", "Det"}});
  record(acc);
  const auto token = acc.json()["apiToken"].get<std::string>();
  const auto accountId = acc.json()["accountId"].get<int64_t>();
  TestClient api(h.port(), token);
  record(api.put("/api/decentralWebhook",
                 {{"webhookUrl", receiver},
                  {"webhookFeatures",
                   {"DEVICE_STATUS", "DEVICE_LOGS", "DEVICE_AUTHS", "DEVICE_MASTERDATA"}}}));
  std::vector<uint64_t> locks;
  for (const char* model : {"3.0 Pro", "3.0", "3.0"}) {
    auto r =
        admin.post("/sim/v1/smartlocks",
                   {{"accountId", accountId}, {"model", model}, {"timezone", "Europe/Berlin"}});
    record(r);
    locks.push_back(r.json()["smartlockId"].get<uint64_t>());
  }
  for (int round = 0; round < rounds; ++round) {
    for (uint64_t id : locks) {
      const std::string p = "/smartlock/" + std::to_string(id);
      record(api.post(p + "/action", {{"action", 1 + (round + int(id % 5)) % 5}}));
      record(api.put(p + "/auth", {{"name", "R" + std::to_string(round)},
                                   {"code", 345678 + round * 111111 % 400000},
                                   {"type", 13},
                                   {"remoteAllowed", true},
                                   {"allowedWeekDays", 96},
                                   {"allowedFromTime", 480},
                                   {"allowedUntilTime", 1020}}));
      record(
          admin.post("/sim/v1/smartlocks/" + std::to_string(id) + "/keypad", {{"code", 345678}}));
    }
    record(admin.post("/sim/v1/smartlocks/" + std::to_string(locks[1]) + "/connectivity",
                      {{"online", false}}));
    record(api.post("/smartlock/" + std::to_string(locks[2]) + "/action/lock"));
    record(admin.post("/sim/v1/clock/advance", {{"seconds", 3600}}));
    record(admin.post("/sim/v1/smartlocks/" + std::to_string(locks[1]) + "/connectivity",
                      {{"online", true}}));
    record(admin.post("/sim/v1/clock/advance", {{"seconds", 86400}}));
    record(api.get("/smartlock"));
    for (uint64_t id : locks) {
      record(api.get("/smartlock/" + std::to_string(id) + "/auth"));
      record(api.get("/smartlock/" + std::to_string(id) + "/log?limit=50"));
    }
  }
  return out;
}

std::vector<std::string> bodies(const std::vector<ReceivedWebhook>& got) {
  std::vector<std::string> out;
  for (auto& w : got)
    out.push_back(w.headers.at("x-nuki-signature-sha256") + " " + w.body);
  return out;
}

TEST(Determinism, SameSeedSameCallsGiveByteIdenticalResponsesAndWebhooks) {
  SimHarness::Options o;
  o.seed = 2024;
  SimHarness a(o), b(o);
  auto ra = script(a, a.admin(), a.receiverUrl());
  auto rb = script(b, b.admin(), b.receiverUrl());
  ASSERT_EQ(ra.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    // The registration echoes the receiver URL, whose port differs between the two harnesses.
    if (ra[i].find("webhookUrl") != std::string::npos) continue;
    EXPECT_EQ(ra[i], rb[i]) << "response " << i;
  }
  auto wa = bodies(a.received()), wb = bodies(b.received());
  EXPECT_GT(wa.size(), 20u);
  EXPECT_EQ(wa, wb);
}

TEST(Determinism, ADifferentSeedGivesDifferentIds) {
  SimHarness::Options o1, o2;
  o1.seed = 1;
  o2.seed = 2;
  SimHarness a(o1), b(o2);
  auto ra = script(a, a.admin(), a.receiverUrl());
  auto rb = script(b, b.admin(), b.receiverUrl());
  EXPECT_NE(ra[0], rb[0]) << "account ids and tokens come from the seed";
}

TEST(Snapshot, RestoringAndGoingOnGivesTheSameFuture) {
  SimHarness h;
  script(h, h.admin(), h.receiverUrl());
  auto snap = h.admin().get("/sim/v1/snapshot");
  ASSERT_EQ(snap.status, 200);
  const size_t before = h.received().size();

  // Go on: more calls and a week of virtual time.
  auto goOn = [&] {
    std::vector<std::string> out;
    auto locks = h.admin().get("/sim/v1/smartlocks").json();
    auto accounts = h.admin().get("/sim/v1/accounts").json();
    TestClient api(h.port(), accounts[0]["apiToken"].get<std::string>());
    for (auto& l : locks) {
      const std::string p = "/smartlock/" + std::to_string(l["smartlockId"].get<uint64_t>());
      auto r = api.post(p + "/action", {{"action", 4}});
      out.push_back(std::to_string(r.status));
      r = api.put(p + "/auth",
                  {{"name", "Later"}, {"code", 987654}, {"type", 13}, {"remoteAllowed", false}});
      out.push_back(std::to_string(r.status) + r.body);
    }
    out.push_back(h.admin().post("/sim/v1/clock/advance", {{"seconds", 7 * 86400}}).body);
    out.push_back(api.get("/smartlock").body);
    out.push_back(api.get("/smartlock/log?limit=50").body);
    out.push_back(api.get("/smartlock/auth").body);
    return out;
  };
  auto first = goOn();
  auto firstHooks = bodies(h.received());
  firstHooks.erase(firstHooks.begin(), firstHooks.begin() + long(before));

  auto restored = h.admin().request("PUT", "/sim/v1/snapshot", snap.body);
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(h.admin().get("/sim/v1/snapshot").body, snap.body)
      << "a restored world snapshots the same";
  const size_t mid = h.received().size();
  auto second = goOn();
  auto secondHooks = bodies(h.received());
  secondHooks.erase(secondHooks.begin(), secondHooks.begin() + long(mid));

  EXPECT_EQ(first, second);
  EXPECT_GT(firstHooks.size(), 5u);
  EXPECT_EQ(firstHooks, secondHooks);
}

TEST(Snapshot, ADamagedSnapshotIsRefusedAndChangesNothing) {
  SimHarness h;
  auto acc = h.createAccount();
  h.createLock(acc.accountId);
  auto before = h.admin().get("/sim/v1/snapshot").body;
  for (std::string bad : {std::string("{}"), std::string("[1,2]"), std::string("not json"),
                          std::string(R"({"format":"nukisim-snapshot","version":1})"),
                          std::string(R"({"format":"nukisim-snapshot","version":99})")}) {
    auto r = h.admin().request("PUT", "/sim/v1/snapshot", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(r.json().contains("error")) << r.body;
  }
  // A truncated real snapshot.
  auto j = json::parse(before);
  j["locks"][0].erase("device");
  EXPECT_EQ(h.admin().request("PUT", "/sim/v1/snapshot", j.dump()).status, 400);
  EXPECT_EQ(h.admin().get("/sim/v1/snapshot").body, before);
}

TEST(Reset, EmptiesTheWorld) {
  SimHarness h;
  auto acc = h.createAccount();
  h.createLock(acc.accountId);
  ASSERT_EQ(h.admin().post("/sim/v1/reset").status, 200);
  EXPECT_EQ(h.admin().get("/sim/v1/accounts").json().size(), 0u);
  EXPECT_EQ(h.admin().get("/sim/v1/smartlocks").json().size(), 0u);
  TestClient api(h.port(), acc.token);
  EXPECT_EQ(api.get("/smartlock").status, 401) << "the old token is gone";
}

}  // namespace
}  // namespace nukihil::test
