// DESIGN "Transport": both transports give the same trace for the same seed. Scenario files
// of the QA suites with faults, restarts during an exchange, receiver outages and offline
// locks run on loopback TCP and on the in-memory network: the same verdict, the same answer at
// the same virtual instant for every step, the same webhook sequence for every device.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scenarios/runner.h"

namespace nukihil::scenarios {
namespace {

using Transport = EmbeddedWorld::Options::Transport;

std::shared_ptr<const model::Scenario> load(const std::string& file) {
  std::ifstream in(std::string(NUKIHIL_SOURCE_DIR) + "/" + file);
  EXPECT_TRUE(in) << file;
  std::stringstream text;
  text << in.rdbuf();
  auto r = model::parseScenario(text.str(), file);
  EXPECT_TRUE(r.scenario) << file << ": " << (r.problems.empty() ? "" : r.problems[0].text());
  if (!r.scenario) return nullptr;
  return std::make_shared<model::Scenario>(std::move(*r.scenario));
}

std::shared_ptr<const model::Scenario> inline_(const std::string& text) {
  auto r = model::parseScenario(text, "suite/inline.json");
  EXPECT_TRUE(r.scenario) << (r.problems.empty() ? "" : r.problems[0].text());
  return std::make_shared<model::Scenario>(std::move(*r.scenario));
}

// What a run shows, one line per item: every step's label, instant and answer, then every
// device's observed webhooks.
std::vector<std::string> trace(const ScenarioResult& r) {
  std::vector<std::string> out;
  for (const auto& s : r.steps)
    out.push_back(s.label + " @" + std::to_string(s.atMs) + " " + s.answer.dump());
  for (const auto& d : r.devices)
    for (const auto& o : d.observed)
      out.push_back(d.lock + ": " + o.id + " " + o.type + " " + o.content.dump() + " " +
                    o.occurredAt);
  return out;
}

void expectSameOnBothTransports(const std::shared_ptr<const model::Scenario>& s,
                                const std::string& what) {
  ASSERT_TRUE(s) << what;
  RunOptions o;
  o.transport = Transport::kLoopback;
  const ScenarioResult tcp = runScenario(s, o);
  o.transport = Transport::kMemory;
  const ScenarioResult memory = runScenario(s, o);
  EXPECT_EQ(tcp.verdict, Verdict::kPassed) << what << ": " << tcp.message;
  EXPECT_EQ(memory.verdict, Verdict::kPassed) << what << ": " << memory.message;
  EXPECT_EQ(trace(memory), trace(tcp)) << what;
  ASSERT_EQ(memory.devices.size(), tcp.devices.size()) << what;
  size_t webhooks = 0;
  for (size_t i = 0; i < tcp.devices.size(); ++i)
    webhooks += tcp.devices[i].observed.size();
  EXPECT_GT(webhooks, 0u) << what << ": a trace without webhooks compares little";
  // `branches`, the model's account of outcomes SPEC leaves open: a restart `during` an
  // exchange lands at the same point on both (its kill waits on the io thread, never on the
  // wall clock), so the same branch is taken.
  EXPECT_EQ(memory.branches, tcp.branches) << what;
  EXPECT_EQ(memory.endMs, tcp.endMs) << what;
}

TEST(TransportParity, SuiteScenariosGiveTheSameTraceOnLoopbackAndInMemory) {
  for (const char* file : {
           "scenarios/suites/faults/connection_resets_are_retried.json",
           "scenarios/suites/faults/lost_answer_of_a_create_is_not_a_failure.json",
           "scenarios/suites/faults/rate_limited_429_honours_retry_after.json",
           "scenarios/suites/restarts/kill_during_the_nuki_call_of_a_create.json",
           "scenarios/suites/restarts/kill_with_a_webhook_in_flight_loses_nothing.json",
           "scenarios/suites/restarts/restart_between_steps_keeps_pending_actions.json",
           "scenarios/suites/delivery/"
           "receiver_outage_holds_webhooks_and_delivers_them_in_order.json",
           "scenarios/suites/delivery/"
           "retried_webhook_cut_by_a_kill_comes_again_under_its_first_id.json",
           "scenarios/suites/locks/offline_lock_runs_queued_actions_in_order_after_reconnect.json",
           "scenarios/suites/keypad/"
           "code_queued_behind_an_action_is_delivered_in_fifo_order_at_reconnect.json",
       }) {
    expectSameOnBothTransports(load(file), file);
  }
}

// Resets of the adapter's reads: HttpClient sends a GET again on a fresh connection when a
// kept-alive one closed without an answer, so nukisim handles it twice; the memory transport
// makes the same choice, and the journal — and so the trace — is the same.
TEST(TransportParity, ResetsOfTheAdaptersReadsGiveTheSameTrace) {
  expectSameOnBothTransports(
      inline_(R"({"name":"reset reads","locks":[{"name":"A","model":"3.0 Pro"}],
    "steps":[{"do":"fault","fault":{"route":"/smartlock*","methods":["GET"],"reset":true,"count":3}},
             {"do":"setLocked","lock":"A","as":"l","parameters":{"lock":true}},
             {"do":"createPin","lock":"A","as":"g","parameters":{"pinCode":"234567","name":"G"}},
             {"do":"advance","seconds":30},{"do":"sync","lock":"A"},{"do":"advance","seconds":30},
             {"do":"expectAction","ref":"l","status":"RESOLVED"}]})"),
      "resets of GET /smartlock…");
}

}  // namespace
}  // namespace nukihil::scenarios
