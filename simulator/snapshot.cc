// Snapshot and restore of the whole simulated world, and fleet files. A snapshot holds
// everything that decides the future: clock, random state, id counters, accounts, bridges,
// locks (device truth, web view, queues, logs), scheduled events, webhook registrations and
// their undelivered events, faults and the journal.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "runtime/json_input.h"
#include "simulator/nuki_json.h"
#include "simulator/routes.h"

namespace nukihil::sim {

namespace {

using nlohmann::json;
constexpr int kSnapshotVersion = 1;

json idJson(const ObjectId& id) {
  return json::array({id.seconds, id.lock, id.counter});
}
// Auth records as compact arrays.
json authJson(const Auth& a) {
  return json::array({idJson(a.id), a.name, a.creationMs, a.updateMs, a.lastActiveMs,
                      a.schedule.fromMs, a.schedule.untilMs, a.schedule.fromTime,
                      a.schedule.untilTime, a.schedule.weekDays, a.authId, a.code, a.lockCount,
                      a.type, a.enabled, a.remoteAllowed});
}

json commandJson(const Command& c) {
  json j;
  j["kind"] = c.kind;
  j["action"] = c.action;
  j["trigger"] = c.trigger;
  j["readyMs"] = c.readyMs;
  j["operation"] = idJson(c.operation);
  j["target"] = idJson(c.target);
  if (c.auth) j["auth"] = authJson(*c.auth);
  j["by"] = c.by;
  return j;
}

json logJson(const LogEntry& e) {
  return json::array(
      {idJson(e.id), idJson(e.authId), e.dateMs, e.name, e.action, e.trigger, e.state, e.source});
}

json lockJson(const Lock& l) {
  json j;
  j["smartlockId"] = l.smartlockId;
  j["nukiId"] = l.nukiId;
  j["account"] = l.account;
  j["bridge"] = l.bridge;
  j["model"] = int(l.model);
  j["removed"] = l.removed;
  j["favorite"] = l.favorite;
  j["name"] = l.name;
  j["apiAuthId"] = l.apiAuthId;
  j["creationMs"] = l.creationMs;
  j["updateMs"] = l.updateMs;
  j["settings"] = {l.settings.motorSeconds,
                   l.settings.deliverySeconds,
                   l.settings.unlatchDuration,
                   l.settings.lngTimeout,
                   l.settings.syncAtMinute,
                   l.settings.timeZone ? l.settings.timeZone->name() : std::string("UTC")};
  j["device"] = {l.wifiOnline, l.state,      l.stableState,     l.trigger,      l.lastAction,
                 l.battery,    l.jammed,     l.motorBusy,       l.jobBlocked,   l.jobLogged,
                 l.jobAction,  l.jobTrigger, l.motorGeneration, l.nextAuthSlot, l.jobBy};
  j["web"] = {l.webOnline,  l.webState,   l.webTrigger,    l.webLastAction,
              l.webBattery, l.nextSyncMs, l.syncGeneration};
  json device = json::array();
  for (const auto& a : l.deviceAuths)
    device.push_back(authJson(*a));
  j["deviceAuths"] = std::move(device);
  // The web view mostly shares records with the device: store only the ids of shared ones.
  json web = json::array();
  for (const auto& a : l.webView) {
    bool shared = false;
    for (const auto& d : l.deviceAuths)
      if (d.get() == a.get()) shared = true;
    web.push_back(shared ? json(idJson(a->id)) : json{{"auth", authJson(*a)}});
  }
  j["webView"] = std::move(web);
  json queue = json::array();
  for (const auto& c : l.queue)
    queue.push_back(commandJson(c));
  j["queue"] = std::move(queue);
  json local = json::array();
  for (const auto& c : l.localQueue)
    local.push_back(commandJson(c));
  j["localQueue"] = std::move(local);
  json pending = json::array();
  for (const auto& p : l.pending) {
    json pj = {{"kind", p.kind},
               {"operation", idJson(p.operation)},
               {"target", idJson(p.target)},
               {"delivered", p.delivered}};
    if (p.auth) pj["auth"] = authJson(*p.auth);
    pending.push_back(std::move(pj));
  }
  j["pending"] = std::move(pending);
  json logs = json::array();
  for (const auto& e : l.logs)
    logs.push_back(logJson(e));
  j["logs"] = std::move(logs);
  j["reportedLogs"] = l.reportedLogs;
  return j;
}

json faultJson(const Fault& f) {
  json j;
  j["id"] = f.id;
  j["route"] = f.route;
  j["methods"] = f.methods;
  j["probability"] = f.probability;
  j["fromMs"] = f.fromMs;
  j["untilMs"] = f.untilMs;
  j["remaining"] = f.remaining;
  j["effect"] = f.effect;
  j["status"] = f.status;
  j["retryAfter"] = f.retryAfterSeconds;
  j["latencyMs"] = f.latencyMs;
  j["fired"] = f.fired;
  return j;
}

// ---- Decoding, every value checked ----------------------------------------------------------
// A damaged snapshot must never reach the world: every index, count, enum and range is checked
// here, and a failure names the JSON path (issue 8).

struct SnapshotError : std::runtime_error {
  SnapshotError(const std::string& path, const std::string& why)
      : std::runtime_error((path.empty() ? std::string("the snapshot") : path) + ": " + why) {}
};

// Instants the simulator itself makes lie in SPEC's 2000–2037 (SPEC §3); what is scheduled may
// run a little past the end (a motor run, a delivery, the next sync, a webhook retry).
constexpr int64_t kEarliestMs = millisOf(kEarliestTime);
constexpr int64_t kLatestMs = millisOf(kLatestTime);
constexpr int64_t kLatestScheduledMs = kLatestMs + int64_t(3) * 86400 * 1000;
// Dates a client gave (schedule windows): what RFC 3339 can say, years 0001–9999.
constexpr int64_t kFirstDateMs = -62135596800000LL;
constexpr int64_t kLastDateMs = 253402300799999LL;
constexpr size_t kMaxText = 64 * 1024;
constexpr size_t kMaxBody = 1 << 20;

// One JSON value of the snapshot and its path, read with its type and range checked.
class In {
 public:
  In(const json& j, std::string path) : j_(j), path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  const json& raw() const { return j_; }
  [[noreturn]] void fail(const std::string& why) const { throw SnapshotError(path_, why); }

