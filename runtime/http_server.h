// The Beast HTTP/1.1 server: listener and sessions. All limits live here, once: header and
// body size, read and idle timeouts, connection count, keep-alive, graceful shutdown. It
// hands each complete request to one Handler and writes whatever that handler answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "runtime/http.h"

namespace boost::asio {
class io_context;
}

namespace nukihil::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 takes a free port; port() tells which
  size_t headerLimit = 16 * 1024;
  size_t bodyLimit = 64 * 1024;
  // Optional per-target body limit (e.g. a large snapshot upload); falls back to bodyLimit.
  std::function<size_t(std::string_view target)> bodyLimitFor;
  // A request (headers and body) must arrive within readTimeout once it has started; a
  // keep-alive connection may sit idle for idleTimeout. Real time, by design.
  std::chrono::milliseconds readTimeout{30000};
  std::chrono::milliseconds idleTimeout{60000};
  size_t maxConnections = 4096;
  std::string serverName = "nukihil";
  // Renders the server's own errors (400 unparseable request, 413 body too large) in the
  // application's error shape for that target. Default: an empty body.
  std::function<Response(int status, std::string_view target, std::string_view why)> errorResponse;
};

class HttpServer {
 public:
  // The server runs on `io`; the handler is called on that io_context's thread.
  HttpServer(boost::asio::io_context& io, ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Throws std::system_error if the address cannot be bound.
  void start();
  uint16_t port() const;
  // Stops accepting and closes idle connections; a request being handled gets its response
  // first. `done` runs (on the io thread) when the last connection has closed.
  void stop(std::function<void()> done = {});
  size_t connectionCount() const;

  struct Impl;  // defined in http_server.cc

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace nukihil::http
