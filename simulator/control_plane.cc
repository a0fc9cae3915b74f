// The control plane /sim/v1 (SPEC §4): build the fleet, move the clock, disturb the world.
#include <cctype>
#include <charconv>

#include "simulator/json_input.h"
#include "simulator/nuki_json.h"
#include "simulator/routes.h"

namespace nukihil::sim {

// The fields of POST /sim/v1/smartlocks that fleet files share (README), and a code's.
const std::vector<std::string_view> kLockKeys = {
    "model",    "name",         "batteryCharge",   "syncAt",          "timezone",
    "bridgeId", "motorSeconds", "deliverySeconds", "unlatchDuration", "lngTimeout"};
const std::vector<std::string_view> kCodeKeys = {"name",
                                                 "code",
                                                 "type",
                                                 "allowedFromDate",
                                                 "allowedUntilDate",
                                                 "allowedWeekDays",
                                                 "allowedFromTime",
                                                 "allowedUntilTime",
                                                 "enabled",
                                                 "remoteAllowed",
                                                 "accountUserId"};

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// Parses a control-plane body: a JSON object (an empty body is {}), a syntax error with its
// line and column, and, given `known`, no other keys (a typo is refused with the nearest name).
bool parseJsonBody(const Request& req, json& out, Response& error,
                   const std::vector<std::string_view>* known = nullptr) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    out = json::object();
    return true;
  }
  std::string why;
  auto parsed = parseJsonText(req.body, why);
  if (!parsed) {
    error = controlError(400, "BAD_REQUEST", "the body is not valid JSON: " + why);
    return false;
  }
  out = std::move(*parsed);
  if (!out.is_object()) {
    error = controlError(400, "BAD_REQUEST", "the body must be a JSON object");
    return false;
  }
  if (known) {
    if (auto unknown = unknownField(out, "", *known); !unknown.empty()) {
      error = controlError(400, "BAD_REQUEST", unknown);
      return false;
    }
  }
  return true;
}

size_t codePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

// Names (accounts, locks): 1–255 characters, no control characters (decision; SPEC is silent).
constexpr size_t kMaxNameChars = 255;
bool validName(std::string_view s) {
  if (s.empty() || codePointCount(s) > kMaxNameChars) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// An API token goes into an Authorization header: RFC 6750's b64token, 16–255 characters.
bool validToken(std::string_view s) {
  if (s.size() < 16 || s.size() > 255) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && std::string_view("-._~+/=").find(char(c)) == std::string_view::npos)
      return false;
  return true;
}

// Typed field readers for control-plane bodies; each sets `error` on a wrong type.
struct Body {
  const json& j;
  Response& error;
  bool failed = false;

  std::optional<int64_t> integer(const char* k, int64_t lo, int64_t hi) {
    if (!j.contains(k) || j[k].is_null()) return std::nullopt;
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < lo || j[k].get<int64_t>() > hi)
      return fail<int64_t>(std::string(k) + " must be an integer in " + std::to_string(lo) + ".." +
                           std::to_string(hi));
    return j[k].get<int64_t>();
  }
  std::optional<std::string> string(const char* k) {
    if (!j.contains(k) || j[k].is_null()) return std::nullopt;
    if (!j[k].is_string()) return fail<std::string>(std::string(k) + " must be a string");
    return j[k].get<std::string>();
  }
  std::optional<bool> boolean(const char* k) {
    if (!j.contains(k) || j[k].is_null()) return std::nullopt;
    if (!j[k].is_boolean()) return fail<bool>(std::string(k) + " must be true or false");
    return j[k].get<bool>();
  }
  template <class T>
  std::optional<T> fail(const std::string& why) {
    if (!failed) error = controlError(400, "BAD_REQUEST", why);
    failed = true;
    return std::nullopt;
  }
};

std::optional<uint16_t> parseHhMm(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  int h = 0, m = 0;
  if (std::from_chars(s.data(), s.data() + 2, h).ptr != s.data() + 2 ||
      std::from_chars(s.data() + 3, s.data() + 5, m).ptr != s.data() + 5)
    return std::nullopt;
  if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return uint16_t(h * 60 + m);
}

