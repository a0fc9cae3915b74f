// The platform-webhook outbox (SPEC §5, R-DELIVERY) on a VirtualClock, delivering to a real
// runtime HttpServer on loopback in the same io_context, pumped by the clock's advance: the
// envelope and its signature, per-device order under scrambled answers, the in-flight bound,
// head-of-line blocking per device only, backoff on the clock, outages of hours (500s and a
// closed port), parking after 72 h and resume, restarts (in-process mid-flight, and kill -9 of
// a child process), exactly-once under success, transactions, determinism. Also the small
// SQLite wrapper it stands on. No wall-clock sleeping: real waits are bounded and for I/O only.
#include "adapter/outbox.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapter/sqlite.h"
#include "adapter/standard_webhooks.h"
#include "runtime/clock.h"
#include "runtime/crypto.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/random.h"

namespace nukihil::adapter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kSecretText = "whsec_" + crypto::base64Encode("nukihil outbox test secret 32by");

WebhookSecret testSecret() {
  return WebhookSecret::parse(kSecretText).value();
}

// A directory of its own under the system's temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("nukihil-outbox-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct Received {
  std::string id;
  std::string timestamp;
  std::string signature;
  std::string contentType;
  std::string method;
  std::string target;
  std::string body;
  std::string deviceId;
  Time at;  // the virtual time when it arrived (= the attempt's time: the clock waits for it)
  int status = 0;
};

// One world: io_context, virtual clock, client, receiver and (optionally) the outbox.
struct Harness {
  VirtualClock clock;  // outlives the io_context: requests it drops still end their work
  Random random;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> keep{io.get_executor()};
  std::unique_ptr<http::HttpClient> client;
  std::unique_ptr<http::HttpServer> server;
  uint16_t port = 0;

  // What the receiver answers; 204 by default.
  std::function<int(const Received&)> answer = [](const Received&) { return 204; };
  std::vector<Received> got;

  // Scrambling: hold every answer until the loop has nothing else to do, then release them
  // in reverse order of arrival (or shuffled).
  bool holdAnswers = false;
  std::vector<std::pair<http::Respond, int>> held;
  std::optional<Random> releaseOrder;  // set: release held answers in a random order instead
  std::map<std::string, int> outstandingPerDevice;
  size_t maxOutstanding = 0;
  bool twoInFlightForOneDevice = false;

  std::string dbPath;
  std::unique_ptr<Db> db;
  std::unique_ptr<Outbox> outbox;
  Outbox::Options options;

  explicit Harness(uint64_t seed = 7) : random(seed) {
    http::ClientOptions co;
    co.tracker = &clock.work();
    co.defaultTimeout = 5000ms;
    client = std::make_unique<http::HttpClient>(io, co);
    startServer();
    options.url = "http://127.0.0.1:" + std::to_string(port) + "/platform/webhooks";
    options.secret = testSecret();
  }

  ~Harness() {
    outbox.reset();
    db.reset();
    const auto bound = std::chrono::steady_clock::now() + 5s;
    while (!clock.work().idle() && std::chrono::steady_clock::now() < bound)
      pump();
    if (server) stopServer();
  }

  void startServer(uint16_t onPort = 0) {
    http::ServerOptions so;
    so.port = onPort;
    server = std::make_unique<http::HttpServer>(
        io, so, [this](http::Request& req, http::Respond respond) { onRequest(req, respond); });
    server->start();
    port = server->port();
  }

  void stopServer() {
    bool stopped = false;
    server->stop([&] { stopped = true; });
    const auto bound = std::chrono::steady_clock::now() + 3s;
    while (!stopped && std::chrono::steady_clock::now() < bound)
      io.run_one_for(5ms);
    EXPECT_TRUE(stopped);
    server.reset();
  }

  void onRequest(http::Request& req, http::Respond respond) {
    Received r;
    r.id = std::string(req.header("webhook-id").value_or(""));
    r.timestamp = std::string(req.header("webhook-timestamp").value_or(""));
    r.signature = std::string(req.header("webhook-signature").value_or(""));
    r.contentType = req.contentType;
    r.method = req.method;
    r.target = req.target;
    r.body = req.body;
    r.at = clock.now();
    const json parsed = json::parse(req.body, nullptr, false);
    if (parsed.is_object() && parsed.contains("content") && parsed["content"].is_object())
      r.deviceId = parsed["content"].value("deviceId", "");
    r.status = answer(r);
    const int status = r.status;
    const std::string device = r.deviceId;
    got.push_back(std::move(r));
    if (!holdAnswers) return respond(http::Response::empty(status));
    if (++outstandingPerDevice[device] > 1) twoInFlightForOneDevice = true;
    held.emplace_back(
        [this, device, send = std::move(respond)](http::Response res) {
          --outstandingPerDevice[device];
          send(std::move(res));
        },
        status);
    maxOutstanding = std::max(maxOutstanding, held.size());
  }

  void pump() {
    if (holdAnswers) {
      if (io.poll_one() > 0) return;
      if (!held.empty()) {
        auto batch = std::exchange(held, {});
        if (releaseOrder) {  // a permutation of the test's choosing
          for (size_t i = batch.size(); i > 1; --i)
            std::swap(batch[i - 1], batch[releaseOrder->below(i)]);
        } else {
          std::reverse(batch.begin(), batch.end());
        }
        for (auto& [send, status] : batch)
          send(http::Response::empty(status));
        return;
      }
    }
    io.run_one_for(10ms);
  }

