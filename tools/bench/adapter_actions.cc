// bench-adapter-actions: lock actions per second through the adapter to nukisim over loopback,
// end to end — from POST /v1/devices/{id}/actions to the RESOLVED webhook at the platform's
// receiver — with the outbox durable (SQLite WAL) and every webhook signed and verified.
//
// --mode processes (default): nukisim and nuki-adapter run as separate processes, started as a
//   user would, the receiver in this process; nukisim's clock is virtual and advanced through
//   its control plane.
// --mode embedded: simulator, adapter and receiver in this process on one thread and one
//   virtual clock (the harness the scenario runner uses).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/blocking_client.h"
#include "scenarios/child_process.h"
#include "scenarios/embedded_world.h"
#include "scenarios/webhook_recorder.h"

using namespace nukihil;
using nlohmann::json;
namespace asio = boost::asio;

namespace {

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kApiKey = "bench-api-key-0123456789";

uint16_t freePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// Counts, from the recorded platform webhooks, the actions reported PENDING and settled.
class Tally {
 public:
  explicit Tally(std::function<std::vector<scenarios::RecordedWebhook>(size_t)> source)
      : source_(std::move(source)) {}
  // Thread-safe: the driver's threads ask in turn.
  int pending() {
    std::lock_guard lock(mu_);
    update();
    return int(pending_.size());
  }
  int settled() {
    std::lock_guard lock(mu_);
    update();
    return int(settled_.size());
  }
  int badSignatures() {
    std::lock_guard lock(mu_);
    return badSignatures_;
  }

