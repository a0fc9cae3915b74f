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
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "adapter/standard_webhooks.h"
#include "runtime/blocking_client.h"
#include "runtime/http_server.h"
#include "scenarios/embedded_world.h"

using namespace nukihil;
using nlohmann::json;
namespace asio = boost::asio;

namespace {

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kApiKey = "bench-api-key-0123456789";

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status;
      ::waitpid(pid, &status, 0);
    }
    if (out) ::fclose(out);
  }
};

// Starts `argv` with stdout on a pipe and reads its first line.
std::string spawn(Child& c, const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  c.pid = ::fork();
  if (c.pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::perror(args[0]);
    ::_exit(127);
  }
  ::close(fds[1]);
  c.out = ::fdopen(fds[0], "r");
  char line[8192];
  if (!std::fgets(line, sizeof line, c.out)) throw std::runtime_error(argv[0] + " printed nothing");
  return line;
}

uint16_t freePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// The platform's receiver: verifies every signature and counts settled actions.
class Receiver {
 public:
  Receiver() : secret_(*adapter::WebhookSecret::parse(kSecret)) {
    http::ServerOptions o;
    o.bodyLimit = 1 << 20;
    server_ = std::make_unique<http::HttpServer>(
        io_, o, [this](http::Request& req, http::Respond respond) {
          const auto ok =
              adapter::verifyWebhook(secret_, req.header("webhook-id").value_or(""),
                                     req.header("webhook-timestamp").value_or(""),
                                     req.header("webhook-signature").value_or(""), req.body, 0,
                                     INT64_MAX / 4) == adapter::VerifyResult::kOk;
          if (!ok) ++badSignatures;
          ++received;
          const auto j = json::parse(req.body, nullptr, false);
          if (j.is_object() && j.value("type", "") == "deviceEventUpdateAction") {
            std::lock_guard lock(mu_);
            const std::string id = j["content"].value("actionId", "");
            if (j["content"].value("status", "") == "PENDING") {
              if (pendingIds_.insert(id).second) ++pending;
            } else if (settledIds_.insert(id).second) {
              ++settled;
            }
          }
          respond(http::Response::empty(204));
        });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return server_->port(); }
  std::atomic<int> settled{0}, pending{0}, received{0}, badSignatures{0};

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  adapter::WebhookSecret secret_;
  std::unique_ptr<http::HttpServer> server_;
  std::mutex mu_;
  std::set<std::string> settledIds_, pendingIds_;
  std::thread thread_;
};

struct Result {
  double submitSeconds = 0, acceptedSeconds = 0, totalSeconds = 0;
  int settled = 0, refused = 0, webhooks = 0, badSignatures = 0;
};

// Submits `actions` lock/unlock actions from `clients` threads, then advances virtual time
// until every one is settled.
template <class Advance, class Settled, class Pending>
Result drive(uint16_t adapterPort, const std::string& apiKey,
             const std::vector<std::string>& devices, int actions, int clients, Advance advance,
             Settled settled, Pending pending) {
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
    std::set<std::string> settledIds;
    size_t seen = 0;
    r = drive(
        world.adapterPort(), scenarios::EmbeddedWorld::apiKey(), devices, actions, clients,
        [&](int s) { world.advance(s); },
        [&] {
          for (const auto& w : world.webhooksFrom(seen)) {
            ++seen;
            if (!w.signatureOk) ++r.badSignatures;
            if (w.type() == "deviceEventUpdateAction" &&
                w.content().value("status", "") != "PENDING")
              settledIds.insert(w.content().value("actionId", ""));
          }
          return int(settledIds.size());
        },
        [&, seenPending = size_t(0), n = 0]() mutable {
          for (const auto& w : world.webhooksFrom(seenPending)) {
            ++seenPending;
            n += w.type() == "deviceEventUpdateAction" &&
                 w.content().value("status", "") == "PENDING";
          }
          return n;
        });
    r.webhooks = int(world.webhookCount());
  } else {
    Receiver receiver;
    Child sim, adapterProcess;
    const auto banner =
        json::parse(spawn(sim, {nukisimPath, "--port", "0", "--seed", "1", "--admin-token",
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
    spawn(adapterProcess, {adapterPath, "--nuki-url", "http://127.0.0.1:" + std::to_string(simPort),
                           "--listen", std::to_string(adapterPort), "--webhook-url",
                           "http://127.0.0.1:" + std::to_string(receiver.port()) + "/platform",
                           "--db", db, "--public-url", url, "--poll-seconds", "3600"});
    http::BlockingClient api("127.0.0.1", adapterPort, kApiKey);
    for (int i = 0; i < 500; ++i) {  // discovery
      auto d = api.request("GET", "/v1/devices");
      if (d.status == 200 && json::parse(d.body).size() == size_t(locks)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int before = receiver.settled;
    r = drive(
        adapterPort, kApiKey, devices, actions, clients,
        [&](int s) {
          admin.request("POST", "/sim/v1/clock/advance", json{{"seconds", s}}.dump());
        },
        [&] { return receiver.settled - before; }, [&] { return int(receiver.pending); });
    r.webhooks = receiver.received;
    r.badSignatures = receiver.badSignatures;
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
