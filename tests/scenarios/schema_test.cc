// scenarios/scenario.schema.json (the JSON Schema editors use to complete and check scenario
// files) against the validator nukihil really uses (scenarios/model/scenario.cc): every suite
// file passes both; every object has the same keys in both, with the same required fields,
// enums and bounds; files the validator refuses for something a schema can say are refused by
// the schema too, and files it accepts are accepted by the schema. What a schema cannot say
// (names that must be bound earlier, lock names, K2, a lock's codes being distinct, one field
// before another, an instant in the past) is left to the validator and not tested here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "scenarios/model/scenario.h"
#include "tests/support/swagger.h"

namespace nukihil::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const Swagger& schema() {
  static const Swagger s(
      json::parse(readFile(std::string(NUKIHIL_SOURCE_DIR) + "/scenarios/scenario.schema.json")));
  return s;
}

std::vector<std::string> schemaProblems(const json& doc) {
  // Not strict: the schema says itself where properties are closed (additionalProperties false).
  return schema().validateSchema(doc, schema().document(), false);
}

std::vector<std::string> validatorProblems(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& p : model::parseScenario(text, "case.json").problems)
    out.push_back(p.text());
  return out;
}

std::string lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v)
    s += "\n    " + x;
  return s;
}

::testing::AssertionResult verdicts(const std::string& text, const json& doc, bool wantValid) {
  const auto bySchema = schemaProblems(doc);
  const auto byValidator = validatorProblems(text);
  if (bySchema.empty() == wantValid && byValidator.empty() == wantValid)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "want both to " << (wantValid ? "accept" : "refuse")
         << " the file\n  schema: " << (bySchema.empty() ? "accepts" : "refuses:" + lines(bySchema))
         << "\n  validator: " << (byValidator.empty() ? "accepts" : "refuses:" + lines(byValidator))
         << "\n  file: " << text.substr(0, 600);
}
::testing::AssertionResult BothAccept(const json& doc) {
  return verdicts(doc.dump(), doc, true);
}
::testing::AssertionResult BothRefuse(const json& doc) {
  return verdicts(doc.dump(), doc, false);
}

// The schema node at a JSON pointer, its $refs followed.
const json& schemaAt(const std::string& pointer) {
  const json* node = &schema().document().at(json::json_pointer(pointer));
  while (node->contains("$ref"))
    node =
        &schema().document().at(json::json_pointer((*node)["$ref"].get<std::string>().substr(1)));
  return *node;
}

std::set<std::string> schemaKeys(const std::string& pointer) {
  std::set<std::string> keys;
  const json properties = schemaAt(pointer).value("properties", json::object());
  for (const auto& [k, v] : properties.items())
    keys.insert(k);
  return keys;
}

// Two locks (a 3.0 Pro and a 3.0 on a bridge) and one step binding "a1" to an action.
json base() {
  return json::parse(R"({
    "name": "schema test",
    "locks": [{"name": "Front door", "model": "3.0 Pro"},
              {"name": "Garage", "model": "3.0", "bridgeId": 7}],
    "steps": [{"do": "setLocked", "lock": "Front door", "as": "a1", "parameters": {"lock": true}}]
  })");
}
json withStep(const json& step) {
  json d = base();
  d["steps"].push_back(step);
  return d;
}
json set(json doc, const std::string& pointer, const json& value) {
  doc[json::json_pointer(pointer)] = value;
  return doc;
}
json without(json doc, const std::string& pointer) {
  const json::json_pointer p(pointer);
  doc[p.parent_pointer()].erase(p.back());
  return doc;
}

// Every step kind with only its required fields.
const std::vector<std::pair<std::string, json>>& minimalSteps() {
  static const std::vector<std::pair<std::string, json>> steps = [] {
    std::vector<std::pair<std::string, json>> v;
    for (
        const char* text : {
            R"({"do": "setLocked", "lock": "Front door", "parameters": {"lock": false}})",
            R"({"do": "createPin", "lock": "Front door", "parameters": {}})",
            R"({"do": "updatePin", "lock": "Front door", "parameters": {"id": "pin-1"}})",
            R"({"do": "deletePin", "lock": "Front door", "parameters": {"id": "pin-1"}})",
            R"({"do": "offline", "lock": "Front door"})",
            R"({"do": "online", "lock": "Front door"})",
            R"({"do": "battery", "lock": "Front door", "charge": 50})",
            R"({"do": "jam", "lock": "Front door"})",
            R"({"do": "free", "lock": "Front door"})",
            R"({"do": "keypad", "lock": "Front door", "code": 234567})",
            R"({"do": "knob", "lock": "Front door", "action": "lock"})",
            R"({"do": "addCodeOnLock", "lock": "Front door", "name": "Local", "code": 234567})",
            R"({"do": "removeCodeOnLock", "lock": "Front door", "code": 234567})",
            R"({"do": "nukiRequest", "lock": "Front door", "method": "GET", "path": "/smartlock"})",
            R"({"do": "sync", "lock": "Front door"})",
            R"({"do": "advance", "seconds": 1})",
            R"({"do": "advanceTo", "time": "2025-01-02T00:00:00Z"})",
            R"({"do": "fault", "fault": {"status": 500}})",
            R"({"do": "clearFaults"})",
            R"({"do": "receiverDown"})",
            R"({"do": "receiverUp"})",
            R"({"do": "restartAdapter"})",
            R"({"do": "resumeOutbox", "lock": "Front door"})",
            R"({"do": "expectAction", "ref": "a1", "status": "PENDING"})",
            R"({"do": "expectDevice", "lock": "Front door", "isLocked": false})",
            R"({"do": "expectLock", "lock": "Front door", "state": 3})",
            R"({"do": "expectOutbox", "lock": "Front door", "pending": 0})",
        }) {
      json j = json::parse(text);
      v.emplace_back(j["do"].get<std::string>(), j);
    }
    return v;
  }();
  return steps;
}

