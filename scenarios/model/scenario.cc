#include "scenarios/model/scenario.h"

#include <algorithm>
#include <functional>
#include <set>

#include "runtime/json_input.h"
#include "runtime/time_zone.h"

namespace nukihil::model {

using nlohmann::json;

namespace {

constexpr size_t npos = static_cast<size_t>(-1);

const std::vector<std::string> kTopKeys = {"name",  "description", "rules",         "tags",
                                           "start", "seed",        "settings",      "adapter",
                                           "locks", "steps",       "expectWebhooks"};
const std::vector<std::string> kSettingKeys = {"motorSeconds", "deliverySeconds", "syncAt",
                                               "timezone",     "unlatchDuration", "lngTimeout",
                                               "batteryCharge"};
const std::vector<std::string> kAdapterKeys = {"nukiWebhooks", "pollSeconds"};
const std::vector<std::string> kLockKeys = {
    "name",         "model",           "batteryCharge",   "syncAt",     "timezone", "bridgeId",
    "motorSeconds", "deliverySeconds", "unlatchDuration", "lngTimeout", "codes",    "online"};
const std::vector<std::string> kCodeKeys = {"name",
                                            "code",
                                            "allowedFromDate",
                                            "allowedUntilDate",
                                            "allowedWeekDays",
                                            "allowedFromTime",
                                            "allowedUntilTime",
                                            "enabled"};
const std::vector<std::string> kActionExpectKeys = {"status", "error"};
const std::vector<std::string> kErrorCodes = {
    "PIN_FORMAT",       "PIN_CONTAINS_ZERO", "PIN_STARTS_WITH_12",     "NAME_LENGTH",
    "SCHEDULE_INVALID", "PIN_DUPLICATE",     "PIN_CAPACITY",           "PIN_PENDING",
    "BAD_REQUEST",      "NOT_FOUND",         "IDEMPOTENCY_KEY_REUSED", "UNSUPPORTED_ACTION"};
const std::vector<std::string> kKeypadReasons = {"UNKNOWN_CODE", "OUTSIDE_SCHEDULE", "DISABLED",
                                                 "JAMMED"};
const std::vector<std::string> kActionStatuses = {"QUEUED",   "PENDING", "RESOLVED",
                                                  "REJECTED", "FAILED",  "TIMEOUT"};
const std::vector<std::string> kFaultKeys = {"route",      "methods",    "status", "retryAfter",
                                             "reset",      "resetAfter", "from",   "until",
                                             "forSeconds", "count"};
const std::vector<std::string> kWebhookTypes = {"deviceEventQueueAction", "deviceEventUpdateAction",
                                                "deviceEventSetState", "deviceEventConfig"};
const std::vector<std::string> kWebhookFields = {"actionId",   "status",           "reason",
                                                 "traitName",  "fieldName",        "value",
                                                 "actionName", "actionParameters", "traits"};
const std::vector<std::string> kCreateParams = {"pinCode", "name", "temporarySchedules",
                                                "recurringSchedules"};
const std::vector<std::string> kUpdateParams = {"id", "pinCode", "name", "temporarySchedules",
                                                "recurringSchedules"};

struct StepShape {
  StepKind kind;
  const char* name;
  std::vector<std::string> keys;  // besides "do"
};

const std::vector<StepShape>& stepShapes() {
  static const std::vector<StepShape> shapes = {
      {StepKind::kSetLocked, "setLocked", {"lock", "parameters", "as", "idempotencyKey", "expect"}},
      {StepKind::kCreatePin, "createPin", {"lock", "parameters", "as", "idempotencyKey", "expect"}},
      {StepKind::kUpdatePin, "updatePin", {"lock", "parameters", "as", "idempotencyKey", "expect"}},
      {StepKind::kDeletePin, "deletePin", {"lock", "parameters", "as", "idempotencyKey", "expect"}},
      {StepKind::kOffline, "offline", {"lock"}},
      {StepKind::kOnline, "online", {"lock"}},
      {StepKind::kBattery, "battery", {"lock", "charge"}},
      {StepKind::kJam, "jam", {"lock"}},
      {StepKind::kFree, "free", {"lock"}},
      {StepKind::kKeypad, "keypad", {"lock", "code", "expect"}},
      {StepKind::kKnob, "knob", {"lock", "action"}},
      {StepKind::kAddCodeOnLock,
       "addCodeOnLock",
       {"lock", "name", "code", "allowedFromDate", "allowedUntilDate", "allowedWeekDays",
        "allowedFromTime", "allowedUntilTime", "enabled"}},
      {StepKind::kRemoveCodeOnLock, "removeCodeOnLock", {"lock", "code"}},
      {StepKind::kNukiRequest, "nukiRequest", {"lock", "method", "path", "body", "expect"}},
      {StepKind::kSync, "sync", {"lock"}},
      {StepKind::kAdvance, "advance", {"seconds"}},
      {StepKind::kAdvanceTo, "advanceTo", {"time", "lock", "localTime"}},
      {StepKind::kFault, "fault", {"fault"}},
      {StepKind::kClearFaults, "clearFaults", {}},
      {StepKind::kReceiverDown, "receiverDown", {"status"}},
      {StepKind::kReceiverUp, "receiverUp", {"status"}},
      {StepKind::kRestartAdapter, "restartAdapter", {"kill", "during"}},
      {StepKind::kResumeOutbox, "resumeOutbox", {"lock"}},
      {StepKind::kExpectAction, "expectAction", {"ref", "status", "reason"}},
      {StepKind::kExpectDevice,
       "expectDevice",
       {"lock", "isLocked", "isJammed", "isOnline", "percentage", "batteryStatus", "pinCodes"}},
      {StepKind::kExpectLock, "expectLock", {"lock", "state", "online", "codes"}},
      {StepKind::kExpectOutbox, "expectOutbox", {"lock", "pending", "parked"}},
  };
  return shapes;
}

std::optional<int> parseHhMm(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4})
    if (s[size_t(i)] < '0' || s[size_t(i)] > '9') return std::nullopt;
  const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string typeName(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "something else";
  }
}

