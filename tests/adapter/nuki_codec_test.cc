// The adapter's own Nuki JSON codec against the golden fixtures (real and documented Nuki
// bodies, tests/fixtures/nuki/fixtures/SOURCES.md) and the Swagger document.
#include "adapter/nuki_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "adapter/pin_codes.h"
#include "tests/support/swagger.h"

namespace nukihil::adapter {
namespace {

using nlohmann::json;

std::string fixture(const std::string& name) {
  return test::readFile(test::fixturePath("nuki/fixtures/" + name));
}

Time at(const char* rfc3339) {
  auto t = parseRfc3339(rfc3339);
  EXPECT_TRUE(t) << rfc3339;
  return t.value_or(Time{});
}

::testing::AssertionResult ValidAgainst(const json& value, const std::string& definition) {
  const auto problems = test::Swagger::nuki().validate(value, definition);
  if (problems.empty()) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure();
  r << value.dump() << " is not a valid " << definition << ":";
  for (const auto& p : problems)
    r << "\n  " << p;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Golden fixtures

TEST(NukiCodec, SmartlockListFixture) {
  std::string error;
  auto locks = decodeSmartlocks(fixture("smartlock-list.json"), error);
  ASSERT_TRUE(locks) << error;
  ASSERT_EQ(locks->size(), 2u);
  const NukiLock& a = (*locks)[0];
  EXPECT_EQ(a.smartlockId, 439041101u);
  EXPECT_EQ(a.accountId, 987654321);
  EXPECT_EQ(a.type, 0);
  EXPECT_EQ(a.name, "Wohnung");
  EXPECT_FALSE(a.wifi) << "no config.wifiEnabled";
  EXPECT_EQ(a.serverState, 0);
  EXPECT_TRUE(a.online());
  EXPECT_EQ(a.state, 3);
  EXPECT_EQ(a.trigger, 0);
  EXPECT_EQ(a.lastAction, 1);
  EXPECT_EQ(a.batteryCharge, 94);
  EXPECT_FALSE(a.batteryCritical);
  const NukiLock& b = (*locks)[1];
  EXPECT_EQ(b.smartlockId, 9028975693u) << "beyond 32 bits";
  EXPECT_EQ(b.type, 2);
  EXPECT_EQ(b.name, "Treppenhaus");
  EXPECT_EQ(b.state, 1);
  EXPECT_EQ(b.trigger, 1);
  EXPECT_EQ(b.lastAction, 2);
  EXPECT_FALSE(b.batteryCharge) << "the opener reports no batteryCharge";
}

TEST(NukiCodec, OlderSmartlockListFixtureIsOffline) {
  std::string error;
  auto locks = decodeSmartlocks(fixture("smartlock-list-2019-type0.json"), error);
  ASSERT_TRUE(locks) << error;
  ASSERT_EQ(locks->size(), 1u);
  EXPECT_EQ((*locks)[0].serverState, 4);
  EXPECT_FALSE((*locks)[0].online());
  EXPECT_EQ((*locks)[0].name, "Wohungstür");
  EXPECT_FALSE((*locks)[0].batteryCharge);
}

// The only type 4 element on record is truncated (no state, no serverState). Decision: the
// identity decodes, the Wi-Fi flag is read, everything the element lacks stays unset.
TEST(NukiCodec, PartialType4ElementDecodesWhatItHas) {
  std::string error;
  const auto j = json::parse(fixture("smartlock-type4-partial.json"));
  auto lock = decodeSmartlock(j, error);
  ASSERT_TRUE(lock) << error;
  EXPECT_EQ(lock->smartlockId, 17618910285u);
  EXPECT_EQ(lock->smartlockId >> 32, 4u) << "(4 << 32) | nukiId";
  EXPECT_EQ(lock->accountId, 987654321);
  EXPECT_EQ(lock->type, 4);
  EXPECT_EQ(lock->name, "Haustuer");
  EXPECT_TRUE(lock->wifi) << "3.0 Pro: config.wifiEnabled";
  EXPECT_FALSE(lock->state);
  EXPECT_FALSE(lock->trigger);
  EXPECT_FALSE(lock->lastAction);
  EXPECT_FALSE(lock->batteryCharge);
  EXPECT_FALSE(lock->batteryCritical);
  EXPECT_EQ(lock->serverState, 0);
  // In a list it is decoded the same way.
  auto list = decodeSmartlocks("[" + j.dump() + "]", error);
  ASSERT_TRUE(list) << error;
  EXPECT_EQ(list->at(0).smartlockId, 17618910285u);
}

TEST(NukiCodec, DeviceStatusWebhookFixtures) {
  std::string error;
  auto e = decodeEvent(fixture("webhook-device-status.json"), error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->kind, NukiEvent::kStatus);
  EXPECT_EQ(e->smartlockId, 123456789u);
  ASSERT_TRUE(e->lock);
  EXPECT_EQ(e->lock->smartlockId, 123456789u);
  EXPECT_EQ(e->lock->serverState, 0);
  EXPECT_EQ(e->lock->state, 3);
  EXPECT_EQ(e->lock->trigger, 0);
  EXPECT_EQ(e->lock->lastAction, 1);
  EXPECT_EQ(e->lock->batteryCharge, 32);
  EXPECT_FALSE(e->lock->batteryCritical);
  EXPECT_FALSE(e->log);
  EXPECT_FALSE(e->auth);

  auto docs = decodeEvent(fixture("webhook-device-status-docs.json"), error);
  ASSERT_TRUE(docs) << error;
  EXPECT_EQ(docs->lock->state, 1);
  EXPECT_EQ(docs->lock->trigger, 6);
  EXPECT_EQ(docs->lock->batteryCharge, 90);
}

TEST(NukiCodec, DeviceMasterdataWebhookFixture) {
  std::string error;
  auto e = decodeEvent(fixture("webhook-device-masterdata.json"), error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->kind, NukiEvent::kMasterData);
  EXPECT_EQ(e->smartlockId, 123456789u);
  EXPECT_FALSE(e->deleted);
  ASSERT_TRUE(e->lock);
  EXPECT_EQ(e->lock->smartlockId, 123456789u);
  EXPECT_EQ(e->lock->accountId, 987654321);
  EXPECT_EQ(e->lock->type, 4);
  EXPECT_EQ(e->lock->name, "Hello");
  EXPECT_EQ(e->lock->serverState, 0);
  EXPECT_FALSE(e->lock->state) << "masterdata carries no state";
}

// Nuki's example elides every field after `name` ("…"): decided to decode, with defaults.
TEST(NukiCodec, DeviceAuthsWebhookPartialFixture) {
  std::string error;
  auto e = decodeEvent(fixture("webhook-device-auths-partial.json"), error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->kind, NukiEvent::kAuths);
  EXPECT_FALSE(e->deleted);
  EXPECT_EQ(e->smartlockId, 11000009999u) << "taken from smartlockAuth";
  ASSERT_TRUE(e->auth);
  EXPECT_EQ(e->auth->id, "65219648fe57075d71a6cb01");
  EXPECT_EQ(e->auth->type, 13);
  EXPECT_EQ(e->auth->code, 982345);
  EXPECT_EQ(e->auth->name, "example");
  EXPECT_TRUE(e->auth->enabled);
  EXPECT_FALSE(e->auth->remoteAllowed);
  EXPECT_FALSE(e->auth->allowedFrom);
  EXPECT_FALSE(e->auth->allowedUntil);
  EXPECT_EQ(e->auth->allowedWeekDays, 127);
  EXPECT_FALSE(e->auth->operationId);
}

TEST(NukiCodec, LogListFixture) {
  std::string error;
  auto logs = decodeLogs(fixture("log-list.json"), error);
  ASSERT_TRUE(logs) << error;
  ASSERT_EQ(logs->size(), 1u);
  const NukiLog& l = (*logs)[0];
  EXPECT_EQ(l.id, "000000000000000000000001");
  EXPECT_EQ(l.smartlockId, 123456789u);
  EXPECT_EQ(l.action, 241);
  EXPECT_EQ(l.trigger, 0);
  EXPECT_EQ(l.state, 0);
  EXPECT_EQ(l.name, "");
  EXPECT_FALSE(l.authId);
  EXPECT_EQ(l.date, at("2022-12-20T00:00:42.000Z"));
}

TEST(NukiCodec, DecentralWebhookPutResponseFixture) {
  std::string error;
  auto w = decodeWebhook(std::string_view(fixture("decentral-webhook-put-response.json")), error);
  ASSERT_TRUE(w) << error;
  EXPECT_EQ(w->id, 54294256);
  EXPECT_EQ(w->secret, "00000000000000000000000000000000");
  EXPECT_EQ(w->url, "https://decentral123.webhook.at");
  EXPECT_EQ(w->features.size(), 6u);
}

// ---------------------------------------------------------------------------------------------
// Events built from the Swagger definitions

TEST(NukiCodec, DeviceLogsAndAuthsEvents) {
  std::string error;
  json log = {{"feature", "DEVICE_LOGS"},
              {"smartlockLog",
               {{"id", "0123456789abcdef01234567"},
                {"smartlockId", 17179869185ull},
                {"deviceType", 0},
                {"authId", "aaaaaaaaaaaaaaaaaaaaaaaa"},
                {"name", "Cleaner"},
                {"action", 1},
                {"trigger", 255},
                {"state", 224},
                {"autoUnlock", false},
                {"date", "2025-01-01T10:00:00.000Z"},
                {"source", 1}}}};
  auto e = decodeEvent(log.dump(), error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->kind, NukiEvent::kLogs);
  EXPECT_EQ(e->smartlockId, 17179869185u);
  ASSERT_TRUE(e->log);
  EXPECT_EQ(e->log->trigger, 255);
  EXPECT_EQ(e->log->state, 224);
  EXPECT_EQ(e->log->authId, "aaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(e->log->date, at("2025-01-01T10:00:00Z"));

  json auth = {{"feature", "DEVICE_AUTHS"},
               {"deleted", true},
               {"smartlockAuth",
                {{"id", "bbbbbbbbbbbbbbbbbbbbbbbb"},
                 {"smartlockId", 17179869185ull},
                 {"type", 13},
                 {"name", "Cleaner"},
                 {"code", 456789},
                 {"enabled", false},
                 {"remoteAllowed", false},
                 {"lockCount", 0},
                 {"allowedFromDate", "2025-01-01T00:00:00.000Z"},
                 {"allowedUntilDate", "2025-02-01T00:00:00.000Z"},
                 {"allowedWeekDays", 96},
                 {"allowedFromTime", 480},
                 {"allowedUntilTime", 720},
                 {"operationId", "cccccccccccccccccccccccc"}}}};
  e = decodeEvent(auth.dump(), error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->kind, NukiEvent::kAuths);
  EXPECT_TRUE(e->deleted);
  ASSERT_TRUE(e->auth);
  EXPECT_FALSE(e->auth->enabled);
  EXPECT_EQ(e->auth->allowedFrom, at("2025-01-01T00:00:00Z"));
  EXPECT_EQ(e->auth->allowedUntil, at("2025-02-01T00:00:00Z"));
  EXPECT_EQ(e->auth->allowedWeekDays, 96);
  EXPECT_EQ(e->auth->allowedFromTime, 480);
  EXPECT_EQ(e->auth->allowedUntilTime, 720);
  EXPECT_EQ(e->auth->operationId, "cccccccccccccccccccccccc");

  auto other = decodeEvent(R"({"feature":"DEVICE_CONFIG","smartlockId":5})", error);
  ASSERT_TRUE(other) << error;
  EXPECT_EQ(other->kind, NukiEvent::kOther);
  EXPECT_EQ(other->smartlockId, 5u);
}

TEST(NukiCodec, NullMeansAbsentAndUnknownFieldsAreIgnored) {
  std::string error;
  auto auths = decodeAuths(
      R"([{"id":"a","smartlockId":1,"type":13,"name":"n","code":null,"allowedFromDate":null,
           "operationId":null,"somethingNew":{"x":[1,2]}}])",
      error);
  ASSERT_TRUE(auths) << error;
  EXPECT_FALSE(auths->at(0).code);
  EXPECT_FALSE(auths->at(0).allowedFrom);
  EXPECT_FALSE(auths->at(0).operationId);
  auto empty = decodeAuths("[]", error);
  ASSERT_TRUE(empty) << error;
  EXPECT_TRUE(empty->empty());
}

// ---------------------------------------------------------------------------------------------
// Rejections

struct Bad {
  const char* what;
  const char* body;
  const char* errorMentions;
};

TEST(NukiCodec, MalformedAndWrongTypedSmartlockListsAreRejected) {
  const Bad cases[] = {
      {"not JSON", "[{", "JSON"},
      {"empty body", "", "JSON"},
      {"an object, not a list", R"({"smartlockId":1})", "array"},
      {"an element that is no object", "[1]", "[0]"},
      {"smartlockId as a string", R"([{"smartlockId":"1","accountId":1,"type":4,"name":"x"}])",
       "[0].smartlockId"},
      {"negative smartlockId", R"([{"smartlockId":-1,"accountId":1,"type":4,"name":"x"}])",
       "smartlockId"},
      {"missing smartlockId", R"([{"accountId":1,"type":4,"name":"x"}])", "smartlockId: missing"},
      {"missing name", R"([{"smartlockId":1,"accountId":1,"type":4}])", "name"},
      {"type 4.0", R"([{"smartlockId":1,"accountId":1,"type":4.0,"name":"x"}])", "type"},
      {"serverState as a bool",
       R"([{"smartlockId":1,"accountId":1,"type":4,"name":"x","serverState":true}])",
       "serverState"},
      {"state not an object", R"([{"smartlockId":1,"accountId":1,"type":4,"name":"x","state":3}])",
       "state"},
      {"state.state 1.5",
       R"([{"smartlockId":1,"accountId":1,"type":4,"name":"x","state":{"state":1.5}}])",
       "[0].state.state"},
      {"batteryCharge as a string",
       R"([{"smartlockId":1,"accountId":1,"type":4,"name":"x","state":{"batteryCharge":"90"}}])",
       "batteryCharge"},
      {"batteryCritical as 0",
       R"([{"smartlockId":1,"accountId":1,"type":4,"name":"x","state":{"batteryCritical":0}}])",
       "batteryCritical"},
      {"wifiEnabled as a string",
       R"([{"smartlockId":1,"accountId":1,"type":4,"name":"x","config":{"wifiEnabled":"yes"}}])",
       "config.wifiEnabled"},
      {"type beyond int32", R"([{"smartlockId":1,"accountId":1,"type":4294967296,"name":"x"}])",
       "type"},
      {"second element bad",
       R"([{"smartlockId":1,"accountId":1,"type":4,"name":"x"},{"smartlockId":2,"accountId":1,"type":4,"name":5}])",
       "[1].name"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(decodeSmartlocks(c.body, error)) << c.what;
    EXPECT_NE(error.find(c.errorMentions), std::string::npos)
        << c.what << ": error \"" << error << "\" should mention " << c.errorMentions;
  }
}

TEST(NukiCodec, MalformedAuthsAndLogsAreRejected) {
  const Bad auths[] = {
      {"id as a number", R"([{"id":1,"smartlockId":1,"type":13,"name":"n"}])", "[0].id"},
      {"code as a string", R"([{"id":"a","smartlockId":1,"type":13,"name":"n","code":"123456"}])",
       "code"},
      {"enabled as a string",
       R"([{"id":"a","smartlockId":1,"type":13,"name":"n","enabled":"true"}])", "enabled"},
      {"a date that is no date",
       R"([{"id":"a","smartlockId":1,"type":13,"name":"n","allowedFromDate":"tomorrow"}])",
       "allowedFromDate"},
      {"a date as a number",
       R"([{"id":"a","smartlockId":1,"type":13,"name":"n","allowedUntilDate":1735689600}])",
       "allowedUntilDate"},
      {"operationId as an object",
       R"([{"id":"a","smartlockId":1,"type":13,"name":"n","operationId":{"x":1}}])", "operationId"},
      {"missing type", R"([{"id":"a","smartlockId":1,"name":"n"}])", "type"},
  };
  for (const auto& c : auths) {
    std::string error;
    EXPECT_FALSE(decodeAuths(c.body, error)) << c.what;
    EXPECT_NE(error.find(c.errorMentions), std::string::npos) << c.what << ": " << error;
  }
  const Bad logs[] = {
      {"missing date", R"([{"id":"a","smartlockId":1,"action":1,"trigger":4,"state":0,"name":""}])",
       "date"},
      {"action as a string",
       R"([{"id":"a","smartlockId":1,"action":"1","trigger":4,"state":0,"name":"","date":"2025-01-01T00:00:00Z"}])",
       "action"},
      {"authId as a number",
       R"([{"id":"a","smartlockId":1,"action":1,"trigger":4,"state":0,"name":"","authId":5,"date":"2025-01-01T00:00:00Z"}])",
       "authId"},
      {"not a list", "{}", "array"},
  };
  for (const auto& c : logs) {
    std::string error;
    EXPECT_FALSE(decodeLogs(c.body, error)) << c.what;
    EXPECT_NE(error.find(c.errorMentions), std::string::npos) << c.what << ": " << error;
  }
}

TEST(NukiCodec, MalformedEventsAreRejected) {
  const Bad events[] = {
      {"not JSON", "{\"feature\":", "JSON"},
      {"a list", "[]", "object"},
      {"no feature", R"({"smartlockId":1})", "feature"},
      {"feature as a number", R"({"feature":1})", "feature"},
      {"status without state", R"({"feature":"DEVICE_STATUS","smartlockId":1,"serverState":0})",
       "state"},
      {"status without serverState",
       R"({"feature":"DEVICE_STATUS","smartlockId":1,"state":{"state":1}})", "serverState"},
      {"status with state.state as a string",
       R"({"feature":"DEVICE_STATUS","smartlockId":1,"serverState":0,"state":{"state":"1"}})",
       "state.state"},
      {"auths without smartlockAuth", R"({"feature":"DEVICE_AUTHS","deleted":false})",
       "smartlockAuth"},
      {"auths with deleted as a string",
       R"({"feature":"DEVICE_AUTHS","deleted":"no","smartlockAuth":{"id":"a","smartlockId":1,"type":13,"name":"n"}})",
       "deleted"},
      {"auths whose smartlockId contradicts",
       R"({"feature":"DEVICE_AUTHS","smartlockId":2,"smartlockAuth":{"id":"a","smartlockId":1,"type":13,"name":"n"}})",
       "contradicts"},
      {"logs with a bad entry",
       R"({"feature":"DEVICE_LOGS","smartlockLog":{"id":"a","smartlockId":1}})", "smartlockLog."},
      {"masterdata without name",
       R"({"feature":"DEVICE_MASTERDATA","smartlockId":1,"accountId":1,"type":4})", "name"},
      {"other with smartlockId as a string", R"({"feature":"ACCOUNT_USER","smartlockId":"1"})",
       "smartlockId"},
  };
  for (const auto& c : events) {
    std::string error;
    EXPECT_FALSE(decodeEvent(c.body, error)) << c.what;
    EXPECT_NE(error.find(c.errorMentions), std::string::npos) << c.what << ": " << error;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

TEST(NukiCodec, AuthCreateValidatesAgainstSwagger) {
  NukiAuthFields plain;
  plain.name = "Family";
  plain.code = 345678;
  const auto a = json::parse(encodeAuthCreate(plain));
  EXPECT_TRUE(ValidAgainst(a, "SmartlockAuthCreate"));
  EXPECT_EQ(a,
            json({{"type", 13}, {"name", "Family"}, {"code", 345678}, {"remoteAllowed", false}}));
  EXPECT_TRUE(a["code"].is_number_integer());

  NukiAuthFields scheduled;
  scheduled.name = "Cleaner – Küche";  // non-ASCII, 15 code points
  scheduled.code = 456789;
  scheduled.allowedFrom = at("2025-01-06T08:00:00Z");
  scheduled.allowedUntil = at("2025-02-01T00:00:00Z");
  scheduled.allowedWeekDays = 96;
  scheduled.allowedFromTime = 480;
  scheduled.allowedUntilTime = 720;
  scheduled.enabled = false;  // not part of a create
  const auto b = json::parse(encodeAuthCreate(scheduled));
  EXPECT_TRUE(ValidAgainst(b, "SmartlockAuthCreate"));
  EXPECT_EQ(b["name"], "Cleaner – Küche");
  EXPECT_EQ(b["allowedFromDate"], "2025-01-06T08:00:00.000Z");
  EXPECT_EQ(b["allowedUntilDate"], "2025-02-01T00:00:00.000Z");
  EXPECT_EQ(b["allowedWeekDays"], 96);
  EXPECT_EQ(b["allowedFromTime"], 480);
  EXPECT_EQ(b["allowedUntilTime"], 720);
  EXPECT_FALSE(b.contains("enabled"));
  EXPECT_EQ(b["type"], 13);
  EXPECT_EQ(b["remoteAllowed"], false) << "required by the Swagger";
}

TEST(NukiCodec, AuthCreateWithBrokenUtf8StillEncodes) {
  NukiAuthFields f;
  f.name = std::string("ab\xff", 3);
  f.code = 345678;
  json j;
  ASSERT_NO_THROW(j = json::parse(encodeAuthCreate(f)));
  EXPECT_TRUE(j["name"].is_string());
}

TEST(NukiCodec, AuthUpdateIsTheWholeNewState) {
  NukiAuthFields f;
  f.name = "Cleaner";
  f.code = 456789;
  f.enabled = true;
  f.allowedWeekDays = 96;
  f.allowedFromTime = 480;
  f.allowedUntilTime = 720;
  auto j = json::parse(encodeAuthUpdate(f));
  // Unset dates are explicit nulls (Nuki Web keeps fields an update leaves out).
  EXPECT_TRUE(j.at("allowedFromDate").is_null());
  EXPECT_TRUE(j.at("allowedUntilDate").is_null());
  json withoutNulls = j;
  withoutNulls.erase("allowedFromDate");
  withoutNulls.erase("allowedUntilDate");
  EXPECT_TRUE(ValidAgainst(withoutNulls, "SmartlockAuthUpdate"));
  EXPECT_EQ(j["enabled"], true);
  EXPECT_EQ(j["code"], 456789);
  EXPECT_EQ(j["allowedWeekDays"], 96);

  NukiAuthFields g;
  g.name = "Guest";
  g.allowedFrom = at("2025-01-06T08:00:00Z");
  g.allowedUntil = at("2025-01-07T08:00:00Z");
  auto k = json::parse(encodeAuthUpdate(g));
  EXPECT_TRUE(ValidAgainst(k, "SmartlockAuthUpdate"));
  EXPECT_FALSE(k.contains("code")) << "the code stays as it is";
  EXPECT_FALSE(k.contains("enabled"));
  EXPECT_EQ(k["allowedWeekDays"], 127) << "no recurring window";
  EXPECT_EQ(k["allowedFromTime"], 0);
  EXPECT_EQ(k["allowedUntilTime"], 0);
}

TEST(NukiCodec, WebhookRegistrationValidatesAgainstSwagger) {
  auto j =
      json::parse(encodeWebhook("https://example.com/nuki", {"DEVICE_STATUS", "DEVICE_AUTHS"}));
  EXPECT_TRUE(ValidAgainst(j, "DecentralWebhook"));
}

}  // namespace
}  // namespace nukihil::adapter

// Found by the adapter_nuki_codec fuzz target: an auth Nuki Web lists without a `code` became a
// credential with an empty pinCode, and encoding it for an update threw std::invalid_argument
// out of std::stoll (terminating the adapter). Now no code is sent.
namespace nukihil::adapter {
namespace {
TEST(NukiCodec, ACredentialWithoutACodeEncodesWithoutOne) {
  std::string error;
  auto auths = decodeAuths(
      R"([{"id":"5f0c","smartlockId":101,"authId":1,"type":13,"name":"Anna","enabled":true}])",
      error);
  ASSERT_TRUE(auths) << error;
  ASSERT_EQ(auths->size(), 1u);
  const PinCredential pin = fromNukiAuth(auths->at(0));
  NukiAuthFields fields;
  ASSERT_NO_THROW(fields = toNukiFields(pin));
  EXPECT_FALSE(fields.code.has_value());
  EXPECT_EQ(encodeAuthUpdate(fields).find("\"code\""), std::string::npos);
  PinCredential withCode = pin;
  withCode.pinCode = "345678";
  EXPECT_EQ(toNukiFields(withCode).code, 345678);
}
}  // namespace
}  // namespace nukihil::adapter
