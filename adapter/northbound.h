// The adapter's HTTP API (SPEC §5 "Service", "Operations"): /v1 for the platform, behind the
// API key, and /nuki/webhook for Nuki Web's decentral webhooks, verified by their signature.
#pragma once

#include <string>

#include "adapter/adapter.h"
#include "runtime/http.h"

namespace nukihil::adapter {

class Northbound {
 public:
  Northbound(Adapter& adapter, Outbox& outbox, std::string apiKey);
  void handle(http::Request& req, http::Respond respond);
  // The server's own 400/413 answers in this API's error shape.
  static http::Response transportError(int status, std::string_view why);

 private:
  Adapter& adapter_;
  Outbox& outbox_;
  std::string apiKey_;
  http::Router router_;
};

}  // namespace nukihil::adapter
