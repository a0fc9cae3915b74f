#include "scenarios/model/spec_model.h"

#include <algorithm>
#include <cassert>
#include <tuple>

namespace nukihil::model {

using nlohmann::json;

namespace {

constexpr const char* kLock = "LOCK";
constexpr const char* kBattery = "BATTERY_LEVEL";
constexpr const char* kPins = "BETA_PIN_CODE_CREDENTIALS";
constexpr const char* kConnectivity = "BETA_CONNECTIVITY";
constexpr const char* kDayNames[7] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};

// Motor states (SPEC §3).
constexpr int kLocked = 1, kUnlocking = 2, kUnlocked = 3, kLocking = 4, kBlocked = 254;
// The motor is running (unlocking, locking, unlatching): a report of it settles nothing.
constexpr bool moving(int state) {
  return state == kUnlocking || state == kLocking || state == 7;
}

std::string formatInstant(int64_t ms) {
  std::string s = formatRfc3339(timeFromMillis(ms));
  if (s.size() == 24 && s.compare(19, 4, ".000") == 0) s = s.substr(0, 19) + "Z";
  return s;
}

// The Nuki route of a request path: "/smartlock/123/auth/abc" → "/auth/{authId}" and the lock id.
struct Route {
  bool lockRoute = false;
  std::string tail;  // after /smartlock/{id}
};

Route routeOf(const std::string& path) {
  Route r;
  const std::string prefix = "/smartlock/";
  if (path.rfind(prefix, 0) != 0) return r;
  size_t i = prefix.size();
  size_t j = i;
  while (j < path.size() && path[j] >= '0' && path[j] <= '9')
    ++j;
  if (j == i) return r;
  r.lockRoute = true;
  r.tail = path.substr(j);
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Small pieces

std::string ExpectedWebhook::describe() const {
  // Also describes what a receiver got, so no field is trusted to have its type.
  auto text = [&](const char* k) -> std::string {
    if (!content.is_object() || !content.contains(k)) return "";
    return content[k].is_string() ? content[k].get<std::string>() : content[k].dump();
  };
  auto ref = [&](const char* k) -> std::string {
    return content.is_object() && content.contains(k) ? " @" + text(k) : "";
  };
  if (type == "deviceEventConfig") return "Config";
  if (type == "deviceEventQueueAction")
    return "QueueAction " + text("actionName") + ref("actionId");
  if (type == "deviceEventUpdateAction") {
    std::string s = "UpdateAction " + text("status");
    if (content.is_object() && content.contains("reason")) s += " " + text("reason");
    return s + ref("actionId");
  }
  if (type == "deviceEventSetState") {
    std::string s = "SetState " + text("traitName") + "." + text("fieldName");
    const json v = content.is_object() && content.contains("value") ? content["value"] : json();
    if (text("fieldName") == "pinCodeCredentials" && v.is_array()) {
      std::vector<std::string> codes;
      for (const auto& p : v)
        codes.push_back(p.is_object() && p.contains("pinCode") && p["pinCode"].is_string()
                            ? p["pinCode"].get<std::string>()
                            : "?");
      std::sort(codes.begin(), codes.end());
      s += "=[";
      for (size_t i = 0; i < codes.size() && i < 6; ++i)
        s += (i ? "," : "") + codes[i];
      if (codes.size() > 6) s += ",… " + std::to_string(codes.size()) + " codes";
      s += "]";
    } else {
      s += "=" + v.dump();
    }
    return s + ref("actionId");
  }
  return type;
}

bool Prediction::allows(const json& observed) const {
  if (observed == answer) return true;
  for (const auto& a : alternatives)
    if (observed == a) return true;
  return false;
}

std::vector<std::string> SpecModel::namesUsedBy(const Step& st) {
  std::vector<std::string> out;
  if (st.parameters.is_object() && st.parameters.contains("id") &&
      st.parameters["id"].is_string()) {
    const std::string id = st.parameters["id"];
    if (!id.empty() && id[0] == '@') out.push_back(id.substr(1));
  }
  if (st.kind == StepKind::kExpectAction) out.push_back(st.ref);
  for (size_t pos = st.path.find("{@"); pos != std::string::npos;
       pos = st.path.find("{@", pos + 1)) {
    const size_t end = st.path.find('}', pos);
    if (end != std::string::npos) out.push_back(st.path.substr(pos + 2, end - pos - 2));
  }
  return out;
}

std::string SpecModel::actionRef(const Step& st) {
  return st.as.empty() ? "#" + std::to_string(st.index) : st.as;
}

bool SpecModel::globMatch(const std::string& p, const std::string& t) {
  // '*' matches any run of characters, '?' one.
  size_t pi = 0, ti = 0, star = std::string::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == t[ti] || p[pi] == '?')) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*')
    ++pi;
  return pi == p.size();
}

// ---------------------------------------------------------------------------------------------
// Construction and discovery

SpecModel::SpecModel(std::shared_ptr<const Scenario> scenario) : scenario_(std::move(scenario)) {
  nowMs_ = millisOf(scenario_->start);
  std::map<uint64_t, int> bridgeById;
  for (size_t i = 0; i < scenario_->locks.size(); ++i) {
    const LockSpec& ls = scenario_->locks[i];
    LockState l;
    l.spec = i;
    l.battery = ls.battery;
    if (!ls.pro) {
      int b;
      if (ls.bridgeId && bridgeById.count(*ls.bridgeId)) {
        b = bridgeById[*ls.bridgeId];
      } else {
        b = int(bridges_.size());
        bridges_.push_back(Bridge{});
        if (ls.bridgeId) bridgeById[*ls.bridgeId] = b;
      }
      // A fleet's lock that starts offline takes its bridge, and every lock on it, off line.
      if (!ls.online) bridges_[size_t(b)].online = false;
      l.bridge = b;
      bridges_[size_t(b)].locks.push_back(i);
    } else {
      l.wifiOnline = ls.online;
    }
    for (const auto& c : ls.codes) {
      Auth a;
      a.key = newKey();
      a.code = c.code;
      a.name = c.name;
      a.window.fromMs = c.fromMs;
      a.window.untilMs = c.untilMs;
      a.window.weekDays = c.weekDays.value_or(127);
      a.window.fromTime = c.fromTime.value_or(0);
      a.window.untilTime = c.untilTime.value_or(0);
      a.enabled = c.enabled;
      l.device.push_back(a);
      l.web.push_back(a);
    }
    locks_.push_back(std::move(l));
    devices_.push_back(Device{});
    hooks_[ls.name];
  }
  // What Nuki Web shows starts as the lock is (a 3.0 on a bridge that is offline is offline).
  for (auto& l : locks_) {
    l.webOnline = online(l);
    l.webState = l.state;
    l.webBattery = l.battery;
  }
}

bool SpecModel::online(const LockState& l) const {
  return l.bridge >= 0 ? bridges_[size_t(l.bridge)].online : l.wifiOnline;
}

const TimeZone& SpecModel::zone(const LockState& l) const {
  const TimeZone* z = TimeZone::find(spec(l).timezone);
  return z ? *z : TimeZone::utc();
}

void SpecModel::start(const Oracle& oracle) {
  observes_ = oracle.observes();
  adapterStartMs_ = nowMs_;
  for (size_t i = 0; i < locks_.size(); ++i) {
    scheduleSync(i);
    discover(i);
  }
  if (!scenario_->nukiWebhooks) {
    poll();
    schedule(nowMs_ + int64_t(scenario_->pollSeconds) * 1000, Event{Event::kPoll, 0, 0});
  }
  // The adapter's start-up calls (webhook registration, discovery, its first poll): seen now,
  // before any fault exists.
  runUntil(nowMs_, oracle);
}

std::string SpecModel::lockPath(size_t lock) const {
  auto it = lockIds_.find(scenario_->locks[lock].name);
  // Made up: 4<<32 | a Nuki id no lock has, so that only `*` routes match it.
  return "/smartlock/" + (it == lockIds_.end() ? std::to_string((uint64_t(4) << 32) | 1)
                                               : std::to_string(it->second));
}

// R-DISCOVER: deviceEventConfig, then one SetState per state field in SPEC order.
void SpecModel::discover(size_t i) {
  LockState& l = locks_[i];
  Device& d = devices_[i];
  json traits;
  traits[kLock] = {{"properties", {{"supportsIsJammed", true}}}};
  traits[kBattery] = {{"properties", json::object()}};
  traits[kPins] = {{"properties",
                    {{"maxNumberOfPinCodeCredentials", 100},
                     {"supportedPinCodeRange", {{"min", 6}, {"max", 6}}},
                     {"supportedPinCodeCredentialNameRange", {{"min", 1}, {"max", 20}}},
                     {"maxNumberOfSchedulesPerPinCodeCredential", 2},
                     {"maxNumberOfTemporarySchedulesPerPinCodeCredential", 1},
                     {"maxNumberOfRecurringSchedulesPerPinCodeCredential", 1},
                     {"exclusiveSchedules", false}}}};
  traits[kConnectivity] = {{"properties", json::object()}};
  emit(i, "deviceEventConfig", {{"traits", traits}}, "R-DISCOVER");
  d.isOnline = l.webOnline;
  setState(i, kConnectivity, "isOnline", *d.isOnline, "", "R-DISCOVER");
  d.isJammed = l.state == kBlocked;
  setState(i, kLock, "isJammed", *d.isJammed, "", "R-DISCOVER");
  d.isLocked = l.state == kLocked;
  setState(i, kLock, "isLocked", *d.isLocked, "", "R-DISCOVER");
  d.percentage = l.battery;
  setState(i, kBattery, "percentage", *d.percentage, "", "R-DISCOVER");
  d.batteryStatus = l.battery <= 20 ? "CRITICAL" : "NORMAL";
  setState(i, kBattery, "status", d.batteryStatus, "", "R-DISCOVER");
  const LockSpec& ls = spec(l);
  for (size_t c = 0; c < l.web.size(); ++c) {
    std::string ref = ls.codes[c].as;
    if (ref.empty()) ref = ls.name + "/" + std::to_string(l.web[c].code);
    if (!ls.codes[c].as.empty()) pinNames_[ls.codes[c].as] = ref;
    d.pins.push_back(credFromAuth(l.web[c], ref));
  }
  d.codesReadMs = nowMs_;
  setState(i, kPins, "pinCodeCredentials", pinsJson(d.pins), "", "R-DISCOVER");
}

// ---------------------------------------------------------------------------------------------
// Time

void SpecModel::schedule(int64_t atMs, Event e) {
  events_.emplace(std::make_pair(atMs, nextSeq_++), e);
}

void SpecModel::scheduleSync(size_t i) {
  LockState& l = locks_[i];
  const TimeZone& z = zone(l);
  const LocalTime local = z.toLocal(timeFromMillis(nowMs_));
  const int minute = spec(l).syncAtMinute;
  Time next = z.fromLocal(local.day, minute);
  for (int64_t d = 1; millisOf(next) <= nowMs_; ++d)
    next = z.fromLocal(local.day + d, minute);
  l.nextSyncMs = millisOf(next);
  schedule(l.nextSyncMs, Event{Event::kSync, i, ++l.syncGeneration});
}

