// The adapter's rows in SQLite: schema, saving devices, actions and meta values, and loading
// them at start.
#include "adapter/adapter.h"

#include "adapter/adapter_internal.h"
#include "runtime/log.h"

namespace nukihil::adapter {

using nlohmann::json;

namespace {

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
  j["acceptedOrder"] = a.acceptedOrder;
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
      a.acceptedOrder = j.value("acceptedOrder", uint64_t(0));  // absent in older databases
      nextAccepted_ = std::max(nextAccepted_, a.acceptedOrder + 1);
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

}  // namespace nukihil::adapter
