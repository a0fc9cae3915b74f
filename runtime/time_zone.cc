#include "runtime/time_zone.h"

#include <date/tz.h>

#include <map>
#include <memory>
#include <mutex>

namespace nukihil {

namespace {
const date::time_zone* zoneOf(const void* p) {
  return static_cast<const date::time_zone*>(p);
}
}  // namespace

const TimeZone* TimeZone::find(std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<TimeZone>, std::less<>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
  // Keep the name as asked for ("UTC" stays "UTC" even where it is a link).
  auto tz = std::unique_ptr<TimeZone>(new TimeZone(std::string(name), zone));
  auto* raw = tz.get();
  cache.emplace(std::string(name), std::move(tz));
  return raw;
}

const TimeZone& TimeZone::utc() {
  static const TimeZone* z = find("UTC");
  return *z;
}

LocalTime TimeZone::toLocal(Time t) const {
  const auto local = zoneOf(zone_)->to_local(t);
  const auto day = std::chrono::floor<date::days>(local);
  const auto sinceMidnight = local - day;
  LocalTime out;
  out.day = day.time_since_epoch().count();
  out.millisOfDay = sinceMidnight.count();
  out.minuteOfDay = int(out.millisOfDay / 60000);
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  out.weekday = int(((out.day % 7) + 7 + 3) % 7);
  return out;
}

Time TimeZone::fromLocal(int64_t day, int minuteOfDay) const {
  const date::local_time<Duration> local{date::local_days{date::days{day}} +
                                         std::chrono::minutes{minuteOfDay}};
  return zoneOf(zone_)->to_sys(local, date::choose::earliest);
}

}  // namespace nukihil
