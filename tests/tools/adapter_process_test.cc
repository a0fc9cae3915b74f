// nuki-adapter and nukisim as processes, as a user runs them: the adapter is killed with
// SIGKILL in the middle of work and started again on its database — nothing it accepted is
// lost (SPEC §5, R-DELIVERY), and its CLI explains bad arguments.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/blocking_client.h"
#include "scenarios/child_process.h"
#include "scenarios/webhook_recorder.h"

namespace nukihil::test {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kApiKey = "process-test-key-0123456789";

uint16_t freePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// Waits (real time, bounded: processes and sockets are real) until `done` holds.
template <class F>
bool eventually(F done, int seconds = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

struct Processes {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  scenarios::WebhookRecorder receiver{
      io, kSecret, [] {
        return int64_t(std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
      }};
  std::thread thread{[this] { io.run(); }};
  scenarios::ChildProcess sim, adapter;
  std::unique_ptr<http::BlockingClient> admin;
  uint16_t adapterPort = freePort();
  std::string db = (std::filesystem::temp_directory_path() /
                    ("nukihil-process-" + std::to_string(::getpid()) + ".db"))
                       .string();
  std::string token;
  std::vector<std::string> devices;

  Processes() {
    const auto banner = json::parse(sim.start(
        {NUKISIM_BINARY, "--port", "0", "--seed", "3", "--admin-token", "adm-token-0123456789"}));
    const uint16_t simPort = uint16_t(std::stoi(banner["url"].get<std::string>().substr(17)));
    admin = std::make_unique<http::BlockingClient>("127.0.0.1", simPort, "adm-token-0123456789");
    auto acc = json::parse(admin->request("POST", "/sim/v1/accounts", R"({"name":"P"})").body);
    token = acc["apiToken"];
    for (int i = 0; i < 3; ++i) {
      auto r = admin->request("POST", "/sim/v1/smartlocks",
                              json{{"accountId", acc["accountId"]}, {"model", "3.0 Pro"}}.dump());
      devices.push_back(std::to_string(json::parse(r.body)["smartlockId"].get<uint64_t>()));
    }
    for (const char* suffix : {"", "-wal", "-shm", ".lock"})
      std::filesystem::remove(db + suffix);
    ::setenv("NUKI_TOKEN", token.c_str(), 1);
    ::setenv("NUKIHIL_API_KEY", kApiKey, 1);
    ::setenv("NUKIHIL_WEBHOOK_SECRET", kSecret, 1);
    nukiSimUrl = "http://127.0.0.1:" + std::to_string(simPort);
  }
  ~Processes() {
    adapter.stop(SIGTERM);
    sim.stop(SIGTERM);
    asio::post(io, [this] { receiver.stop(); });
    guard.reset();
    thread.join();
    for (const char* suffix : {"", "-wal", "-shm", ".lock"})
      std::filesystem::remove(db + suffix);
  }
  void startAdapter() {
    const auto line = json::parse(adapter.start(
        {NUKI_ADAPTER_BINARY, "--nuki-url", nukiSimUrl, "--listen", std::to_string(adapterPort),
         "--webhook-url", receiver.url(), "--db", db, "--public-url",
         "http://127.0.0.1:" + std::to_string(adapterPort), "--poll-seconds", "3600"}));
    EXPECT_EQ(line["db"], db);
    http::BlockingClient api("127.0.0.1", adapterPort, kApiKey);
    ASSERT_TRUE(eventually([&] {
      auto r = api.request("GET", "/v1/devices");
      auto h = api.request("GET", "/v1/health");
      return r.status == 200 && json::parse(r.body).size() == devices.size() && h.status == 200 &&
             json::parse(h.body)["nukiWebhook"] == "registered";
    }));
  }
  void advance(int seconds) {
    auto r = admin->request("POST", "/sim/v1/clock/advance", json{{"seconds", seconds}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string nukiSimUrl;
};

TEST(AdapterProcess, KilledWithSigkillMidFlightLosesNothingItAccepted) {
  Processes s;
  s.startAdapter();
  s.receiver.setStatus(503);  // the platform is down: webhooks pile up in the outbox
  http::BlockingClient api("127.0.0.1", s.adapterPort, kApiKey);
  std::set<std::string> accepted;
  for (int i = 0; i < 30; ++i) {
    const std::string& device = s.devices[size_t(i) % s.devices.size()];
    auto r = api.request(
        "POST", "/v1/devices/" + device + "/actions",
        json{{"trait", "LOCK"}, {"action", "setLocked"}, {"parameters", {{"lock", i % 2 == 0}}}}
            .dump());
    ASSERT_EQ(r.status, 202) << r.body;
    accepted.insert(json::parse(r.body)["actionId"].get<std::string>());
  }
  const int status = s.adapter.stop(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status));
  s.receiver.setStatus(204);
  s.startAdapter();  // same database, same port
  // Lock actions whose Nuki call was in flight at the kill go out again after the restart
  // (at least once toward Nuki Web), so a lock may have a few more motor runs than the 10
  // actions it got: let the locks run until their queues are empty.
  for (int i = 0; i < 40; ++i)
    s.advance(3);
  // Every accepted action reaches a final status, and the platform hears about each.
  std::set<std::string> settled;
  ASSERT_TRUE(eventually([&] {
    settled.clear();
    for (const auto& w : s.receiver.webhooks())
      if (w.type() == "deviceEventUpdateAction" && w.content()["status"] == "RESOLVED")
        settled.insert(w.content().value("actionId", ""));
    return settled == accepted;
  })) << settled.size()
      << " of " << accepted.size() << " settled; the others: " << [&] {
           std::string out;
           for (const auto& id : accepted)
             if (!settled.count(id)) {
               auto a = json::parse(api.request("GET", "/v1/actions/" + id).body);
               out += a.dump() + "\n  device: " +
                      s.admin
                          ->request("GET", "/sim/v1/smartlocks/" +
                                               a["deviceId"].get<std::string>() + "/device")
                          .body.substr(0, 600) +
                      "\n  logs: ";
               http::BlockingClient nuki("127.0.0.1", uint16_t(std::stoi(s.nukiSimUrl.substr(17))),
                                         s.token);
               auto logs = json::parse(
                   nuki.request("GET",
                                "/smartlock/" + a["deviceId"].get<std::string>() + "/log?limit=50")
                       .body);
               int web = 0;
               for (auto& l : logs)
                 web += l["trigger"] == 4;
               out += std::to_string(web) + " web actions logged\n";
             }
           return out;
         }();
  for (const auto& w : s.receiver.webhooks()) {
    EXPECT_TRUE(w.signatureOk) << w.id;
  }
  // Per device, webhooks arrive in order: every action's QueueAction comes before its RESOLVED.
  std::set<std::string> queued;
  for (const auto& w : s.receiver.webhooks()) {
    const std::string id = w.content().value("actionId", "");
    if (w.type() == "deviceEventQueueAction") queued.insert(id);
    if (w.type() == "deviceEventUpdateAction" && w.content()["status"] == "RESOLVED") {
      EXPECT_TRUE(queued.count(id)) << id;
    }
  }
}

// Starts nuki-adapter (stderr captured, no --verbose) on `s`'s database without waiting for
// discovery; returns the port it listens on.
uint16_t spawnAdapter(Processes& s, scenarios::ChildProcess& p, const std::string& nukiUrl) {
  const uint16_t port = freePort();
  p.spawn({NUKI_ADAPTER_BINARY, "--nuki-url", nukiUrl, "--listen", std::to_string(port),
           "--webhook-url", s.receiver.url(), "--db", s.db, "--poll-seconds", "3600"},
          scenarios::ChildProcess::Stderr::kCapture);
  EXPECT_TRUE(p.firstLine(std::chrono::seconds(20))) << p.err();
  return port;
}

// Collects the child's stderr (real time, bounded) until it contains `text`.
bool logShows(scenarios::ChildProcess& p, const std::string& text, int seconds = 20) {
  return eventually(
      [&] {
        p.wait(std::chrono::milliseconds(20));  // reads what it wrote meanwhile
        return p.err().find(text) != std::string::npos;
      },
      seconds);
}

// Issue 8 item 13: health said "ok" while every Nuki call got 401.
TEST(AdapterProcess, HealthIsDegradedAndTheLogWarnsWhenNukiWebRefusesTheToken) {
  Processes s;
  ::setenv("NUKI_TOKEN", "not-the-accounts-token", 1);
  scenarios::ChildProcess p;
  const uint16_t port = spawnAdapter(s, p, s.nukiSimUrl);
  http::BlockingClient api("127.0.0.1", port, kApiKey);
  json h;
  ASSERT_TRUE(eventually([&] {
    auto r = api.request("GET", "/v1/health");
    h = json::parse(r.body, nullptr, false);
    return r.status == 200 && h.is_object() && h.value("status", "") != "ok";
  })) << h.dump();
  EXPECT_EQ(h["status"], "degraded") << h.dump();
  EXPECT_EQ(h["nukiWeb"]["status"], "failing") << h.dump();
  EXPECT_NE(h["nukiWeb"]["lastError"].get<std::string>().find("401"), std::string::npos)
      << h.dump();
  ASSERT_TRUE(h["problems"].is_array() && !h["problems"].empty()) << h.dump();
  EXPECT_TRUE(logShows(p, "warn: nuki-web: ")) << p.err();
  EXPECT_EQ(p.err().find("not-the-accounts-token"), std::string::npos) << "a secret in the log";
}

TEST(AdapterProcess, HealthIsDegradedAndTheLogWarnsWhenNukiWebCannotBeReached) {
  Processes s;
  scenarios::ChildProcess p;
  const uint16_t port = spawnAdapter(s, p, "http://127.0.0.1:" + std::to_string(freePort()));
  http::BlockingClient api("127.0.0.1", port, kApiKey);
  json h;
  ASSERT_TRUE(eventually([&] {
    h = json::parse(api.request("GET", "/v1/health").body, nullptr, false);
    return h.is_object() && h.value("status", "") != "ok";
  })) << h.dump();
  EXPECT_EQ(h["status"], "degraded") << h.dump();
  EXPECT_EQ(h["nukiWeb"]["status"], "failing") << h.dump();
  EXPECT_FALSE(h["nukiWeb"]["lastError"].get<std::string>().empty()) << h.dump();
  // Retried within the budget, yet failing again and again: a warning without --verbose.
  EXPECT_TRUE(logShows(p, "warn: nuki-web: ")) << p.err();
}

TEST(AdapterProcess, HealthIsDegradedAndTheLogWarnsWhilePlatformWebhooksFail) {
  Processes s;
  s.receiver.setStatus(503);
  scenarios::ChildProcess p;
  const uint16_t port = spawnAdapter(s, p, s.nukiSimUrl);  // discovery's webhooks fail
  http::BlockingClient api("127.0.0.1", port, kApiKey);
  json h;
  ASSERT_TRUE(eventually([&] {
    h = json::parse(api.request("GET", "/v1/health").body, nullptr, false);
    return h.is_object() && h.contains("webhooks") && h["webhooks"].value("status", "") != "ok";
  })) << h.dump();
  EXPECT_EQ(h["status"], "degraded") << h.dump();
  EXPECT_EQ(h["webhooks"]["status"], "failing") << h.dump();
  EXPECT_NE(h["webhooks"]["lastError"].get<std::string>().find("503"), std::string::npos)
      << h.dump();
  EXPECT_EQ(h["nukiWeb"]["status"], "ok") << h.dump();
  EXPECT_TRUE(logShows(p, "warn: outbox: ")) << p.err();
  // The receiver is back: health recovers.
  s.receiver.setStatus(204);
  ASSERT_TRUE(eventually([&] {
    h = json::parse(api.request("GET", "/v1/health").body, nullptr, false);
    return h.is_object() && h.value("status", "") == "ok";
  })) << h.dump();
}

// Issue 8: a second adapter on the same database waited SQLite's 5 s busy timeout and said
// "database is locked"; it must say at once that another adapter owns the file.
TEST(AdapterProcess, ASecondAdapterOnTheSameDatabaseIsRefusedAtOnce) {
  Processes s;
  s.startAdapter();
  scenarios::ChildProcess second;
  const auto started = std::chrono::steady_clock::now();
  second.spawn({NUKI_ADAPTER_BINARY, "--nuki-url", s.nukiSimUrl, "--listen", "0", "--webhook-url",
                s.receiver.url(), "--db", s.db},
               scenarios::ChildProcess::Stderr::kCapture);
  auto e = second.wait(std::chrono::seconds(20));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(e && e->exited) << second.err();
  EXPECT_EQ(e->code, 3) << second.err();
  EXPECT_LT(took, std::chrono::milliseconds(2500)) << "it waited for the lock";
  EXPECT_NE(second.err().find("another nuki-adapter"), std::string::npos) << second.err();
  EXPECT_NE(second.err().find(s.db), std::string::npos) << second.err();
  EXPECT_EQ(second.out(), "") << "it must not print the start-up line";
  // The owner is unharmed.
  http::BlockingClient api("127.0.0.1", s.adapterPort, kApiKey);
  EXPECT_EQ(api.request("GET", "/v1/devices").status, 200);
}

TEST(AdapterProcess, ExplainsBadArguments) {
  // Runs nuki-adapter with space-separated `args`: its exit code and all it printed.
  auto run = [](const std::string& args) {
    std::vector<std::string> argv = {NUKI_ADAPTER_BINARY};
    std::istringstream words(args);
    for (std::string w; words >> w;)
      argv.push_back(w);
    scenarios::ChildProcess p;
    p.spawn(argv, scenarios::ChildProcess::Stderr::kCapture);
    // Bounded: a binary that wrongly starts serving must not hang the suite.
    auto e = p.wait(std::chrono::seconds(10));
    EXPECT_TRUE(e && e->exited) << args << " did not exit by itself:\n" << p.err();
    return std::make_pair(e ? e->code : -1, p.out() + p.err());
  };
  auto help = run("--help");
  EXPECT_EQ(help.first, 0);
  for (const char* flag :
       {"--nuki-url", "--nuki-token", "--listen", "--api-key", "--webhook-url", "--webhook-secret",
        "--db", "--public-url", "--poll-seconds", "--ca-file"})
    EXPECT_NE(help.second.find(flag), std::string::npos) << flag;
  ::unsetenv("NUKI_TOKEN");
  ::unsetenv("NUKIHIL_API_KEY");
  ::unsetenv("NUKIHIL_WEBHOOK_SECRET");
  const std::string base = "--webhook-url http://127.0.0.1:1/x --db /tmp/nukihil-never.db ";
  auto noToken =
      run(base + "--api-key key-0123456789abcdef --webhook-secret " + std::string(kSecret));
  EXPECT_NE(noToken.first, 0);
  EXPECT_NE(noToken.second.find("NUKI_TOKEN"), std::string::npos) << noToken.second;
  auto badSecret =
      run(base + "--nuki-token t --api-key key-0123456789abcdef --webhook-secret nope");
  EXPECT_NE(badSecret.first, 0);
  EXPECT_NE(badSecret.second.find("whsec_"), std::string::npos) << badSecret.second;
  auto shortKey =
      run(base + "--nuki-token t --api-key short --webhook-secret " + std::string(kSecret));
  EXPECT_NE(shortKey.first, 0);
  auto badUrl =
      run("--webhook-url nowhere --db /tmp/x.db --nuki-token t --api-key key-0123456789abcdef "
          "--webhook-secret " +
          std::string(kSecret));
  EXPECT_NE(badUrl.first, 0);
  EXPECT_NE(badUrl.second.find("--webhook-url"), std::string::npos) << badUrl.second;
  // Secrets never appear in what it prints.
  auto leaked = run(base + "--nuki-token SECRET-TOKEN-XYZ --api-key short --webhook-secret " +
                    std::string(kSecret));
  EXPECT_EQ(leaked.second.find("SECRET-TOKEN-XYZ"), std::string::npos);
}

}  // namespace
}  // namespace nukihil::test