  bool has(const char* key) const { return j_.is_object() && j_.contains(key); }
  In operator[](const char* key) const {
    if (!j_.is_object()) fail("must be an object");
    auto it = j_.find(key);
    const std::string p = path_.empty() ? key : path_ + "." + key;
    if (it == j_.end()) throw SnapshotError(p, "is missing");
    return In(*it, p);
  }
  In operator[](size_t i) const {
    if (!j_.is_array()) fail("must be an array");
    const std::string p = path_ + "[" + std::to_string(i) + "]";
    if (i >= j_.size()) throw SnapshotError(p, "is missing");
    return In(j_[i], p);
  }
  In operator[](int i) const { return (*this)[size_t(i)]; }
  // An array of at most `max` elements; its size.
  size_t array(size_t max = SIZE_MAX) const {
    if (!j_.is_array()) fail("must be an array");
    if (j_.size() > max)
      fail("holds " + std::to_string(j_.size()) + " entries, at most " + std::to_string(max) +
           " allowed");
    return j_.size();
  }
  int64_t integer(int64_t lo, int64_t hi) const {
    bool ok = j_.is_number_integer();
    int64_t v = 0;
    if (ok && j_.is_number_unsigned()) ok = j_.get<uint64_t>() <= uint64_t(INT64_MAX);
    if (ok) v = j_.get<int64_t>();
    if (!ok || v < lo || v > hi)
      fail("must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", not " +
           j_.dump());
    return v;
  }
  uint64_t u64() const {
    if (!j_.is_number_unsigned() && !(j_.is_number_integer() && j_.get<int64_t>() >= 0))
      fail("must be a non-negative integer, not " + j_.dump());
    return j_.get<uint64_t>();
  }
  uint32_t u32() const { return uint32_t(integer(0, UINT32_MAX)); }
  int32_t i32() const { return int32_t(integer(INT32_MIN, INT32_MAX)); }
  uint8_t u8(uint8_t hi = UINT8_MAX) const { return uint8_t(integer(0, hi)); }
  bool boolean() const {
    if (!j_.is_boolean()) fail("must be true or false");
    return j_.get<bool>();
  }
  std::string string(size_t maxBytes = kMaxText) const {
    if (!j_.is_string()) fail("must be a string");
    const auto& s = j_.get_ref<const std::string&>();
    if (s.size() > maxBytes) fail("is longer than " + std::to_string(maxBytes) + " bytes");
    return s;
  }
  // An instant in [lo, hi], or kUnset where allowed.
  int64_t instant(int64_t lo, int64_t hi, bool unsetAllowed = false) const {
    if (unsetAllowed && j_.is_number_integer() && !j_.is_number_unsigned() &&
        j_.get<int64_t>() == kUnset)
      return kUnset;
    if (!j_.is_number_integer() || (j_.is_number_unsigned() && j_.get<uint64_t>() > INT64_MAX) ||
        j_.get<int64_t>() < lo || j_.get<int64_t>() > hi)
      fail("must be an instant between " + formatRfc3339(timeFromMillis(lo)) + " and " +
           formatRfc3339(timeFromMillis(hi)) + " (ms), not " + j_.dump());
    return j_.get<int64_t>();
  }

