// `nukihil run --target nuki-web` as QA runs it against real locks, with nukisim standing in for
// Nuki Web: the harness gets only the Nuki API URL and the account's token (never the control
// plane), and a scripted operator does the physical steps through the control plane. nukisim
// runs on the wall clock (the target is real time by definition), with 1 s motor and delivery
// times so that each run takes seconds; the harness waits for events, never for a fixed time.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "runtime/blocking_client.h"
#include "runtime/transport.h"
#include "scenarios/child_process.h"

#ifndef NUKIHIL_BINARY
#error "NUKIHIL_BINARY must name the nukihil executable"
#endif

namespace nukihil::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

const char* kToken = "hil-test-token-0123456789";

struct Result {
  int code = -1;
  std::string out, err;
};

// A scenario that locks, makes a code, opens the lock with it on the keypad and sees the code
// show after a sync. `extraStep`: appended (an expectLock, say).
std::string codeOpens(const std::string& extraStep = "") {
  return R"({"name": "a new code opens the lock at once and shows after the sync",
  "rules": ["R-ACT-ONLINE", "R-KEYPAD", "R-PIN-ACCEPTED"],
  "locks": [{"name": "Front door"}],
  "steps": [
    {"do": "setLocked", "lock": "Front door", "parameters": {"lock": true}, "as": "lock1",
     "expect": {"status": 202}},
    {"do": "advance", "seconds": 2},
    {"do": "expectAction", "ref": "lock1", "status": "RESOLVED"},
    {"do": "createPin", "lock": "Front door", "as": "guest",
     "parameters": {"name": "Guest", "pinCode": "234567"}},
    {"do": "advance", "seconds": 2},
    {"do": "keypad", "lock": "Front door", "code": 234567, "expect": {"granted": true}},
    {"do": "advance", "seconds": 2},
    {"do": "expectDevice", "lock": "Front door", "isLocked": false},
    {"do": "sync", "lock": "Front door"},
    {"do": "expectAction", "ref": "guest", "status": "RESOLVED"},
    {"do": "expectDevice", "lock": "Front door", "pinCodes": ["234567"]})" +
         extraStep + "]}";
}

