// Faults injected on Nuki API routes (control plane POST /sim/v1/faults): data that the
// request path consults, FoundationDB style. Each fault has a route pattern, methods, a
// probability, a virtual-time window and an optional count, and one effect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/random.h"
#include "runtime/time.h"
#include "simulator/snapshot_codec.h"

namespace nukihil::sim {

// Seconds of Retry-After on an injected 429 that does not give `retryAfter`.
inline constexpr int64_t kDefaultRetryAfter = 1;

struct Fault {
  int64_t id = 0;
  std::string route = "*";           // glob on the path: '*' matches any run of characters
  std::vector<std::string> methods;  // empty: all
  double probability = 1.0;
  int64_t fromMs = INT64_MIN;
  int64_t untilMs = INT64_MAX;
  int64_t remaining = -1;  // times it may still fire; -1: unlimited
  enum Effect : uint8_t { kStatus, kLatency, kReset, kResetAfter } effect = kStatus;
  int status = 503;
  int64_t retryAfterSeconds = -1;  // the Retry-After header (-1: none; a 429 defaults to 1)
  int64_t latencyMs = 0;
  uint64_t fired = 0;

  // The Retry-After to send, -1 for none. SPEC §4: "429 with Retry-After", so a 429 always
  // carries one.
  int64_t retryAfter() const {
    return retryAfterSeconds < 0 && status == 429 ? kDefaultRetryAfter : retryAfterSeconds;
  }
};

class Faults {
 public:
  // Parses and adds a fault. Returns its id, or sets `error` to why the body is not one.
  std::optional<int64_t> add(const nlohmann::json& body, Time now, std::string& error);
  // The first fault that applies to this request now, after its probability draw (drawn
  // from `random` only for faults whose route, method and window match).
  Fault* pick(std::string_view method, std::string_view path, Time now, Random& random);
  void clear() { faults_.clear(); }
  bool remove(int64_t id);
  const std::vector<Fault>& all() const { return faults_; }

  // ---- Snapshot: the faults and the next fault id.
  struct Decoded {
    std::vector<Fault> list;
    int64_t nextId = 1;
  };
  // Writes "faults" into the snapshot object.
  void encode(nlohmann::json& snapshot) const;
  // Reads and checks a snapshot's "faults"; changes nothing.
  static snapshot::Checked<Decoded> decode(const snapshot::In& snapshot);
  // Replaces the faults and the next id by decoded ones.
  void adopt(Decoded decoded);

  static bool globMatch(std::string_view pattern, std::string_view text);
  static nlohmann::json toJson(const Fault& f);
  static std::optional<Fault> fromJson(const nlohmann::json& j, Time now, std::string& error);

 private:
  std::vector<Fault> faults_;
  int64_t nextId_ = 1;
};

}  // namespace nukihil::sim
