// `nukihil explore` (scenarios/explore.h): the same seed draws the same cases and trace; every
// fault planted between the adapter and the recorder is caught within 300 cases, shrunk to at
// most 6 steps, written as a scenario file that `nukihil run` replays, and reproducible from
// the printed string; the adapter as it is passes a small budget. Label `property`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "scenarios/explore.h"
#include "scenarios/planted_faults.h"

namespace nukihil::scenarios {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("nukihil-explore-test-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

ExploreOptions small(uint64_t seed, int cases) {
  ExploreOptions o;
  o.seed = seed;
  o.cases = cases;
  o.shrinkSeconds = 120;
  return o;
}

TEST(Explore, TheSameSeedDrawsTheSameCasesAndAByteIdenticalTrace) {
  TempDir dir;
  ExploreOptions o = small(11, 6);
  o.tracePath = dir / "a.jsonl";
  std::ostringstream out1, out2;
  const ExploreResult a = explore(o, out1);
  o.tracePath = dir / "b.jsonl";
  const ExploreResult b = explore(o, out2);
  const std::string ta = slurp(dir / "a.jsonl"), tb = slurp(dir / "b.jsonl");
  EXPECT_FALSE(a.failed) << out1.str();
  EXPECT_EQ(a.cases, 6);
  EXPECT_EQ(a.steps, b.steps);
  ASSERT_FALSE(ta.empty());
  EXPECT_EQ(ta, tb);
  // One JSON line per step and per webhook, each naming its case.
  size_t steps = 0, webhooks = 0;
  std::istringstream lines(ta);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    ASSERT_TRUE(j.contains("case")) << line;
    if (j.contains("step")) ++steps;
    if (j.contains("webhook")) ++webhooks;
  }
  EXPECT_EQ(steps, a.steps);
  EXPECT_GT(webhooks, steps / 2) << "every case has discovery and actions";
  // Another seed draws other cases.
  o.seed = 12;
  o.tracePath = dir / "c.jsonl";
  std::ostringstream out3;
  explore(o, out3);
  EXPECT_NE(slurp(dir / "c.jsonl"), ta);
}

TEST(Explore, LoopbackAndMemoryTransportsGiveTheSameTrace) {
  TempDir dir;
  ExploreOptions o = small(31, 8);
  o.tracePath = dir / "loopback.jsonl";
  std::ostringstream out1, out2;
  const ExploreResult a = explore(o, out1);
  o.transport = EmbeddedTransport::kMemory;
  o.tracePath = dir / "memory.jsonl";
  const ExploreResult b = explore(o, out2);
  EXPECT_FALSE(a.failed) << out1.str();
  EXPECT_FALSE(b.failed) << out2.str();
  EXPECT_EQ(a.steps, b.steps);
  const std::string ta = slurp(dir / "loopback.jsonl");
  ASSERT_FALSE(ta.empty());
  EXPECT_EQ(ta, slurp(dir / "memory.jsonl"));
}

TEST(Explore, ShardsHaveSeedsOfTheirOwnAndTheMixFollowsTheSeed) {
  EXPECT_EQ(shardSeed(7, 0), 7u);
  EXPECT_NE(shardSeed(7, 1), shardSeed(7, 2));
  EXPECT_NE(shardSeed(7, 1), shardSeed(8, 1));
  const FaultMix base = FaultMix::defaults(), a = FaultMix::fromSeed(5), b = FaultMix::fromSeed(5);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_NE(a.weights, FaultMix::fromSeed(6).weights);
  for (const auto& [kind, w] : a.weights) {
    EXPECT_GE(w, base.weights.at(kind) * 0.25 - 0.05) << kind;
    EXPECT_LE(w, base.weights.at(kind) * 2 + 0.05) << kind;
  }
  std::ostringstream out;
  ExploreOptions o = small(5, 1);
  o.shard = 1;
  o.shards = 4;
  explore(o, out);
  EXPECT_NE(out.str().find("shard 1/4 (its seed " + std::to_string(shardSeed(5, 1)) + ")"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("fault mix (relative weights): " +
                           FaultMix::fromSeed(shardSeed(5, 1)).describe()),
            std::string::npos);
}

class PlantedFault : public ::testing::TestWithParam<std::string> {};

TEST_P(PlantedFault, IsCaughtWithin300CasesShrunkToAtMost6StepsAndReplays) {
  TempDir dir;
  ExploreOptions o = small(1, 300);
  o.plant = GetParam();
  o.outDir = dir / "out";
  std::ostringstream out;
  const ExploreResult r = explore(o, out);
  ASSERT_TRUE(r.failed) << out.str();
  EXPECT_LE(r.failingCase, 300);
  EXPECT_GE(r.failingCase, 1);
  EXPECT_LE(r.shrunkSteps, 6u) << out.str();
  EXPECT_LE(r.shrunkSteps, r.originalSteps);
  EXPECT_EQ(r.property, "safety");
  EXPECT_TRUE(r.replayed) << r.replayMessage;
  ASSERT_TRUE(r.shrunkResult);
  EXPECT_EQ(r.shrunkResult->verdict, Verdict::kFailed);
  EXPECT_TRUE(r.shrunkResult->replayed) << "nukihil run replays a failure before reporting it";
  // The file on disk is a scenario file nukihil run takes, with the failing steps.
  const std::string text = slurp(r.file);
  auto parsed = model::parseScenario(text, r.file);
  ASSERT_TRUE(parsed.scenario) << parsed.problems.front().text() << "\n" << text;
  EXPECT_GE(parsed.scenario->steps.size(), r.shrunkSteps);
  // What the user reads: the failure first, the case before shrinking, how to reproduce it,
  // then the shrunk file and the replay.
  const std::string shown = out.str();
  const size_t failed = shown.find("FAILED (safety) in case");
  const size_t before = shown.find("the failing case before shrinking");
  const size_t again = shown.find("reproduce it: nukihil explore --seed 1 --cases");
  const size_t shrunk = shown.find("shrunk in");
  const size_t replay = shown.find("fails again");
  EXPECT_NE(failed, std::string::npos) << shown;
  EXPECT_LT(failed, before);
  EXPECT_LT(before, again);
  EXPECT_LT(again, shrunk);
  EXPECT_LT(shrunk, replay);
  EXPECT_NE(shown.find(r.file), std::string::npos);

  // The printed reproduce string runs exactly the shrunk case again.
  ExploreOptions rep;
  rep.reproduce = r.reproduce;
  rep.plant = GetParam();
  rep.outDir = dir / "again";
  std::ostringstream out2;
  const ExploreResult r2 = explore(rep, out2);
  ASSERT_TRUE(r2.failed) << out2.str();
  EXPECT_EQ(r2.message, r.message);
  // The same case, named after the round seed it came from (not the default --seed).
  auto steps = [](const std::string& t) { return nlohmann::json::parse(t).at("steps"); };
  EXPECT_EQ(steps(slurp(r2.file)), steps(text));
  EXPECT_EQ(fs::path(r2.file).filename().string().rfind("explore-reproduced-", 0), 0u) << r2.file;
  EXPECT_NE(slurp(r2.file).find("reproduced, round seed"), std::string::npos);
}

// A failure found during exploration whose shrunk file then passes under `nukihil run` is not
// reported as a failure, nor as a pass: it is kept and said, for the exit code 3.
TEST(Explore, AFailureWhoseFileDoesNotReplayIsNotReproducedNotPassed) {
  TempDir dir;
  ExploreOptions o = small(1, 300);
  o.plant = plantedFaultNames().front();
  o.TEST_replayPlant = "";  // the replay runs the adapter as it is
  o.outDir = dir / "out";
  o.shrinkSeconds = 20;
  std::ostringstream out;
  const ExploreResult r = explore(o, out);
  const std::string shown = out.str();
  EXPECT_FALSE(r.failed) << shown;
  EXPECT_TRUE(r.unreproduced) << shown;
  EXPECT_FALSE(r.replayed);
  EXPECT_TRUE(fs::exists(r.file)) << "the file is kept";
  EXPECT_NE(shown.find("did NOT fail"), std::string::npos) << shown;
  EXPECT_NE(shown.find("NOT REPRODUCED"), std::string::npos) << shown;
  EXPECT_NE(shown.find("not reproduced: "), std::string::npos) << shown;
  EXPECT_EQ(shown.find("\npassed: "), std::string::npos) << shown;
}

INSTANTIATE_TEST_SUITE_P(Explore, PlantedFault, ::testing::ValuesIn(plantedFaultNames()),
                         [](const auto& p) {
                           std::string n;
                           for (char c : p.param)
                             if (std::isalnum(static_cast<unsigned char>(c))) n += c;
                           return n;
                         });

// On the adapter as it is: every case drawn can be judged (none is lost to a harness that
// hangs or cannot follow), and a failure found is one that replays, shrunk. (Seed 2026 found
// three, all fixed since: see scenarios/found/README.md.)
TEST(Explore, ASmallBudgetJudgesItsCasesAndAFailureFoundReplays) {
  TempDir dir;
  ExploreOptions o = small(2026, 40);
  o.outDir = dir / "out";
  o.shrinkSeconds = 60;
  std::ostringstream out;
  const ExploreResult r = explore(o, out);
  const std::string shown = out.str();
  EXPECT_EQ(shown.find("the run could not go on"), std::string::npos) << shown;
  if (r.failed) {
    EXPECT_TRUE(r.replayed) << shown;
    EXPECT_LE(r.shrunkSteps, r.originalSteps);
    EXPECT_NE(shown.find("FAILED (" + r.property + ") in case"), std::string::npos);
  } else {
    EXPECT_EQ(r.cases, 40);
    EXPECT_NE(shown.find("passed: 40 cases"), std::string::npos) << shown;
  }
  EXPECT_GT(r.steps, 40u);
}

TEST(Explore, AReproduceStringThatIsNotOneIsRefused) {
  ExploreOptions o;
  o.reproduce = "not-a-reproduce-string";
  std::ostringstream out;
  EXPECT_THROW(explore(o, out), std::invalid_argument);
}

}  // namespace
}  // namespace nukihil::scenarios
