// `restartAdapter during` (SPEC §7): the kill lands while the exchange is in flight, at a
// point the seed alone decides. The adapter is frozen the instant the receiver (or nukisim)
// has taken the exchange: it never sees that exchange's answer, nor any other, even when the
// driver's own call to it is still being read on another thread. So the webhook cut by the
// kill comes again at the same virtual instant (the killed adapter had no failure to back off
// from), and the same world run twice gives the same attempts.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scenarios/embedded_world.h"

namespace nukihil::scenarios {
namespace {

using nlohmann::json;
using Transport = EmbeddedWorld::Options::Transport;

// A world of one lock ("Door") on the given transport.
EmbeddedWorld::Options oneDoor(Transport transport) {
  EmbeddedWorld::Options o;
  o.transport = transport;
  o.fleet = json{
      {"accounts", json::array({json{{"name", "Cut"},
                                     {"smartlocks", json::array({json{{"name", "Door"}}})}}})}};
  return o;
}

// Asks the adapter to lock the world's only lock, on a client of its own, and answers what the
// adapter answered.
auto lockTheDoor(EmbeddedWorld& w) {
  const std::string device = std::to_string(w.locks().at(0).second);
  auto api = w.client(w.adapterPort(), EmbeddedWorld::apiKey());
  return api->request(
      "POST", "/v1/devices/" + device + "/actions",
      json{{"trait", "LOCK"}, {"action", "setLocked"}, {"parameters", {{"lock", true}}}}.dump(),
      {});
}

// Every delivery attempt the receiver saw: webhook-id, timestamp, type, answer.
std::vector<std::string> cutDuringALockAction(Transport transport) {
  EmbeddedWorld w(oneDoor(transport));
  w.startAdapter();
  const std::string device = std::to_string(w.locks().at(0).second);
  const size_t before = w.webhookAttempts().size();
  w.restartAdapter("nextWebhook");
  {
    const auto r = lockTheDoor(w);
    EXPECT_EQ(r.status, 202) << r.body << " " << r.error;
  }
  w.advance(0);
  const auto restart = w.lastRestart();
  EXPECT_TRUE(restart.done);
  EXPECT_TRUE(restart.failed.empty()) << restart.failed;
  std::vector<std::string> out;
  const auto attempts = w.webhookAttempts();
  for (size_t i = before; i < attempts.size(); ++i)
    out.push_back(attempts[i].id + " @" + std::to_string(attempts[i].timestamp) + " " +
                  attempts[i].type() + " " + std::to_string(attempts[i].answered));
  EXPECT_TRUE(w.outboxPending(device).empty()) << "all delivered at the kill instant";
  return out;
}

TEST(RestartDuring, TheWebhookCutByAKillComesAgainAtOnceUnderItsId) {
  for (Transport t : {Transport::kLoopback, Transport::kMemory}) {
    SCOPED_TRACE(t == Transport::kLoopback ? "loopback" : "memory");
    const auto a = cutDuringALockAction(t);
    ASSERT_GE(a.size(), 2u);
    // The first attempt is the cut one; the restarted adapter sends it again, same id, same
    // instant: the killed one never learnt that it failed, so it kept no backoff.
    const auto idOf = [](const std::string& line) { return line.substr(0, line.find(' ')); };
    const auto atOf = [](const std::string& line) {
      const auto at = line.find('@');
      return line.substr(at, line.find(' ', at) - at);
    };
    EXPECT_EQ(idOf(a[0]), idOf(a[1])) << a[0] << " / " << a[1];
    EXPECT_EQ(atOf(a[0]), atOf(a[1])) << a[0] << " / " << a[1];
    EXPECT_NE(a[0].find("deviceEventQueueAction"), std::string::npos) << a[0];
    // The same world again: the same attempts.
    EXPECT_EQ(cutDuringALockAction(t), a);
  }
}

// A world that goes while a restart `during` an exchange is still under way (the driver never
// advanced past it) tears down cleanly: the queued restart and its hold on the clock are let
// go with the world (run under the asan preset, this catches a hold released after the clock).
TEST(RestartDuring, AWorldDestroyedWhileTheRestartIsUnderWayTearsDownCleanly) {
  for (Transport t : {Transport::kLoopback, Transport::kMemory}) {
    SCOPED_TRACE(t == Transport::kLoopback ? "loopback" : "memory");
    auto w = std::make_unique<EmbeddedWorld>(oneDoor(t));
    w->startAdapter();
    w->restartAdapter("nextWebhook");
    const auto r = lockTheDoor(*w);
    EXPECT_EQ(r.status, 202) << r.body << " " << r.error;
    w.reset();  // no advance: the restart may still be waiting
  }
}

// The adapter names the action each of its Nuki calls is for (X-Request-ID) and nukisim
// journals it: what lets the model tell apart two actions' identical calls after a restart.
TEST(RestartDuring, EachActionCallNamesItsActionInTheJournal) {
  EmbeddedWorld w(oneDoor(Transport::kLoopback));
  w.startAdapter();
  const auto r = lockTheDoor(w);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string actionId = json::parse(r.body).at("actionId").get<std::string>();
  w.advance(0);
  size_t tagged = 0, reads = 0;
  for (const auto& e : w.journal(0)) {
    if (e.kind != sim::JournalEntry::kApi) continue;
    if (e.method == "POST" && e.path.find("/action/lock") != std::string::npos) {
      EXPECT_EQ(e.requestId, actionId) << e.path;
      ++tagged;
    } else if (e.method == "GET") {
      EXPECT_EQ(e.requestId, "") << "reads are for no action: " << e.path;
      ++reads;
    }
  }
  EXPECT_EQ(tagged, 1u);
  EXPECT_GT(reads, 0u);
}

}  // namespace
}  // namespace nukihil::scenarios
