// The pieces of a hardware-in-the-loop run that need no lock: the HIL file's checks, the plan
// of a scenario on real locks (which lock facts it takes from the file, why it is skipped), and
// the terminal operator reading a person's answers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "scenarios/hil.h"
#include "scenarios/operator.h"

namespace nukihil::scenarios {
namespace {

std::shared_ptr<const model::Scenario> scenario(const std::string& text) {
  auto r = model::parseScenario(text, "test.json");
  EXPECT_TRUE(r.problems.empty()) << (r.problems.empty() ? "" : r.problems[0].text());
  return std::make_shared<const model::Scenario>(std::move(*r.scenario));
}

HilFile hil(const std::string& text) {
  auto r = parseHilFile(text, "hil.json");
  EXPECT_TRUE(r.problems.empty()) << (r.problems.empty() ? "" : r.problems[0].text());
  return r.hil.value_or(HilFile{});
}

// docs/hil.md shows the table `--plan` prints: a change to what a target does with a step is a
// change to the documentation too.
TEST(HilPlan, TheDocumentedCapabilityTableIsTheOneThePlanPrints) {
  std::ifstream in(std::string(NUKIHIL_SOURCE_DIR) + "/docs/hil.md");
  ASSERT_TRUE(in) << "docs/hil.md not found";
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_NE(doc.str().find(capabilityTable()), std::string::npos)
      << "docs/hil.md's table is out of date; `nukihil run … --plan` prints:\n"
      << capabilityTable();
}

TEST(HilFile, EveryProblemHasItsPath) {
  auto r = parseHilFile(R"({"locks": [{"name": "A", "smartlockId": 1, "timezone": "Mars/Base"},
      {"name": "A", "smartlockId": 1, "syncAt": "25:00", "motorSeconds": -1}]})",
                        "hil.json");
  std::vector<std::string> texts;
  for (const auto& p : r.problems)
    texts.push_back(p.path + ": " + p.message);
  EXPECT_FALSE(r.hil);
  const std::vector<std::string> want = {
      "locks[0].timezone: must be an IANA time zone (\"Europe/Berlin\"), not \"Mars/Base\"",
      "locks[1].name: another lock of the file is named 'A'",
      "locks[1].smartlockId: smartlock 1 is listed twice",
      "locks[1].syncAt: must be HH:MM, the lock's daily sync in its local time",
      "locks[1].motorSeconds: must be a whole number of seconds (0–3600)"};
  EXPECT_EQ(texts, want);
  EXPECT_FALSE(parseHilFile("{\"locks\": [}", "hil.json").problems.empty());
  EXPECT_FALSE(parseHilFile(R"({"locks": []})", "hil.json").problems.empty());
}

TEST(HilPlan, TheModelTakesTheRealLocksFacts) {
  const HilFile h = hil(R"({"locks": [{"name": "Gate", "smartlockId": 42, "model": "3.0",
      "bridgeId": 9, "timezone": "Europe/Berlin", "syncAt": "02:30", "motorSeconds": 5}]})");
  PlanOptions po;
  po.publicUrl = true;
  auto p = planScenario(scenario(R"({"name": "n", "locks": [{"name": "Gate"}],
      "steps": [{"do": "advanceTo", "lock": "Gate", "localTime": "02:30"}]})"),
                        TargetKind::kNukiWeb, &h, po);
  ASSERT_TRUE(p.runnable) << p.skipReasons[0];
  const model::LockSpec& l = p.adapted->locks[0];
  EXPECT_FALSE(l.pro);
  EXPECT_EQ(l.bridgeId, 9u);
  EXPECT_EQ(l.timezone, "Europe/Berlin");
  EXPECT_EQ(l.syncAtMinute, 150);
  EXPECT_EQ(l.motorSeconds, 5);
  EXPECT_EQ(p.steps[0].what, "the daily sync at 02:30: POST /smartlock/{id}/sync");
  EXPECT_EQ(p.steps[0].accountChange, "sync on Gate (smartlock 42)");
}

