#include "adapter/pin_codes.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <utility>

namespace nukihil::adapter {

namespace {

constexpr const char* kDayNames[7] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};

size_t codePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// A character a name must not carry: C0/C1 controls (NUL, newline, …), DEL, the line and
// paragraph separators, and the bidi embeddings, overrides and isolates that make text read
// otherwise than it is stored ("Trojan Source"). Returns its position (in code points) and
// value, or nullopt. `s` is valid UTF-8 (the JSON parser checked it).
std::optional<std::pair<size_t, char32_t>> forbiddenNameCharacter(std::string_view s) {
  size_t index = 0;
  for (size_t i = 0; i < s.size(); ++index) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
        (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
      return std::make_pair(index, cp);
  }
  return std::nullopt;
}

// SPEC §3: time stays between 2000 and 2037.
const Time kEarliest = *parseRfc3339("2000-01-01T00:00:00Z");
const Time kLatestEnd = *parseRfc3339("2038-01-01T00:00:00Z");

// A temporary schedule's date-time as an instant, or why not (K7).
std::optional<Time> scheduleInstant(const std::string& text, std::string& why) {
  auto t = parseRfc3339(text);
  if (!t) {
    why = "must be an RFC 3339 date-time";
    return std::nullopt;
  }
  // runtime's reader takes a leap second as :59; Nuki stores no leap seconds, and a window
  // that ends a second early is not what was asked for.
  if (text.size() >= 19 && text.compare(17, 2, "60") == 0) {
    why = "is a leap second (:60), which Nuki cannot store";
    return std::nullopt;
  }
  if (*t < kEarliest || *t >= kLatestEnd) {
    why = "must lie between 2000 and 2037";
    return std::nullopt;
  }
  return t;
}

}  // namespace

std::string RecurringSchedule::rrule() const {
  std::string byDay;
  for (int d = 0; d < 7; ++d) {
    if (!(days & (nuki::kMonday >> d))) continue;
    if (!byDay.empty()) byDay += ',';
    byDay += kDayNames[d];
  }
  return "RRULE:FREQ=WEEKLY;BYDAY=" + byDay + ";BYHOUR=" + std::to_string(startMinute / 60) +
         ";BYMINUTE=" + std::to_string(startMinute % 60);
}

nlohmann::json PinCredential::toJson() const {
  nlohmann::json j;
  j["id"] = id;
  j["pinCode"] = pinCode;
  j["name"] = name;
  j["alwaysActive"] = alwaysActive();
  j["temporarySchedules"] = nlohmann::json::array();
  if (temporary) {
    // Normalised: UTC with "Z", whole seconds unless there are milliseconds.
    auto fmt = [](Time t) {
      std::string s = formatRfc3339(t);
      if (s.size() == 24 && s.compare(19, 4, ".000") == 0) s = s.substr(0, 19) + "Z";
      return s;
    };
    j["temporarySchedules"].push_back(
        {{"startDatetime", fmt(temporary->start)}, {"endDatetime", fmt(temporary->end)}});
  }
  j["recurringSchedules"] = nlohmann::json::array();
  if (recurring)
    j["recurringSchedules"].push_back(
        {{"rrule", recurring->rrule()}, {"duration", recurring->durationMinutes}});
  return j;
}

const char* pinErrorCode(PinError e) {
  switch (e) {
    case PinError::kNone:
      return "";
    case PinError::kFormat:
      return "PIN_FORMAT";
    case PinError::kContainsZero:
      return "PIN_CONTAINS_ZERO";
    case PinError::kStartsWith12:
      return "PIN_STARTS_WITH_12";
    case PinError::kNameLength:
      return "NAME_LENGTH";
    case PinError::kScheduleInvalid:
      return "SCHEDULE_INVALID";
    case PinError::kDuplicate:
      return "PIN_DUPLICATE";
    case PinError::kCapacity:
      return "PIN_CAPACITY";
    case PinError::kPending:
      return "PIN_PENDING";
  }
  return "";
}

