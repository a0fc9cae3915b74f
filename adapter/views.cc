// What the northbound API reads: devices with their traits, actions, health.
#include "adapter/adapter.h"

#include "adapter/adapter_internal.h"

namespace nukihil::adapter {

using nlohmann::json;

json Adapter::traitProperties(const std::string& trait) {
  if (trait == kLock) return {{"supportsIsJammed", true}};
  if (trait == kPins)
    return {{"maxNumberOfPinCodeCredentials", 100},
            {"supportedPinCodeRange", {{"min", 6}, {"max", 6}}},
            {"supportedPinCodeCredentialNameRange", {{"min", 1}, {"max", 20}}},
            {"maxNumberOfSchedulesPerPinCodeCredential", 2},
            {"maxNumberOfTemporarySchedulesPerPinCodeCredential", 1},
            {"maxNumberOfRecurringSchedulesPerPinCodeCredential", 1},
            {"exclusiveSchedules", false}};
  return json::object();
}

std::optional<json> Adapter::deviceJson(const std::string& deviceId) const {
  auto it = devices_.find(deviceId);
  if (it == devices_.end()) return std::nullopt;
  const Device& d = it->second;
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  json traits;
  traits[kLock] = {{"state", {{"isLocked", opt(d.isLocked)}, {"isJammed", opt(d.isJammed)}}},
                   {"properties", traitProperties(kLock)}};
  json battery = {{"status", d.batteryStatus}};
  if (d.percentage) battery["percentage"] = *d.percentage;
  traits[kBattery] = {{"state", battery}, {"properties", json::object()}};
  traits[kPins] = {{"state", {{"pinCodeCredentials", pinsJson(d.pins)}}},
                   {"properties", traitProperties(kPins)}};
  traits[kConnectivity] = {{"state", {{"isOnline", opt(d.isOnline)}}},
                           {"properties", json::object()}};
  return json{{"id", d.id}, {"name", d.name}, {"model", d.model}, {"traits", traits}};
}

json Adapter::devicesJson() const {
  json out = json::array();
  for (const auto& [id, d] : devices_)
    out.push_back(*deviceJson(id));
  return out;
}

std::optional<json> Adapter::actionJson(const std::string& actionId) const {
  const Action* a = action(actionId);
  if (!a) return std::nullopt;
  json j;
  j["actionId"] = a->id;
  j["deviceId"] = a->deviceId;
  j["trait"] = a->trait;
  j["action"] = a->name;
  j["parameters"] = a->parameters;
  j["status"] = actionStatusName(a->status);
  if (!a->reason.empty()) j["reason"] = a->reason;
  if (!a->pinId.empty()) j["pinId"] = a->pinId;
  j["createdAt"] = formatRfc3339(timeFromMillis(a->createdMs));
  j["updatedAt"] = formatRfc3339(timeFromMillis(a->updatedMs));
  return j;
}

json Adapter::healthJson() const {
  size_t unresolved = 0;
  for (const auto& [device, list] : open_)
    unresolved += list.size();
  json j;
  j["status"] = "ok";
  j["now"] = formatRfc3339(clock_.now());
  j["devices"] = devices_.size();
  j["unresolvedActions"] = unresolved;
  j["nukiWebhook"] = nukiSecret_.empty() ? "none (polling only)" : "registered";
  return j;
}

}  // namespace nukihil::adapter