  void advance(Duration d) {
    clock.advanceBy(d, [this] { pump(); });
  }

  Outbox& open(const std::string& path = ":memory:", bool start = true) {
    dbPath = path;
    db = std::make_unique<Db>(path);
    outbox = std::make_unique<Outbox>(*db, clock, *client, random, options);
    if (start) outbox->start();
    return *outbox;
  }

  // Simulates a crash of the adapter (the Outbox and its Db go away with whatever is in
  // flight), lets the loop finish the requests already on the wire, then reopens.
  Outbox& restart(uint64_t newSeed) {
    outbox.reset();
    db.reset();
    const auto bound = std::chrono::steady_clock::now() + 5s;
    while (!clock.work().idle() && std::chrono::steady_clock::now() < bound)
      pump();
    EXPECT_TRUE(clock.work().idle());
    random.reseed(newSeed);
    return open(dbPath);
  }

  int64_t rowCount() {
    Stmt s = db->prepare("SELECT COUNT(*) FROM outbox");
    s.step();
    return s.int64(0);
  }

  // The ids received per device, in arrival order (every attempt, duplicates included).
  std::map<std::string, std::vector<std::string>> attemptsByDevice() const {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& r : got)
      out[r.deviceId].push_back(r.id);
    return out;
  }
  // The ids answered with 2xx per device, deduplicated keeping first occurrences.
  std::map<std::string, std::vector<std::string>> deliveredByDevice() const {
    std::map<std::string, std::vector<std::string>> out;
    std::set<std::string> seen;
    for (const auto& r : got)
      if (r.status / 100 == 2 && seen.insert(r.id).second) out[r.deviceId].push_back(r.id);
    return out;
  }
};

// Every id always carries the same body: duplicates are the same webhook.
void expectIdsStable(const std::vector<Received>& got) {
  std::map<std::string, std::string> bodyOf;
  for (const auto& r : got) {
    auto [it, fresh] = bodyOf.emplace(r.id, r.body);
    EXPECT_EQ(it->second, r.body) << "id " << r.id << " sent with two different bodies";
  }
}

// ---------------------------------------------------------------------------------------------
// The envelope

TEST(Outbox, SendsASignedStandardWebhookEnvelope) {
  Harness h;
  h.clock.set(VirtualClock::kDefaultStart + 1234ms);
  Outbox& outbox = h.open();
  const std::string id =
      outbox.enqueue("lock-1", "deviceEventSetState",
                     json{{"traitName", "LOCK"}, {"fieldName", "isLocked"}, {"value", true}});
  EXPECT_EQ(id.rfind("msg_", 0), 0u);
  EXPECT_EQ(id.find('.'), std::string::npos);
  h.advance(0s);

  ASSERT_EQ(h.got.size(), 1u);
  const Received& r = h.got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/platform/webhooks");
  EXPECT_EQ(r.contentType, "application/json");
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.timestamp, std::to_string(secondsOf(h.clock.now())));
  EXPECT_EQ(
      verifyWebhook(testSecret(), r.id, r.timestamp, r.signature, r.body, secondsOf(h.clock.now())),
      VerifyResult::kOk);
  EXPECT_EQ(r.signature, signWebhook(testSecret(), id, secondsOf(h.clock.now()), r.body));

  const json body = json::parse(r.body);
  ASSERT_TRUE(body.is_object());
  std::set<std::string> keys;
  for (const auto& [k, v] : body.items())
    keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"id", "type", "occurredAt", "content"}));
  EXPECT_EQ(body["id"], id);
  EXPECT_EQ(body["type"], "deviceEventSetState");
  EXPECT_EQ(body["occurredAt"], "2025-01-01T00:00:01.234Z");
  EXPECT_EQ(body["content"], (json{{"deviceId", "lock-1"},
                                   {"traitName", "LOCK"},
                                   {"fieldName", "isLocked"},
                                   {"value", true}}));
  EXPECT_EQ(outbox.deliveredCount(), 1u);
  EXPECT_EQ(outbox.pendingCount(), 0u);
  EXPECT_TRUE(outbox.status().empty());
  EXPECT_EQ(h.rowCount(), 0);
}

TEST(Outbox, ContentMustBeAnObjectAndNullMeansEmpty) {
  Harness h;
  Outbox& outbox = h.open();
  EXPECT_THROW(outbox.enqueue("d", "t", json::array({1, 2})), std::invalid_argument);
  EXPECT_THROW(outbox.enqueue("d", "t", json("text")), std::invalid_argument);
  outbox.enqueue("d", "deviceEventConfig", nullptr);
  h.advance(0s);
  ASSERT_EQ(h.got.size(), 1u);
  EXPECT_EQ(json::parse(h.got[0].body)["content"], (json{{"deviceId", "d"}}));
}

TEST(Outbox, RefusesABadUrlOrAnEmptySecret) {
  Harness h;
  Db db(":memory:");
  auto o = h.options;
  o.url = "ftp://example.com/";
  EXPECT_THROW(Outbox(db, h.clock, *h.client, h.random, o), std::invalid_argument);
  o = h.options;
  o.secret = WebhookSecret();
  EXPECT_THROW(Outbox(db, h.clock, *h.client, h.random, o), std::invalid_argument);
}

