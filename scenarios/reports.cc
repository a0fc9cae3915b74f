#include "scenarios/reports.h"

#include <filesystem>
#include <map>
#include <sstream>

#include "scenarios/model/scenario.h"

namespace nukihil::scenarios {

using nlohmann::json;

namespace {

json webhookJson(const model::ExpectedWebhook& e) {
  json j{{"atMs", e.atMs}, {"text", e.describe()}, {"rule", e.rule}, {"type", e.type}};
  j["step"] = e.step == SIZE_MAX ? json(nullptr) : json(e.step);
  return j;
}

json observedJson(const ObservedWebhook& o) {
  return json{{"atMs", o.occurredMs}, {"text", o.describe()}, {"id", o.id}, {"type", o.type}};
}

std::string xmlEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 has no place for other control characters.
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
          out += "?";
        else
          out += char(c);
    }
  }
  return out;
}

std::string seconds(double ms) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(3);
  s << ms / 1000.0;
  return s.str();
}

}  // namespace

std::string failureText(const ScenarioResult& r) {
  std::ostringstream s;
  s << r.message << "\n";
  if (r.divergence) {
    const Divergence& d = *r.divergence;
    if (!d.lock.empty()) s << "  device:   " << d.lock << ", webhook " << d.index + 1 << "\n";
    s << "  rule:     " << d.rule << " — " << ruleTitle(d.rule) << " (docs/rules.md#" << d.rule
      << ")\n";
    if (d.expected)
      s << "  expected: " << d.expected->describe() << "  [" << d.expected->rule << "]\n";
    else if (!d.lock.empty())
      s << "  expected: nothing more\n";
    if (d.observed)
      s << "  observed: " << d.observed->describe()
        << (d.observed->pending ? " (in the outbox)" : "") << "\n";
    else if (!d.lock.empty())
      s << "  observed: nothing\n";
  }
  if (!r.divergenceSteps.empty()) {
    s << "  steps that led there:\n";
    for (const auto& st : r.divergenceSteps)
      s << "    " << st << "\n";
  }
  for (size_t i = 1; i < r.problems.size(); ++i)
    s << "  also: " << r.problems[i] << "\n";
  for (const auto& b : r.branches)
    s << "  branch: " << b << "\n";
  for (const auto& c : r.skippedChecks)
    s << "  skipped check: " << c << "\n";
  for (const auto& f : r.serviceFindings)
    s << "  the service departs from SPEC: " << f << "\n";
  if (r.target != "embedded") {
    s << "  a live run on " << r.target << " (the wall clock, real locks): not replayed\n";
    return s.str();
  }
  if (r.replayed) s << "  replayed once with the same seed: the same failure\n";
  s << "  seed " << r.seed << "; replay: " << r.replay << "\n";
  return s.str();
}

std::string RunSummary::defaultRulesDoc() {
  const std::filesystem::path built = std::filesystem::path(NUKIHIL_SOURCE_DIR) / "docs/rules.md";
  std::error_code ec;
  if (std::filesystem::is_regular_file(built, ec)) return "file://" + built.string();
  return "docs/rules.md";
}