const char* pinErrorField(PinError e) {
  switch (e) {
    case PinError::kFormat:
    case PinError::kContainsZero:
    case PinError::kStartsWith12:
    case PinError::kDuplicate:
      return "parameters.pinCode";
    case PinError::kNameLength:
      return "parameters.name";
    default:
      return "";
  }
}

std::optional<RecurringSchedule> parseRrule(std::string_view rrule, int durationMinutes,
                                            std::string& error) {
  // RRULE:FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=8;BYMINUTE=30 — parts in any order, the prefix
  // optional, nothing else allowed.
  if (rrule.rfind("RRULE:", 0) == 0) rrule.remove_prefix(6);
  RecurringSchedule r;
  r.days = 0;
  bool weekly = false, haveDays = false;
  int hour = -1, minute = 0;
  while (!rrule.empty()) {
    const auto semi = rrule.find(';');
    std::string_view part = rrule.substr(0, semi);
    rrule = semi == std::string_view::npos ? std::string_view{} : rrule.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      error = "rrule part '" + std::string(part) + "' is not KEY=VALUE";
      return std::nullopt;
    }
    const std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    auto number = [&](int lo, int hi, int& out) {
      if (value.empty() || value.size() > 2) return false;
      int v = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
      }
      if (v < lo || v > hi) return false;
      out = v;
      return true;
    };
    if (key == "FREQ") {
      if (value != "WEEKLY") {
        error = "only FREQ=WEEKLY rrules map to a Nuki schedule";
        return std::nullopt;
      }
      weekly = true;
    } else if (key == "BYDAY") {
      haveDays = true;
      if (value.empty()) {
        error = "BYDAY is empty (leave BYDAY out for every day)";
        return std::nullopt;
      }
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view day = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        int found = -1;
        for (int d = 0; d < 7; ++d)
          if (day == kDayNames[d]) found = d;
        if (found < 0) {
          error = "BYDAY has '" + std::string(day) + "', not one of MO…SU";
          return std::nullopt;
        }
        r.days |= uint8_t(nuki::kMonday >> found);
      }
    } else if (key == "BYHOUR") {
      if (!number(0, 23, hour)) {
        error = "BYHOUR must be 0..23";
        return std::nullopt;
      }
    } else if (key == "BYMINUTE") {
      if (!number(0, 59, minute)) {
        error = "BYMINUTE must be 0..59";
        return std::nullopt;
      }
    } else {
      error = "rrule part " + std::string(key) + " has no Nuki equivalent";
      return std::nullopt;
    }
  }
  if (!weekly) {
    error = "the rrule needs FREQ=WEEKLY";
    return std::nullopt;
  }
  if (!haveDays || r.days == 0) r.days = nuki::kEveryDay;  // no BYDAY: every day
  if (hour < 0) hour = 0;
  r.startMinute = hour * 60 + minute;
  r.durationMinutes = durationMinutes;
  return r;
}