TEST(Outbox, EachAttemptCarriesItsOwnVirtualTimestampAndTheSameId) {
  Harness h;
  int calls = 0;
  h.answer = [&](const Received&) { return ++calls <= 3 ? 503 : 200; };
  Outbox& outbox = h.open();
  const Time enqueuedAt = h.clock.now();
  const std::string id = outbox.enqueue("lock-1", "deviceEventConfig", json::object());
  h.advance(1min);
  ASSERT_EQ(h.got.size(), 4u);
  for (const auto& r : h.got) {
    EXPECT_EQ(r.id, id);
    EXPECT_EQ(r.body, h.got[0].body);  // occurredAt stays the enqueue time
    EXPECT_EQ(r.timestamp, std::to_string(secondsOf(r.at)));
    EXPECT_EQ(verifyWebhook(testSecret(), r.id, r.timestamp, r.signature, r.body, secondsOf(r.at)),
              VerifyResult::kOk);
  }
  EXPECT_EQ(h.got[0].at, enqueuedAt);
  EXPECT_GT(h.got[3].at, h.got[0].at + 3s);  // 1 s, 2 s, 4 s less jitter
  EXPECT_EQ(json::parse(h.got[3].body)["occurredAt"], formatRfc3339(enqueuedAt));
  EXPECT_EQ(outbox.deliveredCount(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Order and concurrency

TEST(Outbox, KeepsEachDevicesOrderWhenAnswersComeBackScrambled) {
  Harness h;
  h.holdAnswers = true;
  Outbox& outbox = h.open();
  std::map<std::string, std::vector<std::string>> expected;
  for (int i = 0; i < 30; ++i)
    for (int d = 0; d < 6; ++d) {
      const std::string device = "lock-" + std::to_string(d);
      expected[device].push_back(
          outbox.enqueue(device, "deviceEventSetState", json{{"n", i}, {"device", d}}));
    }
  h.advance(0s);
  EXPECT_EQ(h.got.size(), 180u);
  EXPECT_EQ(h.attemptsByDevice(), expected);
  EXPECT_FALSE(h.twoInFlightForOneDevice);
  EXPECT_EQ(h.maxOutstanding, 6u);  // all devices at once, one each
  EXPECT_EQ(outbox.deliveredCount(), 180u);
  EXPECT_EQ(outbox.pendingCount(), 0u);
}

TEST(Outbox, BoundsDeliveriesInFlightAcrossDevices) {
  Harness h;
  h.holdAnswers = true;
  h.options.maxInFlight = 3;
  Outbox& outbox = h.open();
  std::map<std::string, std::vector<std::string>> expected;
  for (int i = 0; i < 5; ++i)
    for (int d = 0; d < 10; ++d) {
      const std::string device = "lock-" + std::to_string(d);
      expected[device].push_back(outbox.enqueue(device, "deviceEventSetState", json{{"n", i}}));
    }
  h.advance(0s);
  EXPECT_EQ(h.deliveredByDevice(), expected);
  EXPECT_EQ(h.got.size(), 50u);
  EXPECT_EQ(h.maxOutstanding, 3u);
  EXPECT_FALSE(h.twoInFlightForOneDevice);
}

TEST(Outbox, AFailingDeviceHoldsBackOnlyItsOwnWebhooks) {
  Harness h;
  bool aDown = true;
  h.answer = [&](const Received& r) { return r.deviceId == "a" && aDown ? 500 : 204; };
  Outbox& outbox = h.open();
  std::map<std::string, std::vector<std::string>> expected;
  for (int i = 0; i < 10; ++i)
    for (const char* d : {"a", "b", "c"})
      expected[d].push_back(outbox.enqueue(d, "deviceEventSetState", json{{"n", i}}));
  h.advance(1h);

  auto delivered = h.deliveredByDevice();
  EXPECT_EQ(delivered["b"], expected["b"]);
  EXPECT_EQ(delivered["c"], expected["c"]);
  EXPECT_TRUE(delivered["a"].empty());
  // Only a's head was ever tried, over and over.
  const auto attempts = h.attemptsByDevice();
  ASSERT_FALSE(attempts.at("a").empty());
  for (const auto& id : attempts.at("a"))
    EXPECT_EQ(id, expected["a"][0]);
  EXPECT_GT(attempts.at("a").size(), 10u);

  const auto status = outbox.status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].deviceId, "a");
  EXPECT_EQ(status[0].pending, 10u);
  EXPECT_FALSE(status[0].parked);
  EXPECT_EQ(status[0].attempts, attempts.at("a").size());
  EXPECT_EQ(status[0].lastError, "HTTP 500");
  ASSERT_TRUE(status[0].nextAttempt);
  EXPECT_GT(*status[0].nextAttempt, h.clock.now());
  EXPECT_LE(*status[0].nextAttempt, h.clock.now() + 5min);
  EXPECT_EQ(outbox.pendingCount(), 10u);

  aDown = false;
  h.advance(5min);
  EXPECT_EQ(h.deliveredByDevice(), expected);
  EXPECT_TRUE(outbox.status().empty());
  EXPECT_EQ(outbox.pendingCount(), 0u);
}

TEST(Outbox, RetriesBackOffByDoublingWithBoundedJitterOnTheClock) {
  Harness h;
  h.answer = [](const Received&) { return 500; };
  Outbox& outbox = h.open();
  outbox.enqueue("a", "deviceEventConfig", json::object());
  const auto realStart = std::chrono::steady_clock::now();
  h.advance(2h);
  // Two virtual hours of retrying take a moment of real time: nothing waits on the wall clock.
  EXPECT_LT(std::chrono::steady_clock::now() - realStart, 30s);

  ASSERT_GT(h.got.size(), 20u);
  bool sawJitter = false;
  for (size_t i = 1; i < h.got.size(); ++i) {
    const Duration gap = h.got[i].at - h.got[i - 1].at;
    Duration base = 1s;
    for (size_t k = 1; k < i && base < 5min; ++k)
      base *= 2;
    base = std::min<Duration>(base, 5min);
    EXPECT_GE(gap, base / 2) << "retry " << i;
    EXPECT_LE(gap, base) << "retry " << i;
    if (gap != base && gap != base / 2) sawJitter = true;
  }
  EXPECT_TRUE(sawJitter);
  // Once capped, a retry comes at most every five minutes: ~2 h / (2.5…5 min) attempts.
  // 1 + 9 doubling retries (≤ 511 s) + the rest of 7200 s at 150…300 s: 32…56 attempts.
  EXPECT_LE(h.got.size(), 58u);
  EXPECT_GE(h.got.size(), 30u);
}

// ---------------------------------------------------------------------------------------------
// Outages

TEST(Outbox, ReceiverAnswering500ForHoursThenBackGetsEverythingInOrder) {
  Harness h;
  bool down = true;
  h.answer = [&](const Received&) { return down ? 500 : 200; };
  Outbox& outbox = h.open();
  std::map<std::string, std::vector<std::string>> expected;
  for (int i = 0; i < 5; ++i)
    for (const char* d : {"a", "b", "c"})
      expected[d].push_back(outbox.enqueue(d, "deviceEventSetState", json{{"n", i}}));
  h.advance(6h);
  for (int i = 5; i < 8; ++i)  // more arrive during the outage
    for (const char* d : {"a", "b", "c"})
      expected[d].push_back(outbox.enqueue(d, "deviceEventSetState", json{{"n", i}}));
  h.advance(20h);
  EXPECT_TRUE(h.deliveredByDevice().empty());
  EXPECT_EQ(outbox.status().size(), 3u);
  for (const auto& s : outbox.status())
    EXPECT_FALSE(s.parked);

  down = false;
  h.advance(6min);  // the longest backoff is 5 min
  EXPECT_EQ(h.deliveredByDevice(), expected);
  expectIdsStable(h.got);
  // Retries share the id of the webhook they retry: every id received is one we enqueued.
  std::set<std::string> all;
  for (const auto& [d, ids] : expected)
    all.insert(ids.begin(), ids.end());
  for (const auto& r : h.got)
    EXPECT_TRUE(all.count(r.id)) << r.id;
  EXPECT_EQ(outbox.pendingCount(), 0u);
  EXPECT_EQ(outbox.deliveredCount(), 24u);
  h.advance(1s);
  EXPECT_EQ(h.rowCount(), 0);
}

TEST(Outbox, ReceiverPortClosedForHoursThenBackGetsEverythingInOrder) {
  Harness h;
  Outbox& outbox = h.open();
  std::map<std::string, std::vector<std::string>> expected;
  expected["a"].push_back(outbox.enqueue("a", "deviceEventConfig", json::object()));
  h.advance(0s);
  ASSERT_EQ(h.got.size(), 1u);  // the connection is now kept alive, then the receiver goes
  const uint16_t port = h.port;
  h.stopServer();

  for (int i = 0; i < 6; ++i)
    for (const char* d : {"a", "b"})
      expected[d].push_back(outbox.enqueue(d, "deviceEventSetState", json{{"n", i}}));
  h.advance(5h);
  EXPECT_EQ(h.got.size(), 1u);
  const auto status = outbox.status();
  ASSERT_EQ(status.size(), 2u);
  for (const auto& s : status) {
    EXPECT_EQ(s.pending, 6u);
    EXPECT_FALSE(s.parked);
    EXPECT_GT(s.attempts, 50u);
    EXPECT_NE(s.lastError.find("refused"), std::string::npos) << s.lastError;
  }

  h.startServer(port);
  h.advance(6min);
  EXPECT_EQ(h.deliveredByDevice(), expected);
  EXPECT_EQ(h.got.size(), 13u);  // nothing reached it twice
  EXPECT_TRUE(outbox.status().empty());
}

TEST(Outbox, ParksAStreamAfter72HoursOfFailureUntilResumed) {
  Harness h;
  bool aDown = true;
  h.answer = [&](const Received& r) { return r.deviceId == "a" && aDown ? 502 : 204; };
  Outbox& outbox = h.open();
  const Time start = h.clock.now();
  std::vector<std::string> aIds;
  for (int i = 0; i < 3; ++i)
    aIds.push_back(outbox.enqueue("a", "deviceEventSetState", json{{"n", i}}));

  h.advance(71h + 59min);
  ASSERT_EQ(outbox.status().size(), 1u);
  EXPECT_FALSE(outbox.status()[0].parked);

  h.advance(2min);
  auto status = outbox.status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_TRUE(status[0].parked);
  EXPECT_EQ(status[0].pending, 3u);
  EXPECT_FALSE(status[0].nextAttempt);
  EXPECT_EQ(status[0].lastError, "HTTP 502");
  EXPECT_EQ(h.got.back().at, start + 72h);  // the last attempt exactly at the limit
  EXPECT_EQ(status[0].attempts, h.got.size());

  // Parked: not tried again however long we wait; other devices are not affected.
  const size_t attemptsWhenParked = h.got.size();
  const std::string bId = outbox.enqueue("b", "deviceEventConfig", json::object());
  h.advance(48h);
  ASSERT_EQ(h.got.size(), attemptsWhenParked + 1);
  EXPECT_EQ(h.got.back().id, bId);
  EXPECT_TRUE(outbox.status()[0].parked);

  aDown = false;
  h.advance(1h);
  EXPECT_EQ(h.got.size(), attemptsWhenParked + 1);  // still parked: nothing skipped, nothing sent
  EXPECT_FALSE(outbox.resume("b"));
  EXPECT_FALSE(outbox.resume("nobody"));
  EXPECT_TRUE(outbox.resume("a"));
  EXPECT_FALSE(outbox.resume("a"));
  h.advance(0s);
  EXPECT_EQ(h.deliveredByDevice()["a"], aIds);
  EXPECT_TRUE(outbox.status().empty());
}

TEST(Outbox, AResumedStreamGetsAFresh72HourWindow) {
  Harness h;
  h.answer = [](const Received&) { return 500; };
  Outbox& outbox = h.open();
  outbox.enqueue("a", "deviceEventConfig", json::object());
  h.advance(73h);
  ASSERT_TRUE(outbox.status().at(0).parked);
  ASSERT_TRUE(outbox.resume("a"));
  h.advance(0s);
  auto s = outbox.status().at(0);
  EXPECT_FALSE(s.parked);
  EXPECT_EQ(s.attempts, 1u);
  h.advance(71h);
  EXPECT_FALSE(outbox.status().at(0).parked);
  h.advance(2h);
  EXPECT_TRUE(outbox.status().at(0).parked);
}

// ---------------------------------------------------------------------------------------------
// Restarts and durability

TEST(Outbox, RestartMidFlightLosesNothingAndKeepsOrder) {
  TempDir dir;
  Harness h;
  Outbox& first = h.open(dir.file("outbox.db"));
  std::map<std::string, std::vector<std::string>> expected;
  for (int i = 0; i < 50; ++i)
    for (int d = 0; d < 4; ++d) {
      const std::string device = "lock-" + std::to_string(d);
      expected[device].push_back(first.enqueue(device, "deviceEventSetState", json{{"n", i}}));
    }
  // Let part of it through, then "crash" with requests on the wire.
  const auto bound = std::chrono::steady_clock::now() + 5s;
  while (h.got.size() < 60 && std::chrono::steady_clock::now() < bound)
    h.pump();
  ASSERT_GE(h.got.size(), 60u);
  ASSERT_LT(h.got.size(), 200u);
  ASSERT_FALSE(h.clock.work().idle());  // something is in flight right now

  Outbox& second = h.restart(99);
  EXPECT_GT(second.pendingCount(), 0u);
  // Enqueued after the restart: ids must not collide with those of the first life.
  for (int d = 0; d < 4; ++d) {
    const std::string device = "lock-" + std::to_string(d);
    expected[device].push_back(second.enqueue(device, "deviceEventSetState", json{{"n", 50}}));
  }
  h.advance(0s);
  EXPECT_EQ(h.deliveredByDevice(), expected);
  expectIdsStable(h.got);
  std::set<std::string> distinct;
  for (const auto& [d, ids] : expected)
    distinct.insert(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), 204u);
  EXPECT_EQ(second.pendingCount(), 0u);
  h.advance(1s);
  EXPECT_EQ(h.rowCount(), 0);
}

