// IANA time zones from the system's tz database (Howard Hinnant's date/tz), reduced to what
// locks need: the local wall clock at an instant, and the instant of a local wall-clock time.
#pragma once

#include <string>
#include <string_view>

#include "runtime/time.h"

namespace nukihil {

struct LocalTime {
  int64_t day = 0;      // days since 1970-01-01 on the local calendar
  int minuteOfDay = 0;  // 0..1439
  int weekday = 0;      // 0 = Monday … 6 = Sunday
  int64_t millisOfDay = 0;
};

class TimeZone {
 public:
  // The zone with that IANA name ("Europe/Berlin", "UTC"), or nullptr if the tz database has
  // no such zone. Zones live for the whole process.
  static const TimeZone* find(std::string_view name);
  static const TimeZone& utc();

  const std::string& name() const { return name_; }
  LocalTime toLocal(Time t) const;
  // The instant the local clock shows `minuteOfDay` on local `day`. A time skipped by a clock
  // change gives the first instant after the gap; a repeated one gives its first occurrence.
  Time fromLocal(int64_t day, int minuteOfDay) const;

 private:
  TimeZone(std::string name, const void* zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  const void* zone_;  // const date::time_zone*
};

}  // namespace nukihil