class Hil : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nukihil-hil-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    fs::create_directories(dir_);
    // Two locks in the account; the HIL file offers only the first.
    write("fleet.json",
          json{{"accounts",
                json::array({json{{"name", "HIL bench"},
                                  {"apiToken", kToken},
                                  {"smartlocks", json::array({json{{"name", "Front door"},
                                                                   {"model", "3.0 Pro"},
                                                                   {"timezone", "Europe/Berlin"}},
                                                              json{{"name", "Neighbour"},
                                                                   {"model", "3.0 Pro"}}})}}})}}
              .dump());
    const json banner = json::parse(sim_.start(
        {NUKISIM_BINARY, "--port", "0", "--seed", "5", "--clock", "real", "--fleet",
         (dir_ / "fleet.json").string(), "--motor-seconds", "1", "--delivery-seconds", "1"}));
    url_ = banner["url"];
    admin_ = banner["adminToken"];
    auto u = http::Url::parse(url_);
    control_ = std::make_unique<http::BlockingClient>(u->host, u->port, admin_);
    nuki_ = std::make_unique<http::BlockingClient>(u->host, u->port, kToken);
    for (const auto& l : json::parse(control_->request("GET", "/sim/v1/smartlocks").body))
      ids_[l["name"]] = l["smartlockId"];
    write("hil.json", json{{"locks", json::array({json{{"name", "Front door"},
                                                       {"smartlockId", ids_["Front door"]},
                                                       {"model", "3.0 Pro"},
                                                       {"timezone", "Europe/Berlin"},
                                                       {"motorSeconds", 1},
                                                       {"deliverySeconds", 1}}})}}
                          .dump());
    writeOperator(json::object());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path f = dir_ / name;
    fs::create_directories(f.parent_path());
    std::ofstream(f) << text;
    return f.string();
  }
  void writeOperator(const json& answers) {
    write("operator.json",
          json{{"controlPlane", {{"url", url_}, {"adminToken", admin_}}}, {"answers", answers}}
              .dump());
  }
  std::vector<std::string> liveArgs(const std::vector<std::string>& paths) {
    std::vector<std::string> argv = {NUKIHIL_BINARY, "run"};
    argv.insert(argv.end(), paths.begin(), paths.end());
    for (const std::string& a :
         {std::string("--target"), std::string("nuki-web"), std::string("--hil"),
          (dir_ / "hil.json").string(), std::string("--nuki-url"), url_, std::string("--operator"),
          (dir_ / "operator.json").string(), std::string("--check-seconds"), std::string("5"),
          std::string("--json"), (dir_ / "report.json").string()})
      argv.push_back(a);
    return argv;
  }
  Result nukihil(std::vector<std::string> argv, const std::vector<std::string>& extra = {}) {
    argv.insert(argv.end(), extra.begin(), extra.end());
    scenarios::ChildProcess p;
    ::setenv("NUKI_TOKEN", kToken, 1);
    p.spawn(argv, scenarios::ChildProcess::Stderr::kCapture);
    auto exit = p.wait(milliseconds(180000));
    Result r;
    r.out = p.out();
    r.err = p.err();
    r.code = exit && exit->exited ? exit->code : -1;
    return r;
  }
  // Starts a live run of `file` and returns once it prints `waiting` (the start of a wait).
  void startUntil(scenarios::ChildProcess& p, const std::string& file, const std::string& waiting) {
    ::setenv("NUKI_TOKEN", kToken, 1);
    p.spawn(liveArgs({file}), scenarios::ChildProcess::Stderr::kCapture);
    for (int i = 0; i < 300 && p.err().find(waiting) == std::string::npos; ++i)
      ASSERT_FALSE(p.wait(milliseconds(100))) << p.err();
    ASSERT_NE(p.err().find(waiting), std::string::npos) << p.err();
  }
  json report() {
    std::ifstream in(dir_ / "report.json");
    return json::parse(in);
  }
  json journal() {
    return json::parse(control_->request("GET", "/sim/v1/journal?limit=100000").body)["entries"];
  }
  // The keypad codes on the lock (device truth) and those Nuki Web lists.
  std::vector<int64_t> codesOnLock(const std::string& lock) {
    std::vector<int64_t> out;
    const json d = json::parse(
        control_->request("GET", "/sim/v1/smartlocks/" + std::to_string(ids_[lock]) + "/device")
            .body);
    for (const auto& c : d["codes"])
      out.push_back(c["code"]);
    return out;
  }
  std::vector<int64_t> codesListed(const std::string& lock) {
    std::vector<int64_t> out;
    for (const auto& a : json::parse(
             nuki_->request("GET", "/smartlock/" + std::to_string(ids_[lock]) + "/auth").body))
      if (a["type"] == 13) out.push_back(a["code"]);
    return out;
  }
  // No write on a lock the HIL file does not offer, by the harness or its adapter.
  void expectNeighbourUntouched() {
    const std::string neighbour = "/smartlock/" + std::to_string(ids_["Neighbour"]);
    for (const auto& e : journal()) {
      if (e["type"] != "api" || e["method"] == "GET") continue;
      EXPECT_NE(e["path"].get<std::string>().rfind(neighbour, 0), 0u) << e.dump();
    }
  }

  fs::path dir_;
  scenarios::ChildProcess sim_;
  std::string url_, admin_;
  std::unique_ptr<http::BlockingClient> control_, nuki_;
  std::map<std::string, uint64_t> ids_;
};

