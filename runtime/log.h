// Line-oriented logging to stderr. Secrets never go through here.
#pragma once

#include <string_view>

namespace nukihil::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void setLevel(Level level);
bool enabled(Level level);
void write(Level level, std::string_view line);

inline void error(std::string_view line) {
  write(Level::kError, line);
}
inline void warn(std::string_view line) {
  write(Level::kWarn, line);
}
inline void info(std::string_view line) {
  write(Level::kInfo, line);
}
inline void debug(std::string_view line) {
  write(Level::kDebug, line);
}

}  // namespace nukihil::log
