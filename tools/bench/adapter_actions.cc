// bench-adapter-actions: lock actions per second through the adapter to nukisim over loopback,
// end to end — from POST /v1/devices/{id}/actions to the RESOLVED webhook at the platform's
// receiver — with the outbox durable (SQLite WAL) and every webhook signed. Embedded mode: one
// process, one virtual clock, real HTTP on loopback between simulator, adapter and receiver.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "runtime/blocking_client.h"
#include "scenarios/embedded_world.h"

using namespace nukihil;
using nlohmann::json;

int main(int argc, char** argv) {
  CLI::App app{"Lock actions per second through nuki-adapter to nukisim over loopback, end to end "
               "(submit → RESOLVED webhook delivered), embedded on one virtual clock.",
               "bench-adapter-actions"};
  int locks = 100, actions = 20000, clients = 8;
  double target = 2000;
  std::string db;
  app.add_option("--locks", locks, "locks in the fleet")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--actions", actions, "lock/unlock actions in all")->check(CLI::Range(1, 10000000))->capture_default_str();
  app.add_option("--clients", clients, "concurrent HTTP clients submitting")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--target", target, "actions per second to pass")->capture_default_str();
  app.add_option("--db", db, "adapter database file (default: a temporary file)");
  CLI11_PARSE(app, argc, argv);

  scenarios::EmbeddedWorld::Options options;
  options.dbPath = db;
  scenarios::EmbeddedWorld world(options);
  http::BlockingClient admin("127.0.0.1", world.simPort(), world.simAdminToken());
  std::vector<std::string> devices;
  for (int i = 0; i < locks; ++i) {
    auto r = admin.request("POST", "/sim/v1/smartlocks",
                           json{{"accountId", world.accountId()}, {"model", i % 2 ? "3.0" : "3.0 Pro"}}.dump());
    if (r.status != 201) {
      std::cerr << "cannot create a lock: " << r.status << " " << r.body << "\n";
      return 2;
    }
    devices.push_back(std::to_string(json::parse(r.body)["smartlockId"].get<uint64_t>()));
  }
  world.startAdapter();
  world.advance(0);
  world.clearWebhooks();

  const auto start = std::chrono::steady_clock::now();
  std::atomic<int> next{0}, refused{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      http::BlockingClient api("127.0.0.1", world.adapterPort(), scenarios::EmbeddedWorld::apiKey());
      for (int i = next++; i < actions; i = next++) {
        const std::string& device = devices[size_t(i) % devices.size()];
        const bool lock = (i / int(devices.size())) % 2 == 0;
        auto r = api.request("POST", "/v1/devices/" + device + "/actions",
                             json{{"trait", "LOCK"}, {"action", "setLocked"}, {"parameters", {{"lock", lock}}}}.dump());
        if (r.status != 202) ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto submitted = std::chrono::steady_clock::now();
  // Let every motor run (3 virtual seconds each, one after another per lock).
  const int perLock = (actions + locks - 1) / locks;
  int resolved = 0;
  size_t seen = 0;
  for (int round = 0; round <= perLock + 2 && resolved < actions; ++round) {
    world.advance(3);
    for (const auto& w : world.webhooksFrom(seen)) {
      ++seen;
      if (w.type() == "deviceEventUpdateAction" && w.content().value("status", "") != "PENDING") ++resolved;
    }
  }
  const auto end = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(end - start).count();
  const double submitSeconds = std::chrono::duration<double>(submitted - start).count();
  size_t webhooks = world.webhooks().size();
  bool signaturesOk = true;
  for (const auto& w : world.webhooks()) signaturesOk = signaturesOk && w.signatureOk;
  const double rate = resolved / seconds;
  std::cout << "locks " << locks << ", actions " << actions << " (" << refused << " refused), clients "
            << clients << "\n"
            << "accepted (202) in " << submitSeconds << " s: " << actions / submitSeconds << " actions/s\n"
            << "resolved " << resolved << " in " << seconds << " s end to end: " << rate << " actions/s\n"
            << "platform webhooks delivered: " << webhooks << " (" << webhooks / seconds << "/s), signatures "
            << (signaturesOk ? "all valid" : "INVALID") << "\n"
            << (rate >= target && resolved == actions && signaturesOk ? "PASS" : "FAIL") << " (target "
            << target << " actions/s)\n";
  return rate >= target && resolved == actions && signaturesOk ? 0 : 1;
}
