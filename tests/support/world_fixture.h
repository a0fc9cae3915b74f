// Test support: a simulator world on a virtual clock without HTTP, with an observer that
// records what the locks report.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/clock.h"
#include "runtime/random.h"
#include "simulator/scheduler.h"
#include "simulator/world.h"

namespace nukihil::test {

struct Reported {
  std::string kind;  // status | log | auth | masterdata
  uint64_t smartlockId = 0;
  uint8_t state = 0;
  bool online = false;
  uint8_t battery = 0;
  std::string authId;
  uint32_t code = 0;
  bool deleted = false;
  uint8_t logAction = 0, logTrigger = 0, logState = 0;
  std::string name;
  int64_t atMs = 0;
};

class RecordingObserver : public sim::WorldObserver {
 public:
  explicit RecordingObserver(Clock& c) : clock_(c) {}
  bool listening(const sim::Lock&) const override { return true; }
  void deviceStatus(const sim::Lock& l) override {
    Reported r = base("status", l);
    r.state = l.webState;
    r.online = l.webOnline;
    r.battery = l.webBattery;
    events.push_back(r);
  }
  void deviceLog(const sim::Lock& l, const sim::LogEntry& e) override {
    Reported r = base("log", l);
    r.logAction = e.action;
    r.logTrigger = e.trigger;
    r.logState = e.state;
    r.name = e.name;
    events.push_back(r);
  }
  void deviceAuth(const sim::Lock& l, const sim::Auth& a, bool deleted) override {
    Reported r = base("auth", l);
    r.authId = a.id.hex();
    r.code = a.code;
    r.deleted = deleted;
    r.name = a.name;
    events.push_back(r);
  }
  void masterData(const sim::Lock& l) override { events.push_back(base("masterdata", l)); }

  std::vector<Reported> of(const std::string& kind) const {
    std::vector<Reported> out;
    for (const auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  std::vector<Reported> events;

 private:
  Reported base(const char* kind, const sim::Lock& l) {
    Reported r;
    r.kind = kind;
    r.smartlockId = l.smartlockId;
    r.atMs = millisOf(clock_.now());
    return r;
  }
  Clock& clock_;
};

class WorldTest : public ::testing::Test {
 protected:
  WorldTest()
      : random(42),
        scheduler(clock, [this](const sim::Event& e) { world.dispatch(e); }),
        world(clock, scheduler, random, sim::World::Options{}),
        observer(clock) {
    world.setObserver(&observer);
    account = world.addAccount("Owner");
  }

  uint32_t addLock(sim::Model model = sim::Model::k30Pro, const char* zone = "UTC",
                   std::optional<uint64_t> bridgeId = std::nullopt) {
    sim::LockSpec spec;
    spec.account = account;
    spec.model = model;
    spec.bridgeId = bridgeId;
    spec.settings.timeZone = TimeZone::find(zone);
    auto [index, e] = world.addLock(spec);
    EXPECT_FALSE(e) << e.message;
    return index;
  }
  void advance(int64_t seconds) { clock.advanceBy(std::chrono::seconds(seconds)); }
  void advanceTo(const char* rfc3339) { clock.advanceUntil(*parseRfc3339(rfc3339)); }

  static sim::AuthInput code(int64_t c, std::string name = "Guest") {
    sim::AuthInput in;
    in.code = c;
    in.name = std::move(name);
    in.type = 13;
    in.remoteAllowed = false;
    return in;
  }
  // `n` distinct valid codes (six digits 1–9, not starting with 12) from 311111 up.
  static std::vector<int64_t> validCodes(size_t n) {
    std::vector<int64_t> out;
    for (int64_t c = 311111; out.size() < n; ++c) {
      bool zero = false;
      for (int64_t v = c; v; v /= 10)
        zero |= v % 10 == 0;
      if (!zero) out.push_back(c);
    }
    return out;
  }
  // Keypad codes in device truth / the web view.
  std::vector<uint32_t> deviceCodes(uint32_t lock) const {
    std::vector<uint32_t> out;
    for (const auto& a : world.lock(lock).deviceAuths)
      if (a->type == sim::kAuthKeypadCode) out.push_back(a->code);
    return out;
  }
  std::vector<uint32_t> webCodes(uint32_t lock) const {
    std::vector<uint32_t> out;
    for (const auto& a : world.lock(lock).webView)
      if (a->type == sim::kAuthKeypadCode) out.push_back(a->code);
    return out;
  }
  const sim::Auth* webCode(uint32_t lock, uint32_t c) const {
    for (const auto& a : world.lock(lock).webView)
      if (a->type == sim::kAuthKeypadCode && a->code == c) return a.get();
    return nullptr;
  }

  VirtualClock clock;
  Random random;
  sim::Scheduler scheduler;
  sim::World world;
  RecordingObserver observer;
  uint32_t account = 0;
};

}  // namespace nukihil::test
