// The adapter: Nuki Smart Lock 3.0 / 3.0 Pro of one Nuki account as platform devices with the
// traits of SPEC §5, and the action lifecycle and webhook sequences of SPEC §6. Transport-free
// like the simulator's world: the northbound HTTP handlers (northbound.cc) and the Nuki
// webhook intake call it; it talks to Nuki Web through a NukiApi and to the platform through
// the Outbox. Everything it accepts is in SQLite before it answers, so a restart (kill -9
// included) loses nothing. Single-threaded: call it on the io thread.
#pragma once

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapter/nuki_client.h"
#include "adapter/pin_codes.h"
#include "adapter/sqlite.h"
#include "adapter/webhook_sink.h"
#include "runtime/clock.h"
#include "runtime/random.h"

namespace nukihil::adapter {

// Statuses of an action; the webhook statuses of SPEC §5 plus QUEUED (not yet answered by
// Nuki Web).
enum class ActionStatus { kQueued, kPending, kResolved, kRejected, kFailed, kTimeout };
const char* actionStatusName(ActionStatus s);

struct Action {
  std::string id;
  std::string deviceId;
  std::string trait;
  std::string name;  // setLocked, createPinCodeCredential, …
  nlohmann::json parameters;
  ActionStatus status = ActionStatus::kQueued;
  std::string reason;
  int64_t createdMs = 0;
  int64_t updatedMs = 0;
  int64_t acceptedMs = -1;  // when Nuki Web answered 2xx
  uint64_t order = 0;       // the order the platform submitted actions in
  // The order Nuki Web accepted them in (0: not yet): its queue is FIFO in this order, so a
  // lock's motor logs are matched to lock actions by it, not by submission. Taken from the
  // order the 2xx answers arrive in, which is Nuki's order unless an answer is delayed past
  // another's (or lost and the call retried).
  uint64_t acceptedOrder = 0;
  bool sent = false;  // a Nuki call may have reached Nuki Web
  // setLocked
  bool lock = false;
  int completion = -1;  // the motor's completion state from the log, once seen
  // PIN actions
  std::string pinId;
  std::optional<PinCredential> pin;  // create/update: the credential as it should become

  bool unresolved() const {
    return status == ActionStatus::kQueued || status == ActionStatus::kPending;
  }
  bool isPin() const { return trait == "BETA_PIN_CODE_CREDENTIALS"; }
};

struct Device {
  std::string id;  // the smartlockId in decimal
  uint64_t smartlockId = 0;
  std::string name;
  std::string model;  // "Nuki Smart Lock 3.0" / "Nuki Smart Lock 3.0 Pro"
  // The last value sent for each state field (what SetState diffs against).
  std::optional<bool> isOnline, isJammed, isLocked;
  std::optional<int> percentage;
  std::string batteryStatus = "UNKNOWN";
  std::vector<PinCredential> pins;   // as the last sync showed them, sorted by id
  std::deque<std::string> seenLogs;  // recently processed log ids
  // When the codes were last read and matched `pins` (stored with the device's next save). A
  // poll that finds them changed knows only that a sync happened since then, so it may judge
  // only the actions accepted before.
  int64_t codesReadMs = 0;
  // A sync's DEVICE_MASTERDATA arrived but its codes are not read yet (0: none).
  int64_t unreadSyncMs = 0;
  // The motor state of the last DEVICE_STATUS webhook (-1: none since start-up or since a lock
  // action was accepted; not stored). A log that arrives after a settled state (the run of a
  // lock that was offline when it ended) settles its action at once.
  int lastState = -1;
};

class Adapter {
 public:
  struct Options {
    // Where Nuki Web reaches the adapter; the decentral webhook is <publicUrl>/nuki/webhook.
    // Empty: no webhook, polling only.
    std::string publicUrl;
    Duration pollInterval = std::chrono::seconds(60);
    // Every this many polls, the keypad codes of every lock are read too (R-PIN-LOCAL without
    // webhooks); in between only locks with PIN actions waiting are read.
    int fullScanEvery = 60;
    // Group commit: if set, the writes of a burst of events share one transaction, committed
    // by a task given to `post` (run after the events already queued on the io loop). Answers
    // and Nuki calls wait for the commit (afterDurable). Unset: every event commits at once.
    std::function<void(std::function<void()>)> post;
    // An action still waiting for its Nuki call at start-up (accepted before a crash) that is
    // older than this times out instead of going out late (SPEC §5's retry budget).
    Duration actionBudget = std::chrono::minutes(10);
    // Called when the database refuses a write: the burst is rolled back (nothing of it is
    // answered or sent) and this adapter is out of service, since its memory holds what the
    // disk does not; the safe way on is a new Adapter loaded from what is durable
    // (adapter::Service does that). Unset: log and abort().
    std::function<void(const std::string& why)> onStorageFailure;
    // Serves what the database holds and writes nothing: submit() answers 503
    // STORAGE_UNAVAILABLE, nukiWebhook() 503; start() must not be called. For a database that
    // refuses writes (disk full).
    bool readOnly = false;
  };