PinParseResult parsePinParameters(const nlohmann::json& p, const PinCredential* base) {
  PinParseResult out;
  auto bad = [&](std::string field, std::string message) {
    out.badRequestField = "parameters" + (field.empty() ? "" : "." + field);
    out.badRequest = out.badRequestField + ": " + message;
    return out;
  };
  auto invalid = [&](std::string field, std::string message) {
    if (out.problem) return;  // the first K7 problem found wins
    out.problemField = "parameters." + field;
    out.problem = {PinError::kScheduleInvalid, out.problemField + ": " + message};
  };
  if (!p.is_object()) return bad("", "must be a JSON object");
  PinCredential pin = base ? *base : PinCredential{};
  auto field = [&](const char* k) -> const nlohmann::json* {
    auto it = p.find(k);
    return it == p.end() ? nullptr : &*it;
  };
  for (const auto& [k, v] : p.items()) {
    if (k != "id" && k != "pinCode" && k != "name" && k != "temporarySchedules" &&
        k != "recurringSchedules")
      return bad(k, "unknown parameter");
  }
  if (auto* v = field("pinCode")) {
    if (!v->is_string()) return bad("pinCode", "must be a string of digits");
    pin.pinCode = v->get<std::string>();
  } else if (!base) {
    return bad("pinCode", "is required");
  }
  if (auto* v = field("name")) {
    if (!v->is_string()) return bad("name", "must be a string");
    pin.name = v->get<std::string>();
    if (auto c = forbiddenNameCharacter(pin.name)) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", unsigned(c->second));
      return bad("name", std::string("must not contain control, line-separator or "
                                     "bidi-override characters (") +
                             hex + " at character " + std::to_string(c->first + 1) + ")");
    }
  } else if (!base) {
    pin.name.clear();  // K6 will refuse it
  }
  if (auto* v = field("temporarySchedules")) {
    if (!v->is_array()) return bad("temporarySchedules", "must be an array");
    pin.temporary.reset();
    if (v->size() > 1) {
      invalid("temporarySchedules", "at most one temporary schedule per code");
    } else if (v->size() == 1) {
      const auto& s = (*v)[0];
      auto isText = [&](const char* k) { return !s.contains(k) || s[k].is_string(); };
      if (!s.is_object() || !isText("startDatetime") || !isText("endDatetime"))
        return bad("temporarySchedules[0]",
                   "a temporary schedule is {\"startDatetime\",\"endDatetime\"} (RFC 3339)");
      // K7: both ends are required, and must be instants.
      if (!s.contains("startDatetime") || !s.contains("endDatetime")) {
        invalid(std::string("temporarySchedules[0].") +
                    (s.contains("startDatetime") ? "endDatetime" : "startDatetime"),
                "a temporary schedule needs both startDatetime and endDatetime");
      } else {
        std::string why;
        auto start = scheduleInstant(s["startDatetime"].get<std::string>(), why);
        if (!start) invalid("temporarySchedules[0].startDatetime", why);
        auto end = scheduleInstant(s["endDatetime"].get<std::string>(), why);
        if (!end) invalid("temporarySchedules[0].endDatetime", why);
        if (start && end) pin.temporary = TemporarySchedule{*start, *end};
      }
    }
  }
  if (auto* v = field("recurringSchedules")) {
    if (!v->is_array()) return bad("recurringSchedules", "must be an array");
    pin.recurring.reset();
    if (v->size() > 1) {
      invalid("recurringSchedules", "at most one recurring schedule per code");
    } else if (v->size() == 1) {
      const auto& s = (*v)[0];
      if (!s.is_object() || !s.contains("rrule") || !s["rrule"].is_string() ||
          !s.contains("duration") || !s["duration"].is_number_integer())
        return bad("recurringSchedules[0]",
                   "a recurring schedule is {\"rrule\":\"RRULE:…\",\"duration\":minutes}");
      std::string why;
      const int64_t duration = s["duration"].get<int64_t>();
      auto r = parseRrule(s["rrule"].get<std::string>(),
                          int(std::clamp<int64_t>(duration, -1, 100000)), why);
      if (!r)
        invalid("recurringSchedules[0].rrule", why);
      else
        pin.recurring = *r;
    }
  }
  out.pin = std::move(pin);
  return out;
}

