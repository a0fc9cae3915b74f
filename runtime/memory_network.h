// HTTP inside one process, for the fastest property runs (DESIGN "Transport"): servers
// register on a MemoryNetwork under their (still bound, still served) TCP port, and
// MemoryTransport / MemoryRequester hand them each request as the bytes a client would write
// on a socket, and parse the bytes of the answer — no sockets, no kernel, but every message
// serialised and parsed by Beast as over loopback, with the same limits, faults and errors.
//
//   http::MemoryNetwork net;
//   http::ServerOptions so;  so.network = &net;      // the server also takes memory exchanges
//   http::HttpServer server(io, so, handler);  server.start();
//   http::MemoryTransport client(io, net);            // instead of http::HttpClient
//   client.send({.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x"}, done);
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/blocking_client.h"
#include "runtime/transport.h"

namespace boost::asio {
class io_context;
}

namespace nukihil::http {

// A server's side of the memory network (HttpServer implements it).
class MemoryEndpoint {
 public:
  // The complete response's bytes, or nullopt: the connection was closed without an answer
  // (a reset fault, a request that could not be read to its end, a server destroyed).
  using Reply = std::function<void(std::optional<std::string> response)>;
  virtual ~MemoryEndpoint() = default;
  // Takes one complete request — exactly the bytes a client writes on its socket — and answers
  // through `reply` exactly once, at once or later, on the server's thread: the caller moves
  // the answer on to its own. Thread-safe.
  virtual void exchange(std::string request, Reply reply) = 0;
};

// Port → endpoint: what listens where. Thread-safe. It must outlive the servers and clients
// that use it; it owns none of them.
class MemoryNetwork {
 public:
  MemoryNetwork() = default;
  MemoryNetwork(const MemoryNetwork&) = delete;
  MemoryNetwork& operator=(const MemoryNetwork&) = delete;

  struct Listener {
    std::shared_ptr<MemoryEndpoint> endpoint;
    uint64_t id = 0;  // this registration's, unique on the network
    // How long the server keeps an idle kept-alive connection (clients then close theirs).
    std::chrono::milliseconds idleTimeout{0};
  };
  // Registers `endpoint` under `port`, replacing what was there; returns the registration's id.
  uint64_t listen(uint16_t port, std::weak_ptr<MemoryEndpoint> endpoint,
                  std::chrono::milliseconds idleTimeout);
  // Removes registration `id` of `port`; nothing if another has replaced it since.
  void unlisten(uint16_t port, uint64_t id);
  // What listens on `port` now; nullopt: nothing (a connection there is refused).
  std::optional<Listener> connect(uint16_t port) const;

 private:
  struct Entry {
    std::weak_ptr<MemoryEndpoint> endpoint;
    uint64_t id = 0;
    std::chrono::milliseconds idleTimeout{0};
  };
  mutable std::mutex mu_;
  std::map<uint16_t, Entry> entries_;
  uint64_t nextId_ = 0;
};

// The memory Transport: what HttpClient does, on a MemoryNetwork. It serialises each request
// as HttpClient would write it (same Host, User-Agent, Content-Type, Content-Length), hands
// the bytes to the endpoint registered for the URL's port (the host must be 127.0.0.1,
// localhost or ::1) on the io_context, and parses the answer's bytes. It keeps HttpClient's
// model of kept-alive connections — one per request in flight, reused per origin while
// neither side's idle timeout has passed and the same server still listens — so that the
// same requests are sent again after a connection closed without an answer: a GET, HEAD or
// OPTIONS on a reused connection, once. Errors read as HttpClient's: "invalid URL: …",
// "Connection refused" (nothing listens on the port), "end of stream" (closed without an
// answer), "timeout" (the request's real-time deadline; a late answer is dropped), and
// "TLS is not available on the memory network" for https.
//
// `done` runs exactly once, on the io_context's thread, never inside send(). With
// ClientOptions::tracker, a request counts as work in flight from send() until its callback
// has run. Use it on the io_context's thread; calls in flight keep what they need alive.
class MemoryTransport : public Transport {
 public:
  // Which requests go again, once, on a fresh connection after a reused one closed without an
  // answer: HttpClient's (GET, HEAD, OPTIONS) or BlockingClient's (any method).
  enum class Retry { kSafeMethods, kAnyMethod };
  MemoryTransport(boost::asio::io_context& io, MemoryNetwork& network, ClientOptions options = {},
                  Retry retry = Retry::kSafeMethods);
  ~MemoryTransport() override;
  MemoryTransport(const MemoryTransport&) = delete;
  MemoryTransport& operator=(const MemoryTransport&) = delete;

  void send(ClientRequest request, std::function<void(ClientResponse)> done) override;
  void closeIdle() override;
  void abandon() override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// BlockingClient on a MemoryNetwork, for a driver on another thread than `io`'s: each request
// is sent by a MemoryTransport on `io` (one kept-alive connection, retried as BlockingClient
// does) while the driver waits. Header names in the answer are lower case. `io` must be run by
// another thread for as long as requests are made.
class MemoryRequester : public Requester {
 public:
  MemoryRequester(boost::asio::io_context& io, MemoryNetwork& network, uint16_t port,
                  std::string bearerToken = {});
  ~MemoryRequester() override;
  MemoryRequester(const MemoryRequester&) = delete;
  MemoryRequester& operator=(const MemoryRequester&) = delete;

  void setToken(std::string token) override { token_ = std::move(token); }
  BlockingResponse request(
      const std::string& method, const std::string& target, const std::string& body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {}) override;

 private:
  boost::asio::io_context& io_;
  uint16_t port_;
  std::string token_;
  std::shared_ptr<MemoryTransport> transport_;  // used on io_'s thread only
};

}  // namespace nukihil::http
