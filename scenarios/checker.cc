#include "scenarios/checker.h"

#include <algorithm>

#include "runtime/time.h"

namespace nukihil::scenarios {

using model::ExpectedWebhook;
using nlohmann::json;

namespace {

// A string field of something the adapter or a file sent: "" when absent or not a string.
std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                : std::string();
}

// An rrule as (days bitmask Mon=64…Sun=1, start minute), by the spec model's own strict reading
// (order of parts and days does not matter; anything with no Nuki equivalent is no rrule).
std::optional<std::pair<int, int>> normalRrule(const std::string& r) {
  int days = 0, start = 0;
  if (!model::parseRrule(r, days, start)) return std::nullopt;
  return std::make_pair(days, start);
}

bool sameInstant(const json& a, const json& b) {
  if (!a.is_string() || !b.is_string()) return a == b;
  auto x = parseRfc3339(a.get<std::string>()), y = parseRfc3339(b.get<std::string>());
  return x && y && *x == *y;
}

// A pinCodeCredentials list: the same credentials (keyed by pinCode, which K4 keeps unique on a
// lock), ids through the bindings, schedules normalised (SPEC §6).
bool samePins(const json& expected, const json& observed, Bindings& bindings, std::string& why) {
  if (!observed.is_array()) {
    why = "the value is not a list";
    return false;
  }
  if (expected.size() != observed.size()) {
    why = "the list has " + std::to_string(observed.size()) + " credentials, SPEC predicts " +
          std::to_string(expected.size());
    return false;
  }
  for (const auto& e : expected) {
    const std::string code = e.value("pinCode", "");
    const json* o = nullptr;
    for (const auto& x : observed)
      if (str(x, "pinCode") == code) o = &x;
    if (!o) {
      why = "the code " + code + " is missing from the list";
      return false;
    }
    std::set<std::string> keys;
    for (const auto& [k, v] : o->items())
      keys.insert(k);
    for (const auto& [k, v] : e.items())
      keys.erase(k);
    if (!keys.empty()) {
      why = "credential " + code + " has fields SPEC does not give it: " + *keys.begin();
      return false;
    }
    // The id: stable for the life of the code, bound by name.
    const std::string ref = e.value("id", "");
    if (!o->contains("id") || !(*o)["id"].is_string()) {
      why = "credential " + code + " has no id";
      return false;
    }
    const std::string id = (*o)["id"];
    auto bound = bindings.pinRef(id);
    if (bound && *bound != ref) {
      why = "credential " + code + " has the id of " + *bound + ", not of " + ref;
      return false;
    }
    if (!bound) {
      if (auto other = bindings.pinId(ref); other && *other != id) {
        why = "credential " + code + " changed its id from " + *other + " to " + id +
              " (ids are stable for the life of a code)";
        return false;
      }
      bindings.bindPin(ref, id);
    }
    for (const char* k : {"name", "alwaysActive"}) {
      if (!o->contains(k) || (*o)[k] != e[k]) {
        why = "credential " + code + ": " + k + " is " +
              (o->contains(k) ? (*o)[k].dump() : "missing") + ", SPEC predicts " + e[k].dump();
        return false;
      }
    }
    const json& et = e["temporarySchedules"];
    const json ot = o->value("temporarySchedules", json());
    if (!ot.is_array() || ot.size() != et.size()) {
      why = "credential " + code + ": temporarySchedules differ";
      return false;
    }
    for (size_t i = 0; i < et.size(); ++i) {
      if (!ot[i].is_object() ||
          !sameInstant(et[i]["startDatetime"], ot[i].value("startDatetime", json())) ||
          !sameInstant(et[i]["endDatetime"], ot[i].value("endDatetime", json())) ||
          ot[i].size() != 2) {
        why = "credential " + code + ": temporary schedule " + ot[i].dump() + ", SPEC predicts " +
              et[i].dump();
        return false;
      }
    }
    const json& er = e["recurringSchedules"];
    const json orr = o->value("recurringSchedules", json());
    if (!orr.is_array() || orr.size() != er.size()) {
      why = "credential " + code + ": recurringSchedules differ";
      return false;
    }
    for (size_t i = 0; i < er.size(); ++i) {
      const auto a = normalRrule(er[i].value("rrule", ""));
      const auto b = orr[i].is_object() && orr[i].contains("rrule") && orr[i]["rrule"].is_string()
                         ? normalRrule(orr[i]["rrule"].get<std::string>())
                         : std::nullopt;
      if (!a || !b || *a != *b || orr[i].value("duration", json()) != er[i]["duration"] ||
          orr[i].size() != 2) {
        why = "credential " + code + ": recurring schedule " + orr[i].dump() + ", SPEC predicts " +
              er[i].dump();
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::string ObservedWebhook::describe() const {
  ExpectedWebhook e;
  e.type = type;
  e.content = content;
  return e.describe();
}

void Bindings::bindAction(const std::string& ref, const std::string& id) {
  actionIds_[ref] = id;
  actionRefs_.emplace(id, ref);  // the first name bound to an id is its canonical one
}
void Bindings::bindPin(const std::string& ref, const std::string& id) {
  pinIds_[ref] = id;
  pinRefs_.emplace(id, ref);
}
std::optional<std::string> Bindings::actionRef(const std::string& id) const {
  auto it = actionRefs_.find(id);
  return it == actionRefs_.end() ? std::nullopt : std::optional<std::string>(it->second);
}
std::optional<std::string> Bindings::pinRef(const std::string& id) const {
  auto it = pinRefs_.find(id);
  return it == pinRefs_.end() ? std::nullopt : std::optional<std::string>(it->second);
}
std::optional<std::string> Bindings::actionId(const std::string& ref) const {
  auto it = actionIds_.find(ref);
  return it == actionIds_.end() ? std::nullopt : std::optional<std::string>(it->second);
}
std::optional<std::string> Bindings::pinId(const std::string& ref) const {
  auto it = pinIds_.find(ref);
  return it == pinIds_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

bool matches(const ExpectedWebhook& e, const ObservedWebhook& o, Bindings& bindings,
             std::string& why) {
  if (e.type != o.type) {
    why = "a " + o.type + " where SPEC predicts a " + e.type;
    return false;
  }
  if (!o.content.is_object()) {
    why = "its content is not an object";
    return false;
  }
  for (const auto& [k, v] : o.content.items()) {
    if (!e.content.contains(k)) {
      why = "it carries " + k + "=" + v.dump() + ", which SPEC does not give it";
      return false;
    }
  }
  for (const auto& [k, v] : e.content.items()) {
    if (!o.content.contains(k)) {
      why = "it has no " + k + " (SPEC predicts " + k + "=" + v.dump() + ")";
      return false;
    }
    const json& ov = o.content[k];
    if (k == "actionId") {
      if (!ov.is_string()) {
        why = "actionId is not a string";
        return false;
      }
      auto ref = bindings.actionRef(ov.get<std::string>());
      if (!ref || *ref != v.get<std::string>()) {
        why = "actionId " + ov.get<std::string>() + " is " +
              (ref ? "the id of " + *ref : std::string("no action of this scenario")) +
              ", SPEC predicts the id of " + v.get<std::string>();
        return false;
      }
      continue;
    }
    if (k == "actionParameters") {
      if (!ov.is_object()) {
        why = "actionParameters is not an object";
        return false;
      }
      json mapped = ov;
      if (v.contains("id") && ov.contains("id") && ov["id"].is_string()) {
        auto ref = bindings.pinRef(ov["id"].get<std::string>());
        if (ref) mapped["id"] = *ref;
      }
      if (mapped != v) {
        why = "actionParameters " + ov.dump() + ", SPEC predicts " + v.dump();
        return false;
      }
      continue;
    }
    if (k == "value" && e.content.value("fieldName", "") == "pinCodeCredentials") {
      if (!samePins(v, ov, bindings, why)) return false;
      continue;
    }
    if (ov != v) {
      why = k + " is " + ov.dump() + ", SPEC predicts " + v.dump();
      return false;
    }
  }
  return true;
}

std::string ruleOfUnexpected(const ObservedWebhook& w, const std::vector<ExpectedWebhook>& expected,
                             const Bindings& bindings) {
  if (w.content.contains("actionId") && w.content["actionId"].is_string()) {
    if (auto ref = bindings.actionRef(w.content["actionId"].get<std::string>())) {
      for (const auto& e : expected)
        if (e.content.value("actionId", "") == *ref) return e.rule;
    }
    if (w.type == "deviceEventSetState" && str(w.content, "fieldName") == "pinCodeCredentials")
      return "R-PIN-ACCEPTED";
  }
  if (w.type == "deviceEventConfig") return "R-DISCOVER";
  if (w.type == "deviceEventSetState") {
    const std::string f = str(w.content, "fieldName");
    if (f == "isOnline") return "R-CONN";
    if (f == "percentage" || f == "status") return "R-BATT";
    if (f == "isLocked") return "R-MANUAL";
    if (f == "isJammed") return "R-ACT-JAMMED";
    if (f == "pinCodeCredentials") return "R-PIN-LOCAL";
  }
  return "R-DELIVERY";
}

std::optional<Divergence> compareDevice(const std::string& lock,
                                        const std::vector<ExpectedWebhook>& expected,
                                        const std::vector<ObservedWebhook>& observed,
                                        size_t mustHave, bool exact, Bindings& bindings) {
  auto diverge = [&](size_t k, std::string rule, std::string message) {
    Divergence d;
    d.lock = lock;
    d.index = k;
    d.rule = std::move(rule);
    d.message = std::move(message);
    if (k < expected.size()) d.expected = expected[k];
    if (k < observed.size()) d.observed = withNames(observed[k], bindings);
    return d;
  };
  for (size_t k = 0; k < observed.size(); ++k) {
    const ObservedWebhook& o = observed[k];
    if (k > 0 && o.occurredMs < observed[k - 1].occurredMs && !o.pending)
      return diverge(k, "R-DELIVERY",
                     "occurredAt goes back in time (" + o.occurredAt + " after " +
                         observed[k - 1].occurredAt + ")");
    // The same webhook a second time under another webhook-id.
    auto repeatOfEarlier = [&]() -> bool {
      for (size_t j = 0; j < k; ++j)
        if (observed[j].type == o.type && observed[j].content == o.content &&
            observed[j].occurredAt == o.occurredAt)
          return true;
      return false;
    };
    if (k >= expected.size()) {
      if (repeatOfEarlier())
        return diverge(k, "R-DELIVERY",
                       "the same webhook arrived again under a new webhook-id (" + o.id +
                           "); duplicates must share an id");
      return diverge(k, ruleOfUnexpected(o, expected, bindings),
                     "an unexpected webhook " + withNames(o, bindings).describe() +
                         ": SPEC predicts nothing more for this device by now" +
                         std::string(o.pending ? " (it is still in the outbox)" : ""));
    }
    std::string why;
    if (matches(expected[k], o, bindings, why)) continue;
    if (repeatOfEarlier())
      return diverge(k, "R-DELIVERY",
                     "the same webhook arrived again under a new webhook-id (" + o.id +
                         "); duplicates must share an id");
    // A hint at what happened: a webhook missing, or two swapped.
    std::string hint;
    std::string ignored;
    Bindings trial = bindings;
    bool reordered = false;
    if (k + 1 < expected.size() && matches(expected[k + 1], o, trial, ignored)) {
      Bindings trial2 = trial;
      reordered = true;
      if (k + 1 < observed.size() && matches(expected[k], observed[k + 1], trial2, ignored))
        hint = " — it and the next one are swapped";
      else
        hint = " — the predicted webhook before it is missing";
    }
    // Lost or reordered where delivery was held back: that is delivery's rule.
    const std::string rule = reordered && (expected[k].heldBack || expected[k + 1].heldBack)
                                 ? "R-DELIVERY"
                                 : expected[k].rule;
    return diverge(k, rule,
                   "observed " + withNames(o, bindings).describe() + ", SPEC predicts " +
                       expected[k].describe() + ": " + why + hint);
  }
  if (observed.size() > expected.size()) return std::nullopt;  // handled above
  if (exact && observed.size() < mustHave) {
    const size_t k = observed.size();
    return diverge(k, expected[k].heldBack ? "R-DELIVERY" : expected[k].rule,
                   "missing: " + expected[k].describe() +
                       " was never received, nor is it waiting in the adapter's outbox");
  }
  if (exact && observed.size() > mustHave) {
    const size_t k = mustHave;
    return diverge(k, "R-DELIVERY",
                   "received although its device's stream should still be held back (receiver "
                   "down or stream parked)");
  }
  return std::nullopt;
}

ObservedWebhook withNames(const ObservedWebhook& w, const Bindings& bindings) {
  ObservedWebhook out = w;
  json& c = out.content;
  if (!c.is_object()) return out;
  if (c.contains("actionId") && c["actionId"].is_string())
    if (auto ref = bindings.actionRef(c["actionId"].get<std::string>())) c["actionId"] = *ref;
  if (c.contains("actionParameters") && c["actionParameters"].is_object() &&
      c["actionParameters"].contains("id") && c["actionParameters"]["id"].is_string())
    if (auto ref = bindings.pinRef(c["actionParameters"]["id"].get<std::string>()))
      c["actionParameters"]["id"] = *ref;
  if (str(c, "fieldName") == "pinCodeCredentials" && c.contains("value") && c["value"].is_array())
    for (auto& p : c["value"])
      if (p.is_object() && p.contains("id") && p["id"].is_string())
        if (auto ref = bindings.pinRef(p["id"].get<std::string>())) p["id"] = *ref;
  return out;
}

bool entryMatches(const json& entry, const ExpectedWebhook& e,
                  const std::map<std::string, std::string>& aliases,
                  const std::function<std::optional<std::string>(const std::string&)>& pinRef,
                  std::string& why) {
  if (entry.value("type", "") != e.type) {
    why = "type " + entry.value("type", "") + ", the model predicts " + e.describe();
    return false;
  }
  const json& c = entry.contains("content") ? entry["content"] : json::object();
  for (const auto& [k, v] : c.items()) {
    if (!e.content.contains(k)) {
      why = k + " " + v.dump() + ", but the model's " + e.describe() + " has no " + k;
      return false;
    }
    const json& ev = e.content[k];
    if (k == "actionId") {
      std::string name = v.get<std::string>().substr(1);
      auto it = aliases.find(name);
      const std::string ref = it == aliases.end() ? name : it->second;
      if (ev != ref) {
        why = "actionId @" + name + ", the model predicts " + e.describe();
        return false;
      }
      continue;
    }
    if (k == "actionParameters" && v.is_object() && v.contains("id") && v["id"].is_string() &&
        !v["id"].get<std::string>().empty() && v["id"].get<std::string>()[0] == '@') {
      json mapped = v;
      const std::string name = v["id"].get<std::string>().substr(1);
      mapped["id"] = pinRef(name).value_or(name);
      if (mapped != ev) {
        why = "actionParameters " + v.dump() + ", the model predicts " + ev.dump();
        return false;
      }
      continue;
    }
    if (k == "value" && e.content.value("fieldName", "") == "pinCodeCredentials" && v.is_array()) {
      std::vector<std::string> want, have;
      for (const auto& x : v)
        want.push_back(x.is_string() ? x.get<std::string>() : str(x, "pinCode"));
      for (const auto& x : ev)
        have.push_back(str(x, "pinCode"));
      std::sort(want.begin(), want.end());
      std::sort(have.begin(), have.end());
      if (want != have) {
        why =
            "pinCodeCredentials " + json(want).dump() + ", the model predicts " + json(have).dump();
        return false;
      }
      continue;
    }
    if (ev != v) {
      why = k + " " + v.dump() + ", the model predicts " + ev.dump() + " (" + e.describe() + ")";
      return false;
    }
  }
  return true;
}

}  // namespace nukihil::scenarios
