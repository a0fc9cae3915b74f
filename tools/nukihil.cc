// nukihil: runs QA scenario files (SPEC §7) against nukisim and nuki-adapter and compares the
// adapter's platform webhooks with the spec model; records platform webhooks for developers.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "runtime/clock.h"
#include "runtime/log.h"
#include "runtime/transport.h"
#include "runtime/url_client.h"
#include "scenarios/explore.h"
#include "scenarios/hil.h"
#include "scenarios/live_run.h"
#include "scenarios/model/scenario.h"
#include "scenarios/planted_faults.h"
#include "scenarios/report_html.h"
#include "scenarios/reports.h"
#include "scenarios/runner.h"
#include "scenarios/webhook_recorder.h"
#include "tools/cli_parse.h"

namespace fs = std::filesystem;
using namespace nukihil;
using nlohmann::json;

namespace {

// Ctrl-C during a run: no new scenario starts, the running ones finish, the reports are written
// with the rest marked skipped. A second Ctrl-C ends the process at once.
std::atomic<bool> interrupted{false};
extern "C" void onInterrupt(int) {
  if (interrupted.exchange(true)) {
    static const char kAgain[] =
        "\nnukihil: interrupted again: leaving at once; nothing more is cleaned up\n";
    (void)!::write(2, kAgain, sizeof kAgain - 1);
    std::_Exit(130);
  }
  static const char kOnce[] =
      "\nnukihil: interrupted: the running scenario stops and cleans up (again: leave at once, "
      "nothing cleaned up)\n";
  (void)!::write(2, kOnce, sizeof kOnce - 1);
}

bool colour() {
  static const bool on = ::isatty(2) && !std::getenv("NO_COLOR");
  return on;
}
std::string paint(const char* code, const std::string& text) {
  return colour() ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
}
std::string badge(scenarios::Verdict v) {
  switch (v) {
    case scenarios::Verdict::kPassed:
      return paint("32", "PASS ");
    case scenarios::Verdict::kFailed:
      return paint("31;1", "FAIL ");
    case scenarios::Verdict::kError:
      return paint("35;1", "ERROR");
    case scenarios::Verdict::kSkipped:
      return paint("33", "SKIP ");
  }
  return "?";
}

// Files and folders → scenario files (*.json), in a stable order.
std::vector<std::string> collect(const std::vector<std::string>& paths,
                                 std::vector<std::string>& missing) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec))
        if (e.is_regular_file() && e.path().extension() == ".json")
          found.push_back(e.path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      missing.push_back(p);
    }
  }
  return files;
}

std::string readFile(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = bool(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool writeFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary);
  out << text;
  return bool(out);
}

struct RunArgs {
  std::vector<std::string> paths;
  std::string junit, html, json;
  std::optional<uint64_t> seed;
  std::string filter;
  unsigned jobs = 1;
  bool noReplay = false;
  bool verbose = false;
  std::string transport = "loopback";
  // Live targets (docs/hil.md).
  std::string target = "embedded";
  std::string hil, nukiUrl = "https://api.nuki.io", nukiToken, operatorFile, adapterBinary;
  std::string publicUrl, caFile;
  uint16_t adapterPort = 0;
  bool allowUnlock = false, plan = false;
  int64_t maxWait = 900;
  int checkSeconds = 30;
  std::string plant;
  std::string calibrate;              // where the fitted nukisim settings go
  std::string simUrl, simAdminToken;  // remote
};

// Validates every file; the problems, or the scenarios.
std::vector<std::shared_ptr<const model::Scenario>> validateAll(
    const std::vector<std::string>& files, std::vector<model::Problem>& problems) {
  std::vector<std::shared_ptr<const model::Scenario>> out;
  std::map<std::string, std::map<std::string, std::string>> names;  // folder → name → file
  for (const auto& f : files) {
    bool ok = false;
    const std::string text = readFile(f, ok);
    if (!ok) {
      problems.push_back(model::Problem{f, "", "", "cannot read the file", 0, 0});
      continue;
    }
    auto r = model::parseScenario(text, f);
    problems.insert(problems.end(), r.problems.begin(), r.problems.end());
    if (!r.scenario) continue;
    const std::string folder = fs::path(f).parent_path().string();
    auto [it, fresh] = names[folder].emplace(r.scenario->name, f);
    if (!fresh)
      problems.push_back(model::Problem{f, "name", "",
                                        "another scenario of this suite (" + it->second +
                                            ") has the name \"" + r.scenario->name + "\"",
                                        0, 0});
    out.push_back(std::make_shared<const model::Scenario>(std::move(*r.scenario)));
  }
  return out;
}

// How this binary was started, for the replay and reproduce lines it prints: the path it was
// run by (build/release/tools/nukihil), so that they paste as they are; plain "nukihil" when
// it was found on PATH.
std::string self = "nukihil";