 private:
  const json& j_;
  std::string path_;
};

ObjectId idFrom(const In& j) {
  if (j.array() != 3) j.fail("must be an id [seconds, lock, counter]");
  return ObjectId{j[0].u32(), j[1].u32(), j[2].u32()};
}

bool validMotorState(int64_t s) {
  return (s >= kLocked && s <= kUnlatching) || s == kMotorBlocked;
}

Auth authFrom(const In& j) {
  if (j.array() != 16) j.fail("must be an auth record of 16 fields");
  Auth a;
  a.id = idFrom(j[0]);
  a.name = j[1].string(1024);
  a.creationMs = j[2].instant(kEarliestMs, kLatestMs);
  a.updateMs = j[3].instant(kEarliestMs, kLatestMs);
  a.lastActiveMs = j[4].instant(kEarliestMs, kLatestMs, true);
  a.schedule.fromMs = j[5].instant(kFirstDateMs, kLastDateMs, true);
  a.schedule.untilMs = j[6].instant(kFirstDateMs, kLastDateMs, true);
  if ((a.schedule.fromMs == kUnset) != (a.schedule.untilMs == kUnset) ||
      (a.schedule.fromMs != kUnset && a.schedule.fromMs >= a.schedule.untilMs))
    j[6].fail("a temporary window needs a start before its end (K7)");
  a.schedule.fromTime = uint16_t(j[7].integer(0, 1439));
  a.schedule.untilTime = uint16_t(j[8].integer(0, 1439));
  a.schedule.weekDays = uint8_t(j[9].integer(1, 127));
  a.authId = j[10].i32();
  a.code = uint32_t(j[11].integer(0, 999999));
  a.lockCount = j[12].u32();
  a.type = j[13].u8();
  if (a.type != kAuthApp && a.type != kAuthBridge && a.type != kAuthKeypadCode)
    j[13].fail("must be an auth type 0, 1 or 13");
  a.enabled = j[14].boolean();
  a.remoteAllowed = j[15].boolean();
  return a;
}

Command commandFrom(const In& j) {
  Command c;
  c.kind = Command::Kind(j["kind"].integer(Command::kMotor, Command::kAuthDelete));
  c.action = j["action"].u8();
  if (c.kind == Command::kMotor && (c.action < kActionUnlock || c.action > kActionLockNGoUnlatch))
    j["action"].fail("must be a motor action 1..5");
  c.trigger = j["trigger"].u8();
  c.readyMs = j["readyMs"].instant(kEarliestMs, kLatestScheduledMs);
  c.operation = idFrom(j["operation"]);
  c.target = idFrom(j["target"]);
  if (j.has("auth")) c.auth = AuthRef::make(authFrom(j["auth"]));
  if ((c.kind == Command::kAuthCreate || c.kind == Command::kAuthUpdate) && !c.auth)
    j.fail("a create or update carries its auth");
  c.by = j["by"].string(1024);
  return c;
}

LogEntry logFrom(const In& j) {
  if (j.array() != 8) j.fail("must be a log record of 8 fields");
  LogEntry e;
  e.id = idFrom(j[0]);
  e.authId = idFrom(j[1]);
  e.dateMs = j[2].instant(kEarliestMs, kLatestMs);
  e.name = j[3].string(1024);
  e.action = j[4].u8();
  e.trigger = j[5].u8();
  e.state = j[6].u8();
  e.source = j[7].u8();
  return e;
}

// Ids strictly increasing: the world finds auths by binary search.
void checkSorted(const std::vector<AuthRef>& list, const In& where) {
  for (size_t i = 1; i < list.size(); ++i)
    if (!(list[i - 1]->id < list[i]->id))
      where[i].fail("auths must be in strictly increasing id order");
}

Lock lockFromJson(const In& j, size_t maxLogs) {
  Lock l;
  l.smartlockId = j["smartlockId"].u64();
  l.nukiId = j["nukiId"].u32();
  if (l.smartlockId != ((uint64_t(4) << 32) | l.nukiId))
    j["smartlockId"].fail("must be (4 << 32) | nukiId");
  l.account = j["account"].u32();
  l.bridge = j["bridge"].u32();
  l.model = Model(j["model"].integer(int(Model::k30), int(Model::k30Pro)));
  l.removed = j["removed"].boolean();
  l.favorite = j["favorite"].boolean();
  l.name = j["name"].string(1024);
  l.apiAuthId = j["apiAuthId"].i32();
  l.creationMs = j["creationMs"].instant(kEarliestMs, kLatestMs);
  l.updateMs = j["updateMs"].instant(kEarliestMs, kLatestMs);
  const In s = j["settings"];
  if (s.array() != 6) s.fail("must hold 6 settings");
  l.settings.motorSeconds = uint32_t(s[0].integer(0, 3600));
  l.settings.deliverySeconds = uint32_t(s[1].integer(0, 86400));
  l.settings.unlatchDuration = uint32_t(s[2].integer(0, 3600));
  if (!validUnlatchDuration(l.settings.unlatchDuration))
    s[2].fail("must be one of 1, 3, 5, 7, 10, 15, 20, 30");
  l.settings.lngTimeout = uint32_t(s[3].integer(0, 3600));
  if (!validLngTimeout(l.settings.lngTimeout))
    s[3].fail("must be one of 5, 10, 15, 20, 30, 45, 60");
  l.settings.syncAtMinute = uint16_t(s[4].integer(0, 1439));
  l.settings.timeZone = TimeZone::find(s[5].string(256));
  if (!l.settings.timeZone) s[5].fail("must be an IANA time zone");
  const In d = j["device"];
  if (d.array() != 15) d.fail("must hold 15 device fields");
  l.wifiOnline = d[0].boolean();
  l.state = d[1].u8();
  if (!validMotorState(l.state)) d[1].fail("must be a motor state 1..7 or 254");
  l.stableState = d[2].u8();
  if (!validMotorState(l.stableState) || l.stableState == kMotorBlocked)
    d[2].fail("must be a motor state 1..7");
  l.trigger = d[3].u8();
  l.lastAction = uint8_t(d[4].integer(kActionUnlock, kActionLockNGoUnlatch));
  l.battery = uint8_t(d[5].integer(0, 100));
  l.jammed = d[6].boolean();
  l.motorBusy = d[7].boolean();
  l.jobBlocked = d[8].boolean();
  l.jobLogged = d[9].boolean();
  l.jobAction = uint8_t(d[10].integer(0, kActionLockNGoUnlatch));
  l.jobTrigger = d[11].u8();
  l.motorGeneration = d[12].u32();
  l.nextAuthSlot = int32_t(d[13].integer(1, INT32_MAX));
  l.jobBy = d[14].string(1024);
  const In w = j["web"];
  if (w.array() != 7) w.fail("must hold 7 web fields");
  l.webOnline = w[0].boolean();
  l.webState = w[1].u8();
  if (!validMotorState(l.webState)) w[1].fail("must be a motor state 1..7 or 254");
  l.webTrigger = w[2].u8();
  l.webLastAction = uint8_t(w[3].integer(kActionUnlock, kActionLockNGoUnlatch));
  l.webBattery = uint8_t(w[4].integer(0, 100));
  l.nextSyncMs = w[5].instant(kEarliestMs, kLatestScheduledMs, true);
  l.syncGeneration = w[6].u32();
  const In device = j["deviceAuths"];
  for (size_t i = 0, n = device.array(); i < n; ++i)
    l.deviceAuths.push_back(AuthRef::make(authFrom(device[i])));
  checkSorted(l.deviceAuths, device);
  const In web = j["webView"];
  for (size_t i = 0, n = web.array(); i < n; ++i) {
    const In a = web[i];
    if (a.raw().is_object()) {
      l.webView.push_back(AuthRef::make(authFrom(a["auth"])));
      continue;
    }
    const ObjectId id = idFrom(a);
    // deviceAuths is in strictly increasing id order (checked above): a binary search, so that
    // a lock with many codes does not cost codes² here.
    const auto it = std::lower_bound(l.deviceAuths.begin(), l.deviceAuths.end(), id,
                                     [](const AuthRef& r, const ObjectId& v) { return r->id < v; });
    if (it == l.deviceAuths.end() || (*it)->id != id)
      a.fail("refers to an auth the device does not hold");
    l.webView.push_back(*it);
  }
  checkSorted(l.webView, web);
  const In queue = j["queue"];
  for (size_t i = 0, n = queue.array(); i < n; ++i)
    l.queue.push_back(commandFrom(queue[i]));
  const In local = j["localQueue"];
  for (size_t i = 0, n = local.array(); i < n; ++i)
    l.localQueue.push_back(commandFrom(local[i]));
  const In pending = j["pending"];
  for (size_t i = 0, n = pending.array(); i < n; ++i) {
    const In p = pending[i];
    PendingChange pc;
    pc.kind = Command::Kind(p["kind"].integer(Command::kAuthCreate, Command::kAuthDelete));
    pc.operation = idFrom(p["operation"]);
    pc.target = idFrom(p["target"]);
    pc.delivered = p["delivered"].boolean();
    if (p.has("auth")) pc.auth = AuthRef::make(authFrom(p["auth"]));
    if (pc.kind != Command::kAuthDelete && !pc.auth) p.fail("a create or update carries its auth");
    l.pending.push_back(std::move(pc));
  }
  const In logs = j["logs"];
  for (size_t i = 0, n = logs.array(maxLogs); i < n; ++i)
    l.logs.push_back(logFrom(logs[i]));
  l.reportedLogs = size_t(j["reportedLogs"].integer(0, int64_t(l.logs.size())));
  return l;
}

Fault faultFrom(const In& j) {
  Fault f;
  f.id = j["id"].integer(1, INT64_MAX);
  f.route = j["route"].string(2048);
  const In methods = j["methods"];
  for (size_t i = 0, n = methods.array(16); i < n; ++i)
    f.methods.push_back(methods[i].string(16));
  const In p = j["probability"];
  if (!p.raw().is_number() || !(p.raw().get<double>() >= 0 && p.raw().get<double>() <= 1))
    p.fail("must be a number in 0..1");
  f.probability = p.raw().get<double>();
  f.fromMs = j["fromMs"].integer(INT64_MIN, INT64_MAX);
  f.untilMs = j["untilMs"].integer(INT64_MIN, INT64_MAX);
  f.remaining = j["remaining"].integer(-1, INT64_MAX);
  f.effect = Fault::Effect(j["effect"].integer(Fault::kStatus, Fault::kResetAfter));
  f.status = int(j["status"].integer(100, 599));
  f.retryAfterSeconds = j["retryAfter"].integer(-1, 86400);
  f.latencyMs = j["latencyMs"].integer(0, 3600000);
  f.fired = j["fired"].u64();
  return f;
}

// Everything a snapshot holds, decoded and checked, before any of it touches the world.
struct Decoded {
  Time now;
  Random::State random{};
  uint32_t idCounter = 0;
  std::vector<Account> accounts;
  std::vector<Bridge> bridges;
  std::vector<Lock> locks;
  std::vector<Event> events;
  uint64_t eventsNextSeq = 1;
  std::map<int32_t, Webhook> hooks;
  std::vector<Fault> faults;
  int64_t faultsNextId = 1;
  std::deque<JournalEntry> journal;
  uint64_t journalNextSeq = 1;
};

Decoded decode(const In& root, size_t maxLogsPerLock, size_t journalLimit) {
  Decoded d;
  d.now = timeFromMillis(root["nowMs"].instant(kEarliestMs, kLatestMs - 1));
  const In random = root["random"];
  if (random.array() != 4) random.fail("must hold 4 state words");
  bool allZero = true;
  for (size_t i = 0; i < 4; ++i) {
    d.random[i] = random[i].u64();
    allZero = allZero && d.random[i] == 0;
  }
  if (allZero) random.fail("an all-zero state would draw zeros forever");
  d.idCounter = root["idCounter"].u32();

  // Locks first, so that accounts and bridges can be checked against them.
  const In locks = root["locks"];
  const size_t nLocks = locks.array(UINT32_MAX - 1);
  std::set<uint32_t> nukiIds;
  for (size_t i = 0; i < nLocks; ++i) {
    d.locks.push_back(lockFromJson(locks[i], maxLogsPerLock));
    if (!nukiIds.insert(d.locks.back().nukiId).second)
      locks[i]["nukiId"].fail("another lock has this nukiId");
  }

  const In accounts = root["accounts"];
  const size_t nAccounts = accounts.array(UINT32_MAX - 1);
  std::set<int32_t> accountIds;
  std::set<std::string> tokens;
  std::vector<bool> listed(nLocks, false);
  for (size_t ai = 0; ai < nAccounts; ++ai) {
    const In a = accounts[ai];
    Account acc;
    acc.accountId = int32_t(a["accountId"].integer(1, INT32_MAX));
    if (!accountIds.insert(acc.accountId).second)
      a["accountId"].fail("another account has this id");
    acc.name = a["name"].string(1024);
    acc.email = a["email"].string(1024);
    acc.apiToken = a["apiToken"].string(1024);
    if (acc.apiToken.empty() || !tokens.insert(acc.apiToken).second)
      a["apiToken"].fail("must be a non-empty token of this account only");
    acc.creationMs = a["creationMs"].instant(kEarliestMs, kLatestMs);
    const In list = a["locks"];
    for (size_t k = 0, n = list.array(); k < n; ++k) {
      const uint32_t index = uint32_t(list[k].integer(0, int64_t(nLocks) - 1));
      if (d.locks[index].account != ai || listed[index])
        list[k].fail("must be a lock of this account, listed once");
      listed[index] = true;
      acc.locks.push_back(index);
    }
    d.accounts.push_back(std::move(acc));
  }

  const In bridges = root["bridges"];
  const size_t nBridges = bridges.array(UINT32_MAX - 1);
  std::set<uint64_t> bridgeIds;
  std::vector<bool> bridged(nLocks, false);
  for (size_t bi = 0; bi < nBridges; ++bi) {
    const In b = bridges[bi];
    Bridge br;
    br.bridgeId = b["bridgeId"].u64();
    if (!bridgeIds.insert(br.bridgeId).second) b["bridgeId"].fail("another bridge has this id");
    br.account = uint32_t(b["account"].integer(0, int64_t(nAccounts) - 1));
    br.online = b["online"].boolean();
    const In list = b["locks"];
    for (size_t k = 0, n = list.array(); k < n; ++k) {
      const uint32_t index = uint32_t(list[k].integer(0, int64_t(nLocks) - 1));
      const Lock& l = d.locks[index];
      if (l.model != Model::k30 || l.bridge != bi || l.account != br.account || bridged[index])
        list[k].fail("must be a 3.0 of this bridge's account on this bridge, listed once");
      bridged[index] = true;
      br.locks.push_back(index);
    }
    d.bridges.push_back(std::move(br));
  }

  for (size_t i = 0; i < nLocks; ++i) {
    const Lock& l = d.locks[i];
    if (l.account >= nAccounts) locks[i]["account"].fail("no such account");
    if (!listed[i]) locks[i].fail("its account does not list it");
    if (l.model == Model::k30 ? (l.bridge >= nBridges || !bridged[i]) : l.bridge != UINT32_MAX)
      locks[i]["bridge"].fail(l.model == Model::k30 ? "a 3.0 must be on a bridge that lists it"
                                                    : "a 3.0 Pro has no bridge (4294967295)");
  }

  // Each lock's account by its id, for the webhook streams below (one lookup each, not a scan
  // of the whole fleet per stream).
  std::unordered_multimap<uint64_t, uint32_t> accountOfLock;
  accountOfLock.reserve(d.locks.size());
  for (const auto& l : d.locks)
    accountOfLock.emplace(l.smartlockId, l.account);
  const In hooks = root["webhooks"];
  for (size_t hi = 0, n = hooks.array(); hi < n; ++hi) {
    const In h = hooks[hi];
    Webhook hook;
    hook.id = int32_t(h["id"].integer(1, INT32_MAX));
    hook.account = uint32_t(h["account"].integer(0, int64_t(nAccounts) - 1));
    hook.url = h["url"].string(2048);
    for (const unsigned char c : hook.url)
      if (c <= 0x20 || c == 0x7f) h["url"].fail("must be a URL without spaces or control bytes");
    if (hook.url.empty()) h["url"].fail("must be a URL");
    hook.secret = h["secret"].string(1024);
    hook.features = uint8_t(h["features"].integer(0, 63));
    const In streams = h["streams"];
    for (size_t si = 0, sn = streams.array(); si < sn; ++si) {
      const In st = streams[si];
      WebhookStream ws;
      ws.attempts = st["attempts"].u32();
      ws.inFlight = st["inFlight"].boolean();
      ws.scheduled = st["scheduled"].boolean();
      ws.nextAttemptMs = st["nextAttemptMs"].integer(0, kLatestScheduledMs);
      const In queue = st["queue"];
      for (size_t q = 0, qn = queue.array(); q < qn; ++q) {
        if (queue[q].array() != 2) queue[q].fail("must be [feature, body]");
        ws.queue.push_back(PendingDelivery{queue[q][0].string(64), queue[q][1].string(kMaxBody)});
      }
      const uint64_t lockId = st["smartlockId"].u64();
      bool known = false;
      for (auto [at, end] = accountOfLock.equal_range(lockId); at != end && !known; ++at)
        known = at->second == hook.account;
      if (!known) st["smartlockId"].fail("no lock of the webhook's account has this id");
      if (!hook.streams.emplace(lockId, std::move(ws)).second)
        st["smartlockId"].fail("a second stream for this lock");
    }
    const int32_t id = hook.id;
    if (!d.hooks.emplace(id, std::move(hook)).second) h["id"].fail("another webhook has this id");
  }

  const In scheduler = root["scheduler"];
  d.eventsNextSeq = scheduler["nextSeq"].u64();
  const In events = scheduler["events"];
  for (size_t i = 0, n = events.array(); i < n; ++i) {
    const In e = events[i];
    if (e.array() != 5) e.fail("must be [atMs, seq, kind, target, arg]");
    Event ev;
    ev.at = timeFromMillis(e[0].instant(kEarliestMs, kLatestScheduledMs));
    ev.seq = e[1].u64();
    if (ev.seq == 0 || ev.seq >= d.eventsNextSeq)
      e[1].fail("must be a sequence number below scheduler.nextSeq");
    ev.kind = EventKind(e[2].integer(int(EventKind::kQueueReady), int(EventKind::kWebhookSend)));
    ev.target = e[3].u32();
    ev.arg = e[4].u64();
    // A send for a webhook or stream that is gone is ignored when it runs (a webhook deleted
    // with a retry pending leaves one behind), so only lock events are checked.
    if (ev.kind != EventKind::kWebhookSend && ev.target >= nLocks)
      e.fail("an event for a lock that does not exist");
    d.events.push_back(ev);
  }

  const In faults = root["faults"];
  d.faultsNextId = faults["nextId"].integer(1, INT64_MAX);
  const In list = faults["list"];
  std::set<int64_t> faultIds;
  for (size_t i = 0, n = list.array(); i < n; ++i) {
    d.faults.push_back(faultFrom(list[i]));
    if (d.faults.back().id >= d.faultsNextId || !faultIds.insert(d.faults.back().id).second)
      list[i]["id"].fail("must be unique and below faults.nextId");
  }

  const In journal = root["journal"];
  const In entries = journal["entries"];
  const size_t nEntries = entries.array(journalLimit);
  for (size_t i = 0; i < nEntries; ++i) {
    const In e = entries[i];
    if (e.array() != 12) e.fail("must be a journal record of 12 fields");
    JournalEntry je;
    // Sequence numbers run without gaps: the journal finds an entry by its offset.
    je.seq = e[0].u64();
    if (je.seq == 0 || je.seq >= (uint64_t(1) << 53) ||
        (i > 0 && je.seq != d.journal.front().seq + i))
      e[0].fail("must follow the entry before it by one");
    je.atMs = e[1].instant(kEarliestMs, kLatestMs);
    je.kind = JournalEntry::Kind(e[2].integer(JournalEntry::kApi, JournalEntry::kWebhook));
    je.method = e[3].string(64);
    je.path = e[4].string(kMaxText);
    je.status = int(e[5].integer(0, 999));
    je.fault = e[6].string(kMaxText);
    je.webhookId = e[7].i32();
    je.smartlockId = e[8].u64();
    je.feature = e[9].string(64);
    je.attempt = e[10].u32();
    je.error = e[11].string(kMaxText);
    d.journal.push_back(std::move(je));
  }
  d.journalNextSeq = journal["nextSeq"].u64();
  if (d.journal.empty() ? (d.journalNextSeq == 0 || d.journalNextSeq >= (uint64_t(1) << 53))
                        : d.journalNextSeq != d.journal.back().seq + 1)
    journal["nextSeq"].fail("must follow the last entry by one");
  return d;
}

}  // namespace

json Simulator::snapshot() const {
  json j;
  j["format"] = "nukisim-snapshot";
  j["version"] = kSnapshotVersion;
  j["seed"] = options_.seed;
  j["nowMs"] = millisOf(clock_.now());
  j["random"] = random_.state();
  j["idCounter"] = const_cast<World&>(world_).idCounter();
  json events = json::array();
  for (const auto& e : scheduler_.pending())
    events.push_back({millisOf(e.at), e.seq, int(e.kind), e.target, e.arg});
  j["scheduler"] = {{"nextSeq", scheduler_.peekNextSeq()}, {"events", std::move(events)}};
  json accounts = json::array();
  for (const auto& a : world_.accounts())
    accounts.push_back({{"accountId", a.accountId},
                        {"name", a.name},
                        {"email", a.email},
                        {"apiToken", a.apiToken},
                        {"creationMs", a.creationMs},
                        {"locks", a.locks}});
  j["accounts"] = std::move(accounts);
  json bridges = json::array();
  for (const auto& b : world_.bridges())
    bridges.push_back({{"bridgeId", b.bridgeId},
                       {"account", b.account},
                       {"online", b.online},
                       {"locks", b.locks}});
  j["bridges"] = std::move(bridges);
  json locks = json::array();
  for (const auto& l : world_.locks())
    locks.push_back(lockJson(l));
  j["locks"] = std::move(locks);
  json hooks = json::array();
  for (const auto& [id, h] : webhooks_.all()) {
    json streams = json::array();
    for (const auto& [lock, s] : h.streams) {
      json queue = json::array();
      for (const auto& d : s.queue)
        queue.push_back({d.feature, d.body});
      streams.push_back({{"smartlockId", lock},
                         {"attempts", s.attempts},
                         {"inFlight", s.inFlight},
                         {"scheduled", s.scheduled},
                         {"nextAttemptMs", s.nextAttemptMs},
                         {"queue", std::move(queue)}});
    }
    hooks.push_back({{"id", h.id},
                     {"account", h.account},
                     {"url", h.url},
                     {"secret", h.secret},
                     {"features", h.features},
                     {"streams", std::move(streams)}});
  }
  j["webhooks"] = std::move(hooks);
  json faults = json::array();
  for (const auto& f : faults_.all())
    faults.push_back(faultJson(f));
  j["faults"] = {{"nextId", const_cast<Faults&>(faults_).nextId()}, {"list", std::move(faults)}};
  json journal = json::array();
  for (const auto& e : journal_.entries())
    journal.push_back({e.seq, e.atMs, int(e.kind), e.method, e.path, e.status, e.fault, e.webhookId,
                       e.smartlockId, e.feature, e.attempt, e.error});
  j["journal"] = {{"nextSeq", journal_.nextSeq()}, {"entries", std::move(journal)}};
  return j;
}

Error Simulator::restore(const json& j) {
  // Types first: json::value() throws on a key of another type ({"format":1} was a 500).
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>() != "nukisim-snapshot")
    return Error::make(400, "BAD_SNAPSHOT", "format: not a nukisim snapshot");
  if (!j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int64_t>() != kSnapshotVersion)
    return Error::make(400, "BAD_SNAPSHOT", "version: unsupported snapshot version");
  // Decode and check everything first: a damaged snapshot leaves the world as it was.
  Decoded d;
  try {
    d = decode(In(j, ""), options_.maxLogsPerLock, options_.journalLimit);
  } catch (const SnapshotError& e) {
    return Error::make(400, "BAD_SNAPSHOT", e.what());
  }

