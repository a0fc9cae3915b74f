// bench-thirty-days: 30 virtual days of a 10,000-lock fleet in under 10 s of wall time?
// Uses the simulator as a library on a VirtualClock (no HTTP). The fleet mixes Smart Lock 3.0
// (behind bridges) and 3.0 Pro with a few keypad codes each. Every virtual day a seeded random
// subset of locks goes offline (for a 3.0: its bridge, so every lock behind it) and comes back
// hours later; a few thousand actions are spread over the days: lock/unlock through Nuki Web,
// keypad code creates, updates and deletes, and keypad entries at the door. Each lock runs its
// daily sync. The clock advances in fixed steps; what falls due within a step is applied at its
// start.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "simulator/simulator.h"

using namespace nukihil;

namespace {

constexpr double kLimitSeconds = 10.0;

// Counts what the locks report to Nuki Web, and passes it on to the simulator's own observer
// (webhook delivery). It claims to listen to every lock, so the world does all the work it
// does when an adapter is subscribed (sync diffs included): the conservative case.
class CountingObserver final : public sim::WorldObserver {
 public:
  explicit CountingObserver(sim::WorldObserver& next) : next_(next) {}

  bool listening(const sim::Lock&) const override { return true; }
  void deviceStatus(const sim::Lock& l) override {
    ++statuses;
    if (next_.listening(l)) next_.deviceStatus(l);
  }
  void deviceLog(const sim::Lock& l, const sim::LogEntry& e) override {
    ++logs;
    if (next_.listening(l)) next_.deviceLog(l, e);
  }
  void deviceAuth(const sim::Lock& l, const sim::Auth& a, bool deleted) override {
    ++auths;
    if (next_.listening(l)) next_.deviceAuth(l, a, deleted);
  }
  // Called once per completed daily sync (and per POST /smartlock/{id}/sync).
  void masterData(const sim::Lock& l) override {
    ++syncs;
    if (next_.listening(l)) next_.masterData(l);
  }

  uint64_t statuses = 0, logs = 0, auths = 0, syncs = 0;

