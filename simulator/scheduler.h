// The simulator's scheduled events, kept as data (what, for whom, when) so a snapshot can hold
// them and a restored world goes on exactly as the original would have. One clock alarm is
// armed for the earliest event.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "runtime/clock.h"
#include "simulator/snapshot_codec.h"

namespace nukihil::sim {

enum class EventKind : uint8_t {
  kQueueReady = 1,     // a lock's queue head may be ready
  kMotorDone = 2,      // arg: motor generation
  kUnlatchReturn = 3,  // arg: motor generation
  kLngAutoLock = 4,    // arg: motor generation
  kDailySync = 5,      // arg: sync generation
  kWebhookSend = 6,    // target: webhook id, arg: smartlockId
};

struct Event {
  Time at;
  uint64_t seq = 0;  // ties at the same instant run in seq order
  EventKind kind = EventKind::kQueueReady;
  uint32_t target = 0;  // lock index (or webhook id)
  uint64_t arg = 0;

  bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

class Scheduler {
 public:
  Scheduler(Clock& clock, std::function<void(const Event&)> dispatch);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Schedules an event. `seq` orders ties; by default a fresh number (later than every
  // earlier one). Returns the seq used.
  uint64_t schedule(Time at, EventKind kind, uint32_t target, uint64_t arg = 0, uint64_t seq = 0);
  // Draws a fresh sequence number without scheduling.
  uint64_t nextSeq() { return nextSeq_++; }

  size_t size() const { return heap_.size(); }
  // Every pending event, in the order it will run.
  std::vector<Event> pending() const;
  // Replaces all pending events (snapshot restore).
  void restore(std::vector<Event> events, uint64_t nextSeq);
  uint64_t peekNextSeq() const { return nextSeq_; }
  void clear();
  // Re-arms the clock alarm (after the clock itself was moved, e.g. by a restore).
  void rearm();

  // ---- Snapshot: the pending events and the next sequence number.
  struct Decoded {
    std::vector<Event> events;
    uint64_t nextSeq = 1;
  };
  // Writes "scheduler" into the snapshot object.
  void encode(nlohmann::json& snapshot) const;
  // Reads and checks a snapshot's "scheduler" (events of `lockCount` locks); changes nothing.
  static snapshot::Checked<Decoded> decode(const snapshot::In& snapshot, size_t lockCount);
  // Replaces all pending events by decoded ones (restore()).
  void adopt(Decoded decoded);

 private:
  void onAlarm();

  Clock& clock_;
  std::function<void(const Event&)> dispatch_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> heap_;
  uint64_t nextSeq_ = 1;
  Clock::AlarmId alarm_;
  bool armed_ = false;
  Time armedAt_{};
  bool running_ = false;
};

}  // namespace nukihil::sim
