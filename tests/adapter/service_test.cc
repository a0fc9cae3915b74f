// adapter::Service, nuki-adapter's one assembly (the tool and the embedded world build it),
// against a sim::Server on one virtual clock: it serves /v1 behind the API key with the
// adapter's error shape (the transport's own 413 included), reaches Nuki Web with its token,
// registers its decentral webhook at its own URL, delivers signed platform webhooks, owns its
// database alone, and says clearly why it cannot be built.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "adapter/service.h"
#include "runtime/blocking_client.h"
#include "runtime/run_on.h"
#include "scenarios/webhook_recorder.h"
#include "simulator/server.h"
#include "tests/support/raw_conn.h"

namespace nukihil::test {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kApiKey = "service-test-key-0123456789";
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kAdmin = "service-test-admin";

// nukisim, a platform receiver and (once started) the adapter on one loop and virtual clock.
struct Stack {
  Stack() {
    for (const char* suffix : {"", "-wal", "-shm", ".lock"})
      std::filesystem::remove(db + suffix);
    sim::ServerOptions so;
    so.simulator.adminToken = kAdmin;
    sim = std::make_unique<sim::Server>(io, clock, std::move(so));
    sim->start();
    auto& world = sim->simulator().world();
    const uint32_t account = world.addAccount("Service");
    accountId = world.account(account).accountId;
    token = world.account(account).apiToken;
    thread = std::thread([this] { io.run(); });
    http::BlockingClient admin("127.0.0.1", sim->port(), kAdmin);
    auto lock = admin.request("POST", "/sim/v1/smartlocks",
                              json{{"accountId", accountId}, {"model", "3.0 Pro"}}.dump());
    EXPECT_EQ(lock.status, 201) << lock.body;
  }
  ~Stack() {
    onLoop([this] {
      service.reset();
      other.reset();
      sim->stop();
      receiver.stop();
      return 0;
    });
    asio::post(io, [this] {
      guard.reset();
      io.stop();
    });
    thread.join();
    sim.reset();
    for (const char* suffix : {"", "-wal", "-shm", ".lock"})
      std::filesystem::remove(db + suffix);
  }

  template <class F>
  auto onLoop(F&& f) -> decltype(f()) {
    return runOn([this](std::function<void()> g) { asio::post(io, std::move(g)); },
                 std::forward<F>(f));
  }

  adapter::ServiceOptions options() {
    adapter::ServiceOptions o;
    o.dbPath = db;
    o.nukiUrl = sim->url();
    o.nukiToken = token;
    o.apiKey = kApiKey;
    o.webhookUrl = receiver.url();
    o.webhookSecret = *adapter::WebhookSecret::parse(kSecret);
    o.ownPublicUrl = true;
    return o;
  }
  // Builds and starts the service on the loop; returns what `ready` said.
  std::string start(adapter::ServiceOptions o) {
    std::promise<std::string> ready;
    auto future = ready.get_future();
    onLoop([&] {
      service = std::make_unique<adapter::Service>(io, clock, random, std::move(o));
      service->start([&ready](const std::string& error) { ready.set_value(error); });
      return 0;
    });
    return future.get();
  }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  VirtualClock clock;
  Random random{5};
  std::unique_ptr<sim::Server> sim;
  scenarios::WebhookRecorder receiver{io, kSecret, [this] { return secondsOf(clock.now()); }};
  std::unique_ptr<adapter::Service> service, other;
  int64_t accountId = 0;
  std::string token;
  std::string db = (std::filesystem::temp_directory_path() /
                    ("nukihil-service-test-" + std::to_string(::getpid()) + ".db"))
                       .string();
  std::thread thread;
};

TEST(AdapterService, AnswersHealthAndDevicesBehindTheApiKey) {
  Stack s;
  ASSERT_EQ(s.start(s.options()), "");
  const uint16_t port = s.onLoop([&] { return s.service->port(); });
  EXPECT_NE(port, 0);
  EXPECT_EQ(s.onLoop([&] { return s.service->url(); }), "http://127.0.0.1:" + std::to_string(port));

  http::BlockingClient api("127.0.0.1", port, kApiKey);
  auto health = api.request("GET", "/v1/health");
  ASSERT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.headers["server"], "nuki-adapter");
  const json h = json::parse(health.body);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["devices"], 1) << "discovered through the Nuki URL and token";
  EXPECT_EQ(h["nukiWebhook"], "registered");

  // The decentral webhook is registered at the service's own URL.
  http::BlockingClient nuki("127.0.0.1", s.sim->port(), s.token);
  const json hooks = json::parse(nuki.request("GET", "/api/decentralWebhook").body);
  ASSERT_EQ(hooks.size(), 1u) << hooks.dump();
  EXPECT_EQ(hooks[0]["webhookUrl"], "http://127.0.0.1:" + std::to_string(port) + "/nuki/webhook");

  http::BlockingClient stranger("127.0.0.1", port);
  EXPECT_EQ(stranger.request("GET", "/v1/health").status, 401);

  // Discovery's platform webhooks arrive, signed with the secret.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.receiver.count() < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
  auto got = s.receiver.webhooks();
  ASSERT_FALSE(got.empty());
  for (const auto& w : got)
    EXPECT_TRUE(w.signatureOk) << w.body.dump();
}