// Walks the document, collecting problems with their JSON path and step.
class Validator {
 public:
  Validator(std::string file, std::vector<Problem>& out) : file_(std::move(file)), out_(out) {}

  void problem(const std::string& path, const std::string& message) {
    Problem p;
    p.file = file_;
    p.path = path;
    p.step = step_;
    p.message = message;
    out_.push_back(std::move(p));
  }
  void setStep(std::string s) { step_ = std::move(s); }
  bool ok() const { return out_.empty(); }

  // Checks `j` is an object with only `known` keys; reports unknown ones with the nearest name.
  bool object(const json& j, const std::string& path, const std::vector<std::string>& known) {
    if (!j.is_object()) {
      problem(path, "must be an object, not " + typeName(j));
      return false;
    }
    for (const auto& [k, v] : j.items()) {
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      const std::string near = nearestName(k, known, LetterCase::kFree);
      problem(path.empty() ? k : path + "." + k,
              "unknown key '" + k + "'" +
                  (near.empty() ? " (known here: " + joined(known) + ")"
                                : "; did you mean '" + near + "'?"));
    }
    return true;
  }
  static std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v)
      s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? "none" : s;
  }
  static std::string at(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  const json* field(const json& obj, const std::string& path, const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) problem(at(path, key), std::string("is required"));
      return nullptr;
    }
    return &*it;
  }
  std::optional<std::string> string(const json& obj, const std::string& path, const char* key,
                                    bool required = false, bool nonEmpty = true) {
    const json* v = field(obj, path, key, required);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      problem(at(path, key), "must be a string, not " + typeName(*v));
      return std::nullopt;
    }
    if (nonEmpty && v->get<std::string>().empty()) {
      problem(at(path, key), "must not be empty");
      return std::nullopt;
    }
    return v->get<std::string>();
  }
  std::optional<int64_t> integer(const json& obj, const std::string& path, const char* key,
                                 int64_t lo, int64_t hi, bool required = false) {
    const json* v = field(obj, path, key, required);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) {
      problem(at(path, key), "must be an integer, not " + typeName(*v));
      return std::nullopt;
    }
    const int64_t n = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)
                          ? INT64_MAX
                          : v->get<int64_t>();
    if (n < lo || n > hi) {
      problem(at(path, key), "must be between " + std::to_string(lo) + " and " +
                                 std::to_string(hi) + ", not " + std::to_string(n));
      return std::nullopt;
    }
    return n;
  }
  std::optional<bool> boolean(const json& obj, const std::string& path, const char* key,
                              bool required = false) {
    const json* v = field(obj, path, key, required);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      problem(at(path, key), "must be true or false, not " + typeName(*v));
      return std::nullopt;
    }
    return v->get<bool>();
  }
  std::optional<std::string> oneOf(const json& obj, const std::string& path, const char* key,
                                   const std::vector<std::string>& allowed, bool required = false) {
    auto s = string(obj, path, key, required);
    if (!s) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
      const std::string near = nearestName(*s, allowed, LetterCase::kFree);
      problem(at(path, key), "'" + *s + "' is not one of " + joined(allowed) +
                                 (near.empty() ? "" : "; did you mean '" + near + "'?"));
      return std::nullopt;
    }
    return s;
  }
  std::optional<Time> instant(const json& obj, const std::string& path, const char* key,
                              bool required = false) {
    auto s = string(obj, path, key, required);
    if (!s) return std::nullopt;
    auto t = parseRfc3339(*s);
    if (!t) {
      problem(at(path, key), "'" + *s + "' is not an RFC 3339 date-time (2025-03-01T10:00:00Z)");
      return std::nullopt;
    }
    if (*t < kEarliestTime || *t >= kLatestTime) {
      problem(at(path, key),
              "must lie between 2000 and 2037 (the tz rules are exact only that far)");
      return std::nullopt;
    }
    return t;
  }

 private:
  std::string file_;
  std::vector<Problem>& out_;
  std::string step_;
};

// Nuki fields of a keypad code (locks[].codes, addCodeOnLock); `checkRules`: it must obey
// K1–K3, K6 and K7 as a code on a lock does.
std::optional<CodeSpec> parseCode(Validator& v, const json& j, const std::string& path,
                                  const std::vector<std::string>& keys, bool checkRules) {
  if (!v.object(j, path, keys)) return std::nullopt;
  CodeSpec c;
  bool good = true;
  auto name = v.string(j, path, "name", true, false);
  auto code = v.integer(j, path, "code", 0, 999999999, true);
  if (!name || !code) good = false;
  if (name) c.name = *name;
  if (code) c.code = *code;
  auto from = v.instant(j, path, "allowedFromDate");
  auto until = v.instant(j, path, "allowedUntilDate");
  if (j.contains("allowedFromDate") && !from) good = false;
  if (j.contains("allowedUntilDate") && !until) good = false;
  if (from) c.fromMs = millisOf(*from);
  if (until) c.untilMs = millisOf(*until);
  auto wd = v.integer(j, path, "allowedWeekDays", 0, 1000);
  auto ft = v.integer(j, path, "allowedFromTime", -100000, 100000);
  auto ut = v.integer(j, path, "allowedUntilTime", -100000, 100000);
  if ((j.contains("allowedWeekDays") && !wd) || (j.contains("allowedFromTime") && !ft) ||
      (j.contains("allowedUntilTime") && !ut))
    good = false;
  if (wd) c.weekDays = int(*wd);
  if (ft) c.fromTime = int(*ft);
  if (ut) c.untilTime = int(*ut);
  if (auto e = v.boolean(j, path, "enabled")) c.enabled = *e;
  if (j.contains("as")) {
    if (auto as = v.string(j, path, "as")) c.as = *as;
  }
  if (!good) return std::nullopt;
  if (checkRules) {
    // A code that is already on the lock (or typed into the lock's app) obeys K1–K3, K6, K7.
    const std::string digits = std::to_string(c.code);
    std::string why;
    if (c.code < 100000 || c.code > 999999)
      why = "K1: a keypad code has exactly 6 digits";
    else if (digits.find('0') != std::string::npos)
      why = "K2: a keypad code has no digit 0";
    else if (digits.rfind("12", 0) == 0)
      why = "K3: a keypad code does not start with 12";
    if (!why.empty()) {
      v.problem(Validator::at(path, "code"), why + " (" + digits + ")");
      good = false;
    }
    if (!validUtf8(c.name) || codePoints(c.name) < 1 || codePoints(c.name) > 20) {
      v.problem(Validator::at(path, "name"), "K6: a keypad code's name has 1 to 20 characters");
      good = false;
    }
    if (c.fromMs.has_value() != c.untilMs.has_value()) {
      v.problem(path, "K7: allowedFromDate and allowedUntilDate go together");
      good = false;
    } else if (c.fromMs && *c.fromMs >= *c.untilMs) {
      v.problem(Validator::at(path, "allowedUntilDate"), "K7: must be after allowedFromDate");
      good = false;
    }
    if (c.weekDays && (*c.weekDays < 1 || *c.weekDays > 127)) {
      v.problem(Validator::at(path, "allowedWeekDays"), "K7: must be 1..127 (Mon=64 … Sun=1)");
      good = false;
    }
    const int f = c.fromTime.value_or(0), u = c.untilTime.value_or(0);
    if (f < 0 || f > 1439 || u < 0 || u > 1439) {
      v.problem(path, "K7: allowedFromTime and allowedUntilTime are minutes 0..1439");
      good = false;
    } else if (!(f == 0 && u == 0) && f >= u) {
      v.problem(Validator::at(path, "allowedUntilTime"),
                "K7: must be after allowedFromTime (or both 0: the whole day)");
      good = false;
    }
  }
  if (!good) return std::nullopt;
  c.nuki = j;
  c.nuki.erase("as");
  return c;
}

}  // namespace