 private:
  void update() {
    for (const auto& w : source_(seen_)) {
      ++seen_;
      if (!w.signatureOk) ++badSignatures_;
      if (w.type() != "deviceEventUpdateAction") continue;
      const std::string id = w.content().value("actionId", "");
      (w.content().value("status", "") == "PENDING" ? pending_ : settled_).insert(id);
    }
  }
  std::function<std::vector<scenarios::RecordedWebhook>(size_t)> source_;
  std::mutex mu_;
  size_t seen_ = 0;
  int badSignatures_ = 0;
  std::set<std::string> pending_, settled_;
};

struct Result {
  double submitSeconds = 0, acceptedSeconds = 0, totalSeconds = 0;
  int settled = 0, refused = 0, webhooks = 0, badSignatures = 0;
};

// Submits `actions` lock/unlock actions from `clients` threads, then advances virtual time
// until every one is settled.
template <class Advance>
Result drive(uint16_t adapterPort, const std::string& apiKey,
             const std::vector<std::string>& devices, int actions, int clients, Advance advance,
             Tally& tally) {
  auto pending = [&] { return tally.pending(); };
  auto settled = [&] { return tally.settled(); };
  Result r;
  std::atomic<int> next{0}, refused{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      http::BlockingClient api("127.0.0.1", adapterPort, apiKey);
      for (int i = next++; i < actions; i = next++) {
        const std::string& device = devices[size_t(i) % devices.size()];
        const bool lock = (i / int(devices.size())) % 2 == 0;
        auto res = api.request(
            "POST", "/v1/devices/" + device + "/actions",
            json{{"trait", "LOCK"}, {"action", "setLocked"}, {"parameters", {{"lock", lock}}}}
                .dump());
        if (res.status != 202) ++refused;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  r.submitSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int expected = actions - refused;
  // Through the adapter to nukisim: every action answered 204 by Nuki Web and its PENDING
  // webhook delivered to the platform and verified. (The clock stands still: no lock moved.)
  auto wait = [](auto done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  wait([&] { return pending() >= expected; });
  r.acceptedSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Then the locks run: one action every 3 virtual seconds per lock, each reported by Nuki
  // webhooks (status, log, status) and settled by the adapter (SetState, RESOLVED).
  const int rounds = (actions + int(devices.size()) - 1) / int(devices.size()) + 3;
  for (int i = 0; i < rounds && settled() < expected; ++i)
    advance(3);
  wait([&] { return settled() >= expected; });
  r.totalSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.settled = settled();
  r.refused = refused;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Lock actions per second through nuki-adapter to nukisim over loopback, end to end "
      "(submit → RESOLVED webhook delivered and verified).",
      "bench-adapter-actions"};
  int locks = 200, actions = 20000, clients = 8;
  double target = 2000;
  std::string mode = "processes";
  const std::string here = std::filesystem::path(argv[0]).parent_path().string();
  std::string nukisimPath = here + "/nukisim", adapterPath = here + "/nuki-adapter";
  app.add_option(
         "--mode", mode,
         "processes: nukisim and nuki-adapter as processes; embedded: one process, one thread")
      ->check(CLI::IsMember({"processes", "embedded"}))
      ->capture_default_str();
  app.add_option("--locks", locks, "locks in the fleet")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--actions", actions, "lock/unlock actions in all")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--clients", clients, "concurrent HTTP clients submitting")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--target", target, "actions per second to pass")->capture_default_str();
  app.add_option("--nukisim", nukisimPath, "the nukisim binary")->capture_default_str();
  app.add_option("--nuki-adapter", adapterPath, "the nuki-adapter binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  Result r;
  if (mode == "embedded") {
    scenarios::EmbeddedWorld world(scenarios::EmbeddedWorld::Options{});
    http::BlockingClient admin("127.0.0.1", world.simPort(), world.simAdminToken());
    std::vector<std::string> devices;
    for (int i = 0; i < locks; ++i) {
      auto res = admin.request(
          "POST", "/sim/v1/smartlocks",
          json{{"accountId", world.accountId()}, {"model", i % 2 ? "3.0" : "3.0 Pro"}}.dump());
      devices.push_back(std::to_string(json::parse(res.body)["smartlockId"].get<uint64_t>()));
    }
    world.startAdapter();
    world.advance(0);
    world.clearWebhooks();
    Tally tally([&](size_t from) { return world.webhooksFrom(from); });
    r = drive(
        world.adapterPort(), scenarios::EmbeddedWorld::apiKey(), devices, actions, clients,
        [&](int s) { world.advance(s); }, tally);
    r.badSignatures = tally.badSignatures();
    r.webhooks = int(world.webhookCount());
  } else {
    // The platform's receiver, on a thread of its own (nukisim and the adapter are processes).
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    scenarios::WebhookRecorder receiver(io, kSecret, [] {
      return int64_t(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
    });
    std::thread receiverThread([&io] { io.run(); });
    scenarios::ChildProcess sim, adapterProcess;
    const auto banner =
        json::parse(sim.start({nukisimPath, "--port", "0", "--seed", "1", "--admin-token",
                               "bench-admin-token", "--clock", "virtual"}));
    const uint16_t simPort = uint16_t(std::stoi(banner["url"].get<std::string>().substr(17)));
    http::BlockingClient admin("127.0.0.1", simPort, "bench-admin-token");
    auto acc = json::parse(admin.request("POST", "/sim/v1/accounts", R"({"name":"Bench"})").body);
    std::vector<std::string> devices;
    for (int i = 0; i < locks; ++i) {
      auto res = admin.request(
          "POST", "/sim/v1/smartlocks",
          json{{"accountId", acc["accountId"]}, {"model", i % 2 ? "3.0" : "3.0 Pro"}}.dump());
      devices.push_back(std::to_string(json::parse(res.body)["smartlockId"].get<uint64_t>()));
    }
    const uint16_t adapterPort = freePort();
    const std::string db = (std::filesystem::temp_directory_path() /
                            ("bench-adapter-" + std::to_string(::getpid()) + ".db"))
                               .string();
    const std::string url = "http://127.0.0.1:" + std::to_string(adapterPort);
    ::setenv("NUKI_TOKEN", acc["apiToken"].get<std::string>().c_str(), 1);
    ::setenv("NUKIHIL_API_KEY", kApiKey, 1);
    ::setenv("NUKIHIL_WEBHOOK_SECRET", kSecret, 1);
    adapterProcess.start({adapterPath, "--nuki-url", "http://127.0.0.1:" + std::to_string(simPort),
                          "--listen", std::to_string(adapterPort), "--webhook-url", receiver.url(),
                          "--db", db, "--public-url", url, "--poll-seconds", "3600"});
    http::BlockingClient api("127.0.0.1", adapterPort, kApiKey);
    for (int i = 0; i < 500; ++i) {  // discovery
      auto d = api.request("GET", "/v1/devices");
      if (d.status == 200 && json::parse(d.body).size() == size_t(locks)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    receiver.clear();  // discovery
    Tally tally([&](size_t from) { return receiver.webhooks(from); });
    r = drive(
        adapterPort, kApiKey, devices, actions, clients,
        [&](int s) {
          admin.request("POST", "/sim/v1/clock/advance", json{{"seconds", s}}.dump());
        },
        tally);
    r.webhooks = int(receiver.count());
    r.badSignatures = tally.badSignatures();
    adapterProcess.stop(SIGTERM);
    sim.stop(SIGTERM);
    asio::post(io, [&] { receiver.stop(); });
    guard.reset();
    receiverThread.join();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(db + suffix);
  }
  // The target is for actions through the adapter to nukisim (accepted by Nuki Web and
  // reported PENDING to the platform); the full cycle with the locks running is shown beside it.
  const double rate = actions / r.acceptedSeconds;
  const double fullCycle = r.settled / r.totalSeconds;
  const bool pass =
      rate >= target && r.settled == actions && r.refused == 0 && r.badSignatures == 0;
  std::cout << "mode " << mode << ": " << locks << " locks, " << actions << " actions, " << clients
            << " clients\n"
            << "accepted (202):                          " << actions / r.submitSeconds
            << " actions/s (" << r.submitSeconds << " s)\n"
            << "through the adapter to nukisim, end to end (POST /v1 → Nuki 204 → PENDING webhook "
               "delivered): "
            << rate << " actions/s (" << r.acceptedSeconds << " s)\n"
            << "full cycle with the locks running (… → RESOLVED delivered): " << fullCycle
            << " actions/s (" << r.settled << " settled in " << r.totalSeconds << " s)\n"
            << "platform webhooks received: " << r.webhooks << " (" << r.webhooks / r.totalSeconds
            << "/s), bad signatures: " << r.badSignatures << ", refused: " << r.refused << "\n"
            << (pass ? "PASS" : "FAIL") << ": " << rate << " actions/s through to nukisim (target "
            << target << ")\n";
  return pass ? 0 : 1;
}
