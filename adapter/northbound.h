// The adapter's HTTP API (SPEC §5 "Service", "Operations"): /v1 for the platform, behind the
// API key, and /nuki/webhook for Nuki Web's decentral webhooks, verified by their signature.
#pragma once

#include <string>

#include "adapter/adapter.h"
#include "runtime/http.h"

namespace nukihil::adapter {

class Northbound {
 public:
  // `nuki` is asked how Nuki Web answered lately (GET /v1/health).
  Northbound(Adapter& adapter, Outbox& outbox, const NukiClient& nuki, std::string apiKey);
  void handle(http::Request& req, http::Respond respond);
  // GET /v1/health: Adapter::healthJson with the outbox's counts, and what is wrong now —
  // "status" "ok" or "degraded" (HTTP 200 either way: the adapter is alive), "problems" (one
  // line each), "nukiWeb" (NukiReachability) and "webhooks" (the platform deliveries).
  nlohmann::json health() const;
  // The server's own 400/413 answers in this API's error shape.
  static http::Response transportError(int status, std::string_view why);

 private:
  Adapter& adapter_;
  Outbox& outbox_;
  const NukiClient& nuki_;
  std::string apiKey_;
  http::Router router_;
};

}  // namespace nukihil::adapter
