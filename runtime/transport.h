// The client side of HTTP as its users see it: plain requests and responses, and the small
// interface outgoing calls go through (webhook deliveries, Nuki Web requests). Two
// implementations (DESIGN "Transport"): HttpClient (runtime/http_client.h), real HTTP over
// TCP and TLS, and MemoryTransport (runtime/memory_network.h), which still serialises and
// parses every message but hands the bytes to a server in the same process.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/http.h"

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
  std::string error;  // why no response arrived ("timeout", "Connection refused", …)
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

// Sends requests and calls back with their answers. Both implementations use one thread: the
// one running their io_context; callbacks run there.
class Transport {
 public:
  virtual ~Transport() = default;
  // Sends the request; `done` runs exactly once with the response or the reason there is none
  // (ClientResponse::error). The implementations agree on those reasons, so a caller cannot
  // tell them apart: "timeout" (the request's deadline, real time), "invalid URL: …", the
  // system's "Connection refused", and "end of stream" for a connection the server closed
  // without answering.
  virtual void send(ClientRequest request, std::function<void(ClientResponse)> done) = 0;
  // Drops idle kept-alive connections.
  virtual void closeIdle() {}
  // What the death of the process using it looks like from outside, where its objects cannot
  // be destroyed yet: no callback runs any more, of the calls in flight (which still end as
  // their exchanges do, counting as work until then) or of any sent later (those are dropped
  // at once, unsent).
  virtual void abandon() = 0;
};

}  // namespace nukihil::http
