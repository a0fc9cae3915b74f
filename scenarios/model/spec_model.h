// The spec model: a small, plain program of SPEC §6 (with the §3 and §5 facts it needs) that
// predicts, from a scenario's fleet and steps alone, every device's platform webhook sequence,
// every action's answer and status, the keypad's answers and the adapter's and the locks' state.
//
// It shares no code with the simulator or the adapter (its CMake target sees only runtime/ and
// the JSON library): if it called their code, the checker would compare the code with itself.
// It keeps its own lock fleet (device truth, web view, one FIFO queue per lock, the daily sync
// in the lock's zone, K1–K7 counting unsynced changes) and its own model of the adapter
// (SetState only on change, action lifecycles, reconciliation at a sync), on its own virtual
// clock, and emits what the adapter must send, in order, per device.
//
// Where SPEC leaves an instant open (a retried Nuki call's tries, which call a restart cut
// short) the model does not guess: it asks an Oracle for what the system under test did, checks
// that it is one of the outcomes SPEC allows, and goes on from there. Nothing else is loosened.
//
// Copyable value; single-threaded.
#pragma once

#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/time.h"
#include "runtime/time_zone.h"
#include "scenarios/model/scenario.h"

namespace nukihil::model {

// A platform webhook the adapter must send. Ids are the model's references: an action's name
// (`as`, else "#<step index>") in `actionId`, a PIN's name in `actionParameters.id` and in the
// `id` of each pinCodeCredentials entry. `content` has no deviceId (devices are told apart by
// the lock they belong to).
struct ExpectedWebhook {
  std::string type;
  nlohmann::json content;
  std::string rule;        // the R- rule that predicts it
  size_t step = SIZE_MAX;  // index of the step that caused it; SIZE_MAX: discovery
  int64_t atMs = 0;        // when the model emits it
  // Its device's stream was held back when it was made (receiver down, a retry pending, parked)
  // or it spans an adapter restart: it must still arrive, in order (R-DELIVERY).
  bool heldBack = false;
  std::string describe() const;  // "SetState LOCK.isLocked=true @guest"
};

// One request the system under test served on the Nuki API (nukisim's journal).
struct ObservedCall {
  uint64_t seq = 0;
  int64_t atMs = 0;
  std::string method;
  std::string path;          // without the query
  int status = 0;            // 0: no answer was sent (a reset)
  std::string fault;         // the fault nukisim applied to it, if any ("": none)
  bool fromHarness = false;  // made by the scenario (nukiRequest), not by the adapter
  std::string lock;          // the scenario's name of the lock in the path, if any
  std::string requestId;     // the X-Request-ID the caller sent ("": none)
  // The answer's body, where the oracle kept it (the fault proxy of a run against the real
  // Nuki Web keeps those of code lists); null: not kept.
  nlohmann::json body;
};

// What the system did where SPEC leaves it open. The runner answers from what it observed.
class Oracle {
 public:
  virtual ~Oracle() = default;
  // False for a model run on its own: the model then makes the adapter's calls itself, at
  // once, and cannot follow faults on reads or restarts `during` something.
  virtual bool observes() const { return true; }
  // Nuki API requests served with atMs in [fromMs, toMs], in order.
  virtual std::vector<ObservedCall> calls(int64_t fromMs, int64_t toMs) const = 0;
  // For a restartAdapter step with `during`: when the kill landed and, for nextNukiCall, the
  // journal seq of the call it cut short (0: none reached Nuki Web) and whether Nuki Web had
  // applied it. nullopt: not (yet) happened.
  struct Restart {
    int64_t atMs = 0;
    uint64_t afterSeq = 0;  // the first journal seq served after the kill (0: unknown)
    uint64_t cutSeq = 0;
    bool applied = true;
  };
  virtual std::optional<Restart> restart(size_t step) const = 0;
  // The scenario's name of the action a call says it is for (its X-Request-ID, the adapter's
  // actionId), if the system answered that action with that id; "" if unknown. Two actions
  // waiting on the same route send calls nothing else tells apart.
  virtual std::string actionOfRequest(const std::string& requestId) const {
    (void)requestId;
    return "";
  }
};

// A model run on its own, without a system to watch.
class NoOracle final : public Oracle {
 public:
  bool observes() const override { return false; }
  std::vector<ObservedCall> calls(int64_t, int64_t) const override { return {}; }
  std::optional<Restart> restart(size_t) const override { return std::nullopt; }
};

// Something the system did that SPEC does not allow, seen through the oracle (a retry before
// Retry-After, an action never sent to Nuki Web, …).
struct Violation {
  std::string rule;
  std::string message;
  size_t step = SIZE_MAX;
  int64_t atMs = 0;
};

// What the model says about one step.
struct Prediction {
  // A value the step's answer (or an expect… step's reading) must have: exact, or any of a few
  // alternatives where SPEC leaves it open.
  nlohmann::json answer;                     // see SpecModel::apply for the shape per step
  std::vector<nlohmann::json> alternatives;  // other allowed answers (empty: exactly `answer`)
  std::string rule;                          // the rule that decides the answer, if any
  std::string note;                          // why (for reports): "K2: the code has a 0"
  // The scenario cannot be judged from here on (a name whose action was refused, a step the
  // model cannot predict): an error of the file.
  std::string error;
  bool allows(const nlohmann::json& observed) const;
};

class SpecModel {
 public:
  explicit SpecModel(std::shared_ptr<const Scenario> scenario);

