// Hardware in the loop: what each target of `nukihil run` can do with each SPEC §7 step, the
// HIL file that maps a scenario's lock names to real smartlocks, and the plan of a scenario on a
// target (every step, every change to the account, or why the scenario is skipped) that
// `--plan` prints before anything is sent.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "scenarios/model/scenario.h"

namespace nukihil::scenarios {

enum class TargetKind {
  kEmbedded,  // nukisim, the adapter and the recorder in this process, on one virtual clock
  kNukiWeb,   // nuki-adapter (started by the harness) against a Nuki Web on the wall clock
  kRemote,    // nuki-adapter (started by the harness) against a running nukisim on the wall clock
};
const char* targetName(TargetKind t);  // "embedded", "nuki-web", "remote"

// One real lock the scenarios may use, as the HIL file describes it.
struct HilLock {
  std::string name;  // the scenario lock name it stands for
  uint64_t smartlockId = 0;
  bool pro = true;  // "3.0 Pro" or "3.0"
  std::optional<uint64_t> bridgeId;
  std::string timezone = "UTC";
  int syncAtMinute = 180;  // the lock's daily sync (local), "HH:MM"; default 03:00
  // How long the real lock takes (measured, e.g. by --calibrate): the spec model's timings.
  std::optional<int> motorSeconds, deliverySeconds;
};

struct HilFile {
  std::string file;
  std::vector<HilLock> locks;
  const HilLock* lock(const std::string& name) const;
};

// Parses and checks a HIL file:
//   {"locks": [{"name": "Front door", "smartlockId": 18705743981, "model": "3.0 Pro",
//               "timezone": "Europe/Berlin", "syncAt": "03:00", "motorSeconds": 4,
//               "deliverySeconds": 6},
//              {"name": "Back door", "smartlockId": …, "model": "3.0", "bridgeId": 5001}]}
// Problems carry the JSON path ("locks[1].smartlockId") and the nearest known key.
struct HilParse {
  std::optional<HilFile> hil;
  std::vector<model::Problem> problems;
};
HilParse parseHilFile(const std::string& text, const std::string& file);

// How a target carries out a step.
enum class How {
  kPerform,   // the harness does it
  kOperator,  // a person (or a scripted operator) does it when prompted
  kSkipStep,  // cannot be done: the scenario is skipped
  kSkipCheck  // a check that cannot be read: the scenario runs, the check is reported skipped
};
const char* howName(How h);  // "performs", "asks the operator", "skips the scenario", …

struct Capability {
  How how = How::kPerform;
  std::string what;  // what happens, in words ("POST /smartlock/{id}/sync", "a real wait")
};
// The general answer for a step kind on a target (the table of docs/hil.md and `--plan`).
Capability capabilityOf(TargetKind target, model::StepKind kind);
// The capability table as text: one row per step kind, one column per target.
std::string capabilityTable();

struct PlanOptions {
  bool allowUnlock = false;
  bool haveOperator = true;      // a person at the terminal or --operator
  int64_t maxWaitSeconds = 900;  // real time the scenario may wait in all
  bool publicUrl = false;        // Nuki Web can reach the adapter (its webhooks can be used)
};

struct StepPlan {
  size_t index = 0;
  std::string label;
  std::string text;  // describeStep
  How how = How::kPerform;
  std::string what;           // what the harness does, or asks, or why it cannot
  std::string accountChange;  // the change this step makes to the Nuki account ("" if none)
};

struct ScenarioPlan {
  std::string file, name;
  bool runnable = true;
  std::vector<std::string> skipReasons;  // why it is skipped (runnable == false)
  std::vector<std::string> lockMap;      // "Front door → smartlock 18705743981 (3.0 Pro, …)"
  std::vector<std::string> before;       // changes to the account before the first step
  std::vector<StepPlan> steps;
  int64_t waitSeconds = 0;  // real time the advances take
  // The scenario with the lock facts of the HIL file (model, bridge, zone, sync time), for
  // the spec model: what it predicts must be what the real locks do.
  std::shared_ptr<const model::Scenario> adapted;
};

// The plan of one scenario on a target. `hil` is required for kNukiWeb.  On kRemote the
// scenario's fleet is built in the running nukisim, so only what real time cannot do is skipped.
ScenarioPlan planScenario(std::shared_ptr<const model::Scenario> scenario, TargetKind target,
                          const HilFile* hil, const PlanOptions& options);
// The plan as the operator reads it before the run.
std::string planText(const ScenarioPlan& plan);

}  // namespace nukihil::scenarios
