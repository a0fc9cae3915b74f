// Platform → adapter → Nuki Web: actions accepted (with K1–K7 for PIN codes and idempotency
// keys), sent to Nuki Web, and Nuki Web's answer (R-ACT-FAILED and friends).
#include "adapter/adapter.h"

#include "adapter/adapter_internal.h"
#include "runtime/log.h"

namespace nukihil::adapter {

using nlohmann::json;

std::vector<Action*> Adapter::unresolvedActions(const std::string& deviceId) {
  auto it = open_.find(deviceId);
  return it == open_.end() ? std::vector<Action*>{} : it->second;
}

const Action* Adapter::action(const std::string& id) const {
  auto it = actions_.find(id);
  return it == actions_.end() ? nullptr : &it->second;
}

std::vector<std::string> Adapter::expectedCodes(const Device& d,
                                                const std::string& exceptPin) const {
  std::map<std::string, std::string> codes;  // pin id → code
  for (const auto& p : d.pins)
    codes[p.id] = p.pinCode;
  auto open = open_.find(d.id);
  for (const Action* a : open == open_.end() ? std::vector<Action*>{} : open->second) {
    if (!a->isPin()) continue;
    if (a->name == "deletePinCodeCredential")
      codes.erase(a->pinId);
    else if (a->pin)
      codes[a->pinId] = a->pin->pinCode;
  }
  codes.erase(exceptPin);
  std::vector<std::string> out;
  for (auto& [id, c] : codes)
    out.push_back(c);
  return out;
}

bool Adapter::pinBusy(const Device& d, const std::string& pinId) const {
  auto open = open_.find(d.id);
  if (open == open_.end()) return false;
  for (const Action* a : open->second)
    if (a->isPin() && a->pinId == pinId) return true;
  return false;
}

Action& Adapter::newAction(Device& d, const json& body) {
  Action a;
  a.id = newId("act_");
  a.deviceId = d.id;
  a.trait = body.at("trait").get<std::string>();
  a.name = body.at("action").get<std::string>();
  a.parameters = body.value("parameters", json::object());
  a.createdMs = a.updatedMs = millisOf(clock_.now());
  a.order = nextOrder_++;
  Action& added = actions_.emplace(a.id, std::move(a)).first->second;
  open_[added.deviceId].push_back(&added);
  return added;
}

Adapter::Submitted Adapter::submit(const std::string& deviceId, const json& body,
                                   const std::string& idempotencyKey) {
  if (options_.readOnly || storageFailed_) return storageRefusal();
  Submitted out;
  // What a key stands for: the device and the request body.
  const std::string fingerprint = deviceId + "\n" + body.dump();
  if (!idempotencyKey.empty()) {
    auto it = idempotency_.find(idempotencyKey);
    if (it != idempotency_.end()) {
      if (it->second.second != fingerprint)
        return Submitted::refused(409, "IDEMPOTENCY_KEY_REUSED",
                                  "this Idempotency-Key was used with another request");
      out.actionId = it->second.first;
      if (const Action* a = action(out.actionId)) {
        if (a->name == "createPinCodeCredential") out.pinId = a->pinId;
      }
      return out;
    }
  }
  auto dit = devices_.find(deviceId);
  if (dit == devices_.end()) return Submitted::refused(404, "NOT_FOUND", "no device " + deviceId);
  if (!body.is_object() || !body.contains("trait") || !body["trait"].is_string() ||
      !body.contains("action") || !body["action"].is_string())
    return Submitted::refused(400, "BAD_REQUEST",
                              "the body is {\"trait\",\"action\",\"parameters\"}");
  if (body.contains("parameters") && !body["parameters"].is_object())
    return Submitted::refused(400, "BAD_REQUEST", "parameters must be an object", "parameters");
  // A misspelt member must not be dropped silently ("parameter" for "parameters" would turn
  // into an action without its parameters).
  for (const auto& [key, value] : body.items())
    if (key != "trait" && key != "action" && key != "parameters")
      return Submitted::refused(
          400, "BAD_REQUEST",
          key + ": unknown field (the body is {\"trait\",\"action\",\"parameters\"})", key);
  const std::string trait = body["trait"], name = body["action"];
  const json params = body.value("parameters", json::object());
  const bool isPin =
      trait == kPins && (name == "createPinCodeCredential" || name == "updatePinCodeCredential" ||
                         name == "deletePinCodeCredential");
  if (!isPin && !(trait == kLock && name == "setLocked"))
    return Submitted::refused(400, "UNSUPPORTED_ACTION",
                              trait + "/" + name + " is not an action of this device");
  // The key is stored in the action's own transaction: a crash cannot keep one without the
  // other. (A refusal writes nothing and commits an empty transaction.)
  const bool stored = write([&] {
    out =
        isPin ? submitPin(dit->second, name, params, body) : submitLock(dit->second, params, body);
    if (out.status == 202 && !idempotencyKey.empty()) {
      db_.prepare("INSERT OR REPLACE INTO adapter_idempotency (key, action, body) VALUES (?, ?, ?)")
          .bind(1, idempotencyKey)
          .bind(2, out.actionId)
          .bind(3, fingerprint)
          .step();
      idempotency_[idempotencyKey] = {out.actionId, fingerprint};
    }
  });
  return stored ? out : storageRefusal();
}

// Announces a new action (deviceEventQueueAction), stores it (in the caller's write) and sends
// it to Nuki Web once that is durable.
void Adapter::queueAction(Device& d, Action& a) {
  emit(d, "deviceEventQueueAction",
       {{"actionId", a.id},
        {"traitName", a.trait},
        {"actionName", a.name},
        {"actionParameters", a.parameters}});
  saveAction(a);
  afterDurable([this, id = a.id] {
    if (auto it = actions_.find(id); it != actions_.end()) send(it->second);
  });
}

Adapter::Submitted Adapter::submitLock(Device& d, const json& params, const json& body) {
  if (!params.contains("lock") || !params["lock"].is_boolean())
    return Submitted::refused(400, "BAD_REQUEST", "setLocked takes {\"lock\":true|false}");
  std::string id;
  if (!write([&] {
        Action& a = newAction(d, body);
        a.lock = params["lock"].get<bool>();
        queueAction(d, a);
        id = a.id;
      }))
    return storageRefusal();
  return Submitted::accepted(id);
}

Adapter::Submitted Adapter::submitPin(Device& d, const std::string& name, const json& params,
                                      const json& body) {
  auto refuse = [](const PinProblem& p, std::string field = {}) {
    if (field.empty()) field = pinErrorField(p.error);
    return Submitted::refused(422, pinErrorCode(p.error), p.message, std::move(field));
  };
  std::string pinId;
  const PinCredential* current = nullptr;
  if (name != "createPinCodeCredential") {
    if (!params.contains("id") || !params["id"].is_string())
      return Submitted::refused(400, "BAD_REQUEST", name + " needs the credential's \"id\"");
    pinId = params["id"].get<std::string>();
    for (const auto& p : d.pins)
      if (p.id == pinId) current = &p;
    const bool busy = pinBusy(d, pinId);  // also a create that no sync has revealed yet
    if (!current && !busy)
      return Submitted::refused(404, "NOT_FOUND",
                                "no PIN code credential " + pinId + " on this device");
    if (busy)
      return refuse({PinError::kPending, "an earlier action on this code is not resolved yet"});
  }
  std::optional<PinCredential> target;
  if (name != "deletePinCodeCredential") {
    auto parsed = parsePinParameters(params, current);
    if (!parsed.badRequest.empty())
      return Submitted::refused(400, "BAD_REQUEST", parsed.badRequest, parsed.badRequestField);
    // SPEC order: K1–K3, K6, then K7 (a schedule shape problem found while reading), K4, K5.
    if (auto p = checkPinFormat(*parsed.pin); p && p.error != PinError::kScheduleInvalid)
      return refuse(p);
    if (parsed.problem) return refuse(parsed.problem, parsed.problemField);
    if (auto p = checkPinFormat(*parsed.pin)) return refuse(p);
    if (auto p = checkPinConflicts(*parsed.pin, expectedCodes(d, pinId),
                                   name == "createPinCodeCredential"))
      return refuse(p);
    target = *parsed.pin;
  }
  Submitted out;
  if (!write([&] {
        Action& a = newAction(d, body);
        a.pinId = name == "createPinCodeCredential" ? newId("pin_") : pinId;
        if (target) {
          a.pin = *target;
          a.pin->id = a.pinId;
        }
        queueAction(d, a);
        out =
            Submitted::accepted(a.id, name == "createPinCodeCredential" ? a.pinId : std::string());
      }))
    return storageRefusal();
  return out;
}

void Adapter::send(Action& a) {
  auto dit = devices_.find(a.deviceId);
  if (dit == devices_.end()) return;
  const uint64_t lockId = dit->second.smartlockId;
  const bool retried = a.sent;  // sent before a restart: Nuki Web may have it already
  if (!write([&] {
        a.sent = true;
        saveAction(a);
      }))
    return;
  auto done = [this, id = a.id, retried, alive = std::weak_ptr<bool>(alive_)](const NukiResult& r) {
    if (alive.expired()) return;
    NukiResult result = r;
    if (retried && result.attempts == 1) result.attempts = 2;  // a 409 now may be our own create
    onSent(id, result);
  };
  nuki_.tagNextCall(a.id);
  if (!a.isPin()) return nuki_.lockAction(lockId, a.lock, done);
  if (a.name == "createPinCodeCredential")
    return nuki_.createAuth(lockId, toNukiFields(*a.pin), done);
  std::string authId;
  for (const auto& p : dit->second.pins)
    if (p.id == a.pinId) authId = p.nukiAuthId;
  if (a.name == "updatePinCodeCredential")
    return nuki_.updateAuth(lockId, authId, toNukiFields(*a.pin), done);
  nuki_.deleteAuth(lockId, authId, done);
}

// Nuki Web's answer to an action's call (R-ACT-FAILED and friends).
void Adapter::onSent(const std::string& actionId, const NukiResult& r) {
  auto it = actions_.find(actionId);
  if (it == actions_.end() || it->second.status != ActionStatus::kQueued) return;
  Action& a = it->second;
  write([&] {
    // A retried PIN change whose first try's answer was lost may have been applied by that try:
    // Nuki then answers a create 409 (the code exists), an update 423 (it awaits delivery) and a
    // delete 404 (already deleted). Not a failure: the action stays PENDING and the sync decides.
    const bool ownEarlierTry =
        r.attempts > 1 && ((a.name == "createPinCodeCredential" && r.status == 409) ||
                           (a.name == "updatePinCodeCredential" && r.status == 423) ||
                           (a.name == "deletePinCodeCredential" && r.status == 404));
    if (r.ok() || ownEarlierTry) {
      a.acceptedMs = millisOf(clock_.now());
      a.acceptedOrder = nextAccepted_++;
      // Its run is still to come: a log must not be taken as following a settled state.
      if (!a.isPin())
        if (auto dit = devices_.find(a.deviceId); dit != devices_.end()) dit->second.lastState = -1;
      updateAction(a, ActionStatus::kPending);
    } else if (r.outcome == NukiResult::Outcome::kTimeout) {
      updateAction(a, ActionStatus::kTimeout);
    } else {
      updateAction(a, ActionStatus::kFailed, std::to_string(r.status));
    }
  });
}

}  // namespace nukihil::adapter
