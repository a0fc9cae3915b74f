// Property-based exploration (`nukihil explore`): RapidCheck's state machine (rc::state) draws
// cases — a small fleet and a sequence of SPEC §7 steps biased toward the rules' edges — runs
// each in a fresh embedded world in lockstep with the spec model, and shrinks a failing case to
// the smallest scenario file that still fails, which `nukihil run` replays.
//
// A case has two phases: a fault phase (steps and faults drawn from the seed, in the run's
// fault mix) and a heal phase (faults cleared, receiver up, locks online, parked streams
// resumed, the clock through every lock's sync). Safety — every answer and every device's
// webhook sequence equal to the model's — is checked after every step; liveness — every
// accepted action ended and the adapter's state equal to the locks' — at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/runner.h"

namespace nukihil::scenarios {

// How often each kind of step is drawn (relative weights). The run's mix is derived from its
// seed (every weight scaled by a factor in [0.25, 2]) and printed first.
struct FaultMix {
  std::map<std::string, double> weights;
  static FaultMix defaults();
  static FaultMix fromSeed(uint64_t seed);
  std::string describe() const;  // "lock 4.0, pins 8.1, …"
};

struct ExploreOptions {
  uint64_t seed = 1;
  int cases = 100;     // used when minutes is 0
  double minutes = 0;  // a time budget instead of a case count
  int shard = 0, shards = 1;
  EmbeddedTransport transport = EmbeddedTransport::kLoopback;
  int maxSteps = 24;           // fault-phase steps of the largest case
  double shrinkSeconds = 300;  // shrinking stops after this much wall time
  std::string tracePath;       // JSON lines: every step and every webhook
  std::string junitPath;
  std::string outDir = "explore-failures";
  std::string plant;  // a planted fault (scenarios/planted_faults.h), to check the checker
  // Tests: the replay's planted fault when it is not `plant` ("": none), for a failure that
  // does not replay.
  std::optional<std::string> TEST_replayPlant;
  std::string reproduce;  // a reproduce string printed by an earlier run
  bool progress = false;  // a progress bar on stderr (a terminal)
  bool replay = true;     // replay the shrunk file through `nukihil run`'s runner
  std::string commandPrefix = "nukihil";
  // Polled between cases: true ends the run early (Ctrl-C).
  std::function<bool()> interrupted;
};

struct ExploreResult {
  int cases = 0;  // cases run to the end (shrinking not counted)
  uint64_t steps = 0;
  double seconds = 0;
  bool failed = false;
  std::string property;  // "safety" or "liveness"
  std::string message;   // the failure as the minimal case shows it
  std::string original;  // the failing case before shrinking, as a scenario file
  std::string reproduce;
  std::string file;          // the shrunk scenario file written
  size_t shrunkSteps = 0;    // its fault-phase steps
  size_t originalSteps = 0;  // the same before shrinking
  int failingCase = 0;       // 1-based index of the case that failed first
  bool replayed = false;     // the written file fails under `nukihil run` too
  // A failure was found and shrunk but its file does not fail under `nukihil run`: not
  // reported as a failure (failed is false), yet not a pass either (exit 3).
  bool unreproduced = false;
  std::string replayMessage;  // what that replay said
  std::optional<ScenarioResult> shrunkResult;
};

// Runs the exploration, printing the seed, the mix, progress and any failure to `out`.
ExploreResult explore(const ExploreOptions& options, std::ostream& out);

// The seed a shard's cases are drawn from ("each shard its own seed range").
uint64_t shardSeed(uint64_t seed, int shard);

}  // namespace nukihil::scenarios
