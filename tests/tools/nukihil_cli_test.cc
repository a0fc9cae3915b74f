// The nukihil binary as QA and CI run it: --help, exit codes (0 passed, 1 failed or errored, 2
// invalid file, nothing run), the progress and summary it prints, the reports it writes, and
// `nukihil record` printing a signed webhook as it arrives.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/blocking_client.h"
#include "runtime/crypto.h"
#include "scenarios/child_process.h"

#ifndef NUKIHIL_BINARY
#error "NUKIHIL_BINARY must name the nukihil executable"
#endif

namespace nukihil::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

struct Result {
  int code = -1;
  std::string out, err;
};

Result nukihil(const std::vector<std::string>& args) {
  scenarios::ChildProcess p;
  std::vector<std::string> argv = {NUKIHIL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  p.spawn(argv, scenarios::ChildProcess::Stderr::kCapture);
  auto exit = p.wait(milliseconds(120000));
  Result r;
  r.out = p.out();
  r.err = p.err();
  r.code = exit && exit->exited ? exit->code : -1;
  return r;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() /
                  ("nukihil-cli-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path f = path / name;
    fs::create_directories(f.parent_path());
    std::ofstream(f) << text;
    return f.string();
  }
};

const char* kPassing = R"({"name":"locking resolves","locks":[{"name":"A","model":"3.0 Pro"}],
  "steps":[{"do":"setLocked","lock":"A","as":"l","parameters":{"lock":true},"expect":{"status":202}},
           {"do":"advance","seconds":3},{"do":"expectAction","ref":"l","status":"RESOLVED"}]})";

