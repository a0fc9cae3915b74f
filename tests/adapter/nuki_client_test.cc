// The adapter's Nuki Web client against the real simulator over loopback (SPEC §2, §5 "Retry
// budget toward Nuki Web", R-ACT-FAILED). The simulator runs on its own thread and clock
// (SimHarness); the client has its own io_context and VirtualClock on the test thread, so a
// backoff elapses only when the test advances the client's clock.
#include "adapter/nuki_client.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/http_client.h"
#include "runtime/log.h"
#include "tests/support/sim_harness.h"

namespace nukihil::adapter {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Outcome = NukiResult::Outcome;

Time at(const char* rfc3339) {
  auto t = parseRfc3339(rfc3339);
  EXPECT_TRUE(t) << rfc3339;
  return t.value_or(Time{});
}

class NukiClientTest : public ::testing::Test {
 protected:
  test::SimHarness h;
  test::SimHarness::AccountInfo account = h.createAccount("Client");
  uint64_t lock = h.createLock(account.accountId, {{"model", "3.0 Pro"}, {"name", "Front door"}});
  boost::asio::io_context io;
  VirtualClock clock;
  std::unique_ptr<http::HttpClient> http = makeHttp();
  Random random{7};
  std::unique_ptr<NukiClient> client = makeClient(account.token);

  std::unique_ptr<http::HttpClient> makeHttp() {
    http::ClientOptions o;
    o.tracker = &clock.work();
    return std::make_unique<http::HttpClient>(io, o);
  }
  std::unique_ptr<NukiClient> makeClient(const std::string& token,
                                         std::chrono::milliseconds timeout = 5000ms) {
    NukiClient::Options o;
    o.baseUrl = h.url() + "/";
    o.token = token;
    o.timeout = timeout;
    return std::make_unique<NukiClient>(*http, clock, random, o);
  }

  // Runs one piece of the client's I/O; a request in flight with nothing to run is a bug.
  void pump() {
    if (io.stopped()) io.restart();
    if (io.run_one_for(10s) == 0) throw std::runtime_error("work in flight but no I/O to run");
  }
  // Lets requests in flight finish without moving the client's clock.
  void settle() {
    clock.advanceBy(0ms, [this] { pump(); });
  }
  // Runs requests and jumps the client's clock from alarm to alarm until `out` is set.
  template <class T>
  void finish(const std::optional<T>& out, Duration limit = 1h) {
    const Time end = clock.now() + limit;
    settle();
    while (!out) {
      auto next = clock.nextDeadline();
      if (!next || *next > end) {
        ADD_FAILURE() << "the call never finished";
        return;
      }
      clock.advanceUntil(*next, [this] { pump(); });
    }
  }

  // Synchronous forms of the calls, recording when they finished on the client's clock.
  Time finishedAt{};
  NukiResult wait(const std::function<void(std::function<void(const NukiResult&)>)>& start) {
    std::optional<NukiResult> out;
    start([&](const NukiResult& r) {
      out = r;
      finishedAt = clock.now();
    });
    finish(out);
    return out.value_or(NukiResult{});
  }
  std::pair<NukiResult, std::vector<NukiLock>> listSmartlocks() {
    std::vector<NukiLock> v;
    auto r = wait([&](auto done) {
      client->listSmartlocks([&v, done](const NukiResult& res, std::vector<NukiLock> locks) {
        v = std::move(locks);
        done(res);
      });
    });
    return {r, v};
  }
  std::pair<NukiResult, std::optional<NukiLock>> getSmartlock(uint64_t id) {
    std::optional<NukiLock> v;
    auto r = wait([&](auto done) {
      client->getSmartlock(id, [&v, done](const NukiResult& res, std::optional<NukiLock> l) {
        v = std::move(l);
        done(res);
      });
    });
    return {r, v};
  }
  std::pair<NukiResult, std::vector<NukiAuth>> listAuths(uint64_t id) {
    std::vector<NukiAuth> v;
    auto r = wait([&](auto done) {
      client->listAuths(id, [&v, done](const NukiResult& res, std::vector<NukiAuth> a) {
        v = std::move(a);
        done(res);
      });
    });
    return {r, v};
  }
  std::pair<NukiResult, std::vector<NukiLog>> listLogs(uint64_t id, int limit) {
    std::vector<NukiLog> v;
    auto r = wait([&](auto done) {
      client->listLogs(id, limit, [&v, done](const NukiResult& res, std::vector<NukiLog> l) {
        v = std::move(l);
        done(res);
      });
    });
    return {r, v};
  }
  NukiResult lockAction(bool doLock) {
    return wait([&](auto done) { client->lockAction(lock, doLock, done); });
  }
  NukiResult createAuth(const NukiAuthFields& f) {
    return wait([&](auto done) { client->createAuth(lock, f, done); });
  }
  NukiResult sync() {
    return wait([&](auto done) { client->requestSync(lock, done); });
  }