std::string hhMm(uint16_t minute) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u:%02u", unsigned(minute / 60), unsigned(minute % 60));
  return buf;
}

const char* modelName(Model m) {
  return m == Model::k30 ? "3.0" : "3.0 Pro";
}

json clockJson(Clock& clock) {
  json j;
  j["now"] = formatRfc3339(clock.now());
  j["epochSeconds"] = secondsOf(clock.now());
  j["virtual"] = clock.isVirtual();
  return j;
}

json lockSummary(const World& w, const Lock& l) {
  json j;
  j["smartlockId"] = l.smartlockId;
  j["accountId"] = w.account(l.account).accountId;
  j["name"] = l.name;
  j["model"] = modelName(l.model);
  if (l.model == Model::k30) j["bridgeId"] = w.bridges()[l.bridge].bridgeId;
  j["online"] = w.online(l);
  j["timezone"] = l.settings.timeZone ? l.settings.timeZone->name() : "UTC";
  j["syncAt"] = hhMm(l.settings.syncAtMinute);
  j["nextSync"] =
      l.nextSyncMs == kUnset ? json(nullptr) : json(formatRfc3339(timeFromMillis(l.nextSyncMs)));
  j["motorSeconds"] = l.settings.motorSeconds;
  j["deliverySeconds"] = l.settings.deliverySeconds;
  j["unlatchDuration"] = l.settings.unlatchDuration;
  j["lngTimeout"] = l.settings.lngTimeout;
  return j;
}

json scheduleJson(const Schedule& s) {
  json j = json::object();
  if (s.fromMs != kUnset) j["allowedFromDate"] = formatRfc3339(timeFromMillis(s.fromMs));
  if (s.untilMs != kUnset) j["allowedUntilDate"] = formatRfc3339(timeFromMillis(s.untilMs));
  j["allowedWeekDays"] = s.weekDays;
  j["allowedFromTime"] = s.fromTime;
  j["allowedUntilTime"] = s.untilTime;
  return j;
}

const char* commandName(const Command& c) {
  switch (c.kind) {
    case Command::kMotor:
      return "motor";
    case Command::kAuthCreate:
      return "authCreate";
    case Command::kAuthUpdate:
      return "authUpdate";
    case Command::kAuthDelete:
      return "authDelete";
  }
  return "?";
}

std::optional<Response> lockParam(World& w, const Request& req, uint32_t& index) {
  auto id = parseId(req.param("id"));
  std::optional<uint32_t> found;
  if (id) found = w.lockBySmartlockId(*id);
  if (!found) return controlError(404, "NOT_FOUND", "no smartlock " + req.param("id"));
  index = *found;
  return std::nullopt;
}

// A handler for POST /sim/v1/smartlocks/{id}/…: finds the lock and parses the JSON body
// before calling `f(index, body)`; a bad field read through `Body` answers 400 on its own.
template <class F>
auto lockBodyHandler(World& w, std::vector<std::string_view> known, F f) {
  return [&w, known, f](const Request& req) -> Response {
    uint32_t index;
    if (auto bad = lockParam(w, req, index)) return *bad;
    json body;
    Response error;
    if (!parseJsonBody(req, body, error, &known)) return error;
    Body b{body, error};
    Response out = f(index, b);
    return b.failed ? error : out;
  };
}

}  // namespace

// Shared by the control plane and fleet files: account fields and their checks.
Error accountFieldsFrom(const json& j, std::string& name, std::string& email, std::string& token) {
  for (const char* k : {"name", "email", "apiToken"})
    if (j.contains(k) && !j[k].is_string())
      return Error::make(400, "BAD_REQUEST", std::string(k) + " must be a string");
  if (j.contains("name")) {
    name = j["name"].get<std::string>();
    if (!validName(name))
      return Error::make(400, "BAD_REQUEST",
                         "name must be 1–255 characters without control characters");
  }
  if (j.contains("email")) {
    email = j["email"].get<std::string>();
    if (!email.empty() && (email.size() > 254 || !validName(email)))
      return Error::make(400, "BAD_REQUEST",
                         "email must be at most 254 bytes without control characters");
  }
  if (j.contains("apiToken")) {
    token = j["apiToken"].get<std::string>();
    if (!validToken(token))
      return Error::make(400, "BAD_REQUEST",
                         "apiToken must be 16–255 characters of A–Z a–z 0–9 - . _ ~ + / = "
                         "(a bearer token: no spaces, no line breaks)");
  }
  return Error::none();
}