// The middle value of `samples` (0 if none).
int64_t median(std::vector<int64_t> samples) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// --calibrate: the real timings beside nukisim's, on the terminal, and nukisim settings fitted to
// them in `path`.
bool writeCalibration(const std::string& path,
                      const std::vector<scenarios::ScenarioResult>& results,
                      const scenarios::LiveOptions& lo) {
  std::vector<int64_t> motor, latency;
  std::cerr << "\ncalibration: when each webhook arrived after its step, real vs nukisim\n";
  char line[512];
  std::snprintf(line, sizeof line, "  %-22s %-50s %9s %9s\n", "step", "webhook", "real", "nukisim");
  std::cerr << line;
  size_t differences = 0;
  for (const auto& r : results) {
    const json& c = r.calibration;
    if (!c.is_object()) continue;
    for (const auto& row : c["rows"]) {
      std::snprintf(line, sizeof line, "  %-22.22s %-50.50s %8.2fs %8.2fs\n",
                    row["step"].get<std::string>().c_str(),
                    row["webhook"].get<std::string>().c_str(),
                    row["realMs"].get<int64_t>() / 1000.0, row["simMs"].get<int64_t>() / 1000.0);
      std::cerr << line;
    }
    for (const auto& m : c["motorMs"])
      motor.push_back(m.get<int64_t>());
    for (const auto& m : c["latencyMs"])
      latency.push_back(m.get<int64_t>());
    for (const auto& d : c["differences"]) {
      if (!differences++) std::cerr << "  where the real and the simulated sequences differ:\n";
      std::cerr << "    " << r.file << ": " << d.get<std::string>() << "\n";
    }
  }
  // Fitted: the motor's run from the median PENDING → RESOLVED of lock actions; a code's
  // delivery cannot be seen from Nuki Web, so it stays what the HIL file says (or nukisim's).
  int deliverySeconds = 5;
  if (lo.hil)
    for (const auto& h : lo.hil->locks)
      if (h.deliverySeconds) deliverySeconds = *h.deliverySeconds;
  const int64_t m = median(motor);
  const int motorSeconds = motor.empty() ? 3 : std::max<int>(1, int((m + 500) / 1000));
  json settings{
      {"defaults", {{"motorSeconds", motorSeconds}, {"deliverySeconds", deliverySeconds}}}};
  std::cerr << "  lock actions measured: " << motor.size() << " (median PENDING → RESOLVED "
            << m / 1000.0 << " s); webhook latency median " << median(latency) << " ms over "
            << latency.size() << "\n"
            << "  fitted nukisim settings (" << path << "): motorSeconds " << motorSeconds
            << (motor.empty() ? " (nukisim's default: no lock action was measured)" : "")
            << ", deliverySeconds " << deliverySeconds
            << " (not measurable: when a code reaches the lock cannot be seen from Nuki Web)\n"
            << "  start nukisim with them: nukisim --motor-seconds " << motorSeconds
            << " --delivery-seconds " << deliverySeconds
            << ", or merge the file's defaults into a fleet file\n";
  return writeFile(path, settings.dump(2) + "\n");
}

