// The scenario file reader (SPEC §7; scenarios/model/scenario.h): files come from people who
// never read this code. Invariants: no crash or sanitizer report; a refused file always says
// why (a problem with a message), and a file without problems gives a scenario.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "scenarios/model/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto result = nukihil::model::parseScenario(text, "fuzz.json");
  if (!result.problems.empty()) {
    if (result.problems.front().message.empty()) std::abort();
  } else if (!result.scenario) {
    std::abort();  // neither a scenario nor a reason
  }
  return 0;
}
