// The spec model on its own (no system to watch): what SPEC §6 predicts for small scenarios.
#include <gtest/gtest.h>

#include "scenarios/model/spec_model.h"

namespace nukihil::model {
namespace {

using nlohmann::json;

struct ModelRun {
  std::shared_ptr<Scenario> scenario;
  std::unique_ptr<SpecModel> model;
  std::vector<Prediction> answers;
  explicit ModelRun(const std::string& text) {
    auto r = parseScenario(text, "t.json");
    EXPECT_TRUE(r.scenario) << (r.problems.empty() ? "" : r.problems[0].text());
    scenario = std::make_shared<Scenario>(std::move(*r.scenario));
    model = std::make_unique<SpecModel>(scenario);
    NoOracle none;
    model->start(none);
    for (const auto& st : scenario->steps)
      answers.push_back(model->apply(st, none));
  }
  // The lock's webhooks after discovery, described.
  std::vector<std::string> after(const std::string& lock) {
    std::vector<std::string> out;
    for (const auto& w : model->expected().at(lock))
      if (w.step != SIZE_MAX) out.push_back(w.describe());
    return out;
  }
};

using Seq = std::vector<std::string>;

std::string one(const std::string& steps,
                const std::string& lock = R"({"name":"L","model":"3.0 Pro"})") {
  return R"({"name":"t","locks":[)" + lock + R"(],"steps":[)" + steps + "]}";
}

TEST(SpecModel, RDiscoverSendsConfigThenEveryFieldInOrder) {
  ModelRun r(one("", R"({"name":"L","batteryCharge":15,"codes":[{"name":"F","code":345678}]})"));
  Seq all;
  for (const auto& w : r.model->expected().at("L"))
    all.push_back(w.describe());
  EXPECT_EQ(all, (Seq{"Config", "SetState BETA_CONNECTIVITY.isOnline=true",
                      "SetState LOCK.isJammed=false", "SetState LOCK.isLocked=false",
                      "SetState BATTERY_LEVEL.percentage=15",
                      "SetState BATTERY_LEVEL.status=\"CRITICAL\"",
                      "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials=[345678]"}));
}

TEST(SpecModel, RActOnlineResolvesWithTheStateItCaused) {
  ModelRun r(one(
      R"({"do":"setLocked","lock":"L","as":"a","parameters":{"lock":true}},{"do":"advance","seconds":3},
               {"do":"setLocked","lock":"L","as":"b","parameters":{"lock":true}},{"do":"advance","seconds":3})"));
  EXPECT_EQ(r.after("L"), (Seq{"QueueAction setLocked @a", "UpdateAction PENDING @a",
                               "SetState LOCK.isLocked=true @a", "UpdateAction RESOLVED @a",
                               "QueueAction setLocked @b", "UpdateAction PENDING @b",
                               "UpdateAction RESOLVED @b"}));
}

TEST(SpecModel, KRulesAreCheckedInSpecOrderAndSendNothing) {
  ModelRun r(one(R"({"do":"createPin","lock":"L","parameters":{"pinCode":"12345","name":""}},
               {"do":"createPin","lock":"L","parameters":{"pinCode":"120456","name":""}},
               {"do":"createPin","lock":"L","parameters":{"pinCode":"123456","name":""}},
               {"do":"createPin","lock":"L","parameters":{"pinCode":"234567","name":""}},
               {"do":"createPin","lock":"L","parameters":{"pinCode":"234567","name":"X","temporarySchedules":[{"startDatetime":"2025-02-01T00:00:00Z"}]}})"));
  std::vector<std::string> errors;
  for (const auto& a : r.answers)
    errors.push_back(a.answer.value("error", ""));
  EXPECT_EQ(errors,
            (std::vector<std::string>{"PIN_FORMAT", "PIN_CONTAINS_ZERO", "PIN_STARTS_WITH_12",
                                      "NAME_LENGTH", "SCHEDULE_INVALID"}));
  EXPECT_TRUE(r.after("L").empty());
  EXPECT_EQ(r.model->coverage().at("R-PIN-INVALID"), 5);
}

TEST(SpecModel, K4AndK5CountTheAdaptersOwnPendingChanges) {
  std::string codes;
  int made = 0;
  for (int c = 311111; made < 99; ++c) {
    if (std::to_string(c).find('0') != std::string::npos) continue;
    codes += std::string(made ? "," : "") + R"({"name":"c)" + std::to_string(made) +
             R"(","code":)" + std::to_string(c) + "}";
    ++made;
  }
  ModelRun r(one(R"({"do":"createPin","lock":"L","parameters":{"pinCode":"999999","name":"100th"}},
               {"do":"createPin","lock":"L","parameters":{"pinCode":"999999","name":"dup"}},
               {"do":"createPin","lock":"L","parameters":{"pinCode":"999998","name":"101st"}})",
                 R"({"name":"L","codes":[)" + codes + "]}"));
  EXPECT_EQ(r.answers[0].answer, (json{{"status", 202}}));
  EXPECT_EQ(r.answers[1].answer.value("error", ""), "PIN_DUPLICATE");
  EXPECT_EQ(r.answers[2].answer.value("error", ""), "PIN_CAPACITY");
}

