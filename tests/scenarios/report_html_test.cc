// The HTML report as text, without a browser: self-contained (no URL it would load, the CSP
// meta), the run data embedded so that nothing in it can end its <script> element, and run
// text never written as markup. report_browser_test.cc opens the same fixture in Chromium.
#include "scenarios/report_html.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <regex>
#include <string>

namespace nukihil::test {

using nlohmann::json;

namespace {

constexpr int64_t kStart = 1740823200000;  // 2025-03-01T10:00:00Z
constexpr int64_t kSecond = 1000, kHour = 3600 * kSecond;

std::string typeOf(const std::string& text) {
  return "deviceEvent" + text.substr(0, text.find(' '));
}

json expectedHook(int64_t atMs, const std::string& text, const std::string& rule, json step) {
  return {{"atMs", atMs}, {"text", text}, {"rule", rule}, {"step", step}, {"type", typeOf(text)}};
}

json observedHook(int64_t atMs, const std::string& text, int id) {
  return {{"atMs", atMs},
          {"text", text},
          {"id", "msg_" + std::to_string(1000 + id)},
          {"type", typeOf(text)}};
}

json step(int index, const std::string& verb, int64_t atMs, const std::string& text, json answer,
          bool ok = true, const std::string& note = "") {
  return {{"index", index},      {"label", "steps[" + std::to_string(index) + "] (" + verb + ")"},
          {"atMs", atMs},        {"lock", "Front door"},
          {"text", text},        {"answer", answer},
          {"predicted", answer}, {"ok", ok},
          {"note", note}};
}

// Three discovery webhooks every lock sends (R-DISCOVER).
json discovery(int64_t atMs, int battery) {
  return json::array(
      {expectedHook(atMs, "Config", "R-DISCOVER", nullptr),
       expectedHook(atMs, "SetState LOCK.lockState=LOCKED", "R-DISCOVER", nullptr),
       expectedHook(atMs, "SetState BATTERY_LEVEL.batteryLevel=" + std::to_string(battery),
                    "R-DISCOVER", nullptr)});
}

// What the receiver got when it got exactly what was expected.
json observedAsExpected(const json& expected) {
  json observed = json::array();
  for (const auto& e : expected)
    observed.push_back(observedHook(e["atMs"], e["text"], int(observed.size())));
  return observed;
}

json failedScenario() {
  const std::string pins =
      "SetState BETA_PIN_CODE_CREDENTIALS.pinCodeCredentials=[234567,345678] "
      "@guest";
  json frontExpected = discovery(kStart, 80);
  const json more = {
      expectedHook(kStart, "SetState BETA_CONNECTIVITY.status=OFFLINE", "R-CONN", 0),
      expectedHook(kStart + 2 * kSecond, "QueueAction createPin @guest", "R-PIN-ACCEPTED", 1),
      expectedHook(kStart + 3 * kSecond, "QueueAction createPin @cleaner", "R-PIN-ACCEPTED", 2),
      expectedHook(kStart + kHour, "SetState BETA_CONNECTIVITY.status=ONLINE", "R-CONN", 3),
      expectedHook(kStart + kHour + 5 * kSecond, "UpdateAction RESOLVED @guest", "R-PIN-ACCEPTED",
                   3),
      expectedHook(kStart + kHour + 10 * kSecond, "UpdateAction RESOLVED @cleaner",
                   "R-PIN-ACCEPTED", 3),
      expectedHook(kStart + 17 * kHour, pins, "R-PIN-ACCEPTED", 5),
      expectedHook(kStart + 18 * kHour + 3 * kSecond, "SetState LOCK.lockState=UNLOCKED",
                   "R-ACT-ONLINE", 6)};
  frontExpected.insert(frontExpected.end(), more.begin(), more.end());
  // The receiver got 0..8 as expected, then a second RESOLVED before the code list (index 9);
  // the UNLOCKED SetState never left the outbox.
  json frontObserved = observedAsExpected(json(frontExpected.begin(), frontExpected.begin() + 9));
  frontObserved.push_back(observedHook(kStart + 17 * kHour, "UpdateAction RESOLVED @guest", 9));
  frontObserved.push_back(observedHook(kStart + 17 * kHour, pins, 10));
  const json undelivered = {{{"atMs", kStart + 18 * kHour + 3 * kSecond},
                             {"text", "SetState LOCK.lockState=UNLOCKED"},
                             {"type", "deviceEventSetState"}}};
  const json backExpected = discovery(kStart, 64);

  return {
      {"name", "offline create is delivered on reconnect"},
      {"file", "scenarios/suites/pins/offline_create.json"},
      {"suite", "pins"},
      {"verdict", "failed"},
      {"seed", 7},
      {"wallMs", 120},
      {"startMs", kStart},
      {"endMs", kStart + 18 * kHour + 5 * 60 * kSecond},
      {"message", "Front door #9: expected the synced code list, observed a second RESOLVED"},
      {"replay", "nukihil run scenarios/suites/pins/offline_create.json --seed 7"},
      {"replayed", true},
      {"divergence",
       {{"lock", "Front door"},
        {"index", 9},
        {"rule", "R-PIN-ACCEPTED"},
        {"message",
         "the receiver got a second UpdateAction RESOLVED where the model expects the "
         "synced code list"},
        {"expected", pins},
        {"observed", "UpdateAction RESOLVED @guest"},
        {"steps", {"steps[1] (createPin)", "steps[5] (advanceTo)"}}}},
      {"problems", json::array()},
      {"branches",
       {"steps[4] (keypad): the code may or may not have reached the lock before the keypad "
        "entry; both outcomes accepted"}},
      {"steps",
       {step(0, "offline", kStart, "offline Front door", {{"status", 200}}),
        step(1, "createPin", kStart + 2 * kSecond, "createPin Front door guest 234567",
             {{"status", 202}}),
        step(2, "createPin", kStart + 3 * kSecond, "createPin Front door cleaner 345678",
             {{"status", 202}}),
        step(3, "online", kStart + kHour, "online Front door", {{"status", 200}}),
        step(4, "keypad", kStart + kHour + 5 * kSecond, "keypad Front door 234567",
             {{"result", "UNLOCKED"}}),
        step(5, "advanceTo", kStart + 17 * kHour, "advanceTo 2025-03-02T03:00:00Z",
             {{"status", 200}}),
        step(6, "unlock", kStart + 18 * kHour, "unlock Front door", {{"status", 202}}),
        step(7, "advanceTo", kStart + 18 * kHour + 5 * 60 * kSecond, "advanceTo +5m",
             {{"status", 200}}, false, "1 webhook still in the outbox")}},
      {"devices",
       {{{"lock", "Front door"},
         {"deviceId", "17179869185"},
         {"expected", frontExpected},
         {"observed", frontObserved},
         {"undelivered", undelivered},
         {"divergenceIndex", 9}},
        {{"lock", "Back door"},
         {"deviceId", "17179869186"},
         {"expected", backExpected},
         {"observed", observedAsExpected(backExpected)},
         {"undelivered", json::array()}}}},
      {"coverage", {{"R-DISCOVER", 2}, {"R-CONN", 2}, {"R-PIN-ACCEPTED", 5}, {"R-ACT-ONLINE", 1}}}};
}

json passedScenario() {
  json expected = discovery(kStart, 100);
  const json more = {
      expectedHook(kStart + kSecond, "QueueAction unlock", "R-ACT-ONLINE", 0),
      expectedHook(kStart + 4 * kSecond, "UpdateAction RESOLVED", "R-ACT-ONLINE", 0),
      expectedHook(kStart + 4 * kSecond, "SetState LOCK.lockState=UNLOCKED", "R-ACT-ONLINE", 0)};
  expected.insert(expected.end(), more.begin(), more.end());
  json steps = {
      step(0, "unlock", kStart + kSecond, "unlock Hall", {{"status", 202}}),
      step(1, "createPin", kStart + 2 * kSecond, "createPin Hall guest 1234", {{"status", 400}}),
      step(2, "advanceTo", kStart + 11 * kSecond, "advanceTo +10s", {{"status", 200}})};
  for (auto& s : steps)
    s["lock"] = "Hall";
  return {{"name", "unlock an online lock; a five-digit code is refused"},
          {"file", "scenarios/suites/actions/online_unlock.json"},
          {"suite", "actions"},
          {"verdict", "passed"},
          {"seed", 7},
          {"wallMs", 40},
          {"startMs", kStart},
          {"endMs", kStart + 11 * kSecond},
          {"message", ""},
          {"replay", "nukihil run scenarios/suites/actions/online_unlock.json --seed 7"},
          {"steps", steps},
          {"devices",
           {{{"lock", "Hall"},
             {"deviceId", "17179869187"},
             {"expected", expected},
             {"observed", observedAsExpected(expected)},
             {"undelivered", json::array()}}}},
          {"coverage", {{"R-DISCOVER", 1}, {"R-ACT-ONLINE", 1}, {"K1", 3}}}};
}

// The name of the errored scenario, and one of its problems: markup that must stay text.
constexpr const char* kMarkupName = "Receiver <b>down</b> \"503\"";
constexpr const char* kScriptProblem = "adapter stderr: </script><!--<script>alert(1)</script>";

}  // namespace

// The fixture run (report_browser_test.cc opens it too): three scenarios, one failed with a
// divergence on "Front door" (index 9, a webhook missing and one unexpected, one undelivered),
// one passed, one error before any device with markup in its name and problems; seven rules,
// R-MANUAL never exercised.
json reportFixture() {
  json error = {{"name", kMarkupName},
                {"file", "scenarios/suites/delivery/receiver_down.json"},
                {"suite", "delivery"},
                {"verdict", "error"},
                {"seed", 7},
                {"wallMs", 5},
                {"message", "the adapter exited before the first step"},
                {"replay", "nukihil run scenarios/suites/delivery/receiver_down.json --seed 7"},
                {"problems", {kScriptProblem, "no lock was discovered"}},
                {"devices", json::array()},
                {"steps", json::array()}};
  auto rule = [](const char* id, const char* title, int exercised, int intended) {
    return json{{"id", id}, {"title", title}, {"exercised", exercised}, {"intended", intended}};
  };
  json rules = {rule("K1", "Exactly six digits", 3, 2),
                rule("R-DISCOVER", "A newly discovered lock", 3, 2),
                rule("R-CONN", "Connectivity changes", 2, 1),
                rule("R-PIN-ACCEPTED", "A valid PIN create, update or delete", 5, 1),
                rule("R-PIN-SYNC", "One sync that explains several changes", 1, 1),
                rule("R-ACT-ONLINE", "Lock or unlock on an online, free lock", 2, 1),
                rule("R-MANUAL", "Keypad or knob moves the lock", 0, 1)};
  rules[0]["link"] = "docs/rules.md#K1";
  return {{"tool", "nukihil"},
          {"version", "0.1.0"},
          {"generatedAt", "2026-12-01T20:00:00Z"},
          {"command", "nukihil run scenarios/suites --html report.html"},
          {"seed", 7},
          {"rulesDoc", "docs/rules.md"},
          {"summary",
           {{"scenarios", 3},
            {"passed", 1},
            {"failed", 1},
            {"errors", 1},
            {"skipped", 0},
            {"wallSeconds", 1.25}}},
          {"rules", rules},
          {"scenarios", {failedScenario(), passedScenario(), error}}};
}

namespace {

constexpr const char* kDataStart = "<script type=\"application/json\" id=\"run-data\">";

// The page without the embedded run data, and the data alone.
struct Split {
  std::string outside, data;
};
Split splitPage(const std::string& page) {
  const auto begin = page.find(kDataStart);
  if (begin == std::string::npos) return {page, ""};
  const auto from = begin + std::string(kDataStart).size();
  const auto end = page.find("</script>", from);
  if (end == std::string::npos) return {page.substr(0, begin), page.substr(from)};
  return {page.substr(0, begin) + page.substr(end), page.substr(from, end - from)};
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(ReportHtml, IsSelfContained) {
  const std::string page = scenarios::renderHtmlReport(reportFixture());
  EXPECT_NE(page.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"),
            std::string::npos);
  // Nothing the page would load: no absolute or protocol-relative URL in src or href, no
  // external script or style sheet, no CSS url() or @import.
  const std::regex remote(R"re(\b(src|href)\s*=\s*["']?\s*(https?:)?//)re", std::regex::icase);
  EXPECT_FALSE(std::regex_search(page, remote));
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("stylesheet"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<svg"), std::string::npos)
      << "an inline <svg> gives the script its namespace";
}

TEST(ReportHtml, EmbedsTheRunSoThatItCannotEndTheScriptElement) {
  const json run = reportFixture();
  const std::string page = scenarios::renderHtmlReport(run);
  // Three script elements (error recorder, data, renderer), each closed exactly once; the data
  // holds "<script" (harmless without "<!--" before it and "</" after it).
  EXPECT_EQ(count(page, "</script>"), 3u);
  EXPECT_EQ(count(splitPage(page).outside, "<script"), 2u) << "outside the data element";
  EXPECT_EQ(page.find("<!--"), std::string::npos);
  EXPECT_NE(page.find(R"(<\/script><\u0021--<script>alert(1)<\/script>)"), std::string::npos);
  // The escapes are JSON: the data parses back to the run.
  const Split split = splitPage(page);
  EXPECT_EQ(json::parse(split.data), run);
}

TEST(ReportHtml, WritesTextFromTheRunOnlyAsData) {
  const std::string page = scenarios::renderHtmlReport(reportFixture());
  const Split split = splitPage(page);
  // The name with markup and quotes is only in the data, JSON-escaped.
  EXPECT_NE(split.data.find(R"("Receiver <b>down<\/b> \"503\"")"), std::string::npos);
  EXPECT_EQ(split.outside.find("<b>"), std::string::npos);
  EXPECT_EQ(split.outside.find("503"), std::string::npos);
  EXPECT_EQ(split.outside.find("alert(1)"), std::string::npos);
  // The script builds the DOM from text nodes and attributes only.
  for (const char* sink :
       {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"})
    EXPECT_EQ(split.outside.find(sink), std::string::npos) << sink;
}

TEST(ReportHtml, RendersAnyJsonValue) {
  const json odd[] = {
      json(),
      json::array(),
      json("just text"),
      json::object(),
      json{{"scenarios", {nullptr, 1, "x", json::object(), {{"devices", "none"}}}}},
      json{{"rules", {{{"id", "K1"}}}}, {"summary", "none"}},
  };
  for (const auto& run : odd) {
    const std::string page = scenarios::renderHtmlReport(run);
    EXPECT_EQ(json::parse(splitPage(page).data), run) << run.dump();
    EXPECT_NE(page.find("</html>"), std::string::npos);
  }
  // Invalid UTF-8 from a lock name or an answer body is replaced, not thrown on.
  const json broken = {{"command", std::string("nukihil \xff\xfe run")}};
  const std::string page = scenarios::renderHtmlReport(broken);
  EXPECT_EQ(json::parse(splitPage(page).data)["command"], "nukihil \xEF\xBF\xBD\xEF\xBF\xBD run");
}

}  // namespace
}  // namespace nukihil::test
