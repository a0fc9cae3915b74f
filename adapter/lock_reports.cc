// Nuki Web → adapter, told: the decentral webhook intake and what the locks report — states
// (R-ACT-*, R-MANUAL, R-BATT, R-CONN), logs, and the daily sync's signal.
#include "adapter/adapter.h"

#include "adapter/adapter_internal.h"
#include "runtime/crypto.h"
#include "runtime/log.h"

namespace nukihil::adapter {

using nlohmann::json;

int Adapter::nukiWebhook(const std::string& body, std::string_view signature) {
  if (options_.readOnly || storageFailed_) return 503;  // Nuki Web delivers it again later
  if (nukiSecret_.empty()) return 401;                  // no registration, nothing can be verified
  const std::string expected = crypto::toHex(crypto::hmacSha256(nukiSecret_, body));
  std::string given(signature);
  for (auto& c : given)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  if (!crypto::constantTimeEqual(expected, given)) return 401;
  std::string error;
  auto event = decodeEvent(body, error);
  if (!event) {
    log::warn("nuki webhook: " + error);
    return 400;
  }
  auto it = devices_.find(std::to_string(event->smartlockId));
  if (it == devices_.end()) {
    // A lock added to the account since the last discovery: find it at once.
    if (event->kind != NukiEvent::kOther) discover([](const std::string&) {});
    return 200;
  }
  Device& d = it->second;
  switch (event->kind) {
    case NukiEvent::kStatus:
      if (!write([&] {
            if (!event->lock) return;
            // Only the webhooks' own state: they come in one stream with the logs, in order
            // (a poll's read may be answered after newer webhooks).
            if (event->lock->state) d.lastState = *event->lock->state;
            onLockReport(d, *event->lock, event->lock->state.has_value());
          }))
        return 503;
      break;
    case NukiEvent::kLogs:
      // A web-triggered motor log is saved at once: after a crash it must not complete a
      // later action of the same kind. A log after a settled state (a run that ended while the
      // lock was offline, told after its reconnect report) gives its action's outcome now: the
      // report before it showed the state, and no later report may come.
      if (!write([&] {
            if (!event->log) return;
            Action* marked = nullptr;
            if (!onLog(d, *event->log, &marked)) return;
            if (marked && d.lastState >= 0 && !isMoving(d.lastState)) resolveRun(*marked);
            saveDevice(d);
          }))
        return 503;
      break;
    case NukiEvent::kMasterData: {
      // R-PIN-SYNC: the sync is complete; read the new web view and apply it. The signal is
      // stored before Nuki Web hears 200: if the read fails or the adapter dies, a poll reads
      // the codes as after a sync.
      const int64_t now = millisOf(clock_.now());
      if (d.unreadSyncMs == 0 && !write([&] {
            d.unreadSyncMs = now;
            saveDevice(d);
          }))
        return 503;
      onSync(d.id, now);
      break;
    }
    case NukiEvent::kAuths:  // the web view is read at DEVICE_MASTERDATA
    case NukiEvent::kOther:
      break;
  }
  return 200;
}

void Adapter::onSync(const std::string& deviceId, int64_t observedMs, std::function<void()> done) {
  auto it = devices_.find(deviceId);
  if (it == devices_.end()) {
    if (done) done();
    return;
  }
  nuki_.listAuths(it->second.smartlockId,
                  [this, deviceId, observedMs, done, alive = std::weak_ptr<bool>(alive_)](
                      const NukiResult& r, std::vector<NukiAuth> auths) {
                    if (alive.expired()) return;
                    auto dit = devices_.find(deviceId);
                    if (dit != devices_.end() && !r.ok())
                      log::warn("nuki: cannot read the codes of lock " + deviceId +
                                " after a sync; polling retries");
                    if (dit != devices_.end() && r.ok() && !write([&] {
                          dit->second.unreadSyncMs = 0;  // saved by reconcile
                          reconcile(dit->second, auths, /*syncSignal=*/true, observedMs);
                        }))
                      return;
                    if (done) done();
                  });
}

// One report of motor state, battery and reachability: SetStates for what changed, in SPEC
// order, attributed to the lock action whose completion the logs showed (R-ACT-*), then that
// action's outcome. When the report settles several completed actions (a poll that saw several
// logs, an offline lock's queue), each goes in queue order (R-ACT-OFFLINE): the ones before the
// last with the state their run reached and their outcome, right after isOnline; the last one
// with what the report shows.
void Adapter::onLockReport(Device& d, const NukiLock& report, bool hasState) {
  std::vector<Action*> completed;
  for (auto* a : unresolvedActions(d.id))
    if (!a->isPin() && a->status == ActionStatus::kPending && a->completion >= 0)
      completed.push_back(a);
  // In the order the lock ran them: Nuki Web's queue order.
  std::stable_sort(completed.begin(), completed.end(), [](const Action* x, const Action* y) {
    return x->acceptedOrder < y->acceptedOrder;
  });
  const bool settles = hasState && report.state && !isMoving(*report.state);
  Action* done = completed.empty() ? nullptr : settles ? completed.back() : completed.front();
  const std::string by = done ? done->id : std::string();

  // Saved only when a field changed: reports that change nothing are frequent.
  bool changed = false;
  const bool online = report.online();
  if (d.isOnline != online) {  // R-CONN
    d.isOnline = online;
    changed = true;
    setState(d, kConnectivity, "isOnline", online);
  }
  if (settles) {
    for (size_t k = 0; k + 1 < completed.size(); ++k) {
      settleRun(d, *completed[k]);
      changed = true;
    }
  }
  if (hasState && report.state) {
    const int s = *report.state;
    const bool jammed = s == nuki::kMotorBlocked;
    if (d.isJammed != jammed) {
      d.isJammed = jammed;
      changed = true;
      setState(d, kLock, "isJammed", jammed, jammed ? by : std::string());
    }
    const std::optional<bool> locked = isLockedOf(s);
    if (locked && d.isLocked != *locked) {  // R-MANUAL when no action explains it
      d.isLocked = *locked;
      changed = true;
      setState(d, kLock, "isLocked", *locked, by);
    }
    if (report.batteryCharge && d.percentage != *report.batteryCharge) {  // R-BATT
      d.percentage = *report.batteryCharge;
      changed = true;
      setState(d, kBattery, "percentage", *d.percentage);
    }
    const std::string status = report.batteryCritical ? "CRITICAL" : "NORMAL";
    if (d.batteryStatus != status) {
      d.batteryStatus = status;
      changed = true;
      setState(d, kBattery, "status", status);
    }
  }
  if (settles && done) resolveRun(*done);
  if (changed) saveDevice(d);
}

// A completed run settled before the one a report shows: the state it reached, with its
// actionId if that changed, then its outcome.
void Adapter::settleRun(Device& d, Action& a) {
  if (a.completion == nuki::kCompletionMotorBlocked) {
    if (d.isJammed != true) {
      d.isJammed = true;
      setState(d, kLock, "isJammed", true, a.id);
    }
  } else if (a.completion == nuki::kCompleted && d.isLocked != a.lock) {
    d.isLocked = a.lock;
    setState(d, kLock, "isLocked", a.lock, a.id);
  }
  resolveRun(a);
}

void Adapter::resolveRun(Action& a) {
  if (a.completion == nuki::kCompleted)
    updateAction(a, ActionStatus::kResolved);
  else if (a.completion == nuki::kCompletionMotorBlocked)
    updateAction(a, ActionStatus::kRejected, "MOTOR_BLOCKED");  // R-ACT-JAMMED
  else
    updateAction(a, ActionStatus::kRejected, "COMPLETION_STATE_" + std::to_string(a.completion));
}

// A log entry: a web-triggered motor action finishing marks the first waiting lock action of
// that kind Nuki Web accepted as completed; its outcome follows with the next state report.
bool Adapter::onLog(Device& d, const NukiLog& log, Action** marked) {
  if (std::find(d.seenLogs.begin(), d.seenLogs.end(), log.id) != d.seenLogs.end()) return false;
  d.seenLogs.push_back(log.id);
  while (d.seenLogs.size() > kSeenLogs)
    d.seenLogs.pop_front();
  if (log.trigger != nuki::kTriggerWeb ||
      (log.action != nuki::kActionUnlock && log.action != nuki::kActionLock))
    return false;
  // The run is the first waiting one of its kind in Nuki Web's queue, which is in the order
  // Nuki Web accepted the calls (a retried call goes behind one accepted meanwhile).
  Action* first = nullptr;
  for (auto* a : unresolvedActions(d.id)) {
    if (a->isPin() || a->status != ActionStatus::kPending || a->completion >= 0) continue;
    if ((log.action == nuki::kActionLock) != a->lock) continue;
    if (!first || a->acceptedOrder < first->acceptedOrder) first = a;
  }
  if (first) {
    first->completion = log.state;
    saveAction(*first);
    if (marked) *marked = first;
  }
  return true;
}

}  // namespace nukihil::adapter
