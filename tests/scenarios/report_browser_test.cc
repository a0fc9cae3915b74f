// The HTML report in a real browser: headless Chromium opens the page from a file, runs its
// script and dumps the DOM; the tests read what was drawn (timeline lanes, the divergence, the
// coverage gaps) and that the script recorded no error. Skipped where Chromium is missing
// (tools/setup-debian.sh installs it).
//
// NUKIHIL_REPORT_KEEP=/tmp/example keeps the fixture's page and screenshot as
// /tmp/example.html and /tmp/example.png.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "scenarios/report_html.h"
#include "scenarios/reports.h"
#include "scenarios/runner.h"

namespace nukihil::test {

using nlohmann::json;

// Defined in report_html_test.cc (the same test binary).
json reportFixture();

namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr auto kBrowserTimeLimit = std::chrono::seconds(60);

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// A fresh directory for one browser run: the page, the profile, the dump, the screenshot.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "nukihil-report-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct BrowserRun {
  bool finished = false;  // exited by itself within the time limit
  int status = -1;        // waitpid status
  std::string out, err;
  double seconds = 0;
};

// Runs headless Chromium on `page` (written to dir/report.html) with the extra `args`, in a
// process group of its own that is killed after kBrowserTimeLimit; stdout and stderr go to files.
BrowserRun runChromium(const TempDir& dir, const std::string& page,
                       const std::vector<std::string>& args, const std::string& fragment = "") {
  const fs::path html = dir.path() / "report.html", out = dir.path() / "stdout",
                 err = dir.path() / "stderr";
  writeFile(html, page);
  std::vector<std::string> argv = {kChromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-dev-shm-usage",
                                   "--user-data-dir=" + (dir.path() / "profile").string(),
                                   "--virtual-time-budget=5000"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("file://" + html.string() + fragment);
  std::vector<char*> cargv;
  for (auto& a : argv)
    cargv.push_back(a.data());
  cargv.push_back(nullptr);

  BrowserRun run;
  const auto started = Steady::now();
  const pid_t pid = ::fork();
  if (pid < 0) return run;
  if (pid == 0) {
    ::setpgid(0, 0);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || in < 0) ::_exit(126);
    ::dup2(in, STDIN_FILENO);
    ::dup2(o, STDOUT_FILENO);
    ::dup2(e, STDERR_FILENO);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so that the group exists whichever side runs first
  for (;;) {
    if (::waitpid(pid, &run.status, WNOHANG) == pid) {
      run.finished = true;
      break;
    }
    if (Steady::now() - started > kBrowserTimeLimit) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &run.status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid, SIGKILL);  // helpers of that Chromium still running, if any
  run.seconds = std::chrono::duration<double>(Steady::now() - started).count();
  run.out = readFile(out);
  run.err = readFile(err);
  return run;
}

#define SKIP_WITHOUT_CHROMIUM()                                                \
  if (::access(kChromium, X_OK) != 0)                                          \
  GTEST_SKIP() << kChromium                                                    \
               << " is not installed: run tools/setup-debian.sh (it installs " \
                  "chromium) to test the HTML report in a browser"

// The DOM Chromium dumps after the page's script ran.
std::string dumpDom(const std::string& page, double* seconds = nullptr,
                    const std::string& fragment = "") {
  TempDir dir;
  const BrowserRun run = runChromium(dir, page, {"--dump-dom"}, fragment);
  if (seconds) *seconds = run.seconds;
  EXPECT_TRUE(run.finished) << "chromium did not finish within 60 s\n" << run.err;
  EXPECT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.err;
  return run.out;
}

// The dumped DOM without the embedded run data (which holds the run's text verbatim).
std::string withoutData(const std::string& dom) {
  const auto begin = dom.find("<script type=\"application/json\" id=\"run-data\">");
  const auto end = begin == std::string::npos ? begin : dom.find("</script>", begin);
  if (end == std::string::npos) return dom;
  return dom.substr(0, begin) + dom.substr(end);
}

std::string bodyTag(const std::string& dom) {
  const auto begin = dom.find("<body");
  if (begin == std::string::npos) return "";
  return dom.substr(begin, dom.find('>', begin) - begin + 1);
}

// The markup of the first element that starts with `start`, up to its matching `close` tag
// (for elements that do not nest, such as <table> here).
std::string element(const std::string& dom, const std::string& start, const std::string& close) {
  const auto begin = dom.find(start);
  if (begin == std::string::npos) return "";
  const auto end = dom.find(close, begin);
  return dom.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

void expectRenderedWithoutErrors(const std::string& dom) {
  const std::string body = bodyTag(dom);
  EXPECT_NE(body.find("data-rendered=\"yes\""), std::string::npos) << body;
  EXPECT_EQ(body.find("data-errors"), std::string::npos) << body;
}

TEST(ReportBrowser, DrawsTheFixture) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string dom = withoutData(dumpDom(scenarios::renderHtmlReport(reportFixture())));
  ASSERT_FALSE(dom.empty());
  expectRenderedWithoutErrors(dom);

  // Summary: failed first, then the error, then the pass.
  const auto failed = dom.find("data-target=\"scenario-0\""),
             error = dom.find("data-target=\"scenario-2\""),
             passed = dom.find("data-target=\"scenario-1\"");
  ASSERT_NE(passed, std::string::npos);
  EXPECT_LT(failed, error);
  EXPECT_LT(error, passed);
  EXPECT_NE(dom.find("id=\"filter\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"failures-only\""), std::string::npos);

  // Sections: the failure expanded, the pass collapsed (and drawn when first opened).
  EXPECT_NE(dom.find("<section class=\"scenario\" data-verdict=\"failed\" id=\"scenario-0\">"
                     "<details open=\"\">"),
            std::string::npos);
  EXPECT_NE(dom.find("<section class=\"scenario\" data-verdict=\"passed\" id=\"scenario-1\">"
                     "<details><summary>"),
            std::string::npos);
  EXPECT_EQ(dom.find("data-lock=\"Hall\""), std::string::npos);
  EXPECT_NE(dom.find("<code class=\"replay\">nukihil run scenarios/suites/pins/offline_create.json "
                     "--seed 7</code>"),
            std::string::npos);

  // The failure's timeline, one lane per device (the error has no devices).
  EXPECT_EQ(count(dom, "<svg class=\"timeline\""), 1u);
  const std::string timeline = element(dom, "<svg class=\"timeline\"", "</svg>");
  EXPECT_NE(timeline.find("<g class=\"lane\" data-lock=\"Front door\""), std::string::npos);
  EXPECT_NE(timeline.find("<g class=\"lane\" data-lock=\"Back door\""), std::string::npos);
  // The divergence (Front door #9, expected and observed), the missing UNLOCKED SetState, the
  // unexpected second RESOLVED, and the UNLOCKED SetState still in the outbox, drawn hollow.
  EXPECT_EQ(count(timeline, "class=\"hook divergence"), 2u);
  EXPECT_EQ(count(timeline, "class=\"hook missing\""), 1u);
  EXPECT_EQ(count(timeline, "class=\"hook divergence unexpected\""), 1u);
  EXPECT_EQ(count(timeline, "class=\"hook undelivered\""), 1u);
  EXPECT_EQ(count(timeline, "data-row=\"scenario-0-step-"), 8u);
  EXPECT_EQ(count(timeline, "<g class=\"step led\""), 2u);
  EXPECT_NE(timeline.find("<title>UpdateAction RESOLVED @guest\nobserved #9"), std::string::npos);
  EXPECT_NE(timeline.find("idle 15 h 59 min"), std::string::npos) << "the idle night is marked";
  // Side by side: the diverging row, and links from the rule column.
  EXPECT_NE(dom.find("<tr id=\"scenario-0-d0-r9\" class=\"divergence\">"), std::string::npos);
  EXPECT_NE(dom.find("href=\"docs/rules.md#R-PIN-ACCEPTED\""), std::string::npos);
  EXPECT_NE(dom.find("led to the divergence"), std::string::npos);

  // Coverage: one row per rule, in order, the unexercised one marked as a gap.
  const std::string coverage = element(dom, "<table id=\"coverage\">", "</table>");
  const std::string rows = element(coverage, "<tbody>", "</tbody>");
  EXPECT_EQ(count(rows, "<tr"), 7u);
  EXPECT_LT(rows.find("data-rule=\"K1\""), rows.find("data-rule=\"R-MANUAL\""));
  EXPECT_EQ(count(rows, "class=\"gap num\""), 1u);
  const std::string manual = element(rows, "data-rule=\"R-MANUAL\"", "</tr>");
  EXPECT_NE(manual.find("<td class=\"gap num\">0 — gap</td>"), std::string::npos) << manual;
  EXPECT_NE(rows.find("href=\"docs/rules.md#K1\""), std::string::npos);

  // Markup from the run is text: escaped in the DOM, never elements.
  EXPECT_NE(dom.find("Receiver &lt;b&gt;down&lt;/b&gt; \"503\""), std::string::npos);
  EXPECT_EQ(dom.find("<b>down"), std::string::npos);
  EXPECT_NE(dom.find("&lt;/script&gt;&lt;!--&lt;script&gt;alert(1)&lt;/script&gt;"),
            std::string::npos);
  // No remote resource was put in by the script either.
  EXPECT_FALSE(std::regex_search(dom, std::regex(R"re(\b(src|href)="(https?:)?//)re")));
}

TEST(ReportBrowser, OpensAScenarioFromTheAddress) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string dom = withoutData(
      dumpDom(scenarios::renderHtmlReport(reportFixture()), nullptr, "#scenario-1-d0-r2"));
  expectRenderedWithoutErrors(dom);
  EXPECT_NE(dom.find("<section class=\"scenario\" data-verdict=\"passed\" id=\"scenario-1\">"
                     "<details open=\"\">"),
            std::string::npos);
  EXPECT_EQ(count(dom, "<svg class=\"timeline\""), 2u);
  EXPECT_NE(dom.find("<g class=\"lane\" data-lock=\"Hall\""), std::string::npos);
  EXPECT_NE(dom.find("<tr id=\"scenario-1-d0-r2\">"), std::string::npos);
}

TEST(ReportBrowser, DrawsRunsWithFieldsMissingOrOdd) {
  SKIP_WITHOUT_CHROMIUM();
  for (const json& run :
       {json::object(),
        json{{"scenarios",
              {json::object(),
               nullptr,
               {{"verdict", "error"}, {"devices", json::array()}},
               {{"verdict", "failed"},
                {"name", 42},
                {"divergence", json::object()},
                {"startMs", "yesterday"},
                {"steps", {{{"atMs", "soon"}}, {{"atMs", 1e300}}}},
                {"devices",
                 {{{"lock", "X"}, {"expected", "none"}},
                  {{"observed", {{{"atMs", 0}}, nullptr}}, {"divergenceIndex", 5}}}}}}},
             {"rules", {{{"id", "K9"}}, nullptr}},
             {"rulesDoc", "javascript:alert(1)"}}}) {
    const std::string dom = withoutData(dumpDom(scenarios::renderHtmlReport(run)));
    expectRenderedWithoutErrors(dom);
    EXPECT_NE(dom.find("<table id=\"coverage\">"), std::string::npos) << run.dump();
    EXPECT_EQ(dom.find("href=\"javascript:"), std::string::npos) << run.dump();
  }
}

TEST(ReportBrowser, TakesAScreenshotAt1280) {
  SKIP_WITHOUT_CHROMIUM();
  TempDir dir;
  const fs::path png = dir.path() / "report.png";
  const std::string page = scenarios::renderHtmlReport(reportFixture());
  const BrowserRun run = runChromium(
      dir, page, {"--screenshot=" + png.string(), "--window-size=1280,2000", "--hide-scrollbars"});
  ASSERT_TRUE(run.finished) << run.err;
  ASSERT_TRUE(fs::exists(png)) << run.err;
  const std::string image = readFile(png);
  EXPECT_EQ(image.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_GT(image.size(), 40000u) << "a blank page compresses to a few kilobytes";
  if (const char* keep = std::getenv("NUKIHIL_REPORT_KEEP")) {
    writeFile(std::string(keep) + ".html", page);
    writeFile(std::string(keep) + ".png", image);
  }
}

// 50 scenarios × 200 webhooks (two devices, 100 expected and 100 observed each), five of them
// failing: all of it is drawn, without errors. (How long that takes is printed, not asserted:
// a wall-clock limit in a unit test fails on a loaded machine, not on a slow page.)
TEST(ReportBrowser, DrawsALargeRunCompletely) {
  SKIP_WITHOUT_CHROMIUM();
  json run = reportFixture();
  json big = json::array();
  const json pattern = run["scenarios"][0];
  for (int s = 0; s < 50; ++s) {
    json scenario = pattern;
    scenario["name"] = "generated scenario " + std::to_string(s);
    scenario["verdict"] = s % 10 == 0 ? "failed" : "passed";
    for (auto& device : scenario["devices"]) {
      json expected = json::array(), observed = json::array();
      for (int i = 0; i < 100; ++i) {
        const int64_t at = 1740823200000 + int64_t(i / 3) * (i % 7 == 0 ? 3600000 : 1500);
        const std::string text = "SetState LOCK.lockState=" + std::to_string(i);
        expected.push_back({{"atMs", at}, {"text", text}, {"rule", "R-ACT-ONLINE"}, {"step", 1}});
        observed.push_back({{"atMs", at}, {"text", i == 60 ? "UpdateAction RESOLVED" : text}});
      }
      device["expected"] = expected;
      device["observed"] = observed;
    }
    big.push_back(scenario);
  }
  run["scenarios"] = big;
  double small = 0, large = 0;
  dumpDom(scenarios::renderHtmlReport(reportFixture()), &small);
  const std::string dom = withoutData(dumpDom(scenarios::renderHtmlReport(run), &large));
  expectRenderedWithoutErrors(dom);
  EXPECT_EQ(count(dom, "<section class=\"scenario\""), 50u);
  EXPECT_EQ(count(dom, "<g class=\"lane\""), 10u) << "the five failures, drawn at once";
  std::cout << "chromium: fixture " << small << " s, 50 × 200 webhooks " << large << " s\n";
}

}  // namespace
}  // namespace nukihil::test

namespace nukihil::test {
namespace {

// A real run, not a fixture: one scenario passes, the same one with a webhook dropped between
// the adapter and the recorder fails; the report of both renders, with the failed one's
// divergence on its timeline and in its table.
TEST(ReportBrowser, DrawsARealRunWithAPlantedFault) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string text =
      R"({"name":"locking resolves","locks":[{"name":"Front door","model":"3.0 Pro"}],
    "steps":[{"do":"setLocked","lock":"Front door","as":"l","parameters":{"lock":true},"expect":{"status":202}},
             {"do":"advance","seconds":3},{"do":"expectAction","ref":"l","status":"RESOLVED"}]})";
  auto parsed = model::parseScenario(text, "suite/locking.json");
  ASSERT_TRUE(parsed.scenario);
  auto scenario = std::make_shared<model::Scenario>(*parsed.scenario);
  scenarios::RunOptions plain;
  const auto passed = scenarios::runScenario(scenario, plain);
  ASSERT_EQ(passed.verdict, scenarios::Verdict::kPassed) << passed.message;
  scenarios::RunOptions planted;
  planted.TEST_tamper = [] {
    return [](const scenarios::RecordedWebhook& w) -> std::vector<scenarios::RecordedWebhook> {
      if (w.type() == "deviceEventUpdateAction" &&
          w.body["content"].value("status", "") == "RESOLVED")
        return {};
      return {w};
    };
  };
  const auto failed = scenarios::runScenario(scenario, planted);
  ASSERT_EQ(failed.verdict, scenarios::Verdict::kFailed);
  scenarios::RunSummary summary;
  summary.command = "nukihil run suite";
  const std::string dom =
      dumpDom(scenarios::renderHtmlReport(scenarios::runReportJson({failed, passed}, summary)));
  expectRenderedWithoutErrors(withoutData(dom));
  const std::string shown = withoutData(dom);
  EXPECT_NE(shown.find("class=\"timeline\""), std::string::npos);
  EXPECT_NE(shown.find("class=\"lane\""), std::string::npos);
  EXPECT_NE(shown.find("hook divergence"), std::string::npos);
  EXPECT_NE(shown.find("R-ACT-ONLINE"), std::string::npos);
  EXPECT_NE(shown.find("id=\"coverage\""), std::string::npos);
}

}  // namespace
}  // namespace nukihil::test