// ---------------------------------------------------------------------------------------------
// The schema itself

TEST(SchemaFile, IsDraft07AndEveryRefResolves) {
  const json& doc = schema().document();
  EXPECT_EQ(doc.value("$schema", ""), "http://json-schema.org/draft-07/schema#");
  EXPECT_FALSE(doc.value("$id", "").empty());
  EXPECT_EQ(doc.value("additionalProperties", true), false);
  size_t refs = 0;
  std::function<void(const json&, const std::string&)> walk = [&](const json& j,
                                                                  const std::string& at) {
    if (j.is_object()) {
      if (j.contains("$ref")) {
        ++refs;
        const std::string ref = j["$ref"].get<std::string>();
        ASSERT_EQ(ref.rfind("#/definitions/", 0), 0u) << at << ": " << ref;
        EXPECT_TRUE(doc.contains(json::json_pointer(ref.substr(1)))) << at << ": " << ref;
      }
      for (const auto& [k, v] : j.items())
        walk(v, at + "/" + k);
    } else if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i)
        walk(j[i], at + "/" + std::to_string(i));
    }
  };
  walk(doc, "");
  EXPECT_GT(refs, 50u);
}

TEST(SchemaFile, DescribesEveryProperty) {
  // Hover help in an editor shows `description`: every property has one, its own or its $ref's.
  std::function<void(const json&, const std::string&)> walk = [&](const json& j,
                                                                  const std::string& at) {
    if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i)
        walk(j[i], at + "/" + std::to_string(i));
      return;
    }
    if (!j.is_object()) return;
    if (j.contains("properties") && j["properties"].is_object()) {
      for (const auto& [k, v] : j["properties"].items()) {
        const std::string where = at + "/properties/" + k;
        const bool described = v.contains("description") ||
                               (v.contains("$ref") && schemaAt(where).contains("description"));
        EXPECT_TRUE(described) << where << " has no description";
        if (described && v.contains("description")) {
          EXPECT_GE(v["description"].get<std::string>().size(), 8u) << where;
        }
      }
    }
    for (const auto& [k, v] : j.items())
      if (k != "not") walk(v, at + "/" + k);  // what a file must not hold has no hover help
  };
  walk(schema().document(), "");
}

TEST(SchemaFile, EveryStepKindIsItsOwnClosedDefinitionSelectedByDo) {
  std::vector<std::string> kinds;
  for (int k = int(model::StepKind::kSetLocked); k <= int(model::StepKind::kExpectOutbox); ++k)
    kinds.push_back(model::stepKindName(model::StepKind(k)));
  const json& step = schemaAt("/definitions/step");
  EXPECT_EQ(step["properties"]["do"]["enum"].get<std::vector<std::string>>(), kinds);
  std::vector<std::string> alternatives;
  for (const auto& alt : step["oneOf"])
    alternatives.push_back(alt["$ref"].get<std::string>());
  ASSERT_EQ(alternatives.size(), kinds.size());
  for (size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(alternatives[i], "#/definitions/step_" + kinds[i]);
    const json& def = schemaAt("/definitions/step_" + kinds[i]);
    EXPECT_EQ(def["properties"]["do"].value("const", ""), kinds[i]);
    EXPECT_EQ(def.value("additionalProperties", true), false) << kinds[i];
    EXPECT_TRUE(def.contains("description")) << kinds[i];
  }
  ASSERT_EQ(minimalSteps().size(), kinds.size());
  for (size_t i = 0; i < kinds.size(); ++i)
    EXPECT_EQ(minimalSteps()[i].first, kinds[i]);
}

TEST(SchemaFile, RuleIdsAreTheModelsRuleIds) {
  EXPECT_EQ(schemaAt("/properties/rules/items")["enum"].get<std::vector<std::string>>(),
            model::allRuleIds());
}

// ---------------------------------------------------------------------------------------------
// The suites

TEST(SchemaSuites, EverySuiteFileValidatesAgainstTheSchemaAndTheValidator) {
  std::vector<std::string> files;
  for (const auto& e :
       fs::recursive_directory_iterator(std::string(NUKIHIL_SOURCE_DIR) + "/scenarios/suites"))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 60u);
  for (const auto& f : files) {
    const std::string text = readFile(f);
    EXPECT_TRUE(verdicts(text, json::parse(text), true)) << f;
  }
}

// ---------------------------------------------------------------------------------------------
// The same keys per object

// The validator's known keys where it meets an unknown one: a key far from every known name
// makes it list them ("unknown key 'x' (known here: a, b, c)").
const std::string kProbe = "zzzzzzzzzzzzzzzzzzzzzzzz";