TEST(HilPlan, SendsARealAccountOnlyReadsAndChangesOfItsOwnCodes) {
  const HilFile h = hil(R"({"locks": [{"name": "A", "smartlockId": 1}]})");
  PlanOptions po;
  po.publicUrl = true;
  auto plan = [&](const std::string& method, const std::string& path,
                  const std::string& body = "null") {
    return planScenario(
               scenario(R"({"name": "n", "locks": [{"name": "A", "codes": []}],
        "steps": [{"do": "createPin", "lock": "A", "as": "g",
                   "parameters": {"name": "G", "pinCode": "234567"}},
                  {"do": "nukiRequest", "lock": "A", "method": ")" +
                        method + R"(", "path": ")" + path + R"(", "body": )" + body + "}]}"),
               TargetKind::kNukiWeb, &h, po)
        .runnable;
  };
  const std::string keypadCode = R"({"type": 13, "name": "O", "code": 345678})";
  EXPECT_TRUE(plan("GET", "/smartlock/{lock}/auth"));
  EXPECT_TRUE(plan("PUT", "/smartlock/{lock}/auth", keypadCode));
  // An app authorisation (type 0) or a fob would give someone access: never.
  EXPECT_FALSE(plan("PUT", "/smartlock/{lock}/auth", R"({"type": 0, "name": "O"})"));
  EXPECT_FALSE(plan("PUT", "/smartlock/{lock}/auth", R"({"type": 13, "code": "345678"})"));
  EXPECT_TRUE(plan("POST", "/smartlock/{lock}/auth/{@g}"));
  EXPECT_TRUE(plan("DELETE", "/smartlock/{lock}/auth/{@g}"));
  EXPECT_TRUE(plan("POST", "/smartlock/{lock}/sync"));
  // An unlock, a rename, the lock's removal, another lock: never.
  EXPECT_FALSE(plan("POST", "/smartlock/{lock}/action"));
  EXPECT_FALSE(plan("POST", "/smartlock/{lock}/action/unlock"));
  EXPECT_FALSE(plan("POST", "/smartlock/{lock}"));
  EXPECT_FALSE(plan("DELETE", "/smartlock/{lock}?auth={@g}"));
  EXPECT_FALSE(plan("DELETE", "/smartlock/{lock}/auth/{@g}/../.."));
  EXPECT_FALSE(plan("DELETE", "/smartlock/{lock}/auth/123"));
  EXPECT_FALSE(plan("GET", "/smartlock/{lock}/../7"));
}

TEST(HilPlan, SaysEveryReasonAScenarioCannotRunOnRealLocks) {
  const HilFile h = hil(R"({"locks": [{"name": "A", "smartlockId": 1, "motorSeconds": 2},
      {"name": "B", "smartlockId": 2}]})");
  auto p = planScenario(scenario(R"({"name": "n", "start": "2025-03-01T00:00:00Z",
      "settings": {"motorSeconds": 4},
      "locks": [{"name": "A", "timezone": "Asia/Tokyo", "batteryCharge": 20, "online": false,
                 "codes": [{"name": "x", "code": 345678}]}],
      "steps": [{"do": "advanceTo", "lock": "A", "localTime": "12:00"},
                {"do": "advance", "seconds": 100},
                {"do": "restartAdapter", "during": "nextWebhook"},
                {"do": "keypad", "lock": "A", "code": 345678},
                {"do": "nukiRequest", "lock": "A", "method": "GET", "path": "/account"}]})"),
                        TargetKind::kNukiWeb, &h, PlanOptions{false, false, 60, false});
  EXPECT_FALSE(p.runnable);
  const std::vector<std::string> want = {
      "'A' must be in Asia/Tokyo; the real one is in UTC",
      "'A' must take 4 s to lock; the real one takes 2 s",
      "'A' starts at 20% charge; a real lock's charge cannot be set",
      "'A' starts with 1 codes on it; the harness does not put codes on a real lock before a "
      "scenario",
      "'A' starts offline",
      "it starts at 2025-03-01T00:00:00.000Z; a real clock cannot be set to an absolute instant",
      "the adapter needs Nuki's webhooks (adapter.nukiWebhooks) and Nuki Web cannot reach it: "
      "give --public-url, or a loopback --nuki-url",
      "steps[0] (advanceTo): a local time other than the daily sync (03:00) would be a real wait "
      "of hours",
      "steps[2] (restartAdapter): a kill `during` an exchange cannot be timed against a real "
      "service",
      "steps[3] (keypad): needs an operator: type the code on the keypad and say whether the lock "
      "opened (the refusal reason cannot be read) on A (smartlock 1)",
      "steps[4] (nukiRequest): GET /account is not sent to a real account: only reads of the "
      "lock, PUT /smartlock/{lock}/auth of a keypad code (type 13, a numeric code; removed at the "
      "end), POST or DELETE "
      "/smartlock/{lock}/auth/{@name} (a code the scenario made) and POST /smartlock/{lock}/sync",
      "its advances wait 100 s in all, more than --max-wait 60 s"};
  EXPECT_EQ(p.skipReasons, want);
  // The embedded target performs every step.
  auto e = planScenario(p.adapted, TargetKind::kEmbedded, nullptr, {});
  EXPECT_TRUE(e.runnable);
}