// Issue 8: PIN input SPEC does not allow was taken — an empty BYDAY as every day, a leap
// second as :59, year 0001, control and bidi-override characters in names, unknown top-level
// fields. Each is refused over /v1 in SPEC's error shape, with the field path, and sends
// nothing (no action, no webhook).
TEST(AdapterService, PinInputOutsideSpecIsRefusedWithTheFieldPath) {
  Stack s;
  ASSERT_EQ(s.start(s.options()), "");
  const uint16_t port = s.onLoop([&] { return s.service->port(); });
  http::BlockingClient api("127.0.0.1", port, kApiKey);
  const json devices = json::parse(api.request("GET", "/v1/devices").body);
  ASSERT_EQ(devices.size(), 1u);
  const std::string path = "/v1/devices/" + devices[0]["id"].get<std::string>() + "/actions";
  auto create = [&](json params, json extra = json::object()) {
    json body{{"trait", "BETA_PIN_CODE_CREDENTIALS"},
              {"action", "createPinCodeCredential"},
              {"parameters", std::move(params)}};
    body.update(extra);
    auto r = api.request("POST", path, body.dump());
    return std::make_pair(r.status, json::parse(r.body, nullptr, false));
  };
  const json weekly = {{"rrule", "RRULE:FREQ=WEEKLY;BYDAY=;BYHOUR=8;BYMINUTE=0"}, {"duration", 60}};
  struct Case {
    const char* what;
    json params, extra;
    int status;
    const char* code;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"an empty BYDAY",
       {{"pinCode", "345671"}, {"name", "A"}, {"recurringSchedules", {weekly}}},
       json::object(),
       422,
       "SCHEDULE_INVALID",
       "parameters.recurringSchedules[0].rrule"},
      {"a leap second",
       {{"pinCode", "345672"},
        {"name", "A"},
        {"temporarySchedules",
         {{{"startDatetime", "2025-06-30T10:00:00Z"}, {"endDatetime", "2025-06-30T23:59:60Z"}}}}},
       json::object(),
       422,
       "SCHEDULE_INVALID",
       "parameters.temporarySchedules[0].endDatetime"},
      {"year 0001",
       {{"pinCode", "345673"},
        {"name", "A"},
        {"temporarySchedules",
         {{{"startDatetime", "0001-01-01T00:00:00Z"}, {"endDatetime", "2025-06-30T10:00:00Z"}}}}},
       json::object(),
       422,
       "SCHEDULE_INVALID",
       "parameters.temporarySchedules[0].startDatetime"},
      {"year 2040",
       {{"pinCode", "345674"},
        {"name", "A"},
        {"temporarySchedules",
         {{{"startDatetime", "2025-01-01T00:00:00Z"}, {"endDatetime", "2040-01-01T00:00:00Z"}}}}},
       json::object(),
       422,
       "SCHEDULE_INVALID",
       "parameters.temporarySchedules[0].endDatetime"},
      {"a NUL in the name",
       {{"pinCode", "345675"}, {"name", std::string("A\0B", 3)}},
       json::object(),
       400,
       "BAD_REQUEST",
       "parameters.name"},
      {"a newline in the name",
       {{"pinCode", "345676"}, {"name", "A\nB"}},
       json::object(),
       400,
       "BAD_REQUEST",
       "parameters.name"},
      {"a bidi override in the name",
       {{"pinCode", "345677"}, {"name", "Guest\u202Eevil"}},
       json::object(),
       400,
       "BAD_REQUEST",
       "parameters.name"},
      {"an unknown top-level field",
       {{"pinCode", "345678"}, {"name", "A"}},
       {{"parameter", {{"pinCode", "456789"}}}},
       400,
       "BAD_REQUEST",
       "parameter"},
  };
  for (const auto& c : cases) {
    auto [status, body] = create(c.params, c.extra);
    EXPECT_EQ(status, c.status) << c.what << ": " << body.dump();
    EXPECT_EQ(body["error"]["code"], c.code) << c.what << ": " << body.dump();
    EXPECT_EQ(body["error"]["field"], c.field) << c.what << ": " << body.dump();
  }
  // Right at the edges of what SPEC allows, and ordinary non-ASCII names, are accepted.
  auto ok = create(
      {{"pinCode", "456789"},
       {"name", "Grüße 👋 שלום"},
       {"temporarySchedules",
        {{{"startDatetime", "2000-01-01T00:00:00Z"}, {"endDatetime", "2037-12-31T23:59:59Z"}}}}});
  EXPECT_EQ(ok.first, 202) << ok.second.dump();
  // Nothing refused became an action: the only action the adapter knows is the accepted one.
  const json h = json::parse(api.request("GET", "/v1/health").body);
  EXPECT_EQ(h["unresolvedActions"], 1) << h.dump();
}

