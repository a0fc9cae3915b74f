// The adapter's own reading and writing of Nuki Web JSON (DESIGN: it shares no wire-format
// code with the simulator). Field names and types follow Nuki's Swagger document
// (tests/fixtures/nuki/nuki-web-api.swagger.json); the golden fixtures beside it are the test.
//
// Decoding rules, the same everywhere:
// - a body that is not JSON, or not the shape it claims to be, is rejected: nullopt, and
//   `error` says what and where ("[1].state.batteryCharge: expected an integer, got 1.5");
// - a field of the wrong type is an error even where the field is optional; integers must be
//   JSON integers (1.0 is not one) that fit the field;
// - an optional field that is absent or null stays unset (or keeps its default);
// - fields the adapter does not use, and unknown fields, are ignored.
// Lists are all or nothing: one bad element rejects the list.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/time.h"

namespace nukihil::adapter {

// Nuki's numbers the adapter reads and writes, with the Swagger's meaning (SPEC §3, §5).
namespace nuki {
// Smartlock.type
constexpr int kSmartLock3 = 4;  // Nuki Smart Lock 3.0 / 3.0 Pro
// Smartlock.serverState
constexpr int kServerOnline = 0;
// Smartlock.State.state
constexpr int kLocked = 1;
constexpr int kUnlocking = 2;
constexpr int kUnlocked = 3;
constexpr int kLocking = 4;
constexpr int kUnlatched = 5;
constexpr int kUnlockedLockNGo = 6;
constexpr int kUnlatching = 7;
constexpr int kMotorBlocked = 254;
// SmartlockAuth.type
constexpr int kKeypadCode = 13;
// SmartlockLog.action
constexpr int kActionUnlock = 1;
constexpr int kActionLock = 2;
// SmartlockLog.trigger
constexpr int kTriggerWeb = 4;  // an action through the API
// SmartlockLog.state: the completion state of a motor action
constexpr int kCompleted = 0;
constexpr int kCompletionMotorBlocked = 1;
// SmartlockAuth.allowedWeekDays: a bit per day, Mon=64 … Sun=1
constexpr int kMonday = 64;
constexpr int kEveryDay = 127;
}  // namespace nuki

// A Smartlock (GET /smartlock, GET /smartlock/{id}, DEVICE_MASTERDATA, DEVICE_STATUS).
// Required: smartlockId, accountId, type, name — the identity of the lock. Everything else is
// optional so that a truncated or reduced element (a DEVICE_STATUS, a logged partial element)
// still decodes; an absent serverState reads 0, as in the Swagger every real element has one.
struct NukiLock {
  uint64_t smartlockId = 0;
  int64_t accountId = 0;
  int type = 0;
  std::string name;
  bool wifi = false;  // config.wifiEnabled: 3.0 Pro
  int serverState = 0;
  std::optional<int> state;  // state.state and so on
  std::optional<int> trigger;
  std::optional<int> lastAction;
  std::optional<int> batteryCharge;
  bool batteryCritical = false;
  bool online() const { return serverState == nuki::kServerOnline; }
};

// A SmartlockAuth. Required: id, smartlockId, type, name (Nuki's documentation elides the
// rest in its DEVICE_AUTHS example); enabled defaults to true, remoteAllowed to false.
struct NukiAuth {
  std::string id;
  uint64_t smartlockId = 0;
  int type = 0;
  std::optional<int64_t> code;
  std::string name;
  bool enabled = true;
  bool remoteAllowed = false;
  std::optional<Time> allowedFrom, allowedUntil;  // allowedFromDate, allowedUntilDate
  int allowedWeekDays = 127;
  int allowedFromTime = 0;
  int allowedUntilTime = 0;
  std::optional<std::string> operationId;  // set while a change to it waits for delivery
};

// A SmartlockLog. Required: id, smartlockId, action, trigger, state, name, date.
struct NukiLog {
  std::string id;
  uint64_t smartlockId = 0;
  int action = 0;
  int trigger = 0;
  int state = 0;
  std::string name;
  std::optional<std::string> authId;
  Time date;
};

// The body of a keypad-code create/update (SmartlockAuthCreate / SmartlockAuthUpdate).
struct NukiAuthFields {
  std::string name;
  std::optional<int64_t> code;
  std::optional<Time> allowedFrom, allowedUntil;
  std::optional<int> allowedWeekDays, allowedFromTime, allowedUntilTime;
  std::optional<bool> enabled;  // update only: SmartlockAuthCreate has no `enabled`
  bool remoteAllowed = false;
};

// A Nuki decentral webhook body (SPEC §4): DEVICE_STATUS, DEVICE_LOGS, DEVICE_AUTHS,
// DEVICE_MASTERDATA (others: kOther).
//  - kStatus: smartlockId, state (object) and serverState are required; `lock` carries
//    serverState and the state fields (its name, accountId and type are empty).
//  - kMasterData: the Smartlock's top-level fields, decoded as a NukiLock; `deleted`.
//  - kLogs: `smartlockLog` required, `log` set; smartlockId taken from it.
//  - kAuths: `smartlockAuth` required, `auth` set; `deleted` (default false); smartlockId
//    taken from it.
// A top-level smartlockId that contradicts the inner object's is an error.
struct NukiEvent {
  enum Kind { kStatus, kLogs, kAuths, kMasterData, kOther } kind = kOther;
  uint64_t smartlockId = 0;
  std::optional<NukiLock> lock;  // status: state+serverState; masterdata: top-level fields
  std::optional<NukiLog> log;
  std::optional<NukiAuth> auth;
  bool deleted = false;
};

std::optional<NukiLock> decodeSmartlock(const nlohmann::json& j, std::string& error);
std::optional<NukiAuth> decodeAuth(const nlohmann::json& j, std::string& error);
std::optional<NukiLog> decodeLog(const nlohmann::json& j, std::string& error);

std::optional<std::vector<NukiLock>> decodeSmartlocks(std::string_view body, std::string& error);
std::optional<std::vector<NukiAuth>> decodeAuths(std::string_view body, std::string& error);
std::optional<std::vector<NukiLog>> decodeLogs(std::string_view body, std::string& error);
std::optional<NukiEvent> decodeEvent(std::string_view body, std::string& error);

// A DecentralWebhook (the answer to PUT /api/decentralWebhook, the items of its GET).
struct NukiWebhook {
  int64_t id = 0;
  std::string secret;  // only in the PUT answer
  std::string url;
  std::vector<std::string> features;
};
std::optional<NukiWebhook> decodeWebhook(const nlohmann::json& j, std::string& error);
std::optional<NukiWebhook> decodeWebhook(std::string_view body, std::string& error);
std::optional<std::vector<NukiWebhook>> decodeWebhooks(std::string_view body, std::string& error);

// PUT /smartlock/{id}/auth: a type 13 keypad code with the Swagger's field names and types.
// Unset schedule fields are left out (no window); `enabled` is not part of a create.
std::string encodeAuthCreate(const NukiAuthFields& fields);
// POST /smartlock/{id}/auth/{authId}: the whole new state of the code. Nuki Web keeps the
// fields an update does not mention, so an unset date is sent as null (clears the temporary
// window) and unset weekdays/times as 127/0/0 (no recurring window); `code` and `enabled`
// only when set.
std::string encodeAuthUpdate(const NukiAuthFields& fields);
// PUT /api/decentralWebhook.
std::string encodeWebhook(const std::string& url, const std::vector<std::string>& features);

}  // namespace nukihil::adapter
