// A scenario on a live target (`nukihil run --target nuki-web`): real locks behind a Nuki Web
// — the real one, or nukisim standing in for it — on the wall clock. The harness starts its own
// webhook recorder and its own nuki-adapter process (per scenario, on a fresh database, with the
// scenario's adapter settings), sends the trait actions, asks an operator for the physical
// steps, and compares every answer and every device's webhook sequence with the spec model,
// as the embedded runner does.
//
// What differs from the embedded runner (docs/hil.md):
// - Time is real. The spec model's clock follows the wall clock (it is moved on by the time
//   that really passed before each step); `advance` is a real wait; `advanceTo` the lock's
//   daily sync is POST /smartlock/{id}/sync. A check waits for the system to agree, up to
//   `checkSeconds`; a predicted webhook may take as long to arrive.
// - The harness sees no journal: the model makes the adapter's calls itself (no faults, no
//   restart `during` an exchange).
// - Device truth cannot be read: expectLock and the keypad's refusal reason are skipped checks.
//   A scenario that passes with a skipped check is reported skipped, never passed.
// - At the end (also after Ctrl-C) the harness deletes the codes it made; what it could not
//   delete is listed in the result.
#pragma once

#include <atomic>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "scenarios/hil.h"
#include "scenarios/operator.h"
#include "scenarios/runner.h"
#include "scenarios/webhook_recorder.h"

namespace nukihil::scenarios {

struct LiveOptions {
  // kNukiWeb: real locks named by `hil`, physical steps by `op`. kRemote: a running nukisim
  // (`simUrl`, its control plane with `simAdminToken`) in which each scenario's fleet is built
  // in an account of its own; physical steps, faults and device truth through its control
  // plane; its journal tells the model what the adapter did.
  TargetKind target = TargetKind::kNukiWeb;
  std::string simUrl, simAdminToken;
  const HilFile* hil = nullptr;  // required for kNukiWeb
  std::string nukiUrl = "https://api.nuki.io";
  std::string nukiToken;
  std::string caFile;         // extra trusted CA bundle for https
  std::string adapterBinary;  // the nuki-adapter to start
  // Where Nuki Web reaches the adapter's /nuki/webhook ("": derived for a loopback nukiUrl,
  // else the adapter polls only and scenarios that need Nuki's webhooks are skipped).
  std::string publicUrl;
  uint16_t adapterPort = 0;     // 0: a free one
  Operator* op = nullptr;       // null: steps that need a person skip their scenario
  PlanOptions plan;             // allowUnlock, maxWaitSeconds (haveOperator, publicUrl: set here)
  int checkSeconds = 30;        // how long a check or a predicted webhook may take
  std::ostream* out = nullptr;  // the transcript (prompts, waits); null: none
  const std::atomic<bool>* interrupted = nullptr;  // Ctrl-C: stop, clean up
  bool verbose = false;                            // the adapter logs on stderr
  // Record when each webhook arrived against when nukisim's settings would have it arrive, and
  // run the same scenario in the embedded world to list where the sequences differ.
  bool calibrate = false;
  // For the harness's own tests: a fault planted between the adapter and the recorder
  // (scenarios/planted_faults.h), made fresh for each scenario.
  std::function<WebhookRecorder::Tamper()> TEST_tamper;
};

// True for http://127.0.0.1…, http://localhost… (a Nuki Web on this machine: nukisim).
bool loopbackUrl(const std::string& url);

// The plan of a scenario with these options (what --plan prints).
ScenarioPlan livePlan(std::shared_ptr<const model::Scenario> scenario, const LiveOptions& options);

// Runs one validated scenario on the live target. Never throws.
ScenarioResult runLive(std::shared_ptr<const model::Scenario> scenario, const LiveOptions& options);

}  // namespace nukihil::scenarios
