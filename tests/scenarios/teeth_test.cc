// Teeth: faults planted between the adapter and the webhook recorder — a webhook dropped, one
// re-sent under a new webhook-id, two of a device's webhooks swapped, a PIN SetState delivered
// before its sync — must make the QA suites fail, naming the rule the fault breaks, in every
// scenario the fault touched.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "scenarios/planted_faults.h"
#include "scenarios/runner.h"

namespace nukihil::scenarios {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<std::shared_ptr<const model::Scenario>> suites() {
  std::vector<std::string> files;
  for (const char* folder : {"/scenarios/suites", "/scenarios/hil"})
    for (const auto& e : fs::recursive_directory_iterator(std::string(NUKIHIL_SOURCE_DIR) + folder))
      if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::shared_ptr<const model::Scenario>> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    auto r = model::parseScenario(text.str(), f);
    EXPECT_TRUE(r.scenario) << f << ": " << (r.problems.empty() ? "" : r.problems[0].text());
    if (r.scenario) out.push_back(std::make_shared<model::Scenario>(std::move(*r.scenario)));
  }
  return out;
}

struct Outcome {
  std::string file;
  bool touched = false;
  ScenarioResult result;
};

// Runs every suite scenario with a fresh tamper per run (made by `make`, which also reports
// whether the fault landed), two at a time.
std::vector<Outcome> runAll(
    const std::function<WebhookRecorder::Tamper(std::shared_ptr<std::atomic<bool>>)>& make) {
  const auto all = suites();
  std::vector<Outcome> out(all.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < all.size();) {
      auto touched = std::make_shared<std::atomic<bool>>(false);
      RunOptions o;
      o.TEST_tamper = [&make, touched] {
        *touched = false;  // each run (and its replay) starts clean
        return make(touched);
      };
      out[i].file = all[i]->file;
      out[i].result = runScenario(all[i], o);
      out[i].touched = *touched;
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  return out;
}

// Checks the suites failed wherever the fault landed, each naming a rule `ok` accepts.
void expectCaught(const std::vector<Outcome>& outcomes,
                  const std::function<bool(const ScenarioResult&)>& ok, size_t atLeast) {
  size_t touched = 0;
  for (const auto& o : outcomes) {
    if (!o.touched) continue;
    ++touched;
    EXPECT_EQ(o.result.verdict, Verdict::kFailed) << o.file << ": " << o.result.message;
    EXPECT_TRUE(o.result.replayed) << o.file;
    EXPECT_TRUE(ok(o.result)) << o.file << ": " << o.result.message;
  }
  EXPECT_GE(touched, atLeast) << "the planted fault landed in too few scenarios to mean much";
}

TEST(Teeth, ADroppedWebhookIsMissingUnderItsOwnRule) {
  // The first RESOLVED of each run is acknowledged to the adapter but never reaches the
  // platform.
  auto outcomes = runAll([](std::shared_ptr<std::atomic<bool>> touched) {
    return plantedFault("drop-resolved", std::move(touched));
  });
  expectCaught(
      outcomes,
      [](const ScenarioResult& r) {
        if (!r.divergence || !r.divergence->expected) return false;
        const auto& e = *r.divergence->expected;
        // The rule of the missing RESOLVED itself.
        // Missing where delivery was held back (receiver down, a restart), it is delivery's.
        if (e.heldBack) return r.divergence->rule == "R-DELIVERY";
        return e.type == "deviceEventUpdateAction" && e.content.value("status", "") == "RESOLVED" &&
               r.divergence->rule == e.rule &&
               (e.rule == "R-ACT-ONLINE" || e.rule == "R-ACT-OFFLINE" ||
                e.rule == "R-PIN-ACCEPTED" || e.rule == "R-PIN-SYNC");
      },
      20);
}

TEST(Teeth, AWebhookResentUnderANewIdIsADeliveryFailure) {
  auto outcomes = runAll([](std::shared_ptr<std::atomic<bool>> touched) {
    return plantedFault("resend-new-id", std::move(touched));
  });
  expectCaught(
      outcomes,
      [](const ScenarioResult& r) {
        return r.divergence && r.divergence->rule == "R-DELIVERY" &&
               r.divergence->message.find("new webhook-id") != std::string::npos;
      },
      20);
}

TEST(Teeth, TwoSwappedWebhooksBreakTheOrderOfTheirRule) {
  // The first SetState LOCK.isLocked carrying an actionId is held back and delivered after the
  // device's next webhook (its RESOLVED).
  auto outcomes = runAll([](std::shared_ptr<std::atomic<bool>> touched) {
    return plantedFault("swap-setstate", std::move(touched));
  });
  expectCaught(
      outcomes,
      [](const ScenarioResult& r) {
        return r.divergence && r.divergence->expected &&
               r.divergence->expected->type == "deviceEventSetState" &&
               (r.divergence->rule == "R-ACT-ONLINE" || r.divergence->rule == "R-ACT-OFFLINE" ||
                (r.divergence->rule == "R-DELIVERY" && r.divergence->expected->heldBack)) &&
               r.divergence->message.find("swapped") != std::string::npos;
      },
      8);
}

TEST(Teeth, APinSetStateBeforeItsSyncBreaksRPinAccepted) {
  // On the PENDING of a create, a forged SetState with the new code and that actionId arrives
  // first — as if the adapter reported the code before any sync showed it.
  auto outcomes = runAll([](std::shared_ptr<std::atomic<bool>> touched) {
    return plantedFault("early-pin-setstate", std::move(touched));
  });
  expectCaught(
      outcomes,
      [](const ScenarioResult& r) {
        return r.divergence && r.divergence->rule == "R-PIN-ACCEPTED" && r.divergence->observed &&
               r.divergence->observed->type == "deviceEventSetState";
      },
      10);
}

}  // namespace
}  // namespace nukihil::scenarios
