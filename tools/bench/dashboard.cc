// Benchmark: the nukisim dashboard on a large fleet in headless Chromium. Starts nukisim --ui
// with a generated fleet (100,000 locks by default), signs in through the page, then measures
//   - first paint: from navigation start to the frame that first shows the fleet's cards
//     (the page's 'fleet-first-paint' mark), over several loads;
//   - search: from the keystroke to the frame that shows the matches (the page's 'search'
//     measure), over several queries.
// Prints the numbers and exits 1 if the median misses its target (1 s; 200 ms).
//   build/release/tools/bench-dashboard [--locks 100000] [--loads 5]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "scenarios/child_process.h"
#include "tests/support/devtools.h"

using nlohmann::json;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench-dashboard: first paint and search of the nukisim dashboard in headless "
      "Chromium, on a large generated fleet"};
  int64_t locks = 100000;
  int loads = 5;
  std::string nukisim = NUKISIM_BINARY;
  double paintTarget = 1000, searchTarget = 200;
  app.add_option("--locks", locks, "locks in the fleet (10 accounts)")->capture_default_str();
  app.add_option("--loads", loads, "page loads measured")->capture_default_str();
  app.add_option("--nukisim", nukisim, "the nukisim binary")->capture_default_str();
  app.add_option("--paint-target-ms", paintTarget)->capture_default_str();
  app.add_option("--search-target-ms", searchTarget)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!nukihil::test::chromiumInstalled()) {
    std::cerr << "bench-dashboard: " << nukihil::test::kChromiumPath
              << " is missing (tools/setup-debian.sh installs it)\n";
    return 2;
  }

  const std::string fleetFile = "/tmp/bench-dashboard-fleet.json";
  {
    json fleet = {
        {"generate", {{"accounts", 10}, {"locksPerAccount", locks / 10}, {"model", "mixed"}}}};
    std::ofstream(fleetFile) << fleet.dump();
  }
  const std::string token = "bench-dashboard-admin-token";
  nukihil::scenarios::ChildProcess sim;
  std::cerr << "starting nukisim with " << locks << " locks…\n";
  const json banner = json::parse(
      sim.start({nukisim, "--ui", "--port", "0", "--admin-token", token, "--fleet", fleetFile}));
  const std::string url = banner["url"];
  std::cerr << "nukisim at " << url << "; opening the dashboard\n";

  nukihil::test::Chromium page;
  page.open(url + "/sim/ui");
  if (!page.waitFor("!document.getElementById('login').hidden")) {
    std::cerr << "no sign-in form\n";
    return 1;
  }
  page.eval("document.getElementById('token').value = " + json(token).dump() +
            "; document.getElementById('login-form').requestSubmit(); true");
  if (!page.waitFor("document.querySelectorAll('#cards .card').length > 0",
                    std::chrono::seconds(30))) {
    std::cerr << "no fleet after signing in\n";
    return 1;
  }

  std::vector<double> paints;
  for (int i = 0; i < loads; ++i) {
    page.open(url + "/sim/ui");
    if (!page.waitFor("performance.getEntriesByName('fleet-first-paint').length > 0",
                      std::chrono::seconds(30))) {
      std::cerr << "load " << i << ": the fleet never showed\n";
      return 1;
    }
    paints.push_back(
        page.eval("performance.getEntriesByName('fleet-first-paint')[0].startTime").get<double>());
  }

  std::vector<double> searches;
  const std::vector<std::string> queries = {"lock 9", "lock 4242",  "lock 77", "zz-no-match",
                                            "lock 1", "lock 99999", "lock 5",  "lock 31"};
  for (const auto& q : queries) {
    page.eval(
        "(() => { performance.clearMeasures('search'); const s = document.getElementById('search');"
        "s.value = " +
        json(q).dump() + "; s.dispatchEvent(new Event('input')); return true; })()");
    if (!page.waitFor("performance.getEntriesByName('search').length > 0",
                      std::chrono::seconds(30))) {
      std::cerr << "search " << q << ": no result shown\n";
      return 1;
    }
    searches.push_back(
        page.eval("performance.getEntriesByName('search')[0].duration").get<double>());
  }
  const std::string count =
      page.eval("document.getElementById('count').textContent").get<std::string>();

  const double paint = median(paints), search = median(searches);
  std::cout << "dashboard, " << locks << " locks: first paint median " << paint << " ms (max "
            << *std::max_element(paints.begin(), paints.end()) << ", " << loads << " loads; target "
            << paintTarget << "); search median " << search << " ms (max "
            << *std::max_element(searches.begin(), searches.end()) << ", " << queries.size()
            << " queries; target " << searchTarget << ")\n";
  std::cout << "last search shows: " << count << "\n";
  for (const auto& e : page.errors())
    std::cout << "page error: " << e << "\n";
  return paint <= paintTarget && search <= searchTarget && page.errors().empty() ? 0 : 1;
}