void SpecModel::runUntil(int64_t targetMs, const Oracle& oracle) {
  // Calls the system made in this stretch of time, merged with the model's own events: at one
  // instant the model's events come first (they were scheduled earlier), then the calls.
  std::vector<ObservedCall> calls;
  if (oracle.observes()) {
    for (auto& c : oracle.calls(nowMs_, targetMs))
      if (!seenCalls_.count(c.seq)) calls.push_back(std::move(c));
  }
  size_t next = 0;
  for (;;) {
    const bool haveEvent = !events_.empty() && events_.begin()->first.first <= targetMs;
    const bool haveCall = next < calls.size();
    if (!haveEvent && !haveCall) break;
    if (haveEvent && (!haveCall || events_.begin()->first.first <= calls[next].atMs)) {
      auto it = events_.begin();
      const Event e = it->second;
      nowMs_ = std::max(nowMs_, it->first.first);
      events_.erase(it);
      dispatch(e);
      continue;
    }
    const ObservedCall& c = calls[next++];
    nowMs_ = std::max(nowMs_, c.atMs);
    restartIfDue(oracle, &c);
    onCall(c, oracle);
  }
  nowMs_ = std::max(nowMs_, targetMs);
  restartIfDue(oracle, nullptr);
  checkStalledTries();
}

void SpecModel::runTo(size_t step, Time t, const Oracle& oracle) {
  currentStep_ = step;
  observes_ = oracle.observes();
  if (millisOf(t) > nowMs_) runUntil(millisOf(t), oracle);
}

