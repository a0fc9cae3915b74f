// What the snapshot codecs of the simulator's parts share (World, Scheduler, Webhooks, Faults and
// Journal each encode and decode their own part beside their code; simulator/snapshot.cc puts
// the parts together). A damaged snapshot must never reach the world: a decoder checks every
// index, count, enum and range, and a refusal names the JSON path (issue 8).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "runtime/time.h"

namespace nukihil::sim::snapshot {

// Instants the simulator itself makes lie in SPEC's 2000–2037 (SPEC §3); what is scheduled may
// run a little past the end (a motor run, a delivery, the next sync, a webhook retry).
inline constexpr int64_t kEarliestMs = millisOf(kEarliestTime);
inline constexpr int64_t kLatestMs = millisOf(kLatestTime);
inline constexpr int64_t kLatestScheduledMs = kLatestMs + int64_t(3) * 86400 * 1000;
// The longest text a snapshot field holds unless the field says otherwise.
inline constexpr size_t kMaxText = 64 * 1024;

// Thrown by In on the first value that does not pass; check() turns it into a Refusal, so it
// never leaves a part's decode.
struct Failure : std::runtime_error {
  Failure(const std::string& path, const std::string& why);
};

// One JSON value of the snapshot and its path ("" for the root), read with its type and range
// checked. Every reader either returns a value that passed or throws Failure naming the path.
// Holds a reference: the JSON must outlive it.
class In {
 public:
  In(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  const nlohmann::json& raw() const { return j_; }
  [[noreturn]] void fail(const std::string& why) const;

  bool has(const char* key) const { return j_.is_object() && j_.contains(key); }
  In operator[](const char* key) const;
  In operator[](size_t i) const;
  In operator[](int i) const { return (*this)[size_t(i)]; }
  // An array of at most `max` elements; its size.
  size_t array(size_t max = SIZE_MAX) const;
  int64_t integer(int64_t lo, int64_t hi) const;
  uint64_t u64() const;
  uint32_t u32() const { return uint32_t(integer(0, UINT32_MAX)); }
  int32_t i32() const { return int32_t(integer(INT32_MIN, INT32_MAX)); }
  uint8_t u8(uint8_t hi = UINT8_MAX) const { return uint8_t(integer(0, hi)); }
  bool boolean() const;
  std::string string(size_t maxBytes = kMaxText) const;
  // An instant in [lo, hi], or kUnset where allowed.
  int64_t instant(int64_t lo, int64_t hi, bool unsetAllowed = false) const;

 private:
  const nlohmann::json& j_;
  std::string path_;
};

// A part of a snapshot, decoded and checked, or why it was refused: "<JSON path>: <why>".
template <class T>
class [[nodiscard]] Checked {
 public:
  Checked(T value) : value_(std::move(value)) {}  // NOLINT: implicit, as a result
  static Checked refused(std::string why) {
    Checked c;
    c.refusal_ = std::move(why);
    return c;
  }
  bool ok() const { return value_.has_value(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  const std::string& refusal() const { return refusal_; }

 private:
  Checked() = default;
  std::optional<T> value_;
  std::string refusal_;
};

// Runs a decoder written with In and returns what it decoded, or the refusal of the first value
// that did not pass. Anything else it throws (out of memory) passes through.
template <class Decode>
auto check(Decode&& decode) -> Checked<std::invoke_result_t<Decode>> {
  try {
    return decode();
  } catch (const Failure& f) {
    return Checked<std::invoke_result_t<Decode>>::refused(f.what());
  }
}

}  // namespace nukihil::sim::snapshot
