// The simulated world behind Nuki Web: accounts, bridges and locks on virtual time, with the
// lock behaviour of SPEC §3 and the validation Nuki Web applies (§2, K1–K7). Transport-free:
// the Nuki API handlers and the control plane call it with decoded values; what a lock reports
// goes out through a WorldObserver. Single-threaded.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/clock.h"
#include "runtime/random.h"
#include "simulator/fleet.h"
#include "simulator/scheduler.h"
#include "simulator/snapshot_codec.h"

namespace nukihil::sim {

// An error as a value: the HTTP status it maps to and what it is about. Nuki API handlers use
// param/value (400) or message; the control plane uses code/message.
struct Error {
  int status = 0;
  std::string code;     // control plane: "NOT_FOUND", "JAMMED", …
  std::string message;  // human readable
  std::string param;    // Nuki 400: the offending parameter
  std::string value;    // Nuki 400: its value as given

  explicit operator bool() const { return status != 0; }
  static Error none() { return {}; }
  static Error badParam(std::string param, std::string value);
  static Error make(int status, std::string code, std::string message);
};

// What a lock reports to Nuki Web, for webhook delivery.
class WorldObserver {
 public:
  virtual ~WorldObserver() = default;
  // True if anyone listens to this lock's account (so the world may skip building bodies).
  virtual bool listening(const Lock& lock) const = 0;
  virtual void deviceStatus(const Lock& lock) = 0;
  virtual void deviceLog(const Lock& lock, const LogEntry& entry) = 0;
  virtual void deviceAuth(const Lock& lock, const Auth& auth, bool deleted) = 0;
  virtual void masterData(const Lock& lock) = 0;
};

// Decoded fields of a create or update request; absent fields are nullopt. For the dates,
// an engaged optional holding kUnset means an explicit null.
struct AuthInput {
  std::optional<std::string> name;
  std::optional<int64_t> code;
  std::optional<int64_t> fromMs, untilMs;
  std::optional<int64_t> weekDays, fromTime, untilTime;
  std::optional<bool> enabled, remoteAllowed;
  std::optional<int64_t> type;
  std::optional<int64_t> accountUserId;
};

struct LockSpec {
  uint32_t account = 0;
  Model model = Model::k30Pro;
  std::string name;
  int battery = 100;
  std::optional<uint64_t> bridgeId;  // 3.0 only
  LockSettings settings;             // timeZone null: UTC
};

struct KeypadOutcome {
  bool granted = false;
  std::string reason;  // UNKNOWN_CODE, OUTSIDE_SCHEDULE, DISABLED, JAMMED; "" when granted
};

class World {
 public:
  struct Options {
    size_t maxLogsPerLock = 1000;
  };

  World(Clock& clock, Scheduler& scheduler, Random& random, Options options);
  void setObserver(WorldObserver* o) { observer_ = o; }

  Clock& clock() { return clock_; }
  Time now() const { return clock_.now(); }
  int64_t nowMs() const { return millisOf(clock_.now()); }

  // ---- What exists
  const std::vector<Account>& accounts() const { return accounts_; }
  const std::vector<Lock>& locks() const { return locks_; }
  const std::vector<Bridge>& bridges() const { return bridges_; }
  Lock& lock(uint32_t index) { return locks_[index]; }
  const Lock& lock(uint32_t index) const { return locks_[index]; }
  const Account& account(uint32_t index) const { return accounts_[index]; }
  std::optional<uint32_t> accountByToken(std::string_view token) const;
  std::optional<uint32_t> accountById(int64_t accountId) const;
  // Index of a live (not removed) lock by smartlockId or nukiId.
  std::optional<uint32_t> lockBySmartlockId(uint64_t smartlockId) const;
  std::optional<uint32_t> lockByNukiId(uint32_t nukiId) const;
  std::optional<uint32_t> bridgeById(uint64_t bridgeId) const;
  bool online(const Lock& l) const;

  // ---- Building the fleet (control plane, fleet files)
  uint32_t addAccount(std::string name, std::string email = {}, std::string token = {});
  // Creates a lock: online, unlocked, motor free, no codes. Errors: unknown bridge of
  // another account (409).
  std::pair<uint32_t, Error> addLock(const LockSpec& spec);
  // Puts a keypad code straight on the device and, if `synced`, into the web view too (fleet
  // files describe codes that are already synced).
  Error addDeviceCode(uint32_t lock, const AuthInput& in, bool synced = false);
  Error removeDeviceCode(uint32_t lock, int64_t code);
  LockSettings defaults;

  // ---- The physical world (control plane)
  Error setOnline(uint32_t lock, bool online);
  Error setBattery(uint32_t lock, int64_t charge);
  Error setJammed(uint32_t lock, bool jammed);
  KeypadOutcome keypad(uint32_t lock, int64_t code);
  Error manual(uint32_t lock, bool lockIt);

  // ---- Nuki Web (southbound API), after decoding; `account` is the caller's
  Error authorize(uint32_t account, uint64_t smartlockId, uint32_t& lockOut) const;
  Error submitMotorAction(uint32_t lock, int64_t action, const std::string& by);
  Error createKeypadCode(uint32_t lock, const AuthInput& in);
  Error updateAuth(uint32_t lock, const ObjectId& id, const AuthInput& in);
  Error deleteAuth(uint32_t lock, const ObjectId& id);
  // Runs the daily sync now (nothing on an offline lock).
  void syncNow(uint32_t lock);
  Error renameLock(uint32_t lock, std::optional<std::string> name, std::optional<bool> favorite);
  void removeLock(uint32_t lock);

