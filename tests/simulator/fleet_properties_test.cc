// RapidCheck properties of the fleet model (SPEC §3), driven by random sequences of what
// clients, people and networks do to locks:
//  - never more than 100 codes on a lock, never two equal codes on one lock;
//  - the web view only ever shows what device truth held at the last sync;
//  - queued motor actions run in order, exactly once, however long a lock is offline.
// Reproduce a failure with RC_PARAMS="reproduce=…" as printed; nightly runs set max_success.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

#include "tests/support/world_fixture.h"

namespace nukihil::test {
namespace {

using namespace sim;

struct Op {
  enum Kind {
    kCreate,
    kUpdate,
    kDelete,
    kDeviceAdd,
    kDeviceRemove,
    kOnline,
    kOffline,
    kMotor,
    kAdvance,
    kSync,
    kKeypad,
    kBurst
  } kind;
  int lock = 0;    // 0 or 1
  int pick = 0;    // which code / auth
  int amount = 0;  // seconds, action, …
};

void showValue(const Op& op, std::ostream& os) {
  static const char* names[] = {"create",       "update", "delete",  "deviceAdd",
                                "deviceRemove", "online", "offline", "motor",
                                "advance",      "sync",   "keypad",  "burst"};
  os << names[op.kind] << "(lock " << op.lock << ", pick " << op.pick << ", " << op.amount << ")";
}

}  // namespace
}  // namespace nukihil::test

namespace rc {
template <>
struct Arbitrary<nukihil::test::Op> {
  static Gen<nukihil::test::Op> arbitrary() {
    using nukihil::test::Op;
    return gen::apply(
        [](int kind, int lock, int pick, int amount) {
          return Op{Op::Kind(kind), lock, pick, amount};
        },
        // Creates dominate so locks fill up to their 100 codes.
        gen::weightedElement<int>({{30, Op::kCreate},
                                   {6, Op::kUpdate},
                                   {6, Op::kDelete},
                                   {4, Op::kDeviceAdd},
                                   {2, Op::kDeviceRemove},
                                   {3, Op::kOnline},
                                   {3, Op::kOffline},
                                   {8, Op::kMotor},
                                   {6, Op::kAdvance},
                                   {3, Op::kSync},
                                   {3, Op::kKeypad},
                                   {4, Op::kBurst}}),
        gen::inRange(0, 2), gen::inRange(0, 300), gen::inRange(0, 100000));
  }
};
}  // namespace rc

namespace nukihil::test {
namespace {

using CodeSnapshot = std::map<std::string, std::pair<uint32_t, std::string>>;

CodeSnapshot snapshotOf(const std::vector<AuthRef>& v) {
  CodeSnapshot out;
  for (const auto& a : v)
    out[a->id.hex()] = {a->code, a->name};
  return out;
}

// Records, at the moment each sync completes, what the lock's device truth held.
class SyncCapturingObserver : public RecordingObserver {
 public:
  using RecordingObserver::RecordingObserver;
  void masterData(const Lock& l) override {
    RecordingObserver::masterData(l);
    atSync[l.smartlockId] = snapshotOf(l.deviceAuths);
  }
  std::map<uint64_t, CodeSnapshot> atSync;
};

// A world with two locks, run through `ops`, checking the invariants after every step.
class PropertyWorld : public WorldTest {
 public:
  PropertyWorld() : capturing_(clock) { world.setObserver(&capturing_); }
  void TestBody() override {}

  void run(const std::vector<Op>& ops) {
    locks_[0] = addLock(Model::k30Pro, "Europe/Berlin");
    locks_[1] = addLock(Model::k30, "America/New_York");
    codes_ = validCodes(300);
    for (int i = 0; i < 2; ++i)
      initial_[i] = snapshotOf(world.lock(locks_[i]).webView);
    for (const Op& op : ops) {
      apply(op);
      check();
    }
    // Bring everything online and let the queues drain: every action ran exactly once.
    for (uint32_t l : locks_)
      world.setOnline(l, true);
    advance(3600);
    check();
    for (int i = 0; i < 2; ++i) {
      std::vector<uint8_t> ran;
      for (const auto& e : capturing_.of("log"))
        if (e.smartlockId == world.lock(locks_[i]).smartlockId && e.logTrigger == kTriggerWeb)
          ran.push_back(e.logAction);
      RC_ASSERT(ran == submitted_[i]);
      RC_ASSERT(world.lock(locks_[i]).queue.empty());
    }
  }

