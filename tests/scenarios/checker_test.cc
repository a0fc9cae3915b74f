// The checker: observed webhooks against the prediction (SPEC §7 "What is compared"), and the
// recorder's de-duplication.
#include <gtest/gtest.h>

#include "scenarios/checker.h"
#include "scenarios/webhook_recorder.h"

namespace nukihil::scenarios {
namespace {

using model::ExpectedWebhook;
using nlohmann::json;

ExpectedWebhook exp(const std::string& type, json content, const std::string& rule = "R-X") {
  ExpectedWebhook e;
  e.type = type;
  e.content = std::move(content);
  e.rule = rule;
  return e;
}

ObservedWebhook obs(const std::string& type, json content, int64_t ms = 0, std::string id = "") {
  ObservedWebhook o;
  o.type = type;
  o.content = std::move(content);
  o.occurredMs = ms;
  o.id = id.empty() ? "msg_" + std::to_string(ms) + type : id;
  o.occurredAt = std::to_string(ms);
  return o;
}

json pins(const std::string& id, const std::string& code) {
  return json::array(
      {{{"id", id},
        {"pinCode", code},
        {"name", "G"},
        {"alwaysActive", false},
        {"temporarySchedules", json::array()},
        {"recurringSchedules",
         json::array({{{"rrule", "RRULE:FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=8;BYMINUTE=0"},
                       {"duration", 60}}})}}});
}

TEST(Checker, IdsAreComparedThroughTheNames) {
  Bindings b;
  b.bindAction("lock", "act_1");
  std::vector<ExpectedWebhook> e{
      exp("deviceEventUpdateAction", {{"actionId", "lock"}, {"status", "PENDING"}})};
  std::string why;
  EXPECT_TRUE(
      matches(e[0], obs("deviceEventUpdateAction", {{"actionId", "act_1"}, {"status", "PENDING"}}),
              b, why));
  EXPECT_FALSE(
      matches(e[0], obs("deviceEventUpdateAction", {{"actionId", "act_2"}, {"status", "PENDING"}}),
              b, why));
  EXPECT_NE(why.find("no action of this scenario"), std::string::npos) << why;
  EXPECT_FALSE(matches(e[0],
                       obs("deviceEventUpdateAction",
                           {{"actionId", "act_1"}, {"status", "PENDING"}, {"reason", "X"}}),
                       b, why));
  EXPECT_NE(why.find("reason"), std::string::npos) << why;
}

TEST(Checker, PinListsAreComparedNormalisedAndIdsStayStable) {
  Bindings b;
  auto e = exp("deviceEventSetState", {{"traitName", "BETA_PIN_CODE_CREDENTIALS"},
                                       {"fieldName", "pinCodeCredentials"},
                                       {"value", pins("guest", "234567")}});
  json observed = pins("pin_9", "234567");
  observed[0]["recurringSchedules"][0]["rrule"] =
      "RRULE:BYMINUTE=0;BYHOUR=8;BYDAY=TU,MO;FREQ=WEEKLY";
  auto o = obs("deviceEventSetState", {{"traitName", "BETA_PIN_CODE_CREDENTIALS"},
                                       {"fieldName", "pinCodeCredentials"},
                                       {"value", observed}});
  std::string why;
  EXPECT_TRUE(matches(e, o, b, why)) << why;
  EXPECT_EQ(b.pinId("guest"), "pin_9");  // bound at first sight
  o.content["value"][0]["id"] = "pin_10";
  EXPECT_FALSE(matches(e, o, b, why));
  EXPECT_NE(why.find("changed its id"), std::string::npos) << why;
}

TEST(Checker, TheFirstDivergenceIsNamedWithItsRule) {
  Bindings b;
  b.bindAction("a", "act_1");
  std::vector<ExpectedWebhook> e{
      exp("deviceEventQueueAction", {{"actionId", "a"}}, "R-ACT-ONLINE"),
      exp("deviceEventUpdateAction", {{"actionId", "a"}, {"status", "PENDING"}}, "R-ACT-ONLINE"),
      exp("deviceEventSetState",
          {{"traitName", "LOCK"}, {"fieldName", "isLocked"}, {"value", true}, {"actionId", "a"}},
          "R-ACT-ONLINE"),
      exp("deviceEventUpdateAction", {{"actionId", "a"}, {"status", "RESOLVED"}}, "R-ACT-ONLINE")};
  std::vector<ObservedWebhook> o{
      obs("deviceEventQueueAction", {{"actionId", "act_1"}}, 1),
      obs("deviceEventUpdateAction", {{"actionId", "act_1"}, {"status", "PENDING"}}, 2),
      obs("deviceEventUpdateAction", {{"actionId", "act_1"}, {"status", "RESOLVED"}}, 3),
      obs("deviceEventSetState",
          {{"traitName", "LOCK"},
           {"fieldName", "isLocked"},
           {"value", true},
           {"actionId", "act_1"}},
          4)};
  EXPECT_FALSE(
      compareDevice("L", e, std::vector<ObservedWebhook>(o.begin(), o.begin() + 2), 2, true, b));
  auto swapped = compareDevice("L", e, o, 4, true, b);
  ASSERT_TRUE(swapped);
  EXPECT_EQ(swapped->index, 2u);
  EXPECT_EQ(swapped->rule, "R-ACT-ONLINE");
  EXPECT_NE(swapped->message.find("swapped"), std::string::npos) << swapped->message;
  // Missing at the end: neither received nor pending.
  auto missing =
      compareDevice("L", e, std::vector<ObservedWebhook>(o.begin(), o.begin() + 3), 4, true, b);
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->message.find("missing"), std::string::npos);
  // Held back (receiver down): a prefix is fine when the count is not exact.
  EXPECT_FALSE(
      compareDevice("L", e, std::vector<ObservedWebhook>(o.begin(), o.begin() + 2), 2, false, b));
  // Something more than predicted.
  std::vector<ObservedWebhook> more(o.begin(), o.begin() + 2);
  more.push_back(obs("deviceEventSetState",
                     {{"traitName", "BATTERY_LEVEL"}, {"fieldName", "percentage"}, {"value", 5}},
                     5));
  auto extra =
      compareDevice("L", std::vector<ExpectedWebhook>(e.begin(), e.begin() + 2), more, 2, true, b);
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->rule, "R-BATT");
}

