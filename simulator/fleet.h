// The lock fleet as data: accounts, bridges, locks with their device truth (motor, battery,
// keypad codes, queue) and what Nuki Web knows of them (reported state, web view of the codes,
// accepted changes not yet synced). Records are compact: a fleet of 100,000 locks with 100
// codes each fits in 2 GiB because device truth and web view share unchanged code records.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "runtime/time.h"
#include "runtime/time_zone.h"
#include "simulator/object_id.h"

namespace nukihil::sim {

inline constexpr int64_t kUnset = std::numeric_limits<int64_t>::min();

enum class Model : uint8_t { k30, k30Pro };

// Nuki's auth types.
enum AuthType : uint8_t { kAuthApp = 0, kAuthBridge = 1, kAuthKeypadCode = 13 };

// Motor states (Smartlock.State.state).
enum MotorState : uint8_t {
  kLocked = 1,
  kUnlocking = 2,
  kUnlocked = 3,
  kLocking = 4,
  kUnlatched = 5,
  kUnlockedLockNGo = 6,
  kUnlatching = 7,
  kMotorBlocked = 254,
};

// Motor actions (SmartlockAction.action).
enum MotorAction : uint8_t {
  kActionUnlock = 1,
  kActionLock = 2,
  kActionUnlatch = 3,
  kActionLockNGo = 4,
  kActionLockNGoUnlatch = 5,
};

// State triggers (Smartlock.State.trigger) and log triggers (SmartlockLog.trigger).
enum Trigger : uint8_t {
  kTriggerSystem = 0,
  kTriggerManual = 1,
  kTriggerAutomatic = 3,
  kTriggerWeb = 4,
  kTriggerAutoLock = 6,
  kTriggerAccessory = 7,
  kTriggerKeypad = 255,
};

// A schedule as Nuki stores it (K7). A code works only when every window that is set allows
// the moment.
struct Schedule {
  int64_t fromMs = kUnset;   // allowedFromDate (inclusive)
  int64_t untilMs = kUnset;  // allowedUntilDate (inclusive)
  uint16_t fromTime = 0;     // allowedFromTime, minutes of the local day
  uint16_t untilTime = 0;    // allowedUntilTime
  uint8_t weekDays = 127;    // allowedWeekDays: Mon=64 … Sun=1

  bool hasTemporary() const { return fromMs != kUnset; }
  bool hasRecurring() const { return !(weekDays == 127 && fromTime == 0 && untilTime == 0); }
  bool operator==(const Schedule&) const = default;
};

// One authorization on a lock. Immutable once shared between device truth and web view;
// change it through Fleet::edit (copy on write).
struct Auth {
  ObjectId id;
  std::string name;
  int64_t creationMs = 0;
  int64_t updateMs = 0;
  int64_t lastActiveMs = kUnset;
  Schedule schedule;
  int32_t authId = 0;  // the slot on the lock
  uint32_t code = 0;   // keypad codes only
  uint32_t lockCount = 0;
  uint8_t type = kAuthKeypadCode;
  bool enabled = true;
  bool remoteAllowed = false;
  mutable uint32_t refs = 0;