  Adapter(Db& db, Clock& clock, NukiApi& nuki, WebhookSink& sink, Random& random, Options options);
  ~Adapter();
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;

  // Loads the saved state, registers the Nuki webhook, discovers the locks and starts polling.
  // `ready` runs once the first discovery is done (with "" or why it failed; polling goes on
  // and retries either way).
  void start(std::function<void(const std::string& error)> ready = {});
  // Before start(): replaces Options::publicUrl, for a caller that learns its own URL only once
  // it listens (adapter::Service).
  void setPublicUrl(std::string url) { options_.publicUrl = std::move(url); }

  // ---- Northbound
  struct Submitted {
    int status = 202;  // 202, or 400/404/409/422 with code and message
    std::string actionId;
    std::string pinId;  // createPinCodeCredential: the id the new code will have
    std::string code;
    std::string message;
    std::string field;  // a refusal's JSON path in the request body, where known

    static Submitted accepted(std::string actionId, std::string pinId = {}) {
      Submitted s;
      s.actionId = std::move(actionId);
      s.pinId = std::move(pinId);
      return s;
    }
    static Submitted refused(int status, std::string code, std::string message,
                             std::string field = {}) {
      Submitted s;
      s.status = status;
      s.code = std::move(code);
      s.message = std::move(message);
      s.field = std::move(field);
      return s;
    }
  };
  // POST /v1/devices/{id}/actions. `idempotencyKey` may be empty.
  Submitted submit(const std::string& deviceId, const nlohmann::json& body,
                   const std::string& idempotencyKey);
  std::optional<nlohmann::json> deviceJson(const std::string& deviceId) const;
  nlohmann::json devicesJson() const;
  std::optional<nlohmann::json> actionJson(const std::string& actionId) const;
  nlohmann::json healthJson() const;
  // Tries a small write (a row of adapter_meta): "" if the database takes it, else why not.
  static std::string probeStorage(Db& db, Time now);

  // ---- Nuki decentral webhook intake (POST <publicUrl>/nuki/webhook). Returns the HTTP
  // status to answer: 200, 401 (bad signature), 400 (not a Nuki event).
  int nukiWebhook(const std::string& body, std::string_view signatureHeader);

  // Polls now (tests, operators); `done` runs when the round is over.
  void pollNow(std::function<void()> done = {});

  const std::map<std::string, Device>& devices() const { return devices_; }
  const Action* action(const std::string& id) const;
  bool webhookRegistered() const { return !nukiSecret_.empty(); }

  static nlohmann::json traitProperties(const std::string& trait);

  // Runs `f` once what the adapter has written so far is durable (at once if it is).
  void afterDurable(std::function<void()> f);
  // Runs `f` if what the adapter has written so far is rolled back instead (dropped if it is
  // durable already).
  void afterRollback(std::function<void()> f);

