// Test support: the embedded mode of DESIGN "Running modes" — nukisim, the adapter and a
// platform-webhook recorder in one process, on one virtual clock, talking HTTP over loopback,
// all on one io thread. Tests drive it like a user: the Nuki control plane, the adapter's
// /v1 API, the recorded webhooks; the adapter can be killed and started again on its database.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "runtime/clock.h"
#include "tests/support/sim_harness.h"

namespace nukihil::adapter {
class Adapter;
}

namespace nukihil::test {

struct PlatformWebhook {
  std::string id;     // webhook-id
  int64_t timestamp;  // webhook-timestamp
  bool signatureOk;   // webhook-signature verified against the secret and the clock
  nlohmann::json body;
  std::string type() const { return body.value("type", ""); }
  const nlohmann::json& content() const { return body.at("content"); }
};

class Embedded {
 public:
  struct Options {
    uint64_t seed = 7;
    bool nukiWebhooks = true;  // register the adapter's decentral webhook (else: polling only)
    int pollSeconds = 60;
  };
  Embedded();
  explicit Embedded(Options options);
  ~Embedded();

  // The Nuki side.
  TestClient& sim() { return *simAdmin_; }  // control plane, admin token
  TestClient& nuki() { return *nukiApi_; }  // Nuki API with the account's token
  int64_t accountId() const { return accountId_; }
  uint64_t addLock(const nlohmann::json& extra = nlohmann::json::object());
  // Runs every event due in the next `seconds` of virtual time, waiting for all HTTP in flight.
  void advance(int64_t seconds);

  // The adapter: start (discovers locks), kill (no clean shutdown), its API.
  void startAdapter();
  void killAdapter();
  TestClient& api() { return *adapterApi_; }
  uint16_t adapterPort() const { return adapterPort_; }
  nlohmann::json act(const std::string& deviceId, const std::string& trait,
                     const std::string& action, const nlohmann::json& parameters,
                     int expectStatus = 202);
  nlohmann::json actionStatus(const std::string& actionId);

  // The platform's receiver.
  std::vector<PlatformWebhook> webhooks();
  // Webhooks for one device, de-duplicated by webhook id, in order of first arrival.
  std::vector<PlatformWebhook> deviceWebhooks(const std::string& deviceId);
  void setReceiverStatus(int status);
  void clearWebhooks();

  template <class F>
  auto onLoop(F&& f) -> decltype(f()) {
    using R = decltype(f());
    std::packaged_task<R()> task(std::forward<F>(f));
    auto future = task.get_future();
    post([&task] { task(); });
    return future.get();
  }
  adapter::Adapter& adapter();

 private:
  void post(std::function<void()> f);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<TestClient> simAdmin_, nukiApi_, adapterApi_;
  int64_t accountId_ = 0;
  uint16_t adapterPort_ = 0;
};

// Compact rendering of a device's webhook sequence for assertions and failure messages:
// "QueueAction setLocked", "UpdateAction PENDING", "SetState LOCK.isLocked=true @act", …
std::vector<std::string> describe(const std::vector<PlatformWebhook>& hooks);

}  // namespace nukihil::test