  // Same content (the reference count aside).
  bool sameAs(const Auth& o) const {
    return id == o.id && name == o.name && creationMs == o.creationMs && updateMs == o.updateMs &&
           lastActiveMs == o.lastActiveMs && schedule == o.schedule && authId == o.authId &&
           code == o.code && lockCount == o.lockCount && type == o.type && enabled == o.enabled &&
           remoteAllowed == o.remoteAllowed;
  }
};

// A counted reference to a shared, immutable Auth.
class AuthRef {
 public:
  AuthRef() = default;
  explicit AuthRef(Auth* a) : p_(a) { retain(); }
  AuthRef(const AuthRef& o) : p_(o.p_) { retain(); }
  AuthRef(AuthRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  AuthRef& operator=(AuthRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~AuthRef() { release(); }

  const Auth* get() const { return p_; }
  const Auth& operator*() const { return *p_; }
  const Auth* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  bool shared() const { return p_ && p_->refs > 1; }
  // Write access; only valid while not shared.
  Auth* mutate() { return p_; }

  static AuthRef make(Auth a) { return AuthRef(new Auth(std::move(a))); }

 private:
  void retain() {
    if (p_) ++p_->refs;
  }
  void release() {
    if (p_ && --p_->refs == 0) delete p_;
    p_ = nullptr;
  }
  Auth* p_ = nullptr;
};

// Returns a writable copy of `ref` (copying only if the record is shared).
inline Auth& editAuth(AuthRef& ref) {
  if (ref.shared()) {
    Auth copy = *ref;
    copy.refs = 0;
    ref = AuthRef::make(std::move(copy));
  }
  return *ref.mutate();
}

struct LogEntry {
  ObjectId id;
  ObjectId authId;  // the code used, for keypad entries (empty otherwise)
  int64_t dateMs = 0;
  std::string name;
  uint8_t action = 0;
  uint8_t trigger = 0;
  uint8_t state = 0;   // completion state: 0 success, 1 motor blocked, 224 invalid code
  uint8_t source = 0;  // 1 keypad code
};

// One entry of a lock's FIFO queue: a motor action or an auth change sent by Nuki Web.
struct Command {
  enum Kind : uint8_t { kMotor, kAuthCreate, kAuthUpdate, kAuthDelete };
  Kind kind = kMotor;
  uint8_t action = 0;  // motor
  uint8_t trigger = kTriggerWeb;
  int64_t readyMs = 0;  // not carried out before this instant
  ObjectId operation;   // auth changes: the operationId the auth carries until delivery
  ObjectId target;      // auth changes: the auth
  AuthRef auth;         // create/update: the new record
  std::string by;       // motor: the name logged (the account)
};

// A code typed on the keypad and what the lock made of it (kept for the dashboard).
struct KeypadTry {
  int64_t atMs = 0;
  uint32_t code = 0;
  bool granted = false;
  std::string reason;  // KeypadOutcome's; "" when granted
};
inline constexpr size_t kKeypadTriesKept = 20;

// A change Nuki Web has accepted and not yet synced: counted by K4/K5.
struct PendingChange {
  Command::Kind kind = Command::kAuthCreate;
  ObjectId operation;
  ObjectId target;
  AuthRef auth;  // create/update
  bool delivered = false;
};

// The values Nuki's Smartlock.AdvancedConfig allows.
inline bool validUnlatchDuration(uint32_t s) {
  for (uint32_t v : {1, 3, 5, 7, 10, 15, 20, 30})
    if (s == v) return true;
  return false;
}
inline bool validLngTimeout(uint32_t s) {
  for (uint32_t v : {5, 10, 15, 20, 30, 45, 60})
    if (s == v) return true;
  return false;
}

struct LockSettings {
  uint32_t motorSeconds = 3;
  uint32_t deliverySeconds = 5;
  uint32_t unlatchDuration = 3;
  uint32_t lngTimeout = 20;
  uint16_t syncAtMinute = 180;         // 03:00 local
  const TimeZone* timeZone = nullptr;  // null: UTC
};

struct Lock {
  uint64_t smartlockId = 0;
  uint32_t nukiId = 0;
  uint32_t account = 0;          // index into Fleet::accounts
  uint32_t bridge = UINT32_MAX;  // index into Fleet::bridges (3.0 only)
  Model model = Model::k30Pro;
  bool removed = false;
  bool favorite = false;
  std::string name;
  int32_t apiAuthId = 0;  // Smartlock.authId
  int64_t creationMs = 0;
  int64_t updateMs = 0;
  LockSettings settings;

  // Device truth.
  bool wifiOnline = true;  // 3.0 Pro: its own Wi-Fi
  uint8_t state = kUnlocked;
  uint8_t stableState = kUnlocked;  // the last state the motor came to rest in (not 254)
  uint8_t trigger = kTriggerSystem;
  uint8_t lastAction = kActionUnlock;
  uint8_t battery = 100;
  bool jammed = false;
  bool motorBusy = false;
  bool jobBlocked = false;  // the running motor job started on a jammed motor
  bool jobLogged = true;    // the running job writes its own log entry at the end
  uint8_t jobAction = 0;
  uint8_t jobTrigger = 0;
  uint32_t motorGeneration = 0;  // bumps with every motor start; stale follow-ups are ignored
  int32_t nextAuthSlot = 1;
  std::vector<AuthRef> deviceAuths;  // sorted by id
  std::deque<Command> queue;         // from Nuki Web, FIFO
  std::deque<Command> localQueue;    // keypad unlocks waiting for the motor
  std::deque<LogEntry> logs;         // oldest first; logs[0 .. reportedLogs) Nuki Web has seen
  size_t reportedLogs = 0;
  std::string jobBy;
  std::vector<KeypadTry> keypadTries;  // the last kKeypadTriesKept, oldest first

  // What Nuki Web knows.
  bool webOnline = true;
  uint8_t webState = kUnlocked;
  uint8_t webTrigger = kTriggerSystem;
  uint8_t webLastAction = kActionUnlock;
  uint8_t webBattery = 100;
  std::vector<AuthRef> webView;  // the codes at the last sync, sorted by id
  std::vector<PendingChange> pending;
  int64_t nextSyncMs = kUnset;
  uint32_t syncGeneration = 0;

  // Serialised Smartlock JSON, rebuilt on demand after a change.
  mutable std::string cachedJson;
};

struct Account {
  int32_t accountId = 0;
  std::string name;
  std::string email;
  std::string apiToken;
  int64_t creationMs = 0;
  std::vector<uint32_t> locks;  // indices into Fleet::locks (removed ones included)
};

struct Bridge {
  uint64_t bridgeId = 0;
  uint32_t account = 0;
  bool online = true;
  std::vector<uint32_t> locks;
};

}  // namespace nukihil::sim
