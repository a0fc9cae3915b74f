#include "runtime/http_client.h"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <variant>
#include <vector>

#include "runtime/http_wire.h"
#include "runtime/work_tracker.h"

namespace nukihil::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Connection {
  std::string origin;
  std::variant<std::unique_ptr<PlainStream>, std::unique_ptr<TlsStream>> stream;
  beast::flat_buffer buffer;
  bool used = false;  // has served a request before (so a failure may be a stale keep-alive)
  std::chrono::steady_clock::time_point idleSince;

  beast::tcp_stream& tcp() {
    if (auto* p = std::get_if<std::unique_ptr<PlainStream>>(&stream)) return **p;
    return beast::get_lowest_layer(*std::get<std::unique_ptr<TlsStream>>(stream));
  }
};

}  // namespace

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  asio::io_context& io;
  ClientOptions options;
  ssl::context tls{ssl::context::tls_client};
  tcp::resolver resolver;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;

  bool systemRoots = false;  // the system's trusted roots are loaded (on the first https call)
  bool abandoned = false;    // see Transport::abandon

  Impl(asio::io_context& i, ClientOptions o) : io(i), options(std::move(o)), resolver(i) {
    // A CA file given is read now, so that a bad one is refused at start-up.
    if (!options.caFile.empty()) tls.load_verify_file(options.caFile);
    tls.set_verify_mode(options.verifyPeer ? ssl::verify_peer : ssl::verify_none);
  }

  // The system roots cost some 20 ms to load (the whole bundle is parsed): only a client that
  // speaks https pays for them, once.
  ssl::context& tlsContext() {
    if (!systemRoots) {
      systemRoots = true;
      tls.set_default_verify_paths();
    }
    return tls;
  }

  struct Call : std::enable_shared_from_this<Call> {
    std::shared_ptr<Impl> client;
    Url url;
    ClientRequest request;
    std::function<void(ClientResponse)> done;
    WorkGuard work;
    std::unique_ptr<Connection> conn;
    bhttp::request<bhttp::string_body> req;
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    std::chrono::steady_clock::time_point deadline;
    bool retried = false;
    bool finished = false;

    std::chrono::steady_clock::duration remaining() const {
      const auto left = deadline - std::chrono::steady_clock::now();
      return left.count() > 0 ? left : std::chrono::steady_clock::duration(1);
    }

    void start() {
      req = wire::clientRequest(request, url, client->options.userAgent);

      conn = client->takeIdle(url.origin());
      if (conn) return write();
      connect();
    }

    void connect() {
      conn = std::make_unique<Connection>();
      conn->origin = url.origin();
      if (url.tls) {
        auto s = std::make_unique<TlsStream>(client->io, client->tlsContext());
        if (!SSL_ctrl(s->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                      const_cast<char*>(url.host.c_str())))
          return fail("TLS: cannot set server name");
        s->set_verify_callback(ssl::host_name_verification(url.host));
        conn->stream = std::move(s);
      } else {
        conn->stream = std::make_unique<PlainStream>(client->io);
      }
      boost::system::error_code ec;
      const auto address = asio::ip::make_address(url.host, ec);
      if (!ec) {
        std::vector<tcp::endpoint> eps{tcp::endpoint(address, url.port)};
        return connectTo(eps);
      }
      client->resolver.async_resolve(
          url.host, std::to_string(url.port),
          [self = shared_from_this()](beast::error_code rec, tcp::resolver::results_type r) {
            if (rec) return self->fail("cannot resolve " + self->url.host + ": " + rec.message());
            std::vector<tcp::endpoint> eps(r.begin(), r.end());
            self->connectTo(eps);
          });
    }

    void connectTo(const std::vector<tcp::endpoint>& eps) {
      auto& tcpStream = conn->tcp();
      tcpStream.expires_after(remaining());
      tcpStream.async_connect(
          eps, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
            if (ec) return self->fail(ec == beast::error::timeout ? "timeout" : ec.message());
            beast::error_code ignored;
            self->conn->tcp().socket().set_option(tcp::no_delay(true), ignored);
            if (auto* t = std::get_if<std::unique_ptr<TlsStream>>(&self->conn->stream)) {
              self->conn->tcp().expires_after(self->remaining());
              (*t)->async_handshake(ssl::stream_base::client, [self](beast::error_code hec) {
                if (hec) return self->fail("TLS handshake: " + hec.message());
                self->write();
              });
              return;
            }
            self->write();
          });
    }

    template <class F>
    void withStream(F&& f) {
      if (auto* p = std::get_if<std::unique_ptr<PlainStream>>(&conn->stream))
        f(**p);
      else
        f(*std::get<std::unique_ptr<TlsStream>>(conn->stream));
    }

    void write() {
      conn->tcp().expires_after(remaining());
      withStream([&](auto& stream) {
        bhttp::async_write(stream, req,
                           [self = shared_from_this()](beast::error_code ec, size_t written) {
                             if (ec) return self->transportError(ec, written == 0);
                             self->read();
                           });
      });
    }

    void read() {
      parser.emplace();
      parser->body_limit(64ull * 1024 * 1024);
      conn->tcp().expires_after(remaining());
      withStream([&](auto& stream) {
        bhttp::async_read(stream, conn->buffer, *parser,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->transportError(ec, false);
                            self->complete();
                          });
      });
    }

    void transportError(beast::error_code ec, bool nothingWritten) {
      // Only requests that are safe to repeat, or that never reached the wire: a POST or PUT
      // the server may have taken before the connection broke must not be sent twice behind
      // the caller's back.
      const bool safe = nothingWritten || request.method == "GET" || request.method == "HEAD" ||
                        request.method == "OPTIONS";
      const bool stale = safe && conn && conn->used && !retried &&
                         (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                          ec == asio::error::connection_reset || ec == asio::error::broken_pipe) &&
                         (!parser || !parser->got_some());
      // An abandoned client sends nothing more, its own retry included.
      if (stale && !client->abandoned) {
        retried = true;
        conn.reset();
        return connect();
      }
      fail(ec == beast::error::timeout ? "timeout" : ec.message());
    }

    void complete() {
      auto res = parser->release();
      const bool keepAlive = res.keep_alive();
      ClientResponse out = wire::clientResponse(std::move(res));
      if (keepAlive) {
        conn->used = true;
        client->putIdle(std::move(conn));
      }
      finish(std::move(out));
    }

    void fail(std::string why) {
      conn.reset();
      ClientResponse out;
      out.error = std::move(why);
      finish(std::move(out));
    }

    void finish(ClientResponse r) {
      if (finished) return;
      finished = true;
      auto cb = std::move(done);
      if (!client->abandoned) cb(std::move(r));
      work.reset();
    }
  };

  // An idle keep-alive connection the server has closed (its process died, or it timed the
  // connection out) shows as readable: EOF, or a stray byte such as a TLS close_notify. Using it
  // would fail the next request — and a POST is not retried — so it is dropped instead, as
  // curl does.
  static bool stillOpen(int fd) {
    char byte;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  std::unique_ptr<Connection> takeIdle(const std::string& origin) {
    auto it = idle.find(origin);
    const auto now = std::chrono::steady_clock::now();
    while (it != idle.end() && !it->second.empty()) {
      auto c = std::move(it->second.back());
      it->second.pop_back();
      if (now - c->idleSince >= options.idleTimeout) continue;  // too old: dropped
      if (c->tcp().socket().is_open() && stillOpen(c->tcp().socket().native_handle())) return c;
    }
    return nullptr;
  }

  void putIdle(std::unique_ptr<Connection> c) {
    auto& list = idle[c->origin];
    if (list.size() >= options.maxIdlePerOrigin) return;
    c->tcp().expires_never();
    c->idleSince = std::chrono::steady_clock::now();
    list.push_back(std::move(c));
  }
};

HttpClient::HttpClient(asio::io_context& io, ClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

HttpClient::~HttpClient() = default;

void HttpClient::abandon() {
  impl_->abandoned = true;
}

void HttpClient::send(ClientRequest request, std::function<void(ClientResponse)> done) {
  if (impl_->abandoned) return;
  auto call = std::make_shared<Impl::Call>();
  call->client = impl_;
  call->work = WorkGuard(impl_->options.tracker);
  call->done = std::move(done);
  auto timeout = request.timeout.count() > 0 ? request.timeout : impl_->options.defaultTimeout;
  call->deadline = std::chrono::steady_clock::now() + timeout;
  auto url = Url::parse(request.url);
  call->request = std::move(request);
  if (!url) return call->fail("invalid URL: " + call->request.url);
  call->url = std::move(*url);
  call->start();
}

void HttpClient::closeIdle() {
  impl_->idle.clear();
}

}  // namespace nukihil::http