  json fault(const json& body) {
    auto r = h.admin().post("/sim/v1/faults", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  // The Nuki API requests the simulator saw, as "METHOD path -> status".
  std::vector<std::string> journal() {
    auto r = h.admin().get("/sim/v1/journal?since=0");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const json j = r.json();
    if (!j.is_object() || !j.contains("entries")) {
      ADD_FAILURE() << "journal: " << r.body;
      return out;
    }
    for (const auto& e : j["entries"])
      if (e["type"] == "api")
        out.push_back(e["method"].get<std::string>() + " " + e["path"].get<std::string>() + " -> " +
                      std::to_string(e["status"].get<int>()));
    return out;
  }
  std::string path(const std::string& rest = "") {
    return "/smartlock/" + std::to_string(lock) + rest;
  }

  static NukiAuthFields code(std::string name, int64_t digits) {
    NukiAuthFields f;
    f.name = std::move(name);
    f.code = digits;
    return f;
  }
};

// ---------------------------------------------------------------------------------------------
// Every call works and decodes

TEST_F(NukiClientTest, ListsAndGetsSmartlocks) {
  const uint64_t other = h.createLock(
      account.accountId, {{"model", "3.0"}, {"name", "Garage"}, {"batteryCharge", 15}});
  auto [r, locks] = listSmartlocks();
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.status << " " << r.body;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_EQ(locks.size(), 2u);
  const NukiLock* pro = nullptr;
  const NukiLock* plain = nullptr;
  for (const auto& l : locks)
    (l.smartlockId == lock ? pro : plain) = &l;
  ASSERT_TRUE(pro && plain);
  EXPECT_EQ(plain->smartlockId, other);
  EXPECT_EQ(pro->smartlockId >> 32, 4u);
  EXPECT_EQ(pro->accountId, account.accountId);
  EXPECT_EQ(pro->type, 4);
  EXPECT_EQ(pro->name, "Front door");
  EXPECT_TRUE(pro->wifi);
  EXPECT_FALSE(plain->wifi);
  EXPECT_TRUE(pro->online());
  EXPECT_EQ(pro->state, 3) << "a new lock starts unlocked";
  EXPECT_EQ(pro->batteryCharge, 100);
  EXPECT_FALSE(pro->batteryCritical);
  EXPECT_EQ(plain->batteryCharge, 15);
  EXPECT_TRUE(plain->batteryCritical);

  auto [g, one] = getSmartlock(lock);
  ASSERT_EQ(g.outcome, Outcome::kOk) << g.body;
  ASSERT_TRUE(one);
  EXPECT_EQ(one->smartlockId, lock);
  EXPECT_EQ(one->name, "Front door");

  auto off = h.admin().post("/sim/v1/smartlocks/" + std::to_string(lock) + "/connectivity",
                            {{"online", false}});
  ASSERT_EQ(off.status, 200) << off.body;
  auto [g2, offline] = getSmartlock(lock);
  ASSERT_TRUE(offline) << g2.body;
  EXPECT_EQ(offline->serverState, 4);
  EXPECT_FALSE(offline->online());
}

TEST_F(NukiClientTest, LockAndUnlockRunOnTheLock) {
  auto r = lockAction(true);
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.status << " " << r.body;
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.attempts, 1);
  h.advance(5);
  EXPECT_EQ(getSmartlock(lock).second->state, 1);
  ASSERT_EQ(lockAction(false).outcome, Outcome::kOk);
  h.advance(5);
  EXPECT_EQ(getSmartlock(lock).second->state, 3);
  const auto requests = journal();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.front(), "POST " + path("/action/lock") + " -> 204");

