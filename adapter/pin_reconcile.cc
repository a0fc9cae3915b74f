// R-PIN-SYNC / R-PIN-DROPPED / R-PIN-LOCAL: a web view of a lock's keypad codes applied to
// what the adapter knows.
#include "adapter/adapter.h"

#include <set>

#include "adapter/adapter_internal.h"

namespace nukihil::adapter {

using nlohmann::json;

// R-PIN-SYNC / R-PIN-DROPPED / R-PIN-LOCAL: apply a web view of the lock's keypad codes.
void Adapter::reconcile(Device& d, const std::vector<NukiAuth>& auths, bool syncSignal,
                        int64_t observedMs) {
  std::vector<PinCredential> web;
  for (const auto& a : auths)
    if (a.type == nuki::kKeypadCode && a.code) web.push_back(fromNukiAuth(a));
  auto findWeb = [&](const std::string& authId) -> const PinCredential* {
    for (const auto& w : web)
      if (w.nukiAuthId == authId) return &w;
    return nullptr;
  };
  // Does the web view differ from what the adapter knows? Then a sync happened.
  bool differs = web.size() != d.pins.size();
  for (const auto& p : d.pins) {
    const PinCredential* w = findWeb(p.nukiAuthId);
    if (!w || !w->sameContent(p)) differs = true;
  }
  // A poll that finds the codes changed knows only that a sync happened since it last read
  // them: an action accepted after that read cannot be judged dropped by this difference.
  const int64_t syncAfterMs = syncSignal ? observedMs : d.codesReadMs;
  d.codesReadMs = std::max(d.codesReadMs, observedMs);
  if (!syncSignal && !differs) return;

  std::set<std::string> mapped;
  for (const auto& p : d.pins)
    mapped.insert(p.nukiAuthId);
  auto pinIndex = [&](const std::string& pinId) -> int {
    for (size_t i = 0; i < d.pins.size(); ++i)
      if (d.pins[i].id == pinId) return int(i);
    return -1;
  };

  // First the adapter's own actions, in the order Nuki Web accepted them (SPEC §6 R-PIN-SYNC;
  // at one instant in the order they were made).
  std::vector<Action*> own = unresolvedActions(d.id);
  std::stable_sort(own.begin(), own.end(),
                   [](const Action* x, const Action* y) { return x->acceptedMs < y->acceptedMs; });
  for (auto* a : own) {
    if (!a->isPin() || a->status != ActionStatus::kPending || a->acceptedMs > observedMs) continue;
    const json before = pinsJson(d.pins);
    bool shown = false;
    if (a->name == "createPinCodeCredential") {
      for (const auto& w : web) {
        if (mapped.count(w.nukiAuthId) || !w.sameContent(*a->pin)) continue;
        PinCredential p = *a->pin;
        p.id = a->pinId;
        p.nukiAuthId = w.nukiAuthId;
        d.pins.push_back(std::move(p));
        mapped.insert(w.nukiAuthId);
        shown = true;
        break;
      }
    } else if (a->name == "updatePinCodeCredential") {
      const int i = pinIndex(a->pinId);
      const PinCredential* w = i >= 0 ? findWeb(d.pins[size_t(i)].nukiAuthId) : nullptr;
      if (w && w->sameContent(*a->pin)) {
        PinCredential& p = d.pins[size_t(i)];
        const std::string keepId = p.id, keepAuth = p.nukiAuthId;
        p = *a->pin;
        p.id = keepId;
        p.nukiAuthId = keepAuth;
        shown = true;
      }
    } else if (a->name == "deletePinCodeCredential") {
      const int i = pinIndex(a->pinId);
      if (i >= 0 && !findWeb(d.pins[size_t(i)].nukiAuthId)) {
        mapped.erase(d.pins[size_t(i)].nukiAuthId);
        d.pins.erase(d.pins.begin() + i);
        shown = true;
      }
    }
    if (shown) {
      sortPins(d.pins);
      // SPEC §6: a SetState only when the list differs (an update to the values it already
      // had, or to the same schedule written another way, changes nothing).
      json after = pinsJson(d.pins);
      if (after != before) setState(d, kPins, "pinCodeCredentials", std::move(after), a->id);
      updateAction(*a, ActionStatus::kResolved);
    } else if (a->acceptedMs > syncAfterMs) {
      continue;  // the sync may have come before it; a later one decides
    } else {
      updateAction(*a, ActionStatus::kRejected, "DROPPED_BY_LOCK");  // R-PIN-DROPPED
    }
  }

  // Then what no action explains: codes added, changed or removed elsewhere (R-PIN-LOCAL).
  bool changed = false;
  for (size_t i = 0; i < d.pins.size();) {
    const PinCredential* w = findWeb(d.pins[i].nukiAuthId);
    if (!w) {
      d.pins.erase(d.pins.begin() + long(i));
      changed = true;
      continue;
    }
    if (!w->sameContent(d.pins[i])) {
      const std::string keepId = d.pins[i].id;
      d.pins[i] = *w;
      d.pins[i].id = keepId;
      changed = true;
    }
    ++i;
  }
  for (const auto& w : web) {
    if (mapped.count(w.nukiAuthId)) continue;
    PinCredential p = w;
    p.id = newId("pin_");
    d.pins.push_back(std::move(p));
    changed = true;
  }
  if (changed) {
    sortPins(d.pins);
    setState(d, kPins, "pinCodeCredentials", pinsJson(d.pins));
  }
  saveDevice(d);
}

}  // namespace nukihil::adapter
