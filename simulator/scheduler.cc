#include "simulator/scheduler.h"

#include <algorithm>

namespace nukihil::sim {

Scheduler::Scheduler(Clock& clock, std::function<void(const Event&)> dispatch)
    : clock_(clock), dispatch_(std::move(dispatch)) {
  alarm_ = clock_.addAlarm([this] { onAlarm(); });
}

Scheduler::~Scheduler() {
  clock_.removeAlarm(alarm_);
}

uint64_t Scheduler::schedule(Time at, EventKind kind, uint32_t target, uint64_t arg, uint64_t seq) {
  if (seq == 0) seq = nextSeq_++;
  heap_.push(Event{at, seq, kind, target, arg});
  if (!running_ && (!armed_ || at < armedAt_)) rearm();
  return seq;
}

void Scheduler::rearm() {
  if (heap_.empty()) {
    if (armed_) clock_.disarm(alarm_);
    armed_ = false;
    return;
  }
  armed_ = true;
  armedAt_ = heap_.top().at;
  clock_.arm(alarm_, armedAt_);
}

void Scheduler::onAlarm() {
  armed_ = false;
  running_ = true;
  const Time now = clock_.now();
  while (!heap_.empty() && heap_.top().at <= now) {
    const Event e = heap_.top();
    heap_.pop();
    dispatch_(e);
  }
  running_ = false;
  rearm();
}

std::vector<Event> Scheduler::pending() const {
  auto copy = heap_;
  std::vector<Event> out;
  out.reserve(copy.size());
  while (!copy.empty()) {
    out.push_back(copy.top());
    copy.pop();
  }
  return out;
}

void Scheduler::restore(std::vector<Event> events, uint64_t nextSeq) {
  heap_ = {};
  for (auto& e : events)
    heap_.push(e);
  nextSeq_ = nextSeq;
  rearm();
}

void Scheduler::clear() {
  heap_ = {};
  rearm();
}

}  // namespace nukihil::sim