std::set<std::string> validatorKeys(const json& doc) {
  for (const auto& p : model::parseScenario(doc.dump(), "case.json").problems) {
    if (p.path != kProbe &&
        !(p.path.size() > kProbe.size() &&
          p.path.compare(p.path.size() - kProbe.size() - 1, std::string::npos, "." + kProbe) == 0))
      continue;
    const std::string open = "(known here: ";
    const size_t from = p.message.find(open);
    if (from == std::string::npos) continue;
    std::string list = p.message.substr(from + open.size());
    list = list.substr(0, list.rfind(')'));
    std::set<std::string> keys;
    for (size_t pos = 0; pos <= list.size();) {
      const size_t comma = std::min(list.find(", ", pos), list.size());
      keys.insert(list.substr(pos, comma - pos));
      pos = comma + 2;
    }
    return keys;
  }
  return {};
}

TEST(SchemaAgreement, EveryObjectHasTheValidatorsKeys) {
  struct Probe {
    std::string label;
    json doc;
    std::string at;        // where the probe key goes (JSON pointer of an object)
    std::string schemaAt;  // the schema of that object
  };
  std::vector<Probe> probes = {
      {"top level", base(), "", ""},
      {"settings", set(base(), "/settings", json::object()), "/settings", "/definitions/settings"},
      {"adapter", set(base(), "/adapter", json::object()), "/adapter", "/definitions/adapter"},
      {"a lock", base(), "/locks/0", "/definitions/lock"},
      {"a fleet code",
       set(base(), "/locks/0/codes", json::parse(R"([{"name":"A","code":345678}])")),
       "/locks/0/codes/0", "/definitions/fleetCode"},
      {"an action's expect", set(base(), "/steps/0/expect", {{"status", 202}}), "/steps/0/expect",
       "/definitions/actionExpect"},
      {"keypad expect",
       withStep(json::parse(
           R"({"do":"keypad","lock":"Front door","code":234567,"expect":{"granted":true}})")),
       "/steps/1/expect", "/definitions/step_keypad/properties/expect"},
      {"nukiRequest expect",
       withStep(json::parse(
           R"({"do":"nukiRequest","lock":"Front door","method":"GET","path":"/smartlock","expect":{"status":200}})")),
       "/steps/1/expect", "/definitions/step_nukiRequest/properties/expect"},
      {"fault", withStep(json::parse(R"({"do":"fault","fault":{"status":500}})")), "/steps/1/fault",
       "/definitions/fault"},
      {"an expectWebhooks entry",
       set(base(), "/expectWebhooks",
           json::parse(R"({"Front door":[{"type":"deviceEventConfig"}]})")),
       "/expectWebhooks/Front door/0", "/definitions/webhookEntry"},
      {"an expectWebhooks entry's content",
       set(base(), "/expectWebhooks",
           json::parse(R"({"Front door":[{"type":"deviceEventConfig","content":{}}]})")),
       "/expectWebhooks/Front door/0/content", "/definitions/webhookContent"},
  };
  for (const auto& [kind, step] : minimalSteps()) {
    probes.push_back({kind, withStep(step), "/steps/1", "/definitions/step_" + kind});
    if (step.contains("parameters"))
      probes.push_back({kind + " parameters", withStep(step), "/steps/1/parameters",
                        "/definitions/step_" + kind + "/properties/parameters"});
  }
  for (const auto& p : probes) {
    SCOPED_TRACE(p.label);
    json doc = p.doc;
    ASSERT_TRUE(BothAccept(doc));
    doc[json::json_pointer(p.at)][kProbe] = 1;
    EXPECT_TRUE(BothRefuse(doc));
    const auto known = validatorKeys(doc);
    EXPECT_FALSE(known.empty()) << "the validator named no known keys";
    EXPECT_EQ(schemaKeys(p.schemaAt.empty() ? "" : p.schemaAt), known);
  }
}

// ---------------------------------------------------------------------------------------------
// The same required fields

TEST(SchemaAgreement, MinimalStepsPassAndEachRequiredFieldIsRequiredByBoth) {
  for (const auto& [kind, step] : minimalSteps()) {
    SCOPED_TRACE(kind);
    EXPECT_TRUE(BothAccept(withStep(step)));
    const json& def = schemaAt("/definitions/step_" + kind);
    std::set<std::string> required;
    for (const auto& r : def.value("required", json::array()))
      required.insert(r.get<std::string>());
    for (const auto& [k, v] : step.items()) {
      // A minimal step holds its required fields, and the one field an expect… step needs.
      const bool needed = required.count(k) || kind.rfind("expect", 0) == 0 ||
                          (kind == "advanceTo" && k == "time") || (kind == "fault");
      EXPECT_TRUE(needed) << kind << "." << k << " is not required by the schema";
      if (k == "do") continue;
      EXPECT_TRUE(BothRefuse(withStep(without(step, "/" + k)))) << "without " << k;
    }
    for (const auto& r : required)
      EXPECT_TRUE(step.contains(r)) << "the schema requires " << r;
  }
}