json runReportJson(const std::vector<ScenarioResult>& results, const RunSummary& run) {
  json j;
  j["tool"] = "nukihil";
  j["version"] = "0.1.0";
  j["command"] = run.command;
  j["seed"] = run.seed;
  j["rulesDoc"] = run.rulesDoc;
  size_t passed = 0, failed = 0, errors = 0, skipped = 0;
  std::map<std::string, int> exercised, intended;
  for (const auto& r : results) {
    switch (r.verdict) {
      case Verdict::kPassed:
        ++passed;
        break;
      case Verdict::kFailed:
        ++failed;
        break;
      case Verdict::kError:
        ++errors;
        break;
      case Verdict::kSkipped:
        ++skipped;
        break;
    }
    for (const auto& [rule, n] : r.coverage)
      exercised[rule] += n;
    for (const auto& rule : r.intended)
      ++intended[rule];
  }
  j["summary"] = {{"scenarios", results.size()},
                  {"passed", passed},
                  {"failed", failed},
                  {"errors", errors},
                  {"skipped", skipped},
                  {"wallSeconds", run.wallSeconds}};
  json rules = json::array();
  for (const auto& id : model::allRuleIds())
    rules.push_back({{"id", id},
                     {"title", ruleTitle(id)},
                     {"exercised", exercised[id]},
                     {"intended", intended[id]},
                     {"link", run.rulesDoc + "#" + id}});
  j["rules"] = rules;
  json scenarios = json::array();
  for (const auto& r : results) {
    json s;
    s["name"] = r.name;
    s["file"] = r.file;
    s["suite"] = r.suite;
    s["verdict"] = verdictName(r.verdict);
    s["seed"] = r.seed;
    s["wallMs"] = r.wallMs;
    s["startMs"] = r.startMs;
    s["endMs"] = r.endMs;
    s["message"] = r.message;
    s["replay"] = r.replay;
    s["replayed"] = r.replayed;
    if (r.divergence) {
      const Divergence& d = *r.divergence;
      s["divergence"] = {{"lock", d.lock},
                         {"index", d.index},
                         {"rule", d.rule},
                         {"message", d.message},
                         {"expected", d.expected ? d.expected->describe() : ""},
                         {"observed", d.observed ? d.observed->describe() : ""},
                         {"steps", r.divergenceSteps}};
    }
    s["problems"] = r.problems;
    s["branches"] = r.branches;
    s["target"] = r.target;
    if (!r.skippedChecks.empty()) s["skippedChecks"] = r.skippedChecks;
    if (!r.notCleanedUp.empty()) s["notCleanedUp"] = r.notCleanedUp;
    if (!r.serviceFindings.empty()) s["serviceFindings"] = r.serviceFindings;
    if (!r.calibration.is_null()) s["calibration"] = r.calibration;
    json steps = json::array();
    for (const auto& st : r.steps)
      steps.push_back({{"index", st.index},
                       {"label", st.label},
                       {"atMs", st.atMs},
                       {"lock", st.lock},
                       {"text", st.text},
                       {"answer", st.answer},
                       {"predicted", st.predicted},
                       {"ok", st.ok},
                       {"run", st.run},
                       {"note", st.note}});
    s["steps"] = steps;
    json devices = json::array();
    for (const auto& d : r.devices) {
      json dj{{"lock", d.lock}, {"deviceId", d.deviceId}};
      json e = json::array(), o = json::array(), u = json::array();
      for (const auto& w : d.expected)
        e.push_back(webhookJson(w));
      for (const auto& w : d.observed)
        o.push_back(observedJson(w));
      for (const auto& w : d.undelivered)
        u.push_back(observedJson(w));
      dj["expected"] = e;
      dj["observed"] = o;
      dj["undelivered"] = u;
      if (d.divergenceIndex) dj["divergenceIndex"] = *d.divergenceIndex;
      devices.push_back(std::move(dj));
    }
    s["devices"] = devices;
    s["coverage"] = r.coverage;
    scenarios.push_back(std::move(s));
  }
  j["scenarios"] = scenarios;
  return j;
}

std::string junitXml(const std::vector<ScenarioResult>& results, const RunSummary& run) {
  std::map<std::string, std::vector<const ScenarioResult*>> suites;
  size_t failures = 0, errors = 0, skipped = 0;
  for (const auto& r : results) {
    suites[r.suite].push_back(&r);
    failures += r.verdict == Verdict::kFailed;
    errors += r.verdict == Verdict::kError;
    skipped += r.verdict == Verdict::kSkipped;
  }
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"nukihil\" tests=\"" << results.size() << "\" failures=\"" << failures
    << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\""
    << seconds(run.wallSeconds * 1000) << "\">\n";
  for (const auto& [suite, list] : suites) {
    size_t f = 0, e = 0, sk = 0;
    double ms = 0;
    for (const auto* r : list) {
      f += r->verdict == Verdict::kFailed;
      e += r->verdict == Verdict::kError;
      sk += r->verdict == Verdict::kSkipped;
      ms += r->wallMs;
    }
    x << "  <testsuite name=\"" << xmlEscape(suite) << "\" tests=\"" << list.size()
      << "\" failures=\"" << f << "\" errors=\"" << e << "\" skipped=\"" << sk << "\" time=\""
      << seconds(ms) << "\">\n";
    for (const auto* r : list) {
      x << "    <testcase classname=\"" << xmlEscape(suite) << "\" name=\"" << xmlEscape(r->name)
        << "\" file=\"" << xmlEscape(r->file) << "\" time=\"" << seconds(r->wallMs) << "\">\n";
      const std::string type = r->divergence ? r->divergence->rule : std::string("nukihil");
      if (r->verdict == Verdict::kFailed)
        x << "      <failure message=\"" << xmlEscape(r->message) << "\" type=\"" << xmlEscape(type)
          << "\">" << xmlEscape(failureText(*r)) << "</failure>\n";
      if (r->verdict == Verdict::kError)
        x << "      <error message=\"" << xmlEscape(r->message) << "\" type=\"scenario-error\">"
          << xmlEscape(failureText(*r)) << "</error>\n";
      if (r->verdict == Verdict::kSkipped)
        x << "      <skipped message=\"" << xmlEscape(r->message) << "\"/>\n";
      // The failure's text is in <failure>/<error> already: here only what replays it.
      x << "      <system-out>" << xmlEscape("seed " + std::to_string(r->seed) + "\n")
        << xmlEscape("replay: " + r->replay + "\n") << "</system-out>\n";
      x << "    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  return x.str();
}

}  // namespace nukihil::scenarios
