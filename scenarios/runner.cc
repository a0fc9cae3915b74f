#include "scenarios/runner.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "runtime/blocking_client.h"
#include "runtime/time_zone.h"
#include "scenarios/embedded_world.h"
#include "scenarios/step_calls.h"

namespace nukihil::scenarios {

using model::ExpectedWebhook;
using model::Scenario;
using model::SpecModel;
using model::Step;
using model::StepKind;
using nlohmann::json;

const char* verdictName(Verdict v) {
  switch (v) {
    case Verdict::kPassed:
      return "passed";
    case Verdict::kFailed:
      return "failed";
    case Verdict::kError:
      return "error";
    case Verdict::kSkipped:
      return "skipped";
  }
  return "?";
}

std::string ruleTitle(const std::string& id) {
  static const std::map<std::string, std::string> titles = {
      {"K1", "a PIN code has exactly 6 digits"},
      {"K2", "no digit 0"},
      {"K3", "does not start with 12"},
      {"K4", "unique on the lock"},
      {"K5", "at most 100 codes per lock"},
      {"K6", "name of 1–20 characters"},
      {"K7", "one well-formed schedule (temporary and/or recurring)"},
      {"R-DISCOVER", "a new lock: config, then every state field"},
      {"R-ACT-ONLINE", "lock/unlock on an online lock"},
      {"R-ACT-JAMMED", "lock/unlock on a jammed lock; freeing it"},
      {"R-ACT-OFFLINE", "lock/unlock on an offline lock waits for it"},
      {"R-ACT-FAILED", "Nuki refuses, or stays unreachable past the retry budget"},
      {"R-PIN-ACCEPTED", "a PIN change shows at the first sync that shows it"},
      {"R-PIN-DROPPED", "a change the lock dropped is REJECTED"},
      {"R-PIN-SYNC", "one sync explaining several changes, in order"},
      {"R-PIN-INVALID", "an invalid PIN change: typed error, no webhook"},
      {"R-PIN-LOCAL", "codes changed outside the adapter"},
      {"R-CONN", "reachability changes"},
      {"R-BATT", "battery percentage and status"},
      {"R-MANUAL", "keypad or knob moves the lock"},
      {"R-KEYPAD", "a code works at the keypad from delivery on, inside its schedule"},
      {"R-DELIVERY", "every webhook arrives, in order, across outages and restarts"},
  };
  auto it = titles.find(id);
  return it == titles.end() ? std::string() : it->second;
}

std::string describeStep(const Step& st) {
  const json& r = st.raw;
  std::string s = model::stepKindName(st.kind);
  if (!st.lock.empty()) s += " " + st.lock;
  switch (st.kind) {
    case StepKind::kSetLocked:
      s += st.parameters.value("lock", false) ? " lock" : " unlock";
      break;
    case StepKind::kCreatePin:
    case StepKind::kUpdatePin:
    case StepKind::kDeletePin:
      if (st.parameters.contains("id")) s += " " + st.parameters["id"].dump();
      if (st.parameters.contains("pinCode")) s += " " + st.parameters["pinCode"].dump();
      if (st.parameters.contains("name")) s += " " + st.parameters["name"].dump();
      break;
    case StepKind::kBattery:
      s += " " + std::to_string(st.number) + "%";
      break;
    case StepKind::kKeypad:
    case StepKind::kRemoveCodeOnLock:
      s += " " + std::to_string(st.number);
      break;
    case StepKind::kKnob:
      s += st.lockIt ? " lock" : " unlock";
      break;
    case StepKind::kAddCodeOnLock:
      s += " " + std::to_string(st.code.code) + " \"" + st.code.name + "\"";
      break;
    case StepKind::kNukiRequest:
      s += " " + st.method + " " + st.path;
      break;
    case StepKind::kAdvance:
      s += " " + std::to_string(st.seconds) + " s";
      break;
    case StepKind::kAdvanceTo:
      if (st.time)
        s += " " + formatRfc3339(*st.time);
      else
        s += " " + r.value("localTime", "");
      break;
    case StepKind::kFault:
      s += " " + st.fault.dump();
      break;
    case StepKind::kReceiverDown:
      s += " (" + std::to_string(st.status) + ")";
      break;
    case StepKind::kRestartAdapter:
      s += st.kill ? " (kill)" : " (graceful)";
      if (!st.during.empty()) s += " during " + st.during;
      break;
    case StepKind::kExpectAction:
      s += " " + st.ref + " " + st.actionStatus + (st.reason ? " " + *st.reason : "");
      break;
    case StepKind::kExpectDevice:
    case StepKind::kExpectLock:
    case StepKind::kExpectOutbox:
      s += " " + st.fields.dump();
      break;
    default:
      break;
  }
  if (!st.as.empty()) s += " as " + st.as;
  return s;
}

namespace {

// What the system did where SPEC leaves it open, from nukisim's journal and the world's
// restarts.
class RunOracle final : public model::Oracle {
 public:
  std::vector<model::ObservedCall> all;
  std::map<size_t, Restart> restarts;
  std::vector<model::ObservedCall> calls(int64_t from, int64_t to) const override {
    std::vector<model::ObservedCall> out;
    for (const auto& c : all)
      if (c.atMs >= from && c.atMs <= to) out.push_back(c);
    return out;
  }
  std::optional<Restart> restart(size_t step) const override {
    auto it = restarts.find(step);
    return it == restarts.end() ? std::nullopt : std::optional<Restart>(it->second);
  }
  std::map<std::string, std::string> actionRefs;  // actionId → the step's name of the action
  std::string actionOfRequest(const std::string& requestId) const override {
    auto it = actionRefs.find(requestId);
    return it == actionRefs.end() ? std::string() : it->second;
  }
};

class Run {
 public:
  Run(std::shared_ptr<const Scenario> s, const RunOptions& o, uint64_t seed)
      : scenario_(std::move(s)), options_(o), seed_(seed), model_(scenario_) {}