TEST(SchemaAgreement, RequiredFieldsOfTheFileLocksCodesParametersAndEntries) {
  const json code = set(base(), "/locks/0/codes", json::parse(R"([{"name":"A","code":345678}])"));
  const json entries = set(base(), "/expectWebhooks",
                           json::parse(R"({"Front door":[{"type":"deviceEventConfig"}]})"));
  EXPECT_TRUE(BothAccept(code));
  EXPECT_TRUE(BothAccept(entries));
  for (
      const auto& doc : {
          without(base(), "/name"),
          without(base(), "/locks"),
          without(base(), "/steps"),
          without(base(), "/locks/0/name"),
          without(code, "/locks/0/codes/0/name"),
          without(code, "/locks/0/codes/0/code"),
          without(base(), "/steps/0/parameters/lock"),
          without(entries, "/expectWebhooks/Front door/0/type"),
          withStep(
              json::parse(R"({"do":"updatePin","lock":"Front door","parameters":{"name":"X"}})")),
          withStep(json::parse(R"({"do":"deletePin","lock":"Front door","parameters":{}})")),
          withStep(json::parse(
              R"({"do":"nukiRequest","lock":"Front door","method":"GET","path":"/smartlock","expect":{}})")),
          withStep(json::parse(R"({"lock":"Front door"})")),
      })
    EXPECT_TRUE(BothRefuse(doc));
}

// ---------------------------------------------------------------------------------------------
// The same enums and bounds

