// Instants and durations as every component sees them: UTC, millisecond precision.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nukihil {

using Duration = std::chrono::milliseconds;
using Time = std::chrono::sys_time<Duration>;

inline constexpr Time timeFromMillis(int64_t ms) {
  return Time(Duration(ms));
}
inline constexpr int64_t millisOf(Time t) {
  return t.time_since_epoch().count();
}
inline constexpr int64_t secondsOf(Time t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

// Formats `t` as RFC 3339 in UTC with milliseconds, the way Nuki Web writes dates:
// "2025-01-01T00:00:00.000Z".
std::string formatRfc3339(Time t);

// Parses an RFC 3339 date-time ("2025-01-01T10:00:00Z", "…T10:00:00.5+02:00", lower-case
// 't'/'z' accepted). Returns nullopt for anything else, including impossible dates.
std::optional<Time> parseRfc3339(std::string_view text);

// The range virtual time may take: the tz database's daylight-saving rules are exact up to 2037.
inline constexpr Time kEarliestTime = timeFromMillis(946684800000LL);  // 2000-01-01T00:00:00Z
inline constexpr Time kLatestTime = timeFromMillis(2145916800000LL);   // 2038-01-01T00:00:00Z

}  // namespace nukihil