  ScenarioResult go();

  // The pieces of go(), for a Session that is given its steps one at a time.
  void begin();
  bool setUp();
  bool runStep(const Step& st);
  ScenarioResult end();
  bool stopped() const { return stopped_; }
  const SpecModel& model() const { return model_; }
  json simGet(const std::string& target) { return member(simCall("GET", target), "body"); }
  json deviceTruth(const std::string& lock) { return simGet(lockPath(lock) + "/device"); }
  std::vector<ObservedWebhook> observedFor(const std::string& lock) const {
    std::vector<ObservedWebhook> out;
    auto it = observed_.find(lock);
    if (it != observed_.end())
      for (const auto& o : it->second)
        out.push_back(withNames(o, bindings_));
    return out;
  }
  // A step that threw: the scenario is an error, with why.
  void threw(const std::string& what) { error("the run could not go on: " + what); }

 private:
  void finish();
  json execute(const Step& st, bool& executed);
  json adapterCall(const std::string& method, const std::string& target, const json& body,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});
  json simCall(const std::string& method, const std::string& target, const json& body = json());
  void readJournal();
  void collectWebhooks();
  std::string lockPath(const std::string& lock) const {
    return "/sim/v1/smartlocks/" + std::to_string(smartlockIds_.at(lock));
  }
  std::string deviceId(const std::string& lock) const {
    return std::to_string(smartlockIds_.at(lock));
  }
  std::string resolveNukiPath(const Step& st);
  bool compareWebhooks(bool atEnd);
  void fail(std::string message, std::optional<Divergence> d = std::nullopt);
  void error(std::string message);
  std::vector<std::string> stepsLeadingTo(size_t step, const std::string& lock) const;

