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
};

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

// Runs one validated scenario.
ScenarioResult runScenario(std::shared_ptr<const model::Scenario> scenario,
                           const RunOptions& options);

// A one-line text of a step for reports ("createPin Front door 234567 as guest").
std::string describeStep(const model::Step& step);

// The short title of a rule id (for the coverage table).
std::string ruleTitle(const std::string& id);

}  // namespace nukihil::scenarios
