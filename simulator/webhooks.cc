#include "simulator/webhooks.h"

#include <unordered_map>

#include "runtime/backoff.h"
#include "runtime/crypto.h"
#include "runtime/log.h"
#include "simulator/nuki_json.h"

namespace nukihil::sim {

namespace {

struct FeatureName {
  WebhookFeature bit;
  const char* name;
};
constexpr FeatureName kFeatures[] = {
    {kFeatureStatus, "DEVICE_STATUS"}, {kFeatureMasterData, "DEVICE_MASTERDATA"},
    {kFeatureConfig, "DEVICE_CONFIG"}, {kFeatureLogs, "DEVICE_LOGS"},
    {kFeatureAuths, "DEVICE_AUTHS"},   {kFeatureAccountUser, "ACCOUNT_USER"},
};

bool loopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

Webhooks::Webhooks(World& world, Scheduler& scheduler, Random& random, Journal& journal,
                   http::Transport* client, Options options)
    : world_(world),
      scheduler_(scheduler),
      random_(random),
      journal_(journal),
      client_(client),
      options_(options) {}

std::vector<std::string> Webhooks::featureNames(uint8_t features) {
  std::vector<std::string> out;
  for (const auto& f : kFeatures)
    if (features & f.bit) out.emplace_back(f.name);
  return out;
}

std::string Webhooks::signature(const std::string& secret, const std::string& body) {
  return crypto::toHex(crypto::hmacSha256(secret, body));
}

std::pair<const Webhook*, Error> Webhooks::add(uint32_t account, const std::string& url,
                                               const std::vector<std::string>& features) {
  auto parsed = http::Url::parse(url);
  // (decision) plain http is allowed for loopback targets; real Nuki requires https.
  if (!parsed || (!parsed->tls && !loopbackHost(parsed->host)))
    return {nullptr, Error::badParam("webhookUrl", url)};
  if (features.empty()) return {nullptr, Error::badParam("webhookFeatures", "[]")};
  uint8_t bits = 0;
  for (const auto& name : features) {
    uint8_t bit = 0;
    for (const auto& f : kFeatures)
      if (name == f.name) bit = f.bit;
    if (bit == 0 || (bits & bit)) return {nullptr, Error::badParam("webhookFeatures", name)};
    bits |= bit;
  }
  Webhook h;
  do
    h.id = int32_t(random_.between(10000000, 99999999));
  while (hooks_.count(h.id));
  h.account = account;
  h.url = url;
  h.secret = random_.hex(40);
  h.features = bits;
  auto [it, _] = hooks_.emplace(h.id, std::move(h));
  if (listening_.size() <= account) listening_.resize(account + 1, 0);
  ++listening_[account];
  return {&it->second, Error::none()};
}

Error Webhooks::remove(uint32_t account, int64_t id) {
  auto it = hooks_.find(int32_t(id));
  if (it == hooks_.end() || id != it->first) return Error::make(404, "NOT_FOUND", "Not found");
  if (it->second.account != account)
    return Error::make(403, "FORBIDDEN", "the webhook belongs to another account");
  hooks_.erase(it);
  --listening_[account];
  return Error::none();
}

std::vector<const Webhook*> Webhooks::forAccount(uint32_t account) const {
  std::vector<const Webhook*> out;
  for (const auto& [id, h] : hooks_)
    if (h.account == account) out.push_back(&h);
  return out;
}

size_t Webhooks::pendingDeliveries() const {
  size_t n = 0;
  for (const auto& [id, h] : hooks_)
    for (const auto& [lock, s] : h.streams)
      n += s.queue.size();
  return n;
}

bool Webhooks::listening(const Lock& lock) const {
  return lock.account < listening_.size() && listening_[lock.account] > 0;
}

void Webhooks::deviceStatus(const Lock& lock) {
  emit(lock, kFeatureStatus, "DEVICE_STATUS", wire::deviceStatusBody(lock));
}
void Webhooks::deviceLog(const Lock& lock, const LogEntry& entry) {
  emit(lock, kFeatureLogs, "DEVICE_LOGS", wire::deviceLogBody(lock, entry));
}
void Webhooks::deviceAuth(const Lock& lock, const Auth& auth, bool deleted) {
  emit(lock, kFeatureAuths, "DEVICE_AUTHS", wire::deviceAuthBody(world_, lock, auth, deleted));
}
void Webhooks::masterData(const Lock& lock) {
  emit(lock, kFeatureMasterData, "DEVICE_MASTERDATA", wire::masterDataBody(world_, lock));
}

void Webhooks::emit(const Lock& lock, WebhookFeature feature, const char* name,
                    const std::string& body) {
  for (auto& [id, h] : hooks_) {
    if (h.account != lock.account || !(h.features & feature)) continue;
    auto& s = h.streams[lock.smartlockId];
    s.queue.push_back(PendingDelivery{name, body});
    if (!s.inFlight && !s.scheduled) {
      s.scheduled = true;
      s.nextAttemptMs = world_.nowMs();
      scheduler_.schedule(world_.now(), EventKind::kWebhookSend, uint32_t(id), lock.smartlockId);
    }
  }
}

void Webhooks::send(const Event& e) {
  auto hit = hooks_.find(int32_t(e.target));
  if (hit == hooks_.end()) return;
  Webhook& h = hit->second;
  auto sit = h.streams.find(e.arg);
  if (sit == h.streams.end()) return;
  WebhookStream& s = sit->second;
  s.scheduled = false;
  if (s.inFlight) return;
  if (s.queue.empty()) {
    h.streams.erase(sit);
    return;
  }
  const PendingDelivery& d = s.queue.front();
  s.inFlight = true;
  const uint64_t attemptSeq = scheduler_.nextSeq();
  JournalEntry j;
  j.atMs = world_.nowMs();
  j.kind = JournalEntry::kWebhook;
  j.method = "POST";
  j.path = h.url;
  j.webhookId = h.id;
  j.smartlockId = e.arg;
  j.feature = d.feature;
  j.attempt = s.attempts + 1;
  const uint64_t journalSeq = journal_.append(std::move(j)).seq;
  if (!client_) {
    http::ClientResponse r;
    r.error = "no HTTP client";
    completed(h.id, e.arg, attemptSeq, journalSeq, r);
    return;
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = h.url;
  req.body = d.body;
  req.contentType = "application/json; charset=UTF-8";
  req.headers.emplace_back("X-Nuki-Signature-SHA256", signature(h.secret, d.body));
  req.headers.emplace_back("X-Nuki-Signature", crypto::toHex(crypto::hmacSha1(h.secret, d.body)));
  req.timeout = options_.timeout;
  client_->send(std::move(req), [this, alive = std::weak_ptr<bool>(alive_), hookId = h.id,
                                 lock = e.arg, attemptSeq, journalSeq](http::ClientResponse r) {
    if (alive.expired()) return;
    completed(hookId, lock, attemptSeq, journalSeq, r);
  });
}

void Webhooks::completed(int32_t hookId, uint64_t smartlockId, uint64_t attemptSeq,
                         uint64_t journalSeq, const http::ClientResponse& r) {
  const bool ok = r.ok() && r.status >= 200 && r.status < 300;
  if (JournalEntry* j = journal_.find(journalSeq)) {
    j->status = r.status;
    j->error = r.ok() ? "" : r.error;
  }
  auto hit = hooks_.find(hookId);
  if (hit == hooks_.end()) return;
  auto sit = hit->second.streams.find(smartlockId);
  if (sit == hit->second.streams.end()) return;
  WebhookStream& s = sit->second;
  s.inFlight = false;
  Time next = world_.now();
  if (ok) {
    if (!s.queue.empty()) s.queue.pop_front();
    s.attempts = 0;
    if (s.queue.empty()) {
      hit->second.streams.erase(sit);
      return;
    }
  } else {
    ++s.attempts;
    const Duration backoff = exponentialBackoff(options_.firstRetry, options_.maxRetry, s.attempts);
    next += backoff;
    if (log::enabled(log::Level::kInfo))
      log::info("webhook " + std::to_string(hookId) + " delivery failed (" +
                (r.ok() ? "HTTP " + std::to_string(r.status) : r.error) + "), retry in " +
                std::to_string(backoff.count() / 1000) + " s");
  }
  s.scheduled = true;
  s.nextAttemptMs = millisOf(next);
  scheduler_.schedule(next, EventKind::kWebhookSend, uint32_t(hookId), smartlockId, attemptSeq);
}

// ---- Snapshot

void Webhooks::encode(nlohmann::json& j) const {
  using nlohmann::json;
  json hooks = json::array();
  for (const auto& [id, h] : hooks_) {
    json streams = json::array();
    for (const auto& [lock, s] : h.streams) {
      json queue = json::array();
      for (const auto& d : s.queue)
        queue.push_back({d.feature, d.body});
      streams.push_back({{"smartlockId", lock},
                         {"attempts", s.attempts},
                         {"inFlight", s.inFlight},
                         {"scheduled", s.scheduled},
                         {"nextAttemptMs", s.nextAttemptMs},
                         {"queue", std::move(queue)}});
    }
    hooks.push_back({{"id", h.id},
                     {"account", h.account},
                     {"url", h.url},
                     {"secret", h.secret},
                     {"features", h.features},
                     {"streams", std::move(streams)}});
  }
  j["webhooks"] = std::move(hooks);
}

snapshot::Checked<Webhooks::Decoded> Webhooks::decode(const snapshot::In& root,
                                                      const World::Decoded& world) {
  using snapshot::In;
  using snapshot::kLatestScheduledMs;
  constexpr size_t kMaxBody = 1 << 20;
  return snapshot::check([&] {
    Decoded d;
    // Each lock's account by its id, for the webhook streams below (one lookup each, not a scan
    // of the whole fleet per stream).
    std::unordered_multimap<uint64_t, uint32_t> accountOfLock;
    accountOfLock.reserve(world.locks.size());
    for (const auto& l : world.locks)
      accountOfLock.emplace(l.smartlockId, l.account);
    const In hooks = root["webhooks"];
    for (size_t hi = 0, n = hooks.array(); hi < n; ++hi) {
      const In h = hooks[hi];
      Webhook hook;
      hook.id = int32_t(h["id"].integer(1, INT32_MAX));
      hook.account = uint32_t(h["account"].integer(0, int64_t(world.accounts.size()) - 1));
      hook.url = h["url"].string(2048);
      for (const unsigned char c : hook.url)
        if (c <= 0x20 || c == 0x7f) h["url"].fail("must be a URL without spaces or control bytes");
      if (hook.url.empty()) h["url"].fail("must be a URL");
      hook.secret = h["secret"].string(1024);
      hook.features = uint8_t(h["features"].integer(0, 63));
      const In streams = h["streams"];
      for (size_t si = 0, sn = streams.array(); si < sn; ++si) {
        const In st = streams[si];
        WebhookStream ws;
        ws.attempts = st["attempts"].u32();
        ws.inFlight = st["inFlight"].boolean();
        ws.scheduled = st["scheduled"].boolean();
        ws.nextAttemptMs = st["nextAttemptMs"].integer(0, kLatestScheduledMs);
        const In queue = st["queue"];
        for (size_t q = 0, qn = queue.array(); q < qn; ++q) {
          if (queue[q].array() != 2) queue[q].fail("must be [feature, body]");
          ws.queue.push_back(PendingDelivery{queue[q][0].string(64), queue[q][1].string(kMaxBody)});
        }
        const uint64_t lockId = st["smartlockId"].u64();
        bool known = false;
        for (auto [at, end] = accountOfLock.equal_range(lockId); at != end && !known; ++at)
          known = at->second == hook.account;
        if (!known) st["smartlockId"].fail("no lock of the webhook's account has this id");
        if (!hook.streams.emplace(lockId, std::move(ws)).second)
          st["smartlockId"].fail("a second stream for this lock");
      }
      const int32_t id = hook.id;
      if (!d.hooks.emplace(id, std::move(hook)).second) h["id"].fail("another webhook has this id");
    }
    return d;
  });
}

void Webhooks::adopt(Decoded decoded, Time now) {
  hooks_ = std::move(decoded.hooks);
  newEpoch();
  listening_.clear();
  for (const auto& [id, h] : hooks_) {
    if (listening_.size() <= h.account) listening_.resize(h.account + 1, 0);
    ++listening_[h.account];
  }
  // A delivery that was in flight when the snapshot was taken goes out again.
  for (auto& [id, h] : hooks_)
    for (auto& [lock, s] : h.streams)
      if (s.inFlight) {
        s.inFlight = false;
        s.scheduled = true;
        scheduler_.schedule(now, EventKind::kWebhookSend, uint32_t(id), lock);
      }
}

}  // namespace nukihil::sim
