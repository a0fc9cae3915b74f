// Test support over scenarios::EmbeddedWorld: nukisim, the adapter and a webhook recorder on
// one virtual clock over loopback, with blocking clients for the control plane, the Nuki API
// and the adapter's /v1 API, and helpers that assert as they go.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "scenarios/embedded_world.h"
#include "tests/support/sim_harness.h"

namespace nukihil::test {

using PlatformWebhook = scenarios::RecordedWebhook;

class Embedded {
 public:
  using Options = scenarios::EmbeddedWorld::Options;
  Embedded() : Embedded(Options{}) {}
  explicit Embedded(Options options);

  TestClient& sim() { return *simAdmin_; }  // control plane, admin token
  TestClient& nuki() { return *nukiApi_; }  // Nuki API with the account's token
  int64_t accountId() const { return world_->accountId(); }
  uint64_t addLock(const nlohmann::json& extra = nlohmann::json::object());
  void advance(int64_t seconds) { world_->advance(seconds); }

  void startAdapter();
  void killAdapter();
  TestClient& api() { return *adapterApi_; }
  uint16_t adapterPort() const { return world_->adapterPort(); }
  nlohmann::json act(const std::string& deviceId, const std::string& trait,
                     const std::string& action, const nlohmann::json& parameters,
                     int expectStatus = 202);
  nlohmann::json actionStatus(const std::string& actionId);

  std::vector<PlatformWebhook> webhooks() { return world_->webhooks(); }
  // One device's webhooks, de-duplicated by webhook id, in order of first arrival.
  std::vector<PlatformWebhook> deviceWebhooks(const std::string& deviceId);
  // The device's webhooks after the first `skip` (7: its discovery), described.
  std::vector<std::string> deviceSequence(const std::string& deviceId, size_t skip = 7);
  // The value of the device's last pinCodeCredentials SetState (null if none yet).
  nlohmann::json lastPinCodes(const std::string& deviceId);
  void setReceiverStatus(int status) { world_->setReceiverStatus(status); }
  void clearWebhooks() { world_->clearWebhooks(); }
  scenarios::EmbeddedWorld& world() { return *world_; }

 private:
  std::unique_ptr<scenarios::EmbeddedWorld> world_;
  std::unique_ptr<TestClient> simAdmin_, nukiApi_, adapterApi_;
};

// Compact rendering of a device's webhook sequence for assertions and failure messages:
// "QueueAction setLocked", "UpdateAction PENDING", "SetState LOCK.isLocked=true @act", …
std::vector<std::string> describe(const std::vector<PlatformWebhook>& hooks);

}  // namespace nukihil::test