TEST(SpecModel, RPinAcceptedWaitsForTheSyncAndPinPendingHoldsUntilThen) {
  ModelRun r(
      one(R"({"do":"createPin","lock":"L","as":"g","parameters":{"pinCode":"234567","name":"G"}},
               {"do":"advance","seconds":10},
               {"do":"keypad","lock":"L","code":234567},
               {"do":"deletePin","lock":"L","parameters":{"id":"@g"}},
               {"do":"expectAction","ref":"g","status":"PENDING"},
               {"do":"advanceTo","lock":"L","localTime":"03:00"},
               {"do":"expectAction","ref":"g","status":"RESOLVED"})"));
  EXPECT_EQ(r.answers[2].answer, (json{{"granted", true}, {"reason", nullptr}}));  // R-KEYPAD
  EXPECT_EQ(r.answers[3].answer.value("error", ""), "PIN_PENDING");
  EXPECT_EQ(r.answers[4].answer, (json{{"status", "PENDING"}}));
  EXPECT_EQ(r.answers[6].answer, (json{{"status", "RESOLVED"}}));
  // The keypad unlock of an unlocked lock changes nothing.
  const Seq s = r.after("L");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[2], "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials=[234567] @g");
  EXPECT_EQ(s[3], "UpdateAction RESOLVED @g");
}