// Shared by the control plane and fleet files: lock settings from JSON over `base`.
Error lockSettingsFrom(const json& j, LockSettings& s) {
  auto uint = [&](const char* k, uint32_t& out, uint32_t hi) -> Error {
    if (!j.contains(k)) return Error::none();
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < 0 || j[k].get<int64_t>() > hi)
      return Error::make(400, "BAD_REQUEST",
                         std::string(k) + " must be an integer in 0.." + std::to_string(hi));
    out = j[k].get<uint32_t>();
    return Error::none();
  };
  if (auto e = uint("motorSeconds", s.motorSeconds, 3600)) return e;
  if (auto e = uint("deliverySeconds", s.deliverySeconds, 86400)) return e;
  if (auto e = uint("unlatchDuration", s.unlatchDuration, 3600)) return e;
  if (auto e = uint("lngTimeout", s.lngTimeout, 3600)) return e;
  // Nuki's advancedConfig allows only these values (Swagger enums); a lock reports its own.
  if (!validUnlatchDuration(s.unlatchDuration))
    return Error::make(400, "BAD_REQUEST",
                       "unlatchDuration must be one of 1, 3, 5, 7, 10, 15, 20, 30");
  if (!validLngTimeout(s.lngTimeout))
    return Error::make(400, "BAD_REQUEST", "lngTimeout must be one of 5, 10, 15, 20, 30, 45, 60");
  if (j.contains("syncAt")) {
    auto m = j["syncAt"].is_string() ? parseHhMm(j["syncAt"].get<std::string>()) : std::nullopt;
    if (!m) return Error::make(400, "BAD_REQUEST", "syncAt must be \"HH:MM\"");
    s.syncAtMinute = *m;
  }
  if (j.contains("timezone")) {
    const TimeZone* z =
        j["timezone"].is_string() ? TimeZone::find(j["timezone"].get<std::string>()) : nullptr;
    if (!z) return Error::make(400, "BAD_REQUEST", "timezone must be an IANA zone name");
    s.timeZone = z;
  }
  return Error::none();
}

// Shared by the control plane and fleet files: one lock from JSON.
std::pair<uint32_t, Error> lockFrom(World& w, uint32_t account, const json& j) {
  LockSpec spec;
  spec.account = account;
  spec.settings = w.defaults;
  if (j.contains("model")) {
    if (j["model"] == "3.0")
      spec.model = Model::k30;
    else if (j["model"] == "3.0 Pro")
      spec.model = Model::k30Pro;
    else
      return {0, Error::make(400, "BAD_REQUEST", "model must be \"3.0\" or \"3.0 Pro\"")};
  }
  if (j.contains("name")) {
    if (!j["name"].is_string() || !validName(j["name"].get<std::string>()))
      return {0, Error::make(400, "BAD_REQUEST",
                             "name must be a string of 1–255 characters without control "
                             "characters")};
    spec.name = j["name"].get<std::string>();
  }
  if (j.contains("batteryCharge")) {
    if (!j["batteryCharge"].is_number_integer())
      return {0, Error::make(400, "BAD_REQUEST", "batteryCharge must be an integer 0..100")};
    spec.battery = int(j["batteryCharge"].get<int64_t>());
  }
  if (j.contains("bridgeId")) {
    if (!j["bridgeId"].is_number_unsigned())
      return {0, Error::make(400, "BAD_REQUEST", "bridgeId must be a positive integer")};
    spec.bridgeId = j["bridgeId"].get<uint64_t>();
  }
  if (auto e = lockSettingsFrom(j, spec.settings)) return {0, e};
  return w.addLock(spec);
}

