#include "simulator/nuki_json.h"

#include <array>

#include "runtime/http.h"

namespace nukihil::sim::wire {

namespace {

std::string date(int64_t ms) {
  return formatRfc3339(timeFromMillis(ms));
}

const std::array<const char*, 46> kNukiZones = {
    "Africa/Cairo",        "Africa/Lagos",       "Africa/Maputo",
    "Africa/Nairobi",      "America/Anchorage",  "America/Argentina/Buenos_Aires",
    "America/Chicago",     "America/Denver",     "America/Halifax",
    "America/Los_Angeles", "America/Manaus",     "America/Mexico_City",
    "America/New_York",    "America/Phoenix",    "America/Regina",
    "America/Santiago",    "America/Sao_Paulo",  "America/St_Johns",
    "Asia/Bangkok",        "Asia/Dubai",         "Asia/Hong_Kong",
    "Asia/Jerusalem",      "Asia/Karachi",       "Asia/Kathmandu",
    "Asia/Kolkata",        "Asia/Riyadh",        "Asia/Seoul",
    "Asia/Shanghai",       "Asia/Tehran",        "Asia/Tokyo",
    "Asia/Yangon",         "Australia/Adelaide", "Australia/Brisbane",
    "Australia/Darwin",    "Australia/Hobart",   "Australia/Perth",
    "Australia/Sydney",    "Europe/Berlin",      "Europe/Helsinki",
    "Europe/Istanbul",     "Europe/London",      "Europe/Moscow",
    "Pacific/Auckland",    "Pacific/Guam",       "Pacific/Honolulu",
    "Pacific/Pago_Pago",
};

}  // namespace

int nukiTimezoneId(const std::string& iana) {
  for (size_t i = 0; i < kNukiZones.size(); ++i)
    if (iana == kNukiZones[i]) return int(i);
  return 40;  // (decision) zones outside Nuki's table, UTC included, report Europe/London
}

Json smartlockState(const Lock& l) {
  Json s;
  s["mode"] = 2;
  s["state"] = l.webState;
  s["trigger"] = l.webTrigger;
  s["lastAction"] = l.webLastAction;
  s["batteryCritical"] = l.webBattery <= 20;
  s["batteryCharging"] = false;
  s["batteryCharge"] = l.webBattery;
  s["keypadBatteryCritical"] = false;
  s["doorsensorBatteryCritical"] = false;
  s["doorState"] = 0;
  s["ringToOpenTimer"] = 0;
  s["nightMode"] = false;
  return s;
}

const std::string& smartlock(const World& w, const Lock& l) {
  if (!l.cachedJson.empty()) return l.cachedJson;
  const bool pro = l.model == Model::k30Pro;
  const std::string zone = l.settings.timeZone ? l.settings.timeZone->name() : "UTC";
  Json j;
  j["smartlockId"] = l.smartlockId;
  j["accountId"] = w.account(l.account).accountId;
  j["type"] = 4;
  j["authId"] = l.apiAuthId;
  j["name"] = l.name;
  j["favorite"] = l.favorite;
  Json c;
  c["name"] = l.name;
  c["latitude"] = 47.0707;
  c["longitude"] = 15.4395;
  c["autoUnlatch"] = false;
  c["liftUpHandle"] = false;
  c["pairingEnabled"] = true;
  c["buttonEnabled"] = true;
  c["ledEnabled"] = true;
  c["ledBrightness"] = 3;
  c["timezoneOffset"] = 0;
  c["daylightSavingMode"] = 0;
  c["fobPaired"] = false;
  c["fobAction1"] = 1;
  c["fobAction2"] = 2;
  c["fobAction3"] = 0;
  c["singleLock"] = false;
  c["advertisingMode"] = 0;
  c["keypadPaired"] = true;
  c["keypad2Paired"] = false;
  c["homekitState"] = 0;
  c["matterState"] = 0;
  c["timezoneId"] = nukiTimezoneId(zone);
  c["deviceType"] = 4;
  c["wifiEnabled"] = pro;
  j["config"] = std::move(c);
  Json a;
  a["totalDegrees"] = 970;
  a["singleLockedPositionOffsetDegrees"] = 0;
  a["unlockedToLockedTransitionOffsetDegrees"] = 0;
  a["unlockedPositionOffsetDegrees"] = 0;
  a["lockedPositionOffsetDegrees"] = 0;
  a["detachedCylinder"] = false;
  a["batteryType"] = 1;
  a["autoLock"] = false;
  a["autoLockTimeout"] = 300;
  a["autoUpdateEnabled"] = false;
  a["lngTimeout"] = l.settings.lngTimeout;
  a["singleButtonPressAction"] = 1;
  a["doubleButtonPressAction"] = 5;
  a["automaticBatteryTypeDetection"] = true;
  a["unlatchDuration"] = l.settings.unlatchDuration;
  j["advancedConfig"] = std::move(a);
  j["webConfig"] = Json{{"batteryWarningPerMailEnabled", false}};
  j["state"] = smartlockState(l);
  j["firmwareVersion"] = pro ? 199175 : 197894;
  j["hardwareVersion"] = pro ? 1291 : 1289;
  j["serverState"] = l.webOnline ? 0 : 4;
  j["adminPinState"] = 0;
  j["virtualDevice"] = false;
  j["creationDate"] = date(l.creationMs);
  j["updateDate"] = date(l.updateMs);
  l.cachedJson = j.dump();
  return l.cachedJson;
}

Json auth(const World& w, const Lock& l, const Auth& a) {
  Json j;
  j["id"] = a.id.hex();
  j["smartlockId"] = l.smartlockId;
  j["authId"] = a.authId;
  if (a.type == kAuthKeypadCode) j["code"] = a.code;
  j["type"] = a.type;
  j["name"] = a.name;
  j["enabled"] = a.enabled;
  j["remoteAllowed"] = a.remoteAllowed;
  j["lockCount"] = a.lockCount;
  if (a.schedule.fromMs != kUnset) j["allowedFromDate"] = date(a.schedule.fromMs);
  if (a.schedule.untilMs != kUnset) j["allowedUntilDate"] = date(a.schedule.untilMs);
  j["allowedWeekDays"] = a.schedule.weekDays;
  j["allowedFromTime"] = a.schedule.fromTime;
  j["allowedUntilTime"] = a.schedule.untilTime;
  if (a.lastActiveMs != kUnset) j["lastActiveDate"] = date(a.lastActiveMs);
  j["creationDate"] = date(a.creationMs);
  j["updateDate"] = date(a.updateMs);
  if (const ObjectId* op = w.operationFor(l, a.id)) j["operationId"] = op->hex();
  return j;
}

Json log(const Lock& l, const LogEntry& e) {
  Json j;
  j["id"] = e.id.hex();
  j["smartlockId"] = l.smartlockId;
  j["deviceType"] = 0;
  if (!e.authId.empty()) j["authId"] = e.authId.hex();
  j["name"] = e.name;
  j["action"] = e.action;
  j["trigger"] = e.trigger;
  j["state"] = e.state;
  j["autoUnlock"] = false;
  j["date"] = date(e.dateMs);
  j["source"] = e.source;
  return j;
}

Json account(const Account& a) {
  Json j;
  j["accountId"] = a.accountId;
  j["type"] = 0;
  j["email"] = a.email;
  j["emailVerified"] = true;
  j["name"] = a.name;
  j["language"] = "en";
  j["creationDate"] = date(a.creationMs);
  j["updateDate"] = date(a.creationMs);
  j["shsSubscriptionType"] = "API_ONLY";
  j["b2bActive"] = false;
  return j;
}

std::string deviceStatusBody(const Lock& l) {
  Json j;
  j["feature"] = "DEVICE_STATUS";
  j["smartlockId"] = l.smartlockId;
  j["state"] = smartlockState(l);
  j["serverState"] = l.webOnline ? 0 : 4;
  j["adminPinState"] = 0;
  return j.dump();
}

std::string deviceLogBody(const Lock& l, const LogEntry& e) {
  Json j;
  j["feature"] = "DEVICE_LOGS";
  j["smartlockLog"] = log(l, e);
  return j.dump();
}

std::string deviceAuthBody(const World& w, const Lock& l, const Auth& a, bool deleted) {
  Json j;
  j["feature"] = "DEVICE_AUTHS";
  j["deleted"] = deleted;
  j["smartlockAuth"] = auth(w, l, a);
  return j.dump();
}

std::string masterDataBody(const World& w, const Lock& l) {
  const bool pro = l.model == Model::k30Pro;
  Json j;
  j["feature"] = "DEVICE_MASTERDATA";
  j["deleted"] = false;
  j["smartlockId"] = l.smartlockId;
  j["accountId"] = w.account(l.account).accountId;
  j["type"] = 4;
  j["authId"] = l.apiAuthId;
  j["name"] = l.name;
  j["favorite"] = l.favorite;
  j["firmwareVersion"] = pro ? 199175 : 197894;
  j["hardwareVersion"] = pro ? 1291 : 1289;
  j["serverState"] = l.webOnline ? 0 : 4;
  j["adminPinState"] = 0;
  j["creationDate"] = date(l.creationMs);
  j["updateDate"] = date(l.updateMs);
  return j.dump();
}

std::string detailMessage(std::string_view message) {
  Json j;
  j["detailMessage"] = message;
  j["stackTrace"] = Json::array();
  j["suppressedExceptions"] = Json::array();
  // A message may echo a path or a value the client sent, in any bytes: invalid UTF-8 is
  // replaced (U+FFFD), never a reason for the answer to fail.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string restletStatus(int status) {
  // Restlet's description and reference of the statuses nukisim sends (422, and 429/5xx when a
  // fault is injected); any other status gets its standard reason phrase.
  struct Known {
    int status;
    const char* reasonPhrase;
    const char* description;
    const char* uri;
  };
  static constexpr Known kKnown[] = {
      {422, "Unprocessable Entity",
       "The server understands the content type of the request entity and the syntax of the "
       "request entity is correct but was unable to process the contained instructions",
       "http://www.webdav.org/specs/rfc2518.html#STATUS_422"},
      {429, "Too Many Requests", "The user has sent too many requests in a given amount of time",
       "https://tools.ietf.org/html/rfc6585#section-4"},
      {500, "Internal Server Error",
       "The server encountered an unexpected condition which prevented it from fulfilling the "
       "request",
       "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1"},
      {501, "Not Implemented",
       "The server does not support the functionality required to fulfill the request",
       "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.2"},
      {502, "Bad Gateway",
       "The server, while acting as a gateway or proxy, received an invalid response from the "
       "upstream server it accessed in attempting to fulfill the request",
       "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.3"},
      {503, "Service Unavailable",
       "The server is currently unable to handle the request due to a temporary overloading or "
       "maintenance of the server",
       "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4"},
      {504, "Gateway Timeout",
       "The server, while acting as a gateway or proxy, could not get a response in time from "
       "the upstream server that it accessed in attempting to complete the request",
       "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.5"},
  };
  Json j;
  j["code"] = status;
  for (const auto& k : kKnown) {
    if (k.status != status) continue;
    j["description"] = k.description;
    j["homeRef"] = "/";
    j["reasonPhrase"] = k.reasonPhrase;
    j["uri"] = k.uri;
    return j.dump();
  }
  const std::string phrase(http::reasonPhrase(status));
  j["description"] = phrase;
  j["homeRef"] = "/";
  j["reasonPhrase"] = phrase;
  j["uri"] = "https://www.rfc-editor.org/rfc/rfc9110#status." + std::to_string(status);
  return j.dump();
}

std::string lockedBody() {
  return R"({"stackTrace":[],"suppressedExceptions":[]})";
}

std::string shown(const nlohmann::json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

bool parseBody(const std::string& body, nlohmann::json& out, Error& error, bool emptyIsObject) {
  auto blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) {
    if (emptyIsObject) {
      out = nlohmann::json::object();
      return true;
    }
    error = Error::badParam("body", "");
    return false;
  }
  out = nlohmann::json::parse(body, nullptr, false);
  if (out.is_discarded()) {
    error = Error::badParam("body", body.size() > 64 ? body.substr(0, 61) + "..." : body);
    return false;
  }
  return true;
}

bool Fields::int32(const char* name, std::optional<int64_t>& out, Error& error) const {
  if (!int64(name, out, error)) return false;
  if (out && (*out < INT32_MIN || *out > INT32_MAX)) {
    error = Error::badParam(name, std::to_string(*out));
    return false;
  }
  return true;
}

bool Fields::int64(const char* name, std::optional<int64_t>& out, Error& error) const {
  out.reset();
  auto it = o_.find(name);
  if (it == o_.end() || it->is_null()) return true;
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)) {
      error = Error::badParam(name, shown(*it));
      return false;
    }
    out = it->get<int64_t>();
    return true;
  }
  error = Error::badParam(name, shown(*it));
  return false;
}