TEST(AdapterService, TooLargeBodyGets413InTheAdaptersErrorShape) {
  Stack s;
  ASSERT_EQ(s.start(s.options()), "");
  const uint16_t port = s.onLoop([&] { return s.service->port(); });
  RawConn c(port);
  ASSERT_TRUE(c.connected());
  c.send("POST /v1/devices/1/actions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         std::string(kApiKey) +
         "\r\nContent-Type: application/json\r\nContent-Length: 65537\r\n\r\n");
  ASSERT_TRUE(c.readToClose(milliseconds(3000))) << c.received();
  const std::string& in = c.received();
  ASSERT_GE(in.size(), 12u);
  EXPECT_EQ(in.substr(9, 3), "413") << in;
  const auto end = in.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  const json body = json::parse(in.substr(end + 4), nullptr, false);
  EXPECT_EQ(body["error"]["code"], "BODY_TOO_LARGE") << in;
}

TEST(AdapterService, ASecondServiceOnTheSameDatabaseIsRefused) {
  Stack s;
  ASSERT_EQ(s.start(s.options()), "");
  try {
    s.onLoop([&] {
      s.other = std::make_unique<adapter::Service>(s.io, s.clock, s.random, s.options());
      return 0;
    });
    ADD_FAILURE() << "a second service opened " << s.db;
  } catch (const adapter::ServiceError& e) {
    EXPECT_EQ(e.step(), adapter::ServiceError::Step::kDatabaseInUse);
    EXPECT_NE(std::string(e.what()).find("the database '" + s.db + "' is in use by another"),
              std::string::npos)
        << e.what();
  }
}

TEST(AdapterService, KilledItLeavesItsDatabaseToTheNextOne) {
  Stack s;
  ASSERT_EQ(s.start(s.options()), "");
  const uint16_t port = s.onLoop([&] { return s.service->port(); });
  s.onLoop([&] {
    s.service->kill();
    return 0;
  });
  s.onLoop([&] {
    s.service.reset();
    return 0;
  });
  auto o = s.options();
  o.port = port;
  ASSERT_EQ(s.start(o), "");
  http::BlockingClient api("127.0.0.1", port, kApiKey);
  auto health = api.request("GET", "/v1/health");
  ASSERT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(json::parse(health.body)["devices"], 1);
}

