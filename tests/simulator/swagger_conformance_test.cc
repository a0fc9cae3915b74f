// Every Nuki API response body and every Nuki webhook body the simulator produces validates
// against the definitions of Nuki's Swagger document (overrides applied), and has the shape of
// the real or documented Nuki bodies in tests/fixtures/nuki/fixtures (SPEC §2, §4).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/crypto.h"
#include "tests/support/sim_harness.h"
#include "tests/support/swagger.h"

namespace nukihil::test {
namespace {

using nlohmann::json;

const Swagger& sw() {
  return Swagger::nuki();
}

json fixture(const std::string& name) {
  return json::parse(readFile(fixturePath("nuki/fixtures/" + name)));
}

std::string str(uint64_t id) {
  return std::to_string(id);
}

// ---------------------------------------------------------------------------------------------
// Assertions

::testing::AssertionResult problemsToResult(const std::vector<std::string>& problems,
                                            const std::string& what, const json& value) {
  if (problems.empty()) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure();
  r << what << " does not validate:";
  for (const auto& p : problems)
    r << "\n  " << p;
  r << "\n  body: " << value.dump().substr(0, 800);
  return r;
}

// `value` validates against definition `name`.
::testing::AssertionResult Valid(const json& value, const std::string& name, bool strict = true) {
  return problemsToResult(sw().validate(value, name, strict), name, value);
}

// The kind of a JSON value as a wire shape sees it (signed and unsigned integers are one kind).
std::string kindOf(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::null:
      return "null";
    default:
      return "other";
  }
}

// Differences in shape between `expected` (a fixture) and `actual`: the same keys (with
// `subset`, the expected keys at least) and the same kinds of values, through nested objects;
// array items are compared with the expected array's first item.
void shapeDiff(const json& expected, const json& actual, const std::string& path, bool subset,
               std::vector<std::string>& out) {
  if (kindOf(expected) != kindOf(actual)) {
    out.push_back(path + ": expected " + kindOf(expected) + ", got " + kindOf(actual) + " " +
                  actual.dump().substr(0, 80));
    return;
  }
  if (expected.is_object()) {
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      if (!actual.contains(it.key()))
        out.push_back(path + ": missing key " + it.key());
      else
        shapeDiff(it.value(), actual[it.key()], path + "." + it.key(), subset, out);
    }
    if (!subset)
      for (auto it = actual.begin(); it != actual.end(); ++it)
        if (!expected.contains(it.key())) out.push_back(path + ": unexpected key " + it.key());
  } else if (expected.is_array() && !expected.empty()) {
    for (size_t i = 0; i < actual.size(); ++i)
      shapeDiff(expected[0], actual[i], path + "[" + std::to_string(i) + "]", subset, out);
  }
}

::testing::AssertionResult SameShape(const json& expected, const json& actual,
                                     bool subset = false) {
  std::vector<std::string> problems;
  shapeDiff(expected, actual, "$", subset, problems);
  if (problems.empty()) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure();
  r << "shape differs from the fixture:";
  for (const auto& p : problems)
    r << "\n  " << p;
  r << "\n  actual: " << actual.dump().substr(0, 800);
  return r;
}

// The sanity check of the check itself: the validator finds something in `value`.
::testing::AssertionResult Invalid(const json& value, const std::string& name, bool strict = true) {
  if (!sw().validate(value, name, strict).empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "validator accepted as " << name << ": " << value.dump();
}

// The schema the Swagger gives for the 200 answer of `method path`.
const json& responseSchema(const std::string& path, const std::string& method) {
  return sw().document().at("paths").at(path).at(method).at("responses").at("200").at("schema");
}

// A GET the simulator must answer 200 with a JSON body the Swagger describes for `swaggerPath`
// as `definition` (or an array of it, with `array`). Validates the body against the path's own
// schema and each array item on its own. Returns the body.
json getValid(TestClient& api, const std::string& target, const std::string& swaggerPath,
              const std::string& definition, bool array) {
  SCOPED_TRACE("GET " + target);
  auto r = api.get(target);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-type"].find("application/json"), std::string::npos)
      << r.headers["content-type"];
  const json body = r.json();
  EXPECT_FALSE(body.is_discarded()) << r.body;
  if (body.is_discarded()) return body;
  // The definition we validate against is the one the Swagger names for this path.
  const json& schema = responseSchema(swaggerPath, "get");
  const json ref = {{"$ref", "#/definitions/" + definition}};
  if (array) {
    EXPECT_EQ(schema.value("type", ""), "array") << schema.dump();
    EXPECT_EQ(schema.value("items", json()), ref) << schema.dump();
    EXPECT_TRUE(body.is_array()) << r.body;
    EXPECT_FALSE(body.empty()) << "an empty list proves nothing";
    for (size_t i = 0; i < body.size(); ++i)
      EXPECT_TRUE(Valid(body[i], definition)) << "item " << i;
  } else {
    EXPECT_EQ(schema, ref);
  }
  EXPECT_TRUE(problemsToResult(sw().validateSchema(body, schema), swaggerPath, body));
  return body;
}

// A Nuki error body: {"detailMessage":…,"stackTrace":[],"suppressedExceptions":[]}, exactly.
::testing::AssertionResult DetailError(const HttpResult& r, int status) {
  if (r.status != status)
    return ::testing::AssertionFailure()
           << "status " << r.status << ", wanted " << status << ": " << r.body;
  const json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || j.size() != 3 || !j.contains("detailMessage") ||
      !j["detailMessage"].is_string() || j["detailMessage"].get<std::string>().empty() ||
      j.value("stackTrace", json()) != json::array() ||
      j.value("suppressedExceptions", json()) != json::array())
    return ::testing::AssertionFailure() << "not a detailMessage body: " << r.body;
  if (r.headers.count("content-type") == 0 ||
      r.headers.at("content-type").find("application/json") == std::string::npos)
    return ::testing::AssertionFailure() << "not served as JSON";
  return ::testing::AssertionSuccess();
}