TEST(Outbox, EnqueuedButNotStartedWaitsForStart) {
  TempDir dir;
  Harness h;
  Outbox& outbox = h.open(dir.file("outbox.db"), /*start=*/false);
  const std::string id = outbox.enqueue("a", "deviceEventConfig", json::object());
  h.advance(1h);
  EXPECT_TRUE(h.got.empty());
  EXPECT_EQ(outbox.pendingCount(), 1u);
  outbox.start();
  outbox.start();  // a second call changes nothing
  h.advance(0s);
  ASSERT_EQ(h.got.size(), 1u);
  EXPECT_EQ(h.got[0].id, id);
}

TEST(Outbox, ParkedStateAndFailureHistorySurviveARestart) {
  TempDir dir;
  Harness h;
  bool down = true;
  h.answer = [&](const Received&) { return down ? 500 : 200; };
  Outbox& first = h.open(dir.file("outbox.db"));
  const std::string a1 = first.enqueue("a", "deviceEventConfig", json::object());
  const std::string a2 = first.enqueue("a", "deviceEventSetState", json::object());
  h.advance(73h);
  ASSERT_TRUE(first.status().at(0).parked);
  const Time bStart = h.clock.now();
  const std::string b1 = first.enqueue("b", "deviceEventConfig", json::object());
  h.advance(70h);  // b's head has failed for 70 h of its own window
  const auto before = first.status();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_TRUE(before[0].parked);
  EXPECT_FALSE(before[1].parked);

  Outbox& second = h.restart(5);
  const auto after = second.status();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].deviceId, "a");
  EXPECT_TRUE(after[0].parked);
  EXPECT_EQ(after[0].attempts, before[0].attempts);
  EXPECT_EQ(after[0].pending, 2u);
  EXPECT_EQ(after[1].attempts, before[1].attempts);
  EXPECT_EQ(after[1].nextAttempt, before[1].nextAttempt);
  EXPECT_EQ(after[1].lastError, "HTTP 500");

  const size_t sent = h.got.size();
  h.advance(3h);  // b parks at 72 h of its window, 2 h after the restart
  EXPECT_TRUE(second.status().at(1).parked);
  EXPECT_GT(h.got.size(), sent);
  for (size_t i = sent; i < h.got.size(); ++i)
    EXPECT_EQ(h.got[i].id, b1);
  EXPECT_EQ(h.got.back().at, bStart + 72h);

  down = false;
  EXPECT_TRUE(second.resume("a"));
  EXPECT_TRUE(second.resume("b"));
  h.advance(0s);
  EXPECT_EQ(h.deliveredByDevice(),
            (std::map<std::string, std::vector<std::string>>{{"a", {a1, a2}}, {"b", {b1}}}));
}

