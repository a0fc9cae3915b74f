#include "simulator/world.h"

#include <algorithm>

namespace nukihil::sim {

namespace {

constexpr size_t kMaxCodesPerLock = 100;  // K5

bool hasZeroDigit(int64_t code) {
  for (; code > 0; code /= 10)
    if (code % 10 == 0) return true;
  return false;
}

size_t codePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

uint8_t transitional(uint8_t action) {
  switch (action) {
    case kActionLock:
      return kLocking;
    case kActionUnlatch:
    case kActionLockNGoUnlatch:
      return kUnlatching;
    default:
      return kUnlocking;
  }
}

auto byId = [](const AuthRef& a, const ObjectId& id) { return a->id < id; };

template <class V>
auto findAuth(V& list, const ObjectId& id) {
  auto it = std::lower_bound(list.begin(), list.end(), id, byId);
  return (it != list.end() && (*it)->id == id) ? it : list.end();
}

void insertSorted(std::vector<AuthRef>& list, AuthRef a) {
  auto it = std::lower_bound(list.begin(), list.end(), a->id, byId);
  list.insert(it, std::move(a));
}

}  // namespace

Error Error::badParam(std::string param, std::string value) {
  Error e;
  e.status = 400;
  e.code = "BAD_PARAMETER";
  e.message = "The supplied value '" + value + "' for parameter '" + param + "' is not valid";
  e.param = std::move(param);
  e.value = std::move(value);
  return e;
}

Error Error::make(int status, std::string code, std::string message) {
  Error e;
  e.status = status;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

World::World(Clock& clock, Scheduler& scheduler, Random& random, Options options)
    : clock_(clock), scheduler_(scheduler), random_(random), options_(options) {
  // Far from wrapping, so ids made in one second keep their order.
  idCounter_ = uint32_t(random_.below(1u << 30));
}

// ---------------------------------------------------------------------------------------------
// Lookups

std::optional<uint32_t> World::accountByToken(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  auto it = tokens_.find(std::string(token));
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> World::accountById(int64_t accountId) const {
  for (uint32_t i = 0; i < accounts_.size(); ++i)
    if (accounts_[i].accountId == accountId) return i;
  return std::nullopt;
}

std::optional<uint32_t> World::lockByNukiId(uint32_t nukiId) const {
  auto it = nukiIds_.find(nukiId);
  if (it == nukiIds_.end() || locks_[it->second].removed) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> World::lockBySmartlockId(uint64_t smartlockId) const {
  if ((smartlockId >> 32) != 4) return std::nullopt;
  return lockByNukiId(uint32_t(smartlockId & 0xFFFFFFFFu));
}

std::optional<uint32_t> World::bridgeById(uint64_t bridgeId) const {
  auto it = bridgeIds_.find(bridgeId);
  if (it == bridgeIds_.end()) return std::nullopt;
  return it->second;
}

bool World::online(const Lock& l) const {
  if (l.model == Model::k30) return bridges_[l.bridge].online;
  return l.wifiOnline;
}

const TimeZone& World::zone(const Lock& l) const {
  return l.settings.timeZone ? *l.settings.timeZone : TimeZone::utc();
}

ObjectId World::newObjectId(uint32_t nukiId) {
  return ObjectId{uint32_t(secondsOf(now())), nukiId, ++idCounter_};
}

uint32_t World::uniqueNukiId() {
  for (;;) {
    const uint32_t id = uint32_t(random_.between(0x10000000, 0xFFFFFFFE));
    if (!nukiIds_.count(id)) return id;
  }
}

void World::reindex() {
  tokens_.clear();
  nukiIds_.clear();
  bridgeIds_.clear();
  for (uint32_t i = 0; i < accounts_.size(); ++i)
    tokens_[accounts_[i].apiToken] = i;
  for (uint32_t i = 0; i < locks_.size(); ++i)
    nukiIds_[locks_[i].nukiId] = i;
  for (uint32_t i = 0; i < bridges_.size(); ++i)
    bridgeIds_[bridges_[i].bridgeId] = i;
}

void World::wipe(uint32_t idCounter) {
  accounts_.clear();
  locks_.clear();
  bridges_.clear();
  idCounter_ = idCounter;
  reindex();
  forgetChangesFrom(0);
}

World::Checkpoint World::checkpoint() const {
  return Checkpoint{accounts_.size(), bridges_.size(), locks_.size(), idCounter_, defaults};
}

void World::rollbackTo(const Checkpoint& c) {
  accounts_.resize(c.accounts);
  bridges_.resize(c.bridges);
  locks_.erase(locks_.begin() + ptrdiff_t(c.locks), locks_.end());
  // New locks join only new accounts and new bridges, but keep the lists exact anyway.
  for (auto& a : accounts_)
    std::erase_if(a.locks, [&](uint32_t i) { return i >= c.locks; });
  for (auto& b : bridges_)
    std::erase_if(b.locks, [&](uint32_t i) { return i >= c.locks; });
  idCounter_ = c.idCounter;
  defaults = c.defaults;
  reindex();
  forgetChangesFrom(uint32_t(c.locks));
}

void World::touch(Lock& l) {
  l.cachedJson.clear();
}

void World::noteChange(uint32_t lock) {
  ++changeSeq_;
  // A lock changing several times in a row is one entry (motor runs, a sync's many auths).
  if (!changes_.empty() && changes_.back().second == lock) {
    changes_.back().first = changeSeq_;
    return;
  }
  changes_.emplace_back(changeSeq_, lock);
  if (changes_.size() > kChangesKept) {
    changesDropped_ = changes_.front().first;
    changes_.pop_front();
  }
}

void World::forgetChangesFrom(uint32_t firstGone) {
  // The changes held name locks by index: those of locks that are gone must not be read again
  // (a new lock may take the index). A client that has not seen them is told to start over.
  const bool dropped = std::any_of(changes_.begin(), changes_.end(), [&](const auto& c) {
    return c.second != kWholeFleet && c.second >= firstGone;
  });
  if (dropped) {
    changesDropped_ = changeSeq_;
    changes_.clear();
  }
  noteFleetChange();
}

World::Changes World::changesSince(uint64_t since) const {
  Changes c;
  c.seq = changeSeq_;
  // A client ahead of this process has seen another one (nukisim restarted): start over.
  c.complete = since >= changesDropped_ && since <= changeSeq_;
  if (!c.complete) return c;
  std::vector<uint32_t> seen;
  for (auto it = changes_.rbegin(); it != changes_.rend() && it->first > since; ++it) {
    if (it->second == kWholeFleet) {
      c.fleet = true;
      continue;
    }
    if (std::find(seen.begin(), seen.end(), it->second) == seen.end()) seen.push_back(it->second);
  }
  std::sort(seen.begin(), seen.end());
  c.locks = std::move(seen);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Building the fleet

uint32_t World::addAccount(std::string name, std::string email, std::string token) {
  Account a;
  for (;;) {
    a.accountId = int32_t(random_.between(100000000, 999999999));
    if (!accountById(a.accountId)) break;
  }
  a.name = std::move(name);
  a.email = email.empty() ? "account" + std::to_string(a.accountId) + "@nukisim.invalid"
                          : std::move(email);
  a.apiToken = token.empty() ? random_.hex(64) : std::move(token);
  a.creationMs = nowMs();
  const auto index = uint32_t(accounts_.size());
  tokens_[a.apiToken] = index;
  accounts_.push_back(std::move(a));
  return index;
}

std::pair<uint32_t, Error> World::addLock(const LockSpec& spec) {
  if (spec.account >= accounts_.size())
    return {0, Error::make(404, "NOT_FOUND", "no such account")};
  if (spec.battery < 0 || spec.battery > 100)
    return {0, Error::make(400, "BAD_REQUEST", "batteryCharge must be 0..100")};
  uint32_t bridgeIndex = UINT32_MAX;
  if (spec.model == Model::k30) {
    if (spec.bridgeId) {
      if (auto b = bridgeById(*spec.bridgeId)) {
        if (bridges_[*b].account != spec.account)
          return {0, Error::make(409, "CONFLICT", "that bridge belongs to another account")};
        bridgeIndex = *b;
      }
    }
    if (bridgeIndex == UINT32_MAX) {
      Bridge b;
      if (spec.bridgeId) {
        b.bridgeId = *spec.bridgeId;
      } else {
        do
          b.bridgeId = uint64_t(random_.between(0x10000000, 0xFFFFFFFE));
        while (bridgeIds_.count(b.bridgeId));
      }
      b.account = spec.account;
      bridgeIndex = uint32_t(bridges_.size());
      bridgeIds_[b.bridgeId] = bridgeIndex;
      bridges_.push_back(std::move(b));
    }
  } else if (spec.bridgeId) {
    return {0, Error::make(400, "BAD_REQUEST", "bridgeId applies to model 3.0 only")};
  }

  const auto index = uint32_t(locks_.size());
  Lock l;
  l.nukiId = uniqueNukiId();
  l.smartlockId = (uint64_t(4) << 32) | l.nukiId;
  l.account = spec.account;
  l.bridge = bridgeIndex;
  l.model = spec.model;
  l.name = spec.name.empty() ? "Lock " + std::to_string(index + 1) : spec.name;
  l.apiAuthId = int32_t(random_.between(1000000, 99999999));
  l.creationMs = l.updateMs = nowMs();
  l.settings = spec.settings;
  l.battery = l.webBattery = uint8_t(spec.battery);
  l.webOnline = true;

  // Every lock carries the account owner's app authorization, and a 3.0 its bridge's.
  auto addSystemAuth = [&](uint8_t type, std::string name) {
    Auth a;
    a.id = newObjectId(l.nukiId);
    a.type = type;
    a.name = std::move(name);
    a.authId = l.nextAuthSlot++;
    a.creationMs = a.updateMs = nowMs();
    a.remoteAllowed = true;
    auto ref = AuthRef::make(std::move(a));
    insertSorted(l.deviceAuths, ref);
    insertSorted(l.webView, ref);
  };
  addSystemAuth(kAuthApp, accounts_[spec.account].name.substr(0, 32));
  if (l.model == Model::k30) addSystemAuth(kAuthBridge, "Nuki Bridge");

  nukiIds_[l.nukiId] = index;
  accounts_[spec.account].locks.push_back(index);
  if (bridgeIndex != UINT32_MAX) bridges_[bridgeIndex].locks.push_back(index);
  locks_.push_back(std::move(l));
  Lock& added = locks_.back();
  if (!online(added)) {
    added.webOnline = false;
  }
  scheduleSync(index);
  noteFleetChange();
  return {index, Error::none()};
}

Error World::addDeviceCode(uint32_t index, const AuthInput& in, bool synced) {
  noteChange(index);
  Lock& l = locks_[index];
  if (!in.code) return Error::badParam("code", "null");
  const int64_t code = *in.code;
  if (auto e = checkCodeAndName(code, in.name)) return e;
  Schedule s;
  if (auto e = scheduleFrom(in, Schedule{}, s)) return e;
  if (auto e = checkConflicts(deviceCodes(l), code, nullptr)) return e;
  const std::string& name = *in.name;
  Auth a;
  a.id = newObjectId(l.nukiId);
  a.type = kAuthKeypadCode;
  a.name = name;
  a.code = uint32_t(code);
  a.schedule = s;
  a.enabled = in.enabled.value_or(true);
  a.remoteAllowed = in.remoteAllowed.value_or(false);
  a.authId = l.nextAuthSlot++;
  a.creationMs = a.updateMs = nowMs();
  auto ref = AuthRef::make(std::move(a));
  insertSorted(l.deviceAuths, ref);
  if (synced) insertSorted(l.webView, ref);
  return Error::none();
}

Error World::removeDeviceCode(uint32_t index, int64_t code) {
  noteChange(index);
  Lock& l = locks_[index];
  for (auto it = l.deviceAuths.begin(); it != l.deviceAuths.end(); ++it) {
    if ((*it)->type == kAuthKeypadCode && (*it)->code == uint64_t(code)) {
      l.deviceAuths.erase(it);
      return Error::none();
    }
  }
  return Error::make(404, "NOT_FOUND", "no such code on the lock");
}

// ---------------------------------------------------------------------------------------------
// The physical world

Error World::setOnline(uint32_t index, bool wantOnline) {
  Lock& l = locks_[index];
  std::vector<uint32_t> affected;
  if (l.model == Model::k30) {
    Bridge& b = bridges_[l.bridge];
    if (b.online == wantOnline) return Error::none();
    b.online = wantOnline;
    for (uint32_t i : b.locks)
      if (!locks_[i].removed) affected.push_back(i);
  } else {
    if (l.wifiOnline == wantOnline) return Error::none();
    l.wifiOnline = wantOnline;
    affected.push_back(index);
  }
  for (uint32_t i : affected) {
    noteChange(i);
    if (wantOnline)
      goOnline(i);
    else
      goOffline(i);
  }
  return Error::none();
}

void World::goOffline(uint32_t index) {
  Lock& l = locks_[index];
  l.webOnline = false;
  touch(l);
  if (observer_ && observer_->listening(l)) observer_->deviceStatus(l);
}

void World::goOnline(uint32_t index) {
  Lock& l = locks_[index];
  // First the lock reports that it is back, with what happened while it was away…
  report(l);
  while (l.reportedLogs < l.logs.size()) {
    const LogEntry& e = l.logs[l.reportedLogs++];
    if (observer_ && observer_->listening(l)) observer_->deviceLog(l, e);
  }
  // …then it carries out its queue.
  pump(index);
}

Error World::setBattery(uint32_t index, int64_t charge) {
  if (charge < 0 || charge > 100) return Error::make(400, "BAD_REQUEST", "charge must be 0..100");
  noteChange(index);
  Lock& l = locks_[index];
  l.battery = uint8_t(charge);
  report(l);
  return Error::none();
}

Error World::setJammed(uint32_t index, bool jammed) {
  noteChange(index);
  Lock& l = locks_[index];
  l.jammed = jammed;
  if (!jammed && l.state == kMotorBlocked && !l.motorBusy) {
    l.state = l.stableState;
    report(l);
    pump(index);
  }
  return Error::none();
}

bool World::insideSchedule(const Lock& l, const Schedule& s, Time t) const {
  if (s.hasTemporary()) {
    const int64_t ms = millisOf(t);
    if (ms < s.fromMs || ms > s.untilMs) return false;
  }
  if (s.hasRecurring()) {
    const LocalTime local = zone(l).toLocal(t);
    if (!(s.weekDays & (64 >> local.weekday))) return false;
    if (!(s.fromTime == 0 && s.untilTime == 0) &&
        (local.minuteOfDay < s.fromTime || local.minuteOfDay > s.untilTime))
      return false;
  }
  return true;
}

KeypadOutcome World::keypad(uint32_t index, int64_t code) {
  noteChange(index);
  Lock& l = locks_[index];
  LogEntry e;
  e.id = newObjectId(l.nukiId);
  e.dateMs = nowMs();
  e.action = kActionUnlock;
  e.trigger = kTriggerKeypad;
  e.source = 1;
  AuthRef* found = nullptr;
  for (auto& a : l.deviceAuths)
    if (a->type == kAuthKeypadCode && int64_t(a->code) == code) found = &a;
  KeypadOutcome out;
  if (!found) {
    out.reason = "UNKNOWN_CODE";
  } else {
    e.name = (*found)->name;
    e.authId = (*found)->id;
    if (!(*found)->enabled)
      out.reason = "DISABLED";
    else if (!insideSchedule(l, (*found)->schedule, now()))
      out.reason = "OUTSIDE_SCHEDULE";
    else if (l.jammed || l.state == kMotorBlocked)
      out.reason = "JAMMED";
  }
  if (out.reason.empty()) {
    out.granted = true;
    Auth& a = editAuth(*found);
    a.lockCount++;
    a.lastActiveMs = nowMs();
    e.state = 0;
  } else {
    // A valid code on a blocked motor is a motor action that fails (completion state 1);
    // every other refusal is an invalid entry (224).
    e.state = out.reason == "JAMMED" ? 1 : 224;
  }
  appendLog(l, std::move(e));
  if (l.keypadTries.size() >= kKeypadTriesKept) l.keypadTries.erase(l.keypadTries.begin());
  l.keypadTries.push_back(KeypadTry{nowMs(), uint32_t(code), out.granted, out.reason});
  if (out.granted || out.reason == "JAMMED") {
    Command c;
    c.kind = Command::kMotor;
    c.action = kActionUnlock;
    c.trigger = kTriggerAccessory;
    c.readyMs = nowMs();
    l.localQueue.push_back(std::move(c));
    pump(index);
  }
  return out;
}

Error World::manual(uint32_t index, bool lockIt) {
  noteChange(index);
  Lock& l = locks_[index];
  if (l.jammed || l.state == kMotorBlocked)
    return Error::make(409, "JAMMED", "the motor is blocked; the knob does not turn");
  if (l.motorBusy) return Error::make(409, "MOTOR_BUSY", "the motor is moving");
  ++l.motorGeneration;  // cancels a pending unlatch return or lock'n'go
  l.state = l.stableState = lockIt ? kLocked : kUnlocked;
  l.trigger = kTriggerManual;
  l.lastAction = lockIt ? kActionLock : kActionUnlock;
  LogEntry e;
  e.id = newObjectId(l.nukiId);
  e.dateMs = nowMs();
  e.action = l.lastAction;
  e.trigger = kTriggerManual;
  e.state = 0;
  appendLog(l, std::move(e));
  report(l);
  return Error::none();
}

// ---------------------------------------------------------------------------------------------
// Motor and queue

void World::startMotor(Lock& l, uint32_t index, uint8_t action, uint8_t trigger, bool logged,
                       std::string by) {
  const uint32_t generation = ++l.motorGeneration;
  l.motorBusy = true;
  l.jobBlocked = l.jammed;
  l.jobLogged = logged;
  l.jobAction = action;
  l.jobTrigger = trigger;
  l.jobBy = std::move(by);
  l.state = transitional(action);
  l.trigger = trigger == kTriggerAutoLock ? uint8_t(kTriggerAutomatic) : trigger;
  l.lastAction = action;
  report(l);
  scheduler_.schedule(now() + std::chrono::seconds(l.settings.motorSeconds), EventKind::kMotorDone,
                      index, generation);
}

void World::motorDone(uint32_t index, uint32_t generation) {
  Lock& l = locks_[index];
  if (l.removed || generation != l.motorGeneration || !l.motorBusy) return;
  l.motorBusy = false;
  uint8_t completion = 0;
  if (l.jobBlocked) {
    l.state = kMotorBlocked;
    completion = 1;
  } else {
    switch (l.jobAction) {
      case kActionLock:
        l.state = kLocked;
        break;
      case kActionUnlatch:
      case kActionLockNGoUnlatch:
        l.state = kUnlatched;
        scheduler_.schedule(now() + std::chrono::seconds(l.settings.unlatchDuration),
                            EventKind::kUnlatchReturn, index, generation);
        break;
      case kActionLockNGo:
        l.state = kUnlockedLockNGo;
        scheduler_.schedule(now() + std::chrono::seconds(l.settings.lngTimeout),
                            EventKind::kLngAutoLock, index, generation);
        break;
      default:
        l.state = kUnlocked;
        break;
    }
    l.stableState = l.state;
  }
  if (l.jobLogged) {
    LogEntry e;
    e.id = newObjectId(l.nukiId);
    e.dateMs = nowMs();
    e.action = l.jobAction;
    e.trigger = l.jobTrigger;
    e.state = completion;
    e.name = l.jobBy;
    appendLog(l, std::move(e));
  }
  report(l);
  // The motor was freed while this blocked run was under way: having reported the block, the
  // lock returns to its last stable state (SPEC §3).
  if (l.state == kMotorBlocked && !l.jammed) {
    l.state = l.stableState;
    report(l);
  }
  pump(index);
}

void World::pump(uint32_t index) {
  Lock& l = locks_[index];
  if (l.removed) return;
  // Local actions (keypad) work whether or not the lock is online.
  if (!l.motorBusy && !l.localQueue.empty()) {
    Command c = std::move(l.localQueue.front());
    l.localQueue.pop_front();
    startMotor(l, index, c.action, c.trigger, false, {});
    return;
  }
  if (!online(l)) return;
  while (!l.queue.empty()) {
    Command& head = l.queue.front();
    if (head.readyMs > nowMs()) {
      scheduler_.schedule(timeFromMillis(head.readyMs), EventKind::kQueueReady, index);
      return;
    }
    if (head.kind == Command::kMotor) {
      if (l.motorBusy) return;  // motorDone pumps again
      Command c = std::move(head);
      l.queue.pop_front();
      startMotor(l, index, c.action, c.trigger, true, std::move(c.by));
      return;
    }
    Command c = std::move(head);
    l.queue.pop_front();
    deliver(l, c);
  }
}

// An auth change reaches the lock. The lock enforces K4 and K5 against its own truth and
// silently drops what would break them (R-PIN-DROPPED).
void World::deliver(Lock& l, Command& c) {
  for (auto& p : l.pending)
    if (p.operation == c.operation) p.delivered = true;
  auto codeTaken = [&](uint32_t code, const ObjectId* except) {
    for (const auto& a : l.deviceAuths)
      if (a->type == kAuthKeypadCode && a->code == code && (!except || a->id != *except))
        return true;
    return false;
  };
  switch (c.kind) {
    case Command::kAuthCreate: {
      size_t codes = 0;
      for (const auto& a : l.deviceAuths)
        codes += a->type == kAuthKeypadCode;
      if (codeTaken(c.auth->code, nullptr) || codes >= kMaxCodesPerLock) return;
      Auth a = *c.auth;
      a.refs = 0;
      a.authId = l.nextAuthSlot++;
      a.updateMs = nowMs();
      insertSorted(l.deviceAuths, AuthRef::make(std::move(a)));
      return;
    }
    case Command::kAuthUpdate: {
      auto it = findAuth(l.deviceAuths, c.target);
      if (it == l.deviceAuths.end()) return;
      if ((*it)->type == kAuthKeypadCode && codeTaken(c.auth->code, &c.target)) return;
      Auth& a = editAuth(*it);
      a.name = c.auth->name;
      a.code = c.auth->code;
      a.schedule = c.auth->schedule;
      a.enabled = c.auth->enabled;
      a.remoteAllowed = c.auth->remoteAllowed;
      a.updateMs = nowMs();
      return;
    }
    case Command::kAuthDelete: {
      auto it = findAuth(l.deviceAuths, c.target);
      if (it != l.deviceAuths.end()) l.deviceAuths.erase(it);
      return;
    }
    case Command::kMotor:
      return;
  }
}

// Tells Nuki Web what the lock shows now. DEVICE_STATUS goes out only when something it
// carries changed (SPEC §4: motor state, battery or serverState).
void World::report(Lock& l) {
  if (!online(l)) return;
  if (l.webOnline && l.webState == l.state && l.webTrigger == l.trigger &&
      l.webLastAction == l.lastAction && l.webBattery == l.battery)
    return;
  l.webOnline = true;
  l.webState = l.state;
  l.webTrigger = l.trigger;
  l.webLastAction = l.lastAction;
  l.webBattery = l.battery;
  touch(l);
  if (observer_ && observer_->listening(l)) observer_->deviceStatus(l);
}

void World::appendLog(Lock& l, LogEntry e) {
  l.logs.push_back(std::move(e));
  if (online(l)) {
    l.reportedLogs = l.logs.size();
    if (observer_ && observer_->listening(l)) observer_->deviceLog(l, l.logs.back());
  }
  while (l.logs.size() > options_.maxLogsPerLock) {
    l.logs.pop_front();
    if (l.reportedLogs > 0) --l.reportedLogs;
  }
}

// ---------------------------------------------------------------------------------------------
// Daily sync

void World::scheduleSync(uint32_t index) {
  Lock& l = locks_[index];
  const TimeZone& z = zone(l);
  const LocalTime local = z.toLocal(now());
  Time next = z.fromLocal(local.day, l.settings.syncAtMinute);
  for (int64_t d = 1; next <= now(); ++d)
    next = z.fromLocal(local.day + d, l.settings.syncAtMinute);
  l.nextSyncMs = millisOf(next);
  scheduler_.schedule(next, EventKind::kDailySync, index, ++l.syncGeneration);
}

void World::syncNow(uint32_t index) {
  noteChange(index);
  sync(index);
}

void World::sync(uint32_t index) {
  Lock& l = locks_[index];
  if (l.removed || !online(l)) return;
  // Nuki Web first delivers what is still queued for the lock…
  std::deque<Command> motor;
  while (!l.queue.empty()) {
    Command c = std::move(l.queue.front());
    l.queue.pop_front();
    if (c.kind == Command::kMotor)
      motor.push_back(std::move(c));
    else
      deliver(l, c);
  }
  l.queue = std::move(motor);
  // …then copies the lock's codes into the web view.
  const bool tell = observer_ && observer_->listening(l);
  if (tell) {
    // One DEVICE_AUTHS per auth created, changed or removed, in auth id order.
    size_t i = 0, j = 0;
    const auto& before = l.webView;
    const auto& after = l.deviceAuths;
    while (i < before.size() || j < after.size()) {
      if (j == after.size() || (i < before.size() && before[i]->id < after[j]->id)) {
        observer_->deviceAuth(l, *before[i++], true);
      } else if (i == before.size() || after[j]->id < before[i]->id) {
        observer_->deviceAuth(l, *after[j++], false);
      } else {
        if (before[i].get() != after[j].get() && !before[i]->sameAs(*after[j]))
          observer_->deviceAuth(l, *after[j], false);
        ++i;
        ++j;
      }
    }
  }
  l.webView = l.deviceAuths;
  l.pending.clear();
  touch(l);
  if (tell) observer_->masterData(l);
  pump(index);
}

// ---------------------------------------------------------------------------------------------
// Nuki Web operations

Error World::authorize(uint32_t account, uint64_t smartlockId, uint32_t& lockOut) const {
  auto index = lockBySmartlockId(smartlockId);
  if (!index) return Error::make(404, "NOT_FOUND", "Smartlock not found");
  if (locks_[*index].account != account)
    return Error::make(403, "FORBIDDEN", "Smartlock belongs to another account");
  lockOut = *index;
  return Error::none();
}

Error World::submitMotorAction(uint32_t index, int64_t action, const std::string& by) {
  noteChange(index);
  if (action < kActionUnlock || action > kActionLockNGoUnlatch)
    return Error::badParam("action", std::to_string(action));
  Lock& l = locks_[index];
  Command c;
  c.kind = Command::kMotor;
  c.action = uint8_t(action);
  c.trigger = kTriggerWeb;
  c.readyMs = nowMs();
  c.by = by;
  l.queue.push_back(std::move(c));
  scheduler_.schedule(now(), EventKind::kQueueReady, index);
  return Error::none();
}

Error World::scheduleFrom(const AuthInput& in, Schedule base, Schedule& out) const {
  // K7: one temporary and one recurring window, each well formed.
  Schedule s = base;
  if (in.fromMs) s.fromMs = *in.fromMs;
  if (in.untilMs) s.untilMs = *in.untilMs;
  if ((s.fromMs == kUnset) != (s.untilMs == kUnset)) {
    return s.fromMs == kUnset ? Error::badParam("allowedFromDate", "null")
                              : Error::badParam("allowedUntilDate", "null");
  }
  if (s.fromMs != kUnset && s.fromMs >= s.untilMs)
    return Error::badParam("allowedUntilDate", formatRfc3339(timeFromMillis(s.untilMs)));
  if (in.weekDays) {
    if (*in.weekDays < 1 || *in.weekDays > 127)
      return Error::badParam("allowedWeekDays", std::to_string(*in.weekDays));
    s.weekDays = uint8_t(*in.weekDays);
  }
  if (in.fromTime) {
    if (*in.fromTime < 0 || *in.fromTime > 1439)
      return Error::badParam("allowedFromTime", std::to_string(*in.fromTime));
    s.fromTime = uint16_t(*in.fromTime);
  }
  if (in.untilTime) {
    if (*in.untilTime < 0 || *in.untilTime > 1439)
      return Error::badParam("allowedUntilTime", std::to_string(*in.untilTime));
    s.untilTime = uint16_t(*in.untilTime);
  }
  if (!(s.fromTime == 0 && s.untilTime == 0) && s.fromTime >= s.untilTime)
    return Error::badParam("allowedUntilTime", std::to_string(s.untilTime));
  out = s;
  return Error::none();
}

std::vector<World::ServerCode> World::serverCodes(const Lock& l) const {
  std::vector<ServerCode> codes;
  codes.reserve(l.webView.size() + l.pending.size());
  for (const auto& a : l.webView)
    if (a->type == kAuthKeypadCode) codes.push_back({a->id, a->code});
  for (const auto& p : l.pending) {
    auto it = std::find_if(codes.begin(), codes.end(), [&](auto& c) { return c.id == p.target; });
    switch (p.kind) {
      case Command::kAuthCreate:
        codes.push_back({p.target, p.auth->code});
        break;
      case Command::kAuthUpdate:
        if (it != codes.end() && p.auth->type == kAuthKeypadCode) it->code = p.auth->code;
        break;
      case Command::kAuthDelete:
        if (it != codes.end()) codes.erase(it);
        break;
      case Command::kMotor:
        break;
    }
  }
  return codes;
}

std::optional<Auth> World::serverAuth(const Lock& l, const ObjectId& id, bool& locked) const {
  std::optional<Auth> current;
  if (const Auth* a = webAuth(l, id)) current = *a;
  locked = false;
  for (const auto& p : l.pending) {
    if (p.target != id) continue;
    if (!p.delivered) locked = true;
    if (p.kind == Command::kAuthDelete)
      current.reset();
    else
      current = *p.auth;
  }
  if (current) current->refs = 0;
  return current;
}

const Auth* World::webAuth(const Lock& l, const ObjectId& id) const {
  auto it = findAuth(l.webView, id);
  return it == l.webView.end() ? nullptr : it->get();
}

const ObjectId* World::operationFor(const Lock& l, const ObjectId& auth) const {
  for (const auto& p : l.pending)
    if (p.target == auth && !p.delivered) return &p.operation;
  return nullptr;
}

// K1–K3 (400) and K6 (422).
Error World::checkCodeAndName(int64_t code, const std::optional<std::string>& name) const {
  const std::string shown = std::to_string(code);
  if (code < 100000 || code > 999999) return Error::badParam("code", shown);          // K1
  if (hasZeroDigit(code)) return Error::badParam("code", shown);                      // K2
  if (code / 10000 == 12) return Error::badParam("code", shown);                      // K3
  if (!name || !validUtf8(*name) || codePoints(*name) < 1 || codePoints(*name) > 20)  // K6
    return Error::make(422, "NAME_LENGTH", "name must have 1 to 20 characters");
  return Error::none();
}

// K4 and K5 against `codes`. `self` is the auth an update changes: its own code is no
// duplicate and it takes no new slot.
Error World::checkConflicts(const std::vector<ServerCode>& codes, int64_t code,
                            const ObjectId* self) const {
  for (const auto& c : codes)  // K4
    if (c.code == uint64_t(code) && (!self || c.id != *self))
      return Error::make(409, "DUPLICATE_CODE",
                         "Parameter conflicts: the code " + std::to_string(code) +
                             " already exists on this smartlock");
  if (!self && codes.size() >= kMaxCodesPerLock)  // K5
    return Error::make(409, "CAPACITY",
                       "Parameter conflicts: the smartlock already has 100 keypad codes");
  return Error::none();
}

std::vector<World::ServerCode> World::deviceCodes(const Lock& l) const {
  std::vector<ServerCode> codes;
  for (const auto& a : l.deviceAuths)
    if (a->type == kAuthKeypadCode) codes.push_back({a->id, a->code});
  return codes;
}

void World::enqueueChange(uint32_t index, Command::Kind kind, const ObjectId& target,
                          AuthRef auth) {
  Lock& l = locks_[index];
  Command c;
  c.kind = kind;
  c.operation = newObjectId(l.nukiId);
  c.target = target;
  c.auth = auth;
  c.readyMs = nowMs() + int64_t(l.settings.deliverySeconds) * 1000;
  l.pending.push_back(PendingChange{kind, c.operation, target, std::move(auth), false});
  l.queue.push_back(std::move(c));
  scheduler_.schedule(timeFromMillis(l.queue.back().readyMs), EventKind::kQueueReady, index);
}

Error World::createKeypadCode(uint32_t index, const AuthInput& in) {
  noteChange(index);
  Lock& l = locks_[index];
  if (!in.remoteAllowed) return Error::badParam("remoteAllowed", "null");
  const int64_t type = in.type.value_or(kAuthApp);
  if (type != kAuthKeypadCode) {
    if (type == kAuthApp && !in.accountUserId) return Error::badParam("accountUserId", "null");
    return Error::badParam("type", std::to_string(type));
  }
  if (!in.code) return Error::badParam("code", "null");
  // K1–K3, K6, then K7, then K4 and K5.
  if (auto e = checkCodeAndName(*in.code, in.name)) return e;
  Schedule s;
  if (auto e = scheduleFrom(in, Schedule{}, s)) return e;
  if (auto e = checkConflicts(serverCodes(l), *in.code, nullptr)) return e;

  Auth a;
  a.id = newObjectId(l.nukiId);
  a.type = kAuthKeypadCode;
  a.name = *in.name;
  a.code = uint32_t(*in.code);
  a.schedule = s;
  a.enabled = in.enabled.value_or(true);
  a.remoteAllowed = *in.remoteAllowed;
  a.creationMs = a.updateMs = nowMs();
  const ObjectId id = a.id;
  enqueueChange(index, Command::kAuthCreate, id, AuthRef::make(std::move(a)));
  return Error::none();
}

Error World::updateAuth(uint32_t index, const ObjectId& id, const AuthInput& in) {
  noteChange(index);
  Lock& l = locks_[index];
  bool locked = false;
  auto current = serverAuth(l, id, locked);
  if (!current) return Error::make(404, "NOT_FOUND", "Smartlock authorization not found");
  if (locked) return Error::make(423, "LOCKED", "a change to this authorization is pending");
  Auth next = *current;
  if (current->type == kAuthKeypadCode) {
    const int64_t code = in.code.value_or(current->code);
    if (auto e = checkCodeAndName(code, in.name)) return e;
    Schedule s;
    if (auto e = scheduleFrom(in, current->schedule, s)) return e;
    if (auto e = checkConflicts(serverCodes(l), code, &id)) return e;
    next.code = uint32_t(code);
    next.schedule = s;
  } else {
    if (in.code) return Error::badParam("code", std::to_string(*in.code));
    if (!in.name || in.name->empty() || codePoints(*in.name) > 32 || !validUtf8(*in.name))
      return Error::badParam("name", in.name.value_or("null"));
    Schedule s;
    if (auto e = scheduleFrom(in, current->schedule, s)) return e;
    next.schedule = s;
  }
  next.name = *in.name;
  if (in.enabled) next.enabled = *in.enabled;
  if (in.remoteAllowed) next.remoteAllowed = *in.remoteAllowed;
  next.updateMs = nowMs();
  enqueueChange(index, Command::kAuthUpdate, id, AuthRef::make(std::move(next)));
  return Error::none();
}

Error World::deleteAuth(uint32_t index, const ObjectId& id) {
  noteChange(index);
  Lock& l = locks_[index];
  bool locked = false;
  auto current = serverAuth(l, id, locked);
  if (!current) return Error::make(404, "NOT_FOUND", "Smartlock authorization not found");
  if (locked) return Error::make(423, "LOCKED", "a change to this authorization is pending");
  enqueueChange(index, Command::kAuthDelete, id, {});
  return Error::none();
}

Error World::renameLock(uint32_t index, std::optional<std::string> name,
                        std::optional<bool> favorite) {
  noteChange(index);
  Lock& l = locks_[index];
  if (name) {
    if (name->empty() || !validUtf8(*name) || codePoints(*name) > 64)
      return Error::badParam("name", *name);
    l.name = *name;
  }
  if (favorite) l.favorite = *favorite;
  l.updateMs = nowMs();
  touch(l);
  return Error::none();
}

void World::removeLock(uint32_t index) {
  noteFleetChange();
  Lock& l = locks_[index];
  l.removed = true;
  l.queue.clear();
  l.localQueue.clear();
  l.pending.clear();
  l.deviceAuths.clear();
  l.webView.clear();
  l.logs.clear();
  l.reportedLogs = 0;
  touch(l);
}

World::Mark World::mark(uint32_t index) const {
  return Mark{index, locks_[index].queue.size(), locks_[index].pending.size()};
}

void World::rollback(const std::vector<Mark>& marks) {
  // Undo in reverse so that a lock marked twice ends at its first mark.
  for (auto it = marks.rbegin(); it != marks.rend(); ++it) {
    Lock& l = locks_[it->lock];
    noteChange(it->lock);
    l.queue.resize(std::min(l.queue.size(), it->queue));
    l.pending.resize(std::min(l.pending.size(), it->pending));
  }
}

// ---------------------------------------------------------------------------------------------
// Events

void World::dispatch(const Event& e) {
  if (e.target >= locks_.size() || e.kind == EventKind::kWebhookSend) return;
  Lock& l = locks_[e.target];
  if (l.removed) return;
  noteChange(e.target);
  switch (e.kind) {
    case EventKind::kQueueReady:
      pump(e.target);
      break;
    case EventKind::kMotorDone:
      motorDone(e.target, uint32_t(e.arg));
      break;
    case EventKind::kUnlatchReturn:
      if (uint32_t(e.arg) != l.motorGeneration || l.motorBusy || l.state != kUnlatched) break;
      if (l.jobAction == kActionLockNGoUnlatch) {
        l.state = l.stableState = kUnlockedLockNGo;
        scheduler_.schedule(now() + std::chrono::seconds(l.settings.lngTimeout),
                            EventKind::kLngAutoLock, e.target, l.motorGeneration);
      } else {
        l.state = l.stableState = kUnlocked;
      }
      report(l);
      break;
    case EventKind::kLngAutoLock:
      if (uint32_t(e.arg) != l.motorGeneration || l.motorBusy || l.state != kUnlockedLockNGo) break;
      startMotor(l, e.target, kActionLock, kTriggerAutoLock, true, {});
      break;
    case EventKind::kDailySync:
      if (uint32_t(e.arg) != l.syncGeneration) break;
      sync(e.target);
      scheduleSync(e.target);
      break;
    case EventKind::kWebhookSend:
      break;  // not the world's
  }
}

}  // namespace nukihil::sim