int runCommand(const RunArgs& a, const std::string& commandLine) {
  std::vector<std::string> missing;
  const auto files = collect(a.paths, missing);
  for (const auto& m : missing)
    std::cerr << "nukihil: " << m << ": no such file or folder\n";
  if (!missing.empty()) return 2;
  if (files.empty()) {
    std::cerr << "nukihil: no scenario files (*.json) in " << a.paths.front() << "\n";
    return 2;
  }
  std::vector<model::Problem> problems;
  auto scenarios = validateAll(files, problems);
  if (!problems.empty()) {
    for (const auto& p : problems)
      std::cerr << p.text() << "\n";
    std::cerr << "nukihil: " << problems.size() << " problem" << (problems.size() == 1 ? "" : "s")
              << " in the scenario files; nothing was run\n";
    return 2;
  }
  if (!a.filter.empty()) {
    std::regex re;
    try {
      re = std::regex(a.filter);
    } catch (const std::regex_error& e) {
      std::cerr << "nukihil: --filter is not a regular expression: " << e.what() << "\n";
      return 2;
    }
    scenarios.erase(std::remove_if(scenarios.begin(), scenarios.end(),
                                   [&](const auto& s) {
                                     return !std::regex_search(s->name, re) &&
                                            !std::regex_search(s->file, re);
                                   }),
                    scenarios.end());
    if (scenarios.empty()) {
      std::cerr << "nukihil: --filter " << a.filter << " matches no scenario\n";
      return 2;
    }
  }
  const bool live = a.target == "nuki-web" || a.target == "remote";
  const bool remote = a.target == "remote";
  std::optional<scenarios::HilFile> hil;
  std::unique_ptr<scenarios::Operator> op;
  scenarios::LiveOptions lo;
  if (remote) {
    lo.target = scenarios::TargetKind::kRemote;
    lo.simUrl = a.simUrl;
    lo.simAdminToken = a.simAdminToken;
    if (lo.simAdminToken.empty())
      if (const char* t = std::getenv("NUKISIM_ADMIN_TOKEN")) lo.simAdminToken = t;
    if (lo.simUrl.empty() || lo.simAdminToken.empty()) {
      std::cerr << "nukihil: --target remote needs --sim URL and --sim-admin-token T (or "
                   "NUKISIM_ADMIN_TOKEN): the running nukisim and its control plane's token\n";
      return 2;
    }
    if (!a.plan) {
      // The adapter the harness starts runs on the wall clock: so must nukisim.
      std::unique_ptr<http::Requester> sim;
      try {
        sim = std::make_unique<http::UrlClient>(lo.simUrl, lo.simAdminToken);
      } catch (const std::exception& e) {
        std::cerr << "nukihil: --sim " << lo.simUrl << ": " << e.what() << "\n";
        return 2;
      }
      auto r = sim->request("GET", "/sim/v1/clock");
      json clock = json::parse(r.body, nullptr, false);
      if (r.status != 200 || !clock.is_object()) {
        std::cerr << "nukihil: nukisim at " << lo.simUrl << " answered "
                  << (r.status ? std::to_string(r.status) : r.error)
                  << " to GET /sim/v1/clock (is it running, is the admin token right?)\n";
        return 1;
      }
      if (clock.contains("virtual") ? clock["virtual"] != false : true) {
        std::cerr << "nukihil: nukisim at " << lo.simUrl
                  << " runs on virtual time; the adapter the harness starts runs on the wall "
                     "clock, so start nukisim with --clock real (docs/hil.md)\n";
        return 2;
      }
    }
  }
  if (live && !remote) {
    if (a.hil.empty()) {
      std::cerr << "nukihil: --target nuki-web needs --hil FILE (which real lock each scenario "
                   "lock name stands for; docs/hil.md)\n";
      return 2;
    }
    bool ok = false;
    const std::string text = readFile(a.hil, ok);
    if (!ok) {
      std::cerr << "nukihil: " << a.hil << ": cannot read the HIL file\n";
      return 2;
    }
    auto parsed = scenarios::parseHilFile(text, a.hil);
    for (const auto& p : parsed.problems)
      std::cerr << p.text() << "\n";
    if (!parsed.hil) return 2;
    hil = std::move(parsed.hil);
    lo.hil = &*hil;
    lo.nukiUrl = a.nukiUrl;
    lo.nukiToken = a.nukiToken;
    if (lo.nukiToken.empty())
      if (const char* t = std::getenv("NUKI_TOKEN")) lo.nukiToken = t;
    if (lo.nukiToken.empty() && !a.plan) {
      std::cerr << "nukihil: --target nuki-web needs the account's API token: --nuki-token or "
                   "NUKI_TOKEN\n";
      return 2;
    }
    if (!http::Url::parse(lo.nukiUrl)) {
      std::cerr << "nukihil: --nuki-url " << lo.nukiUrl << ": not an http(s) URL\n";
      return 2;
    }
    if (!a.operatorFile.empty()) {
      std::string why;
      try {
        op = scenarios::ScriptedOperator::load(a.operatorFile, std::cerr, why);
      } catch (const std::exception& e) {
        why = a.operatorFile + ": controlPlane.url: " + e.what() +
              " (give nukisim's address as an IP, http://127.0.0.1:PORT)";
      }
      if (!op) {
        std::cerr << "nukihil: " << why << "\n";
        return 2;
      }
    } else if (::isatty(0)) {
      op = std::make_unique<scenarios::TerminalOperator>(0, std::cerr, &interrupted);
    }
    lo.op = op.get();
  }
  if (!live &&
      (!a.hil.empty() || !a.operatorFile.empty() || a.allowUnlock || !a.calibrate.empty() ||
       !a.plant.empty() || !a.publicUrl.empty() || !a.simUrl.empty())) {
    std::cerr << "nukihil: --hil, --operator, --allow-unlock, --calibrate, --plant, --public-url "
                 "and --sim are for --target nuki-web or remote (docs/hil.md)\n";
    return 2;
  }
  if (live && !a.publicUrl.empty() && a.adapterPort == 0) {
    std::cerr << "nukihil: --public-url needs --adapter-port: the port your tunnel forwards to "
                 "(the adapter listens there in every scenario)\n";
    return 2;
  }
  if (live) {
    lo.caFile = a.caFile;
    lo.publicUrl = a.publicUrl;
    lo.adapterPort = a.adapterPort;
    lo.plan.allowUnlock = a.allowUnlock;
    lo.plan.maxWaitSeconds = a.maxWait;
    lo.checkSeconds = a.checkSeconds;
    lo.out = &std::cerr;
    lo.interrupted = &interrupted;
    lo.verbose = a.verbose;
    lo.adapterBinary = a.adapterBinary;
    lo.calibrate = !a.calibrate.empty();
    if (!a.plant.empty()) {
      const std::string name = a.plant;
      lo.TEST_tamper = [name] { return scenarios::plantedFault(name); };
    }
    if (lo.adapterBinary.empty()) {
      // The nuki-adapter built beside this binary, else the one on PATH.
      const fs::path beside = fs::path(self).parent_path() / "nuki-adapter";
      std::error_code ec;
      lo.adapterBinary = self.find('/') != std::string::npos && fs::exists(beside, ec)
                             ? beside.string()
                             : "nuki-adapter";
    }
  }
  if (a.plan) {
    std::cout << "what each target does with each step (docs/hil.md):\n\n"
              << scenarios::capabilityTable() << "\n";
    size_t runnable = 0;
    for (const auto& s : scenarios) {
      scenarios::ScenarioPlan p =
          live ? scenarios::livePlan(s, lo)
               : scenarios::planScenario(s, scenarios::TargetKind::kEmbedded, nullptr, {});
      runnable += p.runnable;
      std::cout << scenarios::planText(p) << "\n";
    }
    std::cout << "plan: " << runnable << " of " << scenarios.size() << " scenario"
              << (scenarios.size() == 1 ? "" : "s") << " would run on " << a.target
              << "; nothing was sent\n";
    return 0;
  }
  scenarios::RunOptions ro;
  ro.commandPrefix = self + " run";
  ro.seed = a.seed;
  ro.replayFailures = !a.noReplay;
  ro.verbose = a.verbose;
  if (a.transport == "memory") {
    ro.transport = scenarios::EmbeddedWorld::Options::Transport::kMemory;
    ro.commandPrefix += " --transport memory";  // a replay runs on the same transport
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<scenarios::ScenarioResult> results(scenarios.size());
  std::atomic<size_t> next{0}, done{0};
  std::mutex out;
  std::cerr << "nukihil: running " << scenarios.size() << " scenario"
            << (scenarios.size() == 1 ? "" : "s")
            << (a.jobs > 1 ? " on " + std::to_string(a.jobs) + " jobs" : "") << "\n";
  std::signal(SIGINT, onInterrupt);
  // Stopped by a service manager or a closed terminal: the same as Ctrl-C (a live run cleans
  // up what it made on the account).
  std::signal(SIGTERM, onInterrupt);
  std::signal(SIGHUP, onInterrupt);
  // A reader of our output gone (`| tee` stopped by the same Ctrl-C) must not stop a clean-up.
  std::signal(SIGPIPE, SIG_IGN);
  auto worker = [&] {
    for (;;) {
      const size_t i = next++;
      if (i >= scenarios.size()) return;
      if (interrupted) {
        auto& r = results[i];
        r.file = scenarios[i]->file;
        r.name = scenarios[i]->name;
        r.suite = fs::path(r.file).parent_path().filename().string();
        r.verdict = scenarios::Verdict::kSkipped;
        r.message = "not run: the run was interrupted (Ctrl-C)";
        continue;
      }
      results[i] =
          live ? scenarios::runLive(scenarios[i], lo) : scenarios::runScenario(scenarios[i], ro);
      const auto& r = results[i];
      std::lock_guard lock(out);
      const size_t n = ++done;
      std::ostringstream line;
      line << "[" << n << "/" << scenarios.size() << "] " << badge(r.verdict) << " " << r.file
           << " — " << r.name << " (" << int(r.wallMs) << " ms"
           << (live ? std::string(")") : ", seed " + std::to_string(r.seed) + ")");
      std::cerr << line.str() << "\n";
      if (r.verdict == scenarios::Verdict::kFailed || r.verdict == scenarios::Verdict::kError) {
        std::istringstream text(scenarios::failureText(r));
        for (std::string l; std::getline(text, l);)
          std::cerr << "      " << l << "\n";
      } else if (r.verdict == scenarios::Verdict::kSkipped && live) {
        std::cerr << "      " << r.message << "\n";
      }
      for (const auto& c : r.notCleanedUp)
        std::cerr << "      " << paint("31;1", "NOT CLEANED UP: ") << c << "\n";
      if (r.verdict != scenarios::Verdict::kFailed && r.verdict != scenarios::Verdict::kError)
        for (const auto& f : r.serviceFindings)
          std::cerr << "      " << paint("33;1", "THE SERVICE DEPARTS FROM SPEC: ") << f << "\n";
    }
  };
  std::vector<std::thread> pool;
  // Live scenarios share the real locks: one at a time.
  for (unsigned j = 0; j < (live ? 1u : std::max(1u, a.jobs)); ++j)
    pool.emplace_back(worker);
  for (auto& t : pool)
    t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  size_t passed = 0, failed = 0, errors = 0, skipped = 0;
  for (const auto& r : results) {
    passed += r.verdict == scenarios::Verdict::kPassed;
    failed += r.verdict == scenarios::Verdict::kFailed;
    errors += r.verdict == scenarios::Verdict::kError;
    skipped += r.verdict == scenarios::Verdict::kSkipped;
  }
  scenarios::RunSummary summary;
  summary.command = commandLine;
  summary.seed = a.seed.value_or(1);
  summary.wallSeconds = wall;
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(2);
  line << results.size() << (results.size() == 1 ? " scenario: " : " scenarios: ") << passed
       << " passed, " << failed << " failed, " << errors << " errors, " << skipped << " skipped in "
       << wall << " s (" << (wall > 0 ? double(results.size()) / wall : 0.0) << " scenarios/s)";
  std::cerr << "\n"
            << (failed + errors ? paint("31;1", line.str()) : paint("32;1", line.str())) << "\n";
  size_t leftovers = 0;
  for (const auto& r : results)
    for (const auto& c : r.notCleanedUp) {
      if (!leftovers++)
        std::cerr << paint("31;1", "  NOT CLEANED UP on the account (see to it by hand):") << "\n";
      std::cerr << "    " << r.file << ": " << c << "\n";
    }
  size_t findings = 0;
  for (const auto& r : results)
    for (const auto& f : r.serviceFindings) {
      if (!findings++)
        std::cerr << paint("33;1", "  Where the service departs from SPEC (not the adapter):")
                  << "\n";
      std::cerr << "    " << r.file << ": " << f << "\n";
    }
  for (const auto& r : results)
    if (r.verdict == scenarios::Verdict::kFailed || r.verdict == scenarios::Verdict::kError)
      std::cerr << "  " << badge(r.verdict) << " " << r.file
                << (live ? std::string() : " (seed " + std::to_string(r.seed) + ")") << ": "
                << r.message << "\n";
  bool wrote = true;
  if (!a.calibrate.empty()) wrote = writeCalibration(a.calibrate, results, lo) && wrote;
  if (!a.junit.empty()) {
    wrote = writeFile(a.junit, scenarios::junitXml(results, summary)) && wrote;
    std::cerr << "JUnit XML: " << a.junit << "\n";
  }
  const json report = scenarios::runReportJson(results, summary);
  if (!a.json.empty()) {
    wrote = writeFile(a.json, report.dump(1, ' ', false, json::error_handler_t::replace)) && wrote;
    std::cerr << "run report (JSON): " << a.json << "\n";
  }
  if (!a.html.empty()) {
    wrote = writeFile(a.html, scenarios::renderHtmlReport(report)) && wrote;
    std::error_code ec;
    std::cerr << "HTML report: " << a.html << "  (open file://" << fs::absolute(a.html, ec).string()
              << " in a browser)\n";
  }
  if (!wrote) {
    std::cerr << "nukihil: could not write a report file\n";
    return 1;
  }
  if (interrupted) {
    std::cerr << "nukihil: interrupted; " << skipped << " scenario(s) were not run\n";
    return 130;
  }
  // Something left on a real account is not a clean run, whatever the verdicts.
  return failed + errors || leftovers ? 1 : 0;
}

int validateCommand(const std::vector<std::string>& paths) {
  std::vector<std::string> missing;
  const auto files = collect(paths, missing);
  for (const auto& m : missing)
    std::cerr << "nukihil: " << m << ": no such file or folder\n";
  if (!missing.empty()) return 2;
  if (files.empty()) {
    std::cerr << "nukihil: no scenario files (*.json) in " << paths.front() << "\n";
    return 2;
  }
  std::vector<model::Problem> problems;
  auto scenarios = validateAll(files, problems);
  for (const auto& p : problems)
    std::cerr << p.text() << "\n";
  if (!problems.empty()) {
    std::cerr << "nukihil: " << problems.size() << " problem" << (problems.size() == 1 ? "" : "s")
              << " in " << files.size() << " scenario file" << (files.size() == 1 ? "" : "s")
              << "\n";
    return 2;
  }
  std::cout << scenarios.size() << " scenario file" << (scenarios.size() == 1 ? "" : "s")
            << " valid\n";
  return 0;
}

// Prints every platform webhook as it arrives, its signature checked.
int recordCommand(uint16_t port, std::string secret, int status, bool asJson) {
  if (secret.empty() && std::getenv("NUKIHIL_WEBHOOK_SECRET"))
    secret = std::getenv("NUKIHIL_WEBHOOK_SECRET");
  if (secret.rfind("whsec_", 0) != 0) {
    std::cerr << (secret.empty()
                      ? "nukihil record: --secret whsec_<base64> (or NUKIHIL_WEBHOOK_SECRET) is "
                        "needed\n"
                      : "nukihil record: the secret must be whsec_<base64> (the adapter's "
                        "--webhook-secret), not '" +
                            secret.substr(0, 12) + (secret.size() > 12 ? "…" : "") + "'\n");
    return 2;
  }
  boost::asio::io_context io;
  RealClock clock(io);
  std::unique_ptr<scenarios::WebhookRecorder> recorder;
  try {
    recorder = std::make_unique<scenarios::WebhookRecorder>(
        io, secret, [&clock] { return secondsOf(clock.now()); }, port);
  } catch (const std::exception& e) {
    std::cerr << "nukihil record: " << e.what() << "\n";
    return 2;
  }
  recorder->setStatus(status);
  recorder->setListener([asJson](const scenarios::RecordedWebhook& w) {
    if (asJson) {
      json j{{"webhookId", w.id}, {"signatureOk", w.signatureOk}, {"answered", w.answered}};
      if (!w.signatureOk) j["problem"] = w.signatureProblem;
      j["body"] = w.body.is_discarded() ? json(w.raw) : w.body;
      std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
      return;
    }
    std::string text = w.type();
    if (w.body.is_object() && w.body.contains("content")) {
      scenarios::ObservedWebhook o;
      o.type = w.type();
      o.content = w.body["content"];
      o.content.erase("deviceId");
      text = o.describe();
    }
    const std::string when = w.body.is_object() ? w.body.value("occurredAt", "?") : "?";
    std::cout << when << "  "
              << (w.signatureOk ? "signed ok " : "BAD SIGNATURE (" + w.signatureProblem + ") ")
              << " device " << w.deviceId() << "  " << text << std::endl;
  });
  std::cout << json{{"url", recorder->url()}, {"port", recorder->port()}}.dump() << std::endl;
  std::cerr << "nukihil record: receiving platform webhooks at " << recorder->url()
            << " (answering " << status << "); Ctrl-C stops\n";
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    recorder->stop();
    io.stop();
  });
  io.run();
  return 0;
}