TEST(SchemaAgreement, EnumsBoundsAndPatternsAgree) {
  struct Field {
    Field(std::string l, json d, std::string a, std::string s, std::vector<json> g = {},
          std::vector<json> b = {})
        : label(std::move(l)),
          doc(std::move(d)),
          at(std::move(a)),
          schemaAt(std::move(s)),
          good(std::move(g)),
          bad(std::move(b)) {}
    std::string label;
    json doc;
    std::string at;        // the field in doc
    std::string schemaAt;  // its schema: enum values and minimum/maximum are tried from here
    std::vector<json> good, bad;
  };
  const json code =
      set(base(), "/locks/0/codes", json::parse(R"([{"name":"A","code":345678,"allowedWeekDays":64,
                                         "allowedFromTime":0,"allowedUntilTime":1439}])"));
  const json entry = set(base(), "/expectWebhooks",
                         json::parse(R"({"Front door":[{"type":"deviceEventUpdateAction"}]})"));
  auto step = [](const char* text) { return withStep(json::parse(text)); };
  const std::string d = "/definitions/";
  const std::string twenty = "Küche Küche Küche Kü";  // 20 code points, more bytes
  const std::vector<json> hhmmGood = {"00:00", "23:59", "03:00"},
                          hhmmBad = {"24:00", "3:00", "03:60", "03:00:00", ""};
  const std::vector<json> instantGood = {"2000-01-01T00:00:00Z", "2037-12-31T23:59:59Z",
                                         "2025-03-01T10:00:00.250+01:00", "2025-03-01t10:00:00z"},
                          instantBad = {"1999-12-31T23:59:59Z",
                                        "2038-01-01T00:00:00Z",
                                        "2025-03-01 10:00:00Z",
                                        "2025-03-01T10:00:00",
                                        "2025-02-30T10:00:00Z",
                                        "soon",
                                        5};
  const std::vector<Field> fields = {
      {"settings.motorSeconds", base(), "/settings/motorSeconds", d + "motorSeconds", {}, {"3"}},
      {"settings.deliverySeconds", base(), "/settings/deliverySeconds", d + "deliverySeconds"},
      {"settings.batteryCharge", base(), "/settings/batteryCharge", d + "batteryCharge"},
      {"settings.unlatchDuration",
       base(),
       "/settings/unlatchDuration",
       d + "unlatchDuration",
       {},
       {0, 2, 31}},
      {"settings.lngTimeout", base(), "/settings/lngTimeout", d + "lngTimeout", {}, {4, 25, 61}},
      {"settings.syncAt", base(), "/settings/syncAt", d + "syncAt", hhmmGood, hhmmBad},
      {"settings.timezone",
       base(),
       "/settings/timezone",
       d + "timezone",
       {"UTC", "Europe/Berlin"},
       {"", 1}},
      {"lock motorSeconds", base(), "/locks/0/motorSeconds", d + "motorSeconds"},
      {"lock model", base(), "/locks/0/model", d + "lock/properties/model", {}, {"3.1", "Pro"}},
      {"lock bridgeId", base(), "/locks/1/bridgeId", d + "lock/properties/bridgeId"},
      {"lock name",
       set(base(), "/steps", json::array()),
       "/locks/0/name",
       d + "lock/properties/name",
       {"Back door", "Küche"},
       {"", 5}},
      {"adapter.pollSeconds", base(), "/adapter/pollSeconds", d + "adapter/properties/pollSeconds"},
      {"code",
       code,
       "/locks/0/codes/0/code",
       d + "code_code",
       {119999, 131111, 345678},
       {120000, 123456, 129999, "345678"}},
      {"code name",
       code,
       "/locks/0/codes/0/name",
       d + "code_name",
       {"Küche", twenty},
       {"", twenty + "x"}},
      {"code allowedWeekDays", code, "/locks/0/codes/0/allowedWeekDays",
       d + "code_allowedWeekDays"},
      {"code allowedFromTime", code, "/locks/0/codes/0/allowedFromTime",
       d + "code_allowedFromTime"},
      {"code allowedUntilTime", code, "/locks/0/codes/0/allowedUntilTime",
       d + "code_allowedUntilTime"},
      {"code allowedFromDate",
       set(code, "/locks/0/codes/0/allowedUntilDate", "2037-12-31T23:59:59.500Z"),
       "/locks/0/codes/0/allowedFromDate", d + "code_allowedFromDate", instantGood, instantBad},
      {"start", base(), "/start", "/properties/start", instantGood, instantBad},
      {"seed",
       base(),
       "/seed",
       "/properties/seed",
       {0, 1, uint64_t(18446744073709551615ULL)},
       {"1", 1.5}},
      {"rules",
       set(base(), "/rules", json::array({"K1"})),
       "/rules/0",
       "/properties/rules/items",
       {},
       {"R-NONE", "k1"}},
      {"setLocked expect.status",
       set(base(), "/steps/0/expect", {{"status", 202}}),
       "/steps/0/expect/status",
       d + "actionExpect/properties/status",
       {},
       {201, 500, "202"}},
      {"setLocked expect.error",
       set(base(), "/steps/0/expect", {{"error", "PIN_FORMAT"}}),
       "/steps/0/expect/error",
       d + "actionExpect/properties/error",
       {},
       {"PIN_WRONG", ""}},
      {"battery charge", step(R"({"do":"battery","lock":"Front door","charge":5})"),
       "/steps/1/charge", d + "step_battery/properties/charge"},
      {"keypad code",
       step(R"({"do":"keypad","lock":"Front door","code":5})"),
       "/steps/1/code",
       d + "step_keypad/properties/code",
       {99999999999LL, "234567"},
       {-1, "23a567", "", 2.5}},
      {"keypad expect.reason",
       step(R"({"do":"keypad","lock":"Front door","code":5,"expect":{"reason":"JAMMED"}})"),
       "/steps/1/expect/reason",
       d + "step_keypad/properties/expect/properties/reason",
       {nullptr},
       {"WRONG", 1}},
      {"knob action",
       step(R"({"do":"knob","lock":"Front door","action":"lock"})"),
       "/steps/1/action",
       d + "step_knob/properties/action",
       {},
       {"open", ""}},
      {"removeCodeOnLock code", step(R"({"do":"removeCodeOnLock","lock":"Front door","code":5})"),
       "/steps/1/code", d + "step_removeCodeOnLock/properties/code"},
      {"nukiRequest method",
       step(R"({"do":"nukiRequest","lock":"Front door","method":"GET","path":"/smartlock"})"),
       "/steps/1/method",
       d + "step_nukiRequest/properties/method",
       {},
       {"PATCH", "get"}},
      {"nukiRequest path",
       step(R"({"do":"nukiRequest","lock":"Front door","method":"GET","path":"/smartlock"})"),
       "/steps/1/path",
       d + "step_nukiRequest/properties/path",
       {"/smartlock/{lock}/auth", "/account"},
       {"smartlock", "", 5}},
      {"nukiRequest expect.status",
       step(
           R"({"do":"nukiRequest","lock":"Front door","method":"GET","path":"/smartlock","expect":{"status":200}})"),
       "/steps/1/expect/status", d + "step_nukiRequest/properties/expect/properties/status"},
      {"advance seconds",
       step(R"({"do":"advance","seconds":5})"),
       "/steps/1/seconds",
       d + "step_advance/properties/seconds",
       {},
       {"5", 1.5}},
      {"advanceTo localTime", step(R"({"do":"advanceTo","lock":"Front door","localTime":"03:00"})"),
       "/steps/1/localTime", d + "step_advanceTo/properties/localTime", hhmmGood, hhmmBad},
      {"fault status", step(R"({"do":"fault","fault":{"status":500}})"), "/steps/1/fault/status",
       d + "fault/properties/status"},
      {"fault retryAfter", step(R"({"do":"fault","fault":{"status":429,"retryAfter":1}})"),
       "/steps/1/fault/retryAfter", d + "fault/properties/retryAfter"},
      {"fault forSeconds", step(R"({"do":"fault","fault":{"status":500,"forSeconds":1}})"),
       "/steps/1/fault/forSeconds", d + "fault/properties/forSeconds"},
      {"fault count", step(R"({"do":"fault","fault":{"status":500,"count":1}})"),
       "/steps/1/fault/count", d + "fault/properties/count"},
      {"fault methods",
       step(R"({"do":"fault","fault":{"status":500,"methods":["GET"]}})"),
       "/steps/1/fault/methods/0",
       d + "fault/properties/methods/items",
       {},
       {"PATCH", "get"}},
      {"fault from", step(R"({"do":"fault","fault":{"status":500,"from":"2025-01-01T00:00:00Z"}})"),
       "/steps/1/fault/from", d + "fault/properties/from", instantGood, instantBad},
      {"receiverDown status", step(R"({"do":"receiverDown","status":503})"), "/steps/1/status",
       d + "step_receiverDown/properties/status"},
      {"restartAdapter during",
       step(R"({"do":"restartAdapter","during":"nextWebhook"})"),
       "/steps/1/during",
       d + "step_restartAdapter/properties/during",
       {},
       {"now", ""}},
      {"restartAdapter kill",
       step(R"({"do":"restartAdapter","kill":true})"),
       "/steps/1/kill",
       d + "step_restartAdapter/properties/kill",
       {false},
       {"yes", 1}},
      {"expectAction status",
       step(R"({"do":"expectAction","ref":"a1","status":"PENDING"})"),
       "/steps/1/status",
       d + "step_expectAction/properties/status",
       {},
       {"DONE", "pending"}},
      {"expectAction ref",
       step(R"({"do":"expectAction","ref":"a1","status":"PENDING"})"),
       "/steps/1/ref",
       d + "step_expectAction/properties/ref",
       {"@a1"},
       {"", 1}},
      {"expectAction reason",
       step(R"({"do":"expectAction","ref":"a1","status":"FAILED"})"),
       "/steps/1/reason",
       d + "step_expectAction/properties/reason",
       {"403", "MOTOR_BLOCKED"},
       {"", 403}},
      {"expectDevice percentage",
       step(R"({"do":"expectDevice","lock":"Front door","percentage":5})"), "/steps/1/percentage",
       d + "step_expectDevice/properties/percentage"},
      {"expectDevice batteryStatus",
       step(R"({"do":"expectDevice","lock":"Front door","batteryStatus":"NORMAL"})"),
       "/steps/1/batteryStatus",
       d + "step_expectDevice/properties/batteryStatus",
       {},
       {"LOW"}},
      {"expectDevice pinCodes",
       step(R"({"do":"expectDevice","lock":"Front door","pinCodes":[]})"),
       "/steps/1/pinCodes",
       d + "step_expectDevice/properties/pinCodes",
       {json::array({"234567", "345678"})},
       {json::array({234567}), "234567"}},
      {"expectLock state", step(R"({"do":"expectLock","lock":"Front door","state":3})"),
       "/steps/1/state", d + "step_expectLock/properties/state"},
      {"expectLock codes",
       step(R"({"do":"expectLock","lock":"Front door","codes":[]})"),
       "/steps/1/codes",
       d + "step_expectLock/properties/codes",
       {json::array({234567})},
       {json::array({"234567"}), 234567}},
      {"expectOutbox pending", step(R"({"do":"expectOutbox","lock":"Front door","pending":0})"),
       "/steps/1/pending", d + "step_expectOutbox/properties/pending"},
      {"expectWebhooks type",
       entry,
       "/expectWebhooks/Front door/0/type",
       d + "webhookEntry/properties/type",
       {},
       {"deviceEventOther", ""}},
      {"expectWebhooks actionId",
       entry,
       "/expectWebhooks/Front door/0/actionId",
       d + "webhook_actionId",
       {"@a1"},
       {"a1", "@", "", 1}},
      {"expectWebhooks content.actionId",
       set(entry, "/expectWebhooks/Front door/0/content", json::object()),
       "/expectWebhooks/Front door/0/content/actionId",
       d + "webhook_actionId",
       {"@a1"},
       {"a1", "@"}},
  };
  for (const auto& f : fields) {
    SCOPED_TRACE(f.label);
    const json& s = schemaAt(f.schemaAt);
    std::vector<json> good = f.good, bad = f.bad;
    if (s.contains("enum"))
      for (const auto& e : s["enum"])
        good.push_back(e);
    if (s.contains("minimum")) {
      good.push_back(s["minimum"]);
      bad.push_back(s["minimum"].get<int64_t>() - 1);
    }
    if (s.contains("maximum")) {
      good.push_back(s["maximum"]);
      bad.push_back(s["maximum"].get<int64_t>() + 1);
    }
    EXPECT_FALSE(good.empty() || bad.empty()) << "nothing to try";
    for (const auto& g : good)
      EXPECT_TRUE(BothAccept(set(f.doc, f.at, g))) << f.at << " = " << g.dump();
    for (const auto& b : bad)
      EXPECT_TRUE(BothRefuse(set(f.doc, f.at, b))) << f.at << " = " << b.dump();
  }
}

