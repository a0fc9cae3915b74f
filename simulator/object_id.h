// Nuki Web's 24-hex-digit identifiers (auths, logs, operations). Ours carry the lock's nukiId
// in the middle, so an id alone tells which lock it belongs to: no fleet-wide index needed.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nukihil::sim {

struct ObjectId {
  // [4 bytes: seconds since 1970][4 bytes: the lock's nukiId][4 bytes: a counter]
  uint32_t seconds = 0;
  uint32_t lock = 0;
  uint32_t counter = 0;

  std::string hex() const;
  static std::optional<ObjectId> parse(std::string_view text);
  bool empty() const { return seconds == 0 && lock == 0 && counter == 0; }
  auto operator<=>(const ObjectId&) const = default;
};

}  // namespace nukihil::sim
