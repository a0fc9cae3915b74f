// SPEC §4 faults: status (429 with Retry-After, 5xx), latency, reset, resetAfter; probability
// from the seed, virtual-time windows, counts; the journal records what happened.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

using nlohmann::json;

struct Fixture {
  SimHarness h;
  SimHarness::AccountInfo acc = h.createAccount("Faults");
  TestClient api{h.port(), acc.token};
  uint64_t lock = h.createLock(acc.accountId);
  std::string lockPath = "/smartlock/" + std::to_string(lock);
  json fault(json body) {
    auto r = h.admin().post("/sim/v1/faults", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
};

TEST(Faults, StatusWithRetryAfterOnMatchingRoutesOnly) {
  Fixture f;
  f.fault({{"route", "/smartlock/*/action/*"}, {"status", 429}, {"retryAfter", 7}});
  auto r = f.api.post(f.lockPath + "/action/lock");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "7");
  EXPECT_EQ(r.json()["code"], 429);
  EXPECT_EQ(f.api.get(f.lockPath).status, 200) << "other routes are untouched";
  f.h.advance(10);
  EXPECT_EQ(f.api.get(f.lockPath).json()["state"]["state"], 3) << "the refused action never ran";
  ASSERT_EQ(f.h.admin().del("/sim/v1/faults").status, 204);
  EXPECT_EQ(f.api.post(f.lockPath + "/action/lock").status, 204);
}

TEST(Faults, A429WithoutRetryAfterStillSendsOne) {
  Fixture f;
  f.fault({{"route", "/smartlock/*/action/*"}, {"status", 429}});
  auto r = f.api.post(f.lockPath + "/action/lock");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_EQ(r.json()["reasonPhrase"], "Too Many Requests");
  EXPECT_EQ(f.h.admin().get("/sim/v1/faults").json()[0]["retryAfter"], 1);
}

TEST(Faults, AnInjectedStatusCarriesItsOwnReasonPhrase) {
  Fixture f;
  for (auto [status, phrase] :
       {std::pair{500, "Internal Server Error"}, std::pair{502, "Bad Gateway"},
        std::pair{503, "Service Unavailable"}, std::pair{504, "Gateway Timeout"},
        std::pair{404, "Not Found"}}) {
    f.fault({{"route", "/smartlock/*"}, {"status", status}, {"count", 1}});
    auto r = f.api.get(f.lockPath);
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.json()["code"], status);
    EXPECT_EQ(r.json()["reasonPhrase"], phrase) << status;
    EXPECT_FALSE(r.headers.count("retry-after")) << "Retry-After only for 429 unless given";
  }
}

TEST(Faults, MethodsCountAndWindow) {
  Fixture f;
  f.fault({{"route", "*"}, {"methods", {"PUT"}}, {"status", 503}, {"count", 2}});
  json code = {{"name", "x"}, {"code", 345678}, {"type", 13}, {"remoteAllowed", false}};
  EXPECT_EQ(f.api.get(f.lockPath).status, 200);
  EXPECT_EQ(f.api.put(f.lockPath + "/auth", code).status, 503);
  EXPECT_EQ(f.api.put(f.lockPath + "/auth", code).status, 503);
  EXPECT_EQ(f.api.put(f.lockPath + "/auth", code).status, 204) << "count exhausted";
  f.h.admin().del("/sim/v1/faults");
  // A window of 60 virtual seconds starting now.
  f.fault({{"route", "/smartlock/*"}, {"status", 500}, {"forSeconds", 60}});
  EXPECT_EQ(f.api.get(f.lockPath).status, 500);
  f.h.advance(59);
  EXPECT_EQ(f.api.get(f.lockPath).status, 500);
  f.h.advance(1);
  EXPECT_EQ(f.api.get(f.lockPath).status, 200);
}

TEST(Faults, ProbabilityIsDrawnFromTheSeed) {
  auto run = [](uint64_t seed) {
    SimHarness::Options o;
    o.seed = seed;
    SimHarness h(o);
    auto acc = h.createAccount();
    auto id = h.createLock(acc.accountId);
    TestClient api(h.port(), acc.token);
    h.admin().post("/sim/v1/faults", {{"route", "*"}, {"probability", 0.3}, {"status", 503}});
    std::string pattern;
    for (int i = 0; i < 200; ++i)
      pattern += api.get("/smartlock/" + std::to_string(id)).status == 503 ? 'x' : '.';
    return pattern;
  };
  const auto a = run(11), b = run(11), c = run(12);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto failures = std::count(a.begin(), a.end(), 'x');
  EXPECT_GT(failures, 30);
  EXPECT_LT(failures, 90);
}

TEST(Faults, ResetClosesTheConnectionBeforeTheHandlerRuns) {
  Fixture f;
  f.fault({{"route", "/smartlock/*/action/lock"}, {"reset", true}, {"count", 1}});
  TestClient fresh(f.h.port(), f.acc.token);
  auto r = fresh.post(f.lockPath + "/action/lock");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  f.h.advance(5);
  EXPECT_EQ(f.api.get(f.lockPath).json()["state"]["state"], 3) << "the handler never ran";
}

TEST(Faults, ResetAfterLosesTheResponseButTheRequestTookEffect) {
  Fixture f;
  f.fault({{"route", "/smartlock/*/action/lock"}, {"resetAfter", true}, {"count", 1}});
  TestClient fresh(f.h.port(), f.acc.token);
  auto r = fresh.post(f.lockPath + "/action/lock");
  EXPECT_EQ(r.status, 0);
  f.h.advance(5);
  EXPECT_EQ(f.api.get(f.lockPath).json()["state"]["state"], 1) << "the action ran";
  auto journal = f.h.admin().get("/sim/v1/journal").json()["entries"];
  bool seen = false;
  for (auto& e : journal)
    if (e["path"] == f.lockPath + "/action/lock") {
      seen = true;
      EXPECT_EQ(e["status"], 0);
      EXPECT_TRUE(e.contains("fault"));
    }
  EXPECT_TRUE(seen);
}

TEST(Faults, LatencyDelaysTheAnswerInRealTime) {
  Fixture f;
  f.fault({{"route", "/smartlock/*"}, {"methods", {"GET"}}, {"latencyMs", 150}});
  const auto start = std::chrono::steady_clock::now();
  auto r = f.api.get(f.lockPath);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(took, std::chrono::milliseconds(140));
}

TEST(Faults, BadFaultsAreRefusedClearly) {
  Fixture f;
  for (json bad : {json{{"route", "*"}}, json{{"route", "*"}, {"status", 200}},
                   json{{"route", "*"}, {"status", 503}, {"reset", true}},
                   json{{"route", "*"}, {"probability", 2}, {"status", 503}},
                   json{{"route", 5}, {"status", 503}},
                   json{{"route", "*"}, {"status", 503}, {"from", "yesterday"}}}) {
    auto r = f.h.admin().post("/sim/v1/faults", bad);
    EXPECT_EQ(r.status, 400) << bad.dump();
    EXPECT_EQ(r.json()["error"]["code"], "BAD_REQUEST") << r.body;
  }
  EXPECT_EQ(f.h.admin().get("/sim/v1/faults").json().size(), 0u);
}

TEST(Faults, ControlPlaneIsNeverFaulted) {
  Fixture f;
  f.fault({{"route", "*"}, {"status", 503}});
  EXPECT_EQ(f.h.admin().get("/sim/v1/health").status, 200);
}

}  // namespace
}  // namespace nukihil::test