// ---------------------------------------------------------------------------------------------
// Files both refuse, and files both accept

TEST(SchemaAgreement, DeliberatelyInvalidFilesAreRefusedByBoth) {
  auto step = [](const char* text) { return withStep(json::parse(text)); };
  std::vector<json> codes = json::array();
  for (int i = 0; codes.size() < 101; ++i) {  // 101 distinct codes, each valid on its own
    int n = 311111, k = i;
    for (int place = 1; k > 0; place *= 10, k /= 9)
      n += (k % 9) * place;
    codes.push_back({{"name", "C" + std::to_string(i)}, {"code", n}});
  }
  const std::vector<std::pair<std::string, json>> cases = {
      // unknown keys
      {"unknown top-level key", set(base(), "/steps2", json::array())},
      {"a $schema key", set(base(), "/$schema", "./scenario.schema.json")},
      {"unknown settings key", set(base(), "/settings", {{"model", "3.0"}})},
      {"unknown lock key", set(base(), "/locks/0/colour", "red")},
      {"unknown step do", step(R"({"do":"unlock","lock":"Front door"})")},
      {"a step without do", step(R"({"lock":"Front door"})")},
      {"do of the wrong type", step(R"({"do":5})")},
      {"unknown key in a step", step(R"({"do":"advance","seconds":5,"lock":"Front door"})")},
      {"expect on a world event",
       step(R"({"do":"offline","lock":"Front door","expect":{"status":200}})")},
      {"a failing status on receiverUp", step(R"({"do":"receiverUp","status":503})")},
      {"fault probability", step(R"({"do":"fault","fault":{"status":500,"probability":0.5}})")},
      {"fault latencyMs", step(R"({"do":"fault","fault":{"latencyMs":100}})")},
      // wrong types
      {"name a number", set(base(), "/name", 5)},
      {"empty name", set(base(), "/name", "")},
      {"description null", set(base(), "/description", nullptr)},
      {"locks an object", set(base(), "/locks", json::object())},
      {"steps an object", set(base(), "/steps", json::object())},
      {"a step a string", set(base(), "/steps/0", "setLocked")},
      {"tags of numbers", set(base(), "/tags", json::array({1}))},
      {"rules a string", set(base(), "/rules", "K1")},
      {"seed negative", set(base(), "/seed", -1)},
      {"nukiWebhooks a string", set(base(), "/adapter", {{"nukiWebhooks", "no"}})},
      {"online a string", set(base(), "/locks/0/online", "yes")},
      {"codes an object", set(base(), "/locks/0/codes", json::object())},
      {"parameters.lock a string", set(base(), "/steps/0/parameters/lock", "true")},
      {"parameters an array", set(base(), "/steps/0/parameters", json::array())},
      {"lock a number", set(base(), "/steps/0/lock", 5)},
      {"empty lock name", set(base(), "/steps/0/lock", "")},
      {"as empty", set(base(), "/steps/0/as", "")},
      {"idempotencyKey a number", set(base(), "/steps/0/idempotencyKey", 5)},
      {"seconds a string", step(R"({"do":"advance","seconds":"10"})")},
      {"isLocked a string", step(R"({"do":"expectDevice","lock":"Front door","isLocked":"true"})")},
      {"fault a number", step(R"({"do":"fault","fault":5})")},
      {"expectWebhooks an array", set(base(), "/expectWebhooks", json::array())},
      {"a device's webhooks an object",
       set(base(), "/expectWebhooks", {{"Front door", json::object()}})},
      {"a webhook entry a string",
       set(base(), "/expectWebhooks", {{"Front door", json::array({"x"})}})},
      {"content an array",
       set(base(), "/expectWebhooks",
           json::parse(R"({"Front door":[{"type":"deviceEventConfig","content":[]}]})"))},
      // missing and empty
      {"no locks", set(base(), "/locks", json::array())},
      {"101 codes on a lock", set(base(), "/locks/0/codes", codes)},
      {"empty action expect", set(base(), "/steps/0/expect", json::object())},
      {"empty keypad expect",
       step(R"({"do":"keypad","lock":"Front door","code":234567,"expect":{}})")},
      {"expectDevice with nothing to check", step(R"({"do":"expectDevice","lock":"Front door"})")},
      {"expectLock with nothing to check", step(R"({"do":"expectLock","lock":"Front door"})")},
      {"expectOutbox with nothing to check", step(R"({"do":"expectOutbox","lock":"Front door"})")},
      {"empty fault methods", step(R"({"do":"fault","fault":{"status":500,"methods":[]}})")},
      // fields that go together, or not
      {"fault with no effect", step(R"({"do":"fault","fault":{"route":"/smartlock"}})")},
      {"fault with two effects", step(R"({"do":"fault","fault":{"status":500,"reset":true}})")},
      {"fault reset false", step(R"({"do":"fault","fault":{"reset":false}})")},
      {"retryAfter with 500", step(R"({"do":"fault","fault":{"status":500,"retryAfter":5}})")},
      {"retryAfter without status",
       step(R"({"do":"fault","fault":{"reset":true,"retryAfter":5}})")},
      {"until and forSeconds",
       step(
           R"({"do":"fault","fault":{"status":500,"until":"2025-01-02T00:00:00Z","forSeconds":5}})")},
      {"advanceTo time and localTime",
       step(R"({"do":"advanceTo","time":"2025-01-02T00:00:00Z","localTime":"03:00"})")},
      {"advanceTo time with lock",
       step(R"({"do":"advanceTo","time":"2025-01-02T00:00:00Z","lock":"Front door"})")},
      {"advanceTo localTime without lock", step(R"({"do":"advanceTo","localTime":"03:00"})")},
      {"advanceTo lock only", step(R"({"do":"advanceTo","lock":"Front door"})")},
      {"advanceTo nothing", step(R"({"do":"advanceTo"})")},
      {"bridgeId on a 3.0 Pro", set(base(), "/locks/0/bridgeId", 7)},
      {"bridgeId without a model", without(base(), "/locks/1/model")},
      {"allowedFromDate alone",
       set(base(), "/locks/0/codes",
           json::parse(
               R"([{"name":"A","code":345678,"allowedFromDate":"2025-01-01T00:00:00Z"}])"))},
      {"allowedUntilDate alone on the lock",
       step(
           R"({"do":"addCodeOnLock","lock":"Front door","name":"A","code":345678,"allowedUntilDate":"2025-01-02T00:00:00Z"})")},
      {"as on addCodeOnLock",
       step(R"({"do":"addCodeOnLock","lock":"Front door","name":"A","code":345678,"as":"x"})")},
      {"a field both flat and in content",
       set(base(), "/expectWebhooks",
           json::parse(
               R"({"Front door":[{"type":"deviceEventUpdateAction","status":"PENDING","content":{"status":"PENDING"}}]})"))},
  };
  for (const auto& [label, doc] : cases)
    EXPECT_TRUE(BothRefuse(doc)) << label;
}