  std::shared_ptr<const Scenario> scenario_;
  RunOptions options_;
  uint64_t seed_;
  SpecModel model_;
  std::unique_ptr<EmbeddedWorld> world_;
  std::unique_ptr<http::Requester> sim_, nuki_, api_;
  std::map<std::string, uint64_t> smartlockIds_;  // lock name → id
  std::map<std::string, std::string> lockOfDevice_;
  RunOracle oracle_;
  uint64_t journalNext_ = 1;
  std::set<uint64_t> harnessSeqs_;
  Bindings bindings_;
  std::map<std::string, std::vector<ObservedWebhook>> observed_;  // lock → de-duplicated
  std::vector<std::string> webhookProblems_;
  ScenarioResult result_;
  bool stopped_ = false;
  size_t currentStep_ = SIZE_MAX;
  std::map<size_t, bool> restartArmed_;  // step → done
  std::chrono::steady_clock::time_point started_;
};

void Run::fail(std::string message, std::optional<Divergence> d) {
  if (stopped_) return;
  stopped_ = true;
  result_.verdict = Verdict::kFailed;
  result_.message = std::move(message);
  result_.divergence = std::move(d);
}

void Run::error(std::string message) {
  if (stopped_) return;
  stopped_ = true;
  result_.verdict = Verdict::kError;
  result_.message = message;
  result_.problems.push_back(std::move(message));
}

json Run::adapterCall(const std::string& method, const std::string& target, const json& body,
                      const std::vector<std::pair<std::string, std::string>>& headers) {
  return call(*api_, method, target, body, headers);
}

json Run::simCall(const std::string& method, const std::string& target, const json& body) {
  json r = call(*sim_, method, target, body);
  r.erase("transport");
  return r;
}

bool Run::setUp() {
  const Scenario& s = *scenario_;
  EmbeddedWorld::Options wo;
  wo.seed = seed_;
  wo.start = s.start;
  wo.adapterSeed = seed_ * 0x9E3779B97F4A7C15ULL + 1;
  wo.nukiWebhooks = s.nukiWebhooks;
  wo.pollSeconds = s.pollSeconds;
  wo.verbose = options_.verbose;
  wo.transport = options_.transport;
  if (options_.TEST_tamper) wo.tamper = options_.TEST_tamper();
  json locks = json::array();
  const json settings = s.raw.value("settings", json::object());
  for (const auto& l : s.locks) {
    json entry = settings;
    for (const auto& [k, v] : l.fleet.items())
      entry[k] = v;
    locks.push_back(entry);
  }
  wo.fleet = json{{"accounts", json::array({json{{"name", "Scenario"}, {"smartlocks", locks}}})}};
  try {
    world_ = std::make_unique<EmbeddedWorld>(wo);
  } catch (const std::exception& e) {
    error(std::string("the fleet could not be set up: ") + e.what());
    return false;
  }
  for (const auto& [name, id] : world_->locks()) {
    smartlockIds_[name] = id;
    lockOfDevice_[std::to_string(id)] = name;
  }
  sim_ = world_->client(world_->simPort(), world_->simAdminToken());
  nuki_ = world_->client(world_->simPort(), world_->nukiToken());
  try {
    world_->startAdapter();
  } catch (const std::exception& e) {
    error(std::string("the adapter did not start: ") + e.what());
    return false;
  }
  api_ = world_->client(world_->adapterPort(), EmbeddedWorld::apiKey());
  world_->advance(0);  // quiescence at the start instant: discovery precedes step 1
  readJournal();
  model_.setLockIds(smartlockIds_);
  model_.start(oracle_);
  collectWebhooks();
  return compareWebhooks(false);
}

void Run::readJournal() {
  for (const auto& e : world_->journal(journalNext_)) {
    journalNext_ = std::max(journalNext_, e.seq + 1);
    if (e.kind != sim::JournalEntry::kApi) continue;
    model::ObservedCall c;
    c.seq = e.seq;
    c.atMs = e.atMs;
    c.method = e.method;
    c.path = e.path.substr(0, e.path.find('?'));
    c.status = e.status;
    c.fault = e.fault;
    c.requestId = e.requestId;
    c.fromHarness = harnessSeqs_.count(e.seq) > 0;
    if (auto it = lockOfDevice_.find(smartlockIdOf(c.path)); it != lockOfDevice_.end())
      c.lock = it->second;
    oracle_.all.push_back(std::move(c));
  }
}

void Run::collectWebhooks() {
  Deduplicated d = deduplicate(world_->webhooks(), world_->webhookAttempts());
  webhookProblems_ = d.problems;
  observed_.clear();
  for (const auto& w : d.webhooks) {
    auto it = lockOfDevice_.find(w.deviceId());
    if (it == lockOfDevice_.end()) {
      webhookProblems_.push_back("webhook " + w.id + " is for no device of this scenario (" +
                                 w.deviceId() + ")");
      continue;
    }
    observed_[it->second].push_back(observedOf(w));
  }
}

std::vector<std::string> Run::stepsLeadingTo(size_t step, const std::string& lock) const {
  std::vector<std::string> out;
  if (step == SIZE_MAX) return {"discovery (before steps[0])"};
  for (size_t i = 0; i <= step && i < scenario_->steps.size(); ++i) {
    const Step& st = scenario_->steps[i];
    if (i == step || st.lock == lock || st.lock.empty())
      out.push_back(st.label() + ": " + describeStep(st));
  }
  if (out.size() > 8) out.erase(out.begin(), out.end() - 8);
  return out;
}

bool Run::compareWebhooks(bool atEnd) {
  if (!webhookProblems_.empty()) {
    Divergence d;
    d.rule = "R-DELIVERY";
    d.message = webhookProblems_.front();
    fail("R-DELIVERY: " + webhookProblems_.front(), d);
    return false;
  }
  for (const auto& l : scenario_->locks) {
    const auto& expected = model_.expected().at(l.name);
    std::vector<ObservedWebhook> seen = observed_[l.name];
    size_t mustHave = 0;
    bool exact = true;
    if (atEnd) {
      // SPEC §7: received plus still pending in the outbox must equal the prediction.
      std::set<std::string> ids;
      for (const auto& o : seen)
        ids.insert(o.id);
      for (const auto& [id, body] : world_->outboxPending(deviceId(l.name))) {
        if (ids.count(id)) continue;
        RecordedWebhook w;
        w.id = id;
        w.raw = body;
        w.body = parseBody(body);
        ObservedWebhook o = observedOf(w);
        o.pending = true;
        seen.push_back(o);
      }
      mustHave = expected.size();
    } else {
      const auto delivery = model_.delivery(l.name);
      mustHave = delivery.delivered;
      exact = delivery.exact;
    }
    auto d = compareDevice(l.name, expected, seen, mustHave, exact, bindings_);
    if (d) {
      const size_t step = d->expected ? d->expected->step : currentStep_;
      result_.divergenceSteps = stepsLeadingTo(step, l.name);
      fail(d->rule + " (" + l.name + ", webhook " + std::to_string(d->index + 1) +
               "): " + d->message,
           d);
      return false;
    }
  }
  return true;
}

// {lock} and {@name} in a nukiRequest path.
std::string Run::resolveNukiPath(const Step& st) {
  std::string path = st.path;
  for (size_t pos; (pos = path.find("{lock}")) != std::string::npos;)
    path.replace(pos, 6, deviceId(st.lock));
  for (size_t pos; (pos = path.find("{@")) != std::string::npos;) {
    const size_t end = path.find('}', pos);
    const std::string name = path.substr(pos + 2, end - pos - 2);
    std::string authId;
    bool found = false;
    const uint64_t before = world_->journalNext();
    if (auto code = model_.pinCodeOf(name)) {
      // Nuki's id of the auth with that code: in the web view, or on the lock.
      auto web = nuki_->request("GET", "/smartlock/" + deviceId(st.lock) + "/auth", {},
                                {{EmbeddedWorld::kHarnessHeader, "1"}});
      json list = parseBody(web.body);
      if (list.is_array())
        for (const auto& a : list)
          if (member(a, "code").is_number_integer() &&
              std::to_string(member(a, "code").get<int64_t>()) == *code && !text(a, "id").empty()) {
            authId = text(a, "id");
            found = true;
          }
      if (!found) {
        const json device = member(simCall("GET", lockPath(st.lock) + "/device"), "body");
        const json& codes = member(device, "codes");
        for (const auto& c : codes.is_array() ? codes : json::array())
          if (member(c, "code").is_number_integer() &&
              std::to_string(member(c, "code").get<int64_t>()) == *code) {
            authId = text(c, "id");
            found = !authId.empty();
          }
      }
    }
    // These reads are the harness's own (between steps the adapter makes no calls).
    for (uint64_t seq = before, last = world_->journalNext(); seq < last; ++seq)
      harnessSeqs_.insert(seq);
    if (!found) {
      error(st.label() + ": {@" + name + "}: Nuki Web's id of that PIN cannot be learnt yet — it " +
            "is neither in the web view nor delivered to the lock (a new code gets its id " +
            "visible only then)");
      return "";
    }
    path.replace(pos, end - pos + 1, authId);
  }
  return path;
}

json Run::execute(const Step& st, bool& executed) {
  executed = true;
  auto status = [](const json& r) { return json{{"status", r.value("status", 0)}}; };
  switch (st.kind) {
    case StepKind::kSetLocked:
    case StepKind::kCreatePin:
    case StepKind::kUpdatePin:
    case StepKind::kDeletePin:
      return traitAction(*api_, st, deviceId(st.lock),
                         resolvePinIds(st.parameters, model_, bindings_));
    case StepKind::kOffline:
    case StepKind::kOnline:
    case StepKind::kBattery:
    case StepKind::kJam:
    case StepKind::kFree:
    case StepKind::kKeypad:
    case StepKind::kKnob:
    case StepKind::kAddCodeOnLock:
    case StepKind::kRemoveCodeOnLock:
    case StepKind::kSync:
      return controlPlaneEvent(*sim_, st, lockPath(st.lock));
    case StepKind::kNukiRequest: {
      const std::string path = resolveNukiPath(st);
      if (stopped_) return json();
      const uint64_t before = world_->journalNext();
      auto r = nuki_->request(st.method, path, st.body.is_null() ? std::string() : st.body.dump(),
                              {{EmbeddedWorld::kHarnessHeader, "1"}});
      // The journal entry of this request is the harness's own, not the adapter's.
      for (const auto& e : world_->journal(before)) {
        if (e.kind == sim::JournalEntry::kApi && e.method == st.method &&
            e.path.substr(0, e.path.find('?')) == path.substr(0, path.find('?'))) {
          harnessSeqs_.insert(e.seq);
          break;
        }
      }
      return json{{"status", r.status}};
    }
    case StepKind::kAdvance:
      world_->advance(st.seconds);
      executed = false;
      return json();
    case StepKind::kAdvanceTo: {
      Time target;
      if (st.time) {
        target = *st.time;
      } else {
        target = model::nextLocalTime(*TimeZone::find(scenario_->lock(st.lock)->timezone),
                                      world_->now(), st.localMinute);
      }
      world_->advanceTo(target);
      executed = false;
      return json();
    }
    case StepKind::kFault: {
      json r = simCall("POST", "/sim/v1/faults", st.fault);
      if (r.value("status", 0) / 100 != 2)
        error("nukisim refused the fault of " + st.label() + ": " + r.value("body", json()).dump());
      executed = false;
      return json();
    }
    case StepKind::kClearFaults:
      simCall("DELETE", "/sim/v1/faults");
      executed = false;
      return json();
    case StepKind::kReceiverDown:
      world_->setReceiverStatus(st.status);
      executed = false;
      return json();
    case StepKind::kReceiverUp:
      world_->setReceiverStatus(st.status);
      executed = false;
      return json();
    case StepKind::kRestartAdapter:
      for (const auto& [step, done] : restartArmed_)
        if (!done) {
          error(scenario_->steps[step].label() + ": the adapter was never restarted — " +
                st.label() + " came before the exchange it waited for");
          return json();
        }
      world_->restartAdapter(st.during, !st.kill);
      if (!st.during.empty()) restartArmed_[st.index] = false;
      if (!world_->lastRestart().failed.empty())
        error(st.label() + ": the adapter could not start again: " + world_->lastRestart().failed);
      executed = false;
      return json();
    case StepKind::kResumeOutbox:
      return status(adapterCall("POST", "/v1/outbox/" + deviceId(st.lock) + "/resume", json()));
    case StepKind::kExpectAction: {
      auto alias = model_.aliases().find(st.ref);
      const std::string ref = alias == model_.aliases().end() ? st.ref : alias->second;
      auto id = bindings_.actionId(ref);
      if (!id) {
        executed = false;
        return json();
      }
      return actionReading(member(adapterCall("GET", "/v1/actions/" + *id, json()), "body"));
    }
    case StepKind::kExpectDevice:
      return deviceReading(
          st, member(adapterCall("GET", "/v1/devices/" + deviceId(st.lock), json()), "body"));
    case StepKind::kExpectLock:
      return lockReading(st, member(simCall("GET", lockPath(st.lock) + "/device"), "body"));
    case StepKind::kExpectOutbox:
      return outboxReading(st, member(adapterCall("GET", "/v1/outbox", json()), "body"),
                           deviceId(st.lock));
  }
  return json();
}

bool Run::runStep(const Step& st) {
  currentStep_ = st.index;
  StepRecord rec;
  rec.index = st.index;
  rec.label = st.label();
  rec.text = describeStep(st);
  rec.lock = st.lock;
  rec.atMs = millisOf(world_->now());
  // A name whose action was refused cannot be used.
  for (const std::string& name : model_.namesUsedBy(st)) {
    if (model_.refused(name)) {
      error(st.label() + " uses '" + name + "', whose action was refused (SPEC §7 Names)");
      result_.steps.push_back(rec);
      return false;
    }
  }
  bool executed = false;
  json answer = execute(st, executed);
  if (stopped_) {
    result_.steps.push_back(rec);
    return false;
  }
  if (st.kind != StepKind::kAdvance && st.kind != StepKind::kAdvanceTo) world_->advance(0);
  // A restart armed by an earlier step that has happened now.
  for (auto& [step, done] : restartArmed_) {
    if (done) continue;
    auto r = world_->lastRestart();
    if (r.done) {
      done = true;
      oracle_.restarts[step] = model::Oracle::Restart{millisOf(r.at), r.afterSeq, r.cutSeq, true};
      if (!r.failed.empty()) {
        error(scenario_->steps[step].label() + ": the adapter could not start again: " + r.failed);
        result_.steps.push_back(rec);
        return false;
      }
    }
  }
  readJournal();
  // The action the answer names, for the model to tell its Nuki calls from another's.
  if (model::isTraitAction(st.kind) && answer.value("status", 0) == 202 &&
      answer.contains("actionId") && answer["actionId"].is_string())
    oracle_.actionRefs.emplace(answer["actionId"].get<std::string>(), SpecModel::actionRef(st));
  model::Prediction p = model_.apply(st, oracle_);
  rec.predicted = p.answer;
  rec.note = p.note;
  if (!p.error.empty()) {
    rec.ok = false;
    result_.steps.push_back(rec);
    error(st.label() + ": " + p.error);
    return false;
  }
  // The file against SPEC: an expectation the model contradicts is an error of the file. What
  // the system answered is shown too (it may well agree with the file).
  if (auto why = expectationProblem(st, p); !why.empty()) {
    rec.ok = false;
    std::string answered;
    if (executed && !answer.is_null()) {
      rec.answer = answer;
      answered = " (the system answered " + answer.dump() + ")";
    }
    result_.steps.push_back(rec);
    error(st.label() + ": the expectation contradicts SPEC: " + why + answered);
    return false;
  }
  // Names bind when the action is answered 202.
  if (auto why = bindAnswer(st, answer, model_, bindings_); !why.empty()) {
    rec.ok = false;
    result_.steps.push_back(rec);
    fail(why);
    return false;
  }
  if (executed) {
    const json shown = shownAnswer(st, answer);
    rec.answer = shown;
    if (!p.allows(shown)) {
      rec.ok = false;
      result_.steps.push_back(rec);
      const Divergence d = answerDivergence(st, p, shown, model_);
      result_.divergenceSteps = stepsLeadingTo(st.index, st.lock);
      fail((d.rule.empty() ? std::string() : d.rule + ": ") + d.message, d);
      return false;
    }
  }
  result_.steps.push_back(rec);
  // nukisim answered otherwise than SPEC: the simulator (or the model) is wrong, not the
  // adapter, and the adapter cannot be judged from here on.
  if (!model_.serviceFindings().empty()) {
    error(
        "nukisim departs from SPEC (a bug of the simulator or of the spec model, not of the "
        "adapter): " +
        model_.serviceFindings().front().message);
    return false;
  }
  // What the system did against SPEC, seen through the oracle.
  if (!model_.violations().empty()) {
    const auto& v = model_.violations().front();
    Divergence d;
    d.rule = v.rule;
    d.message = v.message;
    result_.divergenceSteps = stepsLeadingTo(v.step == SIZE_MAX ? st.index : v.step, st.lock);
    fail(v.rule + ": " + v.message, d);
    return false;
  }
  collectWebhooks();
  return compareWebhooks(false);
}

void Run::finish() {
  if (!stopped_) {
    for (const auto& [step, done] : restartArmed_)
      if (!done)
        error(scenario_->steps[step].label() + ": the adapter was never restarted — no " +
              (scenario_->steps[step].during == "nextWebhook" ? "webhook" : "Nuki Web call") +
              " followed it");
  }
  if (!stopped_) {
    collectWebhooks();
    compareWebhooks(true);
  }
  // expectWebhooks: the file's view of each device's sequence after discovery.
  if (!stopped_) {
    for (const auto& [lock, entries] : scenario_->expectWebhooks) {
      std::vector<ExpectedWebhook> after;
      for (const auto& e : model_.expected().at(lock))
        if (e.step != SIZE_MAX) after.push_back(e);
      std::string why;
      if (entries.size() != after.size()) {
        why = "expectWebhooks." + lock + " lists " + std::to_string(entries.size()) +
              " webhooks; SPEC predicts " + std::to_string(after.size()) + ":";
        for (const auto& e : after)
          why += " " + e.describe() + ";";
        error("the file's expectWebhooks contradict SPEC: " + why);
        break;
      }
      for (size_t k = 0; k < entries.size(); ++k) {
        if (!entryMatches(
                entries[k], after[k], model_.aliases(),
                [this](const std::string& n) { return model_.pinRefOf(n); }, why)) {
          error("the file's expectWebhooks." + lock + "[" + std::to_string(k) +
                "] contradicts SPEC: " + why);
          break;
        }
      }
      if (stopped_) break;
    }
  }
  // The record for reports.
  for (const auto& l : scenario_->locks) {
    DeviceRecord d;
    d.lock = l.name;
    if (smartlockIds_.count(l.name)) d.deviceId = deviceId(l.name);
    if (model_.expected().count(l.name)) d.expected = model_.expected().at(l.name);
    for (const auto& o : observed_[l.name])
      d.observed.push_back(withNames(o, bindings_));
    if (world_ && smartlockIds_.count(l.name)) {
      std::set<std::string> ids;
      for (const auto& o : d.observed)
        ids.insert(o.id);
      for (const auto& [id, body] : world_->outboxPending(deviceId(l.name))) {
        if (ids.count(id)) continue;
        RecordedWebhook w;
        w.id = id;
        w.body = parseBody(body);
        ObservedWebhook o = observedOf(w);
        o.pending = true;
        d.undelivered.push_back(withNames(o, bindings_));
      }
    }
    if (result_.divergence && result_.divergence->lock == l.name)
      d.divergenceIndex = result_.divergence->index;
    result_.devices.push_back(std::move(d));
  }
  result_.coverage = model_.coverage();
  result_.branches = model_.branches();
  if (world_) result_.endMs = millisOf(world_->now());
}

void Run::begin() {
  started_ = std::chrono::steady_clock::now();
  result_.file = scenario_->file;
  result_.name = scenario_->name;
  result_.seed = seed_;
  result_.intended = scenario_->rules;
  result_.startMs = millisOf(scenario_->start);
  result_.endMs = result_.startMs;
}

ScenarioResult Run::end() {
  finish();
  if (result_.verdict == Verdict::kPassed)
    result_.message = "every answer and webhook as SPEC says";
  result_.wallMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
          .count();
  world_.reset();
  return result_;
}

ScenarioResult Run::go() {
  begin();
  if (setUp()) {
    for (const auto& st : scenario_->steps) {
      if (runStep(st)) continue;
      // The steps after the one that stopped the scenario, listed as not run.
      for (size_t k = st.index + 1; k < scenario_->steps.size(); ++k) {
        const Step& later = scenario_->steps[k];
        StepRecord rec;
        rec.index = later.index;
        rec.label = later.label();
        rec.text = describeStep(later);
        rec.lock = later.lock;
        rec.run = false;
        rec.note = "not run: the scenario stopped at " + st.label();
        result_.steps.push_back(std::move(rec));
      }
      break;
    }
  }
  return end();
}

}  // namespace

