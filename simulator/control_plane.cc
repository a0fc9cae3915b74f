// The control plane /sim/v1 (SPEC §4): build the fleet, move the clock, disturb the world.
#include <cctype>
#include <charconv>

#include "runtime/json_input.h"
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

// A control-plane request body, read once (SPEC §4): a JSON object (an empty body is {}), a
// syntax error with its line and column, only the keys the route names (a typo is refused with
// the nearest name), and typed getters for its fields. The first problem, of the text or of a
// field, is the route's answer: a 400 BAD_REQUEST, naming the field.
class Body {
 public:
  // Any key: the reader checks them itself (a fleet file).
  explicit Body(const Request& req) { parse(req.body, nullptr); }
  // Only `known` keys.
  Body(const Request& req, const std::vector<std::string_view>& known) { parse(req.body, &known); }
  // A snapshot (PUT /sim/v1/snapshot): any key, and an empty body is no snapshot.
  static Body snapshot(const Request& req) {
    Body b;
    b.parse(req.body, nullptr, /*emptyIsObject=*/false, "a snapshot (a JSON object)");
    return b;
  }

  // False once the text or a field was wrong; error() is then the answer.
  explicit operator bool() const { return !failed_; }
  const Response& error() const { return error_; }
  const json& value() const { return j_; }
  bool has(const char* key) const { return j_.contains(key); }

  // A field absent or null is nullopt; one of another type (or out of range) fails the body.
  std::optional<int64_t> integer(const char* key, int64_t lo, int64_t hi) {
    const json* v = field(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < lo || v->get<int64_t>() > hi)
      return fail(std::string(key) + " must be an integer in " + std::to_string(lo) + ".." +
                  std::to_string(hi));
    return v->get<int64_t>();
  }
  std::optional<std::string> string(const char* key) {
    const json* v = field(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) return fail(std::string(key) + " must be a string");
    return v->get<std::string>();
  }
  std::optional<bool> boolean(const char* key) {
    const json* v = field(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) return fail(std::string(key) + " must be true or false");
    return v->get<bool>();
  }

 private:
  Body() = default;