std::string detailMessageOf(const HttpResult& r) {
  return json::parse(r.body, nullptr, false).value("detailMessage", std::string());
}

std::string badValue(const std::string& value, const std::string& param) {
  return "The supplied value '" + value + "' for parameter '" + param + "' is not valid";
}

// ---------------------------------------------------------------------------------------------
// The world

json keypadCode(const std::string& name, int code) {
  return {{"name", name}, {"code", code}, {"type", 13}, {"remoteAllowed", false}};
}

struct World {
  SimHarness::AccountInfo account;
  SimHarness::AccountInfo other;
  uint64_t pro = 0;      // 3.0 Pro, Europe/Berlin
  uint64_t lock30 = 0;   // 3.0 behind a bridge, UTC
  uint64_t foreign = 0;  // a lock of the other account
  json webhook;          // the PUT /api/decentralWebhook answer
  json pendingAuth;      // GET …/auth/{id} while an update waits for delivery
  json offlineLock;      // GET /smartlock/{lock30} while offline
  json jammedLock;       // GET /smartlock/{pro} with the motor blocked
};

void ok(const HttpResult& r, int status = 204) {
  EXPECT_EQ(r.status, status) << r.body;
}

json keypad(SimHarness& h, uint64_t lock, int code) {
  auto r = h.admin().post("/sim/v1/smartlocks/" + str(lock) + "/keypad", {{"code", code}});
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json();
}

void control(SimHarness& h, uint64_t lock, const std::string& what, const json& body) {
  auto r = h.admin().post("/sim/v1/smartlocks/" + str(lock) + "/" + what, body);
  EXPECT_TRUE(r.status == 200 || r.status == 201) << what << ": " << r.status << " " << r.body;
}

std::string authIdNamed(TestClient& api, uint64_t lock, const std::string& name) {
  auto list = api.get("/smartlock/" + str(lock) + "/auth").json();
  for (const auto& a : list)
    if (a.value("name", "") == name) return a.value("id", "");
  ADD_FAILURE() << "no auth named " << name << " in " << list.dump();
  return {};
}

