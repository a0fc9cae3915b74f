// The fault proxy of a run against the real Nuki Web: a small HTTP server on loopback between
// the adapter and Nuki Web. It forwards every request (over TLS, with certificate and host-name
// checks, to https://api.nuki.io) and injects the faults of a scenario's `fault` steps: the
// same JSON as nukisim's `POST /sim/v1/faults`, read by the same parser, with the same effects
// (a status with Retry-After, `reset`, `resetAfter`, latency), on the wall clock.
//
// It keeps a journal of what it served, as nukisim does, for the spec model's oracle: when,
// method, path, status (0: no answer was sent), the fault applied, the caller's X-Request-ID,
// and the body of every code list (`GET /smartlock/{id}/auth`), so that a web view that
// departs from SPEC can be told. Thread-safe: the harness adds faults and reads the journal
// while the proxy serves on a thread of its own.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/transport.h"

namespace nukihil::scenarios {

struct ProxiedCall {
  uint64_t seq = 0;  // from 1, in the order the answers were given
  int64_t atMs = 0;  // when the request reached the proxy (wall clock, Unix ms)
  std::string method;
  std::string target;  // path and query, as sent
  int status = 0;
  std::string fault;      // the fault applied, as nukisim's journal shows it ("": none)
  std::string requestId;  // X-Request-ID ("": none)
  std::string error;      // why Nuki Web gave no answer ("": it answered)
  nlohmann::json body;    // a code list's answer; null otherwise
};

class FaultProxy {
 public:
  // Starts listening on 127.0.0.1 (a free port) in front of `upstream` ("https://api.nuki.io",
  // or nukisim's "http://127.0.0.1:8080" standing in). Throws if it cannot listen or `upstream`
  // is no http(s) URL.
  FaultProxy(std::string upstream, http::ClientOptions options = {});
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string url() const;  // "http://127.0.0.1:PORT", for the adapter's --nuki-url
  // Adds a fault (a `POST /sim/v1/faults` body); returns "" or why the body is not one.
  std::string addFault(const nlohmann::json& body);
  void clearFaults();
  // The calls answered with seq >= since, in order.
  std::vector<ProxiedCall> journal(uint64_t since = 1) const;
  // When the oldest request still waiting for Nuki Web's answer arrived (nullopt: none is).
  // A call enters the journal when it is answered: until then the journal is complete only
  // up to just before this instant.
  std::optional<int64_t> oldestInFlightMs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nukihil::scenarios
