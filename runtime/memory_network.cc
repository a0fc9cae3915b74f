#include "runtime/memory_network.h"

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/error.hpp>
#include <cctype>
#include <future>

#include "runtime/http_wire.h"
#include "runtime/work_tracker.h"

namespace nukihil::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Steady = std::chrono::steady_clock;

namespace {

// The words HttpClient finds for the same events on a socket, so that callers (and the
// journals and logs that quote them) cannot tell the transports apart.
std::string connectionRefused() {
  return beast::error_code(asio::error::connection_refused).message();
}
std::string closedWithoutAnswer() {
  return beast::error_code(bhttp::error::end_of_stream).message();
}

bool onThisHost(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

}  // namespace

// ---- MemoryNetwork ---------------------------------------------------------------------------

uint64_t MemoryNetwork::listen(uint16_t port, std::weak_ptr<MemoryEndpoint> endpoint,
                               std::chrono::milliseconds idleTimeout) {
  std::lock_guard lock(mu_);
  const uint64_t id = ++nextId_;
  entries_[port] = Entry{std::move(endpoint), id, idleTimeout};
  return id;
}

void MemoryNetwork::unlisten(uint16_t port, uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(port);
  if (it != entries_.end() && it->second.id == id) entries_.erase(it);
}

std::optional<MemoryNetwork::Listener> MemoryNetwork::connect(uint16_t port) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(port);
  if (it == entries_.end()) return std::nullopt;
  auto endpoint = it->second.endpoint.lock();
  if (!endpoint) return std::nullopt;
  return Listener{std::move(endpoint), it->second.id, it->second.idleTimeout};
}

// ---- MemoryTransport -------------------------------------------------------------------------

struct MemoryTransport::Impl : std::enable_shared_from_this<MemoryTransport::Impl> {
  asio::io_context& io;
  MemoryNetwork& network;
  ClientOptions options;
  Retry retry;
  // HttpClient's kept-alive connections, as far as they decide anything: whether the next
  // request to an origin goes on a reused one (and so may be retried).
  struct IdleConnection {
    uint64_t listener = 0;  // the registration of the server it was made to
    std::chrono::milliseconds serverIdleTimeout{0};
    Steady::time_point since;
  };
  std::map<std::string, std::vector<IdleConnection>> idle;  // by origin
  bool abandoned = false;                                   // see Transport::abandon

  Impl(asio::io_context& i, MemoryNetwork& n, ClientOptions o, Retry r)
      : io(i), network(n), options(std::move(o)), retry(r) {}

  // As HttpClient::takeIdle: a connection idle too long is closed by this side; one the server
  // has closed (it stopped, was replaced, or timed it out) is seen to be closed, and dropped.
  bool takeIdle(const std::string& origin, const MemoryNetwork::Listener& server) {
    auto it = idle.find(origin);
    if (it == idle.end()) return false;
    const auto now = Steady::now();
    while (!it->second.empty()) {
      const IdleConnection c = it->second.back();
      it->second.pop_back();
      const auto age = now - c.since;
      if (age >= options.idleTimeout) continue;
      if (c.listener == server.id && age < c.serverIdleTimeout) return true;
    }
    return false;
  }

  void putIdle(const std::string& origin, uint64_t listener, std::chrono::milliseconds serverIdle) {
    auto& list = idle[origin];
    if (list.size() >= options.maxIdlePerOrigin) return;
    list.push_back(IdleConnection{listener, serverIdle, Steady::now()});
  }

  struct Call : std::enable_shared_from_this<Call> {
    std::shared_ptr<Impl> client;
    ClientRequest request;
    std::function<void(ClientResponse)> done;
    WorkGuard work;
    Steady::time_point deadline;
    Url url;
    std::string bytes;  // the request as it goes on the wire
    std::optional<asio::steady_timer> timer;
    uint64_t listener = 0;  // the server of the current attempt
    std::chrono::milliseconds serverIdleTimeout{0};
    bool reused = false;
    bool retried = false;
    bool finished = false;

