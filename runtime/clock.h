// The only way anything in nukihil learns the time or waits for it. Components take a Clock&
// through their options, the way LevelDB passes its Env; tests and embedded runs use the
// VirtualClock, servers in real time the RealClock.
//
// A component keeps its own scheduled events as data (so it can snapshot them) and arms one
// alarm for the earliest of them; the clock calls the alarm's callback once its deadline has
// passed. All calls happen on the thread that runs the event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "runtime/time.h"
#include "runtime/work_tracker.h"

namespace boost::asio {
class io_context;
}

namespace nukihil {

class Clock {
 public:
  using AlarmId = uint64_t;

  virtual ~Clock() = default;
  virtual Time now() const = 0;
  virtual bool isVirtual() const = 0;

  // Creates an alarm, not yet armed, that calls `fire` when due. Remove it before whatever
  // `fire` refers to goes away.
  virtual AlarmId addAlarm(std::function<void()> fire) = 0;
  // Sets the alarm's deadline, replacing an earlier one. A deadline in the past fires as soon
  // as the clock gets to run.
  virtual void arm(AlarmId id, Time at) = 0;
  virtual void disarm(AlarmId id) = 0;
  virtual void removeAlarm(AlarmId id) = 0;

  // Work in flight that advancing must wait for (outgoing requests, deferred responses).
  WorkTracker& work() { return work_; }

 private:
  WorkTracker work_;
};

// Virtual time: stands still until advanced, then jumps from alarm to alarm.
class VirtualClock final : public Clock {
 public:
  static constexpr Time kDefaultStart = timeFromMillis(1735689600000LL);  // 2025-01-01T00:00:00Z

  explicit VirtualClock(Time start = kDefaultStart) : now_(start) {}

  Time now() const override { return now_; }
  bool isVirtual() const override { return true; }
  AlarmId addAlarm(std::function<void()> fire) override;
  void arm(AlarmId id, Time at) override;
  void disarm(AlarmId id) override;
  void removeAlarm(AlarmId id) override;

  // Runs every alarm due up to `target` in time order (ties in the order they were armed),
  // setting now() to each one's deadline; before each alarm and at the end it waits until no
  // work is in flight. Then now() is `target` (never earlier than it was) and `done` runs,
  // possibly before advanceTo returns. Only one advance runs at a time: returns false, doing
  // nothing, if another is still in progress.
  bool advanceTo(Time target, std::function<void()> done);
  bool advancing() const { return advancing_; }

  // Synchronous form for callers that own the event loop: `pump` runs one piece of pending
  // I/O and is called while work is in flight. Without a pump, work in flight is an error.
  void advanceBy(Duration d, const std::function<void()>& pump = {});
  void advanceUntil(Time target, const std::function<void()>& pump = {});

  // Moves the clock to `t` without firing anything (snapshot restore, start-up).
  void set(Time t) { now_ = t; }
  // The earliest armed deadline, if any.
  std::optional<Time> nextDeadline() const;

 private:
  struct Alarm {
    std::function<void()> fire;
    bool armed = false;
    Time at{};
    uint64_t seq = 0;
  };
  void step();

  Time now_;
  uint64_t nextId_ = 1;
  uint64_t nextSeq_ = 1;
  std::map<AlarmId, Alarm> alarms_;
  std::set<std::tuple<Time, uint64_t, AlarmId>> due_;
  bool advancing_ = false;
  bool inStep_ = false;
  bool resumeWanted_ = false;
  Time target_{};
  std::function<void()> done_;
};

// Wall-clock time, optionally scaled: one real second is `scale` virtual seconds. Alarms are
// Asio timers on the given io_context.
class RealClock final : public Clock {
 public:
  RealClock(boost::asio::io_context& io, Time start, double scale = 1.0);
  // Starts at the current wall-clock time.
  explicit RealClock(boost::asio::io_context& io, double scale = 1.0);
  ~RealClock() override;

  Time now() const override;
  bool isVirtual() const override { return false; }
  AlarmId addAlarm(std::function<void()> fire) override;
  void arm(AlarmId id, Time at) override;
  void disarm(AlarmId id) override;
  void removeAlarm(AlarmId id) override;

  // Makes now() read `t` from this moment on (snapshot restore).
  void rebase(Time t);
  double scale() const { return scale_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  double scale_;
};

}  // namespace nukihil
