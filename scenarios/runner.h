// Runs scenario files (SPEC §7): each in a fresh embedded world (nukisim, the adapter and a
// webhook recorder on one virtual clock, over loopback or in memory), step by step in lockstep with
// the spec model, comparing every answer, every expect… and every device's webhook sequence. A
// failure is replayed once with the same seed before it is reported.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/checker.h"
#include "scenarios/embedded_world.h"
#include "scenarios/model/scenario.h"
#include "scenarios/model/spec_model.h"
#include "scenarios/webhook_recorder.h"

namespace nukihil::scenarios {

enum class Verdict { kPassed, kFailed, kError, kSkipped };
const char* verdictName(Verdict v);  // "passed", "failed", "error", "skipped"

struct StepRecord {
  size_t index = 0;
  std::string label;  // "steps[3] (createPin)"
  std::string text;   // "createPin Front door 234567 \"Guest\" as guest"
  std::string lock;
  int64_t atMs = 0;
  nlohmann::json answer;     // what the system answered (null: nothing to compare)
  nlohmann::json predicted;  // what the model says
  bool ok = true;
  bool run = true;  // false: not run, the scenario stopped at an earlier step
  std::string note;
};

struct DeviceRecord {
  std::string lock;
  std::string deviceId;
  std::vector<model::ExpectedWebhook> expected;
  std::vector<ObservedWebhook> observed;     // received, de-duplicated
  std::vector<ObservedWebhook> undelivered;  // still in the outbox at the end
  std::optional<size_t> divergenceIndex;
};

struct ScenarioResult {
  std::string file;
  std::string suite;  // the folder the file is in
  std::string name;
  uint64_t seed = 0;
  Verdict verdict = Verdict::kPassed;
  std::string message;  // one line
  std::optional<Divergence> divergence;
  std::vector<std::string> divergenceSteps;  // the steps that led there
  std::vector<std::string> problems;         // errors of the file or the run
  std::vector<std::string> branches;         // indeterminate outcomes and the branch seen
  std::vector<StepRecord> steps;
  std::vector<DeviceRecord> devices;
  std::map<std::string, int> coverage;
  std::vector<std::string> intended;  // the file's `rules`
  int64_t startMs = 0, endMs = 0;     // virtual
  double wallMs = 0;
  bool replayed = false;  // a failure was run twice to the same result
  std::string replay;     // the command that replays it
  // Live targets (nuki-web): the checks that could not be made there ("steps[5] (expectLock):
  // device truth cannot be read from a real lock"), and what the harness made on the account
  // but could not remove at the end.
  std::vector<std::string> skippedChecks;
  std::vector<std::string> notCleanedUp;
  // Where the service the adapter talks to (the real Nuki Web, or nukisim) was seen departing
  // from SPEC ("steps[4] (keypad): Nuki Web listed the codes of Front door … otherwise than
  // SPEC's web view; it showed 234567, which SPEC shows only after a sync"): findings about the
  // service, apart from the adapter's divergences.
  std::vector<std::string> serviceFindings;
  std::string target = "embedded";
  // --calibrate: per webhook, how long after its step it arrived for real and in nukisim's
  // world ({"rows": [{"step","webhook","realMs","simMs"}], "motorMs": [...], "latencyMs": [...],
  // "differences": [...]}); null otherwise.
  nlohmann::json calibration;
};

// How the embedded world's parts talk: HTTP over loopback TCP, or in memory (every message
// still serialised and parsed).
using EmbeddedTransport = EmbeddedWorld::Options::Transport;

struct RunOptions {
  std::optional<uint64_t> seed;  // --seed (a file's own seed wins)
  bool replayFailures = true;
  bool verbose = false;  // the adapter logs its requests on stderr
  // How the world's parts and the runner talk: loopback TCP or the in-memory network (the
  // same seed gives the same result on both).
  EmbeddedWorld::Options::Transport transport = EmbeddedWorld::Options::Transport::kLoopback;
  // Faults planted between the adapter and the recorder, for the harness's own tests: makes a
  // fresh WebhookRecorder::Tamper for each run (a replay starts from scratch). Unset in normal
  // runs.
  std::function<WebhookRecorder::Tamper()> TEST_tamper;
  std::string commandPrefix = "nukihil run";  // for the replay command
};

// A scenario run one step at a time, for drivers that choose or build the steps as they go
// (exploration): the fleet and settings are fixed at the start, each step is added to the
// scenario and run at once, and the verdict is made at finish(). runScenario is a Session fed
// the file's steps.
class Session {
 public:
  // `scenario` holds the fleet; its steps (if any) are not run — add them with step().
  Session(std::shared_ptr<model::Scenario> scenario, const RunOptions& options, uint64_t seed);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Builds the world and runs discovery. False if the run stopped (failed or errored).
  bool start();
  // Appends `step` (its index set to its position) and runs it with its quiescence. False if
  // the run stopped, now or before.
  bool step(model::Step step);
  bool stopped() const;
  // The end-of-run comparison (received plus pending equals the prediction) and the record.
  // The world is gone afterwards.
  ScenarioResult finish();

  const model::Scenario& scenario() const;
  const model::SpecModel& model() const;
  // A GET on the simulator's control plane (null body if it answered none).
  nlohmann::json simGet(const std::string& target);
  // A lock's device truth (GET /sim/v1/smartlocks/{id}/device).
  nlohmann::json deviceTruth(const std::string& lock);
  // Every platform webhook received so far for a lock, de-duplicated, with names for ids.
  std::vector<ObservedWebhook> observed(const std::string& lock) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs one validated scenario.
ScenarioResult runScenario(std::shared_ptr<const model::Scenario> scenario,
                           const RunOptions& options);

// A one-line text of a step for reports ("createPin Front door 234567 as guest").
std::string describeStep(const model::Step& step);

// The short title of a rule id (for the coverage table).
std::string ruleTitle(const std::string& id);

}  // namespace nukihil::scenarios
