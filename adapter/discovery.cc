// Nuki Web → adapter, asked: the decentral webhook registration, discovery of the account's
// locks (R-DISCOVER) and polling, the fallback when webhooks are late or lost.
#include "adapter/adapter.h"

#include <set>

#include "adapter/adapter_internal.h"
#include "runtime/log.h"

namespace nukihil::adapter {

using nlohmann::json;

void Adapter::registerWebhook(std::function<void()> done) {
  if (options_.publicUrl.empty()) return done();
  std::string url = options_.publicUrl;
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  url += "/nuki/webhook";
  // Keep the registration of an earlier run of this database if Nuki Web still has it: events
  // Nuki Web could not deliver while the adapter was down are then delivered to it now, with
  // the secret it knows. Other registrations for this URL are removed; without one of ours, a
  // new one is made.
  nuki_.listWebhooks([this, url, done, alive = std::weak_ptr<bool>(alive_)](
                         const NukiResult& r, std::vector<std::pair<int64_t, std::string>> hooks) {
    if (alive.expired()) return;
    if (!r.ok()) log::warn("nuki: cannot list webhooks (" + std::to_string(r.status) + ")");
    bool kept = false;
    for (const auto& [id, hookUrl] : hooks) {
      if (hookUrl != url) continue;
      if (id == nukiWebhookId_ && !nukiSecret_.empty()) {
        kept = true;
        continue;
      }
      nuki_.deleteWebhook(id, [](const NukiResult&) {});
    }
    if (kept) {
      log::info("nuki: webhook " + std::to_string(nukiWebhookId_) + " kept for " + url);
      return done();
    }
    nukiSecret_.clear();
    nuki_.registerWebhook(
        url, {"DEVICE_STATUS", "DEVICE_MASTERDATA", "DEVICE_LOGS", "DEVICE_AUTHS"},
        [this, url, done, alive](const NukiResult& rr, int64_t id, std::string secret) {
          if (alive.expired()) return;
          if (rr.ok() && !secret.empty()) {
            nukiSecret_ = std::move(secret);
            nukiWebhookId_ = id;
            if (!write([&] {
                  saveMeta("nuki_webhook_id", std::to_string(id));
                  saveMeta("nuki_webhook_secret", nukiSecret_);
                }))
              return;
            log::info("nuki: webhook " + std::to_string(id) + " registered for " + url);
          } else {
            log::warn("nuki: webhook registration failed (HTTP " + std::to_string(rr.status) + " " +
                      rr.error + "); falling back to polling");
          }
          afterDurable(done);
        });
  });
}

void Adapter::discover(std::function<void(const std::string&)> done,
                       std::set<std::string> skipReports) {
  nuki_.listSmartlocks([this, done, skipReports, alive = std::weak_ptr<bool>(alive_)](
                           const NukiResult& r, std::vector<NukiLock> locks) {
    if (alive.expired()) return;
    if (!r.ok()) {
      const std::string why = "GET /smartlock failed: HTTP " + std::to_string(r.status) +
                              (r.error.empty() ? "" : " (" + r.error + ")");
      log::warn("nuki: " + why);
      return done(why);
    }
    auto remaining = std::make_shared<size_t>(1);
    auto finish = [remaining, done] {
      if (--*remaining == 0) done("");
    };
    for (const NukiLock& l : locks) {
      if (l.type != nuki::kSmartLock3) continue;  // Smart Lock 3.0 / 3.0 Pro only
      const std::string id = std::to_string(l.smartlockId);
      auto it = devices_.find(id);
      if (it != devices_.end()) {
        if (skipReports.count(id)) continue;
        if (!write([&] { onLockReport(it->second, l, l.state.has_value()); })) return;
        continue;
      }
      // A new lock: read its codes first so that R-DISCOVER goes out in one piece.
      ++*remaining;
      nuki_.listAuths(l.smartlockId, [this, l, finish, alive](const NukiResult& ar,
                                                              std::vector<NukiAuth> auths) {
        if (alive.expired()) return;
        if (ar.ok())
          addDevice(l, std::move(auths));
        else
          log::warn("nuki: cannot read the codes of lock " + std::to_string(l.smartlockId) +
                    "; it is discovered at the next poll");
        finish();
      });
    }
    finish();
  });
}

// R-DISCOVER: deviceEventConfig, then one SetState per state field in SPEC order.
void Adapter::addDevice(const NukiLock& l, std::vector<NukiAuth> auths) {
  const std::string id = std::to_string(l.smartlockId);
  if (devices_.count(id)) return;
  write([&] {
    Device& d = devices_[id];
    d.id = id;
    d.smartlockId = l.smartlockId;
    d.name = l.name;
    d.model = modelOf(l);
    json traits;
    for (const char* t : {kLock, kBattery, kPins, kConnectivity})
      traits[t] = {{"properties", traitProperties(t)}};
    emit(d, "deviceEventConfig", {{"traits", traits}});
    d.isOnline = l.online();
    setState(d, kConnectivity, "isOnline", *d.isOnline);
    if (l.state) {
      d.isJammed = *l.state == nuki::kMotorBlocked;
      setState(d, kLock, "isJammed", *d.isJammed);
      if (auto locked = isLockedOf(*l.state)) {
        d.isLocked = *locked;
        setState(d, kLock, "isLocked", *d.isLocked);
      }
      if (l.batteryCharge) {
        d.percentage = *l.batteryCharge;
        setState(d, kBattery, "percentage", *d.percentage);
      }
      d.batteryStatus = l.batteryCritical ? "CRITICAL" : "NORMAL";
      setState(d, kBattery, "status", d.batteryStatus);
    }
    for (const auto& a : auths) {
      if (a.type != nuki::kKeypadCode || !a.code) continue;
      PinCredential p = fromNukiAuth(a);
      p.id = newId("pin_");
      d.pins.push_back(std::move(p));
    }
    sortPins(d.pins);
    d.codesReadMs = millisOf(clock_.now());
    setState(d, kPins, "pinCodeCredentials", pinsJson(d.pins));
    saveDevice(d);
  });
}

void Adapter::schedulePoll() {
  clock_.arm(pollAlarm_, clock_.now() + options_.pollInterval);
}

void Adapter::pollNow(std::function<void()> done) {
  poll(std::move(done));
}

// The fallback when webhooks are late or lost: states of every lock, logs and state of locks
// with lock actions waiting, codes of locks with PIN actions waiting (of all locks every
// fullScanEvery rounds). Discovers new locks too.
void Adapter::poll(std::function<void()> done) {
  if (polling_) {
    if (done) done();
    return;
  }
  polling_ = true;
  const bool fullScan = options_.fullScanEvery > 0 && ++pollCount_ % options_.fullScanEvery == 0;
  auto alive = std::weak_ptr<bool>(alive_);
  // Locks with a lock action waiting get their state after their logs (attribution).
  std::set<std::string> reportAfterLogs;
  for (const auto& [device, list] : open_)
    for (const Action* a : list)
      if (!a->isPin() && a->status == ActionStatus::kPending) reportAfterLogs.insert(device);
  discover(
      [this, done, fullScan, alive](const std::string&) {
        if (alive.expired()) return;
        auto remaining = std::make_shared<size_t>(1);
        auto finish = [this, remaining, done, alive] {
          if (alive.expired()) return;
          if (--*remaining == 0) {
            polling_ = false;
            if (done) done();
          }
        };
        for (auto& [id, d] : devices_) {
          bool lockWaiting = false, pinWaiting = false;
          for (auto* a : unresolvedActions(id)) {
            if (a->status != ActionStatus::kPending) continue;
            (a->isPin() ? pinWaiting : lockWaiting) = true;
          }
          const uint64_t smartlockId = d.smartlockId;
          const std::string deviceId = id;
          if (lockWaiting) {
            ++*remaining;
            nuki_.listLogs(smartlockId, 50,
                           [this, deviceId, smartlockId, finish, alive](const NukiResult& r,
                                                                        std::vector<NukiLog> logs) {
                             if (alive.expired()) return;
                             auto it = devices_.find(deviceId);
                             if (r.ok() && it != devices_.end() && !write([&] {
                                   for (auto l = logs.rbegin(); l != logs.rend(); ++l)
                                     onLog(it->second, *l);  // oldest first
                                   saveDevice(it->second);
                                 }))
                               return;
                             nuki_.getSmartlock(smartlockId, [this, deviceId, finish, alive](
                                                                 const NukiResult& sr,
                                                                 std::optional<NukiLock> lock) {
                               if (alive.expired()) return;
                               auto dit = devices_.find(deviceId);
                               if (sr.ok() && lock && dit != devices_.end() && !write([&] {
                                     onLockReport(dit->second, *lock, lock->state.has_value());
                                   }))
                                 return;
                               finish();
                             });
                           });
          }
          if (d.unreadSyncMs != 0) {
            ++*remaining;
            onSync(deviceId, d.unreadSyncMs, finish);
          } else if (pinWaiting || fullScan) {
            ++*remaining;
            const int64_t observed = millisOf(clock_.now());
            nuki_.listAuths(smartlockId, [this, deviceId, finish, alive, observed](
                                             const NukiResult& r, std::vector<NukiAuth> auths) {
              if (alive.expired()) return;
              auto it = devices_.find(deviceId);
              if (r.ok() && it != devices_.end() &&
                  !write([&] { reconcile(it->second, auths, /*syncSignal=*/false, observed); }))
                return;
              finish();
            });
          }
        }
        finish();
      },
      reportAfterLogs);
}

}  // namespace nukihil::adapter