// A keypad code from JSON (control plane device-codes, fleet files): Nuki field names.
Error codeInputFrom(const json& j, AuthInput& in) {
  Error e;
  if (!wire::authInput(j, in, e)) return Error::make(400, "BAD_REQUEST", e.message);
  // A time entering through the control plane stays in SPEC's 2000–2037 (SPEC §3).
  for (auto [field, ms] :
       {std::pair{"allowedFromDate", in.fromMs}, std::pair{"allowedUntilDate", in.untilMs}})
    if (ms && *ms != kUnset && (*ms < millisOf(kEarliestTime) || *ms >= millisOf(kLatestTime)))
      return Error::make(400, "BAD_REQUEST",
                         std::string(field) + " must lie between 2000 and 2037 (SPEC §3)");
  return Error::none();
}

void addControlRoutes(Simulator& sim, http::Router& r) {
  World& w = sim.world();
  Clock& clock = sim.clock();

  r.add("GET", "/sim/v1/health", [&sim, &w](const Request&) {
    json j;
    j["status"] = "ok";
    j["now"] = formatRfc3339(sim.clock().now());
    j["seed"] = sim.seed();
    j["accounts"] = w.accounts().size();
    size_t live = 0;
    for (const auto& l : w.locks())
      live += !l.removed;
    j["smartlocks"] = live;
    j["pendingEvents"] = sim.scheduler().size();
    j["pendingWebhookDeliveries"] = sim.webhooks().pendingDeliveries();
    return controlJson(200, j);
  });

  r.add("GET", "/sim/v1/clock",
        [&clock](const Request&) { return controlJson(200, clockJson(clock)); });

  r.add("POST", "/sim/v1/clock/advance",
        http::Handler([&clock](Request& req, http::Respond respond) {
          json body;
          Response error;
          static const std::vector<std::string_view> kKeys = {"seconds", "to"};
          if (!parseJsonBody(req, body, error, &kKeys)) return respond(error);
          if (body.contains("seconds") && body.contains("to"))
            return respond(controlError(400, "BAD_REQUEST",
                                        "give {\"seconds\":N} or {\"to\":\"<RFC 3339>\"}, "
                                        "not both"));
          if (!clock.isVirtual())
            return respond(
                controlError(409, "CLOCK_NOT_VIRTUAL",
                             "the clock runs in real time; start nukisim with --clock virtual"));
          auto& vc = static_cast<VirtualClock&>(clock);
          Time target;
          Body b{body, error};
          if (body.contains("to")) {
            auto to = b.string("to");
            auto t = to ? parseRfc3339(*to) : std::nullopt;
            if (b.failed) return respond(error);
            if (!t)
              return respond(controlError(400, "BAD_REQUEST", "to must be an RFC 3339 date-time"));
            if (*t < clock.now())
              return respond(controlError(400, "BAD_REQUEST", "virtual time only moves forward"));
            target = *t;
          } else {
            auto seconds = b.integer("seconds", 0, int64_t(40) * 366 * 86400);
            if (b.failed) return respond(error);
            if (!seconds)
              return respond(controlError(400, "BAD_REQUEST",
                                          "give {\"seconds\":N} or {\"to\":\"<RFC 3339>\"}"));
            target = clock.now() + std::chrono::seconds(*seconds);
          }
          if (target >= kLatestTime)
            return respond(controlError(400, "BAD_REQUEST", "virtual time stays before 2038"));
          const bool started = vc.advanceTo(
              target, [respond, &clock] { respond(controlJson(200, clockJson(clock))); });
          if (!started)
            respond(controlError(409, "ADVANCE_IN_PROGRESS", "another advance is still running"));
        }));

  r.add("POST", "/sim/v1/accounts", [&w](const Request& req) {
    json body;
    Response error;
    static const std::vector<std::string_view> kKeys = {"name", "email", "apiToken"};
    if (!parseJsonBody(req, body, error, &kKeys)) return error;
    std::string name = "Account", email, token;
    if (auto e = accountFieldsFrom(body, name, email, token)) return controlError(e);
    if (!token.empty() && w.accountByToken(token))
      return controlError(400, "BAD_REQUEST", "apiToken must be unique");
    const uint32_t index = w.addAccount(name, email, token);
    json j;
    j["accountId"] = w.account(index).accountId;
    j["apiToken"] = w.account(index).apiToken;
    return controlJson(201, j);
  });

  r.add("GET", "/sim/v1/accounts", [&w](const Request&) {
    json out = json::array();
    for (const auto& a : w.accounts()) {
      json j;
      j["accountId"] = a.accountId;
      j["name"] = a.name;
      j["email"] = a.email;
      j["apiToken"] = a.apiToken;
      size_t live = 0;
      for (uint32_t i : a.locks)
        live += !w.lock(i).removed;
      j["smartlocks"] = live;
      out.push_back(std::move(j));
    }
    return controlJson(200, out);
  });

  r.add("POST", "/sim/v1/smartlocks", [&w](const Request& req) {
    json body;
    Response error;
    if (!parseJsonBody(req, body, error)) return error;
    static const std::vector<std::string_view> kKeys = [] {
      auto keys = kLockKeys;
      keys.push_back("accountId");
      return keys;
    }();
    if (auto unknown = unknownField(body, "", kKeys); !unknown.empty())
      return controlError(400, "BAD_REQUEST", unknown);
    if (!body.contains("accountId") || !body["accountId"].is_number_integer())
      return controlError(400, "BAD_REQUEST", "accountId (an integer) is required");
    auto account = w.accountById(body["accountId"].get<int64_t>());
    if (!account) return controlError(404, "NOT_FOUND", "no such account");
    auto [index, e] = lockFrom(w, *account, body);
    if (e) return controlError(e);
    json j;
    j["smartlockId"] = w.lock(index).smartlockId;
    if (w.lock(index).model == Model::k30)
      j["bridgeId"] = w.bridges()[w.lock(index).bridge].bridgeId;
    return controlJson(201, j);
  });

  r.add("GET", "/sim/v1/smartlocks", [&w](const Request& req) {
    json out = json::array();
    std::optional<int64_t> accountFilter;
    if (auto a = req.queryParam("accountId")) {
      auto id = parseId(*a);
      if (!id) return controlError(400, "BAD_REQUEST", "accountId must be an integer");
      accountFilter = int64_t(*id);
    }
    for (const auto& l : w.locks()) {
      if (l.removed) continue;
      if (accountFilter && w.account(l.account).accountId != *accountFilter) continue;
      out.push_back(lockSummary(w, l));
    }
    return controlJson(200, out);
  });

  r.add("GET", "/sim/v1/smartlocks/{id}", [&w](const Request& req) {
    uint32_t index;
    if (auto bad = lockParam(w, req, index)) return *bad;
    return controlJson(200, lockSummary(w, w.lock(index)));
  });

  r.add("GET", "/sim/v1/smartlocks/{id}/device", [&w](const Request& req) {
    uint32_t index;
    if (auto bad = lockParam(w, req, index)) return *bad;
    const Lock& l = w.lock(index);
    json j = lockSummary(w, l);
    j["state"] = l.state;
    j["stableState"] = l.stableState;
    j["trigger"] = l.trigger;
    j["lastAction"] = l.lastAction;
    j["batteryCharge"] = l.battery;
    j["batteryCritical"] = l.battery <= 20;
    j["jammed"] = l.jammed;
    j["motorBusy"] = l.motorBusy;
    json queue = json::array();
    for (const auto& c : l.queue) {
      json q;
      q["kind"] = commandName(c);
      if (c.kind == Command::kMotor)
        q["action"] = c.action;
      else {
        q["authId"] = c.target.hex();
        q["operationId"] = c.operation.hex();
      }
      q["readyAt"] = formatRfc3339(timeFromMillis(c.readyMs));
      queue.push_back(std::move(q));
    }
    j["queue"] = std::move(queue);
    json codes = json::array();
    for (const auto& a : l.deviceAuths) {
      if (a->type != kAuthKeypadCode) continue;
      json c = scheduleJson(a->schedule);
      c["id"] = a->id.hex();
      c["code"] = a->code;
      c["name"] = a->name;
      c["enabled"] = a->enabled;
      c["lockCount"] = a->lockCount;
      codes.push_back(std::move(c));
    }
    j["codes"] = std::move(codes);
    j["unreportedLogs"] = l.logs.size() - l.reportedLogs;
    return controlJson(200, j);
  });

  r.add("POST", "/sim/v1/smartlocks/{id}/connectivity",
        lockBodyHandler(w, {"online"}, [&w](uint32_t index, Body& b) {
          auto online = b.boolean("online");
          if (b.failed) return b.error;
          if (!online) return controlError(400, "BAD_REQUEST", "give {\"online\":true|false}");
          w.setOnline(index, *online);
          return controlJson(200, json{{"online", w.online(w.lock(index))}});
        }));

  r.add("POST", "/sim/v1/smartlocks/{id}/battery",
        lockBodyHandler(w, {"charge"}, [&w](uint32_t index, Body& b) {
          auto charge = b.integer("charge", 0, 100);
          if (b.failed) return b.error;
          if (!charge) return controlError(400, "BAD_REQUEST", "give {\"charge\":0..100}");
          w.setBattery(index, *charge);
          return controlJson(200,
                             json{{"batteryCharge", *charge}, {"batteryCritical", *charge <= 20}});
        }));

  r.add("POST", "/sim/v1/smartlocks/{id}/jam",
        lockBodyHandler(w, {"jammed"}, [&w](uint32_t index, Body& b) {
          auto jammed = b.boolean("jammed");
          if (b.failed) return b.error;
          if (!jammed) return controlError(400, "BAD_REQUEST", "give {\"jammed\":true|false}");
          w.setJammed(index, *jammed);
          return controlJson(200, json{{"jammed", *jammed}, {"state", w.lock(index).state}});
        }));

  r.add("POST", "/sim/v1/smartlocks/{id}/keypad",
        lockBodyHandler(w, {"code"}, [&w](uint32_t index, Body& b) {
          // SPEC §4: {"code":N}, a number: what a person types, 0 to 999,999,999 (up to nine
          // digits; a keypad has no more).
          auto code = b.integer("code", 0, 999999999);
          if (b.failed) return b.error;
          if (!code) return controlError(400, "BAD_REQUEST", "give {\"code\":123456}");
          auto out = w.keypad(index, *code);
          json j;
          j["granted"] = out.granted;
          j["reason"] = out.granted ? json(nullptr) : json(out.reason);
          return controlJson(200, j);
        }));

  r.add("POST", "/sim/v1/smartlocks/{id}/manual",
        lockBodyHandler(w, {"action"}, [&w](uint32_t index, Body& b) {
          auto action = b.string("action");
          if (b.failed) return b.error;
          if (!action || (*action != "lock" && *action != "unlock"))
            return controlError(400, "BAD_REQUEST", "give {\"action\":\"lock\"|\"unlock\"}");
          if (auto e = w.manual(index, *action == "lock")) return controlError(e);
          return controlJson(200, json{{"state", w.lock(index).state}});
        }));

  r.add("POST", "/sim/v1/smartlocks/{id}/device-codes",
        lockBodyHandler(w, kCodeKeys, [&w](uint32_t index, Body& b) {
          const json& body = b.j;
          AuthInput in;
          if (auto e = codeInputFrom(body, in)) return controlError(e);
          if (auto e = w.addDeviceCode(index, in)) {
            if (e.status == 400) return controlError(400, "INVALID_CODE", e.message);
            return controlError(e);
          }
          return controlJson(201, json{{"code", *in.code}});
        }));

  r.add("DELETE", "/sim/v1/smartlocks/{id}/device-codes/{code}", [&w](const Request& req) {
    uint32_t index;
    if (auto bad = lockParam(w, req, index)) return *bad;
    auto code = parseId(req.param("code"));
    if (!code) return controlError(400, "BAD_REQUEST", "the code must be digits");
    if (auto e = w.removeDeviceCode(index, int64_t(*code))) return controlError(e);
    return Response::empty(204);
  });

  r.add("POST", "/sim/v1/smartlocks/{id}/sync", [&w](const Request& req) {
    uint32_t index;
    if (auto bad = lockParam(w, req, index)) return *bad;
    const bool ran = w.online(w.lock(index));
    w.syncNow(index);
    return controlJson(200, json{{"synced", ran}});
  });

  r.add("POST", "/sim/v1/faults", [&sim](const Request& req) {
    json body;
    Response error;
    static const std::vector<std::string_view> kKeys = {
        "route", "methods", "method",     "probability", "from",  "until",     "forSeconds",
        "count", "status",  "retryAfter", "latencyMs",   "reset", "resetAfter"};
    if (!parseJsonBody(req, body, error, &kKeys)) return error;
    std::string why;
    auto id = sim.faults().add(body, sim.clock().now(), why);
    if (!id) return controlError(400, "BAD_REQUEST", why);
    for (const auto& f : sim.faults().all())
      if (f.id == *id) return controlJson(201, Faults::toJson(f));
    return controlError(500, "INTERNAL", "fault vanished");
  });

  r.add("GET", "/sim/v1/faults", [&sim](const Request&) {
    json out = json::array();
    for (const auto& f : sim.faults().all())
      out.push_back(Faults::toJson(f));
    return controlJson(200, out);
  });

  r.add("DELETE", "/sim/v1/faults", [&sim](const Request&) {
    sim.faults().clear();
    return Response::empty(204);
  });

  r.add("DELETE", "/sim/v1/faults/{faultId}", [&sim](const Request& req) {
    auto id = parseId(req.param("faultId"));
    if (!id || !sim.faults().remove(int64_t(*id)))
      return controlError(404, "NOT_FOUND", "no such fault");
    return Response::empty(204);
  });

  r.add("POST", "/sim/v1/reset", [&sim](const Request&) {
    sim.reset();
    return controlJson(200, json{{"status", "reset"}, {"seed", sim.seed()}});
  });

  r.add("GET", "/sim/v1/snapshot",
        [&sim](const Request&) { return http::Response::json(200, sim.snapshot().dump()); });

  r.add("PUT", "/sim/v1/snapshot", [&sim](const Request& req) {
    std::string why;
    auto parsed = parseJsonText(req.body, why);
    if (!parsed) return controlError(400, "BAD_REQUEST", "the body is not valid JSON: " + why);
    const json& body = *parsed;
    if (!body.is_object())
      return controlError(400, "BAD_REQUEST", "the body must be a snapshot (a JSON object)");
    if (auto e = sim.restore(body)) return controlError(e);
    return controlJson(200,
                       json{{"status", "restored"}, {"now", formatRfc3339(sim.clock().now())}});
  });

  r.add("POST", "/sim/v1/fleet", [&sim](const Request& req) {
    json body;
    Response error;
    if (!parseJsonBody(req, body, error)) return error;
    if (auto e = sim.loadFleet(body)) return controlError(e);
    return controlJson(200, json{{"status", "loaded"}});
  });

  r.add("GET", "/sim/v1/journal", [&sim](const Request& req) {
    uint64_t since = 0;
    size_t limit = 1000;
    if (auto s = req.queryParam("since")) {
      auto v = parseId(*s);
      if (!v) return controlError(400, "BAD_REQUEST", "since must be a sequence number");
      since = *v;
    }
    if (auto s = req.queryParam("limit")) {
      auto v = parseId(*s);
      if (!v || *v == 0)
        return controlError(400, "BAD_REQUEST", "limit must be a positive integer");
      limit = size_t(std::min<uint64_t>(*v, 100000));
    }
    json entries = json::array();
    for (const auto& e : sim.journal().entries()) {
      if (e.seq < since) continue;
      if (entries.size() >= limit) break;
      json j;
      j["seq"] = e.seq;
      j["at"] = formatRfc3339(timeFromMillis(e.atMs));
      if (e.kind == JournalEntry::kApi) {
        j["type"] = "api";
        j["method"] = e.method;
        j["path"] = e.path;
        j["status"] = e.status;
        if (!e.fault.empty()) j["fault"] = json::parse(e.fault, nullptr, false);
      } else {
        j["type"] = "webhook";
        j["webhookId"] = e.webhookId;
        j["url"] = e.path;
        j["smartlockId"] = e.smartlockId;
        j["feature"] = e.feature;
        j["attempt"] = e.attempt;
        j["status"] = e.status;
      }
      if (!e.error.empty()) j["error"] = e.error;
      entries.push_back(std::move(j));
    }
    const uint64_t next =
        entries.empty() ? sim.journal().nextSeq() : entries.back()["seq"].get<uint64_t>() + 1;
    json out;
    out["entries"] = std::move(entries);
    out["next"] = next;
    return controlJson(200, out);
  });
}

}  // namespace nukihil::sim
