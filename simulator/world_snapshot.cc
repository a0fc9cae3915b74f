// World's part of a snapshot: accounts, bridges, locks (device truth, web view, queues, logs)
// and the ObjectId counter, encoded and decoded beside the world (as LevelDB keeps
// VersionEdit::EncodeTo/DecodeFrom with VersionEdit). simulator/snapshot.cc puts the parts
// together.
#include <algorithm>
#include <set>

#include "simulator/world.h"

namespace nukihil::sim {

namespace {

using nlohmann::json;
using snapshot::In;
using snapshot::kEarliestMs;
using snapshot::kLatestMs;
using snapshot::kLatestScheduledMs;

// Dates a client gave (schedule windows): what RFC 3339 can say, years 0001–9999.
constexpr int64_t kFirstDateMs = -62135596800000LL;
constexpr int64_t kLastDateMs = 253402300799999LL;

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
  json tries = json::array();
  for (const auto& t : l.keypadTries)
    tries.push_back({t.atMs, t.code, t.granted, t.reason});
  j["keypadTries"] = std::move(tries);
  return j;
}

// ---- Decoding, every value checked ----------------------------------------------------------

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
  if (j.has("keypadTries")) {  // snapshots taken before the dashboard have none
    const In tries = j["keypadTries"];
    for (size_t i = 0, n = tries.array(kKeypadTriesKept); i < n; ++i) {
      const In t = tries[i];
      if (t.array() != 4) t.fail("must be a keypad try [atMs, code, granted, reason]");
      if (t[2].boolean() != t[3].string(32).empty())
        t.fail("a granted try has no reason, a refused one has one");
      l.keypadTries.push_back(KeypadTry{t[0].instant(kEarliestMs, kLatestMs),
                                        uint32_t(t[1].integer(0, 999999999)), t[2].boolean(),
                                        t[3].string(32)});
    }
  }
  return l;
}

}  // namespace

void World::encode(json& j) const {
  j["idCounter"] = idCounter_;
  json accounts = json::array();
  for (const auto& a : accounts_)
    accounts.push_back({{"accountId", a.accountId},
                        {"name", a.name},
                        {"email", a.email},
                        {"apiToken", a.apiToken},
                        {"creationMs", a.creationMs},
                        {"locks", a.locks}});
  j["accounts"] = std::move(accounts);
  json bridges = json::array();
  for (const auto& b : bridges_)
    bridges.push_back({{"bridgeId", b.bridgeId},
                       {"account", b.account},
                       {"online", b.online},
                       {"locks", b.locks}});
  j["bridges"] = std::move(bridges);
  json locks = json::array();
  for (const auto& l : locks_)
    locks.push_back(lockJson(l));
  j["locks"] = std::move(locks);
}

snapshot::Checked<World::Decoded> World::decode(const In& root, size_t maxLogsPerLock) {
  return snapshot::check([&] {
    Decoded d;
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

    return d;
  });
}

void World::adopt(Decoded decoded) {
  accounts_ = std::move(decoded.accounts);
  bridges_ = std::move(decoded.bridges);
  locks_ = std::move(decoded.locks);
  idCounter_ = decoded.idCounter;
  reindex();
  forgetChangesFrom(0);
}

}  // namespace nukihil::sim
