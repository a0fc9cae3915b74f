// nukisim's Nuki Web API (SPEC §2) with the fuzzer's bytes as path, query and body of the
// requests a Nuki client sends: the simulator's Nuki JSON codec and every handler's input
// checks. Invariants: no crash or sanitizer report; every answer has a JSON body in Nuki's
// shapes; 5xx only when a fault asked for it (no fault is ever set here).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz/sim_support.h"

namespace {
constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
constexpr const char* kPrefixes[] = {"/smartlock",
                                     "/smartlock/{lock}",
                                     "/smartlock/{lock}/action",
                                     "/smartlock/auth",
                                     "/smartlock/{lock}/auth",
                                     "/smartlock/{lock}/auth/",
                                     "/smartlock/{lock}/log",
                                     "/smartlock/{lock}/sync",
                                     "/api/decentralWebhook",
                                     "/account",
                                     "/smartlock/auth/paged"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nukihil::fuzz::SimUnderTest sim;
  static std::string token, lockId;
  if (token.empty()) {
    const std::string fleet =
        R"({"accounts":[{"name":"F","smartlocks":[{"name":"Door","codes":[{"name":"A","code":345678}]}]}]})";
    sim.call("POST", "/sim/v1/fleet", fleet);
    auto accounts = nlohmann::json::parse(sim.call("GET", "/sim/v1/accounts", "").body);
    token = accounts.at(0).at("apiToken").get<std::string>();
    auto locks = nlohmann::json::parse(sim.call("GET", "/sim/v1/smartlocks", "").body);
    const auto& list =
        locks.is_array() ? locks : locks.value("smartlocks", nlohmann::json::array());
    lockId = list.empty() ? "1" : std::to_string(list.at(0).value("smartlockId", uint64_t(1)));
  }
  if (size < 2) return 0;
  const char* method = kMethods[data[0] % 4];
  std::string target = kPrefixes[data[1] % (sizeof kPrefixes / sizeof kPrefixes[0])];
  if (auto at = target.find("{lock}"); at != std::string::npos) target.replace(at, 6, lockId);
  // The rest: a suffix for the target (up to the first NUL byte), then the body.
  std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto nul = rest.find('\0');
  std::string body;
  if (nul != std::string::npos) {
    target += rest.substr(0, nul);
    body = rest.substr(nul + 1);
  } else {
    body = std::move(rest);
  }
  const auto r = sim.call(method, target, body, "Bearer " + token);
  if (r.status == 0) return 0;
  if (r.status >= 500) std::abort();
  if (!r.body.empty() && nlohmann::json::parse(r.body, nullptr, false).is_discarded()) std::abort();
  return 0;
}
