#include "adapter/adapter.h"

#include <algorithm>
#include <set>

#include "runtime/crypto.h"
#include "runtime/log.h"

namespace nukihil::adapter {

namespace {

using nlohmann::json;

constexpr const char* kLock = "LOCK";
constexpr const char* kBattery = "BATTERY_LEVEL";
constexpr const char* kPins = "BETA_PIN_CODE_CREDENTIALS";
constexpr const char* kConnectivity = "BETA_CONNECTIVITY";
constexpr size_t kSeenLogs = 64;

// SPEC §5: lock state 1 → locked; 3, 5, 6 → unlocked; the others (moving, motor blocked) say
// nothing about isLocked.
std::optional<bool> isLockedOf(int state) {
  if (state == nuki::kLocked) return true;
  if (state == nuki::kUnlocked || state == nuki::kUnlatched || state == nuki::kUnlockedLockNGo)
    return false;
  return std::nullopt;
}

// The motor is on its way (2, 4, 7): a completed action's outcome waits for the state after.
bool isMoving(int state) {
  return state == nuki::kUnlocking || state == nuki::kLocking || state == nuki::kUnlatching;
}

std::string modelOf(const NukiLock& l) {
  return l.wifi ? "Nuki Smart Lock 3.0 Pro" : "Nuki Smart Lock 3.0";
}

json pinsJson(const std::vector<PinCredential>& pins) {
  json out = json::array();
  for (const auto& p : pins)
    out.push_back(p.toJson());
  return out;
}

void sortPins(std::vector<PinCredential>& pins) {
  std::sort(pins.begin(), pins.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
}

json pinStoreJson(const PinCredential& p) {
  json j = p.toJson();
  j["nukiAuthId"] = p.nukiAuthId;
  return j;
}

// A credential as the adapter stored it. Not parsePinParameters: what Nuki Web showed
// (R-PIN-LOCAL) is kept as it is, even where the /v1 API would refuse it as input (a name with
// a newline, a date past 2037).
PinCredential pinFromStore(const json& j) {
  PinCredential p;
  p.id = j.at("id").get<std::string>();
  p.pinCode = j.at("pinCode").get<std::string>();
  p.name = j.at("name").get<std::string>();
  p.nukiAuthId = j.value("nukiAuthId", "");
  for (const auto& t : j.at("temporarySchedules")) {
    auto start = parseRfc3339(t.at("startDatetime").get<std::string>());
    auto end = parseRfc3339(t.at("endDatetime").get<std::string>());
    if (!start || !end) throw std::runtime_error("stored PIN credential " + p.id + " is damaged");
    p.temporary = TemporarySchedule{*start, *end};
  }
  for (const auto& r : j.at("recurringSchedules")) {
    std::string why;
    auto rec = parseRrule(r.at("rrule").get<std::string>(), r.at("duration").get<int>(), why);
    if (!rec) throw std::runtime_error("stored PIN credential " + p.id + " is damaged: " + why);
    p.recurring = *rec;
  }
  return p;
}

ActionStatus statusFromName(const std::string& s) {
  for (auto st : {ActionStatus::kQueued, ActionStatus::kPending, ActionStatus::kResolved,
                  ActionStatus::kRejected, ActionStatus::kFailed, ActionStatus::kTimeout})
    if (s == actionStatusName(st)) return st;
  throw std::runtime_error("unknown action status " + s);
}

}  // namespace

const char* actionStatusName(ActionStatus s) {
  switch (s) {
    case ActionStatus::kQueued:
      return "QUEUED";
    case ActionStatus::kPending:
      return "PENDING";
    case ActionStatus::kResolved:
      return "RESOLVED";
    case ActionStatus::kRejected:
      return "REJECTED";
    case ActionStatus::kFailed:
      return "FAILED";
    case ActionStatus::kTimeout:
      return "TIMEOUT";
  }
  return "?";
}

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

Adapter::Adapter(Db& db, Clock& clock, NukiApi& nuki, WebhookSink& sink, Random& random,
                 Options options)
    : db_(db),
      clock_(clock),
      nuki_(nuki),
      sink_(sink),
      random_(random),
      options_(std::move(options)) {
  createSchema();
  load();
  pollAlarm_ = clock_.addAlarm([this] { poll([this] { schedulePoll(); }); });
}

Adapter::~Adapter() {
  if (batch_) {
    try {
      batch_->commit();  // a graceful stop keeps what the last burst wrote
    } catch (const std::exception& e) {
      log::error(std::string("adapter: the last group commit failed at shutdown: ") + e.what());
    }
  }
  alive_.reset();
  clock_.removeAlarm(pollAlarm_);
}

// ---------------------------------------------------------------------------------------------
// Persistence

void Adapter::createSchema() {
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS adapter_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS adapter_devices (id TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS adapter_actions (
      id TEXT PRIMARY KEY, ord INTEGER NOT NULL, device TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS adapter_idempotency (
      key TEXT PRIMARY KEY, action TEXT NOT NULL, body TEXT NOT NULL);
  )");
}

void Adapter::saveMeta(const std::string& key, const std::string& value) {
  if (!saveMetaStmt_)
    saveMetaStmt_ = db_.prepare("INSERT OR REPLACE INTO adapter_meta (key, value) VALUES (?, ?)");
  saveMetaStmt_.bind(1, key).bind(2, value).step();
  saveMetaStmt_.reset();
}

std::string Adapter::newId(const char* prefix) {
  const uint64_t n = nextId_++;
  saveMeta("next_id", std::to_string(nextId_));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(n));
  return std::string(prefix) + idPrefix_ + buf;
}

void Adapter::saveDevice(const Device& d) {
  json j;
  j["id"] = d.id;
  j["smartlockId"] = d.smartlockId;
  j["name"] = d.name;
  j["model"] = d.model;
  if (d.isOnline) j["isOnline"] = *d.isOnline;
  if (d.isJammed) j["isJammed"] = *d.isJammed;
  if (d.isLocked) j["isLocked"] = *d.isLocked;
  if (d.percentage) j["percentage"] = *d.percentage;
  j["batteryStatus"] = d.batteryStatus;
  json pins = json::array();
  for (const auto& p : d.pins)
    pins.push_back(pinStoreJson(p));
  j["pins"] = std::move(pins);
  j["seenLogs"] = d.seenLogs;
  j["codesReadMs"] = d.codesReadMs;
  if (d.unreadSyncMs) j["unreadSyncMs"] = d.unreadSyncMs;
  if (!saveDeviceStmt_)
    saveDeviceStmt_ =
        db_.prepare("INSERT OR REPLACE INTO adapter_devices (id, body) VALUES (?, ?)");
  saveDeviceStmt_.bind(1, d.id).bind(2, j.dump()).step();
  saveDeviceStmt_.reset();
}

void Adapter::saveAction(const Action& a) {
  json j;
  j["id"] = a.id;
  j["deviceId"] = a.deviceId;
  j["trait"] = a.trait;
  j["name"] = a.name;
  j["parameters"] = a.parameters;
  j["status"] = actionStatusName(a.status);
  j["reason"] = a.reason;
  j["createdMs"] = a.createdMs;
  j["updatedMs"] = a.updatedMs;
  j["acceptedMs"] = a.acceptedMs;
  j["sent"] = a.sent;
  j["lock"] = a.lock;
  j["completion"] = a.completion;
  j["pinId"] = a.pinId;
  if (a.pin) j["pin"] = pinStoreJson(*a.pin);
  if (!saveActionStmt_)
    saveActionStmt_ = db_.prepare(
        "INSERT OR REPLACE INTO adapter_actions (id, ord, device, body) VALUES (?, ?, ?, ?)");
  saveActionStmt_.bind(1, a.id)
      .bind(2, int64_t(a.order))
      .bind(3, a.deviceId)
      .bind(4, j.dump())
      .step();
  saveActionStmt_.reset();
}

void Adapter::load() {
  {
    auto s = db_.prepare("SELECT key, value FROM adapter_meta");
    while (s.step()) {
      const std::string key = s.text(0), value = s.text(1);
      if (key == "next_id") nextId_ = std::stoull(value);
      if (key == "id_prefix") idPrefix_ = value;
      if (key == "nuki_webhook_id") nukiWebhookId_ = std::stoll(value);
      if (key == "nuki_webhook_secret") nukiSecret_ = value;
    }
  }
  if (idPrefix_.empty() && !options_.readOnly) {
    // Ids of this database differ from another's (tests run several adapters side by side).
    idPrefix_ = random_.hex(8);
    saveMeta("id_prefix", idPrefix_);
  }
  {
    auto s = db_.prepare("SELECT body FROM adapter_devices");
    while (s.step()) {
      const json j = json::parse(s.text(0));
      Device d;
      d.id = j.at("id").get<std::string>();
      d.smartlockId = j.at("smartlockId").get<uint64_t>();
      d.name = j.at("name").get<std::string>();
      d.model = j.at("model").get<std::string>();
      if (j.contains("isOnline")) d.isOnline = j["isOnline"].get<bool>();
      if (j.contains("isJammed")) d.isJammed = j["isJammed"].get<bool>();
      if (j.contains("isLocked")) d.isLocked = j["isLocked"].get<bool>();
      if (j.contains("percentage")) d.percentage = j["percentage"].get<int>();
      d.batteryStatus = j.at("batteryStatus").get<std::string>();
      for (const auto& p : j.at("pins"))
        d.pins.push_back(pinFromStore(p));
      for (const auto& l : j.at("seenLogs"))
        d.seenLogs.push_back(l.get<std::string>());
      d.codesReadMs = j.value("codesReadMs", int64_t(0));
      d.unreadSyncMs = j.value("unreadSyncMs", int64_t(0));
      devices_.emplace(d.id, std::move(d));
    }
  }
  {
    auto s = db_.prepare("SELECT body, ord FROM adapter_actions ORDER BY ord");
    while (s.step()) {
      const json j = json::parse(s.text(0));
      Action a;
      a.id = j.at("id").get<std::string>();
      a.deviceId = j.at("deviceId").get<std::string>();
      a.trait = j.at("trait").get<std::string>();
      a.name = j.at("name").get<std::string>();
      a.parameters = j.at("parameters");
      a.status = statusFromName(j.at("status").get<std::string>());
      a.reason = j.at("reason").get<std::string>();
      a.createdMs = j.at("createdMs").get<int64_t>();
      a.updatedMs = j.at("updatedMs").get<int64_t>();
      a.acceptedMs = j.at("acceptedMs").get<int64_t>();
      a.sent = j.at("sent").get<bool>();
      a.lock = j.at("lock").get<bool>();
      a.completion = j.at("completion").get<int>();
      a.pinId = j.at("pinId").get<std::string>();
      if (j.contains("pin")) a.pin = pinFromStore(j["pin"]);
      a.order = uint64_t(s.int64(1));
      nextOrder_ = std::max(nextOrder_, a.order + 1);
      Action& loaded = actions_.emplace(a.id, std::move(a)).first->second;
      if (loaded.unresolved()) open_[loaded.deviceId].push_back(&loaded);  // rows come in order
    }
  }
  {
    auto s = db_.prepare("SELECT key, action, body FROM adapter_idempotency");
    while (s.step())
      idempotency_[s.text(0)] = {s.text(1), s.text(2)};
  }
}

// ---------------------------------------------------------------------------------------------
// Group commit

void Adapter::joinBatch() {
  if (!options_.post || batch_) return;
  batch_ = std::make_unique<Db::Transaction>(db_);
  batchWork_ = WorkGuard(&clock_.work());  // a virtual clock waits for the commit
  options_.post([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    auto batch = std::move(batch_);
    try {
      batch->commit();  // runs the afterDurable hooks
    } catch (const std::exception& e) {
      // The burst is rolled back: nothing of it was answered, so nothing promised is lost,
      // but memory holds what the disk does not.
      batchWork_.reset();
      return storageFailed(std::string("a group commit failed and was rolled back: ") + e.what());
    }
    batchWork_.reset();
  });
}

bool Adapter::write(const std::function<void()>& f) {
  if (options_.readOnly || storageFailed_) return false;
  // Only the outermost write handles a refusal: inner ones pass it up, so that no transaction
  // of this call is still open when storageFailed() rolls the burst back.
  const bool outermost = writeDepth_ == 0;
  struct Depth {
    int& n;
    ~Depth() { --n; }
  } depth{++writeDepth_};
  try {
    joinBatch();
    Db::Transaction tx(db_);
    f();
    tx.commit();
  } catch (const DbError& e) {
    if (!outermost) throw;
    storageFailed(std::string("the database refused a write: ") + e.what());
  }
  return !storageFailed_;
}

void Adapter::storageFailed(const std::string& why) {
  if (storageFailed_) return;
  storageFailed_ = true;
  log::error("adapter: " + why + "; nothing of the last burst is answered or sent");
  // The burst is rolled back at once: the answers waiting for it get their refusal (see
  // Northbound::handle), and no callback still out touches memory that disk does not hold.
  batch_.reset();
  batchWork_.reset();
  alive_.reset();
  clock_.disarm(pollAlarm_);
  if (options_.onStorageFailure) return options_.onStorageFailure(why);
  std::abort();
}

Adapter::Submitted Adapter::storageRefusal() {
  return Submitted::refused(503, "STORAGE_UNAVAILABLE",
                            "the adapter's database refuses writes; nothing was accepted");
}

std::string Adapter::probeStorage(Db& db, Time now) {
  try {
    Db::Transaction tx(db);
    db.prepare("INSERT OR REPLACE INTO adapter_meta (key, value) VALUES ('storage_probe', ?)")
        .bind(1, formatRfc3339(now))
        .step();
    tx.commit();
    return "";
  } catch (const DbError& e) {
    return e.what();
  }
}

void Adapter::afterDurable(std::function<void()> f) {
  db_.afterCommit(std::move(f));
}

void Adapter::afterRollback(std::function<void()> f) {
  db_.afterRollback(std::move(f));
}

// ---------------------------------------------------------------------------------------------
// Platform webhooks

void Adapter::emit(const Device& d, const char* type, json content) {
  sink_.enqueue(d.id, type, std::move(content));
}

void Adapter::setState(Device& d, const char* trait, const char* field, json value,
                       const std::string& actionId) {
  json c;
  c["traitName"] = trait;
  c["fieldName"] = field;
  c["value"] = std::move(value);
  if (!actionId.empty()) c["actionId"] = actionId;
  emit(d, "deviceEventSetState", std::move(c));
}

void Adapter::updateAction(Action& a, ActionStatus status, std::string reason) {
  a.status = status;
  if (!a.unresolved()) {
    auto& list = open_[a.deviceId];
    list.erase(std::remove(list.begin(), list.end(), &a), list.end());
  }
  a.reason = std::move(reason);
  a.updatedMs = millisOf(clock_.now());
  json c;
  c["actionId"] = a.id;
  c["status"] = actionStatusName(status);
  if (!a.reason.empty()) c["reason"] = a.reason;
  auto it = devices_.find(a.deviceId);
  if (it != devices_.end()) emit(it->second, "deviceEventUpdateAction", std::move(c));
  saveAction(a);
}

// ---------------------------------------------------------------------------------------------
// Start, discovery, polling

void Adapter::start(std::function<void(const std::string&)> ready) {
  registerWebhook([this, alive = std::weak_ptr<bool>(alive_), ready = std::move(ready)] {
    if (alive.expired()) return;
    // Actions accepted before a restart whose Nuki call may not have happened go out again,
    // unless they have waited longer than the retry budget would have let them.
    const int64_t now = millisOf(clock_.now());
    const int64_t budgetMs =
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.actionBudget).count();
    for (auto& [id, a] : actions_) {
      if (a.status != ActionStatus::kQueued) continue;
      if (now - a.createdMs <= budgetMs) {
        send(a);
        continue;
      }
      if (!write([&] { updateAction(a, ActionStatus::kTimeout); })) return;
    }
    discover([this, alive, ready](const std::string& error) {
      if (alive.expired()) return;
      // Catch up with what happened while the adapter was away (its webhooks may be lost).
      poll([this, alive, ready, error] {
        if (alive.expired()) return;
        schedulePoll();
        if (ready) ready(error);
      });
    });
  });
}

void Adapter::registerWebhook(std::function<void()> done) {
  if (options_.publicUrl.empty()) return done();
  std::string url = options_.publicUrl;
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  url += "/nuki/webhook";
  // Keep the registration of an earlier run of this database if Nuki Web still has it: events
  // Nuki Web could not deliver while the adapter was down are then delivered to it now, with
  // the secret it knows. Other registrations for this URL are removed; without one of ours, a
  // new one is made.
  nuki_.listWebhooks([this, url, done, alive = std::weak_ptr<bool>(alive_)](
                         const NukiResult& r, std::vector<std::pair<int64_t, std::string>> hooks) {
    if (alive.expired()) return;
    if (!r.ok()) log::warn("nuki: cannot list webhooks (" + std::to_string(r.status) + ")");
    bool kept = false;
    for (const auto& [id, hookUrl] : hooks) {
      if (hookUrl != url) continue;
      if (id == nukiWebhookId_ && !nukiSecret_.empty()) {
        kept = true;
        continue;
      }
      nuki_.deleteWebhook(id, [](const NukiResult&) {});
    }
    if (kept) {
      log::info("nuki: webhook " + std::to_string(nukiWebhookId_) + " kept for " + url);
      return done();
    }
    nukiSecret_.clear();
    nuki_.registerWebhook(
        url, {"DEVICE_STATUS", "DEVICE_MASTERDATA", "DEVICE_LOGS", "DEVICE_AUTHS"},
        [this, url, done, alive](const NukiResult& rr, int64_t id, std::string secret) {
          if (alive.expired()) return;
          if (rr.ok() && !secret.empty()) {
            nukiSecret_ = std::move(secret);
            nukiWebhookId_ = id;
            if (!write([&] {
                  saveMeta("nuki_webhook_id", std::to_string(id));
                  saveMeta("nuki_webhook_secret", nukiSecret_);
                }))
              return;
            log::info("nuki: webhook " + std::to_string(id) + " registered for " + url);
          } else {
            log::warn("nuki: webhook registration failed (HTTP " + std::to_string(rr.status) + " " +
                      rr.error + "); falling back to polling");
          }
          afterDurable(done);
        });
  });
}

void Adapter::discover(std::function<void(const std::string&)> done,
                       std::set<std::string> skipReports) {
  nuki_.listSmartlocks([this, done, skipReports, alive = std::weak_ptr<bool>(alive_)](
                           const NukiResult& r, std::vector<NukiLock> locks) {
    if (alive.expired()) return;
    if (!r.ok()) {
      const std::string why = "GET /smartlock failed: HTTP " + std::to_string(r.status) +
                              (r.error.empty() ? "" : " (" + r.error + ")");
      log::warn("nuki: " + why);
      return done(why);
    }
    auto remaining = std::make_shared<size_t>(1);
    auto finish = [remaining, done] {
      if (--*remaining == 0) done("");
    };
    for (const NukiLock& l : locks) {
      if (l.type != nuki::kSmartLock3) continue;  // Smart Lock 3.0 / 3.0 Pro only
      const std::string id = std::to_string(l.smartlockId);
      auto it = devices_.find(id);
      if (it != devices_.end()) {
        if (skipReports.count(id)) continue;
        if (!write([&] { onLockReport(it->second, l, l.state.has_value()); })) return;
        continue;
      }
      // A new lock: read its codes first so that R-DISCOVER goes out in one piece.
      ++*remaining;
      nuki_.listAuths(l.smartlockId, [this, l, finish, alive](const NukiResult& ar,
                                                              std::vector<NukiAuth> auths) {
        if (alive.expired()) return;
        if (ar.ok())
          addDevice(l, std::move(auths));
        else
          log::warn("nuki: cannot read the codes of lock " + std::to_string(l.smartlockId) +
                    "; it is discovered at the next poll");
        finish();
      });
    }
    finish();
  });
}

// R-DISCOVER: deviceEventConfig, then one SetState per state field in SPEC order.
void Adapter::addDevice(const NukiLock& l, std::vector<NukiAuth> auths) {
  const std::string id = std::to_string(l.smartlockId);
  if (devices_.count(id)) return;
  write([&] {
    Device& d = devices_[id];
    d.id = id;
    d.smartlockId = l.smartlockId;
    d.name = l.name;
    d.model = modelOf(l);
    json traits;
    for (const char* t : {kLock, kBattery, kPins, kConnectivity})
      traits[t] = {{"properties", traitProperties(t)}};
    emit(d, "deviceEventConfig", {{"traits", traits}});
    d.isOnline = l.online();
    setState(d, kConnectivity, "isOnline", *d.isOnline);
    if (l.state) {
      d.isJammed = *l.state == nuki::kMotorBlocked;
      setState(d, kLock, "isJammed", *d.isJammed);
      if (auto locked = isLockedOf(*l.state)) {
        d.isLocked = *locked;
        setState(d, kLock, "isLocked", *d.isLocked);
      }
      if (l.batteryCharge) {
        d.percentage = *l.batteryCharge;
        setState(d, kBattery, "percentage", *d.percentage);
      }
      d.batteryStatus = l.batteryCritical ? "CRITICAL" : "NORMAL";
      setState(d, kBattery, "status", d.batteryStatus);
    }
    for (const auto& a : auths) {
      if (a.type != nuki::kKeypadCode || !a.code) continue;
      PinCredential p = fromNukiAuth(a);
      p.id = newId("pin_");
      d.pins.push_back(std::move(p));
    }
    sortPins(d.pins);
    d.codesReadMs = millisOf(clock_.now());
    setState(d, kPins, "pinCodeCredentials", pinsJson(d.pins));
    saveDevice(d);
  });
}

void Adapter::schedulePoll() {
  clock_.arm(pollAlarm_, clock_.now() + options_.pollInterval);
}

void Adapter::pollNow(std::function<void()> done) {
  poll(std::move(done));
}

// The fallback when webhooks are late or lost: states of every lock, logs and state of locks
// with lock actions waiting, codes of locks with PIN actions waiting (of all locks every
// fullScanEvery rounds). Discovers new locks too.
void Adapter::poll(std::function<void()> done) {
  if (polling_) {
    if (done) done();
    return;
  }
  polling_ = true;
  const bool fullScan = options_.fullScanEvery > 0 && ++pollCount_ % options_.fullScanEvery == 0;
  auto alive = std::weak_ptr<bool>(alive_);
  // Locks with a lock action waiting get their state after their logs (attribution).
  std::set<std::string> reportAfterLogs;
  for (const auto& [device, list] : open_)
    for (const Action* a : list)
      if (!a->isPin() && a->status == ActionStatus::kPending) reportAfterLogs.insert(device);
  discover(
      [this, done, fullScan, alive](const std::string&) {
        if (alive.expired()) return;
        auto remaining = std::make_shared<size_t>(1);
        auto finish = [this, remaining, done, alive] {
          if (alive.expired()) return;
          if (--*remaining == 0) {
            polling_ = false;
            if (done) done();
          }
        };
        for (auto& [id, d] : devices_) {
          bool lockWaiting = false, pinWaiting = false;
          for (auto* a : unresolvedActions(id)) {
            if (a->status != ActionStatus::kPending) continue;
            (a->isPin() ? pinWaiting : lockWaiting) = true;
          }
          const uint64_t smartlockId = d.smartlockId;
          const std::string deviceId = id;
          if (lockWaiting) {
            ++*remaining;
            nuki_.listLogs(smartlockId, 50,
                           [this, deviceId, smartlockId, finish, alive](const NukiResult& r,
                                                                        std::vector<NukiLog> logs) {
                             if (alive.expired()) return;
                             auto it = devices_.find(deviceId);
                             if (r.ok() && it != devices_.end() && !write([&] {
                                   for (auto l = logs.rbegin(); l != logs.rend(); ++l)
                                     onLog(it->second, *l);  // oldest first
                                   saveDevice(it->second);
                                 }))
                               return;
                             nuki_.getSmartlock(smartlockId, [this, deviceId, finish, alive](
                                                                 const NukiResult& sr,
                                                                 std::optional<NukiLock> lock) {
                               if (alive.expired()) return;
                               auto dit = devices_.find(deviceId);
                               if (sr.ok() && lock && dit != devices_.end() && !write([&] {
                                     onLockReport(dit->second, *lock, lock->state.has_value());
                                   }))
                                 return;
                               finish();
                             });
                           });
          }
          if (d.unreadSyncMs != 0) {
            ++*remaining;
            onSync(deviceId, d.unreadSyncMs, finish);
          } else if (pinWaiting || fullScan) {
            ++*remaining;
            const int64_t observed = millisOf(clock_.now());
            nuki_.listAuths(smartlockId, [this, deviceId, finish, alive, observed](
                                             const NukiResult& r, std::vector<NukiAuth> auths) {
              if (alive.expired()) return;
              auto it = devices_.find(deviceId);
              if (r.ok() && it != devices_.end() &&
                  !write([&] { reconcile(it->second, auths, /*syncSignal=*/false, observed); }))
                return;
              finish();
            });
          }
        }
        finish();
      },
      reportAfterLogs);
}

// ---------------------------------------------------------------------------------------------
// What the locks report

int Adapter::nukiWebhook(const std::string& body, std::string_view signature) {
  if (options_.readOnly || storageFailed_) return 503;  // Nuki Web delivers it again later
  if (nukiSecret_.empty()) return 401;                  // no registration, nothing can be verified
  const std::string expected = crypto::toHex(crypto::hmacSha256(nukiSecret_, body));
  std::string given(signature);
  for (auto& c : given)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  if (!crypto::constantTimeEqual(expected, given)) return 401;
  std::string error;
  auto event = decodeEvent(body, error);
  if (!event) {
    log::warn("nuki webhook: " + error);
    return 400;
  }
  auto it = devices_.find(std::to_string(event->smartlockId));
  if (it == devices_.end()) {
    // A lock added to the account since the last discovery: find it at once.
    if (event->kind != NukiEvent::kOther) discover([](const std::string&) {});
    return 200;
  }
  Device& d = it->second;
  switch (event->kind) {
    case NukiEvent::kStatus:
      if (!write([&] {
            if (event->lock) onLockReport(d, *event->lock, event->lock->state.has_value());
          }))
        return 503;
      break;
    case NukiEvent::kLogs:
      // A web-triggered motor log is saved at once: after a crash it must not complete a
      // later action of the same kind.
      if (!write([&] {
            if (event->log && onLog(d, *event->log)) saveDevice(d);
          }))
        return 503;
      break;
    case NukiEvent::kMasterData: {
      // R-PIN-SYNC: the sync is complete; read the new web view and apply it. The signal is
      // stored before Nuki Web hears 200: if the read fails or the adapter dies, a poll reads
      // the codes as after a sync.
      const int64_t now = millisOf(clock_.now());
      if (d.unreadSyncMs == 0 && !write([&] {
            d.unreadSyncMs = now;
            saveDevice(d);
          }))
        return 503;
      onSync(d.id, now);
      break;
    }
    case NukiEvent::kAuths:  // the web view is read at DEVICE_MASTERDATA
    case NukiEvent::kOther:
      break;
  }
  return 200;
}

void Adapter::onSync(const std::string& deviceId, int64_t observedMs, std::function<void()> done) {
  auto it = devices_.find(deviceId);
  if (it == devices_.end()) {
    if (done) done();
    return;
  }
  nuki_.listAuths(it->second.smartlockId,
                  [this, deviceId, observedMs, done, alive = std::weak_ptr<bool>(alive_)](
                      const NukiResult& r, std::vector<NukiAuth> auths) {
                    if (alive.expired()) return;
                    auto dit = devices_.find(deviceId);
                    if (dit != devices_.end() && !r.ok())
                      log::warn("nuki: cannot read the codes of lock " + deviceId +
                                " after a sync; polling retries");
                    if (dit != devices_.end() && r.ok() && !write([&] {
                          dit->second.unreadSyncMs = 0;  // saved by reconcile
                          reconcile(dit->second, auths, /*syncSignal=*/true, observedMs);
                        }))
                      return;
                    if (done) done();
                  });
}

// One report of motor state, battery and reachability: SetStates for what changed, in SPEC
// order, attributed to the lock action whose completion the logs showed (R-ACT-*), then that
// action's outcome.
void Adapter::onLockReport(Device& d, const NukiLock& report, bool hasState) {
  Action* done = nullptr;
  for (auto* a : unresolvedActions(d.id))
    if (!a->isPin() && a->status == ActionStatus::kPending && a->completion >= 0) {
      done = a;
      break;
    }
  const std::string by = done ? done->id : std::string();

  // Saved only when a field changed: reports that change nothing are frequent.
  bool changed = false;
  const bool online = report.online();
  if (d.isOnline != online) {  // R-CONN
    d.isOnline = online;
    changed = true;
    setState(d, kConnectivity, "isOnline", online);
  }
  if (hasState && report.state) {
    const int s = *report.state;
    const bool jammed = s == nuki::kMotorBlocked;
    if (d.isJammed != jammed) {
      d.isJammed = jammed;
      changed = true;
      setState(d, kLock, "isJammed", jammed, jammed ? by : std::string());
    }
    const std::optional<bool> locked = isLockedOf(s);
    if (locked && d.isLocked != *locked) {  // R-MANUAL when no action explains it
      d.isLocked = *locked;
      changed = true;
      setState(d, kLock, "isLocked", *locked, by);
    }
    if (report.batteryCharge && d.percentage != *report.batteryCharge) {  // R-BATT
      d.percentage = *report.batteryCharge;
      changed = true;
      setState(d, kBattery, "percentage", *d.percentage);
    }
    const std::string status = report.batteryCritical ? "CRITICAL" : "NORMAL";
    if (d.batteryStatus != status) {
      d.batteryStatus = status;
      changed = true;
      setState(d, kBattery, "status", status);
    }
  }
  // The state after a completed action settles it (more than one if a poll saw several logs).
  if (hasState && report.state && !isMoving(*report.state)) {
    for (auto* a : unresolvedActions(d.id)) {
      if (a->isPin() || a->status != ActionStatus::kPending || a->completion < 0) continue;
      if (a->completion == nuki::kCompleted)
        updateAction(*a, ActionStatus::kResolved);
      else if (a->completion == nuki::kCompletionMotorBlocked)
        updateAction(*a, ActionStatus::kRejected, "MOTOR_BLOCKED");  // R-ACT-JAMMED
      else
        updateAction(*a, ActionStatus::kRejected,
                     "COMPLETION_STATE_" + std::to_string(a->completion));
    }
  }
  if (changed) saveDevice(d);
}

// A log entry: a web-triggered motor action finishing marks the oldest lock action of that
// kind as completed; its outcome follows with the next state report.
bool Adapter::onLog(Device& d, const NukiLog& log) {
  if (std::find(d.seenLogs.begin(), d.seenLogs.end(), log.id) != d.seenLogs.end()) return false;
  d.seenLogs.push_back(log.id);
  while (d.seenLogs.size() > kSeenLogs)
    d.seenLogs.pop_front();
  if (log.trigger != nuki::kTriggerWeb ||
      (log.action != nuki::kActionUnlock && log.action != nuki::kActionLock))
    return false;
  for (auto* a : unresolvedActions(d.id)) {
    if (a->isPin() || a->status != ActionStatus::kPending || a->completion >= 0) continue;
    if ((log.action == nuki::kActionLock) != a->lock) continue;
    a->completion = log.state;
    saveAction(*a);
    break;
  }
  return true;
}

// R-PIN-SYNC / R-PIN-DROPPED / R-PIN-LOCAL: apply a web view of the lock's keypad codes.
void Adapter::reconcile(Device& d, const std::vector<NukiAuth>& auths, bool syncSignal,
                        int64_t observedMs) {
  std::vector<PinCredential> web;
  for (const auto& a : auths)
    if (a.type == nuki::kKeypadCode && a.code) web.push_back(fromNukiAuth(a));
  auto findWeb = [&](const std::string& authId) -> const PinCredential* {
    for (const auto& w : web)
      if (w.nukiAuthId == authId) return &w;
    return nullptr;
  };
  // Does the web view differ from what the adapter knows? Then a sync happened.
  bool differs = web.size() != d.pins.size();
  for (const auto& p : d.pins) {
    const PinCredential* w = findWeb(p.nukiAuthId);
    if (!w || !w->sameContent(p)) differs = true;
  }
  // A poll that finds the codes changed knows only that a sync happened since it last read
  // them: an action accepted after that read cannot be judged dropped by this difference.
  const int64_t syncAfterMs = syncSignal ? observedMs : d.codesReadMs;
  d.codesReadMs = std::max(d.codesReadMs, observedMs);
  if (!syncSignal && !differs) return;

  std::set<std::string> mapped;
  for (const auto& p : d.pins)
    mapped.insert(p.nukiAuthId);
  auto pinIndex = [&](const std::string& pinId) -> int {
    for (size_t i = 0; i < d.pins.size(); ++i)
      if (d.pins[i].id == pinId) return int(i);
    return -1;
  };

  // First the adapter's own actions, in the order Nuki Web accepted them (SPEC §6 R-PIN-SYNC;
  // at one instant in the order they were made).
  std::vector<Action*> own = unresolvedActions(d.id);
  std::stable_sort(own.begin(), own.end(),
                   [](const Action* x, const Action* y) { return x->acceptedMs < y->acceptedMs; });
  for (auto* a : own) {
    if (!a->isPin() || a->status != ActionStatus::kPending || a->acceptedMs > observedMs) continue;
    const json before = pinsJson(d.pins);
    bool shown = false;
    if (a->name == "createPinCodeCredential") {
      for (const auto& w : web) {
        if (mapped.count(w.nukiAuthId) || !w.sameContent(*a->pin)) continue;
        PinCredential p = *a->pin;
        p.id = a->pinId;
        p.nukiAuthId = w.nukiAuthId;
        d.pins.push_back(std::move(p));
        mapped.insert(w.nukiAuthId);
        shown = true;
        break;
      }
    } else if (a->name == "updatePinCodeCredential") {
      const int i = pinIndex(a->pinId);
      const PinCredential* w = i >= 0 ? findWeb(d.pins[size_t(i)].nukiAuthId) : nullptr;
      if (w && w->sameContent(*a->pin)) {
        PinCredential& p = d.pins[size_t(i)];
        const std::string keepId = p.id, keepAuth = p.nukiAuthId;
        p = *a->pin;
        p.id = keepId;
        p.nukiAuthId = keepAuth;
        shown = true;
      }
    } else if (a->name == "deletePinCodeCredential") {
      const int i = pinIndex(a->pinId);
      if (i >= 0 && !findWeb(d.pins[size_t(i)].nukiAuthId)) {
        mapped.erase(d.pins[size_t(i)].nukiAuthId);
        d.pins.erase(d.pins.begin() + i);
        shown = true;
      }
    }
    if (shown) {
      sortPins(d.pins);
      // SPEC §6: a SetState only when the list differs (an update to the values it already
      // had, or to the same schedule written another way, changes nothing).
      json after = pinsJson(d.pins);
      if (after != before) setState(d, kPins, "pinCodeCredentials", std::move(after), a->id);
      updateAction(*a, ActionStatus::kResolved);
    } else if (a->acceptedMs > syncAfterMs) {
      continue;  // the sync may have come before it; a later one decides
    } else {
      updateAction(*a, ActionStatus::kRejected, "DROPPED_BY_LOCK");  // R-PIN-DROPPED
    }
  }

  // Then what no action explains: codes added, changed or removed elsewhere (R-PIN-LOCAL).
  bool changed = false;
  for (size_t i = 0; i < d.pins.size();) {
    const PinCredential* w = findWeb(d.pins[i].nukiAuthId);
    if (!w) {
      d.pins.erase(d.pins.begin() + long(i));
      changed = true;
      continue;
    }
    if (!w->sameContent(d.pins[i])) {
      const std::string keepId = d.pins[i].id;
      d.pins[i] = *w;
      d.pins[i].id = keepId;
      changed = true;
    }
    ++i;
  }
  for (const auto& w : web) {
    if (mapped.count(w.nukiAuthId)) continue;
    PinCredential p = w;
    p.id = newId("pin_");
    d.pins.push_back(std::move(p));
    changed = true;
  }
  if (changed) {
    sortPins(d.pins);
    setState(d, kPins, "pinCodeCredentials", pinsJson(d.pins));
  }
  saveDevice(d);
}

// ---------------------------------------------------------------------------------------------
// Actions

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
      updateAction(a, ActionStatus::kPending);
    } else if (r.outcome == NukiResult::Outcome::kTimeout) {
      updateAction(a, ActionStatus::kTimeout);
    } else {
      updateAction(a, ActionStatus::kFailed, std::to_string(r.status));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Northbound views

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
