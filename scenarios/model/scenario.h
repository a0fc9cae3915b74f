// A scenario file (SPEC §7) as data, and the validator that turns a file's text into it. Every
// file is validated whole before anything runs: what is wrong comes back with the file, the JSON
// path, the step and, for a misspelt key, the nearest known name.
//
// Part of the spec model's target: it depends on runtime/ and nlohmann/json only.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/time.h"
#include "runtime/time_zone.h"

namespace nukihil::model {

// A keypad code in Nuki's field names (locks[].codes, addCodeOnLock).
struct CodeSpec {
  std::string name;
  int64_t code = 0;
  std::optional<int64_t> fromMs, untilMs;  // allowedFromDate / allowedUntilDate
  std::optional<int> weekDays, fromTime, untilTime;
  bool enabled = true;
  std::string as;       // locks[].codes only: the name its PIN id binds to at discovery
  nlohmann::json nuki;  // the fields as Nuki/nukisim take them (without "as")
};

struct LockSpec {
  std::string name;
  bool pro = true;  // "3.0 Pro" (built-in Wi-Fi) or "3.0" (through a bridge)
  std::optional<uint64_t> bridgeId;
  int battery = 100;
  bool online = true;
  // Settings after the scenario's `settings` defaults are applied.
  std::string timezone = "UTC";
  int syncAtMinute = 180;
  int motorSeconds = 3;
  int deliverySeconds = 5;
  std::vector<CodeSpec> codes;
  nlohmann::json fleet;  // the lock as a fleet-file entry for nukisim
};

enum class StepKind {
  kSetLocked,
  kCreatePin,
  kUpdatePin,
  kDeletePin,
  kOffline,
  kOnline,
  kBattery,
  kJam,
  kFree,
  kKeypad,
  kKnob,
  kAddCodeOnLock,
  kRemoveCodeOnLock,
  kNukiRequest,
  kSync,
  kAdvance,
  kAdvanceTo,
  kFault,
  kClearFaults,
  kReceiverDown,
  kReceiverUp,
  kRestartAdapter,
  kResumeOutbox,
  kExpectAction,
  kExpectDevice,
  kExpectLock,
  kExpectOutbox,
};
const char* stepKindName(StepKind k);
bool isTraitAction(StepKind k);

struct Step {
  size_t index = 0;  // 0-based position in `steps`
  StepKind kind = StepKind::kAdvance;
  nlohmann::json raw;  // the step as written
  std::string lock;    // lock name, where the step names one
  // Trait actions.
  nlohmann::json parameters;  // as written ("@name" not yet replaced)
  std::string as;
  std::string idempotencyKey;
  nlohmann::json expect;  // null when absent
  // battery / keypad / removeCodeOnLock
  int64_t number = 0;
  // knob
  bool lockIt = false;
  // addCodeOnLock
  CodeSpec code;
  // nukiRequest
  std::string method, path;
  nlohmann::json body;  // null when absent
  // advance / advanceTo
  int64_t seconds = 0;
  std::optional<Time> time;  // advanceTo time
  int localMinute = -1;      // advanceTo lock + localTime
  // fault
  nlohmann::json fault;
  // receiverDown
  int status = 503;
  // restartAdapter
  bool kill = true;
  std::string during;  // "", "nextWebhook", "nextNukiCall"
  // expectAction
  std::string ref;
  std::string actionStatus;
  std::optional<std::string> reason;
  // expectDevice / expectLock / expectOutbox: the fields to compare, as written
  nlohmann::json fields;

  // "steps[3] (createPin)" for messages.
  std::string label() const;
};

struct Scenario {
  std::string file;  // path as given
  std::string name;
  std::string description;
  std::vector<std::string> rules, tags;
  Time start = timeFromMillis(1735689600000LL);  // 2025-01-01T00:00:00Z
  std::optional<uint64_t> seed;
  bool nukiWebhooks = true;
  int pollSeconds = 60;
  std::vector<LockSpec> locks;
  std::vector<Step> steps;
  // expectWebhooks: lock name → entries {type, content fields}; content normalised into
  // {"type":…, "content":{…}}.
  std::map<std::string, std::vector<nlohmann::json>> expectWebhooks;
  nlohmann::json raw;

  const LockSpec* lock(const std::string& name) const;
  size_t lockIndex(const std::string& name) const;  // npos if absent
};

struct Problem {
  std::string file;
  std::string path;  // JSON path: "steps[3].parameters.pinCode"
  std::string step;  // "steps[3] (createPin)", empty when not in a step
  std::string message;
  int line = 0, column = 0;  // for JSON syntax errors
  std::string text() const;  // "file: path: message"
};

struct ParseResult {
  std::optional<Scenario> scenario;
  std::vector<Problem> problems;  // non-empty: the file is invalid
};

// Validates the text of one scenario file (SPEC §7) and builds the Scenario.
ParseResult parseScenario(const std::string& text, const std::string& file);

// SPEC §7 `advanceTo {"lock", "localTime"}`: the earliest instant strictly after `now` whose
// local time in `zone` is `minute` (of the day):00. A time skipped by a clock change gives the
// first instant after the gap; a repeated one its first occurrence — or its second, if the
// first is not after `now` any more.
Time nextLocalTime(const TimeZone& zone, Time now, int minute);

// Unicode code points of UTF-8 text (K6 counts them), and whether the text is valid UTF-8.
size_t codePoints(const std::string& text);
bool validUtf8(const std::string& text);

// A platform recurring schedule's rule, "RRULE:FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=8;BYMINUTE=30"
// (the prefix optional, parts in any order): its days (Nuki's mask, Mon=64 … Sun=1; no BYDAY:
// every day) and start minute. False for anything with no Nuki equivalent.
bool parseRrule(const std::string& rule, int& days, int& startMinute);

// Every rule id SPEC.md defines, in its order (the rule-coverage table's rows).
const std::vector<std::string>& allRuleIds();

}  // namespace nukihil::model