 private:
  void apply(const Op& op) {
    const uint32_t l = locks_[op.lock];
    const Lock& lock = world.lock(l);
    switch (op.kind) {
      case Op::kCreate:
        world.createKeypadCode(l, code(codes_[size_t(op.pick)], "P" + std::to_string(op.pick)));
        break;
      case Op::kUpdate:
      case Op::kDelete: {
        std::vector<ObjectId> ids;
        for (const auto& a : lock.webView)
          if (a->type == kAuthKeypadCode) ids.push_back(a->id);
        if (ids.empty()) break;
        const ObjectId id = ids[size_t(op.pick) % ids.size()];
        if (op.kind == Op::kDelete)
          world.deleteAuth(l, id);
        else
          world.updateAuth(l, id, code(codes_[size_t(op.amount) % codes_.size()], "U"));
        break;
      }
      case Op::kDeviceAdd:
        world.addDeviceCode(l, code(codes_[size_t(op.pick)], "App"));
        break;
      case Op::kDeviceRemove:
        world.removeDeviceCode(l, codes_[size_t(op.pick)]);
        break;
      case Op::kOnline:
        world.setOnline(l, true);
        break;
      case Op::kOffline:
        world.setOnline(l, false);
        break;
      case Op::kMotor: {
        const uint8_t action = uint8_t(1 + op.amount % 5);
        if (!world.submitMotorAction(l, action, "Owner")) submitted_[op.lock].push_back(action);
        break;
      }
      case Op::kAdvance:
        advance(op.amount % 172800);
        break;
      case Op::kSync:
        world.syncNow(l);
        break;
      case Op::kKeypad:
        world.keypad(l, codes_[size_t(op.pick)]);
        break;
      case Op::kBurst:  // many creates at once, so that locks reach their 100 codes
        for (int i = 0; i < 1 + op.amount % 60; ++i)
          world.createKeypadCode(l, code(codes_[size_t(op.pick + i) % codes_.size()], "B"));
        break;
    }
  }

  void check() {
    for (int i = 0; i < 2; ++i) {
      const Lock& lock = world.lock(locks_[i]);
      std::set<uint32_t> device, web;
      size_t deviceCount = 0, webCount = 0;
      for (const auto& a : lock.deviceAuths)
        if (a->type == kAuthKeypadCode) {
          ++deviceCount;
          device.insert(a->code);
        }
      for (const auto& a : lock.webView)
        if (a->type == kAuthKeypadCode) {
          ++webCount;
          web.insert(a->code);
        }
      RC_ASSERT(deviceCount <= 100u);
      RC_ASSERT(webCount <= 100u);
      RC_ASSERT(device.size() == deviceCount);  // unique on the lock
      RC_ASSERT(web.size() == webCount);
      // The web view is exactly what device truth held when the last sync completed (or, before
      // any sync, what the lock started with).
      auto it = capturing_.atSync.find(lock.smartlockId);
      const CodeSnapshot expected = it != capturing_.atSync.end() ? it->second : initial_[i];
      RC_ASSERT(snapshotOf(lock.webView) == expected);
    }
  }

  uint32_t locks_[2] = {0, 0};
  std::vector<int64_t> codes_;
  std::vector<uint8_t> submitted_[2];
  CodeSnapshot initial_[2];
  SyncCapturingObserver capturing_;
};

RC_GTEST_PROP(FleetProperties, CapacityUniquenessWebViewAndQueueOrderHold,
              (const std::vector<Op>& ops)) {
  PropertyWorld w;
  w.run(ops);
}

}  // namespace
}  // namespace nukihil::test
