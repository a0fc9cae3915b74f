#include "runtime/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <optional>
#include <set>
#include <system_error>

namespace nukihil::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session;

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  asio::io_context& io;
  ServerOptions options;
  Handler handler;
  tcp::acceptor acceptor;
  std::set<Session*> sessions;
  bool stopping = false;
  std::function<void()> onStopped;

  Impl(asio::io_context& i, ServerOptions o, Handler h)
      : io(i), options(std::move(o)), handler(std::move(h)), acceptor(i) {}

  void accept();
  void sessionGone(Session* s);
  Response errorResponse(int status, std::string_view target, std::string_view why) const {
    if (options.errorResponse) return options.errorResponse(status, target, why);
    return Response::empty(status);
  }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    boost::system::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  ~Session() {
    if (server_) server_->sessionGone(this);
  }

  void start() { readHeader(); }

  // Called by the server on shutdown: idle connections close now, busy ones after responding.
  void shutdown() {
    closing_ = true;
    if (!busy_) close();
  }

 private:
  void readHeader() {
    if (closing_) return close();
    parser_.emplace();
    parser_->header_limit(uint32_t(server_->options.headerLimit));
    // No body limit yet: Beast checks Content-Length against it while parsing the header, and
    // the limit depends on the target (onHeader decides). Not boost::none: Beast 1.74 compares
    // the length with the optional, and every length is "greater" than none.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(server_->options.idleTimeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
  }

  // The request target, once the request line has been parsed ("" before).
  std::string_view parsedTarget() const {
    const auto& t = parser_->get().target();
    return std::string_view(t.data(), t.size());
  }

  void onHeader(beast::error_code ec) {
    if (ec) return onReadError(ec, parsedTarget());
    busy_ = true;
    auto& req = parser_->get();
    const std::string_view target(req.target().data(), req.target().size());
    size_t limit = server_->options.bodyLimit;
    if (server_->options.bodyLimitFor) limit = server_->options.bodyLimitFor(target);
    parser_->body_limit(limit);
    if (auto len = parser_->content_length(); len && *len > limit) {
      return writeError(413, target, "body over the limit");
    }
    stream_.expires_after(server_->options.readTimeout);
    auto expect = req[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue") && !parser_->is_done()) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       req.version());
      bhttp::async_write(stream_, *cont,
                         [self = shared_from_this(), cont](beast::error_code wec, size_t) {
                           if (wec) return self->close();
                           self->readBody();
                         });
      return;
    }
    readBody();
  }

  void readBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->onReadError(ec, self->parsedTarget());
                        self->onRequest();
                      });
  }

  void onReadError(beast::error_code ec, std::string_view target) {
    if (ec == bhttp::error::body_limit) return writeError(413, target, "body over the limit");
    if (ec == bhttp::error::header_limit) return writeError(431, target, "header too large");
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == bhttp::error::partial_message)
      return close();
    // Anything else is a request we cannot parse.
    writeError(400, target, ec.message());
  }

  void writeError(int status, std::string_view target, std::string_view why) {
    busy_ = true;
    Response r = server_->errorResponse(status, target, why);
    r.close = true;
    const unsigned version = parser_ && parser_->get().version() == 10 ? 10 : 11;
    write(std::move(r), version, false);
  }

  void onRequest() {
    auto& breq = parser_->get();
    Request req;
    req.method = std::string(breq.method_string());
    req.target = std::string(breq.target());
    req.authorization = std::string(breq[bhttp::field::authorization]);
    req.contentType = std::string(breq[bhttp::field::content_type]);
    req.headers.reserve(std::distance(breq.begin(), breq.end()));
    for (const auto& field : breq)
      req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    req.body = std::move(breq.body());
    req.peer = peer_;
    const unsigned version = breq.version();
    const bool keepAlive = breq.keep_alive();
    // The stream's timer stays off while the handler works: a deferred answer is not a stalled
    // client.
    stream_.expires_never();
    // The session stays alive until it answers (or closes), not as long as a handler keeps a
    // copy of `respond`.
    pinned_ = shared_from_this();
    auto answered = std::make_shared<bool>(false);
    server_->handler(req, [weak = weak_from_this(), version, keepAlive, answered](Response r) {
      if (*answered) return;
      *answered = true;
      if (auto self = weak.lock()) self->write(std::move(r), version, keepAlive);
    });
  }

  void write(Response r, unsigned version, bool keepAlive) {
    if (r.delivery != Delivery::kNormal) {
      busy_ = false;
      return close();
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(r.status), version);
    res->set(bhttp::field::server, server_->options.serverName);
    if (!r.contentType.empty()) res->set(bhttp::field::content_type, r.contentType);
    for (auto& [k, v] : r.headers)
      res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keepAlive && !r.close && !closing_);
    res->prepare_payload();
    stream_.expires_after(server_->options.readTimeout);
    auto self = shared_from_this();
    pinned_.reset();
    bhttp::async_write(stream_, *res, [self, res](beast::error_code ec, size_t) {
      self->busy_ = false;
      if (ec || !res->keep_alive()) return self->close();
      self->readHeader();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    auto keep = std::move(pinned_);  // may be the last reference: release after this frame
    if (keep) boost::asio::post(stream_.get_executor(), [keep] {});
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::string peer_;
  std::shared_ptr<Session> pinned_;  // set while a handler holds the request
  bool busy_ = false;
  bool closing_ = false;
  bool closed_ = false;

  friend struct nukihil::http::HttpServer::Impl;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopping || !self->acceptor.is_open()) return;
    if (!ec) {
      if (self->sessions.size() >= self->options.maxConnections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        auto session = std::make_shared<Session>(std::move(socket), self);
        self->sessions.insert(session.get());
        session->start();
      }
    }
    self->accept();
  });
}

void HttpServer::Impl::sessionGone(Session* s) {
  sessions.erase(s);
  if (stopping && sessions.empty() && onStopped) {
    auto done = std::exchange(onStopped, nullptr);
    done();
  }
}

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  beast::error_code ec;
  impl_->stopping = true;
  impl_->acceptor.close(ec);
}

void HttpServer::start() {
  auto& a = impl_->acceptor;
  const tcp::endpoint ep(asio::ip::make_address(impl_->options.address), impl_->options.port);
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  impl_->accept();
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::stop(std::function<void()> done) {
  impl_->stopping = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  impl_->onStopped = std::move(done);
  if (impl_->sessions.empty()) {
    if (auto d = std::exchange(impl_->onStopped, nullptr)) d();
    return;
  }
  // Copy: shutting a session down may destroy it.
  std::vector<std::shared_ptr<Session>> live;
  for (auto* s : impl_->sessions)
    if (auto p = s->weak_from_this().lock()) live.push_back(std::move(p));
  for (auto& s : live)
    s->shutdown();
}

size_t HttpServer::connectionCount() const {
  return impl_->sessions.size();
}

}  // namespace nukihil::http