bool Fields::boolean(const char* name, std::optional<bool>& out, Error& error) const {
  out.reset();
  auto it = o_.find(name);
  if (it == o_.end() || it->is_null()) return true;
  if (!it->is_boolean()) {
    error = Error::badParam(name, shown(*it));
    return false;
  }
  out = it->get<bool>();
  return true;
}

bool Fields::string(const char* name, std::optional<std::string>& out, Error& error) const {
  out.reset();
  auto it = o_.find(name);
  if (it == o_.end() || it->is_null()) return true;
  if (!it->is_string()) {
    error = Error::badParam(name, shown(*it));
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool Fields::dateTime(const char* name, std::optional<int64_t>& out, Error& error) const {
  out.reset();
  auto it = o_.find(name);
  if (it == o_.end()) return true;
  if (it->is_null()) {
    out = kUnset;
    return true;
  }
  if (!it->is_string()) {
    error = Error::badParam(name, shown(*it));
    return false;
  }
  auto t = parseRfc3339(it->get<std::string>());
  // SPEC: every time the simulator takes lies in 2000–2037 (a year 0000 date would be kept,
  // and then refused by the snapshot restore of the world holding it).
  if (!t || *t < kEarliestTime || *t >= kLatestTime) {
    error = Error::badParam(name, it->get<std::string>());
    return false;
  }
  out = millisOf(*t);
  return true;
}

bool authInput(const nlohmann::json& o, AuthInput& in, Error& error) {
  if (!o.is_object()) {
    error = Error::badParam("body", shown(o));
    return false;
  }
  Fields f(o);
  return f.string("name", in.name, error) && f.int32("code", in.code, error) &&
         f.dateTime("allowedFromDate", in.fromMs, error) &&
         f.dateTime("allowedUntilDate", in.untilMs, error) &&
         f.int32("allowedWeekDays", in.weekDays, error) &&
         f.int32("allowedFromTime", in.fromTime, error) &&
         f.int32("allowedUntilTime", in.untilTime, error) &&
         f.boolean("enabled", in.enabled, error) &&
         f.boolean("remoteAllowed", in.remoteAllowed, error) && f.int32("type", in.type, error) &&
         f.int32("accountUserId", in.accountUserId, error);
}

}  // namespace nukihil::sim::wire
