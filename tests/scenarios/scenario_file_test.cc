// SPEC §7: every file is validated before anything runs; what is wrong is named with the file,
// the JSON path and the step, with the nearest known name for a misspelt key.
#include <gtest/gtest.h>

#include "scenarios/model/scenario.h"

namespace nukihil::model {
namespace {

std::vector<Problem> problems(const std::string& text) {
  return parseScenario(text, "f.json").problems;
}

std::string only(const std::string& text) {
  auto p = problems(text);
  EXPECT_EQ(p.size(), 1u) << (p.empty() ? "" : p[0].text());
  return p.empty() ? "" : p[0].text();
}

const char* kLock = R"("locks":[{"name":"Front door","model":"3.0 Pro"}])";

std::string file(const std::string& steps, const std::string& extra = "") {
  return std::string(R"({"name":"x",)") + kLock + R"(,"steps":[)" + steps + "]" + extra + "}";
}

TEST(ScenarioFile, AValidFileBuildsTheScenario) {
  auto r = parseScenario(file(R"({"do":"offline","lock":"Front door"},
      {"do":"createPin","lock":"Front door","as":"g","parameters":{"pinCode":"234567","name":"G"},
       "expect":{"status":202}},
      {"do":"advanceTo","lock":"Front door","localTime":"03:05"},
      {"do":"expectAction","ref":"g","status":"PENDING"})"),
                         "f.json");
  ASSERT_TRUE(r.scenario) << r.problems[0].text();
  EXPECT_EQ(r.scenario->steps.size(), 4u);
  EXPECT_EQ(r.scenario->steps[1].kind, StepKind::kCreatePin);
  EXPECT_EQ(r.scenario->steps[2].localMinute, 185);
  EXPECT_EQ(r.scenario->locks[0].syncAtMinute, 180);
}

TEST(ScenarioFile, InvalidJsonNamesLineAndColumn) {
  auto p = problems("{\n  \"name\": \"x\",\n  \"locks\": [,]\n}");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].line, 3);
  EXPECT_EQ(p[0].column, 13);
  EXPECT_NE(p[0].text().find("f.json:3:13: not valid JSON"), std::string::npos) << p[0].text();
}

// Found by the scenario_file fuzz target: a number no double holds threw out_of_range out of
// the reader and terminated nukihil. It is a refused file like any invalid JSON.
TEST(ScenarioFile, ANumberBeyondADoubleIsInvalidJsonNotACrash) {
  std::vector<Problem> p;
  ASSERT_NO_THROW(p = problems(file(R"({"do":"advance","seconds":3e1112})")));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].text().find("not valid JSON"), std::string::npos) << p[0].text();
  EXPECT_NE(p[0].text().find("3e1112"), std::string::npos) << p[0].text();
}

TEST(ScenarioFile, AnUnknownKeyNamesItsPathAndTheNearestKnownName) {
  EXPECT_NE(only(file("", R"(,"expectWebhook":{})"))
                .find("expectWebhook: unknown key 'expectWebhook'; did you mean 'expectWebhooks'?"),
            std::string::npos);
  const std::string step =
      only(file(R"({"do":"keypad","lock":"Front door","code":234567,"expct":{"granted":true}})"));
  EXPECT_NE(step.find("steps[0] (keypad)"), std::string::npos) << step;
  EXPECT_NE(step.find("steps[0].expct"), std::string::npos) << step;
  EXPECT_NE(step.find("did you mean 'expect'?"), std::string::npos) << step;
  const std::string lock = only(R"({"name":"x","locks":[{"name":"A","modle":"3.0"}],"steps":[]})");
  EXPECT_NE(lock.find("locks[0].modle: unknown key 'modle'; did you mean 'model'?"),
            std::string::npos)
      << lock;
}

TEST(ScenarioFile, AnUnknownDoIsRefusedWithTheNearestStep) {
  const std::string t = only(file(R"({"do":"advnce","seconds":5})"));
  EXPECT_NE(t.find("steps[0].do: unknown step 'advnce'; did you mean 'advance'?"),
            std::string::npos)
      << t;
  // Nothing near: the steps there are.
  const std::string far = only(file(R"({"do":"do"})"));
  EXPECT_NE(far.find("steps[0].do: unknown step 'do'; the steps are "), std::string::npos) << far;
  EXPECT_NE(far.find("setLocked"), std::string::npos) << far;
  EXPECT_NE(far.find("restartAdapter"), std::string::npos) << far;
}

TEST(ScenarioFile, AMissingLockIsRefused) {
  const std::string t = only(file(R"({"do":"online","lock":"Front dor"})"));
  EXPECT_NE(t.find("steps[0] (online): steps[0].lock: no lock named 'Front dor'; did you mean "
                   "'Front door'?"),
            std::string::npos)
      << t;
  EXPECT_NE(only(file(R"({"do":"online"})")).find("steps[0].lock: is required"), std::string::npos);
}

