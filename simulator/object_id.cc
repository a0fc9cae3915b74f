#include "simulator/object_id.h"

#include <cstdio>

namespace nukihil::sim {

std::string ObjectId::hex() const {
  char buf[25];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x", seconds, lock, counter);
  return std::string(buf, 24);
}

std::optional<ObjectId> ObjectId::parse(std::string_view text) {
  if (text.size() != 24) return std::nullopt;
  uint32_t parts[3] = {0, 0, 0};
  for (size_t i = 0; i < 24; ++i) {
    const char c = text[i];
    uint32_t v;
    if (c >= '0' && c <= '9')
      v = uint32_t(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = uint32_t(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v = uint32_t(c - 'A' + 10);
    else
      return std::nullopt;
    parts[i / 8] = parts[i / 8] * 16 + v;
  }
  return ObjectId{parts[0], parts[1], parts[2]};
}

}  // namespace nukihil::sim
