// Exploration throughput: `nukihil explore`'s steps per second in embedded mode — a step being
// one SPEC §7 step with its quiescence, in the generators' default mix (the seed's mix), world
// start-up and discovery of every case included — over loopback and in memory. Targets:
// ≥ 2,000 steps/s over loopback and ≥ 20,000 in memory. Prints PASS/FAIL; exit 1 on FAIL.
#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

#include "scenarios/explore.h"

using namespace nukihil::scenarios;

int main(int argc, char** argv) {
  CLI::App app{"bench-explore-steps: exploration steps per second, loopback and in memory",
               "bench-explore-steps"};
  uint64_t seed = 1;
  int cases = 200;
  std::string only;
  app.add_option("--seed", seed, "explore's seed (its mix is printed)")->capture_default_str();
  app.add_option("--cases", cases, "cases per transport")->capture_default_str();
  app.add_option("--transport", only, "only this one: loopback or memory")
      ->check(CLI::IsMember({"loopback", "memory"}));
  CLI11_PARSE(app, argc, argv);
  bool ok = true;
  for (const auto& [name, transport, target] :
       {std::tuple{"loopback", EmbeddedTransport::kLoopback, 2000.0},
        std::tuple{"memory", EmbeddedTransport::kMemory, 20000.0}}) {
    if (!only.empty() && only != name) continue;
    ExploreOptions o;
    o.seed = seed;
    o.cases = cases;
    o.transport = transport;
    o.replay = false;
    o.shrinkSeconds = 0;  // a failure found ends the run at once: the rate is of the cases run
    o.outDir = "build/bench-explore-failures";
    std::ostringstream out;
    const ExploreResult r = explore(o, out);
    if (r.failed)
      std::cout << name << ": exploration found a failure in case " << r.failingCase << " ("
                << r.message.substr(0, 100) << "…); the rate below is of the cases before it\n";
    const double rate = double(r.steps) / r.seconds;
    const bool pass = rate >= target;
    ok = ok && pass;
    std::cout << name << ": " << r.cases << " cases, " << r.steps << " steps in " << r.seconds
              << " s = " << int(rate) << " steps/s (" << int(double(r.cases) / r.seconds)
              << " cases/s); target " << int(target) << ": " << (pass ? "PASS" : "FAIL") << "\n";
  }
  return ok ? 0 : 1;
}
