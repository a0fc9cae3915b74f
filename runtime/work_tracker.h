// Counts work in flight (outgoing HTTP requests, deferred responses) so that the virtual clock
// can wait for the world to be quiet before it moves on. Single-threaded: use it on the thread
// that runs the event loop.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace nukihil {

class WorkTracker {
 public:
  void begin() { ++inFlight_; }
  // Ends one unit of work. When none is left, the waiters registered with whenIdle run, in
  // registration order.
  void end() {
    if (inFlight_ == 0) return;
    if (--inFlight_ == 0 && !waiters_.empty()) {
      auto waiters = std::exchange(waiters_, {});
      for (auto& w : waiters)
        w();
    }
  }
  bool idle() const { return inFlight_ == 0; }
  size_t inFlight() const { return inFlight_; }
  // Runs `f` at once if nothing is in flight, otherwise when the last piece of work ends.
  void whenIdle(std::function<void()> f) {
    if (idle())
      f();
    else
      waiters_.push_back(std::move(f));
  }

 private:
  size_t inFlight_ = 0;
  std::vector<std::function<void()>> waiters_;
};

// Marks one unit of work for as long as it lives; movable, so it can ride in a callback.
class WorkGuard {
 public:
  WorkGuard() = default;
  explicit WorkGuard(WorkTracker* t) : t_(t) {
    if (t_) t_->begin();
  }
  WorkGuard(WorkGuard&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  WorkGuard& operator=(WorkGuard&& o) noexcept {
    if (this != &o) {
      reset();
      t_ = std::exchange(o.t_, nullptr);
    }
    return *this;
  }
  WorkGuard(const WorkGuard&) = delete;
  WorkGuard& operator=(const WorkGuard&) = delete;
  ~WorkGuard() { reset(); }
  void reset() {
    if (auto* t = std::exchange(t_, nullptr)) t->end();
  }

 private:
  WorkTracker* t_ = nullptr;
};

}  // namespace nukihil
