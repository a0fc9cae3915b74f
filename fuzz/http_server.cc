// The whole HTTP request path on raw bytes: a nukisim server (runtime's Beast server, the
// simulator's admission, routing and handlers) on loopback, each input written on a fresh
// connection, the write side then closed, the answer read until the server closes.
// Invariants: no crash or sanitizer report; the server closes every connection once the client
// is done (no hang: a read longer than 5 s aborts), and it still serves a plain request.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "runtime/clock.h"
#include "simulator/server.h"

namespace {

struct Running {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  nukihil::VirtualClock clock;
  std::unique_ptr<nukihil::sim::Server> server;
  std::thread thread;
  uint16_t port = 0;

  Running() {
    nukihil::sim::ServerOptions o;
    o.simulator.seed = 1;
    o.simulator.adminToken = "fuzz-admin-token-0123456789";
    o.readTimeout = std::chrono::milliseconds(2000);
    o.idleTimeout = std::chrono::milliseconds(2000);
    server = std::make_unique<nukihil::sim::Server>(io, clock, o);
    server->start();
    port = server->port();
    thread = std::thread([this] { io.run(); });
  }
};

// Sends `bytes`, half-closes, reads to the end. False if the server did not close in time.
bool exchange(uint16_t port, const uint8_t* data, size_t size, std::string* answer) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return true;
  }
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (413, 400): fine
    sent += size_t(n);
  }
  ::shutdown(fd, SHUT_WR);
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  char buf[16384];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    if (answer) answer->append(buf, size_t(n));
  }
  ::close(fd);
  return closed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Running* running = new Running();  // lives for the process: the fuzzer exits hard
  // A generated fleet within the documented caps (100,000 locks × 100 codes) is a valid request
  // that costs gigabytes under ASan: the fuzzer would call that an out-of-memory, which it is
  // not. Such bodies are covered with small counts by sim_control_bodies.
  if (std::string_view(reinterpret_cast<const char*>(data), size).find("generate") !=
      std::string_view::npos)
    return 0;
  if (!exchange(running->port, data, size, nullptr)) std::abort();  // the server hung on us
  static size_t n = 0;
  if (++n % 500 == 0) {
    const std::string probe =
        "GET /sim/v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        "fuzz-admin-token-0123456789\r\nConnection: close\r\n\r\n";
    std::string answer;
    exchange(running->port, reinterpret_cast<const uint8_t*>(probe.data()), probe.size(), &answer);
    if (answer.rfind("HTTP/1.1 200", 0) != 0) std::abort();  // the server stopped serving
  }
  return 0;
}
