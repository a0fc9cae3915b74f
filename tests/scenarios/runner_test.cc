// The runner on the embedded world: deterministic for a seed, the end-of-scenario rule
// (received plus still in the outbox), restarts in the middle of an exchange, and errors of
// the file found only while running.
#include <gtest/gtest.h>

#include "scenarios/runner.h"

namespace nukihil::scenarios {
namespace {

std::shared_ptr<const model::Scenario> scenario(const std::string& text) {
  auto r = model::parseScenario(text, "suite/t.json");
  EXPECT_TRUE(r.scenario) << (r.problems.empty() ? "" : r.problems[0].text());
  return std::make_shared<model::Scenario>(std::move(*r.scenario));
}

const char* kLockAndPin = R"({"name":"lock and pin","locks":[{"name":"A","model":"3.0 Pro"}],
  "steps":[{"do":"setLocked","lock":"A","as":"l","parameters":{"lock":true}},
           {"do":"createPin","lock":"A","as":"g","parameters":{"pinCode":"234567","name":"G"}},
           {"do":"advance","seconds":10},{"do":"sync","lock":"A"}]})";

std::vector<std::string> trace(const ScenarioResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.devices)
    for (const auto& o : d.observed)
      out.push_back(o.id + " " + o.occurredAt + " " + o.type + " " + o.content.dump());
  return out;
}

TEST(Runner, TheSameSeedGivesTheSameWebhooksByteForByte) {
  auto s = scenario(kLockAndPin);
  RunOptions o;
  o.seed = 11;
  const auto a = runScenario(s, o), b = runScenario(s, o);
  ASSERT_EQ(a.verdict, Verdict::kPassed) << a.message;
  EXPECT_EQ(trace(a), trace(b));
  EXPECT_EQ(a.seed, 11u);
  o.seed = 12;
  const auto c = runScenario(s, o);
  ASSERT_EQ(c.verdict, Verdict::kPassed) << c.message;
  EXPECT_NE(trace(a), trace(c)) << "another seed gives other ids";
  EXPECT_EQ(a.replay, "nukihil run suite/t.json --seed 11");
}

TEST(Runner, AFilesOwnSeedWins) {
  std::string text = kLockAndPin;
  text.insert(1, R"("seed":99,)");
  RunOptions o;
  o.seed = 5;
  EXPECT_EQ(runScenario(scenario(text), o).seed, 99u);
}

TEST(Runner, WebhooksStillInTheOutboxAtTheEndCountAndAreListed) {
  auto s = scenario(R"({"name":"down at the end","locks":[{"name":"A"}],
    "steps":[{"do":"receiverDown"},{"do":"battery","lock":"A","charge":40},
             {"do":"expectOutbox","lock":"A","pending":1}]})");
  const auto r = runScenario(s, RunOptions{});
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message;
  ASSERT_EQ(r.devices.size(), 1u);
  ASSERT_EQ(r.devices[0].undelivered.size(), 1u);
  EXPECT_EQ(r.devices[0].undelivered[0].describe(), "SetState BATTERY_LEVEL.percentage=40");
}

TEST(Runner, ARestartDuringANukiCallIsFollowedAndReported) {
  auto s = scenario(R"({"name":"cut","locks":[{"name":"A"}],
    "steps":[{"do":"restartAdapter","during":"nextNukiCall"},
             {"do":"setLocked","lock":"A","as":"l","parameters":{"lock":true}},
             {"do":"advance","seconds":10},{"do":"expectAction","ref":"l","status":"RESOLVED"}]})");
  const auto r = runScenario(s, RunOptions{});
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message;
  bool cut = false;
  for (const auto& b : r.branches)
    cut = cut || b.find("cut POST /smartlock/") != std::string::npos;
  EXPECT_TRUE(cut) << "the report says which exchange the kill cut";
}

TEST(Runner, ARestartThatNeverHappensIsAnError) {
  auto s = scenario(R"({"name":"never","locks":[{"name":"A"}],
    "steps":[{"do":"restartAdapter","during":"nextWebhook"}]})");
  const auto r = runScenario(s, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_NE(r.message.find("never restarted"), std::string::npos) << r.message;
}

TEST(Runner, UsingANameWhoseActionWasRefusedIsAnErrorAtThatStep) {
  auto s = scenario(R"({"name":"refused","locks":[{"name":"A"}],
    "steps":[{"do":"createPin","lock":"A","as":"g","parameters":{"pinCode":"000000","name":"G"}},
             {"do":"deletePin","lock":"A","parameters":{"id":"@g"}}]})");
  const auto r = runScenario(s, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_NE(r.message.find("steps[1]"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("refused"), std::string::npos) << r.message;
}

TEST(Runner, ExpectWebhooksThatContradictTheModelAreAnErrorOfTheFile) {
  auto s = scenario(R"({"name":"wrong list","locks":[{"name":"A"}],
    "steps":[{"do":"setLocked","lock":"A","as":"l","parameters":{"lock":true}},{"do":"advance","seconds":3}],
    "expectWebhooks":{"A":[{"type":"deviceEventQueueAction","actionId":"@l"},
                           {"type":"deviceEventUpdateAction","actionId":"@l","status":"RESOLVED"}]}})");
  const auto r = runScenario(s, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_NE(r.message.find("expectWebhooks"), std::string::npos) << r.message;
}

TEST(Runner, APlainRestartWhileAnotherWaitsIsAnErrorNotAHang) {
  auto s = scenario(R"({"name":"two restarts","locks":[{"name":"A"}],
    "steps":[{"do":"restartAdapter","during":"nextWebhook"},{"do":"restartAdapter"}]})");
  const auto r = runScenario(s, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_NE(r.message.find("steps[0] (restartAdapter): the adapter was never restarted"),
            std::string::npos)
      << r.message;
}

TEST(Runner, ARestartDuringTheNextNukiCallIgnoresTheHarnessesOwnCalls) {
  // Control-plane steps between arming and the adapter's next call are not that call.
  auto s = scenario(R"({"name":"cut after world events","locks":[{"name":"A"}],
    "steps":[{"do":"restartAdapter","during":"nextNukiCall"},{"do":"jam","lock":"A"},
             {"do":"free","lock":"A"},{"do":"expectLock","lock":"A","state":3},
             {"do":"setLocked","lock":"A","as":"l","parameters":{"lock":true}},
             {"do":"advance","seconds":10},{"do":"expectAction","ref":"l","status":"RESOLVED"}]})");
  const auto r = runScenario(s, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kPassed) << r.message;
}

TEST(Runner, AFaultOnEveryRouteFromTheFirstStepSparesTheStartUpCalls) {
  // The adapter's start-up calls came before the fault: they take none of its count.
  auto s = scenario(R"({"name":"fault everything once","locks":[{"name":"A"}],
    "steps":[{"do":"fault","fault":{"status":503,"count":1}},
             {"do":"setLocked","lock":"A","as":"l","parameters":{"lock":true}},
             {"do":"advance","seconds":60},{"do":"expectAction","ref":"l","status":"RESOLVED"}]})");
  const auto r = runScenario(s, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kPassed) << r.message;
}

}  // namespace
}  // namespace nukihil::scenarios
