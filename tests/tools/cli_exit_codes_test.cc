// One exit-code convention for the three tools (README "Exit codes", issue 8 item 14): an
// argument error — an unknown flag, a value of the wrong type, a missing flag — exits 2 in
// nuki-adapter, nukisim and nukihil alike (CLI11's own codes 104–109 never leak out), --help
// exits 0, and nuki-adapter started with nothing names every flag it misses at once.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <string>
#include <vector>

#include "scenarios/child_process.h"

namespace nukihil::test {
namespace {

struct Ran {
  int code = -1;
  std::string output;  // stdout and stderr
};

Ran run(std::vector<std::string> argv) {
  scenarios::ChildProcess p;
  p.spawn(argv, scenarios::ChildProcess::Stderr::kCapture);
  // Bounded: a binary that wrongly starts serving must not hang the suite.
  auto e = p.wait(std::chrono::seconds(20));
  EXPECT_TRUE(e && e->exited) << argv[0] << " did not exit by itself:\n" << p.err();
  return {e && e->exited ? e->code : -1, p.out() + p.err()};
}

TEST(CliExitCodes, ArgumentErrorsExit2InEveryTool) {
  for (const char* tool : {NUKI_ADAPTER_BINARY, NUKISIM_BINARY, NUKIHIL_BINARY}) {
    EXPECT_EQ(run({tool, "--help"}).code, 0) << tool;
    const bool subcommands = std::string(tool) == NUKIHIL_BINARY;
    auto unknown = subcommands ? run({tool, "run", "x.json", "--no-such-flag"})
                               : run({tool, "--no-such-flag"});
    EXPECT_EQ(unknown.code, 2) << tool << ": " << unknown.output;
    EXPECT_NE(unknown.output.find("--no-such-flag"), std::string::npos) << unknown.output;
  }
  // A value of the wrong type (CLI11: 105 before).
  auto port = run({NUKISIM_BINARY, "--port", "eighty"});
  EXPECT_EQ(port.code, 2) << port.output;
  auto listen = run({NUKI_ADAPTER_BINARY, "--listen", "eighty"});
  EXPECT_EQ(listen.code, 2) << listen.output;
  // Out of range (CLI11: 105 before).
  auto jobs = run({NUKIHIL_BINARY, "run", "x.json", "--jobs", "0"});
  EXPECT_EQ(jobs.code, 2) << jobs.output;
  // A missing subcommand or positional argument (CLI11: 106 before).
  auto none = run({NUKIHIL_BINARY});  // also with an unknown flag only: "A subcommand is required"
  EXPECT_EQ(run({NUKIHIL_BINARY, "--no-such-flag"}).code, 2);
  EXPECT_EQ(none.code, 2) << none.output;
  auto noPaths = run({NUKIHIL_BINARY, "run"});
  EXPECT_EQ(noPaths.code, 2) << noPaths.output;
}

TEST(CliExitCodes, NukiAdapterWithNoArgumentsNamesEveryMissingFlag) {
  ::unsetenv("NUKI_TOKEN");
  ::unsetenv("NUKIHIL_API_KEY");
  ::unsetenv("NUKIHIL_WEBHOOK_SECRET");
  auto r = run({NUKI_ADAPTER_BINARY});
  EXPECT_EQ(r.code, 2) << r.output;
  for (const char* flag :
       {"--nuki-token", "--api-key", "--webhook-url", "--webhook-secret", "--db"})
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag << " not named in:\n" << r.output;
  // An environment variable stands in for its flag.
  ::setenv("NUKI_TOKEN", "t", 1);
  auto withToken = run({NUKI_ADAPTER_BINARY});
  ::unsetenv("NUKI_TOKEN");
  EXPECT_EQ(withToken.code, 2);
  EXPECT_EQ(withToken.output.find("--nuki-token"), std::string::npos) << withToken.output;
  EXPECT_NE(withToken.output.find("--db"), std::string::npos) << withToken.output;
}

}  // namespace
}  // namespace nukihil::test