namespace {

// One run that cannot throw: whatever goes wrong makes the scenario an error, with why.
ScenarioResult runOnce(const std::shared_ptr<const Scenario>& scenario, const RunOptions& options,
                       uint64_t seed) {
  try {
    return Run(scenario, options, seed).go();
  } catch (const std::exception& e) {
    ScenarioResult r;
    r.file = scenario->file;
    r.name = scenario->name;
    r.seed = seed;
    r.verdict = Verdict::kError;
    r.message = std::string("the run could not go on: ") + e.what();
    r.problems.push_back(r.message);
    return r;
  }
}

}  // namespace

struct Session::Impl {
  std::shared_ptr<Scenario> scenario;
  Run run;
  bool finished = false;
  Impl(std::shared_ptr<Scenario> s, const RunOptions& o, uint64_t seed)
      : scenario(std::move(s)), run(scenario, o, seed) {}
};

Session::Session(std::shared_ptr<Scenario> scenario, const RunOptions& options, uint64_t seed) {
  scenario->steps.clear();
  impl_ = std::make_unique<Impl>(std::move(scenario), options, seed);
}

Session::~Session() = default;

bool Session::start() {
  impl_->run.begin();
  try {
    return impl_->run.setUp();
  } catch (const std::exception& e) {
    impl_->run.threw(e.what());
    return false;
  }
}