// Two locks of both models with codes with and without schedules, keypad tries granted and
// refused, manual and API motor actions of every kind, a jam, battery changes, offline and
// online, updates and deletes, manual and daily syncs — every kind of body the simulator makes.
World buildWorld(SimHarness& h) {
  World w;
  w.account = h.createAccount("Conformance");
  w.other = h.createAccount("Other");
  TestClient api(h.port(), w.account.token);
  TestClient otherApi(h.port(), w.other.token);

  auto hook = api.put(
      "/api/decentralWebhook",
      {{"webhookUrl", h.receiverUrl()},
       {"webhookFeatures", {"DEVICE_STATUS", "DEVICE_MASTERDATA", "DEVICE_LOGS", "DEVICE_AUTHS"}}});
  EXPECT_EQ(hook.status, 200) << hook.body;
  w.webhook = hook.json();

  w.pro =
      h.createLock(w.account.accountId,
                   {{"model", "3.0 Pro"}, {"name", "Front door"}, {"timezone", "Europe/Berlin"}});
  w.lock30 = h.createLock(w.account.accountId, {{"model", "3.0"}, {"name", "Back door"}});
  w.foreign = h.createLock(w.other.accountId, {{"model", "3.0 Pro"}, {"name", "Not yours"}});
  const std::string pro = "/smartlock/" + str(w.pro), l30 = "/smartlock/" + str(w.lock30);

  // Codes: plain, temporary window, recurring window, both windows, disabled; one added on the
  // lock itself; one on the other account's lock.
  ok(api.put(pro + "/auth", keypadCode("Plain", 345678)));
  json temp = keypadCode("Temp", 456789);
  temp["allowedFromDate"] = "2025-01-01T00:00:00.000Z";
  temp["allowedUntilDate"] = "2025-06-30T00:00:00Z";
  ok(api.put(pro + "/auth", temp));
  json weekdays = keypadCode("Weekdays", 567891);
  weekdays["allowedWeekDays"] = 124;  // Mon–Fri
  weekdays["allowedFromTime"] = 480;
  weekdays["allowedUntilTime"] = 1080;
  ok(api.put(pro + "/auth", weekdays));
  json both = keypadCode("Both windows", 678912);
  both["allowedFromDate"] = "2025-01-01T00:00:00Z";
  both["allowedUntilDate"] = "2025-02-01T00:00:00Z";
  both["allowedWeekDays"] = 96;  // Mon, Tue
  both["allowedFromTime"] = 0;
  both["allowedUntilTime"] = 1439;
  ok(api.put(l30 + "/auth", both));
  json off = keypadCode("Off", 789123);
  off["enabled"] = false;
  off["remoteAllowed"] = true;
  ok(api.put(l30 + "/auth", off));
  control(h, w.lock30, "device-codes", {{"name", "App code"}, {"code", 234567}});
  ok(otherApi.put("/smartlock/" + str(w.foreign) + "/auth", keypadCode("Theirs", 345678)));

  h.advance(6);  // delivered
  ok(api.post(pro + "/sync"));
  ok(api.post(l30 + "/sync"));
  ok(otherApi.post("/smartlock/" + str(w.foreign) + "/sync"));
  h.advance(0);

  // Keypad tries at 01:00 Berlin on a Wednesday.
  EXPECT_EQ(keypad(h, w.pro, 345678).value("granted", false), true);
  EXPECT_EQ(keypad(h, w.pro, 999999).value("reason", ""), "UNKNOWN_CODE");
  EXPECT_EQ(keypad(h, w.pro, 567891).value("reason", ""), "OUTSIDE_SCHEDULE");
  EXPECT_EQ(keypad(h, w.pro, 456789).value("granted", false), true);
  EXPECT_EQ(keypad(h, w.lock30, 789123).value("reason", ""), "DISABLED");
  EXPECT_EQ(keypad(h, w.lock30, 678912).value("reason", ""), "OUTSIDE_SCHEDULE");
  EXPECT_EQ(keypad(h, w.lock30, 234567).value("granted", false), true);
  h.advance(10);

  // Manual actions, then every API action.
  control(h, w.pro, "manual", {{"action", "lock"}});
  control(h, w.lock30, "manual", {{"action", "unlock"}});
  ok(api.post(pro + "/action", {{"action", 2}}));
  ok(api.post(pro + "/action", {{"action", 1}, {"option", 0}}));
  ok(api.post(pro + "/action", {{"action", 3}}));
  ok(api.post(pro + "/action/lock"));
  ok(api.post(pro + "/action/unlock"));
  ok(api.post(l30 + "/action", {{"action", 4}}));
  ok(api.post(l30 + "/action", {{"action", 5}, {"option", 2}}));
  h.advance(120);  // lock'n'go and its auto-lock included

  // Battery.
  control(h, w.pro, "battery", {{"charge", 15}});
  control(h, w.lock30, "battery", {{"charge", 60}});

  // A jam: a keypad unlock and an API action end with the motor blocked (state 254).
  control(h, w.pro, "jam", {{"jammed", true}});
  EXPECT_EQ(keypad(h, w.pro, 345678).value("reason", ""), "JAMMED");
  ok(api.post(pro + "/action", {{"action", 2}}));
  h.advance(10);
  w.jammedLock = api.get(pro).json();
  EXPECT_EQ(w.jammedLock["state"]["state"], 254);
  control(h, w.pro, "jam", {{"jammed", false}});

  // Offline: keypad tries and an action wait; online again.
  control(h, w.lock30, "connectivity", {{"online", false}});
  EXPECT_EQ(keypad(h, w.lock30, 111111).value("reason", ""), "UNKNOWN_CODE");
  EXPECT_EQ(keypad(h, w.lock30, 234567).value("granted", false), true);
  ok(api.post(l30 + "/action", {{"action", 2}}));
  ok(api.post(l30 + "/sync"));  // an offline lock does not sync
  h.advance(5);
  w.offlineLock = api.get(l30).json();
  EXPECT_EQ(w.offlineLock["serverState"], 4);
  control(h, w.lock30, "connectivity", {{"online", true}});
  h.advance(10);

  // An update (pending: operationId) and a delete, then syncs.
  const std::string plainId = authIdNamed(api, w.pro, "Plain");
  const std::string tempId = authIdNamed(api, w.pro, "Temp");
  json update = {{"name", "Plain renamed"}, {"code", 345679}, {"enabled", true}};
  ok(api.post(pro + "/auth/" + plainId, update));
  w.pendingAuth = api.get(pro + "/auth/" + plainId).json();
  EXPECT_TRUE(w.pendingAuth.contains("operationId")) << w.pendingAuth.dump();
  ok(api.del(pro + "/auth/" + tempId));
  h.advance(6);
  ok(api.post(pro + "/sync"));
  ok(api.post(l30 + "/sync"));
  h.advance(0);

  // Lock settings changed through the API, then a day of virtual time (two daily syncs).
  ok(api.post(l30, {{"name", "Back door (garden)"}, {"favorite", true}}));
  h.advance(86400);
  return w;
}

