// The embedded running mode (DESIGN "Running modes"): nukisim (sim::Server), the adapter
// (adapter::Service) — each assembled as its tool ships it — and a platform webhook recorder in
// one process, on one virtual clock, talking HTTP over loopback, all on one io thread of their
// own. Drivers (scenario runners, benchmarks, tests) call it from another thread: the Nuki
// control plane and API and the adapter's /v1 API over HTTP, the recorder's webhooks through
// webhooks(). The adapter can be killed and started again on its database.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/clock.h"
#include "runtime/run_on.h"
#include "scenarios/webhook_recorder.h"

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
    std::string dbPath;  // empty: a temporary file, removed at the end
  };
  explicit EmbeddedWorld(Options options);
  ~EmbeddedWorld();
  EmbeddedWorld(const EmbeddedWorld&) = delete;
  EmbeddedWorld& operator=(const EmbeddedWorld&) = delete;

  uint16_t simPort() const;
  const std::string& simAdminToken() const;
  // A Nuki account made at start; its token is the adapter's.
  int64_t accountId() const { return accountId_; }
  const std::string& nukiToken() const { return nukiToken_; }
  static const char* apiKey();
  static const char* webhookSecret();

  // Starts the adapter (discovery included) and waits until it is ready; throws
  // std::runtime_error if it is not.
  void startAdapter();
  // Like kill -9: nothing is flushed or shut down in order; the database file stays.
  void killAdapter();
  bool adapterRunning() const;
  uint16_t adapterPort() const { return adapterPort_; }

  // Moves virtual time on by `seconds`, running every due event and waiting for all HTTP in
  // flight (the same as POST /sim/v1/clock/advance, without HTTP).
  void advance(int64_t seconds);
  Time now();

  std::vector<RecordedWebhook> webhooks();
  // The recorded webhooks from position `from` on (for drivers that poll as they go).
  std::vector<RecordedWebhook> webhooksFrom(size_t from);
  size_t webhookCount();
  void setReceiverStatus(int status);
  void clearWebhooks();

  // Runs `f` on the world's thread and waits: the only safe way to touch its objects.
  template <class F>
  auto onLoop(F&& f) -> decltype(f()) {
    return runOn([this](std::function<void()> g) { post(std::move(g)); }, std::forward<F>(f));
  }
  adapter::Adapter& adapter();
  sim::Simulator& simulator();

 private:
  void post(std::function<void()> f);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t accountId_ = 0;
  std::string nukiToken_;
  uint16_t adapterPort_ = 0;
};

}  // namespace nukihil::scenarios