bool Session::step(Step st) {
  if (impl_->run.stopped()) return false;
  st.index = impl_->scenario->steps.size();
  impl_->scenario->steps.push_back(std::move(st));
  try {
    return impl_->run.runStep(impl_->scenario->steps.back());
  } catch (const std::exception& e) {
    impl_->run.threw(e.what());
    return false;
  }
}

bool Session::stopped() const {
  return impl_->run.stopped();
}

ScenarioResult Session::finish() {
  try {
    return impl_->run.end();
  } catch (const std::exception& e) {
    impl_->run.threw(e.what());
    ScenarioResult r;
    r.verdict = Verdict::kError;
    r.message = std::string("the run could not go on: ") + e.what();
    return r;
  }
}

const Scenario& Session::scenario() const {
  return *impl_->scenario;
}

const SpecModel& Session::model() const {
  return impl_->run.model();
}

json Session::simGet(const std::string& target) {
  return impl_->run.simGet(target);
}

json Session::deviceTruth(const std::string& lock) {
  return impl_->run.deviceTruth(lock);
}

std::vector<ObservedWebhook> Session::observed(const std::string& lock) const {
  return impl_->run.observedFor(lock);
}

ScenarioResult runScenario(std::shared_ptr<const Scenario> scenario, const RunOptions& options) {
  const uint64_t seed = scenario->seed.value_or(options.seed.value_or(1));
  ScenarioResult first = runOnce(scenario, options, seed);
  auto folder = [](const std::string& file) {
    const size_t slash = file.find_last_of('/');
    if (slash == std::string::npos) return std::string(".");
    const std::string dir = file.substr(0, slash);
    const size_t up = dir.find_last_of('/');
    return up == std::string::npos ? dir : dir.substr(up + 1);
  };
  first.suite = folder(scenario->file);
  first.replay = options.commandPrefix + " " + scenario->file + " --seed " + std::to_string(seed);
  if (first.verdict != Verdict::kFailed || !options.replayFailures) return first;
  // SPEC §7: a failure is reported only after replaying it once to the same result.
  ScenarioResult again = runOnce(scenario, options, seed);
  if (again.verdict == first.verdict && again.message == first.message) {
    first.replayed = true;
    first.wallMs += again.wallMs;
    return first;
  }
  first.verdict = Verdict::kError;
  first.problems.push_back("the failure did not replay with the same seed: first \"" +
                           first.message + "\", then \"" + again.message +
                           "\" (the run is not deterministic)");
  first.message = first.problems.back();
  return first;
}

}  // namespace nukihil::scenarios
