#include "tests/support/embedded.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace nukihil::test {

using nlohmann::json;

Embedded::Embedded(Options options)
    : world_(std::make_unique<scenarios::EmbeddedWorld>(options)),
      simAdmin_(std::make_unique<TestClient>(world_->simPort(), world_->simAdminToken())),
      nukiApi_(std::make_unique<TestClient>(world_->simPort(), world_->nukiToken())) {}

uint64_t Embedded::addLock(const json& extra) {
  json body = extra;
  body["accountId"] = world_->accountId();
  auto r = simAdmin_->post("/sim/v1/smartlocks", body);
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json().value("smartlockId", uint64_t(0));
}

void Embedded::startAdapter() {
  try {
    world_->startAdapter();
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
  adapterApi_ =
      std::make_unique<TestClient>(world_->adapterPort(), scenarios::EmbeddedWorld::apiKey());
}

void Embedded::killAdapter() {
  adapterApi_.reset();
  world_->killAdapter();
}

json Embedded::act(const std::string& deviceId, const std::string& trait, const std::string& action,
                   const json& parameters, int expectStatus) {
  auto r = adapterApi_->post("/v1/devices/" + deviceId + "/actions",
                             {{"trait", trait}, {"action", action}, {"parameters", parameters}});
  EXPECT_EQ(r.status, expectStatus) << r.body;
  return r.json();
}

json Embedded::actionStatus(const std::string& actionId) {
  return adapterApi_->get("/v1/actions/" + actionId).json();
}

std::vector<std::string> Embedded::deviceSequence(const std::string& deviceId, size_t skip) {
  auto all = describe(deviceWebhooks(deviceId));
  all.erase(all.begin(), all.begin() + long(std::min(skip, all.size())));
  return all;
}

nlohmann::json Embedded::lastPinCodes(const std::string& deviceId) {
  nlohmann::json last;
  for (auto& w : deviceWebhooks(deviceId))
    if (w.type() == "deviceEventSetState" && w.content()["fieldName"] == "pinCodeCredentials")
      last = w.content()["value"];
  return last;
}

std::vector<PlatformWebhook> Embedded::deviceWebhooks(const std::string& deviceId) {
  std::vector<PlatformWebhook> out;
  std::set<std::string> seen;
  for (auto& w : webhooks()) {
    if (w.deviceId() != deviceId) continue;
    if (!seen.insert(w.id).second) continue;
    out.push_back(w);
  }
  return out;
}

std::vector<std::string> describe(const std::vector<PlatformWebhook>& hooks) {
  std::vector<std::string> out;
  for (const auto& w : hooks) {
    const std::string type = w.type();
    const json& c = w.body["content"];
    std::string line = type;
    if (type == "deviceEventConfig") line = "Config";
    if (type == "deviceEventQueueAction") line = "QueueAction " + c.value("actionName", "");
    if (type == "deviceEventUpdateAction") {
      line = "UpdateAction " + c.value("status", "");
      if (c.contains("reason")) line += " " + c["reason"].get<std::string>();
    }
    if (type == "deviceEventSetState") {
      line = "SetState " + c.value("traitName", "") + "." + c.value("fieldName", "");
      if (c.value("fieldName", "") != "pinCodeCredentials")
        line += "=" + c["value"].dump();
      else
        line += "[" + std::to_string(c["value"].size()) + "]";
      if (c.contains("actionId")) line += " @act";
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace nukihil::test