TEST(Outbox, KillDashNineOfTheProcessLosesNoCommittedWebhook) {
  TempDir dir;
  const std::string path = dir.file("outbox.db");
  Harness h;  // its loop does not run while the child works; the child never sends
  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child: an adapter that accepts webhooks and is then killed without any cleanup.
    asio::io_context io;
    VirtualClock clock;
    Random random(11);
    http::HttpClient client(io);
    Db db(path);
    Outbox outbox(db, clock, client, random, h.options);
    for (int i = 0; i < 20; ++i)
      outbox.enqueue("a", "deviceEventSetState", json{{"n", i}});
    {
      Db::Transaction t(db);
      for (int i = 0; i < 10; ++i)
        outbox.enqueue("b", "deviceEventSetState", json{{"n", i}});
      t.commit();
    }
    Db::Transaction open(db);  // accepted by nobody: never committed
    outbox.enqueue("c", "deviceEventSetState", json{{"n", 0}});
    ::kill(::getpid(), SIGKILL);
    ::_exit(3);  // not reached
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  ASSERT_EQ(WTERMSIG(wstatus), SIGKILL);

  Outbox& outbox = h.open(path);
  EXPECT_EQ(outbox.pendingCount(), 30u);
  h.advance(0s);
  ASSERT_EQ(h.got.size(), 30u);
  std::map<std::string, std::vector<int>> order;
  for (const auto& r : h.got)
    order[r.deviceId].push_back(json::parse(r.body)["content"]["n"].get<int>());
  EXPECT_EQ(order.size(), 2u);
  for (const auto& [device, ns] : order)
    for (size_t i = 0; i < ns.size(); ++i)
      EXPECT_EQ(ns[i], static_cast<int>(i)) << device;
  EXPECT_EQ(order["a"].size(), 20u);
  EXPECT_EQ(order["b"].size(), 10u);
}