  auto [l, logs] = listLogs(lock, 1);
  ASSERT_EQ(l.outcome, Outcome::kOk) << l.body;
  ASSERT_EQ(logs.size(), 1u) << "limit 1";
  EXPECT_EQ(logs[0].smartlockId, lock);
  EXPECT_EQ(logs[0].action, 1) << "newest first: the unlock";
  EXPECT_EQ(logs[0].trigger, 4) << "web";
  EXPECT_EQ(logs[0].state, 0);
  auto [l2, both] = listLogs(lock, 50);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1].action, 2);
  EXPECT_LE(both[1].date, both[0].date);
}

TEST_F(NukiClientTest, KeypadCodeLifecycle) {
  NukiAuthFields f = code("Cleaner", 456789);
  f.allowedFrom = at("2025-01-06T08:00:00Z");
  f.allowedUntil = at("2025-02-01T00:00:00Z");
  f.allowedWeekDays = 96;
  f.allowedFromTime = 480;
  f.allowedUntilTime = 720;
  auto c = createAuth(f);
  ASSERT_EQ(c.outcome, Outcome::kOk) << c.status << " " << c.body;
  EXPECT_EQ(c.status, 204);
  EXPECT_TRUE(c.body.empty()) << "PUT …/auth returns no id";

  auto [before, none] = listAuths(lock);
  ASSERT_EQ(before.outcome, Outcome::kOk) << before.body;
  EXPECT_TRUE(none.empty()) << "not listed before a sync";

  h.advance(10);  // delivered
  ASSERT_EQ(sync().outcome, Outcome::kOk);
  h.advance(1);
  auto [r, auths] = listAuths(lock);
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.body;
  ASSERT_EQ(auths.size(), 1u) << r.body;
  const NukiAuth a = auths[0];
  EXPECT_EQ(a.id.size(), 24u);
  EXPECT_EQ(a.smartlockId, lock);
  EXPECT_EQ(a.type, 13);
  EXPECT_EQ(a.code, 456789);
  EXPECT_EQ(a.name, "Cleaner");
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.allowedFrom, f.allowedFrom);
  EXPECT_EQ(a.allowedUntil, f.allowedUntil);
  EXPECT_EQ(a.allowedWeekDays, 96);
  EXPECT_EQ(a.allowedFromTime, 480);
  EXPECT_EQ(a.allowedUntilTime, 720);
  EXPECT_FALSE(a.operationId);

  // An update is the whole new state: no dates and no recurring window clear both.
  NukiAuthFields u = code("Cleaner 2", 567891);
  u.enabled = false;
  auto up = wait([&](auto done) { client->updateAuth(lock, a.id, u, done); });
  ASSERT_EQ(up.outcome, Outcome::kOk) << up.status << " " << up.body;
  auto locked = wait([&](auto done) { client->deleteAuth(lock, a.id, done); });
  EXPECT_EQ(locked.outcome, Outcome::kRefused);
  EXPECT_EQ(locked.status, 423) << "the update is not delivered yet";
  EXPECT_EQ(locked.attempts, 1);
  h.advance(10);
  ASSERT_EQ(sync().outcome, Outcome::kOk);
  h.advance(1);
  auto [r2, updated] = listAuths(lock);
  ASSERT_EQ(updated.size(), 1u) << r2.body;
  EXPECT_EQ(updated[0].id, a.id);
  EXPECT_EQ(updated[0].name, "Cleaner 2");
  EXPECT_EQ(updated[0].code, 567891);
  EXPECT_FALSE(updated[0].enabled);
  EXPECT_FALSE(updated[0].allowedFrom);
  EXPECT_FALSE(updated[0].allowedUntil);
  EXPECT_EQ(updated[0].allowedWeekDays, 127);
  EXPECT_EQ(updated[0].allowedFromTime, 0);
  EXPECT_EQ(updated[0].allowedUntilTime, 0);

  auto del = wait([&](auto done) { client->deleteAuth(lock, a.id, done); });
  ASSERT_EQ(del.outcome, Outcome::kOk) << del.status << " " << del.body;
  auto again = wait([&](auto done) { client->deleteAuth(lock, a.id, done); });
  EXPECT_EQ(again.outcome, Outcome::kRefused);
  EXPECT_EQ(again.status, 404) << "its delete was already accepted";
  h.advance(10);
  ASSERT_EQ(sync().outcome, Outcome::kOk);
  h.advance(1);
  EXPECT_TRUE(listAuths(lock).second.empty());
}