  // Discovery: every lock of the fleet is announced (R-DISCOVER). Call once, first, after the
  // system has started (the calls of its start-up are taken from the oracle).
  void start(const Oracle& oracle);
  // The lock ids the system gave the fleet's locks (name → smartlockId), for fault routes that
  // name a lock. Without them the model uses made-up ids, which only `*` routes match.
  void setLockIds(std::map<std::string, uint64_t> ids) { lockIds_ = std::move(ids); }
  // On the wall clock a call reaches Nuki Web a moment after the instant the model gives it
  // (an accepted action's first call, a start-up read): up to `ms` later counts as on time.
  // 0, the default, for virtual time, where it falls on that very instant.
  void setCallLatency(int64_t ms) { callLatencyMs_ = ms; }
  // Moves the model on to `t` (never back) as an `advance` would, on behalf of step `step`:
  // every event due and every call the oracle reports until then. For a driver on the wall
  // clock, whose instants are not whole seconds apart.
  void runTo(size_t step, Time t, const Oracle& oracle);

  // Applies one step, then runs the world to quiescence (advance/advanceTo: through the
  // target instant). Call it after the system has carried out the step and come to rest, with
  // an oracle that has read the system's journal up to then. Answers, per step kind:
  //  trait actions    {"status":202|400|404|409|422, "error"?:code}
  //  keypad           {"granted":bool, "reason":…|null}
  //  nukiRequest      {"status":N}
  //  world events     {"status":N} of the control-plane call (200/201, 404, 409 …)
  //  expectAction     {"status":…, "reason"?:…}
  //  expectDevice     the fields the step names, as the adapter must show them now
  //  expectLock       the fields the step names, as device truth is now
  //  expectOutbox     {"pending":N, "parked":bool} (the fields the step names)
  //  others           {}
  Prediction apply(const Step& step, const Oracle& oracle);
  // What an expect… step would be told now, without applying anything (exploration writes its
  // liveness checks with these values).
  Prediction peek(const Step& step) const { return expectation(step); }

  // Per lock name, every webhook predicted so far, in order (discovery included).
  const std::map<std::string, std::vector<ExpectedWebhook>>& expected() const { return hooks_; }
  // Per lock name, how many of them must have reached the receiver by now (the rest may wait
  // in the adapter's outbox), and whether that count is exact.
  struct Delivery {
    size_t delivered = 0;
    bool exact = true;  // false while a retry after an outage may or may not have happened yet
    bool parked = false;
  };
  Delivery delivery(const std::string& lock) const;