std::map<std::string, std::vector<ReceivedWebhook>> byFeature(
    const std::vector<ReceivedWebhook>& got) {
  std::map<std::string, std::vector<ReceivedWebhook>> out;
  for (const auto& w : got) {
    const json j = json::parse(w.body, nullptr, false);
    out[j.is_object() ? j.value("feature", "?") : "?"].push_back(w);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. Every GET endpoint, and the PUT /api/decentralWebhook answer

TEST(SwaggerConformance, EveryGetEndpointValidates) {
  SimHarness h;
  World w = buildWorld(h);
  TestClient api(h.port(), w.account.token);
  const std::string pro = "/smartlock/" + str(w.pro), l30 = "/smartlock/" + str(w.lock30);

  // GET /account answers MyAccount (the path's schema); the body is a valid Account too.
  json account = getValid(api, "/account", "/account", "MyAccount", false);
  EXPECT_TRUE(Valid(account, "Account"));
  EXPECT_EQ(account.value("accountId", int64_t(0)), w.account.accountId);

  json locks = getValid(api, "/smartlock", "/smartlock", "Smartlock", true);
  EXPECT_EQ(locks.size(), 2u);
  getValid(api, "/smartlock?type=4", "/smartlock", "Smartlock", true);
  getValid(api, "/smartlock?authId=" + std::to_string(locks[0].value("authId", 0)), "/smartlock",
           "Smartlock", true);
  for (const auto& path : {pro, l30}) {
    json lock = getValid(api, path, "/smartlock/{smartlockId}", "Smartlock", false);
    EXPECT_TRUE(Valid(lock["state"], "Smartlock.State"));
    EXPECT_TRUE(Valid(lock["config"], "Smartlock.Config"));
    EXPECT_TRUE(Valid(lock["advancedConfig"], "Smartlock.AdvancedConfig"));
  }
  // The bodies captured on the way: motor blocked, offline.
  EXPECT_TRUE(Valid(w.jammedLock, "Smartlock"));
  EXPECT_TRUE(Valid(w.offlineLock, "Smartlock"));

  // Auths: per lock, one by one, account-wide, paged.
  json proAuths =
      getValid(api, pro + "/auth", "/smartlock/{smartlockId}/auth", "SmartlockAuth", true);
  json l30Auths =
      getValid(api, l30 + "/auth", "/smartlock/{smartlockId}/auth", "SmartlockAuth", true);
  json l30Codes =
      getValid(api, l30 + "/auth?types=13", "/smartlock/{smartlockId}/auth", "SmartlockAuth", true);
  // The web view now holds the lock's own auths (the account's app, type 0; the bridge of a
  // 3.0, type 1) and the keypad codes: Plain renamed, Weekdays (Pro); Both windows, Off, App
  // code (3.0).
  auto typesOf = [](const json& list) {
    std::multiset<int> out;
    for (const auto& a : list)
      out.insert(a.value("type", -1));
    return out;
  };
  EXPECT_EQ(typesOf(proAuths), (std::multiset<int>{0, 13, 13})) << proAuths.dump();
  EXPECT_EQ(typesOf(l30Auths), (std::multiset<int>{0, 1, 13, 13, 13})) << l30Auths.dump();
  bool sawSchedule = false, sawDates = false, sawLastActive = false, sawDisabled = false;
  for (const auto& list : {proAuths, l30Auths}) {
    for (const auto& a : list) {
      json one = getValid(
          api,
          "/smartlock/" + str(a.value("smartlockId", uint64_t(0))) + "/auth/" + a.value("id", ""),
          "/smartlock/{smartlockId}/auth/{id}", "SmartlockAuth", false);
      EXPECT_EQ(one, a);
      sawSchedule = sawSchedule || a.value("allowedWeekDays", 127) != 127;
      sawDates = sawDates || a.contains("allowedFromDate");
      sawLastActive = sawLastActive || a.contains("lastActiveDate");
      sawDisabled = sawDisabled || !a.value("enabled", true);
    }
  }
  EXPECT_TRUE(sawSchedule && sawDates && sawLastActive && sawDisabled)
      << "the world should show every optional auth field";
  // The auth with a change waiting for delivery carries an operationId (a string).
  EXPECT_TRUE(Valid(w.pendingAuth, "SmartlockAuth"));

  json all = getValid(api, "/smartlock/auth", "/smartlock/auth", "SmartlockAuth", true);
  EXPECT_EQ(all.size(), proAuths.size() + l30Auths.size());
  json codes = getValid(api, "/smartlock/auth?types=13", "/smartlock/auth", "SmartlockAuth", true);
  EXPECT_EQ(typesOf(l30Codes), (std::multiset<int>{13, 13, 13}));
  EXPECT_EQ(typesOf(codes), (std::multiset<int>{13, 13, 13, 13, 13}));

  for (const std::string query : {"", "?page=0&size=2", "?page=1&size=2", "?page=2&size=2"}) {
    json paged = getValid(api, "/smartlock/auth/paged" + query, "/smartlock/auth/paged",
                          "PaginatedResponse", false);
    ASSERT_TRUE(paged.contains("results") && paged["results"].is_array()) << paged.dump();
    EXPECT_FALSE(paged["results"].empty()) << query;
    for (const auto& a : paged["results"])
      EXPECT_TRUE(Valid(a, "SmartlockAuth")) << query;
    EXPECT_TRUE(Valid(paged["pagination"], "Pagination")) << query;
  }
  json middle = api.get("/smartlock/auth/paged?page=1&size=2").json();
  EXPECT_TRUE(middle["pagination"].contains("nextPage") &&
              middle["pagination"].contains("prevPage"))
      << middle.dump();

  // Logs: per lock and account-wide, default and maximum page.
  std::set<int> actions, triggers, states;
  for (const std::string& target :
       {pro + "/log", l30 + "/log", pro + "/log?limit=50", l30 + "/log?limit=50"}) {
    json logs = getValid(api, target, "/smartlock/{smartlockId}/log", "SmartlockLog", true);
    for (const auto& e : logs) {
      actions.insert(e.value("action", 0));
      triggers.insert(e.value("trigger", 0));
      states.insert(e.value("state", 0));
    }
  }
  for (const std::string target : {"/smartlock/log", "/smartlock/log?limit=50"})
    getValid(api, target, "/smartlock/log", "SmartlockLog", true);
  EXPECT_EQ(actions, (std::set<int>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(triggers.count(255) && triggers.count(4) && triggers.count(1)) << "triggers";
  EXPECT_TRUE(states.count(0) && states.count(1) && states.count(224)) << "completion states";

  // Webhooks: the list and the PUT answer.
  json hooks =
      getValid(api, "/api/decentralWebhook", "/api/decentralWebhook", "DecentralWebhook", true);
  EXPECT_EQ(hooks.size(), 1u);
  EXPECT_EQ(responseSchema("/api/decentralWebhook", "put"),
            json({{"$ref", "#/definitions/DecentralWebhook"}}));
  EXPECT_TRUE(Valid(w.webhook, "DecentralWebhook"));
  EXPECT_EQ(hooks[0], w.webhook);
}

// ---------------------------------------------------------------------------------------------
// 2. Every webhook body, and its signature

TEST(SwaggerConformance, EveryWebhookBodyValidatesAndIsSigned) {
  SimHarness h;
  World w = buildWorld(h);
  const auto got = h.received();
  ASSERT_FALSE(got.empty());
  const std::string secret = w.webhook.value("secret", "");
  ASSERT_FALSE(secret.empty());
  const auto features = byFeature(got);
  for (const char* f : {"DEVICE_STATUS", "DEVICE_AUTHS", "DEVICE_LOGS", "DEVICE_MASTERDATA"})
    EXPECT_TRUE(features.count(f) && !features.at(f).empty()) << "no " << f << " received";
  EXPECT_EQ(features.count("?"), 0u) << "a body without a known feature";

  const json& smartlockProps = sw().document()["definitions"]["Smartlock"]["properties"];
  std::set<int> motorStates, serverStates;
  bool sawDeleted = false, sawCreated = false;
  for (const auto& hook : got) {
    SCOPED_TRACE(hook.body.substr(0, 200));
    // Signature: lowercase hex HMAC-SHA256 of the exact body, keyed with the secret.
    ASSERT_TRUE(hook.headers.count("x-nuki-signature-sha256"));
    EXPECT_EQ(hook.headers.at("x-nuki-signature-sha256"),
              crypto::toHex(crypto::hmacSha256(secret, hook.body)));
    EXPECT_NE(hook.headers.at("content-type").find("application/json"), std::string::npos);
    json j = json::parse(hook.body, nullptr, false);
    ASSERT_TRUE(j.is_object());
    const std::string feature = j.value("feature", "");
    if (feature == "DEVICE_STATUS") {
      EXPECT_EQ(j.size(), 5u);
      EXPECT_TRUE(j["smartlockId"] == w.pro || j["smartlockId"] == w.lock30);
      EXPECT_TRUE(Valid(j["state"], "Smartlock.State"));
      EXPECT_TRUE(problemsToResult(
          sw().validateSchema(j["serverState"], smartlockProps["serverState"]), "serverState", j));
      EXPECT_TRUE(
          problemsToResult(sw().validateSchema(j["adminPinState"], smartlockProps["adminPinState"]),
                           "adminPinState", j));
      motorStates.insert(j["state"].value("state", -1));
      serverStates.insert(j.value("serverState", -1));
    } else if (feature == "DEVICE_AUTHS") {
      EXPECT_EQ(j.size(), 3u);
      ASSERT_TRUE(j.contains("deleted") && j["deleted"].is_boolean());
      EXPECT_TRUE(Valid(j["smartlockAuth"], "SmartlockAuth"));
      (j["deleted"].get<bool>() ? sawDeleted : sawCreated) = true;
    } else if (feature == "DEVICE_LOGS") {
      EXPECT_EQ(j.size(), 2u);
      EXPECT_TRUE(Valid(j["smartlockLog"], "SmartlockLog"));
    } else if (feature == "DEVICE_MASTERDATA") {
      json top = j;
      top.erase("feature");
      top.erase("deleted");
      EXPECT_TRUE(j.contains("deleted") && j["deleted"].is_boolean());
      EXPECT_TRUE(Valid(top, "Smartlock", false));
    } else {
      ADD_FAILURE() << "unexpected feature " << feature;
    }
  }
  // The world reached every kind of status: the motor moving, blocked, offline.
  for (int s : {1, 2, 3, 4, 5, 6, 7, 254})
    EXPECT_TRUE(motorStates.count(s)) << "state " << s;
  EXPECT_EQ(serverStates, (std::set<int>{0, 4}));
  EXPECT_TRUE(sawCreated && sawDeleted);

  // The check can fail: a body signed with another key, or another body, does not match.
  const auto& first = got.front();
  EXPECT_NE(first.headers.at("x-nuki-signature-sha256"),
            crypto::toHex(crypto::hmacSha256(secret + "x", first.body)));
  EXPECT_NE(first.headers.at("x-nuki-signature-sha256"),
            crypto::toHex(crypto::hmacSha256(secret, first.body + " ")));
}

// ---------------------------------------------------------------------------------------------
// 3. Golden shapes

TEST(SwaggerConformance, FixturesValidateAgainstTheSwagger) {
  EXPECT_TRUE(Valid(fixture("smartlock-state-object.json"), "Smartlock.State"));
  EXPECT_TRUE(Valid(fixture("webhook-device-status.json")["state"], "Smartlock.State"));
  EXPECT_TRUE(Valid(fixture("webhook-device-status-docs.json")["state"], "Smartlock.State"));
  json master = fixture("webhook-device-masterdata.json");
  master.erase("feature");
  master.erase("deleted");
  EXPECT_TRUE(Valid(master, "Smartlock", false));
  EXPECT_TRUE(Valid(master, "Smartlock"));
  for (const auto& e : fixture("log-list.json"))
    EXPECT_TRUE(Valid(e, "SmartlockLog"));
  EXPECT_TRUE(Valid(fixture("decentral-webhook-put-response.json"), "DecentralWebhook"));
  // The type-4 element is truncated (no state, serverState, adminPinState): its parts.
  const json type4 = fixture("smartlock-type4-partial.json");
  EXPECT_TRUE(Valid(type4["config"], "Smartlock.Config"));
  EXPECT_TRUE(Valid(type4["advancedConfig"], "Smartlock.AdvancedConfig"));
  // The DEVICE_AUTHS fixture is partial too: each field it has is valid.
  const json authProps = sw().document()["definitions"]["SmartlockAuth"]["properties"];
  const json partialAuth = fixture("webhook-device-auths-partial.json")["smartlockAuth"];
  for (auto it = partialAuth.begin(); it != partialAuth.end(); ++it) {
    ASSERT_TRUE(authProps.contains(it.key())) << it.key();
    EXPECT_TRUE(problemsToResult(sw().validateSchema(it.value(), authProps[it.key()]), it.key(),
                                 partialAuth));
  }
}

TEST(SwaggerConformance, ValidatorRejectsBrokenBodies) {
  const json state = fixture("smartlock-state-object.json");
  ASSERT_TRUE(Valid(state, "Smartlock.State"));
  json missing = state;
  missing.erase("mode");
  EXPECT_TRUE(Invalid(missing, "Smartlock.State"));
  json outOfRange = state;
  outOfRange["trigger"] = 99;
  EXPECT_TRUE(Invalid(outOfRange, "Smartlock.State"));
  json wrongType = state;
  wrongType["batteryCharge"] = 1.5;
  EXPECT_TRUE(Invalid(wrongType, "Smartlock.State"));
  json asString = state;
  asString["state"] = "1";
  EXPECT_TRUE(Invalid(asString, "Smartlock.State"));
  json extra = state;
  extra["bogus"] = true;
  EXPECT_TRUE(Invalid(extra, "Smartlock.State"));
  EXPECT_TRUE(Valid(extra, "Smartlock.State", false));
  json log = fixture("log-list.json")[0];
  log["deviceType"] = 1;  // enum 0, 2, 3
  EXPECT_TRUE(Invalid(log, "SmartlockLog"));
  json date = fixture("log-list.json")[0];
  date["date"] = "yesterday";
  EXPECT_TRUE(Invalid(date, "SmartlockLog"));
  json hook = fixture("decentral-webhook-put-response.json");
  hook["webhookFeatures"].push_back("DEVICE_STATUS");  // uniqueItems
  EXPECT_TRUE(Invalid(hook, "DecentralWebhook"));
  json lock = fixture("smartlock-type4-partial.json");
  lock["advancedConfig"]["lngTimeout"] = 2;  // enum 5 … 60
  EXPECT_TRUE(Invalid(lock["advancedConfig"], "Smartlock.AdvancedConfig"));
}

TEST(SwaggerConformance, BodiesHaveTheShapeOfRealNukiBodies) {
  SimHarness h;
  World w = buildWorld(h);
  TestClient api(h.port(), w.account.token);
  const std::string pro = "/smartlock/" + str(w.pro);

  // Webhook bodies: exactly the keys and kinds of the documented ones.
  const auto features = byFeature(h.received());
  ASSERT_TRUE(features.count("DEVICE_STATUS") && features.count("DEVICE_MASTERDATA") &&
              features.count("DEVICE_AUTHS") && features.count("DEVICE_LOGS"));
  const json status = fixture("webhook-device-status.json");
  for (const auto& hook : features.at("DEVICE_STATUS"))
    EXPECT_TRUE(SameShape(status, hook.json()));
  const json master = fixture("webhook-device-masterdata.json");
  for (const auto& hook : features.at("DEVICE_MASTERDATA"))
    EXPECT_TRUE(SameShape(master, hook.json()));
  // DEVICE_AUTHS: Nuki's example elides fields after name; those it shows must be there.
  const json auths = fixture("webhook-device-auths-partial.json");
  for (const auto& hook : features.at("DEVICE_AUTHS"))
    EXPECT_TRUE(SameShape(auths, hook.json(), true));

  // The state object, in GET /smartlock/{id} and in the lists.
  const json stateFixture = fixture("smartlock-state-object.json");
  EXPECT_TRUE(SameShape(stateFixture, api.get(pro).json()["state"]));
  EXPECT_TRUE(SameShape(stateFixture, w.jammedLock["state"]));
  EXPECT_TRUE(SameShape(stateFixture, w.offlineLock["state"]));

  // GET /smartlock: a real type-4 element's keys (top level, config, advancedConfig) are all
  // there with the same kinds; the element is truncated, so the simulator may have more.
  const json type4 = fixture("smartlock-type4-partial.json");
  const json locks = api.get("/smartlock").json();
  ASSERT_EQ(locks.size(), 2u);
  for (const auto& lock : locks) {
    EXPECT_TRUE(SameShape(type4, lock, true));
    EXPECT_TRUE(SameShape(type4["config"], lock["config"], true));
    EXPECT_TRUE(SameShape(type4["advancedConfig"], lock["advancedConfig"], true));
    EXPECT_EQ(lock["config"]["deviceType"], 4);
    EXPECT_EQ(lock["type"], 4);
  }
  // The 3.0 Pro has Wi-Fi, the 3.0 (behind a bridge) has not.
  for (const auto& lock : locks)
    EXPECT_EQ(lock["config"]["wifiEnabled"], lock["smartlockId"] == w.pro) << lock.dump();

  // Log entries: the real entry's keys; those written for an authorization add its authId.
  const json logEntry = fixture("log-list.json")[0];
  json logEntryWithAuth = logEntry;
  logEntryWithAuth["authId"] = "000000000000000000000002";
  size_t withAuth = 0, without = 0;
  auto checkLog = [&](const json& e) {
    const bool hasAuth = e.contains("authId");
    (hasAuth ? withAuth : without)++;
    EXPECT_TRUE(SameShape(hasAuth ? logEntryWithAuth : logEntry, e));
  };
  for (const auto& e : api.get(pro + "/log?limit=50").json())
    checkLog(e);
  for (const auto& e : api.get("/smartlock/log?limit=50").json())
    checkLog(e);
  for (const auto& hook : features.at("DEVICE_LOGS"))
    checkLog(hook.json()["smartlockLog"]);
  EXPECT_GT(withAuth, 0u);
  EXPECT_GT(without, 0u);

  // Webhook registration: the PUT answer and the GET list.
  const json putFixture = fixture("decentral-webhook-put-response.json");
  EXPECT_TRUE(SameShape(putFixture, w.webhook));
  for (const auto& hook : api.get("/api/decentralWebhook").json())
    EXPECT_TRUE(SameShape(putFixture, hook));

  // Error bodies: 401, 422 and 423 are the real bodies byte for byte (as JSON).
  TestClient anonymous(h.port());
  auto unauthorized = anonymous.get("/smartlock");
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_TRUE(SameShape(fixture("error-401.json"), unauthorized.json()));
  EXPECT_EQ(unauthorized.json(), fixture("error-401.json"));

  auto unprocessable = api.put(pro + "/auth", keypadCode("A name of 21 letters!", 891234));
  EXPECT_EQ(unprocessable.status, 422);
  EXPECT_TRUE(SameShape(fixture("error-422.json"), unprocessable.json()));
  EXPECT_EQ(unprocessable.json(), fixture("error-422.json"));

  const std::string id = authIdNamed(api, w.pro, "Weekdays");
  ok(api.post(pro + "/auth/" + id, {{"name", "Weekdays"}, {"enabled", false}}));
  auto locked = api.post(pro + "/auth/" + id, {{"name", "Weekdays again"}});
  EXPECT_EQ(locked.status, 423);
  EXPECT_TRUE(SameShape(fixture("error-423.json"), locked.json()));
  EXPECT_EQ(locked.json(), fixture("error-423.json"));

  auto badCode = api.put(pro + "/auth", keypadCode("Bad", 123456));
  EXPECT_EQ(badCode.status, 400);
  EXPECT_TRUE(SameShape(fixture("error-400-detailmessage-code.json"), badCode.json()));
}

// An injected 500 (SPEC §4 faults) is the Restlet body real Nuki sends.
TEST(SwaggerConformance, InjectedServerErrorHasTheRealBody) {
  SimHarness h;
  auto acc = h.createAccount("Faults");
  const uint64_t lock = h.createLock(acc.accountId, {{"model", "3.0 Pro"}});
  TestClient api(h.port(), acc.token);
  auto fault = h.admin().post("/sim/v1/faults",
                              {{"route", "/smartlock/*/log"}, {"status", 500}, {"count", 1}});
  ASSERT_TRUE(fault.status == 200 || fault.status == 201) << fault.body;
  auto r = api.get("/smartlock/" + str(lock) + "/log");
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_TRUE(SameShape(fixture("error-500.json"), r.json()));
  EXPECT_EQ(r.json(), fixture("error-500.json"));
  EXPECT_EQ(api.get("/smartlock/" + str(lock) + "/log").status, 200) << "count 1: once only";
}

// ---------------------------------------------------------------------------------------------
// 4. Error bodies (SPEC §2)

TEST(SwaggerConformance, ErrorBodiesHaveTheShapesSpecLists) {
  SimHarness h;
  auto acc = h.createAccount("Errors");
  auto other = h.createAccount("Other");
  const uint64_t lock = h.createLock(acc.accountId, {{"model", "3.0 Pro"}, {"name", "Door"}});
  const uint64_t foreign = h.createLock(other.accountId, {{"model", "3.0"}, {"name", "Theirs"}});
  TestClient api(h.port(), acc.token);
  TestClient otherApi(h.port(), other.token);
  const std::string path = "/smartlock/" + str(lock);
  const std::string expected401 =
      R"({"detailMessage":"Your access token is not authorized","stackTrace":[],"suppressedExceptions":[]})";

  // 401: no token, an unknown token — on every kind of route.
  TestClient anonymous(h.port());
  TestClient stranger(h.port(), "not-a-token-of-anyone-0123456789");
  for (TestClient* c : {&anonymous, &stranger}) {
    for (const auto& [method, target] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/account"},
                                                          {"GET", "/smartlock"},
                                                          {"GET", path},
                                                          {"GET", path + "/auth"},
                                                          {"GET", "/smartlock/log"},
                                                          {"POST", path + "/action/lock"},
                                                          {"GET", "/api/decentralWebhook"}}) {
      auto r = c->request(method, target, method == "POST" ? "{}" : "");
      EXPECT_TRUE(DetailError(r, 401)) << method << " " << target;
      EXPECT_EQ(r.json(), json::parse(expected401)) << method << " " << target;
    }
  }

  // 403: another account's lock, and its auths.
  ok(otherApi.put("/smartlock/" + str(foreign) + "/auth", keypadCode("Theirs", 345678)));
  h.advance(6);
  ok(otherApi.post("/smartlock/" + str(foreign) + "/sync"));
  const json theirAuths = otherApi.get("/smartlock/" + str(foreign) + "/auth").json();
  std::string theirAuth;
  for (const auto& a : theirAuths)
    if (a.value("type", 0) == 13) theirAuth = a.value("id", "");
  ASSERT_FALSE(theirAuth.empty()) << theirAuths.dump();
  for (const auto& r :
       {api.get("/smartlock/" + str(foreign)), api.get("/smartlock/" + str(foreign) + "/auth"),
        api.get("/smartlock/" + str(foreign) + "/auth/" + theirAuth),
        api.post("/smartlock/" + str(foreign) + "/action", {{"action", 2}}),
        api.request("DELETE", "/smartlock/auth", json({theirAuth}).dump())}) {
    EXPECT_TRUE(DetailError(r, 403));
    EXPECT_NE(detailMessageOf(r), "Your access token is not authorized") << r.body;
  }

  // 404: an unknown lock, an unknown auth, an unknown path.
  for (const auto& r :
       {api.get("/smartlock/1"), api.get("/smartlock/" + str((uint64_t{4} << 32) | 1)),
        api.get(path + "/auth/000000000000000000000000"), api.get("/no/such/path"),
        api.get("/smartlock/" + str(lock) + "/nothing")}) {
    EXPECT_TRUE(DetailError(r, 404));
  }

  // 405: a known path, a method it does not have.
  auto notAllowed = api.del("/account");
  EXPECT_TRUE(DetailError(notAllowed, 405));
  EXPECT_TRUE(notAllowed.headers.count("allow")) << "405 without Allow";

  // 400: invalid codes (K1–K3), a wrong type, a missing required field, limit ≤ 0.
  for (const auto& [code, shown] : std::vector<std::pair<json, std::string>>{
           {123456, "123456"}, {102345, "102345"}, {12345, "12345"}, {1234567, "1234567"}}) {
    json body = keypadCode("Bad", 0);
    body["code"] = code;
    auto r = api.put(path + "/auth", body);
    EXPECT_TRUE(DetailError(r, 400)) << shown;
    EXPECT_EQ(detailMessageOf(r), badValue(shown, "code"));
  }
  {
    json body = keypadCode("Bad", 0);
    body["code"] = 345678.5;
    auto r = api.put(path + "/auth", body);
    EXPECT_TRUE(DetailError(r, 400));
    EXPECT_EQ(detailMessageOf(r), badValue("345678.5", "code"));
    body = keypadCode("No remoteAllowed", 345678);
    body.erase("remoteAllowed");
    r = api.put(path + "/auth", body);
    EXPECT_TRUE(DetailError(r, 400));
    EXPECT_NE(detailMessageOf(r).find("'remoteAllowed'"), std::string::npos) << r.body;
    r = api.get(path + "/log?limit=0");
    EXPECT_TRUE(DetailError(r, 400));
    EXPECT_EQ(detailMessageOf(r), badValue("0", "limit"));
    r = api.post(path + "/action", {{"action", 9}});
    EXPECT_TRUE(DetailError(r, 400));
    EXPECT_EQ(detailMessageOf(r), badValue("9", "action"));
  }

  // 409: a duplicate code (K4), the 101st code (K5); the messages say which.
  ok(api.put(path + "/auth", keypadCode("First", 345678)));
  auto duplicate = api.put(path + "/auth", keypadCode("Again", 345678));
  EXPECT_TRUE(DetailError(duplicate, 409));
  for (int i = 1; i < 100; ++i) {
    int code = 0;
    for (int n = i, k = 0; k < 5; ++k, n /= 9)
      code = code * 10 + 1 + n % 9;
    ok(api.put(path + "/auth", keypadCode("Code " + std::to_string(i), 400000 + code)));
  }
  auto full = api.put(path + "/auth", keypadCode("One too many", 987654));
  EXPECT_TRUE(DetailError(full, 409));
  EXPECT_NE(detailMessageOf(full), detailMessageOf(duplicate));

  // 422: a keypad-code name missing, empty, over 20 characters — the Restlet body.
  const json restlet = fixture("error-422.json");
  json noName = keypadCode("x", 456789);
  noName.erase("name");
  for (const auto& body :
       {noName, keypadCode("", 456789), keypadCode("123456789012345678901", 456789)}) {
    auto r = api.put(path + "/auth", body);
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(r.json(), restlet) << body.dump();
  }

  // 423: a change to an auth whose earlier change is not yet delivered.
  h.advance(6);
  ok(api.post(path + "/sync"));
  const std::string first = authIdNamed(api, lock, "First");
  ok(api.post(path + "/auth/" + first, {{"name", "First renamed"}}));
  for (const auto& r : {api.post(path + "/auth/" + first, {{"name", "First again"}}),
                        api.del(path + "/auth/" + first)}) {
    EXPECT_EQ(r.status, 423) << r.body;
    EXPECT_EQ(r.body.empty() ? json() : r.json(), fixture("error-423.json"));
  }
}

// ---------------------------------------------------------------------------------------------
// Known simulator bugs (see the report)

// Lock settings Nuki's advancedConfig cannot hold are refused, so every Smartlock served
// validates (lngTimeout ∈ {5,10,15,20,30,45,60}, unlatchDuration ∈ {1,3,5,7,10,15,20,30}).
TEST(SwaggerConformance, NonNukiLockSettingsAreRefusedAndNukiOnesValidate) {
  SimHarness h;
  auto acc = h.createAccount("Settings");
  for (nlohmann::json bad :
       {nlohmann::json{{"lngTimeout", 2}}, nlohmann::json{{"unlatchDuration", 2}}}) {
    bad["accountId"] = acc.accountId;
    auto r = h.admin().post("/sim/v1/smartlocks", bad);
    EXPECT_EQ(r.status, 400) << bad.dump();
    EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("must be one of"),
              std::string::npos);
  }
  const uint64_t lock = h.createLock(
      acc.accountId,
      {{"model", "3.0 Pro"}, {"name", "Fast"}, {"lngTimeout", 5}, {"unlatchDuration", 1}});
  TestClient api(h.port(), acc.token);
  getValid(api, "/smartlock/" + str(lock), "/smartlock/{smartlockId}", "Smartlock", false);
  getValid(api, "/smartlock", "/smartlock", "Smartlock", true);
}

}  // namespace
}  // namespace nukihil::test