struct Pipe {
  int fd[2];
  Pipe() { EXPECT_EQ(::pipe(fd), 0); }
  ~Pipe() {
    ::close(fd[0]);
    if (fd[1] >= 0) ::close(fd[1]);
  }
  void write(const std::string& s) {
    EXPECT_EQ(::write(fd[1], s.data(), s.size()), ssize_t(s.size()));
  }
  void close() {
    ::close(fd[1]);
    fd[1] = -1;
  }
};

// The operator answers once the question is asked: the text is typed again and again until the
// answer is taken (what comes before the question is dropped, as a key pressed too early).
OperatorAnswer answer(TerminalOperator& op, const Prompt& p, Pipe& in, const std::string& text) {
  std::atomic<bool> done{false};
  std::thread typist([&] {
    while (!done) {
      in.write(text);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  OperatorAnswer a = op.ask(p);
  done = true;
  typist.join();
  return a;
}

TEST(TerminalOperator, AsksTellsWhatToDoAndReadsTheAnswer) {
  model::Step keypad;
  keypad.index = 3;
  keypad.kind = model::StepKind::kKeypad;
  keypad.number = 234567;
  Prompt p;
  p.step = &keypad;
  p.lock = "Front door";
  p.smartlockId = 17;
  Pipe in;
  std::ostringstream out;
  TerminalOperator op(in.fd[0], out, nullptr);
  OperatorAnswer a = answer(op, p, in, "yes\n  R \n");
  EXPECT_TRUE(a.done);
  EXPECT_EQ(a.granted, false);
  EXPECT_NE(out.str().find("OPERATOR (you) steps[3] (keypad): type 234567 on the keypad of "
                           "Front door (smartlock 17), then say whether the lock opened"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("(g, r or s, please)"), std::string::npos);
  // A 3.0's bridge is unplugged; "s" skips; the end of input skips too.
  model::Step offline;
  offline.index = 4;
  offline.kind = model::StepKind::kOffline;
  p.step = &offline;
  p.pro = false;
  p.bridgeId = 9;
  a = answer(op, p, in, "s\n");
  EXPECT_FALSE(a.done);
  EXPECT_EQ(a.note, "skipped by the operator");
  EXPECT_NE(out.str().find("unplug bridge 9 of Front door (smartlock 17)"), std::string::npos);
  EXPECT_TRUE(answer(op, p, in, "d\n").done);
  in.close();
  a = op.ask(p);
  EXPECT_FALSE(a.done);
  EXPECT_EQ(a.note, "no operator (end of input)");
}

TEST(TerminalOperator, WhatWasTypedBeforeTheQuestionIsNoAnswer) {
  model::Step knob;
  knob.kind = model::StepKind::kKnob;
  Prompt p;
  p.step = &knob;
  p.timeoutSeconds = 0;
  Pipe in;
  std::ostringstream out;
  TerminalOperator op(in.fd[0], out, nullptr);
  in.write("d\n");
  OperatorAnswer a = op.ask(p);
  EXPECT_FALSE(a.done);
  EXPECT_EQ(a.note, "no answer in 0 s");
}

TEST(TerminalOperator, NoAnswerInTimeIsASkip) {
  model::Step knob;
  knob.kind = model::StepKind::kKnob;
  Prompt p;
  p.step = &knob;
  p.timeoutSeconds = 0;
  Pipe in;
  std::ostringstream out;
  TerminalOperator op(in.fd[0], out, nullptr);
  OperatorAnswer a = op.ask(p);
  EXPECT_FALSE(a.done);
  EXPECT_EQ(a.note, "no answer in 0 s");
}

}  // namespace
}  // namespace nukihil::scenarios
