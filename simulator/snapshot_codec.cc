#include "simulator/snapshot_codec.h"

#include "simulator/fleet.h"

namespace nukihil::sim::snapshot {

using nlohmann::json;

Failure::Failure(const std::string& path, const std::string& why)
    : std::runtime_error((path.empty() ? std::string("the snapshot") : path) + ": " + why) {}

void In::fail(const std::string& why) const {
  throw Failure(path_, why);
}

In In::operator[](const char* key) const {
  if (!j_.is_object()) fail("must be an object");
  auto it = j_.find(key);
  const std::string p = path_.empty() ? key : path_ + "." + key;
  if (it == j_.end()) throw Failure(p, "is missing");
  return In(*it, p);
}

In In::operator[](size_t i) const {
  if (!j_.is_array()) fail("must be an array");
  const std::string p = path_ + "[" + std::to_string(i) + "]";
  if (i >= j_.size()) throw Failure(p, "is missing");
  return In(j_[i], p);
}

size_t In::array(size_t max) const {
  if (!j_.is_array()) fail("must be an array");
  if (j_.size() > max)
    fail("holds " + std::to_string(j_.size()) + " entries, at most " + std::to_string(max) +
         " allowed");
  return j_.size();
}

int64_t In::integer(int64_t lo, int64_t hi) const {
  bool ok = j_.is_number_integer();
  int64_t v = 0;
  if (ok && j_.is_number_unsigned()) ok = j_.get<uint64_t>() <= uint64_t(INT64_MAX);
  if (ok) v = j_.get<int64_t>();
  if (!ok || v < lo || v > hi)
    fail("must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", not " +
         j_.dump());
  return v;
}

uint64_t In::u64() const {
  if (!j_.is_number_unsigned() && !(j_.is_number_integer() && j_.get<int64_t>() >= 0))
    fail("must be a non-negative integer, not " + j_.dump());
  return j_.get<uint64_t>();
}

bool In::boolean() const {
  if (!j_.is_boolean()) fail("must be true or false");
  return j_.get<bool>();
}

std::string In::string(size_t maxBytes) const {
  if (!j_.is_string()) fail("must be a string");
  const auto& s = j_.get_ref<const std::string&>();
  if (s.size() > maxBytes) fail("is longer than " + std::to_string(maxBytes) + " bytes");
  return s;
}

int64_t In::instant(int64_t lo, int64_t hi, bool unsetAllowed) const {
  if (unsetAllowed && j_.is_number_integer() && !j_.is_number_unsigned() &&
      j_.get<int64_t>() == kUnset)
    return kUnset;
  if (!j_.is_number_integer() || (j_.is_number_unsigned() && j_.get<uint64_t>() > INT64_MAX) ||
      j_.get<int64_t>() < lo || j_.get<int64_t>() > hi)
    fail("must be an instant between " + formatRfc3339(timeFromMillis(lo)) + " and " +
         formatRfc3339(timeFromMillis(hi)) + " (ms), not " + j_.dump());
  return j_.get<int64_t>();
}

}  // namespace nukihil::sim::snapshot
