// nukisim as a library: the world, its scheduled events, Nuki webhooks, faults and journal,
// and the HTTP entry point serving both the Nuki Web API (SPEC §2) and the control plane
// (SPEC §4). Everything runs on one thread: the one that runs the clock and the io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/clock.h"
#include "runtime/http.h"
#include "runtime/random.h"
#include "runtime/transport.h"
#include "simulator/faults.h"
#include "simulator/journal.h"
#include "simulator/scheduler.h"
#include "simulator/webhooks.h"
#include "simulator/world.h"

namespace nukihil::sim {

struct SimulatorOptions {
  uint64_t seed = 1;
  std::string adminToken;  // empty: a random one (see adminToken())
  LockSettings lockDefaults;
  Webhooks::Options webhooks;
  size_t journalLimit = 100000;
  size_t maxLogsPerLock = 1000;
  size_t apiBodyLimit = 64 * 1024;
  size_t snapshotBodyLimit = size_t(1) << 30;
  // Runs `f` after a real-time delay (latency faults are a transport matter, so real time).
  // Unset: latency faults answer at once.
  std::function<void(std::chrono::milliseconds, std::function<void()>)> realDelay;
  // One line per request on stderr, with its real-time duration: written by the HTTP server
  // (sim::Server passes it on as http::ServerOptions::logRequests), which owns the wall clock.
  bool logRequests = false;
  // Serves the dashboard at /sim/ui (nukisim --ui; simulator/ui.cc).
  bool ui = false;
};

class Simulator {
 public:
  // `client` delivers webhooks (may be null: deliveries then fail and are retried).
  Simulator(Clock& clock, http::Transport* client, SimulatorOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // The HTTP entry point for both APIs.
  void handle(http::Request& req, http::Respond respond);
  // For the server: its own 400/413 answers in the right shape for the target.
  http::Response transportError(int status, std::string_view target, std::string_view why) const;
  // Decided from the head, before any body byte is read: the control plane takes large
  // bodies (fleets, snapshots) only with the admin token; without it the answer is a 401 at
  // once, so that no client without the token can make the simulator buffer a large body.
  http::Admission admit(const http::RequestHead& head) const;
  bool isAdmin(std::string_view authorization) const;
  // The dashboard's sessions: signing in with the admin token gives an id for an HttpOnly
  // cookie, which then stands for the token on /sim/v1 (with the header X-Nukisim-UI). At most
  // 64 are held; the oldest is signed out first. Ids come from the system's generator, never
  // from the seed.
  std::string startUiSession();
  void endUiSession(std::string_view cookieHeader);
  bool uiSignedIn(std::string_view cookieHeader) const;

  Clock& clock() { return clock_; }
  World& world() { return world_; }
  Webhooks& webhooks() { return webhooks_; }
  Journal& journal() { return journal_; }
  Faults& faults() { return faults_; }
  Scheduler& scheduler() { return scheduler_; }
  Random& random() { return random_; }
  const SimulatorOptions& options() const { return options_; }
  const std::string& adminToken() const { return adminToken_; }
  uint64_t seed() const { return options_.seed; }

  // Empties the world (accounts, locks, webhooks, faults, events, journal) and reseeds.
  void reset();
  // The whole world as JSON, and back (simulator/snapshot.cc). Restoring and going on gives
  // the same future as never having taken the snapshot. A damaged snapshot is refused (400
  // BAD_SNAPSHOT naming the JSON path) and changes nothing; 409 during an advance.
  nlohmann::json snapshot() const;
  Error restore(const nlohmann::json& snapshot);
  // Builds accounts, locks and codes from a fleet description (README: fleet files;
  // simulator/fleet_file.cc). All or nothing.
  Error loadFleet(const nlohmann::json& fleet);

  struct Impl;

 private:
  Error loadFleetChecked(const nlohmann::json& fleet);
  void dispatch(http::Request& req, http::Respond respond);
  Clock& clock_;
  SimulatorOptions options_;
  std::string adminToken_;
  Random random_;
  Journal journal_;
  Faults faults_;
  Scheduler scheduler_;
  World world_;
  Webhooks webhooks_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nukihil::sim
