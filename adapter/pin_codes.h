// PIN code credentials as the platform sees them (Yonomi's shape, SPEC §5), their mapping to
// and from Nuki's keypad-code fields, and the rules K1–K7 the adapter checks before it sends
// anything, with the typed errors SPEC §5 names.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "adapter/nuki_codec.h"
#include "runtime/time.h"
#include "runtime/time_zone.h"

namespace nukihil::adapter {

struct TemporarySchedule {
  Time start;  // startDatetime
  Time end;    // endDatetime
  bool operator==(const TemporarySchedule&) const = default;
};

// "RRULE:FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=8;BYMINUTE=30" with a duration in minutes, on the
// lock's local clock, ending the same local day.
struct RecurringSchedule {
  uint8_t days = nuki::kEveryDay;  // Nuki's bitmask: Mon=64 … Sun=1
  int startMinute = 0;             // BYHOUR * 60 + BYMINUTE
  int durationMinutes = 1440;
  bool operator==(const RecurringSchedule&) const = default;
  std::string rrule() const;
};

struct PinCredential {
  std::string id;  // the adapter's, stable for the life of the code
  std::string pinCode;
  std::string name;
  std::optional<TemporarySchedule> temporary;
  std::optional<RecurringSchedule> recurring;
  std::string nukiAuthId;  // Nuki's auth id once a sync revealed it

  bool alwaysActive() const { return !temporary && !recurring; }
  // Same code, name and schedule (what a sync can show of a change).
  bool sameContent(const PinCredential& o) const {
    return pinCode == o.pinCode && name == o.name && temporary == o.temporary &&
           recurring == o.recurring;
  }
  // SPEC §5 shape, schedules normalised (UTC "Z", days MO…SU).
  nlohmann::json toJson() const;
};

// The typed errors of SPEC §5, in the order the rules are checked.
enum class PinError {
  kNone,
  kFormat,           // K1 PIN_FORMAT
  kContainsZero,     // K2 PIN_CONTAINS_ZERO
  kStartsWith12,     // K3 PIN_STARTS_WITH_12
  kNameLength,       // K6 NAME_LENGTH
  kScheduleInvalid,  // K7 SCHEDULE_INVALID
  kDuplicate,        // K4 PIN_DUPLICATE
  kCapacity,         // K5 PIN_CAPACITY
  kPending,          // PIN_PENDING
};
const char* pinErrorCode(PinError e);
// The request-body field a rule checks ("parameters.pinCode" for K1–K4, "parameters.name" for
// K6); "" where no one field is at fault (K5, PIN_PENDING, a schedule as a whole).
const char* pinErrorField(PinError e);

struct PinProblem {
  PinError error = PinError::kNone;
  std::string message;
  explicit operator bool() const { return error != PinError::kNone; }
};

// Decodes the parameters of createPinCodeCredential / updatePinCodeCredential. Shape errors
// (wrong JSON types, unknown parameters, a name with control or bidi-override characters) are
// `badRequest` (400); rule breaches come back from checkPin. K7 found while reading: an rrule
// SPEC cannot map (an empty BYDAY included), a date-time that is not an RFC 3339 instant Nuki
// can store (a leap second :60 is refused, not moved to :59) or lies outside SPEC's
// 2000–2037. For an update, absent fields keep `base`'s values. Field paths start at
// "parameters." (the request body's member).
struct PinParseResult {
  std::optional<PinCredential> pin;
  std::string badRequest;       // non-empty: the parameters are malformed
  std::string badRequestField;  // its JSON path
  PinProblem problem;           // K1–K3, K6, K7 found while reading (schedule shapes)
  std::string problemField;     // its JSON path
};
PinParseResult parsePinParameters(const nlohmann::json& parameters, const PinCredential* base);

// K1–K3, K6, K7 on one credential, in SPEC order.
PinProblem checkPinFormat(const PinCredential& pin);
// K4 and K5 against the codes a lock has or will have: `others` excludes the credential
// being changed. `adding` is true for a create.
PinProblem checkPinConflicts(const PinCredential& pin, const std::vector<std::string>& otherCodes,
                             bool adding);

// Nuki mapping. Recurring schedules are on the lock's local clock, so the mapping needs no
// time zone; temporary windows are instants.
NukiAuthFields toNukiFields(const PinCredential& pin);
// A keypad-code auth as a credential (its id left empty). Nuki's from = until = 0 is a whole
// day; weekdays 127 with both times 0 is no recurring window.
PinCredential fromNukiAuth(const NukiAuth& auth);

std::optional<RecurringSchedule> parseRrule(std::string_view rrule, int durationMinutes,
                                            std::string& error);

}  // namespace nukihil::adapter
