#include "runtime/log.h"

#include <atomic>
#include <cstdio>
#include <string>

namespace nukihil::log {

namespace {
std::atomic<int> gLevel{int(Level::kWarn)};
}

void setLevel(Level level) {
  gLevel = int(level);
}
bool enabled(Level level) {
  return int(level) <= gLevel.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view line) {
  if (!enabled(level)) return;
  static constexpr const char* kNames[] = {"error", "warn", "info", "debug"};
  std::string out;
  out.reserve(line.size() + 16);
  out += kNames[int(level)];
  out += ": ";
  out += line;
  out += '\n';
  std::fwrite(out.data(), 1, out.size(), stderr);
}

}  // namespace nukihil::log
