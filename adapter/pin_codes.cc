#include "adapter/pin_codes.h"

#include <algorithm>

namespace nukihil::adapter {

namespace {

constexpr const char* kDayNames[7] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};

size_t codePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
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
  if (!p.is_object()) {
    out.badRequest = "parameters must be a JSON object";
    return out;
  }
  PinCredential pin = base ? *base : PinCredential{};
  auto field = [&](const char* k) -> const nlohmann::json* {
    auto it = p.find(k);
    return it == p.end() ? nullptr : &*it;
  };
  if (auto* v = field("pinCode")) {
    if (!v->is_string()) {
      out.badRequest = "pinCode must be a string of digits";
      return out;
    }
    pin.pinCode = v->get<std::string>();
  } else if (!base) {
    out.badRequest = "pinCode is required";
    return out;
  }
  if (auto* v = field("name")) {
    if (!v->is_string()) {
      out.badRequest = "name must be a string";
      return out;
    }
    pin.name = v->get<std::string>();
  } else if (!base) {
    pin.name.clear();  // K6 will refuse it
  }
  if (auto* v = field("temporarySchedules")) {
    if (!v->is_array()) {
      out.badRequest = "temporarySchedules must be an array";
      return out;
    }
    pin.temporary.reset();
    if (v->size() > 1) {
      out.problem = {PinError::kScheduleInvalid, "at most one temporary schedule per code"};
    } else if (v->size() == 1) {
      const auto& s = (*v)[0];
      auto isText = [&](const char* k) { return !s.contains(k) || s[k].is_string(); };
      if (!s.is_object() || !isText("startDatetime") || !isText("endDatetime")) {
        out.badRequest = "a temporary schedule is {\"startDatetime\",\"endDatetime\"} (RFC 3339)";
        return out;
      }
      // K7: both ends are required, and must be instants.
      std::optional<Time> start, end;
      if (s.contains("startDatetime")) start = parseRfc3339(s["startDatetime"].get<std::string>());
      if (s.contains("endDatetime")) end = parseRfc3339(s["endDatetime"].get<std::string>());
      if (!s.contains("startDatetime") || !s.contains("endDatetime")) {
        out.problem = {PinError::kScheduleInvalid,
                       "a temporary schedule needs both startDatetime and endDatetime"};
      } else if (!start || !end) {
        out.problem = {PinError::kScheduleInvalid,
                       "startDatetime and endDatetime must be RFC 3339 date-times"};
      } else {
        pin.temporary = TemporarySchedule{*start, *end};
      }
    }
  }
  if (auto* v = field("recurringSchedules")) {
    if (!v->is_array()) {
      out.badRequest = "recurringSchedules must be an array";
      return out;
    }
    pin.recurring.reset();
    if (v->size() > 1 && !out.problem) {
      out.problem = {PinError::kScheduleInvalid, "at most one recurring schedule per code"};
    } else if (v->size() == 1) {
      const auto& s = (*v)[0];
      if (!s.is_object() || !s.contains("rrule") || !s["rrule"].is_string() ||
          !s.contains("duration") || !s["duration"].is_number_integer()) {
        out.badRequest = "a recurring schedule is {\"rrule\":\"RRULE:…\",\"duration\":minutes}";
        return out;
      }
      std::string why;
      const int64_t duration = s["duration"].get<int64_t>();
      auto r = parseRrule(s["rrule"].get<std::string>(),
                          int(std::clamp<int64_t>(duration, -1, 100000)), why);
      if (!r) {
        if (!out.problem) out.problem = {PinError::kScheduleInvalid, why};
      } else {
        pin.recurring = *r;
      }
    }
  }
  for (const auto& [k, v] : p.items()) {
    if (k != "id" && k != "pinCode" && k != "name" && k != "temporarySchedules" &&
        k != "recurringSchedules") {
      out.badRequest = "unknown parameter " + k;
      return out;
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
  f.code = std::stoll(pin.pinCode);
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
    r.days = uint8_t(a.allowedWeekDays == 0 ? nuki::kEveryDay : a.allowedWeekDays);
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
