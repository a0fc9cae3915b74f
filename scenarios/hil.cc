#include "scenarios/hil.h"

#include <map>
#include <set>
#include <sstream>

#include "runtime/json_input.h"
#include "runtime/time_zone.h"
#include "scenarios/runner.h"

namespace nukihil::scenarios {

using model::Scenario;
using model::Step;
using model::StepKind;
using nlohmann::json;

const char* targetName(TargetKind t) {
  switch (t) {
    case TargetKind::kEmbedded:
      return "embedded";
    case TargetKind::kNukiWeb:
      return "nuki-web";
    case TargetKind::kRemote:
      return "remote";
  }
  return "?";
}

const char* howName(How h) {
  switch (h) {
    case How::kPerform:
      return "performs";
    case How::kOperator:
      return "asks the operator";
    case How::kSkipStep:
      return "skips the scenario";
    case How::kSkipCheck:
      return "skips the check";
  }
  return "?";
}

const HilLock* HilFile::lock(const std::string& name) const {
  for (const auto& l : locks)
    if (l.name == name) return &l;
  return nullptr;
}

namespace {

std::optional<int> parseHhMm(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  const int h = std::stoi(s.substr(0, 2)), m = std::stoi(s.substr(3, 2));
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string hhmm(int minute) {
  const int h = (minute / 60) % 24, m = minute % 60;
  return std::string{char('0' + h / 10), char('0' + h % 10), ':', char('0' + m / 10),
                     char('0' + m % 10)};
}

}  // namespace

HilParse parseHilFile(const std::string& text, const std::string& file) {
  HilParse out;
  auto problem = [&](const std::string& path, const std::string& message, int line = 0,
                     int column = 0) {
    out.problems.push_back(model::Problem{file, path, "", message, line, column});
  };
  JsonSyntaxError syntax;
  auto j = parseJson(text, syntax);
  if (!j) {
    problem("", "not JSON: " + syntax.text(), syntax.line, syntax.column);
    return out;
  }
  if (!j->is_object()) {
    problem("", "must be an object {\"locks\": [...]}");
    return out;
  }
  if (auto u = unknownField(*j, "", {"locks", "description"}); !u.empty()) problem("", u);
  HilFile hil;
  hil.file = file;
  const json& locks = j->contains("locks") ? (*j)["locks"] : json();
  if (!locks.is_array() || locks.empty()) {
    problem("locks", "must be a non-empty array of the real locks the scenarios may use");
    return out;
  }
  std::set<std::string> names;
  std::set<uint64_t> ids;
  for (size_t i = 0; i < locks.size(); ++i) {
    const std::string path = "locks[" + std::to_string(i) + "]";
    const json& l = locks[i];
    if (!l.is_object()) {
      problem(path, "must be an object");
      continue;
    }
    if (auto u = unknownField(l, path,
                              {"name", "smartlockId", "model", "bridgeId", "timezone", "syncAt",
                               "motorSeconds", "deliverySeconds"});
        !u.empty())
      problem("", u);
    HilLock h;
    if (!l.contains("name") || !l["name"].is_string() || l["name"].get<std::string>().empty()) {
      problem(path + ".name", "required: the scenario lock name this real lock stands for");
    } else {
      h.name = l["name"];
      if (!names.insert(h.name).second)
        problem(path + ".name", "another lock of the file is named '" + h.name + "'");
    }
    if (!l.contains("smartlockId") || !l["smartlockId"].is_number_unsigned() ||
        l["smartlockId"].get<uint64_t>() == 0) {
      problem(path + ".smartlockId", "required: the lock's smartlockId in Nuki Web (a number)");
    } else {
      h.smartlockId = l["smartlockId"];
      if (!ids.insert(h.smartlockId).second)
        problem(path + ".smartlockId",
                "smartlock " + std::to_string(h.smartlockId) + " is listed twice");
    }
    if (l.contains("model")) {
      const json& m = l["model"];
      if (m != "3.0" && m != "3.0 Pro")
        problem(path + ".model", "must be \"3.0\" or \"3.0 Pro\", not " + m.dump());
      else
        h.pro = m == "3.0 Pro";
    }
    if (l.contains("bridgeId")) {
      if (!l["bridgeId"].is_number_unsigned())
        problem(path + ".bridgeId", "must be a number (the bridge's id in Nuki Web)");
      else if (h.pro)
        problem(path + ".bridgeId", "only a \"3.0\" reaches the cloud through a bridge");
      else
        h.bridgeId = l["bridgeId"].get<uint64_t>();
    } else if (!h.pro) {
      problem(path + ".bridgeId", "required for a \"3.0\": the bridge it reaches Nuki Web through");
    }
    if (l.contains("timezone")) {
      if (!l["timezone"].is_string() || !TimeZone::find(l["timezone"].get<std::string>()))
        problem(path + ".timezone",
                "must be an IANA time zone (\"Europe/Berlin\"), not " + l["timezone"].dump());
      else
        h.timezone = l["timezone"];
    }
    if (l.contains("syncAt")) {
      auto m = l["syncAt"].is_string() ? parseHhMm(l["syncAt"]) : std::nullopt;
      if (!m)
        problem(path + ".syncAt", "must be HH:MM, the lock's daily sync in its local time");
      else
        h.syncAtMinute = *m;
    }
    for (const char* key : {"motorSeconds", "deliverySeconds"}) {
      if (!l.contains(key)) continue;
      if (!l[key].is_number_unsigned() || l[key].get<uint64_t>() > 3600) {
        problem(path + "." + key, "must be a whole number of seconds (0–3600)");
        continue;
      }
      (std::string(key) == "motorSeconds" ? h.motorSeconds : h.deliverySeconds) = l[key].get<int>();
    }
    hil.locks.push_back(std::move(h));
  }
  if (out.problems.empty()) out.hil = std::move(hil);
  return out;
}

Capability capabilityOf(TargetKind target, StepKind kind) {
  if (target == TargetKind::kEmbedded) {
    if (kind == StepKind::kAdvance || kind == StepKind::kAdvanceTo)
      return {How::kPerform, "moves the virtual clock"};
    if (model::isTraitAction(kind)) return {How::kPerform, "the adapter's /v1 API"};
    return {How::kPerform, "nukisim's control plane, the adapter or the recorder"};
  }
  if (target == TargetKind::kRemote) {
    switch (kind) {
      case StepKind::kAdvance:
        return {How::kPerform, "a real wait (nukisim runs on the wall clock)"};
      case StepKind::kAdvanceTo:
        return {How::kPerform,
                "to the lock's daily sync: nukisim's sync now; to any other instant: skips the "
                "scenario"};
      case StepKind::kRestartAdapter:
        return {How::kPerform, "the harness's nuki-adapter process; `during` skips the scenario"};
      case StepKind::kExpectAction:
      case StepKind::kExpectDevice:
      case StepKind::kExpectOutbox:
        return {How::kPerform, "the adapter's /v1 API, until it agrees or the check times out"};
      case StepKind::kFault:
        return {How::kPerform,
                "nukisim's faults, on the wall clock; a window with an absolute `from` or "
                "`until` skips the scenario"};
      case StepKind::kClearFaults:
        return {How::kPerform, "nukisim's faults"};
      default:
        return {How::kPerform, model::isTraitAction(kind) ? "the adapter's /v1 API"
                                                          : "nukisim's control plane, the "
                                                            "adapter or the recorder"};
    }
  }
  switch (kind) {
    case StepKind::kSetLocked:
      return {How::kPerform, "POST /v1/devices/{id}/actions (an unlock only with --allow-unlock)"};
    case StepKind::kCreatePin:
    case StepKind::kUpdatePin:
    case StepKind::kDeletePin:
      return {How::kPerform, "POST /v1/devices/{id}/actions"};
    case StepKind::kOffline:
      return {How::kOperator, "unplug the bridge (3.0) or cut the lock's Wi-Fi (3.0 Pro)"};
    case StepKind::kOnline:
      return {How::kOperator, "plug the bridge in again / give the lock its Wi-Fi back"};
    case StepKind::kBattery:
      return {How::kSkipStep, "a real lock's charge cannot be set to a given percentage"};
    case StepKind::kJam:
      return {How::kOperator, "block the bolt so the motor cannot turn"};
    case StepKind::kFree:
      return {How::kOperator, "free the bolt"};
    case StepKind::kKeypad:
      return {How::kOperator,
              "type the code on the keypad and say whether the lock opened (the refusal "
              "reason cannot be read)"};
    case StepKind::kKnob:
      return {How::kOperator, "turn the knob"};
    case StepKind::kAddCodeOnLock:
      return {How::kOperator, "add the code on the lock with the Nuki app over Bluetooth"};
    case StepKind::kRemoveCodeOnLock:
      return {How::kOperator, "remove the code on the lock with the Nuki app over Bluetooth"};
    case StepKind::kNukiRequest:
      return {How::kPerform, "the Nuki Web API, as another client (locks of the HIL file only)"};
    case StepKind::kSync:
      return {How::kPerform, "POST /smartlock/{id}/sync"};
    case StepKind::kAdvance:
      return {How::kPerform, "a real wait, with a countdown"};
    case StepKind::kAdvanceTo:
      return {How::kPerform,
              "to the lock's daily sync: POST /smartlock/{id}/sync; to any other local time or "
              "to an absolute time: skips the scenario"};
    case StepKind::kFault:
      return {How::kPerform,
              "the harness's fault proxy between the adapter and Nuki Web (nothing is sent to "
              "Nuki Web); a window with an absolute `from` or `until` skips the scenario"};
    case StepKind::kClearFaults:
      return {How::kPerform, "the harness's fault proxy: every fault it holds is dropped"};
    case StepKind::kReceiverDown:
    case StepKind::kReceiverUp:
      return {How::kPerform, "the harness's own webhook recorder"};
    case StepKind::kRestartAdapter:
      return {How::kPerform,
              "the harness's nuki-adapter process (kill -9 or SIGTERM, started again on its "
              "database); `during` skips the scenario"};
    case StepKind::kResumeOutbox:
      return {How::kPerform, "POST /v1/outbox/{deviceId}/resume"};
    case StepKind::kExpectAction:
    case StepKind::kExpectDevice:
    case StepKind::kExpectOutbox:
      return {How::kPerform, "the adapter's /v1 API, until it agrees or the check times out"};
    case StepKind::kExpectLock:
      return {How::kSkipCheck, "device truth cannot be read from a real lock"};
  }
  return {How::kSkipStep, "?"};
}

std::string capabilityTable() {
  static const StepKind kinds[] = {
      StepKind::kSetLocked,        StepKind::kCreatePin,    StepKind::kUpdatePin,
      StepKind::kDeletePin,        StepKind::kOffline,      StepKind::kOnline,
      StepKind::kBattery,          StepKind::kJam,          StepKind::kFree,
      StepKind::kKeypad,           StepKind::kKnob,         StepKind::kAddCodeOnLock,
      StepKind::kRemoveCodeOnLock, StepKind::kNukiRequest,  StepKind::kSync,
      StepKind::kAdvance,          StepKind::kAdvanceTo,    StepKind::kFault,
      StepKind::kClearFaults,      StepKind::kReceiverDown, StepKind::kReceiverUp,
      StepKind::kRestartAdapter,   StepKind::kResumeOutbox, StepKind::kExpectAction,
      StepKind::kExpectDevice,     StepKind::kExpectLock,   StepKind::kExpectOutbox};
  std::ostringstream o;
  o << "| step | embedded | remote | nuki-web |\n|---|---|---|---|\n";
  for (StepKind k : kinds) {
    const Capability e = capabilityOf(TargetKind::kEmbedded, k);
    const Capability r = capabilityOf(TargetKind::kRemote, k);
    const Capability w = capabilityOf(TargetKind::kNukiWeb, k);
    o << "| `" << model::stepKindName(k) << "` | " << howName(e.how) << " | " << howName(r.how)
      << (k == StepKind::kAdvance || k == StepKind::kAdvanceTo || k == StepKind::kRestartAdapter ||
                  k == StepKind::kFault || r.how != How::kPerform
              ? ": " + r.what
              : std::string())
      << " | " << howName(w.how) << ": " << w.what << " |\n";
  }
  return o.str();
}

namespace {

// Does the file set `key` for this lock, itself or through `settings`? (The parsed lock has
// defaults filled in, so the file's own text decides.)
bool sets(const Scenario& s, const model::LockSpec& l, const char* key) {
  const json& locks = s.raw.contains("locks") ? s.raw["locks"] : json::array();
  for (const auto& raw : locks.is_array() ? locks : json::array())
    if (raw.is_object() && raw.value("name", "") == l.name && raw.contains(key)) return true;
  return std::string(key) != "model" && s.raw.value("settings", json::object()).contains(key);
}

}  // namespace

ScenarioPlan planScenario(std::shared_ptr<const Scenario> scenario, TargetKind target,
                          const HilFile* hil, const PlanOptions& options) {
  const Scenario& s = *scenario;
  ScenarioPlan plan;
  plan.file = s.file;
  plan.name = s.name;
  plan.adapted = scenario;
  auto skip = [&](std::string why) {
    plan.runnable = false;
    plan.skipReasons.push_back(std::move(why));
  };
  auto adapted = std::make_shared<Scenario>(s);
  if (target == TargetKind::kNukiWeb) {
    if (!hil) {
      skip("no HIL file (--hil) maps its locks to real ones");
    } else {
      std::vector<std::string> offered;
      for (const auto& h : hil->locks)
        offered.push_back(h.name);
      std::map<std::optional<uint64_t>, std::set<std::optional<uint64_t>>> bridges;
      for (auto& l : adapted->locks) {
        const HilLock* h = hil->lock(l.name);
        if (!h) {
          std::string list;
          for (const auto& n : offered)
            list += (list.empty() ? "" : ", ") + n;
          skip("needs a lock named '" + l.name + "'; the HIL file has " + list);
          continue;
        }
        if (sets(s, l, "model") && l.pro != h->pro)
          skip("'" + l.name + "' must be a " + (l.pro ? "3.0 Pro" : "3.0") +
               "; the real one is a " + (h->pro ? "3.0 Pro" : "3.0"));
        if (sets(s, l, "timezone") && l.timezone != h->timezone)
          skip("'" + l.name + "' must be in " + l.timezone + "; the real one is in " + h->timezone);
        if (sets(s, l, "syncAt") && l.syncAtMinute != h->syncAtMinute)
          skip("'" + l.name + "' must sync at " + hhmm(l.syncAtMinute) +
               "; the real one syncs at " + hhmm(h->syncAtMinute));
        if (h->motorSeconds && sets(s, l, "motorSeconds") && l.motorSeconds != *h->motorSeconds)
          skip("'" + l.name + "' must take " + std::to_string(l.motorSeconds) +
               " s to lock; the real one takes " + std::to_string(*h->motorSeconds) + " s");
        if (h->deliverySeconds && sets(s, l, "deliverySeconds") &&
            l.deliverySeconds != *h->deliverySeconds)
          skip("'" + l.name + "' must get a code in " + std::to_string(l.deliverySeconds) +
               " s; the real one takes " + std::to_string(*h->deliverySeconds) + " s");
        if (sets(s, l, "batteryCharge"))
          skip("'" + l.name + "' starts at " + std::to_string(l.battery) +
               "% charge; a real lock's charge cannot be set");
        if (!l.codes.empty())
          skip("'" + l.name + "' starts with " + std::to_string(l.codes.size()) +
               " codes on it; the harness does not put codes on a real lock before a scenario");
        if (!l.online) skip("'" + l.name + "' starts offline");
        // 3.0 locks sharing a bridge in the scenario must share one for real, and the other
        // way round.
        if (!l.pro && h->bridgeId) {
          const std::optional<uint64_t> mine =
              l.bridgeId ? l.bridgeId : std::optional<uint64_t>(1000000 + bridges.size());
          bridges[mine].insert(h->bridgeId);
        }
        l.pro = h->pro;
        l.bridgeId = h->bridgeId;
        l.timezone = h->timezone;
        l.syncAtMinute = h->syncAtMinute;
        if (h->motorSeconds) l.motorSeconds = *h->motorSeconds;
        if (h->deliverySeconds) l.deliverySeconds = *h->deliverySeconds;
        // The same facts for nukisim, when the scenario also runs in the embedded world.
        l.fleet["model"] = h->pro ? "3.0 Pro" : "3.0";
        if (h->bridgeId)
          l.fleet["bridgeId"] = *h->bridgeId;
        else
          l.fleet.erase("bridgeId");
        l.fleet["timezone"] = h->timezone;
        l.fleet["syncAt"] = hhmm(h->syncAtMinute);
        l.fleet["motorSeconds"] = l.motorSeconds;
        l.fleet["deliverySeconds"] = l.deliverySeconds;
        plan.lockMap.push_back(
            l.name + " → smartlock " + std::to_string(h->smartlockId) + " (" +
            (h->pro ? "3.0 Pro" : "3.0 via bridge " + std::to_string(*h->bridgeId)) + ", " +
            h->timezone + ", daily sync " + hhmm(h->syncAtMinute) + ")");
      }
      std::set<std::optional<uint64_t>> realBridges;
      for (const auto& [mine, real] : bridges) {
        if (real.size() > 1)
          skip("locks that share a bridge in the scenario are on different bridges for real");
        for (const auto& r : real)
          if (!realBridges.insert(r).second)
            skip("locks on different bridges in the scenario share one for real");
      }
    }
    if (s.raw.contains("start"))
      skip("it starts at " + formatRfc3339(s.start) +
           "; a real clock cannot be set to an absolute instant");
    if (s.nukiWebhooks && !options.publicUrl)
      skip(
          "the adapter needs Nuki's webhooks (adapter.nukiWebhooks) and Nuki Web cannot reach "
          "it: give --public-url, or a loopback --nuki-url");
    if (options.allowUnlock)
      plan.before.push_back(
          "a lock of the scenario that is locked is unlocked first (--allow-unlock)");
    if (s.nukiWebhooks)
      plan.before.push_back(
          "the adapter registers its Nuki webhook (PUT /api/decentralWebhook; removed at the "
          "end)");
  }
  if (target == TargetKind::kRemote) {
    if (s.raw.contains("start"))
      skip("it starts at " + formatRfc3339(s.start) +
           "; nukisim on the wall clock cannot be set to an absolute instant");
    if (s.nukiWebhooks && !options.publicUrl)
      skip(
          "the adapter needs Nuki's webhooks (adapter.nukiWebhooks) and nukisim cannot reach "
          "it: give --public-url");
  }
  for (const Step& st : s.steps) {
    StepPlan sp;
    sp.index = st.index;
    sp.label = st.label();
    sp.text = describeStep(st);
    Capability c = capabilityOf(target, st.kind);
    sp.how = c.how;
    sp.what = c.what;
    const HilLock* h = hil && !st.lock.empty() ? hil->lock(st.lock) : nullptr;
    const std::string where =
        h ? " on " + st.lock + " (smartlock " + std::to_string(h->smartlockId) + ")" : "";
    if (target == TargetKind::kRemote) {
      if (st.kind == StepKind::kAdvance) plan.waitSeconds += st.seconds;
      const model::LockSpec* l = st.lock.empty() ? nullptr : s.lock(st.lock);
      if (st.kind == StepKind::kAdvanceTo && (st.time || !l || st.localMinute != l->syncAtMinute)) {
        sp.how = How::kSkipStep;
        sp.what = st.time ? "an absolute time cannot be reached on the wall clock"
                          : "a local time other than the lock's daily sync would be a real wait "
                            "of hours";
      }
      if (st.kind == StepKind::kRestartAdapter && !st.during.empty()) {
        sp.how = How::kSkipStep;
        sp.what = "a kill `during` an exchange cannot be timed against a separate nukisim";
      }
    }
    // A fault's window in scenario time names instants the wall clock is not at.
    if (target != TargetKind::kEmbedded && st.kind == StepKind::kFault &&
        (st.fault.contains("from") || st.fault.contains("until"))) {
      sp.how = How::kSkipStep;
      sp.what =
          "a fault window with an absolute `from` or `until` cannot be honoured on the "
          "wall clock (use forSeconds or count)";
    }
    if (target == TargetKind::kNukiWeb) {
      switch (st.kind) {
        case StepKind::kSetLocked:
          if (!st.parameters.value("lock", true) && !options.allowUnlock) {
            sp.how = How::kSkipStep;
            sp.what = "a real unlock needs --allow-unlock";
          } else {
            sp.what = st.parameters.value("lock", true) ? "lock" : "UNLOCK";
            sp.accountChange = sp.what + where;
          }
          break;
        case StepKind::kCreatePin:
          sp.accountChange = "new keypad code " +
                             (st.parameters.contains("pinCode") ? st.parameters["pinCode"].dump()
                                                                : std::string("?")) +
                             where + " (removed at the end)";
          break;
        case StepKind::kUpdatePin:
          sp.accountChange = "changes a keypad code the scenario made" + where;
          break;
        case StepKind::kDeletePin:
          sp.accountChange = "deletes a keypad code the scenario made" + where;
          break;
        case StepKind::kNukiRequest: {
          // On a real account the harness only reads the lock and changes keypad codes the
          // scenario makes: nothing that unlocks, renames or removes anything.
          const std::string& p = st.path;
          const bool named = p.size() > 22 && p.rfind("/smartlock/{lock}/auth/{@", 0) == 0 &&
                             p.back() == '}' && p.find('}', 25) == p.size() - 1;
          const bool allowed =
              p.find("..") == std::string::npos && p.find('?') == std::string::npos &&
              ((st.method == "GET" &&
                (p == "/smartlock/{lock}" || p.rfind("/smartlock/{lock}/", 0) == 0)) ||
               (st.method == "PUT" && p == "/smartlock/{lock}/auth" && st.body.is_object() &&
                st.body.value("type", -1) == 13 && st.body.contains("code") &&
                st.body["code"].is_number_integer()) ||
               ((st.method == "POST" || st.method == "DELETE") && named) ||
               (st.method == "POST" && p == "/smartlock/{lock}/sync"));
          if (!allowed) {
            sp.how = How::kSkipStep;
            sp.what = st.method + " " + p +
                      " is not sent to a real account: only reads of the lock, PUT "
                      "/smartlock/{lock}/auth of a keypad code (type 13, a numeric code; "
                      "removed at the end), POST or DELETE "
                      "/smartlock/{lock}/auth/{@name} (a code the scenario made) and POST "
                      "/smartlock/{lock}/sync";
          } else if (st.method != "GET") {
            sp.accountChange = st.method + " " + p + where;
          }
          break;
        }
        case StepKind::kSync:
          sp.accountChange = "sync" + where;
          break;
        case StepKind::kAdvance:
          plan.waitSeconds += st.seconds;
          sp.what = "waits " + std::to_string(st.seconds) + " s";
          break;
        case StepKind::kAdvanceTo:
          if (!st.time && h && st.localMinute == h->syncAtMinute) {
            sp.what = "the daily sync at " + hhmm(st.localMinute) + ": POST /smartlock/{id}/sync";
            sp.accountChange = "sync" + where;
          } else {
            sp.how = How::kSkipStep;
            sp.what = st.time ? "an absolute time cannot be reached on a real clock"
                              : "a local time other than the daily sync (" +
                                    (h ? hhmm(h->syncAtMinute) : std::string("?")) +
                                    ") would be a real wait of hours";
          }
          break;
        case StepKind::kRestartAdapter:
          if (!st.during.empty()) {
            sp.how = How::kSkipStep;
            sp.what = "a kill `during` an exchange cannot be timed against a real service";
          }
          break;
        default:
          break;
      }
      if (sp.how == How::kOperator) {
        sp.what += where;
        if (!options.haveOperator) {
          sp.how = How::kSkipStep;
          sp.what = "needs an operator: " + sp.what;
        }
      }
    }
    if (sp.how == How::kSkipStep) skip(st.label() + ": " + sp.what);
    plan.steps.push_back(std::move(sp));
  }
  if (plan.waitSeconds > options.maxWaitSeconds)
    skip("its advances wait " + std::to_string(plan.waitSeconds) + " s in all, more than " +
         "--max-wait " + std::to_string(options.maxWaitSeconds) + " s");
  plan.adapted = adapted;
  return plan;
}

std::string planText(const ScenarioPlan& plan) {
  std::ostringstream o;
  o << plan.file << " — " << plan.name << "\n";
  if (!plan.runnable) {
    o << "  SKIPPED:\n";
    for (const auto& r : plan.skipReasons)
      o << "    - " << r << "\n";
    return o.str();
  }
  for (const auto& m : plan.lockMap)
    o << "  lock: " << m << "\n";
  for (const auto& b : plan.before)
    o << "  before: " << b << "\n";
  for (const auto& sp : plan.steps) {
    o << "  " << sp.label << " " << sp.text << "\n      " << howName(sp.how) << ": " << sp.what
      << "\n";
    if (!sp.accountChange.empty()) o << "      account: " << sp.accountChange << "\n";
  }
  if (plan.waitSeconds) o << "  real waiting: " << plan.waitSeconds << " s\n";
  o << "  at the end: the codes it made are deleted and each lock is locked or unlocked again "
       "as it was at the start (unlocking only with --allow-unlock, else it is left locked); "
       "what cannot be is listed in the report\n";
  return o.str();
}

}  // namespace nukihil::scenarios
