// What a step sends to the system and how its answer is read, shared by every target: the
// embedded runner and the live (nuki-web) runner send the same trait actions and read the
// adapter the same way; the embedded runner and the scripted operator make the same
// control-plane calls for a lock's physical events.
//
// Reading never throws on a wrong shape: a wrong adapter must fail its scenario, not crash the
// run.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "runtime/blocking_client.h"
#include "scenarios/checker.h"
#include "scenarios/model/scenario.h"
#include "scenarios/model/spec_model.h"
#include "scenarios/webhook_recorder.h"

namespace nukihil::scenarios {

nlohmann::json parseBody(const std::string& body);  // discarded value if not JSON
const nlohmann::json& member(const nlohmann::json& j, const char* key);  // null if absent
std::string text(const nlohmann::json& j, const char* key);              // "" unless a string

// A received webhook as the checker compares it (content without deviceId).
ObservedWebhook observedOf(const RecordedWebhook& w);

// The smartlock id in a Nuki API path ("/smartlock/123/auth" → "123"); "" if it names none.
std::string smartlockIdOf(const std::string& path);

// A request and its answer as {"status", "body"?, "transport"?}.
nlohmann::json call(http::Requester& to, const std::string& method, const std::string& target,
                    const nlohmann::json& body = nlohmann::json(),
                    const std::vector<std::pair<std::string, std::string>>& headers = {});

// A trait action (setLocked, createPin, updatePin, deletePin) on `deviceId` with `parameters`
// ("@name" already replaced): {"status", "error"?, "actionId"?, "pinId"?}.
nlohmann::json traitAction(http::Requester& adapter, const model::Step& st,
                           const std::string& deviceId, const nlohmann::json& parameters);

// A lock's physical event (offline, online, battery, jam, free, keypad, knob, addCodeOnLock,
// removeCodeOnLock) or a sync, through nukisim's control plane; `lockPath` is
// "/sim/v1/smartlocks/{id}". keypad: {"granted", "reason"}; the others: {"status"}.
nlohmann::json controlPlaneEvent(http::Requester& sim, const model::Step& st,
                                 const std::string& lockPath);

// What expectDevice reads from GET /v1/devices/{id}'s body: the fields the step names.
nlohmann::json deviceReading(const model::Step& st, const nlohmann::json& device);
// What expectLock reads from the control plane's GET /sim/v1/smartlocks/{id}/device body.
nlohmann::json lockReading(const model::Step& st, const nlohmann::json& device);
// What expectOutbox reads from GET /v1/outbox's body for `deviceId`.
nlohmann::json outboxReading(const model::Step& st, const nlohmann::json& outbox,
                             const std::string& deviceId);
// What expectAction reads from GET /v1/actions/{id}'s body.
nlohmann::json actionReading(const nlohmann::json& action);

// A control-plane event of the world (offline, online, battery, jam, free, knob, code on the
// lock, sync, resumeOutbox): SPEC fixes no success status for those, any 2xx is "done".
bool worldEvent(model::StepKind k);
// Does the file's `expect` of a step agree with the model? "" if so, else why not.
std::string expectationProblem(const model::Step& st, const model::Prediction& p);
// The rule an answer (`shown`) that departs from the model's prediction breaks.
std::string ruleOfAnswer(const model::Step& st, const model::Prediction& p,
                         const nlohmann::json& shown, const model::SpecModel& model);
// An answer as it is compared with the model: without the ids the system made up, and a world
// event's 2xx as 200 (SPEC fixes no success status for the control plane's world events).
nlohmann::json shownAnswer(const model::Step& st, const nlohmann::json& answer);
// The divergence of an answer (`shown`) the model does not allow: its rule and message.
Divergence answerDivergence(const model::Step& st, const model::Prediction& p,
                            const nlohmann::json& shown, const model::SpecModel& model);

// "@name" in a PIN action's `id`: the adapter's id of that PIN ("unbound-<name>" if none).
nlohmann::json resolvePinIds(const nlohmann::json& params, const model::SpecModel& model,
                             const Bindings& bindings);
// SPEC §7 Names: a trait action answered 202 binds its name (and a createPin its PIN id).
// Returns why not, if a repeated Idempotency-Key got a new actionId; else "".
std::string bindAnswer(const model::Step& st, const nlohmann::json& answer,
                       const model::SpecModel& model, Bindings& bindings);

}  // namespace nukihil::scenarios
