// A blocking HTTP/1.1 client with one keep-alive connection, for drivers that live on their
// own thread (scenario steps, benchmarks, tests) while servers run on an io_context elsewhere.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nukihil::http {

struct BlockingResponse {
  int status = 0;  // 0: no response (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;
};

class BlockingClient {
 public:
  BlockingClient(std::string host, uint16_t port, std::string bearerToken = {});
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  void setToken(std::string token) { token_ = std::move(token); }
  // Sends one request and waits for the answer (at most 60 s). A request on a kept-alive
  // connection the server had closed is sent again once on a fresh one.
  BlockingResponse request(const std::string& method, const std::string& target,
                           const std::string& body = {},
                           const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Writes raw bytes on a fresh connection and returns everything read until the server
  // closes it or `timeoutMs` of silence passes.
  static std::string raw(const std::string& host, uint16_t port, const std::string& bytes,
                         int timeoutMs = 2000);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string token_;
};

}  // namespace nukihil::http