 private:
  sim::WorldObserver& next_;
};

enum class What : uint8_t { kOffline, kOnline, kMotor, kKeypad, kCreate, kUpdate, kDelete };

struct Planned {
  Time at;
  What what;
  uint32_t lock;
};

struct Counts {
  uint64_t offline = 0, online = 0;
  uint64_t motor = 0, keypad = 0, keypadGranted = 0, create = 0, update = 0, remove = 0;
  uint64_t accepted = 0, rejected = 0;
};

// A keypad code Nuki accepts (K1–K3): six digits 1–9, not starting with 12.
int64_t randomCode(Random& r) {
  for (;;) {
    int64_t code = 0;
    for (int d = 0; d < 6; ++d)
      code = code * 10 + int64_t(r.between(1, 9));
    if (code / 10000 != 12) return code;
  }
}

// A keypad code of the lock's web view, at random, or null if it has none.
const sim::Auth* randomWebCode(const sim::Lock& l, Random& r) {
  std::vector<const sim::Auth*> codes;
  for (const auto& a : l.webView)
    if (a->type == sim::kAuthKeypadCode) codes.push_back(a.get());
  if (codes.empty()) return nullptr;
  return codes[r.below(codes.size())];
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench-thirty-days: runs D virtual days of an N-lock fleet (Smart Lock 3.0 behind bridges "
      "and 3.0 Pro, mixed, a few keypad codes each) on a virtual clock, with daily syncs, locks "
      "going offline and back, and actions (lock/unlock, keypad code create/update/delete, "
      "keypad entries), and reports the wall time against the 10 s target. Exit status 1 if "
      "over.",
      "bench-thirty-days"};
  int64_t locks = 10000;
  int64_t days = 30;
  uint64_t seed = 1;
  int64_t actions = 3000;
  double offlinePerDay = 0.02;
  int64_t codes = 5;
  int64_t locksPerBridge = 4;
  int64_t stepMinutes = 5;
  app.add_option("--locks", locks, "number of locks")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)))
      ->capture_default_str();
  app.add_option("--days", days, "virtual days to run")
      ->check(CLI::Range(int64_t(1), int64_t(3650)))
      ->capture_default_str();
  app.add_option("--seed", seed, "seed of the world and of the plan")->capture_default_str();
  app.add_option("--actions", actions, "actions in total, spread evenly over the days")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--offline-per-day", offlinePerDay,
                 "fraction of the locks picked each day to go offline for 1–8 hours (a 3.0 takes "
                 "its whole bridge along)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--codes", codes, "keypad codes per lock at the start")
      ->check(CLI::Range(int64_t(0), int64_t(100)))
      ->capture_default_str();
  app.add_option("--locks-per-bridge", locksPerBridge, "3.0 locks sharing one bridge")
      ->check(CLI::Range(int64_t(1), int64_t(1000)))
      ->capture_default_str();
  app.add_option("--step-minutes", stepMinutes, "virtual minutes per clock advance")
      ->check(CLI::Range(int64_t(1), int64_t(1440)))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto wallStart = std::chrono::steady_clock::now();
  VirtualClock clock;
  sim::SimulatorOptions options;
  options.seed = seed;
  sim::Simulator simulator(clock, nullptr, options);
  sim::World& world = simulator.world();
  CountingObserver observer(simulator.webhooks());
  world.setObserver(&observer);

  const nlohmann::json fleet = {{"generate",
                                 {{"accounts", 1},
                                  {"locksPerAccount", locks},
                                  {"codesPerLock", codes},
                                  {"model", "mixed"},
                                  {"locksPerBridge", locksPerBridge}}}};
  if (auto e = simulator.loadFleet(fleet)) {
    std::cerr << "bench-thirty-days: loadFleet failed: " << e.message << "\n";
    return 2;
  }
  const double buildSeconds = secondsSince(wallStart);
  const auto n = uint32_t(world.locks().size());
  const Time start = clock.now();
  const Time end = start + std::chrono::days(days);

  // The plan, drawn from its own generator so that it does not depend on the world's draws.
  Random planRandom(seed ^ 0x7468'6972'7479'0000ULL);
  std::vector<Planned> plan;
  const auto offlinePerDayCount = uint64_t(offlinePerDay * double(n) + 0.5);
  for (int64_t d = 0; d < days; ++d) {
    const Time dayStart = start + std::chrono::days(d);
    for (uint64_t i = 0; i < offlinePerDayCount; ++i) {
      const auto lock = uint32_t(planRandom.below(n));
      const Time down = dayStart + std::chrono::minutes(planRandom.below(24 * 60));
      const Time up = down + std::chrono::minutes(planRandom.between(60, 8 * 60));
      plan.push_back({down, What::kOffline, lock});
      plan.push_back({up, What::kOnline, lock});
    }
    const int64_t today = actions / days + (d < actions % days ? 1 : 0);
    for (int64_t i = 0; i < today; ++i) {
      const auto lock = uint32_t(planRandom.below(n));
      const Time at = dayStart + std::chrono::seconds(planRandom.below(24 * 3600));
      const uint64_t pick = planRandom.below(100);
      const What what = pick < 40   ? What::kMotor
                        : pick < 60 ? What::kKeypad
                        : pick < 80 ? What::kCreate
                        : pick < 90 ? What::kUpdate
                                    : What::kDelete;
      plan.push_back({at, what, lock});
    }
  }
  std::stable_sort(plan.begin(), plan.end(),
                   [](const Planned& a, const Planned& b) { return a.at < b.at; });

  Random actRandom(seed ^ 0x6163'7469'6f6e'0000ULL);
  Counts c;
  auto apply = [&](const Planned& p) {
    const std::string by = "bench";
    auto count = [&](const sim::Error& e) { e ? ++c.rejected : ++c.accepted; };
    switch (p.what) {
      case What::kOffline:
        ++c.offline;
        world.setOnline(p.lock, false);
        break;
      case What::kOnline:
        ++c.online;
        world.setOnline(p.lock, true);
        break;
      case What::kMotor:
        ++c.motor;
        count(world.submitMotorAction(
            p.lock, actRandom.chance(0.5) ? sim::kActionLock : sim::kActionUnlock, by));
        break;
      case What::kKeypad: {
        ++c.keypad;
        // Mostly a code the lock knows; now and then a wrong one.
        const sim::Lock& l = world.lock(p.lock);
        int64_t code = randomCode(actRandom);
        if (actRandom.chance(0.8)) {
          if (const sim::Auth* a = randomWebCode(l, actRandom)) code = a->code;
        }
        if (world.keypad(p.lock, code).granted) ++c.keypadGranted;
        break;
      }
      case What::kCreate: {
        ++c.create;
        sim::AuthInput in;
        in.type = sim::kAuthKeypadCode;
        in.name = "Guest " + std::to_string(c.create);
        in.code = randomCode(actRandom);
        in.remoteAllowed = false;
        if (actRandom.chance(0.3)) {  // a recurring window: weekdays, 08:00–18:00
          in.weekDays = 124;
          in.fromTime = 8 * 60;
          in.untilTime = 18 * 60;
        }
        count(world.createKeypadCode(p.lock, in));
        break;
      }
      case What::kUpdate: {
        ++c.update;
        const sim::Auth* a = randomWebCode(world.lock(p.lock), actRandom);
        if (!a) {
          ++c.rejected;
          break;
        }
        sim::AuthInput in;
        in.name = "Updated " + std::to_string(c.update);
        in.code = randomCode(actRandom);
        count(world.updateAuth(p.lock, a->id, in));
        break;
      }
      case What::kDelete: {
        ++c.remove;
        const sim::Auth* a = randomWebCode(world.lock(p.lock), actRandom);
        if (!a) {
          ++c.rejected;
          break;
        }
        const sim::ObjectId id = a->id;
        count(world.deleteAuth(p.lock, id));
        break;
      }
    }
  };

  const uint64_t seqBefore = simulator.scheduler().peekNextSeq();
  const size_t pendingBefore = simulator.scheduler().size();
  const auto runStart = std::chrono::steady_clock::now();
  const Duration step = std::chrono::minutes(stepMinutes);
  size_t next = 0;
  uint64_t advances = 0;
  while (clock.now() < end) {
    while (next < plan.size() && plan[next].at <= clock.now())
      apply(plan[next++]);
    clock.advanceBy(std::min<Duration>(step, end - clock.now()));
    ++advances;
  }
  while (next < plan.size() && plan[next].at <= clock.now())
    apply(plan[next++]);
  const double runSeconds = secondsSince(runStart);
  const double totalSeconds = secondsSince(wallStart);
  // Every event gets a fresh sequence number when scheduled (nothing else draws them here), so
  // scheduled minus still pending is the number dispatched.
  const uint64_t scheduled = simulator.scheduler().peekNextSeq() - seqBefore;
  const uint64_t dispatched = scheduled + pendingBefore - simulator.scheduler().size();

  size_t bridges = world.bridges().size(), pro = 0;
  for (const auto& l : world.locks())
    if (l.model == sim::Model::k30Pro) ++pro;
  std::printf(
      "fleet: %u locks (%zu 3.0 Pro, %zu 3.0 behind %zu bridges), %lld codes each; seed %llu\n", n,
      pro, size_t(n) - pro, bridges, static_cast<long long>(codes),
      static_cast<unsigned long long>(seed));
  std::printf("virtual time: %lld days, %s .. %s, %llu advances of %lld min\n",
              static_cast<long long>(days), formatRfc3339(start).c_str(),
              formatRfc3339(clock.now()).c_str(), static_cast<unsigned long long>(advances),
              static_cast<long long>(stepMinutes));
  std::printf("offline episodes: %llu (back online: %llu)\n",
              static_cast<unsigned long long>(c.offline),
              static_cast<unsigned long long>(c.online));
  std::printf(
      "actions: %llu (motor %llu, keypad entries %llu of which %llu granted, code creates "
      "%llu, updates %llu, deletes %llu); Nuki Web accepted %llu, refused %llu\n",
      static_cast<unsigned long long>(c.motor + c.keypad + c.create + c.update + c.remove),
      static_cast<unsigned long long>(c.motor), static_cast<unsigned long long>(c.keypad),
      static_cast<unsigned long long>(c.keypadGranted), static_cast<unsigned long long>(c.create),
      static_cast<unsigned long long>(c.update), static_cast<unsigned long long>(c.remove),
      static_cast<unsigned long long>(c.accepted), static_cast<unsigned long long>(c.rejected));
  std::printf("scheduled events dispatched: %llu (still pending: %zu)\n",
              static_cast<unsigned long long>(dispatched), simulator.scheduler().size());
  std::printf(
      "daily syncs completed: %llu; reports to Nuki Web: %llu status, %llu log, %llu auth\n",
      static_cast<unsigned long long>(observer.syncs),
      static_cast<unsigned long long>(observer.statuses),
      static_cast<unsigned long long>(observer.logs),
      static_cast<unsigned long long>(observer.auths));
  std::printf("wall time: %.2f s (fleet build %.2f s, %lld virtual days %.2f s)\n", totalSeconds,
              buildSeconds, static_cast<long long>(days), runSeconds);
  const bool pass = totalSeconds < kLimitSeconds;
  std::printf("%s: %.2f s %s 10 s\n", pass ? "PASS" : "FAIL", totalSeconds, pass ? "<" : ">=");
  return pass ? 0 : 1;
}
