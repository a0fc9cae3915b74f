// The TCP Transport: an asynchronous HTTP/1.1 client for outgoing calls (webhook deliveries,
// Nuki Web requests): http and https (certificate and host name verified), keep-alive
// connections reused per origin, one real-time deadline per request. Callbacks run on the
// io_context's thread.
#pragma once

#include <functional>
#include <memory>

#include "runtime/transport.h"

namespace boost::asio {
class io_context;
}

namespace nukihil::http {

class HttpClient : public Transport {
 public:
  HttpClient(boost::asio::io_context& io, ClientOptions options = {});
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Transport::send. A kept-alive connection the peer has closed is not reused (checked before each
  // reuse). A request on a reused connection is retried once on a fresh connection when the
  // connection fails before any byte of the answer arrived — a GET, HEAD or OPTIONS always,
  // any other method only if the write itself failed with nothing written (on TCP a write to a
  // peer that just closed usually succeeds and the failure shows on the read: such a POST is
  // reported, not repeated, since the server may have acted on it).
  void send(ClientRequest request, std::function<void(ClientResponse)> done) override;

  // Drops idle connections.
  void closeIdle() override;
  void abandon() override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nukihil::http
