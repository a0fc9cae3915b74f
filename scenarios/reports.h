// What a run of scenarios leaves behind for people and CI: the run report as JSON (also the
// data of the HTML report), JUnit XML as GitLab and Jenkins read it, and the terminal summary.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "scenarios/runner.h"

namespace nukihil::scenarios {

struct RunSummary {
  std::string command;  // the command line, for the report
  uint64_t seed = 0;
  double wallSeconds = 0;
  // Where the report's rule links point: the rules document of the sources nukihil was built
  // from (file://…) while it is there, else the path inside the repository.
  std::string rulesDoc = defaultRulesDoc();
  static std::string defaultRulesDoc();
};

// The run as JSON (the input of renderHtmlReport; schema in scenarios/report_html.h).
nlohmann::json runReportJson(const std::vector<ScenarioResult>& results, const RunSummary& run);

// JUnit XML: one <testsuite> per suite folder, one <testcase> per scenario (classname the
// suite, name the scenario, file its path, time), <failure> for a divergence, <error> for a
// scenario that could not run, <skipped/>; the divergence and the command that replays it in
// <system-out>.
std::string junitXml(const std::vector<ScenarioResult>& results, const RunSummary& run);

// The failure as a person reads it on a terminal: rule, divergence, steps, replay command.
std::string failureText(const ScenarioResult& r);

}  // namespace nukihil::scenarios