TEST(SchemaAgreement, FilesTheValidatorAcceptsTheSchemaAcceptsToo) {
  auto step = [](const char* text) { return withStep(json::parse(text)); };
  const std::vector<std::pair<std::string, json>> cases = {
      {"no steps", set(base(), "/steps", json::array())},
      {"empty description and tags",
       set(set(base(), "/description", ""), "/tags", json::array({"", "x"}))},
      {"every setting",
       set(base(), "/settings", json::parse(R"({"motorSeconds":2,"deliverySeconds":0,
         "syncAt":"04:30","timezone":"Europe/Berlin","unlatchDuration":5,"lngTimeout":30,
         "batteryCharge":15})"))},
      {"an adapter that polls",
       set(base(), "/adapter", json::parse(R"({"nukiWebhooks":false,"pollSeconds":30})"))},
      {"a lock offline from the start", set(base(), "/locks/0/online", false)},
      {"a code with every field",
       set(base(), "/locks/0/codes", json::parse(R"([{"name":"Cleaner","code":456789,"as":"cleaner",
         "allowedFromDate":"2025-01-01T00:00:00Z","allowedUntilDate":"2025-02-01T00:00:00+01:00",
         "allowedWeekDays":96,"allowedFromTime":480,"allowedUntilTime":720,"enabled":false}])"))},
      {"createPin values the adapter must judge",
       step(R"({"do":"createPin","lock":"Front door","parameters":{"pinCode":234567,"name":5,
         "temporarySchedules":"x","recurringSchedules":[{}]},"expect":{"status":400}})")},
      {"updatePin with a literal id and every field",
       step(R"({"do":"updatePin","lock":"Front door","as":"u","idempotencyKey":"k1",
         "parameters":{"id":"0123","pinCode":"345678","name":"X","temporarySchedules":[],
         "recurringSchedules":[]},"expect":{"status":404,"error":"NOT_FOUND"}})")},
      {"keypad reason null",
       step(
           R"({"do":"keypad","lock":"Front door","code":234567,"expect":{"granted":true,"reason":null}})")},
      {"receiverDown without status", step(R"({"do":"receiverDown"})")},
      {"graceful restart during a webhook",
       step(R"({"do":"restartAdapter","kill":false,"during":"nextWebhook"})")},
      {"a fault with every field",
       step(R"({"do":"fault","fault":{"route":"/smartlock/*/auth","methods":["PUT","POST"],
         "status":503,"retryAfter":7,"from":"2025-01-01T00:00:00Z","until":"2025-01-02T00:00:00Z",
         "count":3}})")},
      {"a fault reset after",
       step(R"({"do":"fault","fault":{"resetAfter":true,"forSeconds":60}})")},
      {"nukiRequest bodies of any kind",
       step(
           R"({"do":"nukiRequest","lock":"Front door","method":"PUT","path":"/smartlock/{lock}/auth",
         "body":[1,"x",null],"expect":{"status":400}})")},
      {"advanceTo a local time", step(R"({"do":"advanceTo","lock":"Garage","localTime":"03:05"})")},
      {"advanceTo now", step(R"({"do":"advanceTo","time":"2025-01-01T00:00:00Z"})")},
      {"expectAction ref with @",
       step(R"({"do":"expectAction","ref":"@a1","status":"PENDING","reason":"x"})")},
      {"expectDevice every field",
       step(R"({"do":"expectDevice","lock":"Front door","isLocked":false,"isJammed":false,
         "isOnline":true,"percentage":100,"batteryStatus":"NORMAL","pinCodes":[]})")},
      {"expectLock and expectOutbox every field",
       set(step(R"({"do":"expectLock","lock":"Front door","state":3,"online":true,"codes":[]})"),
           "/steps/2",
           json::parse(R"({"do":"expectOutbox","lock":"Front door","pending":0,"parked":false})"))},
      {"expectWebhooks flat and nested",
       set(base(), "/expectWebhooks", json::parse(R"({"Front door":[
         {"type":"deviceEventQueueAction","actionId":"@a1","actionName":"setLocked",
          "traitName":"LOCK","actionParameters":{"lock":true}},
         {"type":"deviceEventUpdateAction","content":{"actionId":"@a1","status":"PENDING"}},
         {"type":"deviceEventSetState","fieldName":"isLocked","content":{"value":true,"actionId":"@a1"}},
         {"type":"deviceEventConfig","traits":{},"reason":null,"status":1}],
         "Garage":[]})"))},
  };
  for (const auto& [label, doc] : cases)
    EXPECT_TRUE(BothAccept(doc)) << label;
}

}  // namespace
}  // namespace nukihil::test