TEST(Outbox, NothingIsDeliveredTwiceUnderNormalSuccess) {
  TempDir dir;
  Harness h;
  Outbox& outbox = h.open(dir.file("outbox.db"));
  std::map<std::string, std::vector<std::string>> expected;
  for (int i = 0; i < 100; ++i)
    for (int d = 0; d < 10; ++d) {
      const std::string device = "lock-" + std::to_string(d);
      expected[device].push_back(outbox.enqueue(device, "deviceEventSetState", json{{"n", i}}));
    }
  h.advance(0s);
  h.advance(1s);
  EXPECT_EQ(h.got.size(), 1000u);
  std::set<std::string> ids;
  for (const auto& r : h.got)
    ids.insert(r.id);
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(h.attemptsByDevice(), expected);
  EXPECT_EQ(outbox.deliveredCount(), 1000u);
  EXPECT_EQ(outbox.pendingCount(), 0u);
  EXPECT_EQ(h.rowCount(), 0);

  // And a restart after that sends nothing again.
  h.restart(3);
  h.advance(1h);
  EXPECT_EQ(h.got.size(), 1000u);
}

// ---------------------------------------------------------------------------------------------
// Transactions

TEST(Outbox, AWebhookGoesOutOnlyOnceTheCallersTransactionCommits) {
  Harness h;
  Outbox& outbox = h.open();
  std::string committed;
  {
    Db::Transaction t(*h.db);
    committed = outbox.enqueue("a", "deviceEventQueueAction", json{{"actionId", "x"}});
    EXPECT_EQ(outbox.pendingCount(), 0u);
    h.advance(10s);
    EXPECT_TRUE(h.got.empty());
    t.commit();
  }
  EXPECT_EQ(outbox.pendingCount(), 1u);
  std::string rolledBack;
  {
    Db::Transaction t(*h.db);
    rolledBack = outbox.enqueue("a", "deviceEventQueueAction", json{{"actionId", "y"}});
  }
  EXPECT_EQ(outbox.pendingCount(), 1u);
  const std::string after = outbox.enqueue("a", "deviceEventUpdateAction", json{{"actionId", "x"}});
  h.advance(0s);
  EXPECT_EQ(h.attemptsByDevice()["a"], (std::vector<std::string>{committed, after}));
  EXPECT_NE(rolledBack, after);
  h.advance(1s);
  EXPECT_EQ(h.rowCount(), 0);
}

// ---------------------------------------------------------------------------------------------
// Determinism

