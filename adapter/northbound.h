// The adapter's HTTP API (SPEC §5 "Service", "Operations"): /v1 for the platform, behind the
// API key, and /nuki/webhook for Nuki Web's decentral webhooks, verified by their signature.
#pragma once

#include <optional>
#include <string>

#include "adapter/adapter.h"
#include "runtime/http.h"

namespace nukihil::adapter {

// Whether the adapter's database takes writes (adapter::Service keeps it across the Adapters it
// builds). While it does not, reads are served from what is durable, every write (a POST) is
// answered 503 STORAGE_UNAVAILABLE, and a small write is tried again now and then.
struct StorageStatus {
  bool writable = true;
  std::string lastError;
  std::optional<Time> since;      // refusing writes since
  std::optional<Time> nextProbe;  // the next try
  int retryAfterSeconds = 1;      // what a refused client is told to wait (Retry-After)
};

class Northbound {
 public:
  // `nuki` is asked how Nuki Web answered lately (GET /v1/health); `storage`, if given, whether
  // the database takes writes (it must outlive this).
  Northbound(Adapter& adapter, Outbox& outbox, const NukiClient& nuki, std::string apiKey,
             const StorageStatus* storage = nullptr);
  void handle(http::Request& req, http::Respond respond);
  // GET /v1/health: Adapter::healthJson with the outbox's counts, and what is wrong now —
  // "status" "ok" or "degraded" (HTTP 200 either way: the adapter is alive), "problems" (one
  // line each), "nukiWeb" (NukiReachability), "webhooks" (the platform deliveries) and
  // "storage" (StorageStatus).
  nlohmann::json health() const;
  // The server's own 400/413 answers in this API's error shape.
  static http::Response transportError(int status, std::string_view why);
  // 503 STORAGE_UNAVAILABLE with `why`, for when there is no API to ask.
  static http::Response unavailable(std::string_view why);

 private:
  http::Response storageUnavailable() const;

  Adapter& adapter_;
  Outbox& outbox_;
  const NukiClient& nuki_;
  std::string apiKey_;
  const StorageStatus* storage_;
  http::Router router_;
};

}  // namespace nukihil::adapter
