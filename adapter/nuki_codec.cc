#include "adapter/nuki_codec.h"

#include <limits>

namespace nukihil::adapter {

namespace {

using nlohmann::json;

// A value shown in an error message: short, and never more than a few dozen characters.
std::string shown(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// Reads the fields of one JSON object; the first problem sticks in `error` (prefixed with
// the object's path) and every later read fails.
class Reader {
 public:
  Reader(const json& o, std::string path, std::string& error)
      : o_(o), path_(std::move(path)), error_(error) {
    if (!o_.is_object()) fail("", "expected an object, got " + shown(o_));
  }
  bool ok() const { return ok_; }

  // Integers: JSON integers only, within [lo, hi].
  template <class T>
  bool integer(const char* name, T& out, bool required, int64_t lo, int64_t hi) {
    const json* v = find(name, required);
    if (!v) return ok_;
    if (!v->is_number_integer()) return fail(name, "expected an integer, got " + shown(*v));
    if (v->is_number_unsigned()) {
      const auto u = v->get<uint64_t>();
      if (hi < 0 || u > uint64_t(hi)) return fail(name, "out of range: " + shown(*v));
      out = T(u);
      return true;
    }
    const auto s = v->get<int64_t>();
    if (s < lo || s > hi) return fail(name, "out of range: " + shown(*v));
    out = T(s);
    return true;
  }
  template <class T>
  bool integer(const char* name, std::optional<T>& out, int64_t lo, int64_t hi) {
    T value{};
    const json* v = find(name, false);
    if (!v) return ok_;
    if (!integer(name, value, false, lo, hi)) return false;
    out = value;
    return true;
  }
  bool id(const char* name, uint64_t& out, bool required) {
    const json* v = find(name, required);
    if (!v) return ok_;
    if (!v->is_number_integer()) return fail(name, "expected an integer, got " + shown(*v));
    if (!v->is_number_unsigned() && v->get<int64_t>() < 0)
      return fail(name, "out of range: " + shown(*v));
    out = v->get<uint64_t>();
    return true;
  }
  bool int32(const char* name, int& out, bool required) {
    return integer(name, out, required, std::numeric_limits<int32_t>::min(),
                   std::numeric_limits<int32_t>::max());
  }
  bool int32(const char* name, std::optional<int>& out) {
    return integer(name, out, std::numeric_limits<int32_t>::min(),
                   std::numeric_limits<int32_t>::max());
  }
  bool int64(const char* name, int64_t& out, bool required) {
    return integer(name, out, required, std::numeric_limits<int64_t>::min(),
                   std::numeric_limits<int64_t>::max());
  }
  bool int64(const char* name, std::optional<int64_t>& out) {
    return integer(name, out, std::numeric_limits<int64_t>::min(),
                   std::numeric_limits<int64_t>::max());
  }
  bool boolean(const char* name, bool& out, bool required) {
    const json* v = find(name, required);
    if (!v) return ok_;
    if (!v->is_boolean()) return fail(name, "expected a boolean, got " + shown(*v));
    out = v->get<bool>();
    return true;
  }
  bool string(const char* name, std::string& out, bool required) {
    const json* v = find(name, required);
    if (!v) return ok_;
    if (!v->is_string()) return fail(name, "expected a string, got " + shown(*v));
    out = v->get<std::string>();
    return true;
  }
  bool string(const char* name, std::optional<std::string>& out) {
    std::string s;
    const json* v = find(name, false);
    if (!v) return ok_;
    if (!string(name, s, false)) return false;
    out = std::move(s);
    return true;
  }
  bool dateTime(const char* name, std::optional<Time>& out, bool required) {
    const json* v = find(name, required);
    if (!v) return ok_;
    if (!v->is_string()) return fail(name, "expected a date-time string, got " + shown(*v));
    auto t = parseRfc3339(v->get<std::string>());
    if (!t) return fail(name, "not an RFC 3339 date-time: " + shown(*v));
    out = *t;
    return true;
  }
  // A nested object, or nullptr if absent/null (or on error: check ok()).
  const json* object(const char* name, bool required) {
    const json* v = find(name, required);
    if (!v) return nullptr;
    if (!v->is_object()) {
      fail(name, "expected an object, got " + shown(*v));
      return nullptr;
    }
    return v;
  }
  std::string pathOf(const char* name) const { return path_.empty() ? name : path_ + "." + name; }

 private:
  // The field, or nullptr when it is absent or null (an error if required).
  const json* find(const char* name, bool required) {
    if (!ok_) return nullptr;
    auto it = o_.find(name);
    if (it == o_.end() || it->is_null()) {
      if (required) fail(name, "missing");
      return nullptr;
    }
    return &*it;
  }
  bool fail(const char* name, const std::string& why) {
    if (ok_) {
      ok_ = false;
      const std::string where = *name ? pathOf(name) : path_;
      error_ = where.empty() ? why : where + ": " + why;
    }
    return false;
  }

  const json& o_;
  std::string path_;
  std::string& error_;
  bool ok_ = true;
};

std::optional<NukiLock> lockAt(const json& j, const std::string& path, std::string& error) {
  Reader r(j, path, error);
  NukiLock lock;
  r.id("smartlockId", lock.smartlockId, true);
  r.int64("accountId", lock.accountId, true);
  r.int32("type", lock.type, true);
  r.string("name", lock.name, true);
  r.int32("serverState", lock.serverState, false);
  if (const json* config = r.object("config", false)) {
    Reader c(*config, r.pathOf("config"), error);
    if (!c.boolean("wifiEnabled", lock.wifi, false)) return std::nullopt;
  }
  if (const json* state = r.object("state", false)) {
    Reader s(*state, r.pathOf("state"), error);
    s.int32("state", lock.state);
    s.int32("trigger", lock.trigger);
    s.int32("lastAction", lock.lastAction);
    s.int32("batteryCharge", lock.batteryCharge);
    s.boolean("batteryCritical", lock.batteryCritical, false);
    if (!s.ok()) return std::nullopt;
  }
  if (!r.ok()) return std::nullopt;
  return lock;
}

std::optional<NukiAuth> authAt(const json& j, const std::string& path, std::string& error) {
  Reader r(j, path, error);
  NukiAuth a;
  r.string("id", a.id, true);
  r.id("smartlockId", a.smartlockId, true);
  r.int32("type", a.type, true);
  r.string("name", a.name, true);
  r.int64("code", a.code);
  r.boolean("enabled", a.enabled, false);
  r.boolean("remoteAllowed", a.remoteAllowed, false);
  r.dateTime("allowedFromDate", a.allowedFrom, false);
  r.dateTime("allowedUntilDate", a.allowedUntil, false);
  r.int32("allowedWeekDays", a.allowedWeekDays, false);
  r.int32("allowedFromTime", a.allowedFromTime, false);
  r.int32("allowedUntilTime", a.allowedUntilTime, false);
  r.string("operationId", a.operationId);
  if (!r.ok()) return std::nullopt;
  return a;
}

std::optional<NukiLog> logAt(const json& j, const std::string& path, std::string& error) {
  Reader r(j, path, error);
  NukiLog l;
  std::optional<Time> date;
  r.string("id", l.id, true);
  r.id("smartlockId", l.smartlockId, true);
  r.int32("action", l.action, true);
  r.int32("trigger", l.trigger, true);
  r.int32("state", l.state, true);
  r.string("name", l.name, true);
  r.string("authId", l.authId);
  r.dateTime("date", date, true);
  if (!r.ok()) return std::nullopt;
  l.date = *date;
  return l;
}

std::optional<json> parse(std::string_view body, std::string& error) {
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) {
    error = "not valid JSON";
    return std::nullopt;
  }
  return j;
}

template <class T, class F>
std::optional<std::vector<T>> list(std::string_view body, std::string& error, F element) {
  auto j = parse(body, error);
  if (!j) return std::nullopt;
  if (!j->is_array()) {
    error = "expected an array, got " + shown(*j);
    return std::nullopt;
  }
  std::vector<T> out;
  out.reserve(j->size());
  for (size_t i = 0; i < j->size(); ++i) {
    auto v = element((*j)[i], "[" + std::to_string(i) + "]", error);
    if (!v) return std::nullopt;
    out.push_back(std::move(*v));
  }
  return out;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<NukiWebhook> webhookAt(const json& j, const std::string& path, std::string& error) {
  Reader r(j, path, error);
  NukiWebhook w;
  r.int64("id", w.id, true);
  r.string("secret", w.secret, false);
  r.string("webhookUrl", w.url, true);
  if (!r.ok()) return std::nullopt;
  auto it = j.find("webhookFeatures");
  if (it != j.end() && !it->is_null()) {
    const std::string where = r.pathOf("webhookFeatures");
    if (!it->is_array()) {
      error = where + ": expected an array, got " + shown(*it);
      return std::nullopt;
    }
    for (const auto& f : *it) {
      if (!f.is_string()) {
        error = where + ": expected strings, got " + shown(f);
        return std::nullopt;
      }
      w.features.push_back(f.get<std::string>());
    }
  }
  return w;
}

}  // namespace

std::optional<NukiLock> decodeSmartlock(const nlohmann::json& j, std::string& error) {
  return lockAt(j, "", error);
}
std::optional<NukiAuth> decodeAuth(const nlohmann::json& j, std::string& error) {
  return authAt(j, "", error);
}
std::optional<NukiLog> decodeLog(const nlohmann::json& j, std::string& error) {
  return logAt(j, "", error);
}

std::optional<std::vector<NukiLock>> decodeSmartlocks(std::string_view body, std::string& error) {
  return list<NukiLock>(body, error, lockAt);
}
std::optional<std::vector<NukiAuth>> decodeAuths(std::string_view body, std::string& error) {
  return list<NukiAuth>(body, error, authAt);
}
std::optional<std::vector<NukiLog>> decodeLogs(std::string_view body, std::string& error) {
  return list<NukiLog>(body, error, logAt);
}

std::optional<NukiEvent> decodeEvent(std::string_view body, std::string& error) {
  auto j = parse(body, error);
  if (!j) return std::nullopt;
  Reader r(*j, "", error);
  std::string feature;
  uint64_t topId = 0;
  bool hasTopId = j->is_object() && j->contains("smartlockId") && !(*j)["smartlockId"].is_null();
  NukiEvent e;
  r.string("feature", feature, true);
  r.id("smartlockId", topId, false);
  r.boolean("deleted", e.deleted, false);
  if (!r.ok()) return std::nullopt;
  e.smartlockId = topId;

  auto inner = [&](uint64_t innerId) -> bool {
    if (hasTopId && topId != innerId) {
      error = "smartlockId " + std::to_string(topId) + " contradicts the inner object's " +
              std::to_string(innerId);
      return false;
    }
    e.smartlockId = innerId;
    return true;
  };

  if (feature == "DEVICE_STATUS") {
    e.kind = NukiEvent::kStatus;
    NukiLock lock;
    r.id("smartlockId", lock.smartlockId, true);
    r.int32("serverState", lock.serverState, true);
    const json* state = r.object("state", true);
    if (!r.ok()) return std::nullopt;
    Reader s(*state, "state", error);
    s.int32("state", lock.state);
    s.int32("trigger", lock.trigger);
    s.int32("lastAction", lock.lastAction);
    s.int32("batteryCharge", lock.batteryCharge);
    s.boolean("batteryCritical", lock.batteryCritical, false);
    if (!s.ok()) return std::nullopt;
    e.lock = std::move(lock);
  } else if (feature == "DEVICE_MASTERDATA") {
    e.kind = NukiEvent::kMasterData;
    e.lock = lockAt(*j, "", error);
    if (!e.lock) return std::nullopt;
  } else if (feature == "DEVICE_LOGS") {
    e.kind = NukiEvent::kLogs;
    const json* log = r.object("smartlockLog", true);
    if (!r.ok()) return std::nullopt;
    e.log = logAt(*log, "smartlockLog", error);
    if (!e.log || !inner(e.log->smartlockId)) return std::nullopt;
  } else if (feature == "DEVICE_AUTHS") {
    e.kind = NukiEvent::kAuths;
    const json* auth = r.object("smartlockAuth", true);
    if (!r.ok()) return std::nullopt;
    e.auth = authAt(*auth, "smartlockAuth", error);
    if (!e.auth || !inner(e.auth->smartlockId)) return std::nullopt;
  } else {
    e.kind = NukiEvent::kOther;
  }
  return e;
}

std::optional<NukiWebhook> decodeWebhook(const nlohmann::json& j, std::string& error) {
  return webhookAt(j, "", error);
}

std::optional<NukiWebhook> decodeWebhook(std::string_view body, std::string& error) {
  auto j = parse(body, error);
  if (!j) return std::nullopt;
  return webhookAt(*j, "", error);
}

std::optional<std::vector<NukiWebhook>> decodeWebhooks(std::string_view body, std::string& error) {
  return list<NukiWebhook>(body, error, webhookAt);
}

std::string encodeAuthCreate(const NukiAuthFields& f) {
  json j = json::object();
  j["type"] = nuki::kKeypadCode;
  j["name"] = f.name;
  if (f.code) j["code"] = *f.code;
  j["remoteAllowed"] = f.remoteAllowed;
  if (f.allowedFrom) j["allowedFromDate"] = formatRfc3339(*f.allowedFrom);
  if (f.allowedUntil) j["allowedUntilDate"] = formatRfc3339(*f.allowedUntil);
  if (f.allowedWeekDays) j["allowedWeekDays"] = *f.allowedWeekDays;
  if (f.allowedFromTime) j["allowedFromTime"] = *f.allowedFromTime;
  if (f.allowedUntilTime) j["allowedUntilTime"] = *f.allowedUntilTime;
  return dump(j);
}

std::string encodeAuthUpdate(const NukiAuthFields& f) {
  json j = json::object();
  j["name"] = f.name;
  if (f.code) j["code"] = *f.code;
  j["allowedFromDate"] = f.allowedFrom ? json(formatRfc3339(*f.allowedFrom)) : json(nullptr);
  j["allowedUntilDate"] = f.allowedUntil ? json(formatRfc3339(*f.allowedUntil)) : json(nullptr);
  j["allowedWeekDays"] = f.allowedWeekDays.value_or(127);
  j["allowedFromTime"] = f.allowedFromTime.value_or(0);
  j["allowedUntilTime"] = f.allowedUntilTime.value_or(0);
  if (f.enabled) j["enabled"] = *f.enabled;
  j["remoteAllowed"] = f.remoteAllowed;
  return dump(j);
}

std::string encodeWebhook(const std::string& url, const std::vector<std::string>& features) {
  json j = json::object();
  j["webhookUrl"] = url;
  j["webhookFeatures"] = features;
  return dump(j);
}

}  // namespace nukihil::adapter
