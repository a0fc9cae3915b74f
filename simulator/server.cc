#include "simulator/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/memory_network.h"

namespace nukihil::sim {

namespace asio = boost::asio;

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<http::Transport> client;
  // Shared only so that the server's callbacks can hold it weakly: a connection that outlives
  // the Server finds it gone instead of dangling.
  std::shared_ptr<Simulator> simulator;
  std::unique_ptr<http::HttpServer> server;
  bool stopped = false;
};

Server::Server(asio::io_context& io, Clock& clock, ServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  I.options = std::move(options);
  auto& so = I.options.simulator;
  if (!so.realDelay) {
    so.realDelay = [&io](std::chrono::milliseconds d, std::function<void()> f) {
      auto timer = std::make_shared<asio::steady_timer>(io, d);
      timer->async_wait([timer, f = std::move(f)](const boost::system::error_code&) { f(); });
    };
  }

  http::ClientOptions co;
  co.tracker = &clock.work();
  co.userAgent = I.options.webhookUserAgent;
  co.defaultTimeout = I.options.webhookClientTimeout;
  if (I.options.network)
    I.client = std::make_unique<http::MemoryTransport>(io, *I.options.network, co);
  else
    I.client = std::make_unique<http::HttpClient>(io, co);
  I.simulator = std::make_shared<Simulator>(clock, I.client.get(), so);

  http::ServerOptions ho;
  ho.address = I.options.address;
  ho.port = I.options.port;
  ho.serverName = I.options.serverName;
  ho.readTimeout = I.options.readTimeout;
  ho.idleTimeout = I.options.idleTimeout;
  ho.bodyLimit = so.apiBodyLimit;
  ho.logRequests = so.logRequests;
  ho.network = I.options.network;
  const std::weak_ptr<Simulator> weak = I.simulator;
  ho.admit = [weak, fallback = so.apiBodyLimit](const http::RequestHead& head) {
    auto s = weak.lock();
    return s ? s->admit(head) : http::Admission{fallback, std::nullopt};
  };
  ho.errorResponse = [weak](int status, std::string_view target, std::string_view why) {
    auto s = weak.lock();
    return s ? s->transportError(status, target, why) : http::Response::empty(status);
  };
  I.server = std::make_unique<http::HttpServer>(
      io, ho, [weak, hook = I.options.TEST_onRequest](http::Request& req, http::Respond respond) {
        auto s = weak.lock();
        if (!s) {
          http::Response gone = http::Response::empty(503);
          gone.delivery = http::Delivery::kResetBeforeHandling;
          return respond(std::move(gone));
        }
        if (hook) hook(req, respond);
        s->handle(req, std::move(respond));
      });
}

Server::~Server() {
  auto& I = *impl_;
  if (!I.stopped) I.server->stop();
  I.server.reset();
  I.simulator.reset();
  I.client.reset();
}

void Server::start() {
  impl_->server->start();
}

uint16_t Server::port() const {
  return impl_->server->port();
}

std::string Server::url() const {
  return "http://" + impl_->options.address + ":" + std::to_string(port());
}

void Server::stop(std::function<void()> done) {
  impl_->stopped = true;
  impl_->server->stop(std::move(done));
}

Simulator& Server::simulator() {
  return *impl_->simulator;
}

const ServerOptions& Server::options() const {
  return impl_->options;
}

}  // namespace nukihil::sim