PinProblem checkPinFormat(const PinCredential& pin) {
  const std::string& c = pin.pinCode;
  const bool digits = c.size() == 6 && std::all_of(c.begin(), c.end(),
                                                   [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!digits) return {PinError::kFormat, "a PIN code is exactly 6 digits"};  // K1
  if (c.find('0') != std::string::npos)
    return {PinError::kContainsZero, "a PIN code must not contain the digit 0"};  // K2
  if (c.rfind("12", 0) == 0)
    return {PinError::kStartsWith12, "a PIN code must not start with 12"};  // K3
  const size_t n = codePoints(pin.name);
  if (n < 1 || n > 20)
    return {PinError::kNameLength, "the name must have 1 to 20 characters"};  // K6
  if (pin.temporary && !(pin.temporary->start < pin.temporary->end))          // K7
    return {PinError::kScheduleInvalid, "a temporary schedule must start before it ends"};
  if (pin.recurring) {
    const auto& r = *pin.recurring;
    // Nuki's window is from ≤ minute ≤ until with until ≤ 23:59, or from = until = 0 for the
    // whole day: so start + duration ≤ 1439, or 00:00 for 1440 minutes.
    const bool wholeDay = r.startMinute == 0 && r.durationMinutes == 1440;
    if (!wholeDay && (r.durationMinutes < 1 || r.startMinute + r.durationMinutes > 1439))
      return {PinError::kScheduleInvalid,
              "a recurring schedule lasts at least a minute and ends by 23:59 the same local "
              "day (or is the whole day: 00:00 for 1440 minutes)"};
    if (r.days == 0) return {PinError::kScheduleInvalid, "a recurring schedule needs a day"};
    // Nuki stores every whole day as "no recurring window": it would come back without one.
    if (wholeDay && r.days == nuki::kEveryDay)
      return {PinError::kScheduleInvalid,
              "a recurring schedule of every whole day is no restriction: leave it out"};
  }
  return {};
}

PinProblem checkPinConflicts(const PinCredential& pin, const std::vector<std::string>& otherCodes,
                             bool adding) {
  if (std::find(otherCodes.begin(), otherCodes.end(), pin.pinCode) != otherCodes.end())
    return {PinError::kDuplicate, "the lock already has the code " + pin.pinCode};  // K4
  if (adding && otherCodes.size() >= 100)
    return {PinError::kCapacity, "the lock already has 100 codes"};  // K5
  return {};
}

NukiAuthFields toNukiFields(const PinCredential& pin) {
  NukiAuthFields f;
  f.name = pin.name;
  // A credential read from Nuki Web may have no code (or one Nuki Web spelled its own way):
  // then none is sent, rather than std::stoll throwing out of the event loop.
  int64_t code = 0;
  const char* end = pin.pinCode.data() + pin.pinCode.size();
  if (auto [p, ec] = std::from_chars(pin.pinCode.data(), end, code);
      !pin.pinCode.empty() && ec == std::errc() && p == end)
    f.code = code;
  if (pin.temporary) {
    f.allowedFrom = pin.temporary->start;
    f.allowedUntil = pin.temporary->end;
  }
  if (pin.recurring) {
    const auto& r = *pin.recurring;
    f.allowedWeekDays = r.days;
    if (r.startMinute == 0 && r.durationMinutes == 1440) {
      f.allowedFromTime = 0;  // from = until = 0: the whole day
      f.allowedUntilTime = 0;
    } else {
      f.allowedFromTime = r.startMinute;
      f.allowedUntilTime = r.startMinute + r.durationMinutes;
    }
  } else {
    f.allowedWeekDays = nuki::kEveryDay;
    f.allowedFromTime = 0;
    f.allowedUntilTime = 0;
  }
  f.remoteAllowed = false;
  return f;
}

PinCredential fromNukiAuth(const NukiAuth& a) {
  PinCredential p;
  if (a.code) {
    p.pinCode = std::to_string(*a.code);
  }
  p.name = a.name;
  p.nukiAuthId = a.id;
  if (a.allowedFrom && a.allowedUntil)
    p.temporary = TemporarySchedule{*a.allowedFrom, *a.allowedUntil};
  const bool noRecurring =
      a.allowedWeekDays == nuki::kEveryDay && a.allowedFromTime == 0 && a.allowedUntilTime == 0;
  if (!noRecurring) {
    RecurringSchedule r;
    const int days = a.allowedWeekDays & nuki::kEveryDay;  // other bits mean nothing
    r.days = uint8_t(days == 0 ? nuki::kEveryDay : days);
    if (a.allowedFromTime == 0 && a.allowedUntilTime == 0) {
      r.startMinute = 0;
      r.durationMinutes = 1440;
    } else {
      r.startMinute = a.allowedFromTime;
      r.durationMinutes = a.allowedUntilTime - a.allowedFromTime;
    }
    p.recurring = r;
  }
  return p;
}

}  // namespace nukihil::adapter