TEST(SpecModel, RPinDroppedThenRPinLocalForACodeAddedOnTheLock) {
  ModelRun r(one(R"({"do":"addCodeOnLock","lock":"L","name":"BT","code":234567},
               {"do":"createPin","lock":"L","as":"g","parameters":{"pinCode":"234567","name":"G"}},
               {"do":"sync","lock":"L"})"));
  EXPECT_EQ(r.after("L"), (Seq{"QueueAction createPinCodeCredential @g", "UpdateAction PENDING @g",
                               "UpdateAction REJECTED DROPPED_BY_LOCK @g",
                               "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials=[234567]"}));
  EXPECT_EQ(r.model->coverage().at("K4"), 1);
}

TEST(SpecModel, RActOfflineWaitsAndRunsTheQueueInOrder) {
  ModelRun r(one(R"({"do":"offline","lock":"L"},
               {"do":"setLocked","lock":"L","as":"a","parameters":{"lock":true}},
               {"do":"setLocked","lock":"L","as":"b","parameters":{"lock":false}},
               {"do":"advance","seconds":86400},
               {"do":"online","lock":"L"},{"do":"advance","seconds":6})"));
  EXPECT_EQ(r.after("L"),
            (Seq{"SetState BETA_CONNECTIVITY.isOnline=false", "QueueAction setLocked @a",
                 "UpdateAction PENDING @a", "QueueAction setLocked @b", "UpdateAction PENDING @b",
                 "SetState BETA_CONNECTIVITY.isOnline=true", "SetState LOCK.isLocked=true @a",
                 "UpdateAction RESOLVED @a", "SetState LOCK.isLocked=false @b",
                 "UpdateAction RESOLVED @b"}));
}

TEST(SpecModel, ASharedBridgeTakesBothLocksOffline) {
  ModelRun r(
      R"({"name":"t","locks":[{"name":"A","model":"3.0","bridgeId":5},{"name":"B","model":"3.0","bridgeId":5}],
            "steps":[{"do":"offline","lock":"A"},{"do":"expectLock","lock":"B","online":false}]})");
  EXPECT_EQ(r.after("B"), (Seq{"SetState BETA_CONNECTIVITY.isOnline=false"}));
  EXPECT_EQ(r.answers[1].answer, (json{{"online", false}}));
}

TEST(SpecModel, ANameWhoseActionWasRefusedCannotBeUsed) {
  ModelRun r(
      one(R"({"do":"createPin","lock":"L","as":"g","parameters":{"pinCode":"000000","name":"G"}},
               {"do":"deletePin","lock":"L","parameters":{"id":"@g"}})"));
  EXPECT_FALSE(r.answers[1].error.empty());
  EXPECT_TRUE(r.model->refused("g"));
}

TEST(SpecModel, TheOutboxHoldsWebhooksWhileTheReceiverIsDown) {
  ModelRun r(one(R"({"do":"receiverDown"},{"do":"battery","lock":"L","charge":50},
               {"do":"expectOutbox","lock":"L","pending":1},
               {"do":"advance","seconds":259300},{"do":"expectOutbox","lock":"L","parked":true})"));
  EXPECT_EQ(r.answers[2].answer, (json{{"pending", 1}}));
  EXPECT_EQ(r.answers[4].answer, (json{{"parked", true}}));
}

// An oracle that reports a fixed list of calls, as a live run's journal would.
class ListOracle final : public Oracle {
 public:
  std::vector<ObservedCall> list;
  std::vector<ObservedCall> calls(int64_t from, int64_t to) const override {
    std::vector<ObservedCall> out;
    for (const auto& c : list)
      if (c.atMs >= from && c.atMs <= to) out.push_back(c);
    return out;
  }
  std::optional<Restart> restart(size_t) const override { return std::nullopt; }
  void add(int64_t atMs, std::string method, std::string path, int status, json body = {}) {
    ObservedCall c;
    c.seq = list.size() + 1;
    c.atMs = atMs;
    c.method = std::move(method);
    c.path = std::move(path);
    c.status = status;
    c.lock = "L";
    c.body = std::move(body);
    list.push_back(std::move(c));
  }
};

struct ObservedRun {
  std::shared_ptr<Scenario> scenario;
  SpecModel model;
  ListOracle oracle;
  int64_t t0;
  explicit ObservedRun(const std::string& text)
      : scenario(std::make_shared<Scenario>(std::move(*parseScenario(text, "t.json").scenario))),
        model(scenario),
        t0(millisOf(scenario->start)) {
    model.setLockIds({{"L", 5}});
  }
};

// On the wall clock the adapter's first call comes a moment after the action was accepted:
// with a call latency that is on time, without one it is a violation.
TEST(SpecModel, ACallLatencyTakesAFirstCallThatComesAMomentLate) {
  for (const int64_t latency : {int64_t(0), int64_t(2000)}) {
    ObservedRun r(one(R"({"do":"setLocked","lock":"L","as":"a","parameters":{"lock":true}})"));
    r.model.setCallLatency(latency);
    r.model.start(r.oracle);
    r.oracle.add(r.t0 + 300, "POST", "/smartlock/5/action/lock", 204);
    r.model.apply(r.scenario->steps[0], r.oracle);
    r.model.runTo(0, timeFromMillis(r.t0 + 5000), r.oracle);
    std::vector<std::string> hooks;
    for (const auto& w : r.model.expected().at("L"))
      if (w.step != SIZE_MAX) hooks.push_back(w.describe());
    EXPECT_EQ(hooks, (Seq{"QueueAction setLocked @a", "UpdateAction PENDING @a",
                          "SetState LOCK.isLocked=true @a", "UpdateAction RESOLVED @a"}));
    if (latency == 0) {
      ASSERT_EQ(r.model.violations().size(), 1u);
      EXPECT_NE(r.model.violations()[0].message.find("its first call to Nuki Web came only at"),
                std::string::npos);
    } else {
      EXPECT_TRUE(r.model.violations().empty()) << r.model.violations()[0].message;
    }
  }
}

// A code list Nuki Web answered that is not SPEC's web view (a new code shown before any sync),
// and an answer SPEC does not give, are findings about the service, not the adapter's
// violations.
TEST(SpecModel, TheServiceDepartingFromSpecIsAFindingAboutTheService) {
  const std::string create =
      R"({"do":"createPin","lock":"L","as":"g","parameters":{"pinCode":"234567","name":"G"}})";
  {
    ObservedRun r(one(create));
    r.model.setCallLatency(2000);
    r.model.start(r.oracle);
    r.oracle.add(r.t0 + 100, "PUT", "/smartlock/5/auth", 204);
    r.oracle.add(r.t0 + 8000, "GET", "/smartlock/5/auth", 200,
                 json::array({{{"type", 0}, {"name", "Phone"}},
                              {{"type", 13}, {"code", 234567}, {"name", "G"}}}));
    r.model.apply(r.scenario->steps[0], r.oracle);
    r.model.runTo(0, timeFromMillis(r.t0 + 10000), r.oracle);
    EXPECT_TRUE(r.model.violations().empty());
    ASSERT_EQ(r.model.serviceFindings().size(), 1u);
    EXPECT_NE(r.model.serviceFindings()[0].message.find(
                  "it showed 234567, which SPEC shows only after a sync"),
              std::string::npos)
        << r.model.serviceFindings()[0].message;
  }
  {
    // The same list without the new code is SPEC's web view; an app user is no code.
    ObservedRun r(one(create));
    r.model.setCallLatency(2000);
    r.model.start(r.oracle);
    r.oracle.add(r.t0 + 100, "PUT", "/smartlock/5/auth", 204);
    r.oracle.add(r.t0 + 8000, "GET", "/smartlock/5/auth", 200,
                 json::array({{{"type", 0}, {"name", "Phone"}}}));
    r.model.apply(r.scenario->steps[0], r.oracle);
    r.model.runTo(0, timeFromMillis(r.t0 + 10000), r.oracle);
    EXPECT_TRUE(r.model.serviceFindings().empty()) << r.model.serviceFindings()[0].message;
  }
  {
    // A 409 where SPEC gives 204.
    ObservedRun r(one(create));
    r.model.setCallLatency(2000);
    r.model.start(r.oracle);
    r.oracle.add(r.t0 + 100, "PUT", "/smartlock/5/auth", 409);
    r.model.apply(r.scenario->steps[0], r.oracle);
    r.model.runTo(0, timeFromMillis(r.t0 + 1000), r.oracle);
    EXPECT_TRUE(r.model.violations().empty()) << r.model.violations()[0].message;
    ASSERT_EQ(r.model.serviceFindings().size(), 1u);
    EXPECT_EQ(r.model.serviceFindings()[0].message,
              "Nuki Web answered PUT /smartlock/5/auth with 409; SPEC gives 204");
  }
}

}  // namespace
}  // namespace nukihil::model
