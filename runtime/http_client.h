// An asynchronous HTTP/1.1 client for outgoing calls (webhook deliveries, Nuki Web requests):
// http and https (certificate and host name verified), keep-alive connections reused per
// origin, one real-time deadline per request. Callbacks run on the io_context's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/http.h"

namespace boost::asio {
class io_context;
}

namespace nukihil {
class WorkTracker;
}

namespace nukihil::http {

struct ClientOptions {
  std::string caFile;      // extra trusted CA bundle (PEM); system roots are always trusted
  bool verifyPeer = true;  // https only
  std::string userAgent = "nukihil";
  size_t maxIdlePerOrigin = 256;  // enough for an outbox delivering to many devices at once
  std::chrono::milliseconds defaultTimeout{10000};
  // A kept-alive connection idle longer than this is not reused but closed: below the
  // servers' own idle timeout (60 s here, nginx's 75 s), so the client never picks a
  // connection the server is closing at that moment.
  std::chrono::milliseconds idleTimeout{30000};
  // If set, every request counts as work in flight from send() until its callback has run,
  // so a virtual clock waits for it.
  WorkTracker* tracker = nullptr;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http://host:port/path?query or https://…
  Headers headers;
  std::string body;
  std::string contentType = "application/json";
  std::chrono::milliseconds timeout{0};  // 0: the client's default
};

struct ClientResponse {
  int status = 0;  // 0 when no response arrived
  std::string body;
  Headers headers;
  std::string error;  // why no response arrived ("timeout", "connection refused", …)
  bool ok() const { return error.empty(); }
  std::optional<std::string> header(std::string_view name) const;
};

struct Url {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string target = "/";
  // Parses http(s)://host[:port][/path][?query]; nullopt for anything else.
  static std::optional<Url> parse(std::string_view url);
  std::string origin() const;
};

class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request; `done` runs exactly once with the response or the reason there is
  // none. A kept-alive connection the peer has closed is not reused (checked before each
  // reuse). A request on a reused connection is retried once on a fresh connection when the
  // connection fails before any byte of the answer arrived — a GET, HEAD or OPTIONS always,
  // any other method only if the write itself failed with nothing written (on TCP a write to a
  // peer that just closed usually succeeds and the failure shows on the read: such a POST is
  // reported, not repeated, since the server may have acted on it).
  void send(ClientRequest request, std::function<void(ClientResponse)> done);

  // Drops idle connections.
  void closeIdle();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nukihil::http