TEST(AdapterService, ConstructorErrorsSayWhatFailed) {
  Stack s;
  auto build = [&](adapter::ServiceOptions o) -> std::optional<adapter::ServiceError> {
    try {
      s.onLoop([&] {
        adapter::Service service(s.io, s.clock, s.random, std::move(o));
        return 0;
      });
    } catch (const adapter::ServiceError& e) {
      return e;
    }
    return std::nullopt;
  };
  auto badUrl = s.options();
  badUrl.webhookUrl = "nowhere";
  auto e = build(badUrl);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->step(), adapter::ServiceError::Step::kOptions);
  EXPECT_NE(std::string(e->what()).find("nowhere"), std::string::npos) << e->what();

  auto noDir = s.options();
  noDir.dbPath = "/nonexistent-nukihil-dir/adapter.db";
  e = build(noDir);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->step(), adapter::ServiceError::Step::kDatabase);

  const std::string ca = s.db + ".not-a-ca.pem";
  std::ofstream(ca) << "not a certificate\n";
  auto badCa = s.options();
  badCa.caFile = ca;
  e = build(badCa);
  std::filesystem::remove(ca);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->step(), adapter::ServiceError::Step::kHttpClient);
  EXPECT_FALSE(e->detail().empty());
  EXPECT_NE(std::string(e->what()).find(ca), std::string::npos) << e->what();
}

// What a full disk looks like to the adapter: every write to its tables is refused.
std::string refuseWrites() {
  std::string sql;
  for (const char* table : {"adapter_meta", "adapter_devices", "adapter_actions", "outbox"})
    for (const char* op : {"INSERT", "UPDATE", "DELETE"})
      sql += std::string("CREATE TRIGGER full_") + table + "_" + op + " BEFORE " + op + " ON " +
             table + " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;";
  return sql;
}
std::string takeWrites() {
  std::string sql;
  for (const char* table : {"adapter_meta", "adapter_devices", "adapter_actions", "outbox"})
    for (const char* op : {"INSERT", "UPDATE", "DELETE"})
      sql += std::string("DROP TRIGGER full_") + table + "_" + op + ";";
  return sql;
}

// Issue 8: on a full disk the adapter aborted, and restarted on a still-full disk aborted again
// (a crash loop under a supervisor). Now it refuses writes with 503 STORAGE_UNAVAILABLE, serves
// reads from what is durable, says so in GET /v1/health, and takes writes again by itself once
// the database does.
TEST(AdapterService, AFullDiskRefusesWritesServesReadsAndRecovers) {
  Stack s;
  ASSERT_EQ(s.start(s.options()), "");
  const uint16_t port = s.onLoop([&] { return s.service->port(); });
  http::BlockingClient api("127.0.0.1", port, kApiKey);
  http::BlockingClient admin("127.0.0.1", s.sim->port(), kAdmin);
  const json devices = json::parse(api.request("GET", "/v1/devices").body);
  ASSERT_EQ(devices.size(), 1u);
  const std::string device = devices[0]["id"];
  const std::string actions = "/v1/devices/" + device + "/actions";
  auto lock = [&](bool locked) {
    return api.request(
        "POST", actions,
        json{{"trait", "LOCK"}, {"action", "setLocked"}, {"parameters", {{"lock", locked}}}}
            .dump());
  };
  auto advance = [&](int seconds) {
    auto r = admin.request("POST", "/sim/v1/clock/advance", json{{"seconds", seconds}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  };
  auto health = [&] { return json::parse(api.request("GET", "/v1/health").body); };
  auto first = lock(true);
  ASSERT_EQ(first.status, 202) << first.body;
  const std::string firstId = json::parse(first.body)["actionId"];
  advance(30);
  ASSERT_EQ(json::parse(api.request("GET", "/v1/actions/" + firstId).body)["status"], "RESOLVED");
  ASSERT_EQ(health()["storage"]["status"], "ok");

  s.onLoop([&] {
    s.service->database().exec(refuseWrites());
    return 0;
  });
  auto refused = lock(false);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"]["code"], "STORAGE_UNAVAILABLE") << refused.body;

  // Reads are served from what is durable; writes are refused with a Retry-After.
  json h = health();
  EXPECT_EQ(h["status"], "degraded") << h.dump();
  EXPECT_EQ(h["storage"]["status"], "unavailable") << h.dump();
  EXPECT_NE(h["storage"]["lastError"].get<std::string>().find("disk is full"), std::string::npos)
      << h.dump();
  EXPECT_TRUE(h["storage"].contains("nextProbe")) << h.dump();
  ASSERT_FALSE(h["problems"].empty());
  EXPECT_NE(h["problems"].dump().find("storage"), std::string::npos) << h.dump();
  auto read = api.request("GET", "/v1/devices/" + device);
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body)["traits"]["LOCK"]["state"]["isLocked"], true);
  EXPECT_EQ(json::parse(api.request("GET", "/v1/actions/" + firstId).body)["status"], "RESOLVED");
  auto again = lock(false);
  EXPECT_EQ(again.status, 503);
  EXPECT_EQ(again.headers["retry-after"], "1");
  // Probes fail while the disk stays full (1 s, 2 s, 4 s …): still degraded, nothing lost.
  advance(10);
  h = health();
  EXPECT_EQ(h["storage"]["status"], "unavailable") << h.dump();
  EXPECT_GT(std::stoi(lock(false).headers["retry-after"]), 1) << "the probes back off";

  // Space again: the next probe finds the database taking writes and the adapter goes on.
  s.onLoop([&] {
    s.service->database().exec(takeWrites());
    return 0;
  });
  advance(60);
  h = health();
  EXPECT_EQ(h["storage"]["status"], "ok") << h.dump();
  EXPECT_EQ(h["status"], "ok") << h.dump();
  auto after = lock(false);
  ASSERT_EQ(after.status, 202) << after.body;
  advance(30);
  const json done = json::parse(
      api.request("GET", "/v1/actions/" + json::parse(after.body)["actionId"].get<std::string>())
          .body);
  EXPECT_EQ(done["status"], "RESOLVED") << done.dump();
}