TEST_F(Hil, PlanPrintsEveryStepAndChangeAndSendsNothing) {
  const std::string ok = write("suite/opens.json", codeOpens());
  const std::string battery = write("suite/battery.json", R"({"name": "low battery",
    "locks": [{"name": "Front door"}, {"name": "Garage", "model": "3.0", "bridgeId": 7}],
    "steps": [{"do": "battery", "lock": "Front door", "charge": 15},
              {"do": "setLocked", "lock": "Front door", "parameters": {"lock": false}},
              {"do": "fault", "fault": {"route": "/smartlock/*", "status": 503, "count": 1}},
              {"do": "fault", "fault": {"route": "/smartlock/*", "status": 503,
                                        "from": "2026-12-01T10:00:00Z"}}]})");
  const size_t before = journal().size();
  Result r = nukihil(liveArgs({ok, battery}), {"--plan"});
  EXPECT_EQ(r.code, 0) << r.err;
  // The capability table, then each scenario with every step and every change to the account.
  EXPECT_NE(r.out.find("| `keypad` | performs | performs | asks the operator"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| `expectLock` | performs | performs | skips the check"),
            std::string::npos);
  EXPECT_NE(r.out.find("lock: Front door → smartlock " + std::to_string(ids_["Front door"])),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("account: new keypad code \"234567\" on Front door"), std::string::npos);
  EXPECT_NE(r.out.find("account: lock on Front door"), std::string::npos);
  // Why the second cannot run, every reason.
  EXPECT_NE(r.out.find("needs a lock named 'Garage'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("steps[0] (battery): a real lock's charge cannot be set"),
            std::string::npos);
  EXPECT_NE(r.out.find("steps[1] (setLocked): a real unlock needs --allow-unlock"),
            std::string::npos);
  // A fault goes to the harness's fault proxy; only a window in scenario time cannot be had.
  EXPECT_NE(r.out.find("| `fault` | performs | performs: nukisim's faults, on the wall clock"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("skips the scenario | performs: the harness's fault proxy between the "
                       "adapter and Nuki Web (nothing is sent to Nuki Web)"),
            std::string::npos);
  EXPECT_EQ(r.out.find("steps[2] (fault):"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("steps[3] (fault): a fault window with an absolute `from` or `until` "
                       "cannot be honoured on the wall clock"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("plan: 1 of 2 scenarios would run on nuki-web; nothing was sent"),
            std::string::npos);
  EXPECT_EQ(journal().size(), before) << "a plan sends nothing to Nuki Web";
}

TEST_F(Hil, RefusesABadHilFileWithThePathAndMissingSettings) {
  const std::string ok = write("suite/opens.json", codeOpens());
  write("hil.json", R"({"locks": [{"name": "Front door", "smartlockID": 1}]})");
  Result r = nukihil(liveArgs({ok}));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("locks[0]: unknown field 'smartlockID' (smartlockId?)"), std::string::npos)
      << r.err;
  write("hil.json", R"({"locks": [{"name": "Garage", "smartlockId": 5, "model": "3.0"}]})");
  r = nukihil(liveArgs({ok}));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("locks[0].bridgeId: required for a \"3.0\""), std::string::npos) << r.err;
  r = nukihil({NUKIHIL_BINARY, "run", ok, "--target", "nuki-web"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs --hil FILE"), std::string::npos) << r.err;
}

TEST_F(Hil, AScriptedOperatorRunPassesTouchesOnlyItsLockAndCleansUp) {
  const std::string f = write("suite/opens.json", codeOpens());
  Result r = nukihil(liveArgs({f}), {"--calibrate", (dir_ / "fitted.json").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("[1/1] PASS"), std::string::npos) << r.err;
  // The operator's prompt as a person would read it, and the scripted answer.
  EXPECT_NE(r.err.find("OPERATOR (scripted) steps[5] (keypad): type 234567 on the keypad of "
                       "Front door (smartlock " +
                       std::to_string(ids_["Front door"]) + ")"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("> g   (the lock opened)"), std::string::npos);
  const json s = report()["scenarios"][0];
  EXPECT_EQ(s["verdict"], "passed");
  EXPECT_EQ(s["target"], "nuki-web");
  // Every webhook the model predicted arrived (discovery, lock, PIN, keypad, sync).
  ASSERT_EQ(s["devices"].size(), 1u);
  EXPECT_GE(s["devices"][0]["observed"].size(), 12u);
  EXPECT_EQ(s["devices"][0]["observed"].size(), s["devices"][0]["expected"].size());
  // Calibrated: the lock's run took about its 1 s for real, as nukisim's settings say; the
  // RESOLVED came as long after the step it falls in as the model said; and the simulated run of
  // the same scenario gives the same sequence.
  ASSERT_EQ(s["calibration"]["motorMs"].size(), 1u) << s["calibration"].dump();
  EXPECT_GE(s["calibration"]["motorMs"][0].get<int64_t>(), 900);
  EXPECT_LT(s["calibration"]["motorMs"][0].get<int64_t>(), 2500);
  bool resolved = false;
  for (const auto& row : s["calibration"]["rows"]) {
    if (row["webhook"] != "UpdateAction RESOLVED @lock1") continue;
    resolved = true;
    EXPECT_GT(row["simMs"].get<int64_t>(), 0) << s["calibration"].dump();
    EXPECT_LT(std::abs(row["realMs"].get<int64_t>() - row["simMs"].get<int64_t>()), 300)
        << s["calibration"].dump();
  }
  EXPECT_TRUE(resolved) << s["calibration"].dump();
  EXPECT_EQ(s["calibration"]["simulatedVerdict"], "passed");
  EXPECT_TRUE(s["calibration"]["differences"].empty()) << s["calibration"].dump();
  // The code it made is gone from the lock and from Nuki Web's list.
  EXPECT_TRUE(codesOnLock("Front door").empty());
  EXPECT_TRUE(codesListed("Front door").empty());
  expectNeighbourUntouched();
}

TEST_F(Hil, CalibrationMeasuresTheRealLockAndFitsNukisimsSettingsToIt) {
  // The HIL file says the motor takes 3 s; the "real" lock (nukisim at 1 s) is faster.
  write("hil.json", json{{"locks", json::array({json{{"name", "Front door"},
                                                     {"smartlockId", ids_["Front door"]},
                                                     {"timezone", "Europe/Berlin"},
                                                     {"motorSeconds", 3},
                                                     {"deliverySeconds", 1}}})}}
                        .dump());
  const std::string f = write("suite/opens.json", codeOpens());
  const std::string fitted = (dir_ / "fitted.json").string();
  Result r = nukihil(liveArgs({f}), {"--calibrate", fitted});
  // Told 3 s, the model cannot have the lock locked after 2: the file cannot be judged ...
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("[1/1] ERROR"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("steps[2] (expectAction): the expectation contradicts SPEC: the file "
                       "expects {\"status\":\"RESOLVED\"}, SPEC gives {\"status\":\"PENDING\"}"),
            std::string::npos)
      << r.err;
  // ... and the calibration says why and fits the motor to what was measured.
  EXPECT_NE(r.err.find("lock actions measured: 1 (median PENDING → RESOLVED "), std::string::npos)
      << r.err;
  std::ifstream in(fitted);
  const json settings = json::parse(in);
  // The real 1 s (2 on a loaded machine), not the file's 3.
  EXPECT_GE(settings["defaults"]["motorSeconds"].get<int>(), 1) << settings.dump();
  EXPECT_LE(settings["defaults"]["motorSeconds"].get<int>(), 2) << settings.dump();
  EXPECT_EQ(settings["defaults"]["deliverySeconds"], 1);
  const json c = report()["scenarios"][0]["calibration"];
  ASSERT_EQ(c["motorMs"].size(), 1u);
  EXPECT_GE(c["motorMs"][0].get<int64_t>(), 900);
  EXPECT_LT(c["motorMs"][0].get<int64_t>(), 2500);
  // In the embedded world, on the HIL file's 3 s, the file's RESOLVED after 2 s is wrong.
  EXPECT_EQ(c["simulatedVerdict"], "error");
  EXPECT_NE(c["simulatedMessage"].get<std::string>().find(
                "steps[2] (expectAction): the expectation contradicts SPEC"),
            std::string::npos)
      << c.dump();
}

TEST_F(Hil, ALockLeftOfflineIsReportedWithWhatWaitsInItsQueue) {
  const std::string f = write("suite/offline.json", R"({"name": "a code for an offline lock",
    "locks": [{"name": "Front door"}],
    "steps": [{"do": "offline", "lock": "Front door"},
              {"do": "createPin", "lock": "Front door", "as": "g",
               "parameters": {"name": "Guest", "pinCode": "234567"}},
              {"do": "advance", "seconds": 1},
              {"do": "expectAction", "ref": "g", "status": "PENDING"}]})");
  // The token as a flag this time: it must not reach the reports.
  Result r = nukihil(liveArgs({f}), {"--nuki-token", kToken});
  // Something left on the account is no clean run: exit 1, and the summary says what.
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("NOT CLEANED UP on the account (see to it by hand):"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("NOT CLEANED UP: 'Front door' is offline at the end: what the scenario "
                       "sent it waits in its queue and reaches it when it is back online "
                       "(codes 234567: remove them then)"),
            std::string::npos)
      << r.err;
  const json report = this->report();
  EXPECT_EQ(report["scenarios"][0]["notCleanedUp"].size(), 1u);
  EXPECT_EQ(report["command"].get<std::string>().find(kToken), std::string::npos);
  EXPECT_NE(report["command"].get<std::string>().find("--nuki-token ***"), std::string::npos);
  // The adapter's registration with Nuki Web is gone with it.
  EXPECT_EQ(json::parse(nuki_->request("GET", "/api/decentralWebhook").body).size(), 0u);
}

TEST_F(Hil, ACheckThatCannotBeMadeMakesTheScenarioSkippedNeverPassed) {
  const std::string f =
      write("suite/opens.json",
            codeOpens(R"(, {"do": "expectLock", "lock": "Front door", "codes": [234567]})"));
  Result r = nukihil(liveArgs({f}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("[1/1] SKIP"), std::string::npos) << r.err;
  const json s = report()["scenarios"][0];
  EXPECT_EQ(s["verdict"], "skipped");
  ASSERT_EQ(s["skippedChecks"].size(), 1u);
  EXPECT_EQ(s["skippedChecks"][0],
            "steps[11] (expectLock): device truth cannot be read from a "
            "real lock");
  EXPECT_TRUE(codesListed("Front door").empty());
}

TEST_F(Hil, APlantedAdapterBugFailsTheRun) {
  const std::string f = write("suite/opens.json", codeOpens());
  Result r = nukihil(liveArgs({f}), {"--plant", "drop-resolved"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("[1/1] FAIL"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("R-ACT-ONLINE (Front door, webhook 11): missing: UpdateAction RESOLVED "
                       "@lock1"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("not replayed"), std::string::npos);
}

// `fault` steps on nuki-web: the harness's fault proxy answers the adapter in Nuki Web's stead,
// and the model follows the adapter's calls through the proxy's journal. The advance leaves room
// for the adapter's backoff with jitter (its first two pauses take up to 2 s + 4 s) and the
// 1 s motor: the wall clock does not draw the jitter from the scenario's seed.
TEST_F(Hil, FaultsOnTheNukiApiComeFromTheFaultProxy) {
  const std::string f = write("suite/faults.json", R"({"name": "lock through 429s, then a 403",
    "rules": ["R-ACT-ONLINE", "R-ACT-FAILED"],
    "locks": [{"name": "Front door"}],
    "steps": [
      {"do": "fault", "fault": {"route": "/smartlock/*/action/*", "methods": ["POST"],
                                "status": 429, "retryAfter": 1, "count": 2}},
      {"do": "setLocked", "lock": "Front door", "parameters": {"lock": true}, "as": "lock1"},
      {"do": "expectAction", "ref": "lock1", "status": "QUEUED"},
      {"do": "advance", "seconds": 10},
      {"do": "expectAction", "ref": "lock1", "status": "RESOLVED"},
      {"do": "fault", "fault": {"route": "/smartlock/*/action/*", "status": 403, "count": 1}},
      {"do": "setLocked", "lock": "Front door", "parameters": {"lock": true}, "as": "lock2"},
      {"do": "expectAction", "ref": "lock2", "status": "FAILED", "reason": "403"},
      {"do": "clearFaults"}]})");
  Result r = nukihil(liveArgs({f}), {"--plan"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("the harness's fault proxy between the adapter and Nuki Web"),
            std::string::npos)
      << r.out;
  r = nukihil(liveArgs({f}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("[1/1] PASS"), std::string::npos) << r.err;
  // The two 429s and the 403 never reached Nuki Web: it saw the one lock call that went
  // through.
  size_t locks = 0;
  for (const auto& e : journal())
    locks += e["type"] == "api" && e["method"] == "POST" &&
             e["path"] == "/smartlock/" + std::to_string(ids_["Front door"]) + "/action/lock";
  EXPECT_EQ(locks, 1u);
  expectNeighbourUntouched();
}

// Nuki Web showing a new code before any sync (here another client syncs the lock behind the
// scenario's back) is a finding about the service; the adapter, which then follows Nuki Web,
// cannot be judged against SPEC from there: an error, not the adapter's failure.
TEST_F(Hil, TheServiceDepartingFromSpecIsReportedApartFromTheAdapter) {
  const std::string f = write("suite/early.json", R"({"name": "a new code waits for the sync",
    "rules": ["R-PIN-ACCEPTED"],
    "locks": [{"name": "Front door"}],
    "steps": [
      {"do": "createPin", "lock": "Front door", "as": "guest",
       "parameters": {"name": "Guest", "pinCode": "456789"}},
      {"do": "advance", "seconds": 8},
      {"do": "expectAction", "ref": "guest", "status": "PENDING"}]})");
  scenarios::ChildProcess p;
  ASSERT_NO_FATAL_FAILURE(startUntil(p, f, "waiting 8 s"));
  // Past the 1 s delivery, the code is on the lock; the sync copies it into the web view.
  while (codesOnLock("Front door").empty())
    ASSERT_FALSE(p.wait(milliseconds(50))) << p.err();
  EXPECT_EQ(
      nuki_->request("POST", "/smartlock/" + std::to_string(ids_["Front door"]) + "/sync").status,
      204);
  auto exit = p.wait(milliseconds(120000));
  ASSERT_TRUE(exit && exit->exited) << p.err();
  EXPECT_EQ(exit->code, 1) << p.err();
  EXPECT_NE(p.err().find("[1/1] ERROR"), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("Where the service departs from SPEC (not the adapter):"),
            std::string::npos)
      << p.err();
  const json s = report()["scenarios"][0];
  EXPECT_EQ(s["verdict"], "error");
  ASSERT_FALSE(s["serviceFindings"].empty()) << s.dump();
  EXPECT_NE(s["serviceFindings"][0].get<std::string>().find(
                "it showed 456789, which SPEC shows only after a sync"),
            std::string::npos)
      << s["serviceFindings"].dump();
  EXPECT_NE(s["message"].get<std::string>().find("cannot be judged: Nuki Web departed from SPEC"),
            std::string::npos)
      << s["message"];
  // Cleaned up all the same.
  EXPECT_TRUE(codesListed("Front door").empty());
}

// The lock is left as the harness found it: locked again if it was locked (after an unlock
// with --allow-unlock), unlocked again only with --allow-unlock, else left locked and said so.
TEST_F(Hil, EachLockIsLeftLockedOrUnlockedAsItWasFound) {
  const std::string f = write("suite/locks.json", R"({"name": "locks the door",
    "locks": [{"name": "Front door"}],
    "steps": [{"do": "setLocked", "lock": "Front door", "parameters": {"lock": true}, "as": "l"},
              {"do": "advance", "seconds": 3},
              {"do": "expectAction", "ref": "l", "status": "RESOLVED"}]})");
  const std::string path = "/sim/v1/smartlocks/" + std::to_string(ids_["Front door"]) + "/device";
  auto motor = [&] { return json::parse(control_->request("GET", path).body)["state"]; };
  ASSERT_EQ(motor(), 3);

  // Unlocked at the start, locked at the end, no --allow-unlock: left locked, said, no failure.
  Result r = nukihil(liveArgs({f}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("Front door is left locked; it was unlocked at the start"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(motor(), 1);

  // Locked at the start: unlocked first, and locked again at the end.
  r = nukihil(liveArgs({f}), {"--allow-unlock"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("Front door is locked; unlocking it first"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("restoring Front door"), std::string::npos)
      << "it ends locked, as it was: nothing to restore\n"
      << r.err;
  EXPECT_EQ(motor(), 1);

  // Unlocked at the start, with --allow-unlock: unlocked again at the end.
  ASSERT_EQ(
      control_
          ->request("POST", path.substr(0, path.size() - 7) + "/manual", R"({"action":"unlock"})")
          .status,
      200);
  ASSERT_EQ(motor(), 3);
  r = nukihil(liveArgs({f}), {"--allow-unlock"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("restoring Front door: unlocking it again, as it was at the start"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(motor(), 3);
  EXPECT_TRUE(report()["scenarios"][0].value("notCleanedUp", json::array()).empty());

  // Locked at the start, a scenario that leaves it unlocked: unlocked first, locked again.
  const std::string waits = write("suite/waits.json", R"({"name": "only waits",
    "locks": [{"name": "Front door"}], "steps": [{"do": "advance", "seconds": 1}]})");
  const std::string lockDoor = path.substr(0, path.size() - 7) + "/manual";
  ASSERT_EQ(control_->request("POST", lockDoor, R"({"action":"lock"})").status, 200);
  ASSERT_EQ(motor(), 1);
  r = nukihil(liveArgs({waits}), {"--allow-unlock"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("restoring Front door: locking it again, as it was at the start"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(motor(), 1);

  // Unlocked by the checks, then skipped by a later one (a code of the owner's on the lock):
  // locked again all the same.
  const std::string base = path.substr(0, path.size() - 7);
  ASSERT_EQ(
      control_->request("POST", base + "/device-codes", R"({"name":"Owner","code":456789})").status,
      201);
  ASSERT_EQ(control_->request("POST", base + "/sync", "{}").status, 200);
  r = nukihil(liveArgs({waits}), {"--allow-unlock"});
  EXPECT_NE(r.err.find("[1/1] SKIP"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unlocking it first"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("restoring Front door: locking it again"), std::string::npos) << r.err;
  EXPECT_EQ(motor(), 1);
}

TEST_F(Hil, AStepTheOperatorSkipsSkipsTheScenarioAndStillCleansUp) {
  writeOperator({{"steps[5]", "skip"}});
  const std::string f = write("suite/opens.json", codeOpens());
  Result r = nukihil(liveArgs({f}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("[1/1] SKIP"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped: steps[5] (keypad): skipped by the operator file"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("cleaning up Front door"), std::string::npos);
  EXPECT_TRUE(codesListed("Front door").empty());
  EXPECT_TRUE(codesOnLock("Front door").empty());
}

TEST_F(Hil, CtrlCStopsTheRunAndRemovesWhatItMade) {
  const std::string f = write("suite/wait.json", R"({"name": "a long wait",
    "locks": [{"name": "Front door"}],
    "steps": [{"do": "createPin", "lock": "Front door", "as": "guest",
               "parameters": {"name": "Guest", "pinCode": "345678"}},
              {"do": "advance", "seconds": 600}]})");
  scenarios::ChildProcess p;
  // Until it waits (bounded), then Ctrl-C.
  ASSERT_NO_FATAL_FAILURE(startUntil(p, f, "waiting 600 s"));
  ::kill(p.pid(), SIGINT);
  auto exit = p.wait(milliseconds(60000));
  ASSERT_TRUE(exit && exit->exited) << p.err();
  EXPECT_EQ(exit->code, 130) << p.err();
  EXPECT_NE(p.err().find("interrupted (Ctrl-C) at steps[1]"), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("cleaning up Front door"), std::string::npos) << p.err();
  EXPECT_TRUE(codesListed("Front door").empty());
  EXPECT_TRUE(codesOnLock("Front door").empty());
}

// --target remote: the same harness against the running nukisim itself, each scenario's fleet
// built in it, its control plane doing the physical steps.
TEST_F(Hil, RemoteRunsTheScenariosInARunningNukisimAndCatchesAPlantedBug) {
  const std::string source = NUKIHIL_SOURCE_DIR;
  std::vector<std::string> argv = {NUKIHIL_BINARY,
                                   "run",
                                   source + "/scenarios/hil/knob_moves_the_lock.json",
                                   source + "/scenarios/hil/offline_lock_queues_the_action.json",
                                   "--target",
                                   "remote",
                                   "--sim",
                                   url_,
                                   "--sim-admin-token",
                                   admin_,
                                   "--check-seconds",
                                   "5",
                                   "--json",
                                   (dir_ / "report.json").string()};
  Result r = nukihil(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("[1/2] PASS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[2/2] PASS"), std::string::npos) << r.err;
  EXPECT_EQ(report()["scenarios"][1]["target"], "remote");
  // Each scenario got an account and a lock of its own; the bench's locks were not touched.
  expectNeighbourUntouched();
  size_t accounts = 0;
  for (const auto& a : json::parse(control_->request("GET", "/sim/v1/accounts").body))
    accounts += a["name"].get<std::string>().rfind("nukihil: ", 0) == 0;
  EXPECT_EQ(accounts, 2u);
  argv.push_back("--plant");
  argv.push_back("swap-setstate");
  r = nukihil(argv);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("FAIL"), std::string::npos) << r.err;
}

TEST_F(Hil, RemoteRefusesANukisimOnVirtualTime) {
  scenarios::ChildProcess virtualSim;
  const json banner = json::parse(virtualSim.start({NUKISIM_BINARY, "--port", "0", "--seed", "6"}));
  Result r = nukihil({NUKIHIL_BINARY, "run", write("suite/opens.json", codeOpens()), "--target",
                      "remote", "--sim", banner["url"], "--sim-admin-token", banner["adminToken"]});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("runs on virtual time; the adapter the harness starts runs on the wall "
                       "clock, so start nukisim with --clock real"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace nukihil::test
