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

// A driver's synchronous client of one server: over loopback (BlockingClient) or on a memory
// network (MemoryRequester, runtime/memory_network.h). Use it from one thread at a time, never
// from the thread that runs the server.
class Requester {
 public:
  virtual ~Requester() = default;
  // The bearer token every later request carries ("Authorization: Bearer <token>"; none if
  // empty).
  virtual void setToken(std::string token) = 0;
  // Sends one request to the server (`target`: path and query; a body goes as
  // application/json; `headers` are set after the client's own) and waits for the answer, at
  // most 60 s. Status 0 and `error` when there is none. A request on a kept-alive connection
  // the server had closed is sent again once on a fresh one.
  virtual BlockingResponse request(
      const std::string& method, const std::string& target, const std::string& body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {}) = 0;
};

class BlockingClient : public Requester {
 public:
  BlockingClient(std::string host, uint16_t port, std::string bearerToken = {});
  ~BlockingClient() override;
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  void setToken(std::string token) override { token_ = std::move(token); }
  // Requester::request, over one kept-alive TCP connection.
  BlockingResponse request(
      const std::string& method, const std::string& target, const std::string& body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {}) override;

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