  void parse(const std::string& text, const std::vector<std::string_view>* known,
             bool emptyIsObject = true, std::string_view object = "a JSON object") {
    if (emptyIsObject && text.find_first_not_of(" \t\r\n") == std::string::npos) return;
    std::string why;
    auto parsed = parseJsonText(text, why);
    if (!parsed) return void(fail("the body is not valid JSON: " + why));
    j_ = std::move(*parsed);
    if (!j_.is_object()) return void(fail("the body must be " + std::string(object)));
    if (known)
      if (auto unknown = unknownField(j_, "", *known); !unknown.empty()) fail(unknown);
  }
  const json* field(const char* key) const {
    if (failed_) return nullptr;
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  // Records the first problem only.
  std::nullopt_t fail(const std::string& why) {
    if (!failed_) error_ = controlError(400, "BAD_REQUEST", why);
    failed_ = true;
    return std::nullopt;
  }

  json j_ = json::object();
  Response error_;
  bool failed_ = false;
};

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

// The lock's wall clock now, "YYYY-MM-DDTHH:MM".
std::string localTimeOf(const World& w, const Lock& l) {
  const TimeZone& zone = l.settings.timeZone ? *l.settings.timeZone : TimeZone::utc();
  const LocalTime t = zone.toLocal(w.now());
  // The local calendar day and time of day, written as if they were a UTC instant.
  return formatRfc3339(timeFromMillis(t.day * 86400000 + t.millisOfDay)).substr(0, 16);
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
  // What a glance at the lock tells (the dashboard's cards); the device view says more.
  j["state"] = l.state;
  j["batteryCharge"] = l.battery;
  j["jammed"] = l.jammed;
  j["localTime"] = localTimeOf(w, l);
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

const char* commandName(Command::Kind kind) {
  switch (kind) {
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

// A keypad code as the device view shows it, on the lock or in Nuki Web's view.
json codeJson(const Auth& a) {
  json c = scheduleJson(a.schedule);
  c["id"] = a.id.hex();
  c["code"] = a.code;
  c["name"] = a.name;
  c["enabled"] = a.enabled;
  c["updatedMs"] = a.updateMs;
  return c;
}

std::optional<Response> lockParam(World& w, const Request& req, uint32_t& index) {
  auto id = parseId(req.param("id"));
  std::optional<uint32_t> found;
  if (id) found = w.lockBySmartlockId(*id);
  if (!found) return controlError(404, "NOT_FOUND", "no smartlock " + req.param("id"));
  index = *found;
  return std::nullopt;
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

namespace {

// The handlers of /sim/v1, one per route, in the order of addControlRoutes' table.

Response getHealth(Simulator& sim, const Request&) {
  const World& w = sim.world();
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
}

Response getClock(Simulator& sim, const Request&) {
  return controlJson(200, clockJson(sim.clock()));
}

// Answers once the virtual clock has reached the target and the world is quiet again.
void postAdvance(Simulator& sim, const Request& req, http::Respond respond) {
  Clock& clock = sim.clock();
  Body b(req, {"seconds", "to"});
  if (!b) return respond(b.error());
  if (b.has("seconds") && b.has("to"))
    return respond(controlError(400, "BAD_REQUEST",
                                "give {\"seconds\":N} or {\"to\":\"<RFC 3339>\"}, not both"));
  if (!clock.isVirtual())
    return respond(controlError(409, "CLOCK_NOT_VIRTUAL",
                                "the clock runs in real time; start nukisim with --clock virtual"));
  auto& vc = static_cast<VirtualClock&>(clock);
  Time target;
  if (b.has("to")) {
    auto to = b.string("to");
    auto t = to ? parseRfc3339(*to) : std::nullopt;
    if (!b) return respond(b.error());
    if (!t) return respond(controlError(400, "BAD_REQUEST", "to must be an RFC 3339 date-time"));
    if (*t < clock.now())
      return respond(controlError(400, "BAD_REQUEST", "virtual time only moves forward"));
    target = *t;
  } else {
    auto seconds = b.integer("seconds", 0, int64_t(40) * 366 * 86400);
    if (!b) return respond(b.error());
    if (!seconds)
      return respond(
          controlError(400, "BAD_REQUEST", "give {\"seconds\":N} or {\"to\":\"<RFC 3339>\"}"));
    target = clock.now() + std::chrono::seconds(*seconds);
  }
  if (target >= kLatestTime)
    return respond(controlError(400, "BAD_REQUEST", "virtual time stays before 2038"));
  const bool started =
      vc.advanceTo(target, [respond, &clock] { respond(controlJson(200, clockJson(clock))); });
  if (!started)
    respond(controlError(409, "ADVANCE_IN_PROGRESS", "another advance is still running"));
}

Response postAccount(Simulator& sim, const Request& req) {
  World& w = sim.world();
  Body b(req, {"name", "email", "apiToken"});
  if (!b) return b.error();
  std::string name = "Account", email, token;
  if (auto e = accountFieldsFrom(b.value(), name, email, token)) return controlError(e);
  if (!token.empty() && w.accountByToken(token))
    return controlError(400, "BAD_REQUEST", "apiToken must be unique");
  const uint32_t index = w.addAccount(name, email, token);
  json j;
  j["accountId"] = w.account(index).accountId;
  j["apiToken"] = w.account(index).apiToken;
  return controlJson(201, j);
}

Response getAccounts(Simulator& sim, const Request&) {
  const World& w = sim.world();
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
}

Response postSmartlock(Simulator& sim, const Request& req) {
  World& w = sim.world();
  static const std::vector<std::string_view> kKeys = [] {
    auto keys = kLockKeys;
    keys.push_back("accountId");
    return keys;
  }();
  Body b(req, kKeys);
  if (!b) return b.error();
  const json& body = b.value();
  if (!body.contains("accountId") || !body["accountId"].is_number_integer())
    return controlError(400, "BAD_REQUEST", "accountId (an integer) is required");
  auto account = w.accountById(body["accountId"].get<int64_t>());
  if (!account) return controlError(404, "NOT_FOUND", "no such account");
  auto [index, e] = lockFrom(w, *account, body);
  if (e) return controlError(e);
  json j;
  j["smartlockId"] = w.lock(index).smartlockId;
  if (w.lock(index).model == Model::k30) j["bridgeId"] = w.bridges()[w.lock(index).bridge].bridgeId;
  return controlJson(201, j);
}

std::string lowerCase(std::string s) {
  for (char& c : s)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A search matches the lock's or its account's name (ASCII letters in any case, anywhere in
// it), or the start of the smartlockId, account id, bridge id or (four characters or more) the
// nukiId in hex.
bool matches(const World& w, const Lock& l, const std::string& q) {
  const std::string& name = l.name;
  auto it = std::search(name.begin(), name.end(), q.begin(), q.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
  if (it != name.end()) return true;
  auto startsWith = [&q](const std::string& s) { return s.rfind(q, 0) == 0; };
  const std::string& account = w.account(l.account).name;
  if (std::search(account.begin(), account.end(), q.begin(), q.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      }) != account.end())
    return true;
  if (startsWith(std::to_string(l.smartlockId))) return true;
  if (startsWith(std::to_string(w.account(l.account).accountId))) return true;
  if (l.model == Model::k30 && startsWith(std::to_string(w.bridges()[l.bridge].bridgeId)))
    return true;
  // The nukiId in hex only from four characters on: "1" would match most of the fleet.
  if (q.size() < 4) return false;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%x", l.nukiId);
  return startsWith(hex);
}

Response getSmartlocks(Simulator& sim, const Request& req) {
  const World& w = sim.world();
  json out = json::array();
  std::optional<int64_t> accountFilter;
  if (auto a = req.queryParam("accountId")) {
    auto id = parseId(*a);
    if (!id) return controlError(400, "BAD_REQUEST", "accountId must be an integer");
    accountFilter = int64_t(*id);
  }
  // Paged and searched (the dashboard's fleet of 100,000): the page in `out`, the number of
  // matches in X-Total-Count.
  uint64_t offset = 0, limit = UINT64_MAX;
  if (auto o = req.queryParam("offset")) {
    auto v = parseId(*o);
    if (!v) return controlError(400, "BAD_REQUEST", "offset must be a non-negative integer");
    offset = *v;
  }
  if (auto n = req.queryParam("limit")) {
    auto v = parseId(*n);
    if (!v || *v == 0 || *v > 1000)
      return controlError(400, "BAD_REQUEST", "limit must be an integer from 1 to 1000");
    limit = *v;
  }
  const std::string q = lowerCase(req.queryParam("q").value_or(""));
  uint64_t total = 0;
  for (const auto& l : w.locks()) {
    if (l.removed) continue;
    if (accountFilter && w.account(l.account).accountId != *accountFilter) continue;
    if (!q.empty() && !matches(w, l, q)) continue;
    if (total++ < offset || out.size() >= limit) continue;
    out.push_back(lockSummary(w, l));
  }
  Response r = controlJson(200, out);
  r.headers.emplace_back("X-Total-Count", std::to_string(total));
  return r;
}

Response getSmartlock(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  return controlJson(200, lockSummary(w, w.lock(index)));
}

Response getDevice(Simulator& sim, const Request& req) {
  World& w = sim.world();
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
    q["kind"] = commandName(c.kind);
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
    json c = codeJson(*a);
    c["lockCount"] = a->lockCount;
    c["createdMs"] = a->creationMs;
    codes.push_back(std::move(c));
  }
  j["codes"] = std::move(codes);
  // Beside the device truth, what Nuki Web shows (the codes at the last sync) and the changes
  // it accepted and has not synced yet (queued for the lock, or delivered and waiting for the
  // daily sync).
  json web = json::array();
  for (const auto& a : l.webView) {
    if (a->type != kAuthKeypadCode) continue;
    web.push_back(codeJson(*a));
  }
  j["webCodes"] = std::move(web);
  json pending = json::array();
  for (const auto& p : l.pending) {
    json c;
    c["kind"] = commandName(p.kind);
    c["authId"] = p.target.hex();
    c["operationId"] = p.operation.hex();
    c["delivered"] = p.delivered;
    if (p.auth) {
      json a = scheduleJson(p.auth->schedule);
      a["code"] = p.auth->code;
      a["name"] = p.auth->name;
      a["enabled"] = p.auth->enabled;
      c["auth"] = std::move(a);
    }
    pending.push_back(std::move(c));
  }
  j["pendingChanges"] = std::move(pending);
  json tries = json::array();
  for (const auto& t : l.keypadTries)
    tries.push_back({{"at", formatRfc3339(timeFromMillis(t.atMs))},
                     {"code", t.code},
                     {"granted", t.granted},
                     {"reason", t.granted ? json(nullptr) : json(t.reason)}});
  j["keypadTries"] = std::move(tries);
  // The newest log entries first, as Nuki's SmartlockLog, and whether Nuki Web has them yet.
  json logs = json::array();
  const size_t shownLogs = 30;
  for (size_t i = l.logs.size(); i > 0 && logs.size() < shownLogs; --i) {
    json e = json::parse(wire::log(l, l.logs[i - 1]).dump());
    e["reported"] = i - 1 < l.reportedLogs;
    logs.push_back(std::move(e));
  }
  j["logs"] = std::move(logs);
  j["unreportedLogs"] = l.logs.size() - l.reportedLogs;
  return controlJson(200, j);
}

Response postConnectivity(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  Body b(req, {"online"});
  auto online = b.boolean("online");
  if (!b) return b.error();
  if (!online) return controlError(400, "BAD_REQUEST", "give {\"online\":true|false}");
  w.setOnline(index, *online);
  return controlJson(200, json{{"online", w.online(w.lock(index))}});
}

Response postBattery(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  Body b(req, {"charge"});
  auto charge = b.integer("charge", 0, 100);
  if (!b) return b.error();
  if (!charge) return controlError(400, "BAD_REQUEST", "give {\"charge\":0..100}");
  w.setBattery(index, *charge);
  return controlJson(200, json{{"batteryCharge", *charge}, {"batteryCritical", *charge <= 20}});
}

Response postJam(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  Body b(req, {"jammed"});
  auto jammed = b.boolean("jammed");
  if (!b) return b.error();
  if (!jammed) return controlError(400, "BAD_REQUEST", "give {\"jammed\":true|false}");
  w.setJammed(index, *jammed);
  return controlJson(200, json{{"jammed", *jammed}, {"state", w.lock(index).state}});
}

Response postKeypad(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  // SPEC §4: {"code":N}, a number: what a person types, 0 to 999,999,999 (up to nine digits; a
  // keypad has no more).
  Body b(req, {"code"});
  auto code = b.integer("code", 0, 999999999);
  if (!b) return b.error();
  if (!code) return controlError(400, "BAD_REQUEST", "give {\"code\":123456}");
  auto out = w.keypad(index, *code);
  json j;
  j["granted"] = out.granted;
  j["reason"] = out.granted ? json(nullptr) : json(out.reason);
  return controlJson(200, j);
}

Response postManual(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  Body b(req, {"action"});
  auto action = b.string("action");
  if (!b) return b.error();
  if (!action || (*action != "lock" && *action != "unlock"))
    return controlError(400, "BAD_REQUEST", "give {\"action\":\"lock\"|\"unlock\"}");
  if (auto e = w.manual(index, *action == "lock")) return controlError(e);
  return controlJson(200, json{{"state", w.lock(index).state}});
}

Response postDeviceCode(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  Body b(req, kCodeKeys);
  if (!b) return b.error();
  AuthInput in;
  if (auto e = codeInputFrom(b.value(), in)) return controlError(e);
  if (auto e = w.addDeviceCode(index, in)) {
    if (e.status == 400) return controlError(400, "INVALID_CODE", e.message);
    return controlError(e);
  }
  return controlJson(201, json{{"code", *in.code}});
}

Response deleteDeviceCode(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  auto code = parseId(req.param("code"));
  if (!code) return controlError(400, "BAD_REQUEST", "the code must be digits");
  if (auto e = w.removeDeviceCode(index, int64_t(*code))) return controlError(e);
  return Response::empty(204);
}

Response postSync(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockParam(w, req, index)) return *bad;
  const bool ran = w.online(w.lock(index));
  w.syncNow(index);
  return controlJson(200, json{{"synced", ran}});
}

Response postFault(Simulator& sim, const Request& req) {
  static const std::vector<std::string_view> kKeys = {
      "route", "methods", "method",     "probability", "from",  "until",     "forSeconds",
      "count", "status",  "retryAfter", "latencyMs",   "reset", "resetAfter"};
  Body b(req, kKeys);
  if (!b) return b.error();
  std::string why;
  auto id = sim.faults().add(b.value(), sim.clock().now(), why);
  if (!id) return controlError(400, "BAD_REQUEST", why);
  for (const auto& f : sim.faults().all())
    if (f.id == *id) return controlJson(201, Faults::toJson(f));
  return controlError(500, "INTERNAL", "fault vanished");
}

Response getFaults(Simulator& sim, const Request&) {
  json out = json::array();
  for (const auto& f : sim.faults().all())
    out.push_back(Faults::toJson(f));
  return controlJson(200, out);
}

Response deleteFaults(Simulator& sim, const Request&) {
  sim.faults().clear();
  return Response::empty(204);
}

Response deleteFault(Simulator& sim, const Request& req) {
  auto id = parseId(req.param("faultId"));
  if (!id || !sim.faults().remove(int64_t(*id)))
    return controlError(404, "NOT_FOUND", "no such fault");
  return Response::empty(204);
}

Response postReset(Simulator& sim, const Request&) {
  sim.reset();
  return controlJson(200, json{{"status", "reset"}, {"seed", sim.seed()}});
}

Response getSnapshot(Simulator& sim, const Request&) {
  return http::Response::json(200, sim.snapshot().dump());
}

Response putSnapshot(Simulator& sim, const Request& req) {
  Body b = Body::snapshot(req);
  if (!b) return b.error();
  if (auto e = sim.restore(b.value())) return controlError(e);
  return controlJson(200, json{{"status", "restored"}, {"now", formatRfc3339(sim.clock().now())}});
}

Response postFleet(Simulator& sim, const Request& req) {
  Body b(req);  // loadFleet names the keys a fleet takes
  if (!b) return b.error();
  if (auto e = sim.loadFleet(b.value())) return controlError(e);
  return controlJson(200, json{{"status", "loaded"}});
}

json journalEntryJson(const JournalEntry& e) {
  json j;
  j["seq"] = e.seq;
  j["at"] = formatRfc3339(timeFromMillis(e.atMs));
  if (e.kind == JournalEntry::kApi) {
    j["type"] = "api";
    j["method"] = e.method;
    j["path"] = e.path;
    j["status"] = e.status;
    if (!e.fault.empty()) j["fault"] = json::parse(e.fault, nullptr, false);
    if (!e.requestId.empty()) j["requestId"] = e.requestId;
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
  return j;
}

Response getJournal(Simulator& sim, const Request& req) {
  uint64_t since = 0;
  size_t limit = 1000;
  if (auto s = req.queryParam("since")) {
    auto v = parseId(*s);
    if (!v) return controlError(400, "BAD_REQUEST", "since must be a sequence number");
    since = *v;
  }
  if (auto s = req.queryParam("limit")) {
    auto v = parseId(*s);
    if (!v || *v == 0) return controlError(400, "BAD_REQUEST", "limit must be a positive integer");
    limit = size_t(std::min<uint64_t>(*v, 100000));
  }
  // `smartlockId`: only what concerns that lock (its webhooks, the API calls on its path as
  // written; batch calls of the account are not its); `last=N`: the newest N of what matches,
  // still in order (instead of the first `limit`).
  std::optional<uint64_t> lockFilter;
  if (auto s = req.queryParam("smartlockId")) {
    lockFilter = parseId(*s);
    if (!lockFilter) return controlError(400, "BAD_REQUEST", "smartlockId must be an integer");
  }
  size_t last = 0;
  if (auto s = req.queryParam("last")) {
    auto v = parseId(*s);
    if (!v || *v == 0) return controlError(400, "BAD_REQUEST", "last must be a positive integer");
    last = size_t(std::min<uint64_t>(*v, 100000));
  }
  const std::string prefix = lockFilter ? "/smartlock/" + std::to_string(*lockFilter) : "";
  auto concerns = [&](const JournalEntry& e) {
    if (!lockFilter) return true;
    if (e.kind == JournalEntry::kWebhook) return e.smartlockId == *lockFilter;
    return e.path.rfind(prefix, 0) == 0 &&
           (e.path.size() == prefix.size() || e.path[prefix.size()] == '/' ||
            e.path[prefix.size()] == '?');
  };
  json entries = json::array();
  const auto& held = sim.journal().entries();
  if (last > 0) {
    std::vector<const JournalEntry*> newest;
    for (auto it = held.rbegin(); it != held.rend() && newest.size() < last; ++it)
      if (it->seq >= since && concerns(*it)) newest.push_back(&*it);
    for (auto it = newest.rbegin(); it != newest.rend(); ++it)
      entries.push_back(journalEntryJson(**it));
  } else {
    for (const auto& e : held) {
      if (e.seq < since || !concerns(e)) continue;
      if (entries.size() >= limit) break;
      entries.push_back(journalEntryJson(e));
    }
  }
  const uint64_t next =
      entries.empty() ? sim.journal().nextSeq() : entries.back()["seq"].get<uint64_t>() + 1;
  json out;
  out["entries"] = std::move(entries);
  out["next"] = next;
  return controlJson(200, out);
}

// What changed since the client's last look (the dashboard polls this): the locks changed,
// whether the fleet itself changed, the clock and the journal's next sequence number.
Response getChanges(Simulator& sim, const Request& req) {
  uint64_t since = 0;
  if (auto s = req.queryParam("since")) {
    auto v = parseId(*s);
    if (!v) return controlError(400, "BAD_REQUEST", "since must be a sequence number");
    since = *v;
  }
  const World& w = sim.world();
  const World::Changes c = w.changesSince(since);
  json j = clockJson(sim.clock());
  j["virtual"] = sim.clock().isVirtual();
  j["seq"] = c.seq;
  j["complete"] = c.complete;
  j["fleet"] = c.fleet;
  json ids = json::array();
  for (uint32_t i : c.locks)
    if (i < w.locks().size() && !w.lock(i).removed) ids.push_back(w.lock(i).smartlockId);
  j["smartlockIds"] = std::move(ids);
  j["journalNext"] = sim.journal().nextSeq();
  j["journalRevision"] = sim.journal().revision();
  return controlJson(200, j);
}

// A handler bound to its simulator, as the router takes it.
http::SyncHandler on(Simulator& sim, Response (*handler)(Simulator&, const Request&)) {
  return [&sim, handler](const Request& req) { return handler(sim, req); };
}
http::Handler on(Simulator& sim, void (*handler)(Simulator&, const Request&, http::Respond)) {
  return [&sim, handler](Request& req, http::Respond respond) {
    handler(sim, req, std::move(respond));
  };
}

}  // namespace

void addControlRoutes(Simulator& sim, http::Router& r) {
  r.add("GET", "/sim/v1/health", on(sim, getHealth));
  r.add("GET", "/sim/v1/clock", on(sim, getClock));
  r.add("POST", "/sim/v1/clock/advance", on(sim, postAdvance));
  r.add("POST", "/sim/v1/accounts", on(sim, postAccount));
  r.add("GET", "/sim/v1/accounts", on(sim, getAccounts));
  r.add("POST", "/sim/v1/smartlocks", on(sim, postSmartlock));
  r.add("GET", "/sim/v1/smartlocks", on(sim, getSmartlocks));
  r.add("GET", "/sim/v1/smartlocks/{id}", on(sim, getSmartlock));
  r.add("GET", "/sim/v1/smartlocks/{id}/device", on(sim, getDevice));
  r.add("POST", "/sim/v1/smartlocks/{id}/connectivity", on(sim, postConnectivity));
  r.add("POST", "/sim/v1/smartlocks/{id}/battery", on(sim, postBattery));
  r.add("POST", "/sim/v1/smartlocks/{id}/jam", on(sim, postJam));
  r.add("POST", "/sim/v1/smartlocks/{id}/keypad", on(sim, postKeypad));
  r.add("POST", "/sim/v1/smartlocks/{id}/manual", on(sim, postManual));
  r.add("POST", "/sim/v1/smartlocks/{id}/device-codes", on(sim, postDeviceCode));
  r.add("DELETE", "/sim/v1/smartlocks/{id}/device-codes/{code}", on(sim, deleteDeviceCode));
  r.add("POST", "/sim/v1/smartlocks/{id}/sync", on(sim, postSync));
  r.add("POST", "/sim/v1/faults", on(sim, postFault));
  r.add("GET", "/sim/v1/faults", on(sim, getFaults));
  r.add("DELETE", "/sim/v1/faults", on(sim, deleteFaults));
  r.add("DELETE", "/sim/v1/faults/{faultId}", on(sim, deleteFault));
  r.add("POST", "/sim/v1/reset", on(sim, postReset));
  r.add("GET", "/sim/v1/snapshot", on(sim, getSnapshot));
  r.add("PUT", "/sim/v1/snapshot", on(sim, putSnapshot));
  r.add("POST", "/sim/v1/fleet", on(sim, postFleet));
  r.add("GET", "/sim/v1/journal", on(sim, getJournal));
  r.add("GET", "/sim/v1/changes", on(sim, getChanges));
}

}  // namespace nukihil::sim