TEST(NukihilCli, HelpNamesEveryCommandAndOption) {
  auto r = nukihil({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* word : {"run", "validate", "record", "Exit codes"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word << "\n" << r.out;
  auto run = nukihil({"run", "--help"});
  EXPECT_EQ(run.code, 0);
  for (const char* word :
       {"--junit", "--html", "--json", "--seed", "--filter", "--jobs", "--no-replay"})
    EXPECT_NE(run.out.find(word), std::string::npos) << word;
  EXPECT_EQ(nukihil({"record", "--help"}).code, 0);
  EXPECT_NE(nukihil({}).code, 0);
}

TEST(NukihilCli, APassingScenarioExitsZeroAndWritesTheReports) {
  TempDir d;
  const std::string f = d.write("suite/pass.json", kPassing);
  const std::string junit = (d.path / "out/junit.xml").string(),
                    html = (d.path / "out/r.html").string();
  auto r = nukihil(
      {"run", (d.path / "suite").string(), "--junit", junit, "--html", html, "--seed", "9"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("[1/1] PASS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("seed 9"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 scenario: 1 passed, 0 failed"), std::string::npos) << r.err;
  std::ifstream j(junit);
  std::stringstream xml;
  xml << j.rdbuf();
  EXPECT_NE(
      xml.str().find("<testcase classname=\"suite\" name=\"locking resolves\" file=\"" + f + "\""),
      std::string::npos)
      << xml.str();
  EXPECT_TRUE(fs::file_size(html) > 1000);
}

TEST(NukihilCli, AnInvalidFileExitsTwoNamingFilePathAndStepAndNothingRuns) {
  TempDir d;
  d.write("s/a.json", kPassing);
  const std::string bad = d.write("s/b.json", R"({"name":"b","locks":[{"name":"A"}],
    "steps":[{"do":"keypad","lock":"A","code":234567,"expct":{"granted":true}}]})");
  auto r = nukihil({"run", (d.path / "s").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(
      r.err.find(
          bad + ": steps[0] (keypad): steps[0].expct: unknown key 'expct'; did you mean 'expect'?"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing was run"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("PASS"), std::string::npos) << "a.json must not have run";
  EXPECT_EQ(nukihil({"validate", bad}).code, 2);
  EXPECT_EQ(nukihil({"run", (d.path / "missing").string()}).code, 2);
}

TEST(NukihilCli, AnExpectationThatContradictsSpecIsAnErrorAndExitsOne) {
  TempDir d;
  std::string text = kPassing;
  text.replace(text.find("\"RESOLVED\"}"), 11, "\"FAILED\"},{\"do\":\"advance\",\"seconds\":1}");
  const std::string f = d.write("e.json", text);
  const std::string junit = (d.path / "j.xml").string();
  const std::string report = (d.path / "r.json").string();
  auto r = nukihil({"run", f, "--junit", junit, "--json", report});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ERROR"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the expectation contradicts SPEC"), std::string::npos) << r.err;
  // What the system answered is said too, and the steps after are listed as not run.
  EXPECT_NE(r.err.find("(the system answered {\"status\":\"RESOLVED\"})"), std::string::npos)
      << r.err;
  std::ifstream rj(report);
  const json steps = json::parse(rj).at("scenarios").at(0).at("steps");
  ASSERT_FALSE(steps.empty());
  size_t notRun = 0;
  for (const auto& st : steps)
    if (st.at("run") == false) {
      ++notRun;
      EXPECT_NE(st.at("note").get<std::string>().find("not run: the scenario stopped at"),
                std::string::npos);
    }
  EXPECT_EQ(notRun, 1u) << steps.dump();
  EXPECT_EQ(steps.back().at("run"), false);
  // The replay line names the binary as it was started, so that it pastes as it is.
  EXPECT_NE(r.err.find(std::string("replay: ") + NUKIHIL_BINARY + " run " + f + " --seed 1"),
            std::string::npos)
      << r.err;
  std::ifstream j(junit);
  std::stringstream xml;
  xml << j.rdbuf();
  EXPECT_NE(xml.str().find("<error message="), std::string::npos) << xml.str();
}

TEST(NukihilCli, FilterSelectsScenarios) {
  TempDir d;
  d.write("s/a.json", kPassing);
  std::string other = kPassing;
  other.replace(other.find("locking resolves"), 16, "another one");
  d.write("s/b.json", other);
  auto r = nukihil({"run", (d.path / "s").string(), "--filter", "another"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("running 1 scenario"), std::string::npos) << r.err;
  EXPECT_EQ(nukihil({"run", (d.path / "s").string(), "--filter", "nothing-matches"}).code, 2);
}

TEST(NukihilCli, RecordPrintsEachSignedWebhookAsItArrives) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  scenarios::ChildProcess p;
  const std::string line = p.start({NUKIHIL_BINARY, "record", "--port", "0", "--secret", secret});
  const json banner = json::parse(line);
  const uint16_t port = banner.at("port").get<uint16_t>();
  http::BlockingClient client("127.0.0.1", port);
  const std::string body =
      R"({"id":"msg_1","type":"deviceEventSetState","occurredAt":"2026-12-01T00:00:00Z",)"
      R"("content":{"deviceId":"42","traitName":"LOCK","fieldName":"isLocked","value":true}})";
  const std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  const std::string key = *crypto::base64Decode(secret.substr(6));
  const std::string sig =
      "v1," + crypto::base64Encode(crypto::hmacSha256(key, "msg_1." + ts + "." + body));
  auto ok = client.request(
      "POST", "/platform", body,
      {{"webhook-id", "msg_1"}, {"webhook-timestamp", ts}, {"webhook-signature", sig}});
  EXPECT_EQ(ok.status, 204);
  auto bad = client.request(
      "POST", "/platform", body,
      {{"webhook-id", "msg_1"}, {"webhook-timestamp", ts}, {"webhook-signature", "v1,AAAA"}});
  EXPECT_EQ(bad.status, 401);
  ::kill(p.pid(), SIGINT);
  auto exit = p.wait(milliseconds(10000));  // collects what it printed
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->exited && exit->code == 0);
  EXPECT_NE(p.out().find("signed ok"), std::string::npos) << p.out();
  EXPECT_NE(p.out().find("SetState LOCK.isLocked=true"), std::string::npos) << p.out();
  EXPECT_NE(p.out().find("BAD SIGNATURE"), std::string::npos) << p.out();
}

// A folder with no scenario files, or a negative seed, is a usage error (2) for every command,
// never a pass: a CI step pointed at the wrong folder must not go green.
TEST(NukihilCli, AnEmptyFolderOrANegativeSeedExitsTwo) {
  TempDir d;
  fs::create_directories(d.path / "empty");
  const auto validate = nukihil({"validate", (d.path / "empty").string()});
  EXPECT_EQ(validate.code, 2);
  EXPECT_NE(validate.err.find("no scenario files"), std::string::npos) << validate.err;
  EXPECT_EQ(nukihil({"run", (d.path / "empty").string()}).code, 2);
  const std::string ok = d.write("a.json", kPassing);
  const auto run = nukihil({"run", ok, "--seed", "-1"});
  EXPECT_EQ(run.code, 2) << run.err;
  EXPECT_EQ(nukihil({"explore", "--seed", "-1", "--cases", "1"}).code, 2);
  const std::string bad = d.write("bad.json", R"({"name":"b","locks":[{"name":"A"}],
    "steps":[{"do":"advance","second":1}]})");
  const auto invalid = nukihil({"validate", bad, ok});
  EXPECT_EQ(invalid.code, 2);
  EXPECT_NE(invalid.err.find("in 2 scenario files"), std::string::npos) << invalid.err;
}

}  // namespace
}  // namespace nukihil::test