  // The operationId an auth carries while a change to it waits for delivery.
  const ObjectId* operationFor(const Lock& l, const ObjectId& auth) const;
  // The auth as Nuki Web's web view shows it, or null.
  const Auth* webAuth(const Lock& l, const ObjectId& id) const;

  // All-or-nothing batches: mark the locks a batch touches, roll back on failure.
  struct Mark {
    uint32_t lock;
    size_t queue;
    size_t pending;
  };
  Mark mark(uint32_t lock) const;
  void rollback(const std::vector<Mark>& marks);

  // ---- What changed, for clients that poll (the dashboard): every change to a lock, made by
  // a call or by an event, bumps a sequence number. The last kChangesKept are held; a client
  // further behind is told to read everything again. Not part of a snapshot: sequence numbers
  // only mean something to the process that gave them.
  static constexpr size_t kChangesKept = 4096;
  struct Changes {
    uint64_t seq = 0;             // the latest change
    bool complete = true;         // false: some changes after `since` are no longer held
    bool fleet = false;           // locks were added or removed, or the world replaced
    std::vector<uint32_t> locks;  // the locks changed after `since`, each once
  };
  Changes changesSince(uint64_t since) const;
  uint64_t changeSeq() const { return changeSeq_; }
  // Called by the world itself; public for the callers that replace it whole (snapshot, reset).
  void noteChange(uint32_t lock);
  void noteFleetChange() { noteChange(kWholeFleet); }

  // ---- Events
  void dispatch(const Event& e);
  // Takes out every account, bridge and lock; new ObjectIds count on from `idCounter`.
  void wipe(uint32_t idCounter);
  ObjectId newObjectId(uint32_t nukiId);

  // ---- All-or-nothing fleet loads: what was added after a checkpoint can be taken out again.
  // Building only appends accounts, bridges and locks, so the checkpoint is their counts.
  struct Checkpoint {
    size_t accounts, bridges, locks;
    uint32_t idCounter;
    LockSettings defaults;
  };
  Checkpoint checkpoint() const;
  void rollbackTo(const Checkpoint& c);

  // ---- Snapshot (simulator/world_snapshot.cc): accounts, bridges, locks and the id counter.
  struct Decoded {
    uint32_t idCounter = 0;
    std::vector<Account> accounts;
    std::vector<Bridge> bridges;
    std::vector<Lock> locks;
  };
  // Writes "idCounter", "accounts", "bridges" and "locks" into the snapshot object.
  void encode(nlohmann::json& snapshot) const;
  // Reads those parts of a snapshot and checks every index, count, enum and range, and that
  // accounts, bridges and locks list each other consistently (at most `maxLogsPerLock` logs a
  // lock). Changes no world; a refusal names the JSON path.
  static snapshot::Checked<Decoded> decode(const snapshot::In& snapshot, size_t maxLogsPerLock);
  // Replaces accounts, bridges, locks and the id counter by decoded ones. Does not fail (short
  // of memory for the indexes).
  void adopt(Decoded decoded);
  const Options& options() const { return options_; }

 private:
  void startMotor(Lock& l, uint32_t index, uint8_t action, uint8_t trigger, bool logged,
                  std::string by);
  void motorDone(uint32_t index, uint32_t generation);
  void pump(uint32_t index);
  void deliver(Lock& l, Command& c);
  void report(Lock& l);
  void appendLog(Lock& l, LogEntry e);
  void goOnline(uint32_t index);
  void goOffline(uint32_t index);
  void sync(uint32_t index);
  void scheduleSync(uint32_t index);
  void touch(Lock& l);
  const TimeZone& zone(const Lock& l) const;
  bool insideSchedule(const Lock& l, const Schedule& s, Time t) const;
  struct ServerCode {
    ObjectId id;
    uint32_t code;
  };
  Error checkCodeAndName(int64_t code, const std::optional<std::string>& name) const;
  Error scheduleFrom(const AuthInput& in, Schedule base, Schedule& out) const;
  Error checkConflicts(const std::vector<ServerCode>& codes, int64_t code,
                       const ObjectId* self) const;
  // Nuki Web's count for K4/K5: the web view plus accepted changes not yet synced.
  std::vector<ServerCode> serverCodes(const Lock& l) const;
  std::vector<ServerCode> deviceCodes(const Lock& l) const;
  void enqueueChange(uint32_t index, Command::Kind kind, const ObjectId& target, AuthRef auth);
  // The auth as Nuki Web would have it once every accepted change is synced (null if absent
  // or deleted); sets `locked` if a change to it awaits delivery.
  std::optional<Auth> serverAuth(const Lock& l, const ObjectId& id, bool& locked) const;
  uint32_t uniqueNukiId();
  // Rebuilds the lookups by token, nukiId and bridgeId.
  void reindex();

  Clock& clock_;
  Scheduler& scheduler_;
  Random& random_;
  Options options_;
  WorldObserver* observer_ = nullptr;
  std::vector<Account> accounts_;
  std::vector<Lock> locks_;
  std::vector<Bridge> bridges_;
  std::unordered_map<std::string, uint32_t> tokens_;
  std::unordered_map<uint32_t, uint32_t> nukiIds_;
  std::unordered_map<uint64_t, uint32_t> bridgeIds_;
  uint32_t idCounter_ = 0;
  static constexpr uint32_t kWholeFleet = UINT32_MAX;
  std::deque<std::pair<uint64_t, uint32_t>> changes_;  // (seq, lock or kWholeFleet), oldest first
  uint64_t changeSeq_ = 0;
  uint64_t changesDropped_ = 0;  // the seq of the newest change no longer held
  // Drops every change held if one names a lock at `firstGone` or after (the fleet was
  // replaced or rolled back), then notes a fleet change.
  void forgetChangesFrom(uint32_t firstGone);
};

}  // namespace nukihil::sim
