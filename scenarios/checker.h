// The checker: holds one device's observed platform webhooks against the spec model's
// prediction, exactly as SPEC §7 "What is compared" says — type and content, the adapter's ids
// mapped through the scenario's names, `occurredAt` never decreasing — and names the first
// divergence with the rule it breaks.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scenarios/model/spec_model.h"

namespace nukihil::scenarios {

// One platform webhook as the receiver got it, after de-duplication by webhook-id.
struct ObservedWebhook {
  std::string id;  // webhook-id
  std::string type;
  nlohmann::json content;  // without deviceId
  std::string occurredAt;
  int64_t occurredMs = 0;
  bool pending = false;  // still in the adapter's outbox at the end (not received)
  std::string describe() const;
};

// The adapter's ids as the scenario's names know them. An action's id is bound when the
// action is answered 202; a PIN id when a createPin is answered (or, for the fleet's codes and
// codes made elsewhere, the first time a pinCodeCredentials list shows it).
class Bindings {
 public:
  // `ref` is the model's reference of the action (canonical); several names may share an id.
  void bindAction(const std::string& ref, const std::string& id);
  void bindPin(const std::string& ref, const std::string& id);
  std::optional<std::string> actionRef(const std::string& id) const;
  std::optional<std::string> pinRef(const std::string& id) const;
  std::optional<std::string> actionId(const std::string& ref) const;
  std::optional<std::string> pinId(const std::string& ref) const;
  const std::map<std::string, std::string>& pins() const { return pinIds_; }

 private:
  std::map<std::string, std::string> actionIds_, pinIds_;    // ref → id
  std::map<std::string, std::string> actionRefs_, pinRefs_;  // id → ref
};

struct Divergence {
  std::string lock;
  size_t index = 0;  // position in the device's sequence (discovery included)
  std::string rule;
  std::string message;
  std::optional<model::ExpectedWebhook> expected;
  std::optional<ObservedWebhook> observed;
};

// Compares `observed` with the prediction. `mustHave` is how many of the predicted webhooks
// must have been received by now (`exact`: no more and no fewer; otherwise at most all of
// them). Binds PIN ids it meets for the first time. Returns the first divergence, if any.
std::optional<Divergence> compareDevice(const std::string& lock,
                                        const std::vector<model::ExpectedWebhook>& expected,
                                        const std::vector<ObservedWebhook>& observed,
                                        size_t mustHave, bool exact, Bindings& bindings);

// Does an observed webhook match a predicted one? Sets `why` to the first difference.
bool matches(const model::ExpectedWebhook& expected, const ObservedWebhook& observed,
             Bindings& bindings, std::string& why);

// An `expectWebhooks` entry (SPEC §7: type and the content fields it names, "@name" for ids)
// against a predicted webhook: true if every field it names agrees.
// `pinRef` gives the PIN reference a name stands for ("@guest" in actionParameters.id).
bool entryMatches(const nlohmann::json& entry, const model::ExpectedWebhook& expected,
                  const std::map<std::string, std::string>& aliases,
                  const std::function<std::optional<std::string>(const std::string&)>& pinRef,
                  std::string& why);

// An observed webhook's content with the adapter's ids replaced by the scenario's names where
// they are bound (for reports: "UpdateAction RESOLVED @guest" rather than "@act_…").
ObservedWebhook withNames(const ObservedWebhook& w, const Bindings& bindings);

// The rule a webhook no prediction accounts for breaks (by its type and fields).
std::string ruleOfUnexpected(const ObservedWebhook& w,
                             const std::vector<model::ExpectedWebhook>& expected,
                             const Bindings& bindings);

}  // namespace nukihil::scenarios