int exploreCommand(const scenarios::ExploreOptions& eo, const std::string& commandLine) {
  std::signal(SIGINT, onInterrupt);
  scenarios::ExploreResult r;
  try {
    r = scenarios::explore(eo, std::cout);
  } catch (const std::invalid_argument& e) {
    std::cerr << "nukihil explore: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nukihil explore: " << e.what() << "\n";
    return 1;
  }
  if (!eo.junitPath.empty()) {
    scenarios::ScenarioResult s;
    s.suite = "explore";
    s.file = r.file;
    s.name = "explore seed " + std::to_string(eo.seed) +
             (eo.shards > 1 ? " shard " + std::to_string(eo.shard) + "/" + std::to_string(eo.shards)
                            : std::string()) +
             ": " + std::to_string(r.cases) + " cases, " + std::to_string(r.steps) + " steps";
    s.seed = eo.seed;
    s.wallMs = r.seconds * 1000;
    if (r.failed && r.shrunkResult) {
      s = *r.shrunkResult;
      s.suite = "explore";
      s.name = "explore seed " + std::to_string(eo.seed) + " (" + r.property + "): " + r.message;
    } else if (r.failed) {
      s.verdict = scenarios::Verdict::kFailed;
      s.message = r.message;
    } else if (r.unreproduced) {
      s.verdict = scenarios::Verdict::kError;
      s.message = "found but not reproduced by `" + self + " run " + r.file + "`: " + r.message;
    } else {
      s.message = "no failure";
    }
    s.replay = r.file.empty() ? commandLine : self + " run " + r.file;
    scenarios::RunSummary sum;
    sum.command = commandLine;
    sum.seed = eo.seed;
    sum.wallSeconds = r.seconds;
    std::ofstream o(eo.junitPath, std::ios::trunc);
    o << scenarios::junitXml({s}, sum);
    if (!o) {
      std::cerr << "nukihil explore: cannot write " << eo.junitPath << "\n";
      return 1;
    }
  }
  if (interrupted) return 130;
  return r.failed ? 1 : r.unreproduced ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "nukihil: QA scenarios for the Nuki lock integration. `run` validates scenario files (SPEC "
      "§7) and runs each in a fresh embedded world — nukisim, nuki-adapter and a webhook "
      "recorder on one virtual clock — comparing every answer and every device's platform "
      "webhooks with the spec model; `validate` only checks files; `record` prints platform "
      "webhooks as they arrive.\n\nExit codes of run: 0 every scenario passed or was skipped, 1 "
      "one failed or could not be judged, 2 a file is invalid (nothing ran), 130 interrupted "
      "(Ctrl-C: the running scenarios finish, the reports are written, the rest is skipped).",
      "nukihil"};
  app.require_subcommand(1);
  if (argc > 0 && std::string_view(argv[0]).find('/') != std::string_view::npos) self = argv[0];
  // The command line as the reports show it: secrets given as flags are not written down.
  std::string commandLine;
  for (int i = 0; i < argc; ++i) {
    std::string word = argv[i];
    for (const char* secret : {"--nuki-token", "--sim-admin-token"}) {
      const std::string flag = secret;
      if (word.rfind(flag + "=", 0) == 0) word = flag + "=***";
      if (i > 0 && argv[i - 1] == flag) word = "***";
    }
    commandLine += (i ? " " : "") + word;
  }

  RunArgs ra;
  auto* run = app.add_subcommand("run", "run scenario files or folders of them");
  run->add_option("paths", ra.paths, "scenario files (*.json) or folders (searched recursively)")
      ->required();
  run->add_option("--junit", ra.junit, "write JUnit XML here");
  run->add_option("--html", ra.html, "write the self-contained HTML report here");
  run->add_option("--json", ra.json, "write the run report as JSON here");
  run->add_option("--seed", ra.seed,
                  "seed for scenarios that give none (default 1); printed per scenario")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--filter", ra.filter,
                  "only scenarios whose name or file matches this regular expression");
  run->add_option("--jobs,-j", ra.jobs, "scenarios run side by side")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  run->add_flag("--no-replay", ra.noReplay, "report a failure without replaying it first");
  run->add_flag("-v,--verbose", ra.verbose, "the embedded adapter logs its requests on stderr");
  run->add_option("--transport", ra.transport,
                  "how the embedded world talks HTTP: loopback (TCP) or memory (every message "
                  "still serialised and parsed, no sockets; faster, the same results)")
      ->check(CLI::IsMember({"loopback", "memory"}))
      ->capture_default_str();

  run->add_option("--target", ra.target,
                  "embedded: the world in this process on virtual time; remote: a running "
                  "nukisim on the wall clock (each scenario's fleet built in it); nuki-web: real "
                  "locks behind Nuki Web (or nukisim standing in for it) on the wall clock, with "
                  "an operator for the physical steps (docs/hil.md)")
      ->check(CLI::IsMember({"embedded", "remote", "nuki-web"}))
      ->capture_default_str();
  run->add_option("--sim", ra.simUrl,
                  "remote: the running nukisim (started with --clock real), e.g. "
                  "http://127.0.0.1:8080");
  run->add_option("--sim-admin-token", ra.simAdminToken,
                  "remote: its control plane's admin token (or NUKISIM_ADMIN_TOKEN)");
  run->add_flag("--plan", ra.plan,
                "print what each step would do on the target and every change to the account, "
                "then stop: nothing is sent");
  run->add_option("--hil", ra.hil,
                  "nuki-web: the HIL file mapping each scenario lock name to a real smartlock");
  run->add_option("--nuki-url", ra.nukiUrl, "nuki-web: the Nuki Web API")->capture_default_str();
  run->add_option("--nuki-token", ra.nukiToken,
                  "nuki-web: the account's API token (or NUKI_TOKEN; never printed)");
  run->add_option("--operator", ra.operatorFile,
                  "nuki-web: a scripted operator (JSON) that does the physical steps through "
                  "nukisim's control plane; without it a person answers on the terminal");
  run->add_flag("--allow-unlock", ra.allowUnlock,
                "nuki-web: let the harness unlock real locks (else scenarios that unlock are "
                "skipped)");
  run->add_option("--max-wait", ra.maxWait,
                  "nuki-web: real seconds a scenario's advances may wait in all (more: skipped)")
      ->check(CLI::Range(int64_t(0), int64_t(86400 * 7)))
      ->capture_default_str();
  run->add_option("--check-seconds", ra.checkSeconds,
                  "nuki-web: how long a check or a predicted webhook may take to show")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  run->add_option("--adapter-bin", ra.adapterBinary,
                  "nuki-web: the nuki-adapter to start (default: the one beside nukihil)");
  run->add_option("--public-url", ra.publicUrl,
                  "nuki-web: where Nuki Web reaches the adapter (a tunnel to --adapter-port); "
                  "without it only a loopback --nuki-url sends Nuki webhooks");
  run->add_option("--adapter-port", ra.adapterPort, "nuki-web: the adapter's port (0: a free one)");
  run->add_option("--ca-file", ra.caFile, "nuki-web: extra trusted CA bundle (PEM)")
      ->check(CLI::ExistingFile);
  run->add_option("--calibrate", ra.calibrate,
                  "nuki-web: measure when each webhook arrives against nukisim's settings, run "
                  "each scenario in the embedded world too, and write nukisim settings fitted to "
                  "the measurements to this file (a fleet file's defaults)");
  run->add_option("--plant", ra.plant,
                  "nuki-web, for the harness's own tests: a small adapter bug planted between "
                  "the adapter and the recorder, which the run must catch")
      ->check(CLI::IsMember(scenarios::plantedFaultNames()));

  std::vector<std::string> validatePaths;
  auto* validate = app.add_subcommand("validate", "check scenario files without running them");
  validate->add_option("paths", validatePaths, "scenario files or folders")->required();

  uint16_t port = 9000;
  std::string secret;
  int status = 204;
  bool asJson = false;
  auto* record = app.add_subcommand("record",
                                    "receive platform webhooks (as nuki-adapter's --webhook-url) "
                                    "and print each, signature checked");
  record->add_option("--port", port, "port on 127.0.0.1 (0: a free one, printed)")
      ->capture_default_str();
  record->add_option("--secret", secret,
                     "the adapter's webhook secret whsec_… (or NUKIHIL_WEBHOOK_SECRET)");
  record
      ->add_option("--status", status, "what to answer (e.g. 503 to play a receiver that is down)")
      ->check(CLI::Range(200, 599))
      ->capture_default_str();
  record->add_flag("--json", asJson, "one JSON line per delivery instead of text");

  scenarios::ExploreOptions eo;
  std::string shard, transport = "loopback";
  auto* exploreCmd = app.add_subcommand(
      "explore",
      "property-based exploration: draw cases (a fleet and SPEC §7 steps biased to the rules' "
      "edges, a fault phase then a heal phase), run each in a fresh embedded world against the "
      "spec model, shrink a failure to the smallest scenario file and replay it with `run`. "
      "Exit 0: no failure; 1: a failure (written to --out); 2: bad arguments; 3: a failure found "
      "whose shrunk file does not fail under `run` (kept in --out: nondeterminism to look "
      "into); 130: interrupted");
  exploreCmd->add_option("--seed", eo.seed, "the run's seed; the same seed draws the same cases")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  auto* casesOpt = exploreCmd->add_option("--cases", eo.cases, "how many cases")
                       ->check(CLI::Range(1, 100000000))
                       ->capture_default_str();
  exploreCmd
      ->add_option("--minutes", eo.minutes, "explore for this long instead (rounds of 50 cases)")
      ->check(CLI::Range(0.01, 100000.0))
      ->excludes(casesOpt);
  exploreCmd->add_option("--shard", shard,
                         "i/n: this is shard i of n, with a seed range of its own");
  exploreCmd->add_option("--transport", transport, "loopback (HTTP over TCP) or memory")
      ->check(CLI::IsMember({"loopback", "memory"}))
      ->capture_default_str();
  exploreCmd->add_option(
      "--trace", eo.tracePath,
      "write one JSON line per step and per webhook (byte-identical for a seed)");
  exploreCmd->add_option("--junit", eo.junitPath, "write JUnit XML here");
  exploreCmd->add_option("--out", eo.outDir, "where the shrunk failure's scenario file goes")
      ->capture_default_str();
  exploreCmd->add_option("--max-steps", eo.maxSteps, "fault-phase steps of the largest case")
      ->check(CLI::Range(1, 500))
      ->capture_default_str();
  exploreCmd->add_option("--shrink-seconds", eo.shrinkSeconds, "time budget for shrinking")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  exploreCmd->add_option("--reproduce", eo.reproduce,
                         "run exactly the shrunk case of an earlier run (the string it printed)");
  std::string plantHelp = "plant a fault between adapter and recorder, to check the checker:";
  for (const auto& n : scenarios::plantedFaultNames())
    plantHelp += " " + n;
  exploreCmd->add_option("--plant", eo.plant, plantHelp)
      ->check(CLI::IsMember(scenarios::plantedFaultNames()));
  exploreCmd->add_flag(
      "--no-replay", [&eo](int64_t) { eo.replay = false; },
      "do not replay the shrunk file through `run`");

  if (auto code = tools::parseArguments(app, argc, argv)) return *code;
  if (*exploreCmd) {
    if (!shard.empty()) {
      const auto slash = shard.find('/');
      try {
        if (slash == std::string::npos) throw std::invalid_argument("no /");
        eo.shard = std::stoi(shard.substr(0, slash));
        eo.shards = std::stoi(shard.substr(slash + 1));
      } catch (const std::exception&) {
        eo.shards = 0;
      }
      if (eo.shards < 1 || eo.shard < 0 || eo.shard >= eo.shards) {
        std::cerr << "nukihil explore: --shard " << shard << ": give i/n with 0 <= i < n\n";
        return 2;
      }
    }
    eo.transport = transport == "memory" ? scenarios::EmbeddedTransport::kMemory
                                         : scenarios::EmbeddedTransport::kLoopback;
    eo.progress = ::isatty(2) != 0;
    eo.interrupted = [] { return interrupted.load(); };
    log::setLevel(log::Level::kError);
    eo.commandPrefix = self;
    return exploreCommand(eo, commandLine);
  }
  log::setLevel(ra.verbose ? log::Level::kInfo : log::Level::kError);
  if (*run) return runCommand(ra, commandLine);
  if (*validate) return validateCommand(validatePaths);
  if (*record) return recordCommand(port, secret, status, asJson);
  return 2;
}