  // Commit: nothing below can fail.
  if (clock_.isVirtual()) {
    auto& vc = static_cast<VirtualClock&>(clock_);
    if (vc.advancing())
      return Error::make(409, "ADVANCE_IN_PROGRESS", "cannot restore during an advance");
    vc.set(d.now);
  } else {
    static_cast<RealClock&>(clock_).rebase(d.now);
  }
  random_.setState(d.random);
  world_.mutableAccounts() = std::move(d.accounts);
  world_.mutableBridges() = std::move(d.bridges);
  world_.mutableLocks() = std::move(d.locks);
  world_.idCounter() = d.idCounter;
  world_.reindex();
  webhooks_.restoreAll(std::move(d.hooks));
  faults_.mutableAll() = std::move(d.faults);
  faults_.nextId() = d.faultsNextId;
  journal_.restore(std::move(d.journal), d.journalNextSeq);
  scheduler_.restore(std::move(d.events), d.eventsNextSeq);
  // A delivery that was in flight when the snapshot was taken goes out again.
  for (auto& [id, h] : webhooks_.mutableAll())
    for (auto& [lock, s] : h.streams)
      if (s.inFlight) {
        s.inFlight = false;
        s.scheduled = true;
        scheduler_.schedule(d.now, EventKind::kWebhookSend, uint32_t(id), lock);
      }
  return Error::none();
}

