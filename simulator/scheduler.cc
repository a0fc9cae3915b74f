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

void Scheduler::encode(nlohmann::json& j) const {
  auto events = nlohmann::json::array();
  for (const auto& e : pending())
    events.push_back({millisOf(e.at), e.seq, int(e.kind), e.target, e.arg});
  j["scheduler"] = {{"nextSeq", nextSeq_}, {"events", std::move(events)}};
}

snapshot::Checked<Scheduler::Decoded> Scheduler::decode(const snapshot::In& root,
                                                        size_t lockCount) {
  using snapshot::In;
  return snapshot::check([&] {
    Decoded d;
    const In scheduler = root["scheduler"];
    d.nextSeq = scheduler["nextSeq"].u64();
    const In events = scheduler["events"];
    for (size_t i = 0, n = events.array(); i < n; ++i) {
      const In e = events[i];
      if (e.array() != 5) e.fail("must be [atMs, seq, kind, target, arg]");
      Event ev;
      ev.at = timeFromMillis(e[0].instant(snapshot::kEarliestMs, snapshot::kLatestScheduledMs));
      ev.seq = e[1].u64();
      if (ev.seq == 0 || ev.seq >= d.nextSeq)
        e[1].fail("must be a sequence number below scheduler.nextSeq");
      ev.kind = EventKind(e[2].integer(int(EventKind::kQueueReady), int(EventKind::kWebhookSend)));
      ev.target = e[3].u32();
      ev.arg = e[4].u64();
      // A send for a webhook or stream that is gone is ignored when it runs (a webhook deleted
      // with a retry pending leaves one behind), so only lock events are checked.
      if (ev.kind != EventKind::kWebhookSend && ev.target >= lockCount)
        e.fail("an event for a lock that does not exist");
      d.events.push_back(ev);
    }
    return d;
  });
}

void Scheduler::adopt(Decoded decoded) {
  restore(std::move(decoded.events), decoded.nextSeq);
}

void Scheduler::clear() {
  heap_ = {};
  rearm();
}

}  // namespace nukihil::sim
