#include "runtime/http_server.h"

#include <sys/resource.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <vector>

#include "runtime/http_wire.h"
#include "runtime/log.h"
#include "runtime/memory_network.h"

namespace nukihil::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session;
using RequestParser = bhttp::request_parser<bhttp::string_body>;

struct Refusal {
  int status;
  std::string why;
};

// What RFC 9112 makes a server refuse before reading a body: a missing or repeated Host
// (§3.2), and any framing but a plain Content-Length or exactly `chunked` (§6.1, §6.3) —
// a coding the server ignored would let the body be read as a second, smuggled request.
std::optional<Refusal> framingProblem(const bhttp::request<bhttp::string_body>& req) {
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
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
      return Refusal{501, "transfer coding '" + shown + "' is not supported"};
    }
  }
  if (list.empty()) return Refusal{400, "empty Transfer-Encoding"};
  return std::nullopt;
}

// An absolute-form target ("http://host/path?q", RFC 9112 §3.2.2) as the origin form the
// handlers route on ("/path?q").
std::string originForm(std::string_view target) {
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

// A parser for the next request's head. No body limit yet: Beast checks Content-Length against
// it while parsing the header, and the limit depends on the target (judgeHead decides). Not
// boost::none: Beast 1.74 compares the length with the optional, and every length is
// "greater" than none.
void prepareForHead(RequestParser& parser, size_t headerLimit) {
  parser.header_limit(uint32_t(headerLimit));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
}

// The request target, once the request line has been parsed ("" before).
std::string_view targetOf(const RequestParser& parser) {
  const auto& t = parser.get().target();
  return std::string_view(t.data(), t.size());
}

// The HTTP version to answer a request in, even one that could not be parsed.
unsigned answerVersion(const RequestParser* parser) {
  return parser && parser->get().version() == 10 ? 10 : 11;
}

// A complete request as handlers see it; its body is moved out of `breq`.
Request requestOf(bhttp::request<bhttp::string_body>& breq, std::string target, std::string peer) {
  Request req;
  req.method = std::string(breq.method_string());
  req.target = std::move(target);
  req.authorization = std::string(breq[bhttp::field::authorization]);
  req.contentType = std::string(breq[bhttp::field::content_type]);
  req.headers.reserve(std::distance(breq.begin(), breq.end()));
  for (const auto& field : breq)
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  req.body = std::move(breq.body());
  req.peer = std::move(peer);
  return req;
}

// A handler's response as it goes on the wire: the server's name, the content type, the
// handler's header fields, Content-Length, and keep-alive unless either side closes.
bhttp::response<bhttp::string_body> messageOf(Response r, unsigned version, bool keepAlive,
                                              const std::string& serverName) {
  bhttp::response<bhttp::string_body> res(static_cast<bhttp::status>(r.status), version);
  res.set(bhttp::field::server, serverName);
  if (!r.contentType.empty()) res.set(bhttp::field::content_type, r.contentType);
  for (auto& [k, v] : r.headers)
    res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keepAlive && !r.close);
  res.prepare_payload();
  return res;
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl>, MemoryEndpoint {
  asio::io_context& io;
  ServerOptions options;
  Handler handler;
  tcp::acceptor acceptor;
  asio::steady_timer acceptPause;
  std::set<Session*> sessions;
  size_t busySessions = 0;  // sessions handling a request or writing its answer
  std::vector<std::function<void()>> answeredWaiters;
  size_t maxConnections = 0;  // options.maxConnections within the file descriptor limit
  bool stopping = false;
  bool starved = false;    // accept is failing for want of descriptors (logged once)
  bool destroyed = false;  // the HttpServer is gone: memory exchanges get no answer
  std::function<void()> onStopped;
  // On the memory network: where it listens (registration 0: it does not), and the exchanges
  // waiting for their handler's answer, by number.
  uint16_t memoryPort = 0;
  uint64_t memoryRegistration = 0;
  uint64_t memoryExchanges = 0;
  std::map<uint64_t, Reply> memoryPending;

  Impl(asio::io_context& i, ServerOptions o, Handler h)
      : io(i),
        options(std::move(o)),
        handler(std::move(h)),
        acceptor(i),
        acceptPause(i),
        maxConnections(options.maxConnections) {}

  void accept();
  void sessionGone(Session* s, bool busy);
  void busyChanged(bool busy);
  bool answering() const { return busySessions > 0 || !memoryPending.empty(); }
  // Posts the whenAnswered waiters once nothing is being answered.
  void maybeAnswered();
  // Runs onStopped once stop() was called and the last connection and exchange are done.
  void maybeStopped();

  Response errorResponse(int status, std::string_view target, std::string_view why) const {
    if (options.errorResponse) return options.errorResponse(status, target, why);
    return Response::empty(status);
  }
  // The server's own refusal; the connection closes after it.
  Response refusal(int status, std::string_view target, std::string_view why) const {
    Response r = errorResponse(status, target, why);
    r.close = true;
    return r;
  }
  // What the head alone decides, once it is parsed: a framing problem, a refusal at admission
  // or a body over the limit get an answer now (the connection closes after it); nullopt: read
  // the body, within the body limit now set on `parser`.
  std::optional<Response> judgeHead(RequestParser& parser, const std::string& target) const;
  // The answer to a request that could not be read (413, 431, 400), or nullopt: the connection
  // just closes (the client went away, timed out or stopped in the middle of its request).
  std::optional<Response> readFailure(const beast::error_code& ec, std::string_view target) const;
  // Hands a complete request to the handler; `answer` runs with its first response only, after
  // the logRequests line.
  void handle(Request& req, std::function<void(Response)> answer);

  // MemoryEndpoint: the request's bytes through the same parser, limits and handler as a
  // session's; the answer's bytes, or none where a session would close without answering.
  void exchange(std::string bytes, Reply reply) override;
  void exchangeNow(const std::string& bytes, Reply reply);
  void answerMemory(uint64_t id, Response r, unsigned version, bool keepAlive);
  void replyMemory(const Reply& reply, Response r, unsigned version, bool keepAlive) const;
  void leaveNetwork();
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
    if (server_) server_->sessionGone(this, busy_);
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
    prepareForHead(*parser_, server_->options.headerLimit);
    stream_.expires_after(server_->options.idleTimeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    if (ec) return onReadError(ec, targetOf(*parser_));
    setBusy(true);
    auto& req = parser_->get();
    target_ = originForm(targetOf(*parser_));
    if (auto answer = server_->judgeHead(*parser_, target_))
      return writeClosing(std::move(*answer));
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
    if (auto answer = server_->readFailure(ec, target_)) return writeClosing(std::move(*answer));
    close();
  }

  // The server's own answer, before the body was read (or instead of it): then it closes.
  void writeClosing(Response r) {
    setBusy(true);
    write(std::move(r), answerVersion(parser_ ? &*parser_ : nullptr), false);
  }

  void onRequest() {
    auto& breq = parser_->get();
    Request req = requestOf(breq, target_, peer_);
    const unsigned version = breq.version();
    const bool keepAlive = breq.keep_alive();
    // The stream's timer stays off while the handler works: a deferred answer is not a stalled
    // client.
    stream_.expires_never();
    // The session stays alive until it answers (or closes), not as long as a handler keeps a
    // copy of `respond`.
    pinned_ = shared_from_this();
    server_->handle(req, [weak = weak_from_this(), version, keepAlive](Response r) {
      if (auto self = weak.lock()) self->write(std::move(r), version, keepAlive);
    });
  }

  void write(Response r, unsigned version, bool keepAlive) {
    if (r.delivery != Delivery::kNormal) {
      setBusy(false);
      return close();
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        messageOf(std::move(r), version, keepAlive && !closing_, server_->options.serverName));
    stream_.expires_after(server_->options.readTimeout);
    auto self = shared_from_this();
    pinned_.reset();
    bhttp::async_write(stream_, *res, [self, res](beast::error_code ec, size_t) {
      self->setBusy(false);
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

  void setBusy(bool busy) {
    if (busy_ == busy) return;
    busy_ = busy;
    server_->busyChanged(busy);
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

void HttpServer::Impl::sessionGone(Session* s, bool busy) {
  sessions.erase(s);
  if (busy) busyChanged(false);
  maybeStopped();
}

void HttpServer::Impl::busyChanged(bool busy) {
  if (busy) {
    ++busySessions;
  } else if (busySessions > 0) {
    --busySessions;
    maybeAnswered();
  }
}

void HttpServer::Impl::maybeAnswered() {
  if (answering() || answeredWaiters.empty()) return;
  // Posted: a waiter may destroy the server whose session is on the stack now.
  for (auto& w : std::exchange(answeredWaiters, {}))
    asio::post(io, std::move(w));
}

void HttpServer::Impl::maybeStopped() {
  if (stopping && sessions.empty() && memoryPending.empty() && onStopped) {
    auto done = std::exchange(onStopped, nullptr);
    done();
  }
}

std::optional<Response> HttpServer::Impl::judgeHead(RequestParser& parser,
                                                    const std::string& target) const {
  auto& req = parser.get();
  if (auto problem = framingProblem(req)) return refusal(problem->status, target, problem->why);
  Admission admission{options.bodyLimit, std::nullopt};
  if (options.admit) {
    const auto method = req.method_string();
    const auto auth = req[bhttp::field::authorization];
    const auto cookie = req[bhttp::field::cookie];
    admission = options.admit(RequestHead{std::string_view(method.data(), method.size()), target,
                                          std::string_view(auth.data(), auth.size()),
                                          std::string_view(cookie.data(), cookie.size())});
  }
  if (admission.reject) {
    Response r = std::move(*admission.reject);
    r.close = true;
    return r;
  }
  const size_t limit = admission.bodyLimit;
  parser.body_limit(limit);
  if (auto len = parser.content_length(); len && *len > limit)
    return refusal(413, target, "body over the limit");
  return std::nullopt;
}

std::optional<Response> HttpServer::Impl::readFailure(const beast::error_code& ec,
                                                      std::string_view target) const {
  if (ec == bhttp::error::body_limit) return refusal(413, target, "body over the limit");
  if (ec == bhttp::error::header_limit) return refusal(431, target, "header too large");
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == bhttp::error::partial_message)
    return std::nullopt;
  // Anything else is a request we cannot parse.
  return refusal(400, target, ec.message());
}

void HttpServer::Impl::handle(Request& req, std::function<void(Response)> answer) {
  auto answered = std::make_shared<bool>(false);
  std::string logLine;
  if (options.logRequests) logLine = req.method + " " + printableTarget(req.target);
  handler(req, [answer = std::move(answer), answered, logLine = std::move(logLine),
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
    answer(std::move(r));
  });
}

void HttpServer::Impl::exchange(std::string bytes, Reply reply) {
  asio::dispatch(
      io, [self = shared_from_this(), bytes = std::move(bytes),
           reply = std::move(reply)]() mutable { self->exchangeNow(bytes, std::move(reply)); });
}

void HttpServer::Impl::exchangeNow(const std::string& bytes, Reply reply) {
  if (destroyed) return reply(std::nullopt);
  RequestParser parser;
  prepareForHead(parser, options.headerLimit);
  // The head first, as a session reads it: what it decides comes before any body byte.
  parser.eager(false);
  boost::asio::const_buffer data = boost::asio::buffer(bytes);
  std::string target;
  const auto failed = [&](const beast::error_code& ec) {
    if (target.empty()) target = originForm(targetOf(parser));
    if (auto answer = readFailure(ec, target))
      return replyMemory(reply, std::move(*answer), answerVersion(&parser), false);
    reply(std::nullopt);
  };
  if (auto ec = wire::feed(parser, data, /*headerOnly=*/true)) return failed(ec);
  target = originForm(targetOf(parser));
  if (auto answer = judgeHead(parser, target))
    return replyMemory(reply, std::move(*answer), answerVersion(&parser), false);
  parser.eager(true);
  if (auto ec = wire::feed(parser, data, /*headerOnly=*/false)) return failed(ec);

  auto& breq = parser.get();
  const uint64_t id = ++memoryExchanges;
  Request req = requestOf(breq, std::move(target), "memory:" + std::to_string(id));
  const unsigned version = breq.version();
  const bool keepAlive = breq.keep_alive();
  memoryPending.emplace(id, std::move(reply));
  handle(req, [weak = weak_from_this(), id, version, keepAlive](Response r) {
    if (auto self = weak.lock()) self->answerMemory(id, std::move(r), version, keepAlive);
  });
}

void HttpServer::Impl::answerMemory(uint64_t id, Response r, unsigned version, bool keepAlive) {
  auto it = memoryPending.find(id);
  if (it == memoryPending.end()) return;  // reset when the server was destroyed
  Reply reply = std::move(it->second);
  memoryPending.erase(it);
  replyMemory(reply, std::move(r), version, keepAlive && !stopping);
  maybeAnswered();
  maybeStopped();
}

void HttpServer::Impl::replyMemory(const Reply& reply, Response r, unsigned version,
                                   bool keepAlive) const {
  if (r.delivery != Delivery::kNormal) return reply(std::nullopt);
  auto res = messageOf(std::move(r), version, keepAlive, options.serverName);
  reply(wire::serialise(res));
}

void HttpServer::Impl::leaveNetwork() {
  if (options.network && memoryRegistration != 0)
    options.network->unlisten(memoryPort, std::exchange(memoryRegistration, 0));
}

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  beast::error_code ec;
  impl_->stopping = true;
  impl_->acceptor.close(ec);
  impl_->acceptPause.cancel();
  // Like a process that dies: the exchanges still waiting for an answer are closed at once, and
  // what their handlers answer later goes nowhere.
  impl_->leaveNetwork();
  impl_->destroyed = true;
  auto pending = std::exchange(impl_->memoryPending, {});
  for (auto& [id, reply] : pending)
    reply(std::nullopt);
  // Nothing it would answer leaves any more.
  for (auto& w : std::exchange(impl_->answeredWaiters, {}))
    asio::post(impl_->io, std::move(w));
  impl_->maybeStopped();
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
  if (auto* network = impl_->options.network) {
    impl_->memoryPort = port();
    impl_->memoryRegistration =
        network->listen(impl_->memoryPort, impl_, impl_->options.idleTimeout);
  }
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
  impl_->leaveNetwork();
  impl_->onStopped = std::move(done);
  if (impl_->sessions.empty()) return impl_->maybeStopped();
  // Copy: shutting a session down may destroy it.
  std::vector<std::shared_ptr<Session>> live;
  for (auto* s : impl_->sessions)
    if (auto p = s->weak_from_this().lock()) live.push_back(std::move(p));
  for (auto& s : live)
    s->shutdown();
}

void HttpServer::whenAnswered(std::function<void()> f) {
  if (!impl_->answering()) return f();
  impl_->answeredWaiters.push_back(std::move(f));
}

size_t HttpServer::connectionCount() const {
  return impl_->sessions.size();
}

size_t HttpServer::maxConnections() const {
  return impl_->maxConnections;
}

}  // namespace nukihil::http