// ---------------------------------------------------------------------------------------------
// Fleet files

namespace {

// Generated keypad codes of one lock: six digits 1–9, not starting with 12 (K1–K3), all
// different on the lock. Walks the 531,441 codes of digits 1–9 from a per-lock start with a
// step coprime to their number, skipping the "12…" ones.
class CodeWalk {
 public:
  explicit CodeWalk(uint64_t start) : n_(start % kSpace) {}
  uint32_t next() {
    for (;;) {
      uint32_t code = 0;
      uint64_t v = n_;
      for (int d = 0; d < 6; ++d) {
        code = code * 10 + uint32_t(v % 9 + 1);
        v /= 9;
      }
      n_ = (n_ + 7919) % kSpace;
      if (code / 10000 != 12) return code;
    }
  }

 private:
  static constexpr uint64_t kSpace = 531441;  // 9^6
  uint64_t n_;
};

}  // namespace

// What a fleet load may bring the world to (README: fleet files). 100,000 locks with 100 codes
// each fit in 2 GiB (DESIGN, Scale); the total is checked before anything is built.
constexpr int64_t kMaxFleetLocks = 100000;
constexpr int64_t kMaxFleetCodes = 10000000;
constexpr int64_t kMaxFleetAccounts = 100000;

Error Simulator::loadFleet(const json& fleet) {
  // All or nothing: what a refused load added is taken out again, and the generator, the id
  // counter and the scheduler go back to where they were, so the world is exactly as before.
  const World::Checkpoint checkpoint = world_.checkpoint();
  const Random::State randomState = random_.state();
  const uint64_t nextSeq = scheduler_.peekNextSeq();
  Error e;
  try {
    e = loadFleetChecked(fleet);
  } catch (const json::exception& x) {
    // A field of the wrong type somewhere the checks did not look.
    e = Error::make(400, "BAD_FLEET", std::string("a field has the wrong type: ") + x.what());
  } catch (const std::bad_alloc&) {
    e = Error::make(500, "INTERNAL", "out of memory while building the fleet; nothing was added");
  }
  if (e) {
    world_.rollbackTo(checkpoint);
    random_.setState(randomState);
    std::vector<Event> kept;
    for (const auto& ev : scheduler_.pending())
      if (ev.kind == EventKind::kWebhookSend || ev.target < checkpoint.locks) kept.push_back(ev);
    scheduler_.restore(std::move(kept), nextSeq);
  }
  return e;
}

