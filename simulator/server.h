// nukisim as one assembly: the Simulator, the Transport that delivers its webhooks and the
// HTTP server in front of it, with the simulator's body limits and error shapes. The nukisim
// tool, the test harness and the embedded world all build it through this class, so what the
// tests run is what ships.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "runtime/http.h"
#include "simulator/simulator.h"

namespace boost::asio {
class io_context;
}
namespace nukihil::http {
class MemoryNetwork;
}

namespace nukihil::sim {

struct ServerOptions {
  // Seed, admin token, lock defaults, journal, webhooks… Unset `realDelay`: a timer on the
  // server's io_context (latency faults then wait in real time).
  SimulatorOptions simulator;
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 takes a free port; port() tells which
  // Real time, in the session (see http::ServerOptions).
  std::chrono::milliseconds readTimeout{30000};
  std::chrono::milliseconds idleTimeout{60000};
  std::string serverName = "nukisim";
  std::string webhookUserAgent = "nukisim-webhooks";
  // The webhook client's default deadline; each delivery sets its own
  // (simulator.webhooks.timeout), so this only bounds requests that set none.
  std::chrono::milliseconds webhookClientTimeout{10000};
  // For harnesses (the embedded world's `restartAdapter during nextNukiCall`): called with every
  // request before the simulator handles it; it may wrap `respond` (to see or drop the answer).
  // Unset in nukisim.
  std::function<void(const http::Request&, http::Respond&)> TEST_onRequest;
  // If set, webhooks go out on this memory network (an http::MemoryTransport instead of an
  // http::HttpClient) and the server listens on it too, besides its TCP port. It must outlive
  // the Server.
  http::MemoryNetwork* network = nullptr;
};

class Server {
 public:
  // Builds the webhook Transport (its requests counted by clock.work(), so a virtual clock
  // waits for deliveries in flight), the Simulator and the HTTP server. Nothing listens yet:
  // load a fleet or restore a snapshot through simulator() first if needed, then start().
  // `io` and `clock` must outlive the Server; everything runs on the thread that runs `io`.
  Server(boost::asio::io_context& io, Clock& clock, ServerOptions options);
  // Stops accepting (if stop() was not called) and destroys server, simulator and client in
  // that order; a connection still open afterwards is closed without an answer. Destroy it on
  // the io thread, or once `io` no longer runs.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds address:port and starts accepting. Throws std::runtime_error
  // (boost::system::system_error) if the address is invalid or cannot be bound.
  void start();
  // The bound port (0 before start()).
  uint16_t port() const;
  // "http://<address>:<port>".
  std::string url() const;
  // Graceful: stops accepting and closes idle connections; a request being handled gets its
  // answer first. `done` runs on the io thread once the last connection has closed.
  void stop(std::function<void()> done = {});

  Simulator& simulator();
  const ServerOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nukihil::sim