  Time now() const { return timeFromMillis(nowMs_); }
  // References: every action's ref (in order) and its canonical ref (an Idempotency-Key repeat
  // binds a second name to the same action).
  const std::map<std::string, std::string>& aliases() const { return aliases_; }
  // Rules exercised so far (SPEC §7 "Coverage"), with counts.
  const std::map<std::string, int>& coverage() const { return coverage_; }
  // Notes on outcomes SPEC leaves open and which one the run took ("restart cut
  // PUT /smartlock/…/auth: applied").
  const std::vector<std::string>& branches() const { return branches_; }
  // The name of the ref an action step binds (its `as`, else "#<index>").
  static std::string actionRef(const Step& step);
  // What the system was seen doing against SPEC (through the oracle), in order.
  const std::vector<Violation>& violations() const { return violations_; }
  // Where the service the adapter talks to (Nuki Web, or nukisim standing in for it), not the
  // adapter, was seen departing from SPEC: a call answered otherwise than SPEC gives, a code
  // list other than SPEC's web view. Findings about the service: the model goes on with SPEC's
  // answer, so what the adapter does after one cannot be judged against it.
  const std::vector<Violation>& serviceFindings() const { return findings_; }
  // The PIN code a name (createPin `as`, a fleet code's `as`) stands for now, if any.
  std::optional<std::string> pinCodeOf(const std::string& name) const;
  // The PIN ref a name (createPin `as`, a fleet code's `as`) stands for.
  std::optional<std::string> pinRefOf(const std::string& name) const {
    auto it = pinNames_.find(name);
    return it == pinNames_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  // Was the action that would bind this name refused (so the name is unbound for good)?
  bool refused(const std::string& name) const { return refusedNames_.count(name) > 0; }
  // The names a step refers to ("@name" in an id, expectAction's ref, {@name} in a path).
  static std::vector<std::string> namesUsedBy(const Step& step);
  // A restartAdapter step with `during` that has not happened yet (SIZE_MAX: none).
  size_t pendingRestart() const { return pendingRestart_; }

  // Model time constants that SPEC does not fix but the model must know (documented in
  // docs/scenarios.md): the adapter's outbox retries at least every 5 minutes, and its Nuki
  // calls get 5 tries within 10 minutes.
  static constexpr int64_t kOutboxMaxRetryMs = 5 * 60 * 1000;
  static constexpr int64_t kParkAfterMs = 72LL * 3600 * 1000;
  static constexpr int kMaxTries = 5;
  static constexpr int64_t kRetryBudgetMs = 10 * 60 * 1000;
  // Without Nuki webhooks the adapter reads the codes of every lock each 60th poll.
  static constexpr int kFullScanEvery = 60;

 private:
  // ---- Nuki's world
  struct Window {
    std::optional<int64_t> fromMs, untilMs;
    int weekDays = 127, fromTime = 0, untilTime = 0;
    bool hasRecurring() const { return !(weekDays == 127 && fromTime == 0 && untilTime == 0); }
    bool operator==(const Window&) const = default;
  };
  struct Auth {
    uint64_t key = 0;  // the model's identity of a Nuki auth
    int64_t code = 0;
    std::string name;
    Window window;
    bool enabled = true;
    bool sameAs(const Auth& o) const {
      return code == o.code && name == o.name && window == o.window && enabled == o.enabled;
    }
  };
  enum class CmdKind { kMotor, kCreate, kUpdate, kDelete };
  struct Cmd {
    CmdKind kind = CmdKind::kMotor;
    bool lock = false;  // motor: lock (true) or unlock
    std::string by;     // motor: the adapter action whose call queued it ("" for others)
    int64_t readyMs = 0;
    Auth auth;  // create/update: the auth as it becomes
    uint64_t target = 0;
    uint64_t op = 0;
  };
  struct Pending {
    CmdKind kind;
    uint64_t target = 0;
    Auth auth;
    uint64_t op = 0;
    bool delivered = false;
  };
  struct LockState {
    size_t spec = 0;
    int bridge = -1;  // index into bridges_ (3.0); -1 for a Pro
    bool wifiOnline = true;
    int state = 3, stable = 3;
    bool jammed = false, busy = false, jobBlocked = false, jobLock = false, jobLogged = false;
    std::string jobBy;
    uint32_t generation = 0;
    int battery = 100;
    std::vector<Auth> device, web;
    std::vector<Pending> pending;
    std::deque<Cmd> queue, local;
    bool webOnline = true;  // what Nuki Web shows of the lock: reachability, state, battery
    int webState = 3;
    int webBattery = 100;
    int64_t nextSyncMs = 0;
    uint32_t syncGeneration = 0;
    // Web runs that ended while the lock was offline (ref, completion): Nuki Web learns of them
    // after the lock's reconnect report.
    std::vector<std::pair<std::string, int>> offlineDone;
  };
  struct Bridge {
    bool online = true;
    std::vector<size_t> locks;
  };

  // ---- The adapter, as SPEC §5–6 describe it
  struct Recurring {
    int days = 127, start = 0, duration = 1440;
    bool operator==(const Recurring&) const = default;
  };
  struct Cred {
    std::string ref;
    std::string pinCode;
    std::string name;
    std::optional<std::pair<int64_t, int64_t>> temporary;
    std::optional<Recurring> recurring;
    uint64_t authKey = 0;  // the Nuki auth it is (0: not known yet)
    bool sameContent(const Cred& o) const {
      return pinCode == o.pinCode && name == o.name && temporary == o.temporary &&
             recurring == o.recurring;
    }
  };
  struct Action {
    std::string ref;
    size_t lock = 0;
    StepKind kind = StepKind::kSetLocked;
    bool lockTarget = false;
    nlohmann::json parameters;  // as sent (ids as refs)
    std::string status = "QUEUED";
    std::string reason;
    std::string pinRef;
    Cred target;  // create/update: the credential as it should become
    int64_t createdMs = 0, acceptedMs = -1;
    uint64_t order = 0;
    size_t step = 0;
    // The Nuki call: tries made, whether one that ran lost its answer, when it started.
    int tries = 0;
    int64_t firstTryMs = -1;
    bool retried = false;      // a try before this one may have reached Nuki Web
    int64_t notBeforeMs = 0;   // Retry-After: the next try must not come earlier
    bool awaitingTry = false;  // waiting for the adapter to try (again)
    bool stallReported = false;
    bool ran = false;            // setLocked: its run has been reported
    bool queuedOffline = false;  // Nuki Web took it while the lock was offline
    uint64_t nukiKey = 0;        // createPin: the Nuki auth its call made
    int64_t resentAtMs = -1;     // when a restart sent it out again (-1: never)
    int64_t lastTryMs = -1;
    bool duplicateSeen = false;
    bool unresolved() const { return status == "QUEUED" || status == "PENDING"; }
    bool isPin() const { return kind != StepKind::kSetLocked; }
  };
  struct Device {
    std::optional<bool> isOnline, isJammed, isLocked;
    std::optional<int> percentage;
    std::string batteryStatus = "UNKNOWN";
    std::vector<Cred> pins;   // as the last sync showed them
    bool syncUnread = false;  // a sync's codes are not read yet (a fault on the read)
    int64_t syncUnreadSinceMs = 0;
    int64_t codesReadMs = 0;  // polling: when the codes were last read
    // Outbox: the receiver's outage as this device's stream sees it.
    size_t delivered = 0;
    int64_t failingSinceMs = -1;  // first failed attempt of the head
    bool parked = false;
    int64_t settleByMs = -1;  // after an outage: delivered by then at the latest
  };
  struct Fault {
    std::string route = "*";
    std::vector<std::string> methods;
    int64_t fromMs = INT64_MIN, untilMs = INT64_MAX;
    int64_t remaining = -1;
    enum Effect { kStatus, kReset, kResetAfter } effect = kStatus;
    int status = 503;
    int64_t retryAfter = -1;
  };
  struct Event {
    enum Kind { kQueueReady, kMotorDone, kSync, kPoll, kOutboxSettle } kind;
    size_t lock = 0;
    uint64_t arg = 0;
  };

  // Time.
  void schedule(int64_t atMs, Event e);
  void runUntil(int64_t targetMs, const Oracle& oracle);
  void dispatch(const Event& e);

  // The lock fleet (SPEC §3).
  bool online(const LockState& l) const;
  const TimeZone& zone(const LockState& l) const;
  const LockSpec& spec(const LockState& l) const { return scenario_->locks[l.spec]; }
  void scheduleSync(size_t lock);
  void sync(size_t lock);
  void pump(size_t lock);
  void deliver(LockState& l, const Cmd& c);
  void startMotor(size_t lock, bool lockIt, const std::string& by, bool logged);
  void motorDone(size_t lock, uint32_t generation);
  void report(size_t lock, const std::string& by = {}, int completion = -1);
  void setOnline(size_t lock, bool on);
  bool insideSchedule(const LockState& l, const Window& w, int64_t atMs) const;
  std::vector<std::pair<uint64_t, int64_t>> serverCodes(const LockState& l) const;
  std::optional<Auth> serverAuth(const LockState& l, uint64_t key, bool& locked) const;
  uint64_t newKey() { return ++nextKey_; }

  // Nuki Web's API (SPEC §2).
  struct NukiAnswer {
    int status = 204;
    std::string rule;
  };
  NukiAnswer nukiCreate(size_t lock, const Auth& a);
  NukiAnswer nukiUpdate(size_t lock, uint64_t key, const Auth& a);
  NukiAnswer nukiDelete(size_t lock, uint64_t key);
  NukiAnswer checkCode(const LockState& l, const Auth& a, const uint64_t* self) const;
  void enqueueChange(size_t lock, Cmd c);
  Prediction harnessRequest(const Step& st, const Oracle& oracle);
  uint64_t nukiKeyOf(size_t lock, const std::string& pinRef) const;
  // The fault that applies to a request now (consuming its count), or nullptr.
  const Fault* pickFault(const std::string& method, const std::string& path, int64_t atMs);
  bool faultCouldMatch(const std::string& method, const std::string& path) const;
  static bool globMatch(const std::string& pattern, const std::string& text);

  // The adapter.
  void emit(size_t lock, const std::string& type, nlohmann::json content, const std::string& rule);
  void setState(size_t lock, const char* trait, const char* field, nlohmann::json value,
                const std::string& actionId, const std::string& rule);
  void updateAction(Action& a, const std::string& status, const std::string& reason,
                    const std::string& rule);
  std::string lockActionRule(const Action& a) const;
  void discover(size_t lock);
  // One report the adapter reads; `attribute`: it settles the runs completions_ holds.
  void onReport(size_t lock, bool attribute = true);
  void outcome(Action& a, int completion);
  void onSync(size_t lock);
  void reconcile(size_t lock, bool syncSignal, int64_t observedMs);
  nlohmann::json pinsJson(const std::vector<Cred>& pins) const;
  Cred credFromAuth(const Auth& a, const std::string& ref) const;
  Auth authFromCred(const Cred& c) const;
  Prediction submit(const Step& st, const Oracle& oracle);
  // Parses create/update parameters (SPEC §5 shapes) into `out`; returns the refusal, if any.
  Prediction parsePin(const nlohmann::json& params, const Cred* base, Cred& out) const;
  std::vector<std::string> expectedCodes(size_t lock, const std::string& exceptPin) const;
  std::string actionMethod(const Action& a) const;
  std::string actionTail(const Action& a) const;
  std::string lockPath(size_t lock) const;  // "/smartlock/<id>"
  void onCall(const ObservedCall& c, const Oracle& oracle);
  void tryAction(Action& a, const ObservedCall& c, const Fault* f, bool cut);
  // A restarted adapter sending again a call whose answer its predecessor may have had.
  // `only`: the action the call names, if it names one.
  bool duplicateSend(const ObservedCall& c, const Fault* f, const Action* only = nullptr);
  // Applies a `during` restart once the journal has passed it.
  void restartIfDue(const Oracle& oracle, const ObservedCall* next);
  void checkStalledTries();
  void checkWebView(size_t lock, const ObservedCall& c);
  void poll();
  // `midExchange`: the kill landed while an exchange was in flight (`during`).
  void restartAdapter(bool midExchange = false);

  Prediction expectation(const Step& st) const;

  std::shared_ptr<const Scenario> scenario_;
  int64_t nowMs_ = 0;
  int64_t callLatencyMs_ = 0;
  uint64_t nextSeq_ = 1;
  std::map<std::pair<int64_t, uint64_t>, Event> events_;
  std::vector<LockState> locks_;
  std::vector<Bridge> bridges_;
  std::vector<Device> devices_;
  std::map<std::string, std::vector<ExpectedWebhook>> hooks_;
  std::map<std::string, Action> actions_;
  std::vector<std::string> actionOrder_;
  std::map<std::string, std::string> aliases_;   // name → canonical action ref
  std::map<std::string, std::string> pinNames_;  // name → PIN ref (createPin, fleet codes)
  std::set<std::string> refusedNames_;
  std::map<std::string, std::pair<std::string, nlohmann::json>> idempotency_;  // key → (ref, body)
  std::vector<Fault> faults_;
  std::set<uint64_t> seenCalls_;  // journal seqs already taken into account
  uint64_t nextKey_ = 0;
  uint64_t nextOrder_ = 1;
  int localPins_ = 0;
  bool receiverUp_ = true;
  int64_t adapterStartMs_ = 0;
  int pollCount_ = 0;
  size_t currentStep_ = SIZE_MAX;
  size_t pendingRestart_ = SIZE_MAX;
  uint64_t restartSeq_ = 0;  // journal seq from which calls come from the restarted adapter
  int64_t restartAtMs_ = -1;
  std::map<std::string, uint64_t> lockIds_;
  int pollEpoch_ = 0;
  bool observes_ = false;
  // Lock actions whose completed runs the adapter knows of (from the logs) and has not settled
  // yet: a report showing the lock settled settles them (ref, completion state).
  std::map<size_t, std::vector<std::pair<std::string, int>>> completions_;
  std::map<std::string, int> coverage_;
  std::vector<std::string> branches_;
  std::vector<Violation> violations_;
  std::vector<Violation> findings_;
};

}  // namespace nukihil::model