namespace {

const std::vector<std::string_view> kFleetKeys = {"defaults", "accounts", "generate"};
const std::vector<std::string_view> kSettingsKeys = {
    "motorSeconds", "deliverySeconds", "unlatchDuration", "lngTimeout", "syncAt", "timezone"};
const std::vector<std::string_view> kAccountKeys = {"name", "email", "apiToken", "smartlocks"};
const std::vector<std::string_view> kGenerateKeys = {"accounts", "locksPerAccount", "codesPerLock",
                                                     "model",    "locksPerBridge",  "smartlock"};
// A generated lock's template: generate.model and the generator decide model and name.
const std::vector<std::string_view> kTemplateKeys = {
    "batteryCharge",   "syncAt",          "timezone",  "motorSeconds",
    "deliverySeconds", "unlatchDuration", "lngTimeout"};

Error badFleet(const std::string& where, const std::string& why) {
  return Error::make(400, "BAD_FLEET", where.empty() ? why : where + ": " + why);
}

std::vector<std::string_view> with(std::vector<std::string_view> keys,
                                   std::initializer_list<std::string_view> more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

}  // namespace

Error Simulator::loadFleetChecked(const json& fleet) {
  if (!fleet.is_object()) return badFleet("", "a fleet file is a JSON object");
  if (auto u = unknownField(fleet, "", kFleetKeys); !u.empty()) return badFleet("", u);
  static const std::vector<std::string_view> kSmartlockKeys = with(kLockKeys, {"codes", "online"});

  // First the shape and the totals, before anything is built.
  int64_t newAccounts = 0, newLocks = 0, newCodes = 0;
  if (fleet.contains("accounts")) {
    if (!fleet["accounts"].is_array()) return badFleet("accounts", "must be an array");
    size_t ai = 0;
    for (const auto& a : fleet["accounts"]) {
      const std::string where = "accounts[" + std::to_string(ai++) + "]";
      if (!a.is_object()) return badFleet(where, "must be an object");
      ++newAccounts;
      if (!a.contains("smartlocks")) continue;
      if (!a["smartlocks"].is_array()) return badFleet(where + ".smartlocks", "must be an array");
      size_t li = 0;
      for (const auto& l : a["smartlocks"]) {
        const std::string lwhere = where + ".smartlocks[" + std::to_string(li++) + "]";
        if (!l.is_object()) return badFleet(lwhere, "must be an object");
        ++newLocks;
        if (!l.contains("codes")) continue;
        if (!l["codes"].is_array()) return badFleet(lwhere + ".codes", "must be an array");
        newCodes += int64_t(l["codes"].size());
      }
    }
  }
  int64_t genAccounts = 0, locksPer = 0, codesPer = 0, perBridge = 1;
  std::string model = "3.0 Pro";
  json lockTemplate = json::object();
  if (fleet.contains("generate")) {
    const auto& g = fleet["generate"];
    if (!g.is_object()) return badFleet("generate", "must be an object");
    if (auto u = unknownField(g, "generate", kGenerateKeys); !u.empty()) return badFleet("", u);
    auto count = [&](const char* k, int64_t def, int64_t hi, int64_t& out) -> Error {
      out = def;
      if (!g.contains(k)) return Error::none();
      if (!g[k].is_number_integer() || g[k].get<int64_t>() < 0 || g[k].get<int64_t>() > hi ||
          (g[k].is_number_unsigned() && g[k].get<uint64_t>() > uint64_t(INT64_MAX)))
        return badFleet(std::string("generate.") + k,
                        "must be an integer in 0.." + std::to_string(hi));
      out = g[k].get<int64_t>();
      return Error::none();
    };
    if (auto e = count("accounts", 1, kMaxFleetAccounts, genAccounts)) return e;
    if (auto e = count("locksPerAccount", 1, 10000000, locksPer)) return e;
    if (auto e = count("codesPerLock", 0, 100, codesPer)) return e;
    if (auto e = count("locksPerBridge", 1, 1000, perBridge)) return e;
    if (perBridge == 0) return badFleet("generate.locksPerBridge", "must be at least 1");
    if (g.contains("model")) {
      if (!g["model"].is_string()) return badFleet("generate.model", "must be a string");
      model = g["model"].get<std::string>();
    }
    if (model != "3.0" && model != "3.0 Pro" && model != "mixed")
      return badFleet("generate.model", "must be \"3.0\", \"3.0 Pro\" or \"mixed\"");
    if (g.contains("smartlock")) {
      lockTemplate = g["smartlock"];
      if (!lockTemplate.is_object()) return badFleet("generate.smartlock", "must be an object");
      if (auto u = unknownField(lockTemplate, "generate.smartlock", kTemplateKeys); !u.empty())
        return badFleet("", u);
    }
    // At most 1e5 × 1e7 × 100: no overflow in int64.
    newAccounts += genAccounts;
    newLocks += genAccounts * locksPer;
    newCodes += genAccounts * locksPer * codesPer;
  }
  // Removed locks count: they stay in memory.
  const auto liveLocks = int64_t(world_.locks().size());
  int64_t codes = 0;
  for (const auto& l : world_.locks()) {
    for (const auto& a : l.deviceAuths)
      codes += a->type == kAuthKeypadCode;
  }
  if (int64_t(world_.accounts().size()) + newAccounts > kMaxFleetAccounts ||
      liveLocks + newLocks > kMaxFleetLocks || codes + newCodes > kMaxFleetCodes)
    return badFleet("", "a fleet load may bring the world to at most " +
                            std::to_string(kMaxFleetAccounts) + " accounts, " +
                            std::to_string(kMaxFleetLocks) + " locks and " +
                            std::to_string(kMaxFleetCodes) + " keypad codes; this one would make " +
                            std::to_string(world_.accounts().size() + newAccounts) + " accounts, " +
                            std::to_string(liveLocks + newLocks) + " locks and " +
                            std::to_string(codes + newCodes) + " codes");

  // Then build; a refusal from here on is rolled back by loadFleet.
  if (fleet.contains("defaults")) {
    if (!fleet["defaults"].is_object()) return badFleet("defaults", "must be an object");
    if (auto u = unknownField(fleet["defaults"], "defaults", kSettingsKeys); !u.empty())
      return badFleet("", u);
    if (auto e = lockSettingsFrom(fleet["defaults"], world_.defaults))
      return badFleet("defaults", e.message);
  }
  if (fleet.contains("accounts")) {
    size_t ai = 0;
    for (const auto& a : fleet["accounts"]) {
      const std::string where = "accounts[" + std::to_string(ai++) + "]";
      if (auto u = unknownField(a, where, kAccountKeys); !u.empty()) return badFleet("", u);
      std::string name = "Account", email, token;
      if (auto e = accountFieldsFrom(a, name, email, token)) {
        const std::string field = e.message.substr(0, e.message.find(' '));
        return badFleet(where + "." + field, e.message);
      }
      if (!token.empty() && world_.accountByToken(token))
        return badFleet(where + ".apiToken", "another account has this token");
      const uint32_t account = world_.addAccount(name, email, token);
      size_t li = 0;
      for (const auto& l : a.value("smartlocks", json::array())) {
        const std::string lwhere = where + ".smartlocks[" + std::to_string(li++) + "]";
        if (auto u = unknownField(l, lwhere, kSmartlockKeys); !u.empty()) return badFleet("", u);
        if (l.contains("online") && !l["online"].is_boolean())
          return badFleet(lwhere + ".online", "must be true or false");
        auto [index, e] = lockFrom(world_, account, l);
        if (e) return badFleet(lwhere, e.message);
        if (l.contains("online") && !l["online"].get<bool>()) world_.setOnline(index, false);
        size_t ci = 0;
        for (const auto& c : l.value("codes", json::array())) {
          const std::string cwhere = lwhere + ".codes[" + std::to_string(ci++) + "]";
          if (!c.is_object()) return badFleet(cwhere, "must be an object");
          if (auto u = unknownField(c, cwhere, kCodeKeys); !u.empty()) return badFleet("", u);
          AuthInput in;
          if (auto ce = codeInputFrom(c, in)) return badFleet(cwhere, ce.message);
          if (auto ce = world_.addDeviceCode(index, in, /*synced=*/true))
            return badFleet(cwhere, ce.message);
        }
      }
    }
  }
  for (int64_t a = 0; a < genAccounts; ++a) {
    const uint32_t account = world_.addAccount("Account " + std::to_string(a + 1));
    std::optional<uint64_t> bridge;
    int64_t onBridge = 0;
    for (int64_t i = 0; i < locksPer; ++i) {
      json spec = lockTemplate;
      const bool k30 = model == "3.0" || (model == "mixed" && i % 2 == 1);
      spec["model"] = k30 ? "3.0" : "3.0 Pro";
      spec["name"] = "Lock " + std::to_string(i + 1);
      if (k30 && bridge && onBridge < perBridge) spec["bridgeId"] = *bridge;
      auto [index, e] = lockFrom(world_, account, spec);
      if (e) return badFleet("generate", e.message);
      Lock& l = world_.lock(index);
      if (k30) {
        if (!bridge || onBridge >= perBridge) {
          bridge = world_.bridges()[l.bridge].bridgeId;
          onBridge = 0;
        }
        ++onBridge;
      }
      // Codes straight into device truth and web view: unique by construction.
      CodeWalk walk(random_.below(531441));
      for (int64_t c = 0; c < codesPer; ++c) {
        Auth code;
        code.id = world_.newObjectId(l.nukiId);
        code.type = kAuthKeypadCode;
        code.name = "Code " + std::to_string(c + 1);
        code.code = walk.next();
        code.authId = l.nextAuthSlot++;
        code.creationMs = code.updateMs = millisOf(clock_.now());
        l.deviceAuths.push_back(AuthRef::make(std::move(code)));
      }
      l.webView = l.deviceAuths;  // ids grow with the counter: already sorted
    }
  }
  return Error::none();
}

}  // namespace nukihil::sim