TEST_F(NukiClientTest, DecentralWebhooks) {
  std::optional<NukiResult> reg;
  int64_t id = 0;
  std::string secret;
  client->registerWebhook(h.receiverUrl(), {"DEVICE_STATUS", "DEVICE_MASTERDATA"},
                          [&](const NukiResult& r, int64_t i, std::string s) {
                            reg = r;
                            id = i;
                            secret = std::move(s);
                          });
  finish(reg);
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->outcome, Outcome::kOk) << reg->status << " " << reg->body;
  EXPECT_GT(id, 0);
  EXPECT_FALSE(secret.empty());

  std::optional<NukiResult> listed;
  std::vector<std::pair<int64_t, std::string>> hooks;
  client->listWebhooks([&](const NukiResult& r, std::vector<std::pair<int64_t, std::string>> v) {
    listed = r;
    hooks = std::move(v);
  });
  finish(listed);
  ASSERT_EQ(listed->outcome, Outcome::kOk) << listed->body;
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0], std::make_pair(id, h.receiverUrl()));

  // The webhook works: a lock action reaches the receiver.
  ASSERT_EQ(lockAction(true).outcome, Outcome::kOk);
  h.advance(5);
  EXPECT_FALSE(h.received().empty());

  auto del = wait([&](auto done) { client->deleteWebhook(id, done); });
  EXPECT_EQ(del.outcome, Outcome::kOk) << del.status << " " << del.body;
  listed.reset();
  client->listWebhooks([&](const NukiResult& r, std::vector<std::pair<int64_t, std::string>> v) {
    listed = r;
    hooks = std::move(v);
  });
  finish(listed);
  EXPECT_TRUE(hooks.empty());
}

// ---------------------------------------------------------------------------------------------
// Retries (SPEC §5: 5 tries over 10 virtual minutes on 429, 5xx, resets and timeouts)

TEST_F(NukiClientTest, TwoServiceUnavailableThenSuccess) {
  fault({{"route", "/smartlock/*"}, {"status", 503}, {"count", 2}});
  const Time start = clock.now();
  auto [r, l] = getSmartlock(lock);
  EXPECT_EQ(r.outcome, Outcome::kOk) << r.status;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_TRUE(r.error.empty());
  ASSERT_TRUE(l);
  EXPECT_EQ(l->smartlockId, lock);
  // Backoffs 2 s then 4 s, each with equal jitter: between 1+2 and 2+4 seconds in all.
  EXPECT_GE(finishedAt - start, 3s);
  EXPECT_LE(finishedAt - start, 6s);
  const std::string p = "GET " + path();
  EXPECT_EQ(journal(), (std::vector<std::string>{p + " -> 503", p + " -> 503", p + " -> 200"}));
}

TEST_F(NukiClientTest, InternalServerErrorIsRetriedToo) {
  fault({{"route", "/smartlock/*/action/*"}, {"status", 500}, {"count", 1}});
  auto r = lockAction(true);
  EXPECT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(r.attempts, 2);
}

