// The embedded running mode (DESIGN "Running modes"): nukisim (sim::Server), the adapter
// (adapter::Service) — each assembled as its tool ships it — and a platform webhook recorder in
// one process, on one virtual clock, talking HTTP over loopback (or, with Transport::kMemory,
// on an in-memory network that still serialises and parses every message), all on one io
// thread of their own. Drivers (scenario runners, benchmarks, tests) call it from another
// thread: the Nuki control plane and API and the adapter's /v1 API over HTTP (client()), the
// recorder's webhooks through webhooks(). The adapter can be killed and started again on its
// database.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/blocking_client.h"
#include "runtime/clock.h"
#include "runtime/run_on.h"
#include "scenarios/webhook_recorder.h"
#include "simulator/journal.h"

namespace nukihil::adapter {
class Adapter;
}
namespace nukihil::sim {
class Simulator;
}

namespace nukihil::scenarios {

class EmbeddedWorld {
 public:
  struct Options {
    uint64_t seed = 7;                         // the simulator's
    Time start = VirtualClock::kDefaultStart;  // where the virtual clock starts
    // The adapter's random numbers (outbox ids, jitter), one generator for the world's life:
    // an adapter started again goes on drawing from it.
    uint64_t adapterSeed = 1;
    bool nukiWebhooks = true;  // the adapter registers its decentral webhook (else: polling)
    int pollSeconds = 60;
    std::string dbPath;    // empty: a temporary file, removed at the end
    bool verbose = false;  // the adapter logs its requests
    // A fleet (nukisim's fleet-file format) to load instead of an empty account "Embedded":
    // its first account is the adapter's. The constructor throws std::invalid_argument with
    // nukisim's message if the fleet is refused.
    nlohmann::json fleet;
    // How long the adapter's server keeps an idle connection (real time): short in the tests
    // of what a real pause does to the virtual-time trace.
    std::chrono::milliseconds adapterIdleTimeout{60000};
    // Faults between the adapter and the recorder (the harness's own tests).
    WebhookRecorder::Tamper tamper;
    // How nukisim, the adapter and the recorder reach each other: loopback TCP, or an
    // http::MemoryNetwork of the world's (their TCP ports stay open and served either way).
    // The same seed gives the same trace on both (DESIGN "Transport").
    enum class Transport { kLoopback, kMemory };
    Transport transport = Transport::kLoopback;
  };
  explicit EmbeddedWorld(Options options);
  ~EmbeddedWorld();
  EmbeddedWorld(const EmbeddedWorld&) = delete;
  EmbeddedWorld& operator=(const EmbeddedWorld&) = delete;

  uint16_t simPort() const;
  const std::string& simAdminToken() const;
  // The Nuki account whose locks the adapter serves; its token is the adapter's.
  int64_t accountId() const { return accountId_; }
  const std::string& nukiToken() const { return nukiToken_; }
  static const char* apiKey();
  static const char* webhookSecret();

  // Starts the adapter (discovery included) and runs the world to quiescence at this instant;
  // throws std::runtime_error if the adapter could not start. An adapter whose start-up calls
  // failed and wait for a retry gets ready later, as the clock moves on.
  void startAdapter();
  // Like kill -9: nothing is flushed or shut down in order; the database file stays.
  void killAdapter();
  // Graceful: stops accepting, lets answers in progress finish, then shuts the adapter down.
  void stopAdapter();
  uint16_t adapterPort() const { return adapterPort_; }

  // A driver's client of one of the world's servers (simPort(), adapterPort()) on the world's
  // transport: a BlockingClient on loopback, an http::MemoryRequester on memory. Use it from
  // the driver's thread, never inside onLoop(); destroy it before the world.
  std::unique_ptr<http::Requester> client(uint16_t port, std::string token = {});

  // Moves virtual time on by `seconds`, running every due event and waiting for all HTTP in
  // flight (the same as POST /sim/v1/clock/advance, without HTTP).
  void advance(int64_t seconds);
  void advanceTo(Time target);  // no earlier than now
  Time now();

  // Kills and starts the adapter again on the world's thread, at the current virtual instant:
  // the clock does not move on until the new adapter has sent its start-up calls (and waits
  // for those, as for any call in flight). `during`: "" (now),
  // "nextNukiCall" (when the adapter's next Nuki Web request has been handled by nukisim, its
  // answer lost) or "nextWebhook" (when the receiver has taken the adapter's next webhook, its
  // answer lost). The kill waits for the answers the adapter is writing (the driver's trait
  // call that caused the webhook, say), and the cut exchange is closed only after it.
  // `graceful` (restartAdapter kill:false): a stop rather than a kill (between steps only).
  // Arming a restart drops one armed earlier that has not landed.
  void restartAdapter(const std::string& during = {}, bool graceful = false);
  struct Restart {
    Time at{};
    uint64_t cutSeq = 0;    // journal seq of the Nuki call the kill cut short (0: none)
    uint64_t afterSeq = 0;  // the first journal seq served after the kill
    bool done = false;
    std::string failed;  // why the new adapter could not start, if it could not
  };
  // The last restart armed or done.
  Restart lastRestart();
  // A header the driver's own Nuki API requests carry, so that they are not taken for the
  // adapter's.
  static constexpr const char* kHarnessHeader = "X-Nukihil-Harness";

  // nukisim's journal from `since` on, and the seq the next entry will get.
  std::vector<sim::JournalEntry> journal(uint64_t since);
  uint64_t journalNext();
  // The adapter's undelivered webhooks for a device: (webhook-id, body). Empty while it is down.
  std::vector<std::pair<std::string, std::string>> outboxPending(const std::string& deviceId);
  // Every delivery attempt the receiver saw (refused ones too).
  std::vector<RecordedWebhook> webhookAttempts();

  // The account's locks in the order they were made: (name, smartlockId).
  std::vector<std::pair<std::string, uint64_t>> locks();

  std::vector<RecordedWebhook> webhooks();
  // The recorded webhooks from position `from` on (for drivers that poll as they go).
  std::vector<RecordedWebhook> webhooksFrom(size_t from);
  size_t webhookCount();
  void setReceiverStatus(int status);
  void clearWebhooks();

  // Runs `f` on the world's thread and waits: the only safe way to touch its objects
  // (adapter() and simulator() only inside it; adapter() not while the adapter is down).
  template <class F>
  auto onLoop(F&& f) -> decltype(f()) {
    return runOn([this](std::function<void()> g) { post(std::move(g)); }, std::forward<F>(f));
  }
  adapter::Adapter& adapter();
  sim::Simulator& simulator();
  // Connections open to the adapter's server now (0 without an adapter).
  size_t adapterConnections();

 private:
  void post(std::function<void()> f);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t accountId_ = 0;
  std::string nukiToken_;
  uint16_t adapterPort_ = 0;
};

}  // namespace nukihil::scenarios