const char* stepKindName(StepKind k) {
  for (const auto& s : stepShapes())
    if (s.kind == k) return s.name;
  return "?";
}

bool isTraitAction(StepKind k) {
  return k == StepKind::kSetLocked || k == StepKind::kCreatePin || k == StepKind::kUpdatePin ||
         k == StepKind::kDeletePin;
}

std::string Step::label() const {
  return "steps[" + std::to_string(index) + "] (" + stepKindName(kind) + ")";
}

const LockSpec* Scenario::lock(const std::string& n) const {
  for (const auto& l : locks)
    if (l.name == n) return &l;
  return nullptr;
}

size_t Scenario::lockIndex(const std::string& n) const {
  for (size_t i = 0; i < locks.size(); ++i)
    if (locks[i].name == n) return i;
  return npos;
}

std::string Problem::text() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += ": ";
  if (!step.empty()) s += step + ": ";
  if (!path.empty()) s += path + ": ";
  return s + message;
}

size_t codePoints(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool validUtf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    if (len == 0 || i + len > text.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

bool parseRrule(const std::string& text, int& days, int& startMinute) {
  static const char* kDayNames[7] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
  std::string rule = text.rfind("RRULE:", 0) == 0 ? text.substr(6) : text;
  days = 0;
  bool weekly = false, haveDays = false;
  int hour = 0, minute = 0;
  size_t pos = 0;
  while (!rule.empty() && pos <= rule.size()) {
    const size_t semi = rule.find(';', pos);
    const std::string part =
        rule.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos);
    const size_t eq = part.find('=');
    if (eq == std::string::npos) return false;
    const std::string key = part.substr(0, eq), value = part.substr(eq + 1);
    auto number = [&](int hi, int& out) {
      if (value.empty() || value.size() > 2) return false;
      for (char c : value)
        if (c < '0' || c > '9') return false;
      out = std::stoi(value);
      return out <= hi;
    };
    if (key == "FREQ") {
      if (value != "WEEKLY") return false;
      weekly = true;
    } else if (key == "BYDAY") {
      haveDays = true;
      size_t p = 0;
      while (p < value.size()) {
        const size_t comma = value.find(',', p);
        const std::string day =
            value.substr(p, comma == std::string::npos ? std::string::npos : comma - p);
        int found = -1;
        for (int d = 0; d < 7; ++d)
          if (day == kDayNames[d]) found = d;
        if (found < 0) return false;
        days |= 64 >> found;
        if (comma == std::string::npos) break;
        p = comma + 1;
      }
    } else if (key == "BYHOUR") {
      if (!number(23, hour)) return false;
    } else if (key == "BYMINUTE") {
      if (!number(59, minute)) return false;
    } else {
      return false;
    }
    if (semi == std::string::npos) break;
    pos = semi + 1;
  }
  if (!weekly) return false;
  if (!haveDays || days == 0) days = 127;
  startMinute = hour * 60 + minute;
  return true;
}

Time nextLocalTime(const TimeZone& z, Time now, int minute) {
  const LocalTime local = z.toLocal(now);
  for (int64_t d = -1; d <= 2; ++d) {
    const Time first = z.fromLocal(local.day + d, minute);
    if (first > now) return first;
    // A repeated local time: the clock shows it again once the change has set it back.
    for (int shift : {30, 60, 120}) {
      const Time again = first + std::chrono::minutes(shift);
      const LocalTime l = z.toLocal(again);
      if (again > now && l.day == local.day + d && l.minuteOfDay == minute &&
          l.millisOfDay % 60000 == 0)
        return again;
    }
  }
  return z.fromLocal(local.day + 3, minute);  // not reached: a day always has the time
}

const std::vector<std::string>& allRuleIds() {
  static const std::vector<std::string> ids = {"K1",
                                               "K2",
                                               "K3",
                                               "K4",
                                               "K5",
                                               "K6",
                                               "K7",
                                               "R-DISCOVER",
                                               "R-ACT-ONLINE",
                                               "R-ACT-JAMMED",
                                               "R-ACT-OFFLINE",
                                               "R-ACT-FAILED",
                                               "R-PIN-ACCEPTED",
                                               "R-PIN-DROPPED",
                                               "R-PIN-SYNC",
                                               "R-PIN-INVALID",
                                               "R-PIN-LOCAL",
                                               "R-CONN",
                                               "R-BATT",
                                               "R-MANUAL",
                                               "R-KEYPAD",
                                               "R-DELIVERY"};
  return ids;
}

namespace {

// JSON text → json, with the line and column of a syntax error and duplicate keys refused
// (a second "expect" would otherwise silently replace the first).
std::optional<json> parseText(const std::string& text, const std::string& file,
                              std::vector<Problem>& out) {
  struct Frame {
    bool isObject;
    std::set<std::string> keys;
    std::string path;
    size_t index = 0;
    std::string key;
  };
  std::vector<Frame> stack;
  std::vector<std::string> duplicates;
  auto childPath = [&]() -> std::string {
    if (stack.empty()) return "";
    const Frame& f = stack.back();
    if (f.isObject) return f.path.empty() ? f.key : f.path + "." + f.key;
    return f.path + "[" + std::to_string(f.index) + "]";
  };
  auto valueDone = [&]() {
    if (!stack.empty() && !stack.back().isObject) ++stack.back().index;
  };
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        stack.push_back(Frame{true, {}, childPath(), 0, {}});
        break;
      case json::parse_event_t::array_start:
        stack.push_back(Frame{false, {}, childPath(), 0, {}});
        break;
      case json::parse_event_t::key: {
        const std::string k = parsed.get<std::string>();
        if (!stack.empty()) {
          if (!stack.back().keys.insert(k).second)
            duplicates.push_back(stack.back().path.empty() ? k : stack.back().path + "." + k);
          stack.back().key = k;
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        valueDone();
        break;
      case json::parse_event_t::value:
        valueDone();
        break;
    }
    return true;
  };
  JsonSyntaxError why;
  auto j = parseJson(text, why, cb);
  if (!j) {
    Problem p;
    p.file = file;
    p.line = why.line;
    p.column = why.column;
    p.message = "not valid JSON: " + why.what;
    out.push_back(std::move(p));
    return std::nullopt;
  }
  for (const auto& d : duplicates) {
    Problem p;
    p.file = file;
    p.path = d;
    p.message = "the key appears twice in one object (the second would silently win)";
    out.push_back(std::move(p));
  }
  if (!duplicates.empty()) return std::nullopt;
  return j;
}

}  // namespace

ParseResult parseScenario(const std::string& text, const std::string& file) {
  ParseResult result;
  auto& out = result.problems;
  auto parsed = parseText(text, file, out);
  if (!parsed) return result;
  const json& j = *parsed;
  Validator v(file, out);
  Scenario s;
  s.file = file;
  s.raw = j;
  if (!v.object(j, "", kTopKeys)) return result;

  if (auto n = v.string(j, "", "name", true)) s.name = *n;
  if (auto d = v.string(j, "", "description", false, false)) s.description = *d;
  auto stringList = [&](const char* key, std::vector<std::string>& into,
                        const std::vector<std::string>* allowed) {
    const json* a = v.field(j, "", key, false);
    if (!a) return;
    if (!a->is_array()) {
      v.problem(key, "must be an array of strings");
      return;
    }
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      if (!(*a)[i].is_string()) {
        v.problem(path, "must be a string");
        continue;
      }
      const std::string value = (*a)[i].get<std::string>();
      if (allowed && std::find(allowed->begin(), allowed->end(), value) == allowed->end()) {
        const std::string near = nearestName(value, *allowed, LetterCase::kFree);
        v.problem(path, "'" + value + "' is not a rule of SPEC" +
                            (near.empty() ? "" : "; did you mean '" + near + "'?"));
        continue;
      }
      into.push_back(value);
    }
  };
  stringList("rules", s.rules, &allRuleIds());
  stringList("tags", s.tags, nullptr);
  if (j.contains("start")) {
    if (auto t = v.instant(j, "", "start")) s.start = *t;
  }
  if (j.contains("seed")) {
    const json& seed = j["seed"];
    if (seed.is_number_unsigned() || (seed.is_number_integer() && seed.get<int64_t>() >= 0))
      s.seed = seed.get<uint64_t>();
    else
      v.problem("seed", "must be a non-negative integer, not " + typeName(seed));
  }

  // settings: defaults for every lock.
  std::string defaultZone = "UTC";
  int defaultSync = 180, defaultMotor = 3, defaultDelivery = 5, defaultBattery = 100;
  auto lockSettings = [&](const json& obj, const std::string& path, std::string& zone, int& sync,
                          int& motor, int& delivery, int& battery) {
    if (auto m = v.integer(obj, path, "motorSeconds", 1, 3600)) motor = int(*m);
    if (auto d = v.integer(obj, path, "deliverySeconds", 0, 86400)) delivery = int(*d);
    if (auto b = v.integer(obj, path, "batteryCharge", 0, 100)) battery = int(*b);
    if (auto sa = v.string(obj, path, "syncAt")) {
      if (auto m = parseHhMm(*sa))
        sync = *m;
      else
        v.problem(Validator::at(path, "syncAt"), "must be HH:MM (00:00–23:59), not '" + *sa + "'");
    }
    if (auto tz = v.string(obj, path, "timezone")) {
      if (TimeZone::find(*tz))
        zone = *tz;
      else
        v.problem(Validator::at(path, "timezone"),
                  "no IANA time zone named '" + *tz + "' (e.g. Europe/Berlin, UTC)");
    }
    if (auto u = v.integer(obj, path, "unlatchDuration", 1, 30)) {
      static const std::set<int64_t> ok = {1, 3, 5, 7, 10, 15, 20, 30};
      if (!ok.count(*u))
        v.problem(Validator::at(path, "unlatchDuration"),
                  "must be one of 1, 3, 5, 7, 10, 15, 20, 30 (Nuki's values)");
    }
    if (auto l = v.integer(obj, path, "lngTimeout", 5, 60)) {
      static const std::set<int64_t> ok = {5, 10, 15, 20, 30, 45, 60};
      if (!ok.count(*l))
        v.problem(Validator::at(path, "lngTimeout"),
                  "must be one of 5, 10, 15, 20, 30, 45, 60 (Nuki's values)");
    }
  };
  if (const json* st = v.field(j, "", "settings", false)) {
    if (v.object(*st, "settings", kSettingKeys)) {
      lockSettings(*st, "settings", defaultZone, defaultSync, defaultMotor, defaultDelivery,
                   defaultBattery);
    }
  }
  if (const json* ad = v.field(j, "", "adapter", false)) {
    if (v.object(*ad, "adapter", kAdapterKeys)) {
      if (auto w = v.boolean(*ad, "adapter", "nukiWebhooks")) s.nukiWebhooks = *w;
      if (auto p = v.integer(*ad, "adapter", "pollSeconds", 1, 86400)) s.pollSeconds = int(*p);
    }
  }

  // Names bound by `as` (one namespace): what each names and from which step on.
  struct Binding {
    bool action = false;  // an action (actionId); createPin binds a PIN id too
    bool pin = false;
    size_t step = npos;  // npos: a code of the fleet, bound at discovery
    std::string lock;
  };
  std::map<std::string, Binding> names;
  std::map<std::string, size_t> laterNames;  // filled before the steps are read

  // locks
  const json* locks = v.field(j, "", "locks", true);
  if (locks && !locks->is_array()) v.problem("locks", "must be an array of locks");
  if (locks && locks->is_array()) {
    if (locks->empty()) v.problem("locks", "needs at least one lock");
    std::set<std::string> lockNames;
    for (size_t i = 0; i < locks->size(); ++i) {
      const std::string path = "locks[" + std::to_string(i) + "]";
      const json& lj = (*locks)[i];
      if (!v.object(lj, path, kLockKeys)) continue;
      LockSpec l;
      l.timezone = defaultZone;
      l.syncAtMinute = defaultSync;
      l.motorSeconds = defaultMotor;
      l.deliverySeconds = defaultDelivery;
      l.battery = defaultBattery;
      if (auto n = v.string(lj, path, "name", true)) {
        l.name = *n;
        if (!lockNames.insert(*n).second)
          v.problem(path + ".name", "another lock is named '" + *n + "' (names must be unique)");
      }
      if (auto m = v.oneOf(lj, path, "model", {"3.0", "3.0 Pro"})) l.pro = *m == "3.0 Pro";
      lockSettings(lj, path, l.timezone, l.syncAtMinute, l.motorSeconds, l.deliverySeconds,
                   l.battery);
      if (auto b = v.integer(lj, path, "bridgeId", 1, 0xFFFFFFFFLL)) {
        if (l.pro)
          v.problem(path + ".bridgeId", "only a \"3.0\" reaches the cloud through a bridge");
        else
          l.bridgeId = uint64_t(*b);
      }
      if (auto o = v.boolean(lj, path, "online")) l.online = *o;
      if (const json* codes = v.field(lj, path, "codes", false)) {
        if (!codes->is_array()) {
          v.problem(path + ".codes", "must be an array of codes");
        } else {
          std::set<int64_t> seen;
          if (codes->size() > 100) v.problem(path + ".codes", "K5: at most 100 codes on one lock");
          std::vector<std::string> keys = kCodeKeys;
          keys.push_back("as");
          for (size_t c = 0; c < codes->size(); ++c) {
            const std::string cpath = path + ".codes[" + std::to_string(c) + "]";
            auto code = parseCode(v, (*codes)[c], cpath, keys, true);
            if (!code) continue;
            if (!seen.insert(code->code).second)
              v.problem(cpath + ".code",
                        "K4: the code " + std::to_string(code->code) + " is already on this lock");
            if (!code->as.empty()) {
              if (names.count(code->as))
                v.problem(cpath + ".as", "the name '" + code->as + "' is already taken");
              names[code->as] = Binding{false, true, npos, l.name};
            }
            l.codes.push_back(std::move(*code));
          }
        }
      }
      // The lock as nukisim's fleet file takes it.
      l.fleet = lj;
      l.fleet.erase("codes");
      json codes = json::array();
      for (const auto& c : l.codes)
        codes.push_back(c.nuki);
      if (!codes.empty()) l.fleet["codes"] = codes;
      if (!lj.contains("model")) l.fleet["model"] = "3.0 Pro";
      s.locks.push_back(std::move(l));
    }
    // 3.0 locks that share a bridge share its connection: a bridge id used by a Pro is refused
    // above; nothing else to check.
  }

  auto lockName = [&](const json& obj, const std::string& path) -> std::string {
    auto n = v.string(obj, path, "lock", true);
    if (!n) return "";
    if (!s.lock(*n)) {
      std::vector<std::string> known;
      for (const auto& l : s.locks)
        known.push_back(l.name);
      const std::string near = nearestName(*n, known, LetterCase::kFree);
      v.problem(path + ".lock", "no lock named '" + *n + "'" +
                                    (near.empty() ? " (locks: " + Validator::joined(known) + ")"
                                                  : "; did you mean '" + near + "'?"));
      return "";
    }
    return *n;
  };
  // A "@name" reference: must be bound by an earlier step (or a code of the fleet).
  auto reference = [&](const std::string& refText, const std::string& path, size_t stepIndex,
                       bool wantAction, bool wantPin, const std::string& onLock = "") -> bool {
    std::string n = refText;
    if (!n.empty() && n[0] == '@') n = n.substr(1);
    auto it = names.find(n);
    if (it == names.end() && laterNames.count(n)) {
      v.problem(path, "the name '" + n + "' is bound only later, by steps[" +
                          std::to_string(laterNames[n]) + "]");
      return false;
    }
    if (it == names.end()) {
      std::vector<std::string> known;
      for (const auto& [k, b] : names)
        known.push_back(k);
      const std::string near = nearestName(n, known, LetterCase::kFree);
      v.problem(path, "the name '" + n + "' is not bound by any earlier step" +
                          (near.empty() ? "" : "; did you mean '" + near + "'?"));
      return false;
    }
    if (it->second.step != npos && it->second.step >= stepIndex) {
      v.problem(path, "the name '" + n + "' is bound only later, by steps[" +
                          std::to_string(it->second.step) + "]");
      return false;
    }
    if (wantAction && !it->second.action) {
      v.problem(path, "'" + n + "' names a code of the fleet, not an action");
      return false;
    }
    if (wantPin && !it->second.pin) {
      v.problem(path, "'" + n +
                          "' names an action that makes no PIN code (a createPin, or a "
                          "code of the fleet, binds a PIN id)");
      return false;
    }
    if (!onLock.empty() && !it->second.lock.empty() && it->second.lock != onLock) {
      v.problem(path, "'" + n + "' is a PIN code of the lock '" + it->second.lock + "', not of '" +
                          onLock + "'");
      return false;
    }
    return true;
  };

  // steps, with the file's own clock for advanceTo checks.
  Time now = s.start;
  const json* steps = v.field(j, "", "steps", true);
  // Names bound later (for a clearer message when one is used too early).
  if (steps && steps->is_array())
    for (size_t i = 0; i < steps->size(); ++i)
      if ((*steps)[i].is_object() && (*steps)[i].contains("as") && (*steps)[i]["as"].is_string())
        laterNames.emplace((*steps)[i]["as"].get<std::string>(), i);
  if (steps && !steps->is_array()) v.problem("steps", "must be an array of steps");
  std::vector<std::string> doNames;
  for (const auto& sh : stepShapes())
    doNames.push_back(sh.name);
  if (steps && steps->is_array()) {
    for (size_t i = 0; i < steps->size(); ++i) {
      const std::string path = "steps[" + std::to_string(i) + "]";
      const json& sj = (*steps)[i];
      v.setStep(path);
      if (!sj.is_object()) {
        v.problem(path, "a step is an object with \"do\"");
        continue;
      }
      auto doName = v.string(sj, path, "do", true);
      if (!doName) continue;
      const StepShape* shape = nullptr;
      for (const auto& sh : stepShapes())
        if (*doName == sh.name) shape = &sh;
      if (!shape) {
        const std::string near = nearestName(*doName, doNames, LetterCase::kFree);
        std::string known;
        for (const auto& n : doNames)
          known += (known.empty() ? "" : ", ") + n;
        v.problem(path + ".do", "unknown step '" + *doName + "'" +
                                    (near.empty() ? "; the steps are " + known
                                                  : "; did you mean '" + near + "'?"));
        continue;
      }
      Step st;
      st.index = i;
      st.kind = shape->kind;
      st.raw = sj;
      v.setStep(st.label());
      std::vector<std::string> keys = shape->keys;
      keys.insert(keys.begin(), "do");
      v.object(sj, path, keys);
      const bool needsLock =
          std::find(shape->keys.begin(), shape->keys.end(), "lock") != shape->keys.end() &&
          st.kind != StepKind::kAdvanceTo;
      if (needsLock) st.lock = lockName(sj, path);

      switch (st.kind) {
        case StepKind::kSetLocked:
        case StepKind::kCreatePin:
        case StepKind::kUpdatePin:
        case StepKind::kDeletePin: {
          const json* params = v.field(sj, path, "parameters", true);
          if (params) {
            if (!params->is_object()) {
              v.problem(path + ".parameters", "must be an object");
            } else {
              st.parameters = *params;
              const std::string pp = path + ".parameters";
              if (st.kind == StepKind::kSetLocked) {
                v.object(*params, pp, {"lock"});
                v.boolean(*params, pp, "lock", true);
              } else if (st.kind == StepKind::kCreatePin) {
                v.object(*params, pp, kCreateParams);
              } else {
                v.object(*params, pp,
                         st.kind == StepKind::kDeletePin ? std::vector<std::string>{"id"}
                                                         : kUpdateParams);
                if (auto id = v.string(*params, pp, "id", true)) {
                  if (!id->empty() && (*id)[0] == '@') reference(*id, pp + ".id", i, false, true);
                }
              }
            }
          }
          if (auto as = v.string(sj, path, "as")) {
            if (names.count(*as))
              v.problem(path + ".as", "the name '" + *as + "' is already taken");
            else
              names[*as] = Binding{true, st.kind == StepKind::kCreatePin, i, st.lock};
            st.as = *as;
          }
          if (auto key = v.string(sj, path, "idempotencyKey")) st.idempotencyKey = *key;
          if (const json* e = v.field(sj, path, "expect", false)) {
            if (v.object(*e, path + ".expect", kActionExpectKeys)) {
              auto status = v.integer(*e, path + ".expect", "status", 0, 999);
              if (status && *status != 202 && *status != 400 && *status != 404 && *status != 409 &&
                  *status != 422)
                v.problem(path + ".expect.status", "must be 202, 400, 404, 409 or 422");
              v.oneOf(*e, path + ".expect", "error", kErrorCodes);
              if (e->empty()) v.problem(path + ".expect", "give status and/or error");
              st.expect = *e;
            }
          }
          break;
        }
        case StepKind::kBattery:
          if (auto c = v.integer(sj, path, "charge", 0, 100, true)) st.number = *c;
          break;
        case StepKind::kKeypad: {
          const json* code = v.field(sj, path, "code", true);
          if (code) {
            if (code->is_number_integer() && code->get<int64_t>() >= 0)
              st.number = code->get<int64_t>();
            else if (const std::string digits = code->is_string() ? code->get<std::string>() : "";
                     !digits.empty() && digits.size() <= 12 &&
                     std::all_of(digits.begin(), digits.end(),
                                 [](char c) { return c >= '0' && c <= '9'; }))
              st.number = std::stoll(digits);
            else
              v.problem(path + ".code", "must be the digits typed, e.g. 234567");
          }
          if (const json* e = v.field(sj, path, "expect", false)) {
            if (v.object(*e, path + ".expect", {"granted", "reason"})) {
              v.boolean(*e, path + ".expect", "granted");
              if (e->contains("reason") && !(*e)["reason"].is_null())
                v.oneOf(*e, path + ".expect", "reason", kKeypadReasons);
              if (e->empty()) v.problem(path + ".expect", "give granted and/or reason");
              st.expect = *e;
            }
          }
          break;
        }
        case StepKind::kKnob:
          if (auto a = v.oneOf(sj, path, "action", {"lock", "unlock"}, true))
            st.lockIt = *a == "lock";
          break;
        case StepKind::kAddCodeOnLock: {
          // Its keys were checked with the step's; the code fields are the rest.
          json fields = json::object();
          for (const auto& k : kCodeKeys)
            if (sj.contains(k)) fields[k] = sj[k];
          if (auto c = parseCode(v, fields, path, kCodeKeys, true)) st.code = *c;
          break;
        }
        case StepKind::kRemoveCodeOnLock:
          if (auto c = v.integer(sj, path, "code", 0, 999999999, true)) st.number = *c;
          break;
        case StepKind::kNukiRequest: {
          if (auto m = v.oneOf(sj, path, "method", {"GET", "POST", "PUT", "DELETE"}, true))
            st.method = *m;
          if (auto p = v.string(sj, path, "path", true)) {
            st.path = *p;
            if (p->empty() || (*p)[0] != '/') v.problem(path + ".path", "must start with /");
            // {@name} references.
            size_t pos = 0;
            while ((pos = p->find("{@", pos)) != std::string::npos) {
              const size_t end = p->find('}', pos);
              if (end == std::string::npos) {
                v.problem(path + ".path", "an unclosed {@name}");
                break;
              }
              reference(p->substr(pos + 1, end - pos - 1), path + ".path", i, false, true, st.lock);
              pos = end;
            }
          }
          if (sj.contains("body")) st.body = sj["body"];
          if (const json* e = v.field(sj, path, "expect", false)) {
            if (v.object(*e, path + ".expect", {"status"})) {
              v.integer(*e, path + ".expect", "status", 100, 599, true);
              st.expect = *e;
            }
          }
          break;
        }
        case StepKind::kAdvance:
          if (auto sec = v.integer(sj, path, "seconds", 0, 400LL * 86400, true)) {
            st.seconds = *sec;
            now += std::chrono::seconds(*sec);
            if (now >= kLatestTime)
              v.problem(path + ".seconds", "takes the clock past 2037 (the tz rules end there)");
          }
          break;
        case StepKind::kAdvanceTo: {
          const bool hasTime = sj.contains("time"), hasLocal = sj.contains("localTime");
          if (hasTime == hasLocal) {
            v.problem(path, "give either \"time\" or \"lock\" with \"localTime\"");
            break;
          }
          if (hasTime) {
            if (sj.contains("lock")) v.problem(path + ".lock", "goes with localTime, not time");
            if (auto t = v.instant(sj, path, "time", true)) {
              if (*t < now)
                v.problem(path + ".time", "lies in the past: the scenario is at " +
                                              formatRfc3339(now) + " by then");
              else
                now = *t;
              st.time = t;
            }
          } else {
            st.lock = lockName(sj, path);
            auto lt = v.string(sj, path, "localTime", true);
            std::optional<int> minute;
            if (lt) {
              minute = parseHhMm(*lt);
              if (!minute) v.problem(path + ".localTime", "must be HH:MM, not '" + *lt + "'");
            }
            if (minute && !st.lock.empty()) {
              st.localMinute = *minute;
              now = nextLocalTime(*TimeZone::find(s.lock(st.lock)->timezone), now, *minute);
              if (now >= kLatestTime) v.problem(path, "takes the clock past 2037");
            }
          }
          break;
        }
        case StepKind::kFault: {
          const json* f = v.field(sj, path, "fault", true);
          if (!f) break;
          const std::string fp = path + ".fault";
          if (f->is_object() && (f->contains("probability") || f->contains("latencyMs"))) {
            v.problem(fp,
                      "probability and latencyMs are not allowed in a scenario: outcomes must "
                      "follow from the file");
          }
          if (!f->is_object()) {
            v.problem(fp,
                      "must be an object (the body of POST /sim/v1/faults), not " + typeName(*f));
            break;
          }
          json rest = *f;
          {
            rest.erase("probability");
            rest.erase("latencyMs");
          }
          if (!v.object(rest, fp, kFaultKeys)) break;
          v.string(*f, fp, "route");
          if (f->contains("methods")) {
            const json& m = (*f)["methods"];
            if (!m.is_array() || m.empty())
              v.problem(fp + ".methods", "must be a non-empty array of HTTP methods");
            else
              for (size_t k = 0; k < m.size(); ++k)
                if (!m[k].is_string() ||
                    (m[k] != "GET" && m[k] != "POST" && m[k] != "PUT" && m[k] != "DELETE"))
                  v.problem(fp + ".methods[" + std::to_string(k) + "]",
                            "must be GET, POST, PUT or DELETE");
          }
          int effects = 0;
          if (auto st2 = v.integer(*f, fp, "status", 400, 599)) {
            ++effects;
            (void)st2;
          }
          if (auto r = v.boolean(*f, fp, "reset")) {
            if (!*r) v.problem(fp + ".reset", "is true when given");
            ++effects;
          }
          if (auto r = v.boolean(*f, fp, "resetAfter")) {
            if (!*r) v.problem(fp + ".resetAfter", "is true when given");
            ++effects;
          }
          if (effects != 1)
            v.problem(fp, "give exactly one effect: \"status\", \"reset\" or \"resetAfter\"");
          if (f->contains("retryAfter")) {
            v.integer(*f, fp, "retryAfter", 0, 86400);
            if (!f->contains("status") || ((*f)["status"] != 429 && (*f)["status"] != 503))
              v.problem(fp + ".retryAfter", "goes with status 429 or 503");
          }
          auto from = v.instant(*f, fp, "from");
          auto until = v.instant(*f, fp, "until");
          v.integer(*f, fp, "forSeconds", 1, 400LL * 86400);
          v.integer(*f, fp, "count", 1, 1000000);
          if (f->contains("until") && f->contains("forSeconds"))
            v.problem(fp, "give until or forSeconds, not both");
          if (from && until && *until <= *from) v.problem(fp + ".until", "must be after from");
          st.fault = *f;
          break;
        }
        case StepKind::kReceiverDown:
          if (auto code = v.integer(sj, path, "status", 300, 599)) st.status = int(*code);
          break;
        case StepKind::kReceiverUp:
          st.status = 204;
          if (auto code = v.integer(sj, path, "status", 200, 299)) st.status = int(*code);
          break;
        case StepKind::kRestartAdapter:
          if (auto k = v.boolean(sj, path, "kill")) st.kill = *k;
          if (auto d = v.oneOf(sj, path, "during", {"nextWebhook", "nextNukiCall"})) st.during = *d;
          break;
        case StepKind::kExpectAction: {
          if (auto r = v.string(sj, path, "ref", true)) {
            st.ref = (*r)[0] == '@' ? r->substr(1) : *r;
            reference(st.ref, path + ".ref", i, true, false);
          }
          if (auto status = v.oneOf(sj, path, "status", kActionStatuses, true))
            st.actionStatus = *status;
          if (sj.contains("reason")) {
            if (auto reason = v.string(sj, path, "reason")) st.reason = *reason;
          }
          break;
        }
        case StepKind::kExpectDevice: {
          v.boolean(sj, path, "isLocked");
          v.boolean(sj, path, "isJammed");
          v.boolean(sj, path, "isOnline");
          v.integer(sj, path, "percentage", 0, 100);
          v.oneOf(sj, path, "batteryStatus", {"NORMAL", "CRITICAL", "UNKNOWN"});
          if (sj.contains("pinCodes")) {
            const json& p = sj["pinCodes"];
            bool good = p.is_array();
            for (const auto& x : p.is_array() ? p : json::array())
              good = good && x.is_string();
            if (!good)
              v.problem(path + ".pinCodes", "must be an array of PIN code strings (\"234567\")");
          }
          st.fields = sj;
          st.fields.erase("do");
          st.fields.erase("lock");
          // "the exact sorted list": the order written does not matter.
          if (st.fields.contains("pinCodes") && st.fields["pinCodes"].is_array()) {
            auto list = st.fields["pinCodes"].get<std::vector<json>>();
            std::sort(list.begin(), list.end());
            st.fields["pinCodes"] = list;
          }
          if (st.fields.empty())
            v.problem(path,
                      "give at least one of isLocked, isJammed, isOnline, percentage, "
                      "batteryStatus, pinCodes");
          break;
        }
        case StepKind::kExpectLock: {
          v.integer(sj, path, "state", 0, 255);
          v.boolean(sj, path, "online");
          if (sj.contains("codes")) {
            const json& c = sj["codes"];
            bool good = c.is_array();
            for (const auto& x : c.is_array() ? c : json::array())
              good = good && x.is_number_integer();
            if (!good) v.problem(path + ".codes", "must be an array of code numbers (234567)");
          }
          st.fields = sj;
          st.fields.erase("do");
          st.fields.erase("lock");
          if (st.fields.contains("codes") && st.fields["codes"].is_array()) {
            auto list = st.fields["codes"].get<std::vector<json>>();
            std::sort(list.begin(), list.end());
            st.fields["codes"] = list;
          }
          if (st.fields.empty()) v.problem(path, "give at least one of state, online, codes");
          break;
        }
        case StepKind::kExpectOutbox:
          v.integer(sj, path, "pending", 0, 1000000);
          v.boolean(sj, path, "parked");
          st.fields = sj;
          st.fields.erase("do");
          st.fields.erase("lock");
          if (st.fields.empty()) v.problem(path, "give pending and/or parked");
          break;
        default:
          break;
      }
      s.steps.push_back(std::move(st));
    }
  }
  v.setStep("");

  // expectWebhooks: lock name → entries.
  if (const json* ew = v.field(j, "", "expectWebhooks", false)) {
    if (!ew->is_object()) {
      v.problem("expectWebhooks", "must be an object: lock name → list of webhooks");
    } else {
      for (const auto& [lockNameKey, list] : ew->items()) {
        const std::string path = "expectWebhooks." + lockNameKey;
        if (!s.lock(lockNameKey)) {
          std::vector<std::string> known;
          for (const auto& l : s.locks)
            known.push_back(l.name);
          const std::string near = nearestName(lockNameKey, known, LetterCase::kFree);
          v.problem(path, "no lock named '" + lockNameKey + "'" +
                              (near.empty() ? "" : "; did you mean '" + near + "'?"));
          continue;
        }
        if (!list.is_array()) {
          v.problem(path, "must be an array of webhooks");
          continue;
        }
        std::vector<json> entries;
        for (size_t k = 0; k < list.size(); ++k) {
          const std::string ep = path + "[" + std::to_string(k) + "]";
          const json& e = list[k];
          std::vector<std::string> keys = kWebhookFields;
          keys.insert(keys.begin(), {"type", "content"});
          if (!v.object(e, ep, keys)) continue;
          auto type = v.oneOf(e, ep, "type", kWebhookTypes, true);
          json content = json::object();
          if (e.contains("content")) {
            if (v.object(e["content"], ep + ".content", kWebhookFields)) content = e["content"];
          }
          for (const auto& f : kWebhookFields)
            if (e.contains(f)) {
              if (content.contains(f)) v.problem(ep + "." + f, "given both here and in content");
              content[f] = e[f];
            }
          if (content.contains("value") && content["value"].is_array() &&
              content.value("fieldName", json("pinCodeCredentials")) == "pinCodeCredentials") {
            for (const auto& x : content["value"])
              if (!x.is_string() &&
                  !(x.is_object() && x.contains("pinCode") && x["pinCode"].is_string()))
                v.problem(ep + ".value",
                          "a pinCodeCredentials list is given as its PIN codes, strings "
                          "(\"234567\"), or credentials with a string pinCode");
          }
          if (content.contains("actionParameters") && content["actionParameters"].is_object() &&
              content["actionParameters"].contains("id") &&
              content["actionParameters"]["id"].is_string()) {
            const std::string id = content["actionParameters"]["id"];
            if (!id.empty() && id[0] == '@')
              reference(id, ep + ".actionParameters.id", s.steps.size() + 1, false, true);
          }
          if (content.contains("actionId")) {
            const json& a = content["actionId"];
            if (!a.is_string() || a.get<std::string>().empty() || a.get<std::string>()[0] != '@')
              v.problem(ep + ".actionId", "is a name bound by `as`, written \"@name\"");
            else
              reference(a.get<std::string>(), ep + ".actionId", s.steps.size() + 1, true, false);
          }
          if (type) entries.push_back(json{{"type", *type}, {"content", content}});
        }
        s.expectWebhooks[lockNameKey] = std::move(entries);
      }
    }
  }

  if (out.empty()) result.scenario = std::move(s);
  return result;
}

}  // namespace nukihil::model