    void start() {
      auto parsed = Url::parse(request.url);
      if (!parsed) return fail("invalid URL: " + request.url);
      url = std::move(*parsed);
      if (url.tls) return fail("TLS is not available on the memory network");
      if (!onThisHost(url.host))
        return fail("cannot resolve " + url.host +
                    ": the memory network has only 127.0.0.1, localhost and ::1");
      auto message = wire::clientRequest(request, url, client->options.userAgent);
      bytes = wire::serialise(message);
      timer.emplace(client->io, deadline);
      timer->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->fail("timeout");
      });
      attempt(/*fresh=*/false);
    }

    bool mayRetry() const {
      return client->retry == Retry::kAnyMethod || request.method == "GET" ||
             request.method == "HEAD" || request.method == "OPTIONS";
    }

    void attempt(bool fresh) {
      auto server = client->network.connect(url.port);
      if (!server) return fail(connectionRefused());
      reused = !fresh && client->takeIdle(url.origin(), *server);
      listener = server->id;
      serverIdleTimeout = server->idleTimeout;
      // The answer comes back through the io_context, never inside the server's respond().
      server->endpoint->exchange(
          reused && mayRetry() ? bytes : std::move(bytes),
          [self = shared_from_this()](std::optional<std::string> answer) {
            auto& io = self->client->io;
            asio::post(io, [self = std::move(self), answer = std::move(answer)]() mutable {
              self->onAnswer(std::move(answer));
            });
          });
    }

    void onAnswer(std::optional<std::string> answer) {
      if (finished) return;  // timed out meanwhile
      if (!answer) {
        // Closed without an answer: on a reused connection that may have been a stale one, so
        // HttpClient sends a request that is safe to repeat once more on a fresh connection.
        // An abandoned transport sends nothing more, its own retry included.
        if (reused && !retried && mayRetry() && !client->abandoned) {
          retried = true;
          return attempt(/*fresh=*/true);
        }
        return fail(closedWithoutAnswer());
      }
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64ull * 1024 * 1024);  // HttpClient's
      asio::const_buffer data = asio::buffer(*answer);
      if (auto ec = wire::feed(parser, data)) return fail(ec.message());
      auto res = parser.release();
      const bool keepAlive = res.keep_alive();
      ClientResponse out = wire::clientResponse(std::move(res));
      if (keepAlive) client->putIdle(url.origin(), listener, serverIdleTimeout);
      finish(std::move(out));
    }

    void fail(std::string why) {
      ClientResponse out;
      out.error = std::move(why);
      finish(std::move(out));
    }

    void finish(ClientResponse r) {
      if (finished) return;
      finished = true;
      if (timer) timer->cancel();
      auto cb = std::move(done);
      if (!client->abandoned) cb(std::move(r));
      work.reset();
    }
  };
};

MemoryTransport::MemoryTransport(asio::io_context& io, MemoryNetwork& network,
                                 ClientOptions options, Retry retry)
    : impl_(std::make_shared<Impl>(io, network, std::move(options), retry)) {}

MemoryTransport::~MemoryTransport() = default;

void MemoryTransport::send(ClientRequest request, std::function<void(ClientResponse)> done) {
  if (impl_->abandoned) return;
  auto call = std::make_shared<Impl::Call>();
  call->client = impl_;
  call->work = WorkGuard(impl_->options.tracker);
  call->done = std::move(done);
  const auto timeout =
      request.timeout.count() > 0 ? request.timeout : impl_->options.defaultTimeout;
  call->deadline = Steady::now() + timeout;
  call->request = std::move(request);
  asio::post(impl_->io, [call = std::move(call)] { call->start(); });
}

void MemoryTransport::abandon() {
  impl_->abandoned = true;
}

void MemoryTransport::closeIdle() {
  impl_->idle.clear();
}

// ---- MemoryRequester -------------------------------------------------------------------------

namespace {

constexpr std::chrono::seconds kRequesterTimeout{60};  // BlockingClient's

ClientOptions requesterOptions() {
  ClientOptions o;
  o.defaultTimeout = kRequesterTimeout;
  o.maxIdlePerOrigin = 1;                        // one kept-alive connection
  o.idleTimeout = std::chrono::hours(24 * 365);  // kept until the server closes it
  return o;
}

}  // namespace

MemoryRequester::MemoryRequester(asio::io_context& io, MemoryNetwork& network, uint16_t port,
                                 std::string bearerToken)
    : io_(io),
      port_(port),
      token_(std::move(bearerToken)),
      transport_(std::make_shared<MemoryTransport>(io, network, requesterOptions(),
                                                   MemoryTransport::Retry::kAnyMethod)) {}

MemoryRequester::~MemoryRequester() = default;

BlockingResponse MemoryRequester::request(
    const std::string& method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  ClientRequest req;
  req.method = method;
  req.url = "http://127.0.0.1:" + std::to_string(port_) + target;
  req.body = body;
  req.contentType = body.empty() ? std::string() : "application/json";
  if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
  req.headers.insert(req.headers.end(), headers.begin(), headers.end());

  auto answer = std::make_shared<std::promise<ClientResponse>>();
  auto future = answer->get_future();
  asio::post(io_, [transport = transport_, req = std::move(req), answer]() mutable {
    transport->send(std::move(req),
                    [answer](ClientResponse r) { answer->set_value(std::move(r)); });
  });
  BlockingResponse out;
  // The transport's own deadline answers first; this only bounds a loop that stopped running.
  if (future.wait_for(kRequesterTimeout + std::chrono::seconds(5)) != std::future_status::ready) {
    out.error = "timeout";
    return out;
  }
  ClientResponse r = future.get();
  if (!r.ok()) {
    out.error = std::move(r.error);
    return out;
  }
  out.status = r.status;
  out.body = std::move(r.body);
  for (auto& [name, value] : r.headers) {
    std::string lower = name;
    for (auto& c : lower)
      c = char(std::tolower(static_cast<unsigned char>(c)));
    out.headers[lower] = std::move(value);
  }
  return out;
}

}  // namespace nukihil::http
