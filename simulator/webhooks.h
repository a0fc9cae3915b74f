// Nuki decentral webhooks: registrations per account, and delivery of what locks report as
// signed POSTs. One lock's events reach a webhook strictly in order: a failing delivery holds
// back that lock's later ones and is retried with backoff on virtual time.
//
// Determinism: deliveries start only from scheduled events, and a delivery's outcome is
// turned back into an event whose tie-break is the attempt's own sequence number, so the order
// in which concurrent responses happen to arrive never changes what happens next.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/transport.h"
#include "simulator/journal.h"
#include "simulator/scheduler.h"
#include "simulator/world.h"

namespace nukihil::sim {

enum WebhookFeature : uint8_t {
  kFeatureStatus = 1,
  kFeatureMasterData = 2,
  kFeatureConfig = 4,
  kFeatureLogs = 8,
  kFeatureAuths = 16,
  kFeatureAccountUser = 32,
};

struct PendingDelivery {
  std::string feature;
  std::string body;
};

struct WebhookStream {
  std::deque<PendingDelivery> queue;
  uint32_t attempts = 0;  // failed attempts of the head
  bool inFlight = false;
  bool scheduled = false;  // a send event is pending
  int64_t nextAttemptMs = 0;
};

struct Webhook {
  int32_t id = 0;
  uint32_t account = 0;
  std::string url;
  std::string secret;
  uint8_t features = 0;
  std::map<uint64_t, WebhookStream> streams;  // by smartlockId
};

class Webhooks : public WorldObserver {
 public:
  struct Options {
    std::chrono::milliseconds timeout{5000};  // real time, per attempt
    Duration firstRetry = std::chrono::seconds(5);
    Duration maxRetry = std::chrono::hours(1);
  };

  Webhooks(World& world, Scheduler& scheduler, Random& random, Journal& journal,
           http::Transport* client, Options options);

  // PUT /api/decentralWebhook. Returns the new webhook or an Error (400).
  std::pair<const Webhook*, Error> add(uint32_t account, const std::string& url,
                                       const std::vector<std::string>& features);
  Error remove(uint32_t account, int64_t id);
  std::vector<const Webhook*> forAccount(uint32_t account) const;
  const std::map<int32_t, Webhook>& all() const { return hooks_; }
  size_t pendingDeliveries() const;
  void clear() {
    hooks_.clear();
    listening_.clear();
    newEpoch();
  }

  // ---- Snapshot: every registration with its streams of undelivered events.
  struct Decoded {
    std::map<int32_t, Webhook> hooks;
  };
  // Writes "webhooks" into the snapshot object.
  void encode(nlohmann::json& snapshot) const;
  // Reads and checks a snapshot's "webhooks" against the world decoded from the same snapshot
  // (accounts, and the locks a stream is for); changes nothing.
  static snapshot::Checked<Decoded> decode(const snapshot::In& snapshot,
                                           const World::Decoded& world);
  // Replaces every registration by decoded ones; deliveries still in flight belong to the
  // world that is gone. Call after the scheduler's events were replaced: a delivery that was in
  // flight when the snapshot was taken is scheduled again, at `now`.
  void adopt(Decoded decoded, Time now);

  static std::vector<std::string> featureNames(uint8_t features);
  static std::string signature(const std::string& secret, const std::string& body);

  // WorldObserver
  bool listening(const Lock& lock) const override;
  void deviceStatus(const Lock& lock) override;
  void deviceLog(const Lock& lock, const LogEntry& entry) override;
  void deviceAuth(const Lock& lock, const Auth& auth, bool deleted) override;
  void masterData(const Lock& lock) override;

  // The scheduled kWebhookSend event.
  void send(const Event& e);

 private:
  void emit(const Lock& lock, WebhookFeature feature, const char* name, const std::string& body);
  void completed(int32_t hookId, uint64_t smartlockId, uint64_t attemptSeq, uint64_t journalSeq,
                 const http::ClientResponse& r);
  // Ends the current epoch: deliveries still in flight belong to a world that is gone (reset
  // or restored), and their completions must not touch the streams that replaced it, even
  // where hook and lock ids are the same again.
  void newEpoch() { alive_ = std::make_shared<bool>(true); }

  World& world_;
  Scheduler& scheduler_;
  Random& random_;
  Journal& journal_;
  http::Transport* client_;
  Options options_;
  std::map<int32_t, Webhook> hooks_;
  std::vector<uint32_t> listening_;  // per account: how many webhooks
  // Held weakly by every delivery in flight; replaced by newEpoch (and gone with this object).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nukihil::sim
