#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>

#include "runtime/clock.h"

namespace nukihil {

namespace asio = boost::asio;

struct RealClock::Impl {
  asio::io_context& io;
  Time start;
  std::chrono::steady_clock::time_point steadyStart;
  struct Alarm {
    std::function<void()> fire;
    std::unique_ptr<asio::steady_timer> timer;
    uint64_t generation = 0;
  };
  std::map<AlarmId, Alarm> alarms;
  AlarmId nextId = 1;
  explicit Impl(asio::io_context& i) : io(i) {}
};

RealClock::RealClock(asio::io_context& io, Time start, double scale)
    : impl_(std::make_unique<Impl>(io)), scale_(scale > 0 ? scale : 1.0) {
  impl_->start = start;
  impl_->steadyStart = std::chrono::steady_clock::now();
}

RealClock::RealClock(asio::io_context& io, double scale)
    : RealClock(io, std::chrono::floor<Duration>(std::chrono::system_clock::now()), scale) {}

RealClock::~RealClock() = default;

Time RealClock::now() const {
  const auto real = std::chrono::steady_clock::now() - impl_->steadyStart;
  const auto scaled = std::chrono::duration<double, std::milli>(real) * scale_;
  return impl_->start + Duration(int64_t(scaled.count()));
}

void RealClock::rebase(Time t) {
  impl_->start = t;
  impl_->steadyStart = std::chrono::steady_clock::now();
  // Deadlines were computed against the old base: re-arming is the owner's job.
}

Clock::AlarmId RealClock::addAlarm(std::function<void()> fire) {
  const AlarmId id = impl_->nextId++;
  auto& a = impl_->alarms[id];
  a.fire = std::move(fire);
  a.timer = std::make_unique<asio::steady_timer>(impl_->io);
  return id;
}

void RealClock::arm(AlarmId id, Time at) {
  auto it = impl_->alarms.find(id);
  if (it == impl_->alarms.end()) return;
  auto& a = it->second;
  const uint64_t generation = ++a.generation;
  const auto virtualDelay = at - now();
  const auto realDelay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double, std::milli>(double(virtualDelay.count()) / scale_));
  a.timer->expires_after(realDelay.count() > 0 ? realDelay
                                               : std::chrono::steady_clock::duration::zero());
  a.timer->async_wait([this, id, generation](const boost::system::error_code& ec) {
    if (ec) return;
    auto found = impl_->alarms.find(id);
    if (found == impl_->alarms.end() || found->second.generation != generation) return;
    auto fire = found->second.fire;
    fire();
  });
}

void RealClock::disarm(AlarmId id) {
  auto it = impl_->alarms.find(id);
  if (it == impl_->alarms.end()) return;
  ++it->second.generation;
  it->second.timer->cancel();
}

void RealClock::removeAlarm(AlarmId id) {
  disarm(id);
  impl_->alarms.erase(id);
}

}  // namespace nukihil