TEST_F(NukiClientTest, RetryAfterIsHonouredOnTheClientsClock) {
  fault({{"route", "/smartlock/*/action/*"}, {"status", 429}, {"retryAfter", 30}, {"count", 1}});
  const Time start = clock.now();
  std::optional<NukiResult> out;
  client->lockAction(lock, true, [&](const NukiResult& r) {
    out = r;
    finishedAt = clock.now();
  });
  settle();
  EXPECT_FALSE(out);
  EXPECT_EQ(journal().size(), 1u);
  clock.advanceBy(29'999ms, [this] { pump(); });
  EXPECT_FALSE(out) << "no retry before Retry-After";
  EXPECT_EQ(journal().size(), 1u) << "no retry before Retry-After";
  clock.advanceBy(1ms, [this] { pump(); });
  ASSERT_TRUE(out);
  EXPECT_EQ(out->outcome, Outcome::kOk);
  EXPECT_EQ(out->attempts, 2);
  EXPECT_EQ(finishedAt - start, 30s);
  const std::string p = "POST " + path("/action/lock");
  EXPECT_EQ(journal(), (std::vector<std::string>{p + " -> 429", p + " -> 204"}));
}

TEST_F(NukiClientTest, RetryAfterOnServiceUnavailableIsHonouredToo) {
  fault({{"route", "/smartlock/*"}, {"status", 503}, {"retryAfter", 20}, {"count", 1}});
  const Time start = clock.now();
  auto [r, l] = getSmartlock(lock);
  EXPECT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(finishedAt - start, 20s);
}

TEST_F(NukiClientTest, BudgetOfFiveTriesThenTimeoutAndTheTokenIsNeverLogged) {
  fault({{"route", "/smartlock/*"}, {"status", 503}});
  log::setLevel(log::Level::kDebug);
  ::testing::internal::CaptureStderr();
  const Time start = clock.now();
  auto r = lockAction(true);
  const std::string logged = ::testing::internal::GetCapturedStderr();
  log::setLevel(log::Level::kWarn);
  EXPECT_EQ(r.outcome, Outcome::kTimeout);
  EXPECT_EQ(r.attempts, 5);
  EXPECT_EQ(r.status, 503);
  EXPECT_LE(finishedAt - start, 10min);
  EXPECT_EQ(journal().size(), 5u);
  EXPECT_NE(logged.find("TIMEOUT"), std::string::npos) << logged;
  EXPECT_NE(logged.find("try 5 of 5"), std::string::npos) << logged;
  EXPECT_EQ(logged.find(account.token), std::string::npos) << logged;
  ASSERT_EQ(h.admin().del("/sim/v1/faults").status, 204);
  h.advance(10);
  EXPECT_EQ(getSmartlock(lock).second.value_or(NukiLock{}).state, 3) << "never ran";
}

TEST_F(NukiClientTest, RetryAfterBeyondTheBudgetEndsTheCallWithinTenMinutes) {
  fault({{"route", "/smartlock/*"}, {"status", 429}, {"retryAfter", 200}});
  const Time start = clock.now();
  auto r = lockAction(true);
  EXPECT_EQ(r.outcome, Outcome::kTimeout);
  EXPECT_EQ(r.status, 429);
  // Tries at 0, 200, 400 and 600 s; a fifth would be past the 10 minutes.
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(finishedAt - start, 600s);
  EXPECT_EQ(journal().size(), 4u);

  // A Retry-After past the budget: waiting would not help, retrying earlier would not honour it.
  h.admin().del("/sim/v1/faults");
  fault({{"route", "/smartlock/*"}, {"status", 429}, {"retryAfter", 3600}});
  const Time second = clock.now();
  auto once = lockAction(true);
  EXPECT_EQ(once.outcome, Outcome::kTimeout);
  EXPECT_EQ(once.attempts, 1);
  EXPECT_EQ(finishedAt, second);
}

TEST_F(NukiClientTest, ClientErrorsAreRefusedAtOnce) {
  auto [bad, none] = listLogs(lock, 0);  // limit ≤ 0
  EXPECT_EQ(bad.outcome, Outcome::kRefused);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.attempts, 1);
  EXPECT_NE(bad.body.find("detailMessage"), std::string::npos) << bad.body;
  EXPECT_TRUE(none.empty());

  auto [missing, nothing] = getSmartlock((uint64_t(4) << 32) | 0xDEADBEEF);
  EXPECT_EQ(missing.outcome, Outcome::kRefused);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.attempts, 1);
  EXPECT_FALSE(nothing);

  auto stranger = h.createAccount("Stranger");
  const uint64_t theirs = h.createLock(stranger.accountId, {{"model", "3.0 Pro"}});
  auto forbidden = wait([&](auto done) { client->lockAction(theirs, true, done); });
  EXPECT_EQ(forbidden.outcome, Outcome::kRefused);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(forbidden.attempts, 1);

  auto invalid = createAuth(code("Kid", 123456));  // K3: starts with 12
  EXPECT_EQ(invalid.outcome, Outcome::kRefused);
  EXPECT_EQ(invalid.status, 400);
  auto longName = createAuth(code("A name of twenty-one!", 345678));  // K6
  EXPECT_EQ(longName.outcome, Outcome::kRefused);
  EXPECT_EQ(longName.status, 422);
  ASSERT_EQ(createAuth(code("Kid", 345678)).outcome, Outcome::kOk);
  auto duplicate = createAuth(code("Other", 345678));  // K4
  EXPECT_EQ(duplicate.outcome, Outcome::kRefused);
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.attempts, 1);

  EXPECT_EQ(clock.now(), VirtualClock::kDefaultStart) << "no backoff for a final answer";
  auto all = journal();
  EXPECT_EQ(all.size(), 7u);
}

