// Virtual-time results must not depend on real pauses (issue 8, item 11): after the adapter's
// server has closed nukisim's idle keep-alive connection, nukisim's next Nuki webhook must go
// out at once on a fresh connection — not fail with "end of stream" and be retried on virtual
// backoff, which made an unlock resolve 35 virtual seconds late.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "runtime/blocking_client.h"
#include "scenarios/embedded_world.h"

namespace nukihil::scenarios {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

struct Trace {
  std::vector<std::string> webhooks;  // nukisim's deliveries: virtual ms, feature, status
  std::vector<std::string> platform;  // the adapter's webhooks as the recorder got them
};

// Three knob turns, a virtual minute apart; with `pause`, real time passes between them until
// the adapter's server has dropped every idle connection.
Trace run(bool pause) {
  EmbeddedWorld::Options o;
  o.adapterIdleTimeout = milliseconds(150);
  o.fleet = json{
      {"accounts", json::array({json{{"name", "Idle"},
                                     {"smartlocks", json::array({json{{"name", "Door"}}})}}})}};
  EmbeddedWorld w(o);
  w.startAdapter();
  const auto id = w.locks().at(0).second;
  http::BlockingClient sim("127.0.0.1", w.simPort(), w.simAdminToken());
  const uint64_t from = w.journalNext();
  for (int i = 0; i < 3; ++i) {
    if (pause) {
      // Real time, bounded: until the server has closed the kept-alive connections.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (w.adapterConnections() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(10));
      EXPECT_EQ(w.adapterConnections(), 0u) << "the adapter's server kept an idle connection";
    }
    const auto r = sim.request("POST", "/sim/v1/smartlocks/" + std::to_string(id) + "/manual",
                               json{{"action", i % 2 == 0 ? "unlock" : "lock"}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    w.advance(60);
  }
  Trace t;
  for (const auto& e : w.journal(from)) {
    if (e.kind != sim::JournalEntry::kWebhook) continue;
    t.webhooks.push_back(std::to_string(e.atMs) + " " + e.feature + " " + std::to_string(e.status) +
                         " attempt " + std::to_string(e.attempt) +
                         (e.error.empty() ? "" : " " + e.error));
  }
  for (const auto& h : w.webhooks())
    t.platform.push_back(h.raw);
  return t;
}

TEST(IdleConnections, ARealPauseLongerThanTheServersIdleTimeoutLeavesTheVirtualTraceUnchanged) {
  const Trace straight = run(false);
  const Trace paused = run(true);
  ASSERT_GE(straight.webhooks.size(), 3u);
  EXPECT_EQ(paused.webhooks, straight.webhooks);
  EXPECT_EQ(paused.platform, straight.platform);
  for (const auto& line : paused.webhooks)
    EXPECT_NE(line.find(" 200 attempt 1"), std::string::npos) << line;
}

}  // namespace
}  // namespace nukihil::scenarios