// Every device's attempts (id, webhook-timestamp, body, answer) under a receiver that fails
// depending only on the webhook and how often it has been seen.
std::map<std::string, std::vector<std::string>> deterministicRun(const std::string& path,
                                                                 uint64_t seed,
                                                                 uint64_t answerOrder) {
  Harness h(seed);
  h.releaseOrder.emplace(answerOrder);
  std::map<std::string, int> seen;
  h.answer = [&](const Received& r) {
    const int n = seen[r.id]++;
    const std::string h8 = crypto::toHex(crypto::sha256(r.id)).substr(0, 2);
    const int failures = std::stoi(h8, nullptr, 16) % 4;  // 0…3 failures per webhook
    return n < failures ? 500 : 204;
  };
  h.holdAnswers = true;  // and answers coming back in an order chosen by `answerOrder`
  Outbox& outbox = h.open(path);
  for (int i = 0; i < 15; ++i) {
    for (int d = 0; d < 5; ++d)
      outbox.enqueue("lock-" + std::to_string(d), "deviceEventSetState", json{{"n", i}});
    h.advance(700ms);
  }
  h.advance(2h);
  EXPECT_EQ(outbox.pendingCount(), 0u);
  std::map<std::string, std::vector<std::string>> trace;
  for (const auto& r : h.got)
    trace[r.deviceId].push_back(r.id + " " + r.timestamp + " " + std::to_string(r.status) + " " +
                                r.body);
  return trace;
}

TEST(Outbox, TheSameInputsGiveTheSameDeliveriesOnAVirtualClock) {
  TempDir dir;
  // The second run gets the same inputs, but its concurrent answers arrive in another order:
  // what a device sees must not depend on that.
  const auto one = deterministicRun(dir.file("one.db"), 1234, 1);
  const auto two = deterministicRun(dir.file("two.db"), 1234, 2);
  ASSERT_EQ(one.size(), 5u);
  size_t failures = 0;
  for (const auto& [d, lines] : one)
    for (const auto& l : lines)
      failures += l.find(" 500 ") != std::string::npos;
  EXPECT_GT(failures, 10u);  // the retries (and their jitter) were exercised
  EXPECT_EQ(one, two);
  const auto other = deterministicRun(dir.file("three.db"), 999, 1);
  EXPECT_NE(one, other);  // the seed does matter (ids and jitter)
}

// ---------------------------------------------------------------------------------------------
// The SQLite wrapper

TEST(Db, OpensAFileInWalModeAndReportsBadPaths) {
  TempDir dir;
  Db db(dir.file("x.db"));
  Stmt mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
  Stmt sync = db.prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.step());
  EXPECT_EQ(sync.int64(0), 1);  // NORMAL
  Stmt fk = db.prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.step());
  EXPECT_EQ(fk.int64(0), 1);
  try {
    Db bad(dir.file("no/such/dir/x.db"));
    FAIL() << "opened a database in a missing directory";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir/x.db"), std::string::npos) << e.what();
  }
  Db memory(":memory:");
  memory.exec("CREATE TABLE t(x)");
}

TEST(Db, BindsStepsAndReadsColumns) {
  Db db(":memory:");
  db.exec("CREATE TABLE t(i INTEGER, r REAL, s TEXT, n TEXT)");
  Stmt ins = db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)");
  ins.bind(1, int64_t{1} << 40).bind(2, 2.5).bind(3, std::string_view("a\0b", 3)).bindNull(4);
  EXPECT_FALSE(ins.step());
  EXPECT_EQ(db.changes(), 1);
  EXPECT_EQ(db.lastInsertRowid(), 1);
  ins.bind(1, 7).bind(2, 0.0).bind(3, "").bind(4, "x");  // rebinding rewinds by itself
  EXPECT_FALSE(ins.step());
  EXPECT_EQ(db.lastInsertRowid(), 2);

  Stmt sel = db.prepare("SELECT i, r, s, n FROM t ORDER BY rowid");
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.int64(0), int64_t{1} << 40);
  EXPECT_EQ(sel.real(1), 2.5);
  EXPECT_EQ(sel.text(2), std::string("a\0b", 3));
  EXPECT_TRUE(sel.isNull(3));
  EXPECT_EQ(sel.text(3), "");
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.int64(0), 7);
  EXPECT_FALSE(sel.isNull(2));  // an empty string is not NULL
  EXPECT_EQ(sel.text(2), "");
  EXPECT_FALSE(sel.step());
  sel.reset();
  EXPECT_TRUE(sel.step());

  Stmt moved = std::move(sel);
  EXPECT_TRUE(moved);
  EXPECT_FALSE(sel);  // NOLINT(bugprone-use-after-move): checking the moved-from state
}

