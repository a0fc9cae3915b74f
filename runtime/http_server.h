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

class MemoryNetwork;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 takes a free port; port() tells which
  size_t headerLimit = 16 * 1024;
  size_t bodyLimit = 64 * 1024;
  // Optional: decides the body limit (or refuses the request) from the head, before any body
  // byte is read. Without it every request may carry up to bodyLimit.
  std::function<Admission(const RequestHead&)> admit;
  // A request (headers and body) must arrive within readTimeout once it has started; a
  // keep-alive connection may sit idle for idleTimeout. Real time, by design.
  std::chrono::milliseconds readTimeout{30000};
  std::chrono::milliseconds idleTimeout{60000};
  // At most this many connections at once, and never more than three quarters of the
  // process's file descriptor limit (the rest is for its own clients, files and logs): the
  // connection after the last is closed at once.
  size_t maxConnections = 4096;
  // When accept fails for want of file descriptors or memory, the server logs it once and
  // stops accepting for this long (as nginx does), instead of retrying at once in a loop.
  std::chrono::milliseconds acceptPause{500};
  // Closing after an error answer sent before the body was read (413, 401, 501…): the server
  // half-closes, then reads and discards what the client still sends — at most lingerBytes,
  // for at most lingerTime — so that a client writing its whole body first still reads the
  // answer instead of a connection reset (nginx's lingering close).
  std::chrono::milliseconds lingerTime{5000};
  size_t lingerBytes = 64 * 1024 * 1024;
  std::string serverName = "nukihil";
  // One log::info line per request once it is answered: "GET /smartlock -> 200 (41 us)", the
  // time being real time from the complete request to the answer (never a header's value).
  bool logRequests = false;
  // Renders the server's own errors (400 unparseable request, 413 body too large) in the
  // application's error shape for that target. Default: an empty body.
  std::function<Response(int status, std::string_view target, std::string_view why)> errorResponse;
  // If set, the server also listens on this memory network, under its TCP port, from start()
  // until stop() or its destruction (runtime/memory_network.h): each exchange goes through the
  // same parser, limits, errors, handler, log line and fault deliveries as a request on a
  // connection. It must outlive the server.
  MemoryNetwork* network = nullptr;
};

class HttpServer {
 public:
  // The server runs on `io`; the handler is called on that io_context's thread.
  HttpServer(boost::asio::io_context& io, ServerOptions options, Handler handler);
  // Stops accepting. Memory exchanges still waiting for their handler's answer are closed
  // without one at once (a connection still open is left to close by itself).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Throws std::system_error if the address cannot be bound.
  void start();
  uint16_t port() const;
  // Stops accepting (and leaves the memory network) and closes idle connections; a request
  // being handled, on a connection or a memory exchange, gets its response first. `done` runs
  // (on the io thread) when the last connection has closed and the last exchange is answered.
  void stop(std::function<void()> done = {});
  // Runs `f` once no request is being handled and no answer is being written, on a connection
  // or a memory exchange: at once if none is, else posted on the io thread when the last one
  // is done. What a kill waits for so that no answer already on its way is lost.
  void whenAnswered(std::function<void()> f);
  // TCP connections open now (memory exchanges are none).
  size_t connectionCount() const;
  // maxConnections as it applies (after the file descriptor limit); known once started.
  size_t maxConnections() const;

  struct Impl;  // defined in http_server.cc

 private:
  std::shared_ptr<Impl> impl_;
};

// Raises the process's soft limit on open files to its hard limit (at most `cap`), as servers
// do at start-up; returns the soft limit now in force.
size_t raiseOpenFileLimit(size_t cap = 65536);

}  // namespace nukihil::http