void SpecModel::dispatch(const Event& e) {
  switch (e.kind) {
    case Event::kQueueReady:
      pump(e.lock);
      break;
    case Event::kMotorDone:
      motorDone(e.lock, uint32_t(e.arg));
      break;
    case Event::kSync:
      if (uint32_t(e.arg) != locks_[e.lock].syncGeneration) break;
      sync(e.lock);
      scheduleSync(e.lock);
      break;
    case Event::kPoll:
      if (e.arg != uint64_t(pollEpoch_)) break;
      poll();
      schedule(nowMs_ + int64_t(scenario_->pollSeconds) * 1000,
               Event{Event::kPoll, 0, uint64_t(pollEpoch_)});
      break;
    case Event::kOutboxSettle: {
      Device& d = devices_[e.lock];
      if (e.arg == 1) {  // the 72 h mark of a failing head
        if (d.failingSinceMs >= 0 && !receiverUp_ && !d.parked &&
            nowMs_ >= d.failingSinceMs + kParkAfterMs)
          d.parked = true;
        break;
      }
      if (d.settleByMs >= 0 && nowMs_ >= d.settleByMs) {
        // With the receiver down by now, what went out while it was still up may or may not
        // have arrived: that stays open until the receiver is back (which settles again).
        if (!receiverUp_ && !d.parked) break;
        d.settleByMs = -1;
        if (!d.parked) {
          d.failingSinceMs = -1;
          d.delivered = hooks_[spec(locks_[e.lock]).name].size();
        }
      }
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The lock fleet

bool SpecModel::insideSchedule(const LockState& l, const Window& w, int64_t atMs) const {
  if (w.fromMs) {
    if (atMs < *w.fromMs || atMs > *w.untilMs) return false;
  }
  if (w.hasRecurring()) {
    const LocalTime local = zone(l).toLocal(timeFromMillis(atMs));
    if (!(w.weekDays & (64 >> local.weekday))) return false;
    if (!(w.fromTime == 0 && w.untilTime == 0) &&
        (local.minuteOfDay < w.fromTime || local.minuteOfDay > w.untilTime))
      return false;
  }
  return true;
}

void SpecModel::setOnline(size_t i, bool on) {
  LockState& l = locks_[i];
  std::vector<size_t> affected;
  if (l.bridge >= 0) {
    Bridge& b = bridges_[size_t(l.bridge)];
    if (b.online == on) return;
    b.online = on;
    affected = b.locks;
  } else {
    if (l.wifiOnline == on) return;
    l.wifiOnline = on;
    affected.push_back(i);
  }
  for (size_t k : affected) {
    LockState& a = locks_[k];
    if (!on) {
      a.webOnline = false;
      if (scenario_->nukiWebhooks) onReport(k);
    } else {
      // The lock reports that it is back (with what happened while it was away), then works
      // through its queue (SPEC §3).
      report(k);
      pump(k);
    }
  }
}

// The lock tells Nuki Web its state; with Nuki webhooks the adapter hears of it at once.
void SpecModel::report(size_t i, const std::string& by, int completion) {
  LockState& l = locks_[i];
  if (!online(l)) {
    // A web run that ends while the lock is offline is logged on the lock; Nuki Web learns of
    // it after the reconnect report (a decision: SPEC §3 names only keypad entries).
    if (!by.empty()) l.offlineDone.push_back({by, completion});
    return;
  }
  l.webOnline = true;
  l.webState = l.state;
  l.webBattery = l.battery;
  std::vector<std::pair<std::string, int>> late;
  late.swap(l.offlineDone);
  auto& known = completions_[i];
  if (!scenario_->nukiWebhooks) {
    // Polling: the adapter finds the completions in the lock's log at its next poll.
    for (auto& c : late)
      known.push_back(std::move(c));
    if (!by.empty()) known.push_back({by, completion});
    return;
  }
  if (!by.empty()) known.push_back({by, completion});
  onReport(i);
  // The logs of runs that ended offline come after the reconnect report: a settled lock gives
  // their outcomes at once (the report showed the state), a moving one at its next settled
  // report.
  for (auto& [ref, c] : late) {
    auto it = actions_.find(ref);
    if (it == actions_.end() || it->second.status != "PENDING") continue;
    if (moving(l.webState))
      known.push_back({ref, c});
    else
      outcome(it->second, c);
  }
}

void SpecModel::pump(size_t i) {
  LockState& l = locks_[i];
  // The keypad works whether or not the lock is online.
  if (!l.busy && !l.local.empty()) {
    Cmd c = l.local.front();
    l.local.pop_front();
    startMotor(i, c.lock, "", false);
    return;
  }
  if (!online(l)) return;
  while (!l.queue.empty()) {
    Cmd& head = l.queue.front();
    if (head.readyMs > nowMs_) {
      schedule(head.readyMs, Event{Event::kQueueReady, i, 0});
      return;
    }
    if (head.kind == CmdKind::kMotor) {
      if (l.busy) return;  // motorDone pumps again
      Cmd c = head;
      l.queue.pop_front();
      startMotor(i, c.lock, c.by, true);
      return;
    }
    Cmd c = head;
    l.queue.pop_front();
    deliver(l, c);
  }
}

// An auth change reaches the lock; the lock enforces K4 and K5 against its own codes and drops
// what would break them (R-PIN-DROPPED).
void SpecModel::deliver(LockState& l, const Cmd& c) {
  for (auto& p : l.pending)
    if (p.op == c.op) p.delivered = true;
  auto taken = [&](int64_t code, uint64_t except) {
    for (const auto& a : l.device)
      if (a.code == code && a.key != except) return true;
    return false;
  };
  switch (c.kind) {
    case CmdKind::kCreate:
      if (taken(c.auth.code, 0)) {
        ++coverage_["K4"];
        return;
      }
      if (l.device.size() >= 100) {
        ++coverage_["K5"];
        return;
      }
      l.device.push_back(c.auth);
      return;
    case CmdKind::kUpdate: {
      auto it = std::find_if(l.device.begin(), l.device.end(),
                             [&](const Auth& a) { return a.key == c.target; });
      if (it == l.device.end()) return;
      if (taken(c.auth.code, c.target)) {
        ++coverage_["K4"];
        return;
      }
      *it = c.auth;
      it->key = c.target;
      return;
    }
    case CmdKind::kDelete:
      l.device.erase(std::remove_if(l.device.begin(), l.device.end(),
                                    [&](const Auth& a) { return a.key == c.target; }),
                     l.device.end());
      return;
    case CmdKind::kMotor:
      return;
  }
}

void SpecModel::startMotor(size_t i, bool lockIt, const std::string& by, bool logged) {
  LockState& l = locks_[i];
  const uint32_t generation = ++l.generation;
  l.busy = true;
  l.jobBlocked = l.jammed;
  l.jobLock = lockIt;
  l.jobBy = by;
  l.jobLogged = logged;
  l.state = lockIt ? kLocking : kUnlocking;
  report(i);
  schedule(nowMs_ + int64_t(spec(l).motorSeconds) * 1000, Event{Event::kMotorDone, i, generation});
}

void SpecModel::motorDone(size_t i, uint32_t generation) {
  LockState& l = locks_[i];
  if (generation != l.generation || !l.busy) return;
  l.busy = false;
  int completion = 0;
  if (l.jobBlocked) {
    l.state = kBlocked;
    completion = 1;
  } else {
    l.state = l.stable = l.jobLock ? kLocked : kUnlocked;
  }
  // The run is the action's only if the adapter has been told Nuki Web took it (PENDING);
  // a run caused by a call whose answer was lost is just a change of state to the adapter.
  std::string by;
  if (l.jobLogged && !l.jobBy.empty()) {
    auto it = actions_.find(l.jobBy);
    if (it != actions_.end() && it->second.status == "PENDING" && !it->second.ran) {
      by = l.jobBy;
      it->second.ran = true;
    }
  }
  report(i, by, completion);
  // Freed while this blocked run was under way: having reported the block, the lock returns to
  // its last stable state.
  if (l.state == kBlocked && !l.jammed) {
    l.state = l.stable;
    report(i);
  }
  pump(i);
}

void SpecModel::sync(size_t i) {
  LockState& l = locks_[i];
  if (!online(l)) return;
  // Nuki Web first delivers what is still queued for the lock (motor actions keep their
  // place)…
  std::deque<Cmd> motor;
  while (!l.queue.empty()) {
    Cmd c = l.queue.front();
    l.queue.pop_front();
    if (c.kind == CmdKind::kMotor)
      motor.push_back(c);
    else
      deliver(l, c);
  }
  l.queue = std::move(motor);
  // …then copies the lock's codes into the web view.
  l.web = l.device;
  l.pending.clear();
  if (scenario_->nukiWebhooks) onSync(i);
  pump(i);
}

// What Nuki Web counts for K4 and K5: the web view plus accepted changes not yet synced.
std::vector<std::pair<uint64_t, int64_t>> SpecModel::serverCodes(const LockState& l) const {
  std::vector<std::pair<uint64_t, int64_t>> codes;
  for (const auto& a : l.web)
    codes.push_back({a.key, a.code});
  for (const auto& p : l.pending) {
    auto it =
        std::find_if(codes.begin(), codes.end(), [&](auto& c) { return c.first == p.target; });
    switch (p.kind) {
      case CmdKind::kCreate:
        codes.push_back({p.target, p.auth.code});
        break;
      case CmdKind::kUpdate:
        if (it != codes.end()) it->second = p.auth.code;
        break;
      case CmdKind::kDelete:
        if (it != codes.end()) codes.erase(it);
        break;
      case CmdKind::kMotor:
        break;
    }
  }
  return codes;
}

std::optional<SpecModel::Auth> SpecModel::serverAuth(const LockState& l, uint64_t key,
                                                     bool& locked) const {
  std::optional<Auth> current;
  for (const auto& a : l.web)
    if (a.key == key) current = a;
  locked = false;
  for (const auto& p : l.pending) {
    if (p.target != key) continue;
    if (!p.delivered) locked = true;
    if (p.kind == CmdKind::kDelete)
      current.reset();
    else
      current = p.auth;
  }
  return current;
}

// K1–K3 (400), K6 (422), K7 (400), K4 and K5 (409) as Nuki Web checks a keypad code.
SpecModel::NukiAnswer SpecModel::checkCode(const LockState& l, const Auth& a,
                                           const uint64_t* self) const {
  const std::string digits = std::to_string(a.code);
  if (a.code < 100000 || a.code > 999999) return {400, "K1"};
  if (digits.find('0') != std::string::npos) return {400, "K2"};
  if (digits.rfind("12", 0) == 0) return {400, "K3"};
  if (!validUtf8(a.name) || codePoints(a.name) < 1 || codePoints(a.name) > 20) return {422, "K6"};
  const Window& w = a.window;
  if (w.fromMs.has_value() != w.untilMs.has_value()) return {400, "K7"};
  if (w.fromMs && *w.fromMs >= *w.untilMs) return {400, "K7"};
  if (w.weekDays < 1 || w.weekDays > 127) return {400, "K7"};
  if (w.fromTime < 0 || w.fromTime > 1439 || w.untilTime < 0 || w.untilTime > 1439)
    return {400, "K7"};
  if (!(w.fromTime == 0 && w.untilTime == 0) && w.fromTime >= w.untilTime) return {400, "K7"};
  const auto codes = serverCodes(l);
  for (const auto& [key, code] : codes)
    if (code == a.code && (!self || key != *self)) return {409, "K4"};
  if (!self && codes.size() >= 100) return {409, "K5"};
  return {204, ""};
}

SpecModel::NukiAnswer SpecModel::nukiCreate(size_t i, const Auth& a) {
  LockState& l = locks_[i];
  NukiAnswer r = checkCode(l, a, nullptr);
  if (r.status != 204) return r;
  Cmd c;
  c.kind = CmdKind::kCreate;
  c.auth = a;
  c.target = a.key;
  enqueueChange(i, c);
  return r;
}

SpecModel::NukiAnswer SpecModel::nukiUpdate(size_t i, uint64_t key, const Auth& a) {
  LockState& l = locks_[i];
  bool locked = false;
  auto current = serverAuth(l, key, locked);
  if (!current) return {404, ""};
  if (locked) return {423, ""};
  NukiAnswer r = checkCode(l, a, &key);
  if (r.status != 204) return r;
  Cmd c;
  c.kind = CmdKind::kUpdate;
  c.auth = a;
  c.auth.key = key;
  c.target = key;
  enqueueChange(i, c);
  return r;
}

SpecModel::NukiAnswer SpecModel::nukiDelete(size_t i, uint64_t key) {
  LockState& l = locks_[i];
  bool locked = false;
  auto current = serverAuth(l, key, locked);
  if (!current) return {404, ""};
  if (locked) return {423, ""};
  Cmd c;
  c.kind = CmdKind::kDelete;
  c.target = key;
  enqueueChange(i, c);
  return {204, ""};
}

void SpecModel::enqueueChange(size_t i, Cmd c) {
  LockState& l = locks_[i];
  c.op = newKey();
  c.readyMs = nowMs_ + int64_t(spec(l).deliverySeconds) * 1000;
  l.pending.push_back(Pending{c.kind, c.target, c.auth, c.op, false});
  l.queue.push_back(c);
  // The lock takes it up after Nuki Web has answered (an event, even when it is due now).
  schedule(c.readyMs, Event{Event::kQueueReady, i, 0});
}

const SpecModel::Fault* SpecModel::pickFault(const std::string& method, const std::string& path,
                                             int64_t atMs) {
  for (auto& f : faults_) {
    if (f.remaining == 0 || atMs < f.fromMs || atMs >= f.untilMs) continue;
    if (!f.methods.empty() &&
        std::find(f.methods.begin(), f.methods.end(), method) == f.methods.end())
      continue;
    if (!globMatch(f.route, path)) continue;
    if (f.remaining > 0) --f.remaining;
    return &f;
  }
  return nullptr;
}

bool SpecModel::faultCouldMatch(const std::string& method, const std::string& path) const {
  for (const auto& f : faults_) {
    if (f.remaining == 0 || f.untilMs <= nowMs_) continue;
    if (!f.methods.empty() &&
        std::find(f.methods.begin(), f.methods.end(), method) == f.methods.end())
      continue;
    if (globMatch(f.route, path)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The adapter: platform webhooks (SPEC §5–6)

void SpecModel::emit(size_t i, const std::string& type, json content, const std::string& rule) {
  const std::string& name = spec(locks_[i]).name;
  ExpectedWebhook w;
  w.type = type;
  w.content = std::move(content);
  w.rule = rule;
  w.step = currentStep_;
  w.atMs = nowMs_;
  auto& list = hooks_[name];
  list.push_back(std::move(w));
  ++coverage_[rule];
  // R-DELIVERY: delivered at once unless the stream is held back (then it must arrive later,
  // in order: that is what exercises the rule).
  Device& d = devices_[i];
  if (d.parked || d.failingSinceMs >= 0 || d.settleByMs >= 0) {
    ++coverage_["R-DELIVERY"];
    list.back().heldBack = true;
    return;
  }
  if (!receiverUp_) {
    ++coverage_["R-DELIVERY"];
    list.back().heldBack = true;
    d.failingSinceMs = nowMs_;
    schedule(nowMs_ + kParkAfterMs, Event{Event::kOutboxSettle, i, 1});
    return;
  }
  d.delivered = list.size();
}

SpecModel::Delivery SpecModel::delivery(const std::string& lock) const {
  Delivery out;
  const size_t i = scenario_->lockIndex(lock);
  if (i >= devices_.size()) return out;
  const Device& d = devices_[i];
  out.delivered = d.delivered;
  out.exact = d.settleByMs < 0;
  out.parked = d.parked;
  return out;
}

void SpecModel::setState(size_t i, const char* trait, const char* field, json value,
                         const std::string& actionId, const std::string& rule) {
  json c;
  c["traitName"] = trait;
  c["fieldName"] = field;
  c["value"] = std::move(value);
  if (!actionId.empty()) c["actionId"] = actionId;
  emit(i, "deviceEventSetState", std::move(c), rule);
}

void SpecModel::updateAction(Action& a, const std::string& status, const std::string& reason,
                             const std::string& rule) {
  a.status = status;
  a.reason = reason;
  json c;
  c["actionId"] = a.ref;
  c["status"] = status;
  if (!reason.empty()) c["reason"] = reason;
  emit(a.lock, "deviceEventUpdateAction", std::move(c), rule);
}

std::string SpecModel::lockActionRule(const Action& a) const {
  return a.queuedOffline ? "R-ACT-OFFLINE" : "R-ACT-ONLINE";
}

// One report of motor state, battery and reachability: SetStates for what changed, in SPEC
// order (isOnline, isJammed, isLocked, percentage, status); the completed action's own changes
// carry its actionId; then its outcome. A report of a settled lock settles every completed run
// the adapter knows of, in queue order (R-ACT-OFFLINE): the ones before the last with the state
// their run reached and their outcome, right after isOnline; the last one with what the report
// shows.
void SpecModel::onReport(size_t i, bool attribute) {
  LockState& l = locks_[i];
  Device& d = devices_[i];
  const int s = l.webState;
  const bool settles = !moving(s);
  std::vector<std::pair<Action*, int>> done;
  if (attribute) {
    for (const auto& [ref, c] : completions_[i]) {
      auto it = actions_.find(ref);
      if (it != actions_.end() && it->second.status == "PENDING") done.push_back({&it->second, c});
    }
  }
  Action* a = done.empty() ? nullptr : settles ? done.back().first : done.front().first;
  const std::string byRef = a ? a->ref : std::string();
  if (d.isOnline != l.webOnline) {
    d.isOnline = l.webOnline;
    setState(i, kConnectivity, "isOnline", l.webOnline, "", "R-CONN");
  }
  if (settles) {
    for (size_t k = 0; k + 1 < done.size(); ++k) {
      Action& e = *done[k].first;
      if (done[k].second == 1) {
        if (d.isJammed != true) {
          d.isJammed = true;
          setState(i, kLock, "isJammed", true, e.ref, "R-ACT-JAMMED");
        }
      } else if (d.isLocked != e.lockTarget) {
        d.isLocked = e.lockTarget;
        setState(i, kLock, "isLocked", e.lockTarget, e.ref, lockActionRule(e));
      }
      outcome(e, done[k].second);
    }
  }
  const bool jammed = s == kBlocked;
  if (d.isJammed != jammed) {
    d.isJammed = jammed;
    setState(i, kLock, "isJammed", jammed, jammed ? byRef : "", "R-ACT-JAMMED");
  }
  std::optional<bool> locked;
  if (s == kLocked) locked = true;
  if (s == kUnlocked || s == 5 || s == 6) locked = false;
  if (locked && d.isLocked != *locked) {
    d.isLocked = *locked;
    setState(i, kLock, "isLocked", *locked, byRef, a ? lockActionRule(*a) : "R-MANUAL");
  }
  if (d.percentage != l.webBattery) {
    d.percentage = l.webBattery;
    setState(i, kBattery, "percentage", l.webBattery, "", "R-BATT");
  }
  const std::string status = l.webBattery <= 20 ? "CRITICAL" : "NORMAL";
  if (d.batteryStatus != status) {
    d.batteryStatus = status;
    setState(i, kBattery, "status", status, "", "R-BATT");
  }
  if (attribute && settles) {
    if (a) outcome(*a, done.back().second);
    completions_[i].clear();
  }
}

void SpecModel::outcome(Action& a, int completion) {
  if (completion == 1)
    updateAction(a, "REJECTED", "MOTOR_BLOCKED", "R-ACT-JAMMED");
  else
    updateAction(a, "RESOLVED", "", lockActionRule(a));
}

void SpecModel::onSync(size_t i) {
  Device& d = devices_[i];
  if (faultCouldMatch("GET", lockPath(i) + "/auth")) {
    // The adapter's read of the new web view may fail: the model waits for the read the
    // system made and applies the sync then.
    if (!d.syncUnread) d.syncUnreadSinceMs = nowMs_;
    d.syncUnread = true;
    return;
  }
  reconcile(i, true, nowMs_);
}

// R-PIN-SYNC / R-PIN-ACCEPTED / R-PIN-DROPPED / R-PIN-LOCAL: the adapter applies a web view of
// the lock's codes — first its own actions in the order Nuki Web accepted them, then what no
// action explains.
void SpecModel::reconcile(size_t i, bool syncSignal, int64_t observedMs) {
  LockState& l = locks_[i];
  Device& d = devices_[i];
  std::vector<Cred> web;
  for (const auto& a : l.web)
    web.push_back(credFromAuth(a, ""));
  auto findWeb = [&](uint64_t key) -> const Cred* {
    for (const auto& w : web)
      if (w.authKey == key) return &w;
    return nullptr;
  };
  bool differs = web.size() != d.pins.size();
  for (const auto& p : d.pins) {
    const Cred* w = findWeb(p.authKey);
    if (!w || !w->sameContent(p)) differs = true;
  }
  // Polling: a changed web view says a sync happened since the last read, not when; a change
  // accepted after that read cannot be judged dropped by it.
  const int64_t syncAfterMs = syncSignal ? observedMs : d.codesReadMs;
  d.codesReadMs = std::max(d.codesReadMs, observedMs);
  if (!syncSignal && !differs) return;

  std::set<uint64_t> mapped;
  for (const auto& p : d.pins)
    mapped.insert(p.authKey);
  auto pinIndex = [&](const std::string& ref) -> int {
    for (size_t k = 0; k < d.pins.size(); ++k)
      if (d.pins[k].ref == ref) return int(k);
    return -1;
  };
  auto sorted = [](std::vector<Cred>& v) {
    std::sort(v.begin(), v.end(),
              [](const Cred& a, const Cred& b) { return a.pinCode < b.pinCode; });
  };
  int explained = 0;
  const size_t firstHook = hooks_[spec(l).name].size();
  std::vector<Action*> open;
  for (const auto& ref : actionOrder_) {
    Action& a = actions_.at(ref);
    if (a.lock == i && a.isPin() && a.status == "PENDING" && a.acceptedMs <= observedMs)
      open.push_back(&a);
  }
  // SPEC §6 R-PIN-SYNC: in the order Nuki Web accepted them (its 204); at one instant, in the
  // adapter's own order.
  std::sort(open.begin(), open.end(), [](const Action* x, const Action* y) {
    return std::tie(x->acceptedMs, x->order) < std::tie(y->acceptedMs, y->order);
  });
  for (Action* a : open) {
    const std::vector<Cred> before = d.pins;
    bool shown = false;
    if (a->kind == StepKind::kCreatePin) {
      for (const auto& w : web) {
        if (mapped.count(w.authKey) || !w.sameContent(a->target)) continue;
        Cred p = a->target;
        p.ref = a->pinRef;
        p.authKey = w.authKey;
        d.pins.push_back(p);
        mapped.insert(w.authKey);
        shown = true;
        break;
      }
    } else if (a->kind == StepKind::kUpdatePin) {
      const int k = pinIndex(a->pinRef);
      const Cred* w = k >= 0 ? findWeb(d.pins[size_t(k)].authKey) : nullptr;
      if (w && w->sameContent(a->target)) {
        const uint64_t key = d.pins[size_t(k)].authKey;
        d.pins[size_t(k)] = a->target;
        d.pins[size_t(k)].ref = a->pinRef;
        d.pins[size_t(k)].authKey = key;
        shown = true;
      }
    } else if (a->kind == StepKind::kDeletePin) {
      const int k = pinIndex(a->pinRef);
      if (k >= 0 && !findWeb(d.pins[size_t(k)].authKey)) {
        mapped.erase(d.pins[size_t(k)].authKey);
        d.pins.erase(d.pins.begin() + k);
        shown = true;
      }
    }
    if (shown) {
      sorted(d.pins);
      ++explained;
      bool same = before.size() == d.pins.size();
      for (size_t k = 0; same && k < before.size(); ++k)
        same = before[k].ref == d.pins[k].ref && before[k].sameContent(d.pins[k]);
      if (!same)
        setState(i, kPins, "pinCodeCredentials", pinsJson(d.pins), a->ref, "R-PIN-ACCEPTED");
      updateAction(*a, "RESOLVED", "", "R-PIN-ACCEPTED");
    } else if (a->acceptedMs > syncAfterMs) {
      continue;  // the sync may have come before it; a later one decides
    } else {
      ++explained;
      updateAction(*a, "REJECTED", "DROPPED_BY_LOCK", "R-PIN-DROPPED");
    }
  }
  // Then what no action explains: codes added, changed or removed elsewhere (R-PIN-LOCAL).
  bool changed = false;
  for (size_t k = 0; k < d.pins.size();) {
    const Cred* w = findWeb(d.pins[k].authKey);
    if (!w) {
      d.pins.erase(d.pins.begin() + long(k));
      changed = true;
      continue;
    }
    if (!w->sameContent(d.pins[k])) {
      const std::string ref = d.pins[k].ref;
      d.pins[k] = *w;
      d.pins[k].ref = ref;
      changed = true;
    }
    ++k;
  }
  for (const auto& w : web) {
    if (mapped.count(w.authKey)) continue;
    Cred p = w;
    p.ref =
        spec(l).name + "/local-" + p.pinCode + (localPins_ ? "-" + std::to_string(localPins_) : "");
    ++localPins_;
    d.pins.push_back(p);
    changed = true;
  }
  if (changed) {
    sorted(d.pins);
    ++explained;
    setState(i, kPins, "pinCodeCredentials", pinsJson(d.pins), "", "R-PIN-LOCAL");
  }
  // One sync that explains several changes: their order is R-PIN-SYNC's.
  if (explained >= 2) {
    ++coverage_["R-PIN-SYNC"];
    auto& list = hooks_[spec(l).name];
    for (size_t k = firstHook; k < list.size(); ++k)
      list[k].rule = "R-PIN-SYNC";
  }
}

json SpecModel::pinsJson(const std::vector<Cred>& pins) const {
  json out = json::array();
  for (const auto& p : pins) {
    json j;
    j["id"] = p.ref;
    j["pinCode"] = p.pinCode;
    j["name"] = p.name;
    j["alwaysActive"] = !p.temporary && !p.recurring;
    j["temporarySchedules"] = json::array();
    if (p.temporary)
      j["temporarySchedules"].push_back({{"startDatetime", formatInstant(p.temporary->first)},
                                         {"endDatetime", formatInstant(p.temporary->second)}});
    j["recurringSchedules"] = json::array();
    if (p.recurring) {
      std::string days;
      for (int d = 0; d < 7; ++d)
        if (p.recurring->days & (64 >> d))
          days += (days.empty() ? "" : ",") + std::string(kDayNames[d]);
      j["recurringSchedules"].push_back(
          {{"rrule", "RRULE:FREQ=WEEKLY;BYDAY=" + days +
                         ";BYHOUR=" + std::to_string(p.recurring->start / 60) +
                         ";BYMINUTE=" + std::to_string(p.recurring->start % 60)},
           {"duration", p.recurring->duration}});
    }
    out.push_back(std::move(j));
  }
  return out;
}

// Nuki's keypad-code fields as a platform credential (SPEC §5).
SpecModel::Cred SpecModel::credFromAuth(const Auth& a, const std::string& ref) const {
  Cred c;
  c.ref = ref;
  c.pinCode = std::to_string(a.code);
  c.name = a.name;
  c.authKey = a.key;
  if (a.window.fromMs && a.window.untilMs) c.temporary = {{*a.window.fromMs, *a.window.untilMs}};
  if (a.window.hasRecurring()) {
    Recurring r;
    r.days = a.window.weekDays;
    if (a.window.fromTime == 0 && a.window.untilTime == 0) {
      r.start = 0;
      r.duration = 1440;
    } else {
      r.start = a.window.fromTime;
      r.duration = a.window.untilTime - a.window.fromTime;
    }
    c.recurring = r;
  }
  return c;
}

SpecModel::Auth SpecModel::authFromCred(const Cred& c) const {
  Auth a;
  a.code = std::stoll(c.pinCode);
  a.name = c.name;
  if (c.temporary) {
    a.window.fromMs = c.temporary->first;
    a.window.untilMs = c.temporary->second;
  }
  if (c.recurring) {
    a.window.weekDays = c.recurring->days;
    if (c.recurring->start == 0 && c.recurring->duration == 1440) {
      a.window.fromTime = a.window.untilTime = 0;
    } else {
      a.window.fromTime = c.recurring->start;
      a.window.untilTime = c.recurring->start + c.recurring->duration;
    }
  }
  return a;
}

// Without Nuki webhooks the adapter learns everything at its polls: each lock's state (with the
// completions its log shows), and the codes of locks with PIN actions waiting (of every lock
// each 60th poll).
void SpecModel::poll() {
  ++pollCount_;
  const bool fullScan = pollCount_ % kFullScanEvery == 0;
  for (size_t i = 0; i < locks_.size(); ++i) {
    onReport(i);
    bool pinWaiting = false;
    for (const auto& [ref, a] : actions_)
      if (a.lock == i && a.isPin() && a.status == "PENDING") pinWaiting = true;
    if (pinWaiting || fullScan) reconcile(i, false, nowMs_);
  }
}

void SpecModel::restartAdapter(bool midExchange) {
  branches_.push_back("adapter restarted at " + formatRfc3339(timeFromMillis(nowMs_)));
  // R-DELIVERY: what the adapter accepted before the restart must still arrive, in order.
  ++coverage_["R-DELIVERY"];
  for (size_t k = 0; k < devices_.size(); ++k) {
    auto& list = hooks_[spec(locks_[k]).name];
    for (size_t h = devices_[k].delivered; h < list.size(); ++h)
      list[h].heldBack = true;
  }
  if (midExchange) {
    // A kill in the middle of an exchange may cut a webhook delivery too: that stream then
    // waits for its outbox's next retry (at most kOutboxMaxRetryMs away).
    for (size_t k = 0; k < devices_.size(); ++k) {
      Device& d = devices_[k];
      if (d.parked) continue;
      d.settleByMs = nowMs_ + kOutboxMaxRetryMs;
      if (d.failingSinceMs < 0) d.failingSinceMs = nowMs_;
      schedule(d.settleByMs, Event{Event::kOutboxSettle, k, 0});
    }
  }
  // Actions whose Nuki call may not have happened go out again, unless the retry budget is
  // spent: those time out.
  for (const auto& ref : actionOrder_) {
    Action& a = actions_.at(ref);
    if (a.status != "QUEUED") continue;
    if (nowMs_ - a.createdMs > kRetryBudgetMs) {
      a.awaitingTry = false;
      updateAction(a, "TIMEOUT", "", "R-ACT-FAILED");
      continue;
    }
    a.retried = a.retried || a.tries > 0;
    a.tries = 0;
    a.firstTryMs = -1;
    a.notBeforeMs = nowMs_;
    a.awaitingTry = true;
    a.resentAtMs = nowMs_;
  }
  // It reads every lock's state, then polls.
  for (size_t i = 0; i < locks_.size(); ++i)
    onReport(i, /*attribute=*/false);
  ++pollEpoch_;
  pollCount_ = 0;  // a new adapter process counts its polls afresh
  adapterStartMs_ = nowMs_;
  if (!scenario_->nukiWebhooks) {
    poll();
    schedule(nowMs_ + int64_t(scenario_->pollSeconds) * 1000,
             Event{Event::kPoll, 0, uint64_t(pollEpoch_)});
  }
}

// ---------------------------------------------------------------------------------------------
// Steps

namespace {

json refusal(int status, const std::string& code) {
  json j{{"status", status}};
  if (!code.empty()) j["error"] = code;
  return j;
}

// The typed error of SPEC §5 for a K rule.
std::string typedError(const std::string& rule) {
  if (rule == "K1") return "PIN_FORMAT";
  if (rule == "K2") return "PIN_CONTAINS_ZERO";
  if (rule == "K3") return "PIN_STARTS_WITH_12";
  if (rule == "K6") return "NAME_LENGTH";
  if (rule == "K7") return "SCHEDULE_INVALID";
  if (rule == "K4") return "PIN_DUPLICATE";
  if (rule == "K5") return "PIN_CAPACITY";
  return "";
}

}  // namespace

// SPEC §5 shapes of create/update parameters. Shape errors are 400; rule breaches come back in
// K order (K1–K3, K6, K7); K4/K5 are the caller's.
Prediction SpecModel::parsePin(const json& p, const Cred* base, Cred& out) const {
  Prediction r;
  out = base ? *base : Cred{};
  std::string k7;  // a schedule problem found while reading
  auto bad = [&](const std::string& why) {
    r.answer = refusal(400, "BAD_REQUEST");
    r.note = why;
    return r;
  };
  if (p.contains("pinCode")) {
    if (!p["pinCode"].is_string()) return bad("pinCode must be a string of digits");
    out.pinCode = p["pinCode"].get<std::string>();
  } else if (!base) {
    return bad("pinCode is required");
  }
  if (p.contains("name")) {
    if (!p["name"].is_string()) return bad("name must be a string");
    out.name = p["name"].get<std::string>();
  } else if (!base) {
    out.name.clear();
  }
  if (p.contains("temporarySchedules")) {
    const json& v = p["temporarySchedules"];
    if (!v.is_array()) return bad("temporarySchedules must be an array");
    out.temporary.reset();
    if (v.size() > 1) {
      k7 = "at most one temporary schedule";
    } else if (v.size() == 1) {
      const json& s = v[0];
      auto text = [&](const char* k) {
        return !s.is_object() || !s.contains(k) || s[k].is_string();
      };
      if (!s.is_object() || !text("startDatetime") || !text("endDatetime"))
        return bad("a temporary schedule is {startDatetime, endDatetime}");
      if (!s.contains("startDatetime") || !s.contains("endDatetime")) {
        k7 = "a temporary schedule needs both ends";
      } else {
        auto a = parseRfc3339(s["startDatetime"].get<std::string>());
        auto b = parseRfc3339(s["endDatetime"].get<std::string>());
        if (!a || !b)
          k7 = "temporary schedule ends must be RFC 3339 instants";
        else
          out.temporary = {{millisOf(*a), millisOf(*b)}};
      }
    }
  }
  if (p.contains("recurringSchedules")) {
    const json& v = p["recurringSchedules"];
    if (!v.is_array()) return bad("recurringSchedules must be an array");
    out.recurring.reset();
    if (v.size() > 1) {
      if (k7.empty()) k7 = "at most one recurring schedule";
    } else if (v.size() == 1) {
      const json& s = v[0];
      if (!s.is_object() || !s.contains("rrule") || !s["rrule"].is_string() ||
          !s.contains("duration") || !s["duration"].is_number_integer())
        return bad("a recurring schedule is {rrule, duration}");
      Recurring rec;
      const int64_t duration = s["duration"].get<int64_t>();
      if (!parseRrule(s["rrule"].get<std::string>(), rec.days, rec.start)) {
        if (k7.empty()) k7 = "the rrule has no Nuki equivalent";
      } else {
        rec.duration = int(std::clamp<int64_t>(duration, -1, 100000));
        out.recurring = rec;
      }
    }
  }
  // K1–K3, K6 first; then K7.
  auto refuse = [&](const std::string& rule, const std::string& why) {
    r.answer = refusal(422, typedError(rule));
    r.rule = rule;
    r.note = rule + ": " + why;
    return r;
  };
  const std::string& c = out.pinCode;
  const bool digits = c.size() == 6 && std::all_of(c.begin(), c.end(),
                                                   [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!digits) return refuse("K1", "a PIN code is exactly 6 digits");
  if (c.find('0') != std::string::npos) return refuse("K2", "a PIN code has no digit 0");
  if (c.rfind("12", 0) == 0) return refuse("K3", "a PIN code does not start with 12");
  if (!validUtf8(out.name) || codePoints(out.name) < 1 || codePoints(out.name) > 20)
    return refuse("K6", "a name has 1 to 20 characters");
  if (!k7.empty()) return refuse("K7", k7);
  if (out.temporary && out.temporary->first >= out.temporary->second)
    return refuse("K7", "a temporary schedule starts before it ends");
  if (out.recurring) {
    const Recurring& rec = *out.recurring;
    const bool wholeDay = rec.start == 0 && rec.duration == 1440;
    if (!wholeDay && (rec.duration < 1 || rec.start + rec.duration > 1439))
      return refuse("K7", "a recurring window ends by 23:59 the same local day");
    if (wholeDay && rec.days == 127)
      return refuse("K7", "every whole day is no recurring window (Nuki cannot store it)");
  }
  return r;
}

// The codes the adapter knows for a lock, its own unresolved changes included.
std::vector<std::string> SpecModel::expectedCodes(size_t i, const std::string& exceptPin) const {
  std::map<std::string, std::string> codes;
  for (const auto& p : devices_[i].pins)
    codes[p.ref] = p.pinCode;
  for (const auto& ref : actionOrder_) {
    const Action& a = actions_.at(ref);
    if (a.lock != i || !a.isPin() || !a.unresolved()) continue;
    if (a.kind == StepKind::kDeletePin)
      codes.erase(a.pinRef);
    else
      codes[a.pinRef] = a.target.pinCode;
  }
  codes.erase(exceptPin);
  std::vector<std::string> out;
  for (auto& [ref, code] : codes)
    out.push_back(code);
  return out;
}

// A trait action through the adapter's /v1 API.
Prediction SpecModel::submit(const Step& st, const Oracle& oracle) {
  Prediction r;
  const size_t i = scenario_->lockIndex(st.lock);
  const std::string ref = actionRef(st);
  Device& d = devices_[i];
  // The parameters as sent: "@name" in an id replaced by the PIN it names.
  json params = st.parameters;
  std::string pinRef;
  if (st.kind == StepKind::kUpdatePin || st.kind == StepKind::kDeletePin) {
    const std::string id = params.value("id", "");
    if (!id.empty() && id[0] == '@') {
      const std::string name = id.substr(1);
      if (refusedNames_.count(name)) {
        r.error = "uses '@" + name + "', whose action was refused";
        return r;
      }
      auto it = pinNames_.find(name);
      if (it == pinNames_.end()) {
        r.error = "'@" + name + "' names no PIN code";
        return r;
      }
      pinRef = it->second;
      params["id"] = pinRef;
    }
  }
  if (!st.idempotencyKey.empty()) {
    const json fingerprint{
        {"lock", st.lock}, {"do", stepKindName(st.kind)}, {"parameters", params}};
    auto it = idempotency_.find(st.idempotencyKey);
    if (it != idempotency_.end()) {
      if (it->second.second != fingerprint) {
        r.answer = refusal(409, "IDEMPOTENCY_KEY_REUSED");
        r.note = "this Idempotency-Key came with another request";
        if (!st.as.empty()) refusedNames_.insert(st.as);
        return r;
      }
      // The same action again: no new action, no webhook.
      const std::string canonical = it->second.first;
      aliases_[ref] = canonical;
      if (!st.as.empty() && actions_.at(canonical).kind == StepKind::kCreatePin)
        pinNames_[st.as] = actions_.at(canonical).pinRef;
      r.answer = refusal(202, "");
      r.note = "a repeated Idempotency-Key returns " + canonical;
      return r;
    }
  }
  auto refuse = [&](Prediction p) {
    if (!st.as.empty()) refusedNames_.insert(st.as);
    if (!p.rule.empty()) {
      ++coverage_[p.rule];
      ++coverage_["R-PIN-INVALID"];
    } else if (p.answer.value("error", "") == "PIN_PENDING") {
      ++coverage_["R-PIN-INVALID"];
      p.rule = "R-PIN-INVALID";
    }
    return p;
  };
  Action a;
  a.ref = ref;
  a.lock = i;
  a.kind = st.kind;
  a.parameters = params;
  a.createdMs = nowMs_;
  a.step = st.index;
  if (st.kind == StepKind::kSetLocked) {
    a.lockTarget = params.value("lock", false);
  } else {
    const Cred* current = nullptr;
    if (st.kind != StepKind::kCreatePin) {
      if (pinRef.empty()) {
        Prediction p;
        p.answer = refusal(404, "NOT_FOUND");
        p.note = "no PIN code credential with that id (name a PIN with \"@name\")";
        return refuse(p);
      }
      for (const auto& p : d.pins)
        if (p.ref == pinRef) current = &p;
      bool busy = false;
      for (const auto& [k, other] : actions_)
        if (other.lock == i && other.isPin() && other.pinRef == pinRef && other.unresolved())
          busy = true;
      if (!current && !busy) {
        Prediction p;
        p.answer = refusal(404, "NOT_FOUND");
        p.note = "the PIN code " + pinRef + " is no longer on the lock";
        return refuse(p);
      }
      if (busy) {
        Prediction p;
        p.answer = refusal(422, "PIN_PENDING");
        p.note = "an earlier action on " + pinRef + " is not resolved yet";
        return refuse(p);
      }
    }
    if (st.kind != StepKind::kDeletePin) {
      Prediction p = parsePin(params, current, a.target);
      if (!p.answer.is_null()) return refuse(p);
      const auto others = expectedCodes(i, pinRef);
      if (std::find(others.begin(), others.end(), a.target.pinCode) != others.end()) {
        Prediction q;
        q.answer = refusal(422, "PIN_DUPLICATE");
        q.rule = "K4";
        q.note = "K4: the lock has or will have the code " + a.target.pinCode;
        return refuse(q);
      }
      if (st.kind == StepKind::kCreatePin && others.size() >= 100) {
        Prediction q;
        q.answer = refusal(422, "PIN_CAPACITY");
        q.rule = "K5";
        q.note = "K5: the lock has or will have 100 codes";
        return refuse(q);
      }
    }
    a.pinRef = st.kind == StepKind::kCreatePin ? ref : pinRef;
    a.target.ref = a.pinRef;
    if (st.kind == StepKind::kCreatePin && !st.as.empty()) pinNames_[st.as] = a.pinRef;
  }
  a.order = nextOrder_++;
  a.awaitingTry = true;
  a.notBeforeMs = nowMs_;
  if (!st.idempotencyKey.empty())
    idempotency_[st.idempotencyKey] = {
        ref, json{{"lock", st.lock}, {"do", stepKindName(st.kind)}, {"parameters", params}}};
  actionOrder_.push_back(ref);
  Action& added = actions_.emplace(ref, std::move(a)).first->second;
  aliases_[ref] = ref;
  const char* traitName = st.kind == StepKind::kSetLocked ? kLock : kPins;
  const char* actionName = st.kind == StepKind::kSetLocked   ? "setLocked"
                           : st.kind == StepKind::kCreatePin ? "createPinCodeCredential"
                           : st.kind == StepKind::kUpdatePin ? "updatePinCodeCredential"
                                                             : "deletePinCodeCredential";
  emit(i, "deviceEventQueueAction",
       {{"actionId", ref},
        {"traitName", traitName},
        {"actionName", actionName},
        {"actionParameters", params}},
       st.kind == StepKind::kSetLocked ? (online(locks_[i]) ? "R-ACT-ONLINE" : "R-ACT-OFFLINE")
                                       : "R-PIN-ACCEPTED");
  r.answer = refusal(202, "");
  // Without a system to watch, the adapter's call is the model's own.
  if (!oracle.observes()) {
    ObservedCall c;
    c.atMs = nowMs_;
    c.method = actionMethod(added);
    c.path = lockPath(i) + (added.kind == StepKind::kSetLocked ? actionTail(added) : "/auth");
    c.lock = st.lock;
    const Fault* f = pickFault(c.method, c.path, c.atMs);
    tryAction(added, c, f, false);
  }
  return r;
}

std::string SpecModel::actionMethod(const Action& a) const {
  switch (a.kind) {
    case StepKind::kSetLocked:
      return "POST";
    case StepKind::kCreatePin:
      return "PUT";
    case StepKind::kUpdatePin:
      return "POST";
    default:
      return "DELETE";
  }
}

// The Nuki call of an action, after /smartlock/{id} (SPEC §2).
std::string SpecModel::actionTail(const Action& a) const {
  switch (a.kind) {
    case StepKind::kSetLocked:
      return a.lockTarget ? "/action/lock" : "/action/unlock";
    case StepKind::kCreatePin:
      return "/auth";
    default:
      return "/auth/*";
  }
}

// One Nuki API request the system served.
void SpecModel::onCall(const ObservedCall& c, const Oracle& oracle) {
  seenCalls_.insert(c.seq);
  // nukisim refuses unknown paths (404), wrong methods (405) and tokens (401) before it looks
  // at faults.
  const bool reachedFaults =
      !c.fault.empty() || (c.status != 401 && c.status != 404 && c.status != 405);
  const Fault* f = reachedFaults ? pickFault(c.method, c.path, c.atMs) : nullptr;
  // A restart `during: nextNukiCall` that cut this call short.
  bool cut = false;
  if (pendingRestart_ != SIZE_MAX) {
    auto info = oracle.restart(pendingRestart_);
    if (info && info->cutSeq == c.seq && c.seq != 0) cut = true;
  }
  if (c.fromHarness) return;  // harnessRequest takes its own calls
  const Route route = routeOf(c.path);
  const size_t lock = scenario_->lockIndex(c.lock);
  bool taken = false;
  if (route.lockRoute && lock < locks_.size()) {
    // The call is the try of an action waiting for one on that route: the one it names, if
    // the system tagged it; else (calls carry no body here) the one whose try is due now: a
    // first try (which comes as the action is accepted), else a retry whose Retry-After has
    // passed, else the oldest (which then breaks the Retry-After). A call that names its
    // action (X-Request-ID) is that action's and no other's: its try, or after a restart its
    // second send.
    std::string named = c.requestId.empty() ? "" : oracle.actionOfRequest(c.requestId);
    if (auto alias = aliases_.find(named); alias != aliases_.end()) named = alias->second;
    Action* namedAction = nullptr;
    if (auto it = actions_.find(named); !named.empty() && it != actions_.end())
      namedAction = &it->second;
    Action* candidate[3] = {nullptr, nullptr, nullptr};
    for (const auto& ref : actionOrder_) {
      Action& a = actions_.at(ref);
      if (namedAction && &a != namedAction) continue;
      if (!a.awaitingTry || a.lock != lock || a.status != "QUEUED") continue;
      if (actionMethod(a) != c.method || !globMatch(actionTail(a), route.tail)) continue;
      const int rank =
          a.tries == 0 && c.atMs >= a.notBeforeMs && c.atMs - a.notBeforeMs <= callLatencyMs_ ? 0
          : a.notBeforeMs <= c.atMs                                                           ? 1
                                                                                              : 2;
      if (!candidate[rank]) candidate[rank] = &a;
    }
    for (Action* a : candidate) {
      if (!a) continue;
      tryAction(*a, c, f, cut);
      taken = true;
      break;
    }
    // A second send by the restarted adapter: at its restart instant, or (named) whenever its
    // start-up reads let it go out.
    if (!taken && c.seq >= restartSeq_ && restartSeq_ != 0 &&
        (namedAction || c.atMs == restartAtMs_))
      taken = duplicateSend(c, f, namedAction);
    // A write to a lock that no action of the adapter explains (a second send, a retry after
    // TIMEOUT, a change nobody asked for).
    if (!taken && c.method != "GET" && observes_)
      violations_.push_back(Violation{"R-ACT-FAILED",
                                      "the adapter sent " + c.method + " " + c.path +
                                          ", which no action of the scenario explains",
                                      currentStep_});
    // A code list Nuki Web gave (where the oracle kept it) is SPEC's web view, or a finding.
    if (c.method == "GET" && route.tail == "/auth" && c.status == 200 && !f) checkWebView(lock, c);
    // The adapter reading a lock's codes after a sync whose read could fail.
    if (!taken && c.method == "GET" && route.tail == "/auth" && devices_[lock].syncUnread && !f &&
        c.status == 200) {
      Device& d = devices_[lock];
      d.syncUnread = false;
      reconcile(lock, true, d.syncUnreadSinceMs);
    }
  }
  if (cut) {
    const auto info = oracle.restart(pendingRestart_);
    branches_.push_back(
        "the restart of steps[" + std::to_string(pendingRestart_) + "] cut " + c.method + " " +
        c.path +
        (info && info->applied ? " after Nuki Web applied it" : " before Nuki Web saw it"));
    pendingRestart_ = SIZE_MAX;
    restartSeq_ = c.seq + 1;
    restartAtMs_ = c.atMs;
    restartAdapter(true);
  }
}

// SPEC §2: until a sync the web view does not list a new code, still lists a deleted one and
// shows the old values of an updated one. The codes of a list Nuki Web answered are compared
// with the model's web view at that instant (keypad codes only: a real account has app users).
void SpecModel::checkWebView(size_t lock, const ObservedCall& c) {
  if (!c.body.is_array()) return;
  std::set<int64_t> listed, held;
  for (const auto& a : c.body)
    if (a.is_object() && a.value("type", -1) == 13 && a.contains("code") &&
        a["code"].is_number_integer())
      listed.insert(a["code"].get<int64_t>());
  for (const Auth& a : locks_[lock].web)
    held.insert(a.code);
  if (listed == held) return;
  auto codes = [](const std::set<int64_t>& from, const std::set<int64_t>& without) {
    std::string out;
    for (int64_t code : from)
      if (!without.count(code)) out += (out.empty() ? "" : ", ") + std::to_string(code);
    return out;
  };
  const std::string early = codes(listed, held), missing = codes(held, listed);
  std::string message = "Nuki Web listed the codes of " + spec(locks_[lock]).name + " at " +
                        formatRfc3339(timeFromMillis(c.atMs)) + " otherwise than SPEC's web view";
  if (!early.empty()) message += "; it showed " + early + ", which SPEC shows only after a sync";
  if (!missing.empty()) message += "; it did not show " + missing + ", which SPEC shows";
  findings_.push_back(Violation{"SPEC §2 daily sync", message, currentStep_, c.atMs});
}

// One try of an action's Nuki call: the answer SPEC gives it, then what the adapter must do
// (R-ACT-FAILED, retry budget).
void SpecModel::tryAction(Action& a, const ObservedCall& c, const Fault* f, bool cut) {
  ++a.tries;
  if (a.firstTryMs < 0) a.firstTryMs = c.atMs;
  a.lastTryMs = c.atMs;
  auto violation = [&](const std::string& rule, const std::string& message) {
    violations_.push_back(Violation{rule, "action " + a.ref + ": " + message, currentStep_});
  };
  if (c.atMs < a.notBeforeMs)
    violation("R-ACT-FAILED", "retried at " + formatRfc3339(timeFromMillis(c.atMs)) +
                                  ", before the Retry-After Nuki Web gave");
  // The first call goes out as the action is accepted, not later. After a restart it goes out
  // once the new adapter has read the locks (which faults on those reads may delay).
  if (a.tries == 1 && c.atMs > a.notBeforeMs + callLatencyMs_ && a.resentAtMs < 0)
    violation("R-ACT-FAILED", "its first call to Nuki Web came only at " +
                                  formatRfc3339(timeFromMillis(c.atMs)) +
                                  ", after the action was accepted");
  if (a.tries > kMaxTries) violation("R-ACT-FAILED", "more than 5 tries of its Nuki call");
  if (c.atMs > a.firstTryMs + kRetryBudgetMs)
    violation("R-ACT-FAILED", "retried past the 10-minute retry budget");
  bool applied = true, answered = true;
  int status = 204;
  int64_t retryAfter = -1;
  if (f) {
    switch (f->effect) {
      case Fault::kStatus:
        applied = false;
        status = f->status;
        retryAfter = f->retryAfter >= 0 ? f->retryAfter : (f->status == 429 ? 1 : -1);
        break;
      case Fault::kReset:
        applied = false;
        answered = false;
        break;
      case Fault::kResetAfter:
        answered = false;
        break;
    }
  }
  if (cut) answered = false;
  LockState& l = locks_[a.lock];
  if (applied) {
    int s = 204;
    switch (a.kind) {
      case StepKind::kSetLocked: {
        Cmd cmd;
        cmd.kind = CmdKind::kMotor;
        cmd.lock = a.lockTarget;
        cmd.by = a.ref;
        cmd.readyMs = nowMs_;
        l.queue.push_back(cmd);
        // The motor starts after Nuki Web's 204 has reached the adapter (SPEC §6: PENDING
        // comes before the lock's reports).
        schedule(nowMs_, Event{Event::kQueueReady, a.lock, 0});
        break;
      }
      case StepKind::kCreatePin: {
        Auth auth = authFromCred(a.target);
        auth.key = newKey();
        const NukiAnswer n = nukiCreate(a.lock, auth);
        s = n.status;
        if (s == 204 && a.nukiKey == 0) a.nukiKey = auth.key;
        if (s != 204 && !n.rule.empty() && !a.retried) ++coverage_[n.rule];
        break;
      }
      case StepKind::kUpdatePin:
      case StepKind::kDeletePin: {
        uint64_t key = 0;
        for (const auto& p : devices_[a.lock].pins)
          if (p.ref == a.pinRef) key = p.authKey;
        const NukiAnswer n = a.kind == StepKind::kUpdatePin
                                 ? nukiUpdate(a.lock, key, authFromCred(a.target))
                                 : nukiDelete(a.lock, key);
        s = n.status;
        break;
      }
      default:
        break;
    }
    status = s;
  }
  if (!answered) {
    a.retried = true;  // Nuki Web may have the change already
    if (cut) {
      a.awaitingTry = true;  // the restart sends it again
      return;
    }
  } else if (c.status != 0 && c.status != status && observes_) {
    findings_.push_back(Violation{"SPEC §2",
                                  "Nuki Web answered " + c.method + " " + c.path + " with " +
                                      std::to_string(c.status) + "; SPEC gives " +
                                      std::to_string(status),
                                  currentStep_, c.atMs});
  }
  const bool retryable = !answered || status == 429 || status >= 500;
  const bool ownEarlierTry = answered && a.retried &&
                             ((a.kind == StepKind::kCreatePin && status == 409) ||
                              (a.kind == StepKind::kUpdatePin && status == 423) ||
                              (a.kind == StepKind::kDeletePin && status == 404));
  if (answered && (status / 100 == 2 || ownEarlierTry)) {
    a.awaitingTry = false;
    a.acceptedMs = c.atMs;
    a.queuedOffline = !online(l);
    updateAction(a, "PENDING", "",
                 a.kind == StepKind::kSetLocked ? lockActionRule(a) : "R-PIN-ACCEPTED");
    return;
  }
  if (retryable) {
    const int64_t deadline = a.firstTryMs + kRetryBudgetMs;
    if (a.tries >= kMaxTries || c.atMs >= deadline ||
        (retryAfter >= 0 && c.atMs + retryAfter * 1000 > deadline)) {
      a.awaitingTry = false;
      updateAction(a, "TIMEOUT", "", "R-ACT-FAILED");
      return;
    }
    a.awaitingTry = true;
    a.notBeforeMs = c.atMs + std::max<int64_t>(retryAfter * 1000, 1);
    return;
  }
  a.awaitingTry = false;
  updateAction(a, "FAILED", std::to_string(status), "R-ACT-FAILED");
}

void SpecModel::restartIfDue(const Oracle& oracle, const ObservedCall* next) {
  if (pendingRestart_ == SIZE_MAX) return;
  auto info = oracle.restart(pendingRestart_);
  if (!info || info->cutSeq != 0) return;  // a cut call restarts it when the call is taken
  const bool due =
      next ? (info->afterSeq != 0 && next->seq >= info->afterSeq) : info->atMs <= nowMs_;
  if (!due) return;
  pendingRestart_ = SIZE_MAX;
  restartSeq_ = info->afterSeq;
  nowMs_ = std::max(nowMs_, info->atMs);
  restartAtMs_ = nowMs_;
  restartAdapter(true);
}

// The adapter was killed while an action's call was in flight and may not have heard the
// answer Nuki Web sent: the restarted adapter sends it again. The model had taken the first
// answer; the second call changes nothing the adapter tells (a 409/423/404 for its own change),
// but a lock action runs a second time (SPEC §7: a kill during a Nuki call leaves it open).
bool SpecModel::duplicateSend(const ObservedCall& c, const Fault* f, const Action* only) {
  const Route route = routeOf(c.path);
  const size_t lock = scenario_->lockIndex(c.lock);
  for (const auto& ref : actionOrder_) {
    Action& a = actions_.at(ref);
    if (only && &a != only) continue;
    if (a.lock != lock || a.status == "QUEUED" || a.duplicateSeen || a.lastTryMs < 0) continue;
    if (actionMethod(a) != c.method || !globMatch(actionTail(a), route.tail)) continue;
    a.duplicateSeen = true;
    branches_.push_back("the restarted adapter sent " + c.method + " " + c.path + " of " + ref +
                        " again (its predecessor did not keep Nuki Web's answer)");
    // The killed adapter never had that answer, so its PENDING was never sent: the restarted
    // one sends it, after its start-up reads. The model took the answer at the first call, in
    // this same step (the kill lands on an exchange of it), before any check: it moves.
    const bool accepted = c.status / 100 == 2 ||
                          (a.kind == StepKind::kCreatePin && c.status == 409) ||
                          (a.kind == StepKind::kUpdatePin && c.status == 423) ||
                          (a.kind == StepKind::kDeletePin && c.status == 404);
    if (a.status == "PENDING" && accepted) {
      auto& list = hooks_[spec(locks_[lock]).name];
      for (size_t k = list.size(); k-- > 0;) {
        const ExpectedWebhook& w = list[k];
        if (w.type != "deviceEventUpdateAction" || w.content.value("actionId", "") != a.ref ||
            w.content.value("status", "") != "PENDING")
          continue;
        if (w.step != currentStep_) break;
        const std::string rule = w.rule;
        list.erase(list.begin() + std::ptrdiff_t(k));
        Device& d = devices_[lock];
        if (d.delivered > k) --d.delivered;
        updateAction(a, "PENDING", "", rule);
        break;
      }
    }
    if (f && f->effect != Fault::kResetAfter) return true;
    if (a.kind == StepKind::kSetLocked) {
      Cmd cmd;
      cmd.kind = CmdKind::kMotor;
      cmd.lock = a.lockTarget;
      cmd.by = a.ref;
      cmd.readyMs = nowMs_;
      locks_[lock].queue.push_back(cmd);
      schedule(nowMs_, Event{Event::kQueueReady, lock, 0});
    }
    return true;
  }
  return false;
}

void SpecModel::checkStalledTries() {
  if (!observes_) return;
  for (const auto& ref : actionOrder_) {
    Action& a = actions_.at(ref);
    if (!a.awaitingTry || a.status != "QUEUED" || a.stallReported) continue;
    // After a restart, the start-up reads come first and may be retried through faults for
    // up to the retry budget.
    const int64_t grace = a.resentAtMs >= 0 ? kRetryBudgetMs + 60 * 1000 : 0;
    if (a.tries == 0 && nowMs_ > a.notBeforeMs + grace + callLatencyMs_) {
      a.stallReported = true;
      violations_.push_back(
          Violation{"R-ACT-FAILED", "action " + ref + ": the adapter never called Nuki Web for it",
                    currentStep_});
    } else if (a.tries > 0 && nowMs_ > a.firstTryMs + kRetryBudgetMs + 60 * 1000) {
      a.stallReported = true;
      violations_.push_back(
          Violation{"R-ACT-FAILED",
                    "action " + ref + ": after " + std::to_string(a.tries) +
                        " tries the adapter stopped calling Nuki Web without reporting TIMEOUT",
                    currentStep_});
    }
  }
}

// Another Nuki Web client calls the API (R-PIN-LOCAL): the model serves the request as Nuki
// Web would (SPEC §2).
Prediction SpecModel::harnessRequest(const Step& st, const Oracle& oracle) {
  Prediction r;
  const size_t i = scenario_->lockIndex(st.lock);
  LockState& l = locks_[i];
  // The path with {lock} and {@name} put in: what it is, as the model knows it.
  std::string path = st.path;
  uint64_t authKey = 0;
  bool namesAuth = false;
  for (size_t pos; (pos = path.find("{lock}")) != std::string::npos;)
    path.replace(pos, 6, lockPath(i).substr(11));
  for (size_t pos; (pos = path.find("{@")) != std::string::npos;) {
    const size_t end = path.find('}', pos);
    const std::string name = path.substr(pos + 2, end - pos - 2);
    if (refusedNames_.count(name)) {
      r.error = "uses '{@" + name + "}', whose action was refused";
      return r;
    }
    auto it = pinNames_.find(name);
    if (it != pinNames_.end()) {
      authKey = nukiKeyOf(i, it->second);
      namesAuth = true;
    }
    // Stands for Nuki's 24-hex-digit auth id, for route patterns (only `*` can match one).
    path.replace(pos, end - pos + 1, std::string(24, 'f'));
  }
  const std::string query = path.find('?') == std::string::npos ? "" : path.substr(path.find('?'));
  const std::string bare = path.substr(0, path.find('?'));
  const Route route = routeOf(bare);
  // Its fault, if one applies (in the order the system served the requests of this instant).
  const Fault* f = nullptr;
  if (oracle.observes()) {
    // The request is the last the harness made at this instant with its method (the harness
    // may have looked up an auth id first); what came before it is taken in order.
    std::vector<ObservedCall> now;
    for (auto& c : oracle.calls(nowMs_, nowMs_))
      if (!seenCalls_.count(c.seq)) now.push_back(std::move(c));
    size_t mine = now.size();
    for (size_t k = 0; k < now.size(); ++k)
      if (now[k].fromHarness && now[k].method == st.method) mine = k;
    for (size_t k = 0; k < now.size() && k <= mine; ++k) {
      if (k < mine) {
        onCall(now[k], oracle);
        continue;
      }
      seenCalls_.insert(now[k].seq);
      f = pickFault(now[k].method, now[k].path, now[k].atMs);
    }
  } else {
    f = pickFault(st.method, bare, nowMs_);
  }
  auto answer = [&](int status, const std::string& rule = {}, const std::string& note = {}) {
    r.answer = json{{"status", status}};
    r.rule = rule;
    r.note = note;
    if (!rule.empty()) ++coverage_[rule];
    return r;
  };
  const bool applied = !f || f->effect == Fault::kResetAfter;
  auto faulted = [&]() -> std::optional<Prediction> {
    if (!f) return std::nullopt;
    if (f->effect == Fault::kStatus) return answer(f->status, "", "an injected fault");
    return std::nullopt;
  };
  auto lost = [&](Prediction p) {
    if (f && f->effect != Fault::kStatus) return answer(0, "", "the connection was reset");
    return p;
  };
  if (!applied) {
    if (auto p = faulted()) return *p;
    return answer(0, "", "the connection was reset");
  }
  const json& body = st.body;
  auto authFromBody = [&](const Auth* base, Auth& a, std::string& why) -> int {
    if (!body.is_object()) {
      why = "the body is a JSON object";
      return 400;
    }
    a = base ? *base : Auth{};
    if (body.contains("code")) {
      if (!body["code"].is_number_integer()) return 400;
      a.code = body["code"].get<int64_t>();
    }
    if (body.contains("name")) {
      if (!body["name"].is_string()) return 400;
      a.name = body["name"].get<std::string>();
    } else {
      a.name.clear();
    }
    auto date = [&](const char* k, std::optional<int64_t>& out) {
      if (!body.contains(k)) return true;
      if (body[k].is_null()) {
        out.reset();
        return true;
      }
      if (!body[k].is_string()) return false;
      auto t = parseRfc3339(body[k].get<std::string>());
      if (!t) return false;
      out = millisOf(*t);
      return true;
    };
    if (!date("allowedFromDate", a.window.fromMs) || !date("allowedUntilDate", a.window.untilMs))
      return 400;
    auto integer = [&](const char* k, int& out) {
      if (!body.contains(k)) return true;
      if (!body[k].is_number_integer()) return false;
      out = int(std::clamp<int64_t>(body[k].get<int64_t>(), -100000, 100000));
      return true;
    };
    if (!integer("allowedWeekDays", a.window.weekDays) ||
        !integer("allowedFromTime", a.window.fromTime) ||
        !integer("allowedUntilTime", a.window.untilTime))
      return 400;
    if (body.contains("enabled")) {
      if (!body["enabled"].is_boolean()) return 400;
      a.enabled = body["enabled"].get<bool>();
    }
    return 0;
  };
  if (st.method == "GET") {
    if (!route.lockRoute && bare != "/smartlock" && bare != "/account" && bare != "/smartlock/auth")
      return lost(answer(404));
    if (route.lockRoute && route.tail != "" && route.tail != "/auth" && route.tail != "/log" &&
        route.tail.rfind("/auth/", 0) != 0)
      return lost(answer(404));
    if (route.tail.rfind("/auth/", 0) == 0 && !namesAuth) return lost(answer(404));
    return lost(answer(200));
  }
  if (!route.lockRoute) {
    r.error = "nukiRequest " + st.method + " " + st.path +
              ": the spec model predicts PUT …/auth, POST|DELETE …/auth/{@name}, POST …/sync and "
              "GETs on a lock";
    return r;
  }
  if (st.method == "POST" && route.tail == "/sync") {
    sync(i);
    return lost(answer(204));
  }
  if (st.method == "PUT" && route.tail == "/auth") {
    if (!body.is_object() || !body.contains("remoteAllowed") || !body["remoteAllowed"].is_boolean())
      return lost(answer(400, "", "remoteAllowed is required"));
    const int64_t type =
        body.contains("type") && body["type"].is_number_integer() ? body["type"].get<int64_t>() : 0;
    if (type != 13) return lost(answer(400, "", "only keypad codes (type 13) can be created"));
    if (!body.contains("code")) return lost(answer(400, "", "code is required"));
    Auth a;
    std::string why;
    if (int s = authFromBody(nullptr, a, why)) return lost(answer(s, "", why));
    a.key = newKey();
    const NukiAnswer n = nukiCreate(i, a);

    return lost(answer(n.status, n.rule));
  }
  if ((st.method == "POST" || st.method == "DELETE") && route.tail.rfind("/auth/", 0) == 0) {
    if (!namesAuth || authKey == 0) return lost(answer(404, "", "no such auth"));
    if (st.method == "DELETE") {
      const NukiAnswer n = nukiDelete(i, authKey);
      return lost(answer(n.status));
    }
    bool locked = false;
    auto current = serverAuth(l, authKey, locked);
    if (!current) return lost(answer(404));
    if (locked) return lost(answer(423));
    Auth a;
    std::string why;
    if (int s = authFromBody(&*current, a, why)) return lost(answer(s, "", why));
    const NukiAnswer n = nukiUpdate(i, authKey, a);
    return lost(answer(n.status, n.rule));
  }
  (void)query;
  r.error =
      "nukiRequest " + st.method + " " + st.path +
      ": the spec model predicts PUT …/auth, POST|DELETE …/auth/{@name}, POST …/sync and GETs "
      "on a lock";
  return r;
}

// The Nuki auth a PIN ref stands for (0 if Nuki Web has none).
uint64_t SpecModel::nukiKeyOf(size_t lock, const std::string& pinRef) const {
  for (const auto& p : devices_[lock].pins)
    if (p.ref == pinRef) return p.authKey;
  for (const auto& [ref, a] : actions_)
    if (a.lock == lock && a.kind == StepKind::kCreatePin && a.pinRef == pinRef) return a.nukiKey;
  return 0;
}

std::optional<std::string> SpecModel::pinCodeOf(const std::string& name) const {
  auto it = pinNames_.find(name);
  if (it == pinNames_.end()) return std::nullopt;
  for (const auto& d : devices_)
    for (const auto& p : d.pins)
      if (p.ref == it->second) return p.pinCode;
  for (const auto& [ref, a] : actions_)
    if (a.pinRef == it->second && a.kind == StepKind::kCreatePin) return a.target.pinCode;
  return std::nullopt;
}

Prediction SpecModel::apply(const Step& st, const Oracle& oracle) {
  currentStep_ = st.index;
  observes_ = oracle.observes();
  Prediction r;
  r.answer = json::object();
  const size_t i = st.lock.empty() ? SIZE_MAX : scenario_->lockIndex(st.lock);
  auto ok = [&](int status = 200) { r.answer = json{{"status", status}}; };
  switch (st.kind) {
    case StepKind::kSetLocked:
    case StepKind::kCreatePin:
    case StepKind::kUpdatePin:
    case StepKind::kDeletePin:
      r = submit(st, oracle);
      break;
    case StepKind::kOffline:
    case StepKind::kOnline:
      setOnline(i, st.kind == StepKind::kOnline);
      ok();
      break;
    case StepKind::kBattery:
      locks_[i].battery = int(st.number);
      report(i);
      ok();
      break;
    case StepKind::kJam:
      locks_[i].jammed = true;
      ok();
      break;
    case StepKind::kFree: {
      LockState& l = locks_[i];
      l.jammed = false;
      if (l.state == kBlocked && !l.busy) {
        l.state = l.stable;
        report(i);
        pump(i);
      }
      ok();
      break;
    }
    case StepKind::kKeypad: {
      LockState& l = locks_[i];
      const Auth* found = nullptr;
      for (const auto& a : l.device)
        if (a.code == st.number) found = &a;
      std::string reason;
      if (!found)
        reason = "UNKNOWN_CODE";
      else if (!found->enabled)
        reason = "DISABLED";
      else if (!insideSchedule(l, found->window, nowMs_))
        reason = "OUTSIDE_SCHEDULE";
      else if (l.jammed || l.state == kBlocked)
        reason = "JAMMED";
      r.answer = json{{"granted", reason.empty()},
                      {"reason", reason.empty() ? json(nullptr) : json(reason)}};
      r.rule = "R-KEYPAD";
      r.note =
          reason.empty() ? "the code is on the lock and inside its schedule" : "refused: " + reason;
      ++coverage_["R-KEYPAD"];
      if (reason.empty() || reason == "JAMMED") {
        Cmd c;
        c.kind = CmdKind::kMotor;
        c.lock = false;
        l.local.push_back(c);
        pump(i);
      }
      break;
    }
    case StepKind::kKnob: {
      LockState& l = locks_[i];
      if (l.jammed || l.state == kBlocked) {
        r.answer = json{{"status", 409}};
        r.note = "the motor is blocked; the knob does not turn";
        break;
      }
      if (l.busy) {
        r.answer = json{{"status", 409}};
        r.note = "the motor is moving";
        break;
      }
      ++l.generation;
      l.state = l.stable = st.lockIt ? kLocked : kUnlocked;
      report(i);
      ok();
      break;
    }
    case StepKind::kAddCodeOnLock: {
      LockState& l = locks_[i];
      bool taken = false;
      for (const auto& a : l.device)
        taken = taken || a.code == st.code.code;
      if (taken || l.device.size() >= 100) {
        r.answer = json{{"status", 409}};
        r.note = taken ? "K4: the lock has that code already" : "K5: the lock has 100 codes";
        break;
      }
      Auth a;
      a.key = newKey();
      a.code = st.code.code;
      a.name = st.code.name;
      a.window.fromMs = st.code.fromMs;
      a.window.untilMs = st.code.untilMs;
      a.window.weekDays = st.code.weekDays.value_or(127);
      a.window.fromTime = st.code.fromTime.value_or(0);
      a.window.untilTime = st.code.untilTime.value_or(0);
      a.enabled = st.code.enabled;
      l.device.push_back(a);
      ok();
      break;
    }
    case StepKind::kRemoveCodeOnLock: {
      LockState& l = locks_[i];
      auto it = std::find_if(l.device.begin(), l.device.end(),
                             [&](const Auth& a) { return a.code == st.number; });
      if (it == l.device.end()) {
        r.answer = json{{"status", 404}};
        r.note = "no such code on the lock";
        break;
      }
      l.device.erase(it);
      ok();
      break;
    }
    case StepKind::kNukiRequest:
      r = harnessRequest(st, oracle);
      break;
    case StepKind::kSync:
      sync(i);
      ok();
      break;
    case StepKind::kAdvance:
      runUntil(nowMs_ + st.seconds * 1000, oracle);
      break;
    case StepKind::kAdvanceTo: {
      int64_t target = nowMs_;
      if (st.time) {
        target = millisOf(*st.time);
      } else {
        target = millisOf(nextLocalTime(zone(locks_[i]), timeFromMillis(nowMs_), st.localMinute));
      }
      runUntil(target, oracle);
      break;
    }
    case StepKind::kFault: {
      Fault f;
      const json& j = st.fault;
      f.route = j.value("route", "*");
      if (j.contains("methods"))
        for (const auto& m : j["methods"])
          f.methods.push_back(m.get<std::string>());
      if (j.contains("from")) f.fromMs = millisOf(*parseRfc3339(j["from"].get<std::string>()));
      if (j.contains("until")) f.untilMs = millisOf(*parseRfc3339(j["until"].get<std::string>()));
      if (j.contains("forSeconds")) {  // from `from`, else from now (as nukisim counts it)
        if (!j.contains("from")) f.fromMs = nowMs_;
        f.untilMs = f.fromMs + j["forSeconds"].get<int64_t>() * 1000;
      }
      if (j.contains("count")) f.remaining = j["count"].get<int64_t>();
      if (j.value("reset", false)) f.effect = Fault::kReset;
      if (j.value("resetAfter", false)) f.effect = Fault::kResetAfter;
      if (j.contains("status")) {
        f.effect = Fault::kStatus;
        f.status = j["status"].get<int>();
        f.retryAfter = j.value("retryAfter", int64_t(-1));
      }
      faults_.push_back(f);
      // Without Nuki webhooks everything the adapter learns comes from its polls' reads; a
      // fault on them moves what it sees to instants SPEC leaves open, and the model does not
      // follow polls cut short.
      if (!scenario_->nukiWebhooks &&
          (f.methods.empty() ||
           std::find(f.methods.begin(), f.methods.end(), "GET") != f.methods.end()) &&
          (faultCouldMatch("GET", "/smartlock") || faultCouldMatch("GET", lockPath(0)) ||
           faultCouldMatch("GET", lockPath(0) + "/auth") ||
           faultCouldMatch("GET", lockPath(0) + "/log")))
        r.error =
            "with adapter.nukiWebhooks false, a fault on the adapter's reads (GET) cannot be "
            "judged: give the fault methods without GET, or a route the polls do not use";
      break;
    }
    case StepKind::kClearFaults:
      faults_.clear();
      break;
    case StepKind::kReceiverDown:
      receiverUp_ = false;
      break;
    case StepKind::kReceiverUp:
      if (!receiverUp_) {
        receiverUp_ = true;
        for (size_t k = 0; k < devices_.size(); ++k) {
          Device& d = devices_[k];
          if (d.failingSinceMs < 0 || d.parked) continue;
          // The next retry, at most kOutboxMaxRetryMs away, delivers the stream.
          d.settleByMs = nowMs_ + kOutboxMaxRetryMs;
          schedule(d.settleByMs, Event{Event::kOutboxSettle, k, 0});
        }
      }
      break;
    case StepKind::kRestartAdapter:
      if (st.during.empty())
        restartAdapter();
      else
        pendingRestart_ = st.index;
      break;
    case StepKind::kResumeOutbox: {
      Device& d = devices_[i];
      if (!d.parked) {
        r.answer = json{{"status", 409}};
        r.note = "the stream is not parked";
        break;
      }
      d.parked = false;
      if (receiverUp_) {
        d.failingSinceMs = -1;
        d.settleByMs = -1;
        d.delivered = hooks_[st.lock].size();
      } else {
        d.failingSinceMs = nowMs_;
        schedule(nowMs_ + kParkAfterMs, Event{Event::kOutboxSettle, i, 1});
      }
      ok();
      break;
    }
    case StepKind::kExpectAction:
    case StepKind::kExpectDevice:
    case StepKind::kExpectLock:
    case StepKind::kExpectOutbox:
      runUntil(nowMs_, oracle);
      return expectation(st);
  }
  // Quiescence: the calls this step caused, at this instant.
  if (r.error.empty()) runUntil(nowMs_, oracle);
  // A restart `during: nextWebhook` (or a cut call that reached nobody) happens when the
  // system says.
  return r;
}

Prediction SpecModel::expectation(const Step& st) const {
  Prediction r;
  const size_t i = st.lock.empty() ? SIZE_MAX : scenario_->lockIndex(st.lock);
  switch (st.kind) {
    case StepKind::kExpectAction: {
      if (refusedNames_.count(st.ref)) {
        r.error = "'" + st.ref + "' names an action that was refused";
        return r;
      }
      auto alias = aliases_.find(st.ref);
      if (alias == aliases_.end()) {
        r.error = "'" + st.ref + "' names no action";
        return r;
      }
      const Action& a = actions_.at(alias->second);
      r.answer = json{{"status", a.status}};
      if (!a.reason.empty()) r.answer["reason"] = a.reason;
      return r;
    }
    case StepKind::kExpectDevice: {
      const Device& d = devices_[i];
      json j = json::object();
      auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
      for (const auto& [k, v] : st.fields.items()) {
        if (k == "isLocked") j[k] = opt(d.isLocked);
        if (k == "isJammed") j[k] = opt(d.isJammed);
        if (k == "isOnline") j[k] = opt(d.isOnline);
        if (k == "percentage") j[k] = opt(d.percentage);
        if (k == "batteryStatus") j[k] = d.batteryStatus;
        if (k == "pinCodes") {
          std::vector<std::string> codes;
          for (const auto& p : d.pins)
            codes.push_back(p.pinCode);
          std::sort(codes.begin(), codes.end());
          j[k] = codes;
        }
      }
      r.answer = j;
      return r;
    }
    case StepKind::kExpectLock: {
      const LockState& l = locks_[i];
      json j = json::object();
      for (const auto& [k, v] : st.fields.items()) {
        if (k == "state") j[k] = l.state;
        if (k == "online") j[k] = online(l);
        if (k == "codes") {
          std::vector<int64_t> codes;
          for (const auto& a : l.device)
            codes.push_back(a.code);
          std::sort(codes.begin(), codes.end());
          j[k] = codes;
        }
      }
      r.answer = j;
      return r;
    }
    case StepKind::kExpectOutbox: {
      const Device& d = devices_[i];
      const size_t total = hooks_.at(st.lock).size();
      const size_t pending = total - d.delivered;
      json j = json::object();
      if (st.fields.contains("parked")) j["parked"] = d.parked;
      if (st.fields.contains("pending")) j["pending"] = pending;
      r.answer = j;
      if (d.settleByMs >= 0 && st.fields.contains("pending")) {
        // A retry after the outage may or may not have come yet.
        for (size_t k = 0; k < pending; ++k) {
          json alt = j;
          alt["pending"] = k;
          r.alternatives.push_back(alt);
        }
        r.note = "the outbox retries within " + std::to_string(kOutboxMaxRetryMs / 60000) +
                 " minutes after the receiver is back";
      }
      return r;
    }
    default:
      return r;
  }
}

}  // namespace nukihil::model