TEST(Db, ReportsErrorsWithTheStatement) {
  Db db(":memory:");
  db.exec("CREATE TABLE t(x INTEGER PRIMARY KEY)");
  EXPECT_THROW(db.prepare("SELEC 1"), DbError);
  EXPECT_THROW(db.prepare("SELECT 1; SELECT 2"), DbError);
  EXPECT_THROW(db.exec("INSERT INTO nowhere VALUES (1)"), DbError);
  Stmt ins = db.prepare("INSERT INTO t VALUES (?)");
  ins.bind(1, 1).step();
  try {
    ins.bind(1, 1).step();
    FAIL() << "a duplicate key was accepted";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("INSERT INTO t"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(ins.bind(1, 2).step());  // usable after an error
}

int64_t countRows(Db& db) {
  Stmt s = db.prepare("SELECT COUNT(*) FROM t");
  s.step();
  return s.int64(0);
}

TEST(Db, TransactionsNestAndOnlyTheOutermostCommitsOrRollsBack) {
  Db db(":memory:");
  db.exec("CREATE TABLE t(x)");
  std::vector<std::string> hooks;
  {
    Db::Transaction outer(db);
    EXPECT_TRUE(db.inTransaction());
    db.exec("INSERT INTO t VALUES (1)");
    {
      Db::Transaction inner(db);
      db.exec("INSERT INTO t VALUES (2)");
      db.afterCommit([&] { hooks.push_back("commit"); });
      db.afterRollback([&] { hooks.push_back("rollback"); });
      inner.commit();
    }
    EXPECT_TRUE(db.inTransaction());  // the inner commit committed nothing
    EXPECT_TRUE(hooks.empty());
    outer.commit();
  }
  EXPECT_FALSE(db.inTransaction());
  EXPECT_EQ(countRows(db), 2);
  EXPECT_EQ(hooks, (std::vector<std::string>{"commit"}));

  hooks.clear();
  {
    Db::Transaction outer(db);
    db.exec("INSERT INTO t VALUES (3)");
    db.afterCommit([&] { hooks.push_back("commit"); });
    db.afterRollback([&] { hooks.push_back("rollback"); });
  }  // destroyed uncommitted: rolled back
  EXPECT_EQ(countRows(db), 2);
  EXPECT_EQ(hooks, (std::vector<std::string>{"rollback"}));

  hooks.clear();
  {
    Db::Transaction outer(db);
    db.exec("INSERT INTO t VALUES (4)");
    { Db::Transaction inner(db); }  // abandoned: dooms the whole transaction
    db.afterRollback([&] { hooks.push_back("rollback"); });
    EXPECT_THROW(outer.commit(), DbError);
  }
  EXPECT_FALSE(db.inTransaction());
  EXPECT_EQ(countRows(db), 2);
  EXPECT_EQ(hooks, (std::vector<std::string>{"rollback"}));

  // Outside any transaction a commit hook runs at once.
  hooks.clear();
  db.afterCommit([&] { hooks.push_back("now"); });
  db.afterRollback([&] { hooks.push_back("never"); });
  EXPECT_EQ(hooks, (std::vector<std::string>{"now"}));

  // A transaction opened by hand cannot be mixed with Transaction.
  db.exec("BEGIN");
  EXPECT_THROW(Db::Transaction t(db), DbError);
  EXPECT_THROW(db.afterCommit([] {}), DbError);
  db.exec("ROLLBACK");
}

// SQLite rolls a transaction back by itself on some errors (a full disk, I/O errors; here a
// trigger's RAISE(ROLLBACK)). What the caller writes after that must not commit piecemeal:
// the whole Transaction fails and nothing of it is kept.
TEST(Db, ATransactionSqliteRolledBackByItselfKeepsNothingWrittenAfter) {
  Db db(":memory:");
  db.exec(
      "CREATE TABLE t(x);"
      "CREATE TRIGGER full BEFORE INSERT ON t WHEN NEW.x = 99 BEGIN SELECT RAISE(ROLLBACK, "
      "'database or disk is full'); END;");
  bool rolledBack = false;
  {
    Db::Transaction outer(db);
    db.exec("INSERT INTO t VALUES (1)");
    db.afterRollback([&] { rolledBack = true; });
    EXPECT_THROW(db.exec("INSERT INTO t VALUES (99)"), DbError);
    db.exec("INSERT INTO t VALUES (2)");  // the caller does not know yet
    db.prepare("INSERT INTO t VALUES (3)").step();
    EXPECT_THROW(outer.commit(), DbError);
  }
  EXPECT_TRUE(rolledBack);
  EXPECT_FALSE(db.inTransaction());
  EXPECT_EQ(countRows(db), 0) << "rows after the failure were committed one by one";
}

// A hook that throws after a commit does not undo what is durable, nor keep the later hooks
// (answers waiting for the commit) from running.
TEST(Db, AHookThatThrowsAfterACommitDoesNotStopTheOthers) {
  Db db(":memory:");
  db.exec("CREATE TABLE t(x)");
  std::vector<std::string> hooks;
  {
    Db::Transaction t(db);
    db.exec("INSERT INTO t VALUES (1)");
    db.afterCommit([&] { hooks.push_back("first"); });
    db.afterCommit([] { throw std::runtime_error("a bug in a hook"); });
    db.afterCommit([&] { hooks.push_back("third"); });
    EXPECT_NO_THROW(t.commit());
  }
  EXPECT_EQ(hooks, (std::vector<std::string>{"first", "third"}));
  EXPECT_EQ(countRows(db), 1);
}

TEST(Db, CommittedDataIsThereAfterReopening) {
  TempDir dir;
  {
    Db db(dir.file("x.db"));
    db.exec("CREATE TABLE t(x)");
    Db::Transaction t(db);
    db.exec("INSERT INTO t VALUES (1), (2)");
    t.commit();
    db.exec("BEGIN");
    db.exec("INSERT INTO t VALUES (3)");  // left open: lost with the connection
  }
  Db db(dir.file("x.db"));
  EXPECT_EQ(countRows(db), 2);
}

}  // namespace
}  // namespace nukihil::adapter
