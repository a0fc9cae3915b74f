// Exploration's internals (scenarios/explore.h is the interface): the abstract state the
// command generators and preconditions see, the system under test of one case, and the
// generators. Not for use outside scenarios/explore*.cc.
#pragma once

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "scenarios/explore.h"

namespace nukihil::scenarios::exploration {

// What generation knows of the world: enough to draw valid, interesting steps (RapidCheck's
// "model" of rc::state). The spec model — what the system must do — runs inside the case.
struct AbsLock {
  std::string name;
  bool pro = true;
  int bridge = -1;  // 3.0: the bridge group it shares with other locks
  bool online = true;
  bool jammed = false;
  std::string zone = "UTC";
  int syncAt = 180;            // minute of the local day
  std::vector<int64_t> codes;  // codes on the lock or on their way there, as far as known
};
struct AbsPin {
  std::string name;  // createPin `as` or a fleet code's `as`
  size_t lock = 0;
  int64_t code = 0;
};
struct Abstract {
  std::vector<AbsLock> locks;
  std::vector<AbsPin> pins;
  std::vector<std::string> actions;  // every trait action's `as`, in order
  std::set<int64_t> used;            // every code the case has used
  std::set<std::string> names;       // every `as` bound so far (a scenario's names are unique)
  int nextName = 1;
  int64_t startMs = 0, nowMs = 0;  // virtual time as far as generation can tell
  bool fault = false;              // a fault without a count may still be active
  bool receiverDown = false;
  int64_t downSinceMs = -1;
  bool mayPark = false;       // the receiver was down for 72 h or more
  bool restartArmed = false;  // a restartAdapter `during` that may not have landed
  bool nukiWebhooks = true;
  std::string newName(const char* prefix) { return prefix + std::to_string(nextName++); }
};

// A case's fleet: the scenario's top level and the state generation starts from.
struct Fleet {
  nlohmann::json scenario;  // {name, start, adapter?, locks}: a scenario file without steps
  Abstract initial;
};

// One case's system under test: a Session over a fresh embedded world.
class CaseRun;

using ExploreCommand = rc::state::Command<Abstract, CaseRun>;
using CommandPtr = std::shared_ptr<const ExploreCommand>;

// A command is one SPEC §7 step: `step` is exactly what a scenario file holds.
struct StepCommand : ExploreCommand {
  nlohmann::json step;
  void run(const Abstract& state, CaseRun& sut) const override;
  void show(std::ostream& os) const override;
};

// Generators (explore_generators.cc), biased toward the edges of the rules.
rc::Gen<Fleet> genFleet();
// `edges`: also codes that break K1–K3 or repeat one on the lock.
rc::Gen<int64_t> genCreateCode(const Abstract& s, size_t lock, bool edges = true);
rc::Gen<std::string> genPinName();
rc::Gen<nlohmann::json> genSchedules(const Abstract& s);
rc::Gen<int64_t> genAdvanceSeconds();
rc::Gen<std::string> genLocalTime(const AbsLock& lock);
rc::Gen<nlohmann::json> genFault(bool polling);
rc::Gen<int> genCharge();
std::string hhmm(int minute);

// A command for state `s`, drawn in the proportions of `mix` (explore_commands.cc).
rc::Gen<CommandPtr> genCommand(const Abstract& s, const FaultMix& mix);

// The heal phase for the state the fault phase left (explore_commands.cc).
std::vector<nlohmann::json> healSteps(const Abstract& s);

}  // namespace nukihil::scenarios::exploration