TEST_F(NukiClientTest, FaultedClientErrorsAreFinalToo) {
  fault({{"route", "/smartlock/*"}, {"status", 404}, {"count", 3}});
  auto r = lockAction(true);
  EXPECT_EQ(r.outcome, Outcome::kRefused);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.attempts, 1);
}

TEST_F(NukiClientTest, ResetBeforeHandlingIsRetried) {
  fault({{"route", "/smartlock/*/action/*"}, {"reset", true}, {"count", 1}});
  auto r = lockAction(true);  // the first request: on a fresh connection
  EXPECT_EQ(r.outcome, Outcome::kOk) << r.error;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.status, 204);
  h.advance(5);
  EXPECT_EQ(getSmartlock(lock).second->state, 1);
}

TEST_F(NukiClientTest, LostResponseToACreateThenRetryReports409) {
  fault({{"route", "/smartlock/*/auth"}, {"methods", {"PUT"}}, {"resetAfter", true}, {"count", 1}});
  auto r = createAuth(code("Family", 345678));  // the first request: on a fresh connection
  EXPECT_EQ(r.outcome, Outcome::kRefused);
  EXPECT_EQ(r.status, 409) << "the first try was accepted; its answer was lost";
  EXPECT_EQ(r.attempts, 2);
  const std::string p = "PUT " + path("/auth");
  EXPECT_EQ(journal(), (std::vector<std::string>{p + " -> 0", p + " -> 409"}));
  h.advance(10);
  ASSERT_EQ(sync().outcome, Outcome::kOk);
  h.advance(1);
  auto [l, auths] = listAuths(lock);
  ASSERT_EQ(auths.size(), 1u) << "created once";
  EXPECT_EQ(auths[0].name, "Family");
}

// Known limitation of the transport: on a kept-alive connection HttpClient itself re-sends a
// request whose connection closed before any answer (it cannot tell a lost answer from a stale
// connection), so the replay happens inside this client's first try and the 409 arrives with
// attempts 1 — the caller cannot see that the create was retried. The 409 is reported all the
// same; `attempts` is 2 only once the transport stops replaying non-idempotent requests.
TEST_F(NukiClientTest, LostResponseToACreateOnAReusedConnectionReports409) {
  ASSERT_EQ(getSmartlock(lock).first.outcome, Outcome::kOk);  // leaves a kept-alive connection
  fault({{"route", "/smartlock/*/auth"}, {"methods", {"PUT"}}, {"resetAfter", true}, {"count", 1}});
  auto r = createAuth(code("Family", 345678));
  EXPECT_EQ(r.outcome, Outcome::kRefused);
  EXPECT_EQ(r.status, 409);
  EXPECT_GE(r.attempts, 1);
  EXPECT_LE(r.attempts, 2);
  const std::string p = "PUT " + path("/auth");
  const auto requests = journal();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1], p + " -> 0");
  EXPECT_EQ(requests[2], p + " -> 409");
}

TEST_F(NukiClientTest, LostResponseOnAnIdempotentCallIsRetried) {
  fault({{"route", "/smartlock/*"}, {"methods", {"GET"}}, {"resetAfter", true}, {"count", 1}});
  auto [r, l] = getSmartlock(lock);
  EXPECT_EQ(r.outcome, Outcome::kOk) << r.error;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_TRUE(l);
}

TEST_F(NukiClientTest, TransportTimeoutIsRetried) {
  client = makeClient(account.token, 200ms);
  fault({{"route", "/smartlock/*"}, {"latencyMs", 1000}, {"count", 1}});
  auto [r, l] = getSmartlock(lock);
  EXPECT_EQ(r.outcome, Outcome::kOk) << r.error;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_TRUE(l);
  // The simulator holds the late answer (and its own clock) until it has sent it.
  h.advance(1);
}

