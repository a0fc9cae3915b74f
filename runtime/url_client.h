// A blocking Requester (runtime/blocking_client.h) for any http:// or https:// base URL:
// HttpClient (TLS with certificate and host-name checks) on an io thread of its own. For
// drivers that talk to a service outside the process — the real Nuki Web in a
// hardware-in-the-loop run — where BlockingClient's loopback-only plain HTTP is not enough.
#pragma once

#include <memory>
#include <string>

#include "runtime/blocking_client.h"
#include "runtime/transport.h"

namespace nukihil::http {

class UrlClient final : public Requester {
 public:
  // `base`: "https://api.nuki.io" or "http://127.0.0.1:8080" (a path prefix is kept). Throws
  // std::invalid_argument if it is no such URL.
  UrlClient(const std::string& base, std::string bearerToken = {}, ClientOptions options = {});
  ~UrlClient() override;
  UrlClient(const UrlClient&) = delete;
  UrlClient& operator=(const UrlClient&) = delete;

  void setToken(std::string token) override;
  BlockingResponse request(
      const std::string& method, const std::string& target, const std::string& body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {}) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nukihil::http
