// bench-qa-suite: the QA suites in embedded mode — wall time and scenarios per second. Target:
// 30 scenarios in under 10 s on 2 cores. Each scenario runs in a fresh embedded world (nukisim,
// nuki-adapter and the recorder on loopback, one virtual clock), exactly as `nukihil run` runs
// it; the tz database is loaded before the clock starts (a once-per-process cost).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "runtime/log.h"
#include "runtime/time_zone.h"
#include "scenarios/runner.h"

using namespace nukihil;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{
      "bench-qa-suite: runs the QA suites in embedded mode and reports wall time and "
      "scenarios per second; PASS if 30 scenarios take under 10 s.",
      "bench-qa-suite"};
  std::string folder = "scenarios/suites";
  unsigned jobs = 1;
  int rounds = 3;
  double limit = 10.0;
  app.add_option("--suites", folder, "folder of scenario files")->capture_default_str();
  app.add_option("--jobs", jobs, "scenarios side by side")->capture_default_str();
  app.add_option("--rounds", rounds, "runs of the whole suite; the best counts")
      ->capture_default_str();
  app.add_option("--limit", limit, "seconds allowed for 30 scenarios")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  log::setLevel(log::Level::kError);

  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(folder))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::shared_ptr<const model::Scenario>> scenarios;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    auto r = model::parseScenario(text.str(), f);
    if (!r.scenario) {
      std::cerr << f << ": invalid: " << r.problems[0].text() << "\n";
      return 2;
    }
    scenarios.push_back(std::make_shared<model::Scenario>(std::move(*r.scenario)));
  }
  TimeZone::find("Europe/Berlin");  // the tz database, once

  double best = 1e9;
  size_t failed = 0;
  std::vector<double> perScenario(scenarios.size(), 1e9);
  for (int round = 0; round < rounds; ++round) {
    std::atomic<size_t> next{0}, bad{0};
    std::vector<double> ms(scenarios.size());
    const auto t0 = std::chrono::steady_clock::now();
    auto worker = [&] {
      for (size_t i; (i = next++) < scenarios.size();) {
        scenarios::RunOptions o;
        auto r = scenarios::runScenario(scenarios[i], o);
        ms[i] = r.wallMs;
        if (r.verdict != scenarios::Verdict::kPassed) ++bad;
      }
    };
    std::vector<std::thread> pool;
    for (unsigned j = 0; j < std::max(1u, jobs); ++j)
      pool.emplace_back(worker);
    for (auto& t : pool)
      t.join();
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, wall);
    failed = bad;
    for (size_t i = 0; i < ms.size(); ++i)
      perScenario[i] = std::min(perScenario[i], ms[i]);
    std::printf("round %d: %zu scenarios in %.2f s (%.1f scenarios/s), %zu not passed\n", round + 1,
                scenarios.size(), wall, double(scenarios.size()) / wall, size_t(bad));
  }
  std::vector<double> sorted = perScenario;
  std::sort(sorted.begin(), sorted.end());
  const double perThirty = best / double(scenarios.size()) * 30.0;
  std::printf(
      "best: %zu scenarios in %.2f s with %u job(s): %.1f scenarios/s; median %.0f ms, "
      "slowest %.0f ms per scenario\n",
      scenarios.size(), best, jobs, double(scenarios.size()) / best, sorted[sorted.size() / 2],
      sorted.back());
  std::printf("30 scenarios at that rate: %.2f s (target < %.1f s): %s\n", perThirty, limit,
              perThirty < limit && failed == 0 ? "PASS" : "FAIL");
  if (failed) std::printf("%zu scenario(s) did not pass\n", failed);
  return perThirty < limit && failed == 0 ? 0 : 1;
}