TEST(Checker, OccurredAtMustNotDecrease) {
  Bindings b;
  std::vector<ExpectedWebhook> e{exp("deviceEventConfig", {{"traits", 1}}),
                                 exp("deviceEventConfig", {{"traits", 1}})};
  std::vector<ObservedWebhook> o{obs("deviceEventConfig", {{"traits", 1}}, 10, "a"),
                                 obs("deviceEventConfig", {{"traits", 1}}, 5, "b")};
  auto d = compareDevice("L", e, o, 2, true, b);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rule, "R-DELIVERY");
}

RecordedWebhook delivery(const std::string& id, const std::string& body, bool signedOk = true) {
  RecordedWebhook w;
  w.id = id;
  w.raw = body;
  w.body = json::parse(body, nullptr, false);
  w.signatureOk = signedOk;
  w.signatureProblem = signedOk ? "" : "webhook-signature does not match the body";
  w.answered = signedOk ? 204 : 401;
  return w;
}

TEST(Recorder, DeduplicatesByIdAndRequiresIdenticalBytes) {
  const std::string a =
      R"({"id":"m1","type":"deviceEventConfig","occurredAt":"2025-01-01T00:00:00Z","content":{"deviceId":"1","traits":{}}})";
  auto d = deduplicate({delivery("m1", a), delivery("m1", a)}, {});
  EXPECT_EQ(d.webhooks.size(), 1u);
  EXPECT_EQ(d.duplicates, 1u);
  EXPECT_TRUE(d.problems.empty());
  const std::string changed =
      R"({"id":"m1","type":"deviceEventConfig","occurredAt":"2025-01-01T00:00:01Z","content":{"deviceId":"1","traits":{}}})";
  auto bad = deduplicate({delivery("m1", a), delivery("m1", changed)}, {});
  ASSERT_EQ(bad.problems.size(), 1u);
  EXPECT_NE(bad.problems[0].find("different bytes"), std::string::npos);
}

TEST(Recorder, BadlySignedOrMalformedWebhooksAreProblems) {
  auto d = deduplicate({}, {delivery("m1", "{}", false)});
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_NE(d.problems[0].find("signature"), std::string::npos);
  auto m = deduplicate({delivery("m2", R"({"id":"m2","type":"t"})")}, {});
  ASSERT_EQ(m.problems.size(), 1u);
  EXPECT_NE(m.problems[0].find("occurredAt"), std::string::npos);
}

TEST(Recorder, ChecksStandardWebhooksSignaturesItself) {
  // From the Standard Webhooks spec's example secret; the signature computed independently.
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string body = R"({"test": 2432232314})";
  const std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const std::string sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  EXPECT_EQ(checkSignature(secret, id, "1614265330", sig, body, 1614265330), "");
  EXPECT_NE(checkSignature(secret, id, "1614265330", sig, body + " ", 1614265330), "");
  EXPECT_NE(checkSignature(secret, id, "1614265330", sig, body, 1614265330 + 600).find("5 minutes"),
            std::string::npos);
  EXPECT_NE(
      checkSignature(secret, id, "1614265330", "", body, 1614265330).find("no webhook-signature"),
      std::string::npos);
}

}  // namespace
}  // namespace nukihil::scenarios

namespace nukihil::scenarios {
namespace {

TEST(Recorder, AWebhookWhoseFieldsHaveTheWrongTypesIsAProblemNotACrash) {
  const std::string odd =
      R"({"id":"m3","type":"deviceEventUpdateAction","occurredAt":"2025-01-01T00:00:00Z",)"
      R"("content":{"deviceId":"1","actionId":5,"status":["RESOLVED"]}})";
  auto d = deduplicate({delivery("m3", odd)}, {});
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_NE(d.problems[0].find("wrong type"), std::string::npos) << d.problems[0];
  // And describing it for a report does not throw either.
  ObservedWebhook o;
  o.type = "deviceEventSetState";
  o.content =
      json{{"traitName", 1}, {"fieldName", "pinCodeCredentials"}, {"value", json::array({5})}};
  EXPECT_NO_THROW(o.describe());
}

}  // namespace
}  // namespace nukihil::scenarios
