#include "runtime/http_server.h"

#include <sys/resource.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <optional>
#include <set>
#include <system_error>

#include "runtime/log.h"

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
  asio::steady_timer acceptPause;
  std::set<Session*> sessions;
  size_t maxConnections = 0;  // options.maxConnections within the file descriptor limit
  bool stopping = false;
  bool starved = false;  // accept is failing for want of descriptors (logged once)
  std::function<void()> onStopped;

  Impl(asio::io_context& i, ServerOptions o, Handler h)
      : io(i),
        options(std::move(o)),
        handler(std::move(h)),
        acceptor(i),
        acceptPause(i),
        maxConnections(options.maxConnections) {}

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

  // Called by the server on shutdown: idle (and lingering) connections close now, busy ones
  // after responding.
  void shutdown() {
    closing_ = true;
    if (!busy_) close();
  }

 private:
  void readHeader() {
    if (closing_) return close();
    target_.clear();
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

  struct Refusal {
    int status;
    std::string why;
  };

  // What RFC 9112 makes a server refuse before reading a body: a missing or repeated Host
  // (§3.2), and any framing but a plain Content-Length or exactly `chunked` (§6.1, §6.3) —
  // a coding the server ignored would let the body be read as a second, smuggled request.
  static std::optional<Refusal> framingProblem(const bhttp::request<bhttp::string_body>& req) {
    const auto hosts = req.equal_range(bhttp::field::host);
    const auto hostCount = std::distance(hosts.first, hosts.second);
    if (hostCount > 1) return Refusal{400, "more than one Host header"};
    if (hostCount == 0 && req.version() >= 11) return Refusal{400, "no Host header"};
    const auto codings = req.equal_range(bhttp::field::transfer_encoding);
    if (codings.first == codings.second) return std::nullopt;
    if (req.version() < 11) return Refusal{400, "Transfer-Encoding in an HTTP/1.0 request"};
    if (req.find(bhttp::field::content_length) != req.end())
      return Refusal{400, "both Transfer-Encoding and Content-Length"};
    std::vector<std::string> list;
    for (auto it = codings.first; it != codings.second; ++it) {
      const std::string_view value(it->value().data(), it->value().size());
      size_t start = 0;
      while (start <= value.size()) {
        size_t end = value.find(',', start);
        if (end == std::string_view::npos) end = value.size();
        std::string_view item = value.substr(start, end - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
          item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
          item.remove_suffix(1);
        if (!item.empty()) list.emplace_back(item);
        start = end + 1;
      }
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (beast::iequals(list[i], "chunked")) {
        if (i + 1 != list.size()) return Refusal{400, "chunked is not the last transfer coding"};
      } else {
        std::string shown = list[i].substr(0, 40);
        for (auto& c : shown)
          if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            c = '?';
        return Refusal{501, "transfer coding '" + shown + "' is not supported"};
      }
    }
    if (list.empty()) return Refusal{400, "empty Transfer-Encoding"};
    return std::nullopt;
  }

  // An absolute-form target ("http://host/path?q", RFC 9112 §3.2.2) as the origin form the
  // handlers route on ("/path?q").
  static std::string originForm(std::string_view target) {
    if (target.empty() || target.front() == '/' || target == "*") return std::string(target);
    const size_t scheme = target.find("://");
    if (scheme == std::string_view::npos || scheme == 0) return std::string(target);
    for (size_t i = 0; i < scheme; ++i) {
      const char c = target[i];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
        return std::string(target);
    }
    const std::string_view rest = target.substr(scheme + 3);
    const size_t path = rest.find_first_of("/?");
    if (path == std::string_view::npos) return "/";
    if (rest[path] == '?') return "/" + std::string(rest.substr(path));
    return std::string(rest.substr(path));
  }

  void onHeader(beast::error_code ec) {
    if (ec) return onReadError(ec, parsedTarget());
    busy_ = true;
    auto& req = parser_->get();
    target_ = originForm(std::string_view(req.target().data(), req.target().size()));
    if (auto refusal = framingProblem(req)) return writeError(refusal->status, refusal->why);
    Admission admission{server_->options.bodyLimit, std::nullopt};
    if (server_->options.admit) {
      const auto method = req.method_string();
      const auto auth = req[bhttp::field::authorization];
      admission =
          server_->options.admit(RequestHead{std::string_view(method.data(), method.size()),
                                             target_, std::string_view(auth.data(), auth.size())});
    }
    if (admission.reject) {
      Response r = std::move(*admission.reject);
      r.close = true;
      return write(std::move(r), req.version() == 10 ? 10 : 11, false);
    }
    const size_t limit = admission.bodyLimit;
    parser_->body_limit(limit);
    if (auto len = parser_->content_length(); len && *len > limit) {
      return writeError(413, "body over the limit");
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
                        if (ec) return self->onReadError(ec, self->target_);
                        self->onRequest();
                      });
  }

  void onReadError(beast::error_code ec, std::string_view target) {
    if (target_.empty()) target_ = originForm(target);
    if (ec == bhttp::error::body_limit) return writeError(413, "body over the limit");
    if (ec == bhttp::error::header_limit) return writeError(431, "header too large");
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == bhttp::error::partial_message)
      return close();
    // Anything else is a request we cannot parse.
    writeError(400, ec.message());
  }

  void writeError(int status, std::string_view why) {
    busy_ = true;
    Response r = server_->errorResponse(status, target_, why);
    r.close = true;
    const unsigned version = parser_ && parser_->get().version() == 10 ? 10 : 11;
    write(std::move(r), version, false);
  }

  void onRequest() {
    auto& breq = parser_->get();
    Request req;
    req.method = std::string(breq.method_string());
    req.target = target_;
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
    std::string logLine;
    if (server_->options.logRequests) logLine = req.method + " " + printableTarget(req.target);
    server_->handler(
        req, [weak = weak_from_this(), version, keepAlive, answered, logLine = std::move(logLine),
              started = std::chrono::steady_clock::now()](Response r) {
          if (*answered) return;
          *answered = true;
          if (!logLine.empty()) {
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
            std::string line =
                logLine + " -> " + std::to_string(r.status) + " (" + std::to_string(us) + " us)";
            if (r.delivery != Delivery::kNormal) line += " [connection reset by fault]";
            log::info(line);
          }
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
      if (ec) return self->close();
      if (!res->keep_alive()) return self->lingeringClose();
      self->readHeader();
    });
  }

  // Half-closes, then reads and discards what the client still sends until it closes too, or
  // the bounds run out: a client that writes its whole body before reading gets to read the
  // answer, where closing with unread bytes would have sent it a reset.
  void lingeringClose() {
    if (closed_) return;
    if (closing_) return close();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    lingerUntil_ = std::chrono::steady_clock::now() + server_->options.lingerTime;
    if (!scratch_) scratch_ = std::make_unique<std::array<char, 16 * 1024>>();
    buffer_.clear();
    discard();
  }

  void discard() {
    const auto left = lingerUntil_ - std::chrono::steady_clock::now();
    if (closing_ || left <= std::chrono::steady_clock::duration::zero() ||
        discarded_ >= server_->options.lingerBytes)
      return close();
    stream_.expires_after(left);
    stream_.async_read_some(asio::buffer(*scratch_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->discarded_ += n;
                              if (ec) return self->close();
                              self->discard();
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
  std::string target_;               // the current request's, in origin form
  std::shared_ptr<Session> pinned_;  // set while a handler holds the request
  std::chrono::steady_clock::time_point lingerUntil_;
  size_t discarded_ = 0;
  std::unique_ptr<std::array<char, 16 * 1024>> scratch_;  // for lingering reads only
  bool busy_ = false;
  bool closing_ = false;
  bool closed_ = false;

  friend struct nukihil::http::HttpServer::Impl;
};

}  // namespace

namespace {
bool outOfResources(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec == std::errc::too_many_files_open_in_system;
}
}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopping || !self->acceptor.is_open()) return;
    if (ec && outOfResources(ec)) {
      // The connection stays in the listen queue; accepting again at once would fail again at
      // once, spinning a core. Pause, as nginx does, and say so once.
      if (!self->starved) {
        self->starved = true;
        beast::error_code lec;
        log::warn("HTTP server on port " +
                  std::to_string(self->acceptor.local_endpoint(lec).port()) +
                  ": cannot accept connections (" + ec.message() + "); pausing accepts for " +
                  std::to_string(self->options.acceptPause.count()) + " ms at a time");
      }
      self->acceptPause.expires_after(self->options.acceptPause);
      self->acceptPause.async_wait([self](beast::error_code wec) {
        if (wec || self->stopping || !self->acceptor.is_open()) return;
        self->accept();
      });
      return;
    }
    if (!ec) {
      if (self->starved) {
        self->starved = false;
        log::warn("HTTP server: accepting connections again");
      }
      if (self->sessions.size() >= self->maxConnections) {
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
  impl_->acceptPause.cancel();
}

namespace {
size_t openFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<size_t>::max();
  return size_t(rl.rlim_cur);
}
}  // namespace

size_t raiseOpenFileLimit(size_t cap) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = rl.rlim_max == RLIM_INFINITY ? rlim_t(cap) : std::min(rl.rlim_max, rlim_t(cap));
    if (want > rl.rlim_cur) {
      rl.rlim_cur = want;
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  return openFileLimit();
}

void HttpServer::start() {
  const size_t fds = openFileLimit();
  if (fds != std::numeric_limits<size_t>::max())
    impl_->maxConnections =
        std::min(impl_->options.maxConnections, std::max<size_t>(fds / 4 * 3, 1));
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
  impl_->acceptPause.cancel();
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

size_t HttpServer::maxConnections() const {
  return impl_->maxConnections;
}

}  // namespace nukihil::http
