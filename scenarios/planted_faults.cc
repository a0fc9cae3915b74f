#include "scenarios/planted_faults.h"

#include <map>
#include <optional>
#include <stdexcept>

namespace nukihil::scenarios {

using nlohmann::json;

namespace {

// A delivery rewritten by the "proxy": same bytes otherwise.
RecordedWebhook rewritten(const RecordedWebhook& w, const json& body) {
  RecordedWebhook out = w;
  out.body = body;
  out.raw = body.dump();
  out.id = body.value("id", w.id);
  return out;
}

using Touched = std::shared_ptr<std::atomic<bool>>;

WebhookRecorder::Tamper dropResolved(Touched touched) {
  return [touched](const RecordedWebhook& w) -> std::vector<RecordedWebhook> {
    if (!*touched && w.type() == "deviceEventUpdateAction" &&
        w.body["content"].value("status", "") == "RESOLVED") {
      *touched = true;
      return {};
    }
    return {w};
  };
}

WebhookRecorder::Tamper resendNewId(Touched touched) {
  return [touched](const RecordedWebhook& w) -> std::vector<RecordedWebhook> {
    if (!*touched && w.type() == "deviceEventUpdateAction" &&
        w.body["content"].value("status", "") == "PENDING") {
      *touched = true;
      json copy = w.body;
      copy["id"] = w.id + "-again";
      return {w, rewritten(w, copy)};
    }
    return {w};
  };
}

WebhookRecorder::Tamper swapSetState(Touched touched) {
  auto held = std::make_shared<std::optional<RecordedWebhook>>();
  return [touched, held](const RecordedWebhook& w) -> std::vector<RecordedWebhook> {
    if (held->has_value() && (*held)->deviceId() == w.deviceId()) {
      RecordedWebhook first = **held;
      held->reset();
      return {w, first};
    }
    if (!*touched && w.type() == "deviceEventSetState" &&
        w.body["content"].value("fieldName", "") == "isLocked" &&
        w.body["content"].contains("actionId")) {
      *touched = true;
      *held = w;
      return {};
    }
    return {w};
  };
}

WebhookRecorder::Tamper earlyPinSetState(Touched touched) {
  auto creates = std::make_shared<std::map<std::string, json>>();  // actionId → parameters
  auto lists = std::make_shared<std::map<std::string, json>>();    // device → last list
  return [touched, creates, lists](const RecordedWebhook& w) -> std::vector<RecordedWebhook> {
    const json& c = w.body["content"];
    if (w.type() == "deviceEventQueueAction" &&
        c.value("actionName", "") == "createPinCodeCredential")
      (*creates)[c.value("actionId", "")] = c["actionParameters"];
    if (w.type() == "deviceEventSetState" && c.value("fieldName", "") == "pinCodeCredentials")
      (*lists)[w.deviceId()] = c["value"];
    if (!*touched && w.type() == "deviceEventUpdateAction" && c.value("status", "") == "PENDING" &&
        creates->count(c.value("actionId", ""))) {
      *touched = true;
      const json& p = (*creates)[c.value("actionId", "")];
      json list = (*lists)[w.deviceId()];
      if (!list.is_array()) list = json::array();
      list.push_back({{"id", "pin_forged"},
                      {"pinCode", p.value("pinCode", "")},
                      {"name", p.value("name", "")},
                      {"alwaysActive", true},
                      {"temporarySchedules", json::array()},
                      {"recurringSchedules", json::array()}});
      json forged = w.body;
      forged["id"] = w.id + "-early";
      forged["type"] = "deviceEventSetState";
      forged["content"] = {{"deviceId", w.deviceId()},
                           {"traitName", "BETA_PIN_CODE_CREDENTIALS"},
                           {"fieldName", "pinCodeCredentials"},
                           {"value", list},
                           {"actionId", c.value("actionId", "")}};
      return {rewritten(w, forged), w};
    }
    return {w};
  };
}

}  // namespace

const std::vector<std::string>& plantedFaultNames() {
  static const std::vector<std::string> names{"drop-resolved", "resend-new-id", "swap-setstate",
                                              "early-pin-setstate"};
  return names;
}

WebhookRecorder::Tamper plantedFault(const std::string& name, Touched touched) {
  if (!touched) touched = std::make_shared<std::atomic<bool>>(false);
  if (name == "drop-resolved") return dropResolved(touched);
  if (name == "resend-new-id") return resendNewId(touched);
  if (name == "swap-setstate") return swapSetState(touched);
  if (name == "early-pin-setstate") return earlyPinSetState(touched);
  throw std::invalid_argument("no planted fault named '" + name + "'");
}

}  // namespace nukihil::scenarios
