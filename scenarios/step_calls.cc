#include "scenarios/step_calls.h"

#include <algorithm>
#include <cctype>

#include "scenarios/runner.h"

namespace nukihil::scenarios {

using model::SpecModel;
using model::Step;
using model::StepKind;
using nlohmann::json;

json parseBody(const std::string& body) {
  return json::parse(body, nullptr, false);
}

const json& member(const json& j, const char* key) {
  static const json none;
  return j.is_object() && j.contains(key) ? j[key] : none;
}

std::string text(const json& j, const char* key) {
  const json& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

ObservedWebhook observedOf(const RecordedWebhook& w) {
  ObservedWebhook o;
  o.id = w.id;
  o.type = w.type();
  if (w.body.is_object() && w.body.contains("content")) o.content = w.body["content"];
  if (o.content.is_object()) o.content.erase("deviceId");
  if (w.body.is_object() && w.body.contains("occurredAt") && w.body["occurredAt"].is_string()) {
    o.occurredAt = w.body["occurredAt"].get<std::string>();
    if (auto t = parseRfc3339(o.occurredAt)) o.occurredMs = millisOf(*t);
  }
  return o;
}

std::string smartlockIdOf(const std::string& path) {
  const std::string prefix = "/smartlock/";
  if (path.rfind(prefix, 0) != 0) return "";
  size_t end = prefix.size();
  while (end < path.size() && std::isdigit(static_cast<unsigned char>(path[end])))
    ++end;
  return path.substr(prefix.size(), end - prefix.size());
}

json call(http::Requester& to, const std::string& method, const std::string& target,
          const json& body, const std::vector<std::pair<std::string, std::string>>& headers) {
  auto r = to.request(method, target, body.is_null() ? std::string() : body.dump(), headers);
  json j = parseBody(r.body);
  json out = json{{"status", r.status}};
  if (r.status == 0) out["transport"] = r.error;
  if (!j.is_discarded()) out["body"] = j;
  return out;
}

json traitAction(http::Requester& adapter, const Step& st, const std::string& deviceId,
                 const json& parameters) {
  const char* action = st.kind == StepKind::kSetLocked   ? "setLocked"
                       : st.kind == StepKind::kCreatePin ? "createPinCodeCredential"
                       : st.kind == StepKind::kUpdatePin ? "updatePinCodeCredential"
                                                         : "deletePinCodeCredential";
  json body{{"trait", st.kind == StepKind::kSetLocked ? "LOCK" : "BETA_PIN_CODE_CREDENTIALS"},
            {"action", action},
            {"parameters", parameters}};
  std::vector<std::pair<std::string, std::string>> headers;
  if (!st.idempotencyKey.empty()) headers.push_back({"Idempotency-Key", st.idempotencyKey});
  json r = call(adapter, "POST", "/v1/devices/" + deviceId + "/actions", body, headers);
  json out{{"status", r.value("status", 0)}};
  const json& b = member(r, "body");
  if (out["status"] != 202 && member(b, "error").is_object())
    out["error"] = text(member(b, "error"), "code");
  if (out["status"] == 202) {
    out["actionId"] = text(b, "actionId");
    if (member(b, "pinId").is_string()) out["pinId"] = member(b, "pinId");
  }
  return out;
}

json controlPlaneEvent(http::Requester& sim, const Step& st, const std::string& lockPath) {
  auto status = [](const json& r) { return json{{"status", r.value("status", 0)}}; };
  switch (st.kind) {
    case StepKind::kOffline:
    case StepKind::kOnline:
      return status(call(sim, "POST", lockPath + "/connectivity",
                         {{"online", st.kind == StepKind::kOnline}}));
    case StepKind::kBattery:
      return status(call(sim, "POST", lockPath + "/battery", {{"charge", st.number}}));
    case StepKind::kJam:
    case StepKind::kFree:
      return status(call(sim, "POST", lockPath + "/jam", {{"jammed", st.kind == StepKind::kJam}}));
    case StepKind::kKeypad: {
      json r = call(sim, "POST", lockPath + "/keypad", {{"code", st.number}});
      const json& b = member(r, "body");
      if (r.value("status", 0) != 200) return status(r);
      return json{{"granted", member(b, "granted")}, {"reason", member(b, "reason")}};
    }
    case StepKind::kKnob:
      return status(
          call(sim, "POST", lockPath + "/manual", {{"action", st.lockIt ? "lock" : "unlock"}}));
    case StepKind::kAddCodeOnLock:
      return status(call(sim, "POST", lockPath + "/device-codes", st.code.nuki));
    case StepKind::kRemoveCodeOnLock:
      return status(call(sim, "DELETE", lockPath + "/device-codes/" + std::to_string(st.number)));
    case StepKind::kSync:
      return status(call(sim, "POST", lockPath + "/sync"));
    default:
      return json();
  }
}

json deviceReading(const Step& st, const json& device) {
  const json& t = member(device, "traits");
  auto state = [&](const char* trait) -> const json& { return member(member(t, trait), "state"); };
  json out = json::object();
  for (const auto& [k, v] : st.fields.items()) {
    if (k == "isLocked" || k == "isJammed") out[k] = member(state("LOCK"), k.c_str());
    if (k == "isOnline") out[k] = member(state("BETA_CONNECTIVITY"), "isOnline");
    if (k == "percentage") out[k] = member(state("BATTERY_LEVEL"), "percentage");
    if (k == "batteryStatus") out[k] = member(state("BATTERY_LEVEL"), "status");
    if (k == "pinCodes") {
      std::vector<std::string> codes;
      const json& list = member(state("BETA_PIN_CODE_CREDENTIALS"), "pinCodeCredentials");
      for (const auto& p : list.is_array() ? list : json::array())
        codes.push_back(member(p, "pinCode").is_string() ? text(p, "pinCode")
                                                         : member(p, "pinCode").dump());
      std::sort(codes.begin(), codes.end());
      out[k] = codes;
    }
  }
  return out;
}

json lockReading(const Step& st, const json& b) {
  json out = json::object();
  for (const auto& [k, v] : st.fields.items()) {
    if (k == "state") out[k] = member(b, "state");
    if (k == "online") out[k] = member(b, "online");
    if (k == "codes") {
      std::vector<int64_t> codes;
      const json& list = member(b, "codes");
      for (const auto& c : list.is_array() ? list : json::array())
        if (member(c, "code").is_number_integer())
          codes.push_back(member(c, "code").get<int64_t>());
      std::sort(codes.begin(), codes.end());
      out[k] = codes;
    }
  }
  return out;
}

json outboxReading(const Step& st, const json& outbox, const std::string& deviceId) {
  json pending = 0, parked = false;
  const json& streams = member(outbox, "streams");
  for (const auto& s : streams.is_array() ? streams : json::array())
    if (text(s, "deviceId") == deviceId) {
      pending = member(s, "pending");
      parked = member(s, "parked");
    }
  json out = json::object();
  if (st.fields.contains("pending")) out["pending"] = pending;
  if (st.fields.contains("parked")) out["parked"] = parked;
  return out;
}

json actionReading(const json& action) {
  json out{{"status", member(action, "status")}};
  if (member(action, "reason").is_string()) out["reason"] = member(action, "reason");
  return out;
}

bool worldEvent(StepKind k) {
  switch (k) {
    case StepKind::kOffline:
    case StepKind::kOnline:
    case StepKind::kBattery:
    case StepKind::kJam:
    case StepKind::kFree:
    case StepKind::kKnob:
    case StepKind::kAddCodeOnLock:
    case StepKind::kRemoveCodeOnLock:
    case StepKind::kSync:
    case StepKind::kResumeOutbox:
      return true;
    default:
      return false;
  }
}

std::string expectationProblem(const Step& st, const model::Prediction& p) {
  auto says = [&](const json& want) -> std::string {
    return "the file expects " + want.dump() + ", SPEC gives " + p.answer.dump() +
           (p.note.empty() ? "" : " (" + p.note + ")");
  };
  auto subset = [&](const json& want, const json& have) {
    for (const auto& [k, v] : want.items())
      if (!have.contains(k) || have[k] != v) {
        // A reason left out is no reason.
        if (k == "reason" && v.is_null() && !have.contains(k)) continue;
        return false;
      }
    return true;
  };
  switch (st.kind) {
    case StepKind::kSetLocked:
    case StepKind::kCreatePin:
    case StepKind::kUpdatePin:
    case StepKind::kDeletePin:
    case StepKind::kKeypad:
    case StepKind::kNukiRequest:
      if (!st.expect.is_null() && !subset(st.expect, p.answer)) return says(st.expect);
      return "";
    case StepKind::kExpectAction: {
      json want{{"status", st.actionStatus}};
      if (st.reason) want["reason"] = *st.reason;
      const bool ok = p.answer.value("status", "") == st.actionStatus &&
                      (!st.reason || p.answer.value("reason", "") == *st.reason);
      if (!ok) {
        bool alt = false;
        for (const auto& a : p.alternatives)
          alt = alt || (a.value("status", "") == st.actionStatus &&
                        (!st.reason || a.value("reason", "") == *st.reason));
        if (!alt) return says(want);
      }
      return "";
    }
    case StepKind::kExpectDevice:
    case StepKind::kExpectLock:
    case StepKind::kExpectOutbox:
      if (!p.allows(st.fields)) return says(st.fields);
      return "";
    default:
      return "";
  }
}

std::string ruleOfAnswer(const Step& st, const model::Prediction& p, const json& shown,
                         const SpecModel& model) {
  static const std::map<std::string, std::string> kRuleOfError = {
      {"PIN_FORMAT", "K1"},   {"PIN_CONTAINS_ZERO", "K2"},     {"PIN_STARTS_WITH_12", "K3"},
      {"NAME_LENGTH", "K6"},  {"SCHEDULE_INVALID", "K7"},      {"PIN_DUPLICATE", "K4"},
      {"PIN_CAPACITY", "K5"}, {"PIN_PENDING", "R-PIN-INVALID"}};
  if (!p.rule.empty()) return p.rule;
  switch (st.kind) {
    case StepKind::kSetLocked:
    case StepKind::kCreatePin:
    case StepKind::kUpdatePin:
    case StepKind::kDeletePin: {
      auto it = kRuleOfError.find(shown.value("error", ""));
      if (it != kRuleOfError.end()) return it->second;
      return st.kind == StepKind::kSetLocked ? "R-ACT-ONLINE" : "R-PIN-ACCEPTED";
    }
    case StepKind::kKeypad:
      return "R-KEYPAD";
    case StepKind::kNukiRequest:
      return "R-PIN-LOCAL";
    case StepKind::kExpectAction: {
      auto alias = model.aliases().find(st.ref);
      const std::string ref = alias == model.aliases().end() ? st.ref : alias->second;
      for (const auto& [lock, hooks] : model.expected())
        for (const auto& h : hooks)
          if (h.type == "deviceEventUpdateAction" && h.content.value("actionId", "") == ref)
            return h.rule;
      return "";
    }
    case StepKind::kExpectDevice:
      for (const auto& [k, v] : shown.items()) {
        if (p.answer.contains(k) && p.answer[k] == v) continue;
        if (k == "isOnline") return "R-CONN";
        if (k == "isJammed") return "R-ACT-JAMMED";
        if (k == "isLocked") return "R-ACT-ONLINE";
        if (k == "percentage" || k == "batteryStatus") return "R-BATT";
        if (k == "pinCodes") return "R-PIN-ACCEPTED";
      }
      return "";
    case StepKind::kExpectOutbox:
      return "R-DELIVERY";
    default:
      return "";  // device truth and the control plane are the simulator's (SPEC §3–4)
  }
}

json shownAnswer(const Step& st, const json& answer) {
  json shown = answer;
  shown.erase("actionId");
  shown.erase("pinId");
  if (worldEvent(st.kind) && shown.contains("status") && shown["status"].is_number_integer() &&
      shown["status"].get<int>() / 100 == 2)
    shown["status"] = 200;
  return shown;
}

Divergence answerDivergence(const Step& st, const model::Prediction& p, const json& shown,
                            const SpecModel& model) {
  Divergence d;
  d.rule = ruleOfAnswer(st, p, shown, model);
  d.message = st.label() + " " + describeStep(st) + ": answered " + shown.dump() + ", SPEC gives " +
              p.answer.dump() + (p.note.empty() ? "" : " (" + p.note + ")");
  return d;
}

json resolvePinIds(const json& params, const SpecModel& model, const Bindings& bindings) {
  json p = params;
  if (p.contains("id") && p["id"].is_string()) {
    const std::string id = p["id"];
    if (!id.empty() && id[0] == '@') {
      const std::string name = id.substr(1);
      // The model knows which PIN the name stands for; the bindings know its id.
      auto ref = model.pinRefOf(name);
      auto bound = ref ? bindings.pinId(*ref) : std::nullopt;
      p["id"] = bound ? *bound : "unbound-" + name;
    }
  }
  return p;
}

std::string bindAnswer(const Step& st, const json& answer, const SpecModel& model,
                       Bindings& bindings) {
  if (!model::isTraitAction(st.kind) || answer.value("status", 0) != 202) return "";
  const std::string ref = SpecModel::actionRef(st);
  auto alias = model.aliases().find(ref);
  const std::string canonical = alias == model.aliases().end() ? ref : alias->second;
  const std::string id = answer.value("actionId", "");
  if (auto known = bindings.actionId(canonical); known && *known != id)
    return st.label() + ": the repeated Idempotency-Key gave a new actionId " + id +
           " (the first request got " + *known + ")";
  bindings.bindAction(canonical, id);
  if (answer.contains("pinId") && st.kind == StepKind::kCreatePin)
    bindings.bindPin(canonical, text(answer, "pinId"));
  return "";
}

}  // namespace nukihil::scenarios