// Restarted on a disk that is still full, the adapter comes up degraded instead of aborting
// again: it serves what it had and refuses writes until the disk takes them.
TEST(AdapterService, RestartedOnAStillFullDiskItServesReads) {
  Stack s;
  ASSERT_EQ(s.start(s.options()), "");
  const std::string device =
      s.onLoop([&] { return s.service->adapter().devices().begin()->first; });
  s.onLoop([&] {
    s.service.reset();
    return 0;
  });
  // While it is down the battery drops, so that catching up at start must write.
  http::BlockingClient admin("127.0.0.1", s.sim->port(), kAdmin);
  ASSERT_EQ(
      admin
          .request("POST", "/sim/v1/smartlocks/" + device + "/battery", json{{"charge", 40}}.dump())
          .status,
      200);
  adapter::Db(s.db).exec(refuseWrites());  // the disk fills while it is down
  // Started again: catching up is refused by the database; the service stays up, read-only.
  const uint16_t port = s.onLoop([&] {
    s.service = std::make_unique<adapter::Service>(s.io, s.clock, s.random, s.options());
    s.service->start();
    return s.service->port();
  });
  http::BlockingClient api("127.0.0.1", port, kApiKey);
  json h;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    h = json::parse(api.request("GET", "/v1/health").body);
  } while (h["storage"]["status"] != "unavailable" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(h["storage"]["status"], "unavailable") << h.dump();
  EXPECT_EQ(h["devices"], 1) << "the saved device is served";
  const json d = json::parse(api.request("GET", "/v1/devices/" + device).body);
  EXPECT_EQ(d["traits"]["BATTERY_LEVEL"]["state"]["percentage"], 100)
      << "what is durable, not the refused change: " << d.dump();
  // Once the disk takes writes, the adapter catches up as at any start.
  s.onLoop([&] {
    s.service->database().exec(takeWrites());
    return 0;
  });
  ASSERT_EQ(admin.request("POST", "/sim/v1/clock/advance", json{{"seconds", 120}}.dump()).status,
            200);
  const json after = json::parse(api.request("GET", "/v1/devices/" + device).body);
  EXPECT_EQ(after["traits"]["BATTERY_LEVEL"]["state"]["percentage"], 40) << after.dump();
}

}  // namespace
}  // namespace nukihil::test
