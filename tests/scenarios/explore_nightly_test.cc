// The nightly exploration: a long budget on the adapter as it is, on both transports, with the
// seed from NUKIHIL_EXPLORE_SEED (CI passes the date) and NUKIHIL_EXPLORE_MINUTES (default 20).
// Label `nightly`: not in the default run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "scenarios/explore.h"

namespace nukihil::scenarios {
namespace {

ExploreOptions nightly() {
  ExploreOptions o;
  const char* seed = std::getenv("NUKIHIL_EXPLORE_SEED");
  const char* minutes = std::getenv("NUKIHIL_EXPLORE_MINUTES");
  o.seed = seed ? std::strtoull(seed, nullptr, 10) : 20261202;
  o.minutes = minutes ? std::atof(minutes) : 20;
  o.outDir = "explore-failures";
  return o;
}

TEST(ExploreNightly, NoFailureOverLoopback) {
  std::ostringstream out;
  const ExploreResult r = explore(nightly(), out);
  EXPECT_FALSE(r.failed) << out.str();
  std::cout << out.str();
}

TEST(ExploreNightly, NoFailureInMemory) {
  ExploreOptions o = nightly();
  o.seed += 1;
  o.transport = EmbeddedTransport::kMemory;
  std::ostringstream out;
  const ExploreResult r = explore(o, out);
  EXPECT_FALSE(r.failed) << out.str();
  std::cout << out.str();
}

}  // namespace
}  // namespace nukihil::scenarios