TEST(ScenarioFile, ADanglingNameIsRefused) {
  const std::string t = only(file(R"({"do":"expectAction","ref":"guest","status":"PENDING"})"));
  EXPECT_NE(t.find("steps[0].ref: the name 'guest' is not bound by any earlier step"),
            std::string::npos)
      << t;
  // Bound only later.
  const std::string later =
      only(file(R"({"do":"deletePin","lock":"Front door","parameters":{"id":"@g"}},
      {"do":"createPin","lock":"Front door","as":"g","parameters":{"pinCode":"234567","name":"G"}})"));
  EXPECT_NE(later.find("bound only later, by steps[1]"), std::string::npos) << later;
  // A fleet code's name is a PIN, not an action.
  const std::string code =
      only(R"({"name":"x","locks":[{"name":"A","codes":[{"name":"F","code":345678,"as":"fam"}]}],
      "steps":[{"do":"expectAction","ref":"fam","status":"PENDING"}]})");
  EXPECT_NE(code.find("names a code of the fleet, not an action"), std::string::npos) << code;
}

TEST(ScenarioFile, AWrongTypeIsRefused) {
  const std::string t = only(file(R"({"do":"advance","seconds":"10"})"));
  EXPECT_NE(t.find("steps[0].seconds: must be an integer, not a string"), std::string::npos) << t;
  const std::string b =
      only(file(R"({"do":"setLocked","lock":"Front door","parameters":{"lock":"yes"}})"));
  EXPECT_NE(b.find("steps[0].parameters.lock: must be true or false, not a string"),
            std::string::npos)
      << b;
}

TEST(ScenarioFile, ATimeInThePastIsRefused) {
  const std::string t = only(
      file(R"({"do":"advance","seconds":3600},{"do":"advanceTo","time":"2025-01-01T00:30:00Z"})"));
  EXPECT_NE(t.find("steps[1] (advanceTo): steps[1].time: lies in the past: the scenario is at "
                   "2025-01-01T01:00:00.000Z"),
            std::string::npos)
      << t;
}

TEST(ScenarioFile, EveryProblemOfAFileIsReportedAtOnce) {
  auto p =
      problems(R"({"locks":[{"name":"A"},{"name":"A"}],"steps":[{"do":"jam"},{"do":"nope"}]})");
  ASSERT_GE(p.size(), 4u);  // no name, duplicate lock, jam without lock, unknown do
}

TEST(ScenarioFile, ADuplicateKeyIsRefusedRatherThanSilentlyReplaced) {
  const std::string t = only(file(
      R"({"do":"keypad","lock":"Front door","code":234567,"expect":{"granted":true},"expect":{"granted":false}})"));
  EXPECT_NE(t.find("steps[0].expect: the key appears twice"), std::string::npos) << t;
}

TEST(ScenarioFile, FaultsMustHaveOutcomesThatFollowFromTheFile) {
  const std::string t = only(
      file(R"({"do":"fault","fault":{"route":"/smartlock/*","status":503,"probability":0.5}})"));
  EXPECT_NE(t.find("probability and latencyMs are not allowed"), std::string::npos) << t;
  EXPECT_NE(only(file(R"({"do":"fault","fault":{"route":"/x","status":503,"reset":true}})"))
                .find("exactly one effect"),
            std::string::npos);
}

TEST(ScenarioFile, FleetCodesMustObeyTheKRules) {
  const std::string t = only(
      R"({"name":"x","locks":[{"name":"A","codes":[{"name":"F","code":120456}]}],"steps":[]})");
  EXPECT_NE(t.find("locks[0].codes[0].code: K2"), std::string::npos) << t;
}

TEST(ScenarioFile, RulesMustBeSpecRuleIds) {
  const std::string t = only(file("", R"(,"rules":["R-PIN-ACCEPTD"])"));
  EXPECT_NE(t.find("did you mean 'R-PIN-ACCEPTED'?"), std::string::npos) << t;
}

TEST(ScenarioFile, NextLocalTimeFollowsClockChanges) {
  const TimeZone& berlin = *TimeZone::find("Europe/Berlin");
  // 2025-03-30: 02:15 does not exist; the first instant after the gap is 03:00 CEST (01:00Z).
  EXPECT_EQ(formatRfc3339(nextLocalTime(berlin, *parseRfc3339("2025-03-29T23:00:00Z"), 135)),
            "2025-03-30T01:00:00.000Z");
  // 2025-10-26: 02:15 happens twice; first at 00:15Z, then — once that has passed — at 01:15Z.
  EXPECT_EQ(formatRfc3339(nextLocalTime(berlin, *parseRfc3339("2025-10-25T23:00:00Z"), 135)),
            "2025-10-26T00:15:00.000Z");
  EXPECT_EQ(formatRfc3339(nextLocalTime(berlin, *parseRfc3339("2025-10-26T00:45:00Z"), 135)),
            "2025-10-26T01:15:00.000Z");
  // Strictly after now.
  EXPECT_EQ(
      formatRfc3339(nextLocalTime(TimeZone::utc(), *parseRfc3339("2025-01-01T03:00:00Z"), 180)),
      "2025-01-02T03:00:00.000Z");
}

}  // namespace
}  // namespace nukihil::model