TEST_F(NukiClientTest, UnreachableServerTimesOutAfterTheBudget) {
  NukiClient::Options o;
  o.baseUrl = "http://127.0.0.1:1";  // nothing listens there
  o.token = account.token;
  client = std::make_unique<NukiClient>(*http, clock, random, o);
  const Time start = clock.now();
  auto [r, locks] = listSmartlocks();
  EXPECT_EQ(r.outcome, Outcome::kTimeout);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.attempts, 5);
  EXPECT_LE(finishedAt - start, 10min);
}

TEST_F(NukiClientTest, BadTokenIsRefused) {
  client = makeClient("not-a-token");
  auto [r, locks] = listSmartlocks();
  EXPECT_EQ(r.outcome, Outcome::kRefused);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.body.find("not authorized"), std::string::npos) << r.body;
  EXPECT_TRUE(locks.empty());
}

TEST_F(NukiClientTest, DestroyingTheClientCancelsItsRetries) {
  fault({{"route", "/smartlock/*"}, {"status", 503}});
  bool called = false;
  client->lockAction(lock, true, [&](const NukiResult&) { called = true; });
  settle();
  EXPECT_TRUE(clock.nextDeadline()) << "a retry is waiting";
  client.reset();
  EXPECT_FALSE(clock.nextDeadline()) << "its alarm is gone";
  clock.advanceBy(20min, [this] { pump(); });
  EXPECT_FALSE(called);
  EXPECT_EQ(journal().size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Pieces of the policy

TEST(NukiClientPolicy, BackoffDoublesWithEqualJitter) {
  boost::asio::io_context io;
  http::HttpClient http(io);
  VirtualClock clock;
  Random random(3);
  NukiClient client(http, clock, random, NukiClient::Options{});
  for (int i = 0; i < 200; ++i) {
    const auto b1 = client.backoff(1), b2 = client.backoff(2), b4 = client.backoff(4);
    EXPECT_GE(b1, 1s);
    EXPECT_LE(b1, 2s);
    EXPECT_GE(b2, 2s);
    EXPECT_LE(b2, 4s);
    EXPECT_GE(b4, 8s);
    EXPECT_LE(b4, 16s);
  }
  EXPECT_LE(client.backoff(100), 10min) << "never beyond the budget";
  // The same seed gives the same pauses.
  Random again(3);
  NukiClient replay(http, clock, again, NukiClient::Options{});
  Random first(3);
  NukiClient original(http, clock, first, NukiClient::Options{});
  for (int i = 1; i <= 5; ++i)
    EXPECT_EQ(original.backoff(i), replay.backoff(i));
}

TEST(NukiClientPolicy, ParsesRetryAfter) {
  const Time now = at("2025-01-01T00:00:00Z");
  EXPECT_EQ(NukiClient::parseRetryAfter("30", now), Duration(30s));
  EXPECT_EQ(NukiClient::parseRetryAfter(" 0 ", now), Duration(0s));
  EXPECT_EQ(NukiClient::parseRetryAfter("Wed, 01 Jan 2025 00:02:00 GMT", now), Duration(120s));
  EXPECT_EQ(NukiClient::parseRetryAfter("Wednesday, 01-Jan-25 00:00:45 GMT", now), Duration(45s));
  EXPECT_EQ(NukiClient::parseRetryAfter("Wed Jan  1 00:00:10 2025", now), Duration(10s));
  EXPECT_EQ(NukiClient::parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now), Duration(0s))
      << "a date in the past: at once";
  EXPECT_FALSE(NukiClient::parseRetryAfter("", now));
  EXPECT_FALSE(NukiClient::parseRetryAfter("-5", now));
  EXPECT_FALSE(NukiClient::parseRetryAfter("1.5", now));
  EXPECT_FALSE(NukiClient::parseRetryAfter("soon", now));
  EXPECT_FALSE(NukiClient::parseRetryAfter("Wed, 32 Jan 2025 00:00:00 GMT", now));
  EXPECT_FALSE(NukiClient::parseRetryAfter("Wed, 01 Jan 2025 00:00:00 CET", now));
}

}  // namespace
}  // namespace nukihil::adapter
