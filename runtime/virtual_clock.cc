#include <stdexcept>

#include "runtime/clock.h"

namespace nukihil {

Clock::AlarmId VirtualClock::addAlarm(std::function<void()> fire) {
  const AlarmId id = nextId_++;
  alarms_[id].fire = std::move(fire);
  return id;
}

void VirtualClock::arm(AlarmId id, Time at) {
  auto it = alarms_.find(id);
  if (it == alarms_.end()) return;
  Alarm& a = it->second;
  if (a.armed) due_.erase({a.at, a.seq, id});
  a.armed = true;
  a.at = at;
  a.seq = nextSeq_++;
  due_.insert({a.at, a.seq, id});
}

void VirtualClock::disarm(AlarmId id) {
  auto it = alarms_.find(id);
  if (it == alarms_.end() || !it->second.armed) return;
  due_.erase({it->second.at, it->second.seq, id});
  it->second.armed = false;
}

void VirtualClock::removeAlarm(AlarmId id) {
  disarm(id);
  alarms_.erase(id);
}

std::optional<Time> VirtualClock::nextDeadline() const {
  if (due_.empty()) return std::nullopt;
  return std::get<0>(*due_.begin());
}

bool VirtualClock::advanceTo(Time target, std::function<void()> done) {
  if (advancing_) return false;
  advancing_ = true;
  target_ = target < now_ ? now_ : target;
  done_ = std::move(done);
  step();
  return true;
}

// Fires alarms one at a time. Whenever work is in flight it parks itself on the tracker and is
// resumed by the last piece of work to end; the loop (not recursion) keeps the stack flat
// however many alarms fire.
void VirtualClock::step() {
  if (inStep_) {
    resumeWanted_ = true;
    return;
  }
  inStep_ = true;
  for (;;) {
    resumeWanted_ = false;
    if (!work().idle()) {
      work().whenIdle([this] { step(); });
      if (!resumeWanted_) break;
      continue;
    }
    if (!due_.empty() && std::get<0>(*due_.begin()) <= target_) {
      auto [at, seq, id] = *due_.begin();
      due_.erase(due_.begin());
      Alarm& a = alarms_.at(id);
      a.armed = false;
      if (at > now_) now_ = at;
      auto fire = a.fire;  // the callback may remove its own alarm
      fire();
      continue;
    }
    now_ = target_;
    advancing_ = false;
    inStep_ = false;
    if (auto done = std::exchange(done_, nullptr)) done();
    return;
  }
  inStep_ = false;
}

void VirtualClock::advanceBy(Duration d, const std::function<void()>& pump) {
  advanceUntil(now_ + d, pump);
}

void VirtualClock::advanceUntil(Time target, const std::function<void()>& pump) {
  bool finished = false;
  if (!advanceTo(target, [&] { finished = true; }))
    throw std::logic_error("VirtualClock: an advance is already in progress");
  while (!finished) {
    if (!pump) throw std::logic_error("VirtualClock: work in flight and no pump to run it");
    pump();
  }
}

}  // namespace nukihil