 private:
  // Joins the current group commit (opening one if needed); without Options::post it does
  // nothing.
  void joinBatch();
  // One write of an event: joins the group commit and runs `f` in a transaction. If the
  // database refuses it, the burst is rolled back and the adapter goes out of service
  // (storageFailed); false then, and the caller stops. Writes nest: an inner one joins the
  // outer one's transaction.
  bool write(const std::function<void()>& f);
  static Submitted storageRefusal();
  // Persistence.
  void createSchema();
  void load();
  void saveDevice(const Device& d);
  void saveAction(const Action& a);
  void saveMeta(const std::string& key, const std::string& value);
  std::string newId(const char* prefix);

  // Platform webhooks (in the caller's transaction).
  void emit(const Device& d, const char* type, nlohmann::json content);
  void setState(Device& d, const char* trait, const char* field, nlohmann::json value,
                const std::string& actionId = {});
  void updateAction(Action& a, ActionStatus status, std::string reason = {});

  // Nuki Web → adapter.
  // Reads the lock list: adds new locks, and applies each known lock's state unless it is in
  // `skipReports` (locks whose report must wait for their logs).
  void discover(std::function<void(const std::string&)> done,
                std::set<std::string> skipReports = {});
  void addDevice(const NukiLock& lock, std::vector<NukiAuth> auths);
  void onLockReport(Device& d, const NukiLock& report, bool hasState);
  // Takes one log entry; true if it was a web-triggered motor action not seen before (the
  // device's seen-log list must then be saved). Marks the oldest waiting lock action of its
  // kind as completed, and gives it in *marked if asked.
  bool onLog(Device& d, const NukiLog& log, Action** marked = nullptr);
  // A completed run's outcome, with (settleRun) the state the run reached before it.
  void settleRun(Device& d, Action& a);
  void resolveRun(Action& a);
  void onSync(const std::string& deviceId, int64_t observedMs, std::function<void()> done = {});
  void reconcile(Device& d, const std::vector<NukiAuth>& auths, bool syncSignal,
                 int64_t observedMs);
  void poll(std::function<void()> done);
  void schedulePoll();
  void registerWebhook(std::function<void()> done);

  // Adapter → Nuki Web.
  void send(Action& a);
  void onSent(const std::string& actionId, const NukiResult& r);

  Submitted submitLock(Device& d, const nlohmann::json& params, const nlohmann::json& body);
  Submitted submitPin(Device& d, const std::string& name, const nlohmann::json& params,
                      const nlohmann::json& body);
  // Codes the lock has or will have once the adapter's unresolved actions are synced,
  // excluding `exceptPin`.
  std::vector<std::string> expectedCodes(const Device& d, const std::string& exceptPin) const;
  bool pinBusy(const Device& d, const std::string& pinId) const;
  std::vector<Action*> unresolvedActions(const std::string& deviceId);
  Action& newAction(Device& d, const nlohmann::json& body);
  void queueAction(Device& d, Action& a);
  void storageFailed(const std::string& why);

  Db& db_;
  Clock& clock_;
  NukiApi& nuki_;
  WebhookSink& sink_;
  Random& random_;
  Options options_;
  std::map<std::string, Device> devices_;
  std::map<std::string, Action> actions_;
  // Each device's unresolved actions in acceptance order (pointers into actions_).
  std::map<std::string, std::vector<Action*>> open_;
  // Prepared once: these run for almost every event.
  Stmt saveDeviceStmt_, saveActionStmt_, saveMetaStmt_;
  std::map<std::string, std::pair<std::string, std::string>> idempotency_;  // key → (action, body)
  uint64_t nextOrder_ = 1;
  uint64_t nextAccepted_ = 1;
  uint64_t nextId_ = 1;
  std::string idPrefix_;
  std::string nukiSecret_;
  int64_t nukiWebhookId_ = 0;
  Clock::AlarmId pollAlarm_ = 0;
  bool polling_ = false;
  int pollCount_ = 0;
  std::unique_ptr<Db::Transaction> batch_;
  int writeDepth_ = 0;
  bool storageFailed_ = false;
  bool closing_ = false;  // in the destructor
  WorkGuard batchWork_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nukihil::adapter
