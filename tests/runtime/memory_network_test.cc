// The memory transport (runtime/memory_network.h) against the real HttpServer, on one
// io_context run by the test thread: round trips, the server's own refusals through the memory
// entry point (byte for byte what a TCP session answers), fault deliveries, refused
// connections, kills, graceful stops, the work tracker, timeouts, the kept-alive retry rule
// HttpClient follows, and the driver-side MemoryRequester.
// Real-time waits are bounded and only where the transport itself is about real time.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/http.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/log.h"
#include "runtime/memory_network.h"
#include "runtime/work_tracker.h"
#include "tests/support/raw_conn.h"

namespace nukihil::http {
namespace {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string lower(std::string s) {
  for (auto& c : s)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Runs `io` on this thread until `done()` holds or `bound` (real time) passes.
bool runUntil(asio::io_context& io, const std::function<bool()>& done,
              milliseconds bound = milliseconds(3000)) {
  const auto deadline = Steady::now() + bound;
  while (!done()) {
    if (Steady::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(milliseconds(5));
  }
  return true;
}

// Sends on `t` and runs `io` until the answer; fails the test if it never comes or comes
// twice.
ClientResponse call(asio::io_context& io, Transport& t, ClientRequest req,
                    milliseconds bound = milliseconds(3000)) {
  auto got = std::make_shared<std::optional<ClientResponse>>();
  auto calls = std::make_shared<int>(0);
  t.send(std::move(req), [got, calls](ClientResponse r) {
    ++*calls;
    *got = std::move(r);
  });
  EXPECT_TRUE(runUntil(
      io, [&] { return got->has_value(); }, bound))
      << "no answer in time";
  io.poll();
  EXPECT_EQ(*calls, 1);
  return got->value_or(ClientResponse{});
}

// A server on 127.0.0.1 that also listens on a memory network, and a memory client.
struct Net {
  asio::io_context io;
  MemoryNetwork network;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<MemoryTransport> client;
  std::vector<Request> seen;  // every request the handler got, in order

  void serve(ServerOptions options, Handler handler) {
    options.network = &network;
    server = std::make_unique<HttpServer>(
        io, std::move(options),
        [this, handler = std::move(handler)](Request& req, Respond respond) {
          seen.push_back(req);
          handler(req, std::move(respond));
        });
    server->start();
  }
  void serve(Handler handler) { serve(ServerOptions{}, std::move(handler)); }
  MemoryTransport& memory(ClientOptions options = {}) {
    if (!client) client = std::make_unique<MemoryTransport>(io, network, std::move(options));
    return *client;
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  ClientResponse call(ClientRequest req, milliseconds bound = milliseconds(3000)) {
    return http::call(io, memory(), std::move(req), bound);
  }
  ClientResponse get(const std::string& path) {
    ClientRequest r;
    r.url = url(path);
    return call(std::move(r));
  }
  // The memory entry point itself: `bytes` as a client would write them; the answer's bytes,
  // or nullopt for a connection closed without one.
  std::optional<std::string> exchange(const std::string& bytes) {
    auto listener = network.connect(server->port());
    EXPECT_TRUE(listener.has_value());
    if (!listener) return std::nullopt;
    std::optional<std::optional<std::string>> got;
    listener->endpoint->exchange(bytes, [&](std::optional<std::string> r) { got = std::move(r); });
    EXPECT_TRUE(runUntil(io, [&] { return got.has_value(); }));
    return got.value_or(std::nullopt);
  }
  // The same bytes on a TCP connection to the same server: everything it answers until it
  // closes.
  std::string overTcp(const std::string& bytes) {
    std::atomic<bool> done{false};
    std::string got;
    std::thread t([&] {
      test::RawConn c(server->port());
      if (c.connected() && c.send(bytes)) {
        c.readToClose(milliseconds(2000));
        got = c.received();
      }
      done = true;
    });
    runUntil(io, [&] { return done.load(); });
    t.join();
    return got;
  }
};

// Answers with what it saw (no peer: the same on both transports).
Handler echo(int status = 200) {
  return [status](Request& req, Respond respond) {
    Response r;
    r.status = status;
    r.body = req.method + " " + req.target + " type=" + req.contentType + " body=" + req.body;
    r.contentType = "text/plain";
    r.headers.emplace_back("X-Echo", "yes");
    respond(std::move(r));
  };
}

// ---- requests and answers ------------------------------------------------------------------

TEST(MemoryTransport, GetAndPostRoundTripWithHeaders) {
  Net n;
  n.serve(echo());
  auto r = n.get("/hello?x=1&y=%20");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /hello?x=1&y=%20 type= body=");
  EXPECT_EQ(r.header("x-echo").value_or(""), "yes");
  EXPECT_EQ(r.header("Content-Type").value_or(""), "text/plain");
  EXPECT_EQ(r.header("Server").value_or(""), "nukihil");
  EXPECT_EQ(r.header("Content-Length").value_or(""), std::to_string(r.body.size()));
  ASSERT_EQ(n.seen.size(), 1u);
  EXPECT_EQ(n.seen[0].header("Host").value_or(""), "127.0.0.1:" + std::to_string(n.server->port()));
  EXPECT_EQ(n.seen[0].header("User-Agent").value_or(""), "nukihil");
  EXPECT_EQ(n.seen[0].queryParam("y").value_or("?"), " ");
  EXPECT_EQ(n.seen[0].peer.rfind("memory:", 0), 0u) << n.seen[0].peer;

  ClientRequest post;
  post.method = "POST";
  post.url = n.url("/things");
  post.body = R"({"a":1})";
  post.headers.emplace_back("Authorization", "Bearer abc");
  post.headers.emplace_back("X-Custom", "1");
  r = n.call(post);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, R"(POST /things type=application/json body={"a":1})");
  ASSERT_EQ(n.seen.size(), 2u);
  EXPECT_EQ(n.seen[1].bearerToken(), "abc");
  EXPECT_EQ(n.seen[1].header("x-custom").value_or(""), "1");
  EXPECT_EQ(n.seen[1].header("Content-Length").value_or(""), "7");
  EXPECT_NE(n.seen[1].peer, n.seen[0].peer);

  // A 204 without a body, and a DELETE.
  Net m;
  m.serve([](Request& req, Respond respond) {
    respond(req.method == "DELETE" ? Response::empty(204) : Response::json(409, R"({"x":1})"));
  });
  ClientRequest del;
  del.method = "DELETE";
  del.url = m.url("/a");
  r = m.call(del);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  r = m.get("/b");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, R"({"x":1})");
}

TEST(MemoryTransport, LargeBodiesBothWays) {
  Net n;
  ServerOptions so;
  so.bodyLimit = 2 << 20;
  n.serve(so, [](Request& req, Respond respond) {
    respond(Response::json(200, std::string(req.body.rbegin(), req.body.rend())));
  });
  std::string big(1 << 20, 'a');
  for (size_t i = 0; i < big.size(); i += 997)
    big[i] = char('b' + i % 20);
  ClientRequest r;
  r.method = "POST";
  r.url = n.url("/big");
  r.body = big;
  auto res = n.call(r);
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.body, std::string(big.rbegin(), big.rend()));
}

// A handler sees the very same request from either transport: the memory one serialises as
// HttpClient writes on its socket.
TEST(MemoryTransport, TheHandlerSeesWhatHttpClientWouldHaveSent) {
  Net n;
  n.serve(echo());
  HttpClient tcp(n.io);
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    ClientRequest r;
    r.method = method;
    r.url = n.url("/same?q=1");
    if (std::string(method) != "GET") r.body = R"({"k":"v"})";
    r.headers.emplace_back("X-Trace", "t-1");
    const auto a = call(n.io, tcp, r);
    const auto b = n.call(r);
    ASSERT_TRUE(a.ok() && b.ok()) << a.error << b.error;
    EXPECT_EQ(a.headers, b.headers) << method;
    EXPECT_EQ(a.body, b.body) << method;
  }
  ASSERT_EQ(n.seen.size(), 8u);
  for (size_t i = 0; i < n.seen.size(); i += 2) {
    EXPECT_EQ(n.seen[i].headers, n.seen[i + 1].headers) << n.seen[i].method;
    EXPECT_EQ(n.seen[i].target, n.seen[i + 1].target);
    EXPECT_EQ(n.seen[i].body, n.seen[i + 1].body);
  }
}

// ---- the server's own answers ----------------------------------------------------------------

ServerOptions limitedOptions() {
  ServerOptions so;
  so.bodyLimit = 1000;
  so.headerLimit = 2048;
  so.admit = [](const RequestHead& head) {
    const auto t = head.target;
    if (t.rfind("/private", 0) == 0 && head.authorization.empty()) {
      Response r = Response::json(401, R"({"why":"who are you"})");
      return Admission{0, std::move(r)};
    }
    return Admission{t.rfind("/tiny", 0) == 0 ? 10u : 1000u, std::nullopt};
  };
  so.errorResponse = [](int status, std::string_view target, std::string_view why) {
    return Response::json(status, "{\"target\":\"" + std::string(target) + "\",\"why\":\"" +
                                      std::string(why) + "\"}");
  };
  return so;
}

TEST(MemoryTransport, OverLimitBodiesAndHeadersAreRefusedAsOverTcp) {
  Net n;
  n.serve(limitedOptions(), echo());
  ClientRequest r;
  r.method = "POST";
  r.url = n.url("/small");
  r.body = std::string(1001, 'x');
  auto res = n.call(r);
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(res.body, R"({"target":"/small","why":"body over the limit"})");
  EXPECT_EQ(lower(res.header("Connection").value_or("")), "close");
  r.body = std::string(1000, 'x');
  EXPECT_EQ(n.call(r).status, 200);
  r.url = n.url("/tiny");
  r.body = std::string(11, 'x');
  EXPECT_EQ(n.call(r).status, 413);

  ClientRequest h;
  h.url = n.url("/h");
  h.headers.emplace_back("X-Big", std::string(3000, 'h'));
  EXPECT_EQ(n.call(h).status, 431);

  ClientRequest p;
  p.url = n.url("/private/x");
  res = n.call(p);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.body, R"({"why":"who are you"})");
  EXPECT_EQ(n.seen.size(), 1u) << "only the request within the limits reached the handler";
  EXPECT_EQ(n.get("/ok").status, 200) << "the server still serves after its refusals";
}

// The memory entry point answers every request exactly as a TCP session does, byte for byte:
// the refusals of framing, limits and admission, absolute-form targets, HTTP/1.0.
TEST(MemoryEndpoint, AnswersTheSameBytesAsATcpSession) {
  Net n;
  n.serve(limitedOptions(), echo());
  const std::string end = "Connection: close\r\n\r\n";
  const std::vector<std::string> requests = {
      "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n" + end,
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n" + end +
          "hello",
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" + end +
          "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
      "GET http://example.com/abs?q=2 HTTP/1.1\r\nHost: example.com\r\n" + end,
      "GET /old HTTP/1.0\r\n\r\n",
      // Refused before the body: two Host headers, no Host, a coding it does not know, both
      // framings, a Content-Length over the target's limit, admission.
      "GET /two HTTP/1.1\r\nHost: a\r\nHost: b\r\n" + end,
      "GET /none HTTP/1.1\r\n" + end,
      "POST /gz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n" + end + "0\r\n\r\n",
      "POST /both HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n" +
          end + "0\r\n\r\n",
      "POST /tiny HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n" + end + "xxxxxxxxxxx",
      "GET /private HTTP/1.1\r\nHost: h\r\n" + end,
      // Refused while reading: a chunked body over the limit, a header over the limit, no HTTP.
      "POST /tiny HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" + end +
          "b\r\nxxxxxxxxxxx\r\n0\r\n\r\n",
      "GET /h HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(3000, 'h') + "\r\n" + end,
      "NOT HTTP AT ALL\r\n\r\n",
  };
  for (const auto& bytes : requests) {
    const auto memory = n.exchange(bytes);
    const auto tcp = n.overTcp(bytes);
    ASSERT_TRUE(memory.has_value()) << bytes;
    EXPECT_FALSE(tcp.empty()) << bytes;
    EXPECT_EQ(*memory, tcp) << bytes;
  }
  // The handler saw the five good requests on each path, absolute form reduced.
  ASSERT_EQ(n.seen.size(), 10u);
  EXPECT_EQ(n.seen[0].target, "/a?x=1");
  EXPECT_EQ(n.seen[4].body, "abcde");
  EXPECT_EQ(n.seen[6].target, "/abs?q=2");
  // A 400 for framing and for a request that is no HTTP at all, through the memory path.
  EXPECT_NE(n.exchange(requests[5])->find("HTTP/1.1 400 Bad Request"), std::string::npos);
  EXPECT_NE(n.exchange(requests.back())->find("HTTP/1.1 400 Bad Request"), std::string::npos);
}

TEST(MemoryEndpoint, ARequestCutShortIsClosedWithoutAnAnswer) {
  Net n;
  n.serve(echo());
  EXPECT_FALSE(n.exchange("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"));
  EXPECT_FALSE(n.exchange("GET /p HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_FALSE(n.exchange(""));
  EXPECT_TRUE(n.seen.empty());
}

// ---- faults, refusals, kills ---------------------------------------------------------------

TEST(MemoryTransport, ResetBeforeHandlingGivesNoAnswer) {
  Net n;
  n.serve([](Request&, Respond respond) {
    Response r = Response::json(200, "\"never seen\"");
    r.delivery = Delivery::kResetBeforeHandling;
    respond(std::move(r));
  });
  auto r = n.get("/x");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "end of stream") << "the words HttpClient finds for it";
  EXPECT_EQ(n.seen.size(), 1u) << "a fresh connection is not retried";
}

TEST(MemoryTransport, ResetAfterHandlingRunsTheHandlerAndLosesTheAnswer) {
  Net n;
  int effects = 0;
  n.serve([&](Request&, Respond respond) {
    ++effects;
    Response r = Response::empty(204);
    r.delivery = Delivery::kResetAfterHandling;
    respond(std::move(r));
  });
  ClientRequest post;
  post.method = "POST";
  post.url = n.url("/x");
  post.body = "{}";
  auto r = n.call(post);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "end of stream");
  EXPECT_EQ(effects, 1);
}

// A memory exchange whose handler has not answered yet counts for whenAnswered as a TCP
// request does (what the embedded world's kill waits for, on either transport).
TEST(MemoryEndpoint, WhenAnsweredWaitsForAnExchangeStillBeingHandled) {
  Net n;
  Respond held;
  n.serve([&](Request&, Respond respond) { held = std::move(respond); });
  ClientRequest get;
  get.url = n.url("/held");
  std::optional<ClientResponse> got;
  n.memory().send(get, [&](ClientResponse r) { got = std::move(r); });
  ASSERT_TRUE(runUntil(n.io, [&] { return bool(held); }));
  int runs = 0;
  n.server->whenAnswered([&] { ++runs; });
  n.io.poll();
  EXPECT_EQ(runs, 0);
  held(Response::json(200, "1"));
  ASSERT_TRUE(runUntil(n.io, [&] { return runs == 1 && got.has_value(); }));
  EXPECT_EQ(got->status, 200);
}

// abandon() as on HttpClient.
TEST(MemoryTransport, AnAbandonedTransportCallsNoCallbackAndSendsNothingMore) {
  Net n;
  Respond held;
  n.serve([&](Request&, Respond respond) { held = std::move(respond); });
  WorkTracker tracker;
  ClientOptions co;
  co.tracker = &tracker;
  n.memory(co);
  ClientRequest r;
  r.url = n.url("/a");
  int callbacks = 0;
  n.memory().send(r, [&](ClientResponse) { ++callbacks; });
  ASSERT_TRUE(runUntil(n.io, [&] { return bool(held); }));
  n.memory().abandon();
  held(Response::json(200, "1"));
  ASSERT_TRUE(runUntil(n.io, [&] { return tracker.idle(); }));
  n.memory().send(r, [&](ClientResponse) { ++callbacks; });
  EXPECT_TRUE(tracker.idle());
  n.io.poll();
  EXPECT_EQ(callbacks, 0);
  EXPECT_EQ(n.seen.size(), 1u);
}

// Nor does an abandoned transport send its own retry: a GET on a reused connection closed
// without an answer (which it would otherwise send again on a fresh one) is not sent again.
TEST(MemoryTransport, AnAbandonedTransportDoesNotRetryAGetClosedWithoutAnAnswer) {
  Net n;
  Respond held;
  n.serve([&](Request& req, Respond respond) {
    if (req.target == "/warm") return respond(Response::json(200, "1"));
    held = std::move(respond);
  });
  EXPECT_EQ(n.get("/warm").status, 200);  // leaves a kept-alive connection to reuse
  ClientRequest r;
  r.url = n.url("/cut");
  int callbacks = 0;
  n.memory().send(r, [&](ClientResponse) { ++callbacks; });
  ASSERT_TRUE(runUntil(n.io, [&] { return bool(held); }));
  n.memory().abandon();
  Response reset = Response::empty(200);
  reset.delivery = Delivery::kResetAfterHandling;
  held(std::move(reset));
  for (int i = 0; i < 3; ++i)  // the answer and a retry are each one posted handler away
    n.io.poll();
  EXPECT_EQ(n.seen.size(), 2u) << "the cut GET was sent again";
  EXPECT_EQ(callbacks, 0);
}

// Both transports make the same choice, request by request, about sending again after a
// kept-alive connection closed without an answer (a fault on a GET is seen twice, on a POST
// once), so the server's journal of what it handled is the same on both.
TEST(MemoryTransport, RetriesOnAReusedConnectionAsHttpClientDoes) {
  struct Outcome {
    std::vector<std::string> handled;  // method and path, in order
    std::vector<std::string> answers;  // status or error, per request
  };
  const auto run = [](bool memory) {
    Net n;
    Outcome out;
    bool resetNext = false;
    n.serve([&](Request& req, Respond respond) {
      out.handled.push_back(req.method + " " + req.target);
      Response r = Response::json(200, "\"ok\"");
      if (req.target.rfind("/fault", 0) == 0 || resetNext)
        r.delivery = Delivery::kResetBeforeHandling;
      resetNext = false;
      respond(std::move(r));
    });
    HttpClient tcp(n.io);
    Transport& t = memory ? static_cast<Transport&>(n.memory()) : tcp;
    const auto send = [&](const std::string& method, const std::string& path) {
      ClientRequest r;
      r.method = method;
      r.url = n.url(path);
      if (method == "POST") r.body = "{}";
      const auto res = call(n.io, t, r);
      out.answers.push_back(res.ok() ? std::to_string(res.status) : res.error);
    };
    send("GET", "/first");        // fresh: kept alive afterwards
    send("GET", "/fault-get");    // reused, reset: once more on a fresh one, reset again
    send("GET", "/warm");         // fresh
    send("POST", "/fault-post");  // reused, reset: a POST is not sent again
    send("GET", "/warm-again");   // fresh
    resetNext = true;
    send("GET", "/flaky");  // reused, reset, then served on a fresh one
    return out;
  };
  const Outcome tcp = run(false), memory = run(true);
  EXPECT_EQ(memory.handled, tcp.handled);
  EXPECT_EQ(memory.answers, tcp.answers);
  EXPECT_EQ(memory.handled,
            (std::vector<std::string>{"GET /first", "GET /fault-get", "GET /fault-get", "GET /warm",
                                      "POST /fault-post", "GET /warm-again", "GET /flaky",
                                      "GET /flaky"}));
  EXPECT_EQ(memory.answers, (std::vector<std::string>{"200", "end of stream", "200",
                                                      "end of stream", "200", "200"}));
}

// A server replaced on its port (an adapter restarted) closed its connections: a request after
// that goes on a fresh one, so a reset there is not retried — on either transport.
TEST(MemoryTransport, AConnectionToAServerThatWasReplacedIsNotReused) {
  const auto run = [](bool memory) {
    Net n;
    int handled = 0;
    n.serve(echo());
    HttpClient tcp(n.io);
    Transport& t = memory ? static_cast<Transport&>(n.memory()) : tcp;
    ClientRequest r;
    r.url = n.url("/a");
    EXPECT_EQ(call(n.io, t, r).status, 200);
    ServerOptions so;
    so.port = n.server->port();
    bool stopped = false;
    n.server->stop([&] { stopped = true; });
    EXPECT_TRUE(runUntil(n.io, [&] { return stopped; }));
    n.server.reset();
    n.serve(so, [&](Request&, Respond respond) {
      ++handled;
      Response res = Response::empty(204);
      res.delivery = Delivery::kResetBeforeHandling;
      respond(std::move(res));
    });
    const auto res = call(n.io, t, r);
    EXPECT_EQ(res.error, "end of stream");
    return handled;
  };
  EXPECT_EQ(run(false), 1);
  EXPECT_EQ(run(true), 1);
}

TEST(MemoryTransport, NothingListeningIsConnectionRefused) {
  asio::io_context io;
  MemoryNetwork network;
  MemoryTransport client(io, network);
  ClientRequest r;
  r.url = "http://127.0.0.1:1/x";
  auto res = call(io, client, r);
  EXPECT_FALSE(res.ok());
  EXPECT_EQ(res.status, 0);
  EXPECT_TRUE(contains(lower(res.error), "connection refused")) << res.error;

  // The same words as HttpClient's for a closed port.
  HttpClient tcp(io);
  const auto overTcp = call(io, tcp, r);
  EXPECT_EQ(res.error, overTcp.error);
}

TEST(MemoryTransport, RefusesWhatIsNotOnTheNetwork) {
  asio::io_context io;
  MemoryNetwork network;
  MemoryTransport client(io, network);
  ClientRequest r;
  r.url = "https://127.0.0.1:8443/x";
  EXPECT_EQ(call(io, client, r).error, "TLS is not available on the memory network");
  r.url = "http://api.nuki.io/x";
  EXPECT_TRUE(contains(call(io, client, r).error, "memory network"));
  r.url = "ftp://127.0.0.1/x";
  EXPECT_EQ(call(io, client, r).error.rfind("invalid URL", 0), 0u);
}

TEST(MemoryTransport, TheCallbackNeverRunsInsideSend) {
  Net n;
  n.serve(echo());
  int called = 0;
  for (const char* url : {"ftp://x", "http://127.0.0.1:1/", "https://127.0.0.1/"}) {
    ClientRequest r;
    r.url = url;
    n.memory().send(r, [&](ClientResponse) { ++called; });
    EXPECT_EQ(called, 0) << url;
  }
  ClientRequest r;
  r.url = n.url("/x");
  n.memory().send(r, [&](ClientResponse) { ++called; });
  EXPECT_EQ(called, 0);
  EXPECT_TRUE(runUntil(n.io, [&] { return called == 4; }));
}

TEST(MemoryTransport, AServerDestroyedWhileItsHandlerHoldsTheAnswerClosesAtOnce) {
  Net n;
  Respond parked;
  n.serve([&](Request&, Respond respond) { parked = std::move(respond); });
  std::optional<ClientResponse> got;
  ClientRequest r;
  r.url = n.url("/held");
  r.timeout = milliseconds(30000);
  n.memory().send(r, [&](ClientResponse res) { got = std::move(res); });
  ASSERT_TRUE(runUntil(n.io, [&] { return bool(parked); }));
  n.io.poll();
  EXPECT_FALSE(got.has_value());
  const auto t0 = Steady::now();
  n.server.reset();  // a kill
  ASSERT_TRUE(runUntil(
      n.io, [&] { return got.has_value(); }, milliseconds(2000)));
  EXPECT_LT(Steady::now() - t0, milliseconds(2000)) << "not the request's 30 s timeout";
  EXPECT_EQ(got->status, 0);
  EXPECT_EQ(got->error, "end of stream");
  // The answer that comes later goes nowhere.
  parked(Response::json(200, "\"late\""));
  n.io.poll();
  ClientRequest again;
  again.url = r.url;
  EXPECT_TRUE(contains(lower(n.call(again).error), "connection refused"));
}

TEST(MemoryTransport, TimesOutAndDropsTheLateAnswer) {
  Net n;
  std::vector<Respond> parked;
  n.serve([&](Request& req, Respond respond) {
    if (req.target == "/never") return parked.push_back(std::move(respond));
    respond(Response::json(200, "\"ok\""));
  });
  WorkTracker tracker;
  ClientOptions co;
  co.tracker = &tracker;
  n.memory(co);
  ClientRequest r;
  r.url = n.url("/never");
  r.timeout = milliseconds(150);
  const auto t0 = Steady::now();
  const auto res = n.call(r);
  const auto took = std::chrono::duration_cast<milliseconds>(Steady::now() - t0);
  EXPECT_EQ(res.error, "timeout");
  EXPECT_GE(took.count(), 140);
  EXPECT_LT(took.count(), 1500);
  EXPECT_EQ(tracker.inFlight(), 0u);
  ASSERT_EQ(parked.size(), 1u);
  parked[0](Response::json(200, "\"late\""));  // call() checked there is no second callback
  n.io.poll();
  EXPECT_EQ(n.get("/ok").body, "\"ok\"");
}

TEST(MemoryTransport, WorkTrackerCountsARequestInFlight) {
  Net n;
  Respond parked;
  n.serve([&](Request&, Respond respond) { parked = std::move(respond); });
  WorkTracker tracker;
  ClientOptions co;
  co.tracker = &tracker;
  n.memory(co);
  bool idle = false, done = false;
  ClientRequest r;
  r.url = n.url("/w");
  n.memory().send(r, [&](ClientResponse res) {
    EXPECT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(tracker.inFlight(), 1u) << "still in flight while its callback runs";
    done = true;
  });
  EXPECT_EQ(tracker.inFlight(), 1u);
  tracker.whenIdle([&] { idle = true; });
  ASSERT_TRUE(runUntil(n.io, [&] { return bool(parked); }));
  n.io.poll();
  EXPECT_EQ(tracker.inFlight(), 1u) << "while the server holds the answer";
  EXPECT_FALSE(idle);
  parked(Response::json(200, "\"ok\""));
  ASSERT_TRUE(runUntil(n.io, [&] { return done; }));
  EXPECT_EQ(tracker.inFlight(), 0u);
  EXPECT_TRUE(idle);
}

TEST(MemoryServer, GracefulStopWaitsForAnExchangeInFlight) {
  Net n;
  Respond parked;
  n.serve([&](Request& req, Respond respond) {
    if (req.target == "/busy") return void(parked = std::move(respond));
    respond(Response::json(200, "\"ok\""));
  });
  std::optional<ClientResponse> busy;
  ClientRequest r;
  r.url = n.url("/busy");
  n.memory().send(r, [&](ClientResponse res) { busy = std::move(res); });
  ASSERT_TRUE(runUntil(n.io, [&] { return bool(parked); }));

  ClientRequest after;
  after.url = n.url("/after");
  bool stopped = false;
  n.server->stop([&] { stopped = true; });
  n.io.poll();
  EXPECT_FALSE(stopped) << "an exchange is still waiting for its answer";
  // It no longer listens on the network.
  EXPECT_TRUE(contains(lower(n.call(after).error), "connection refused"));
  EXPECT_FALSE(busy.has_value());

  parked(Response::json(200, "\"finally\""));
  parked = nullptr;
  ASSERT_TRUE(runUntil(n.io, [&] { return stopped && busy.has_value(); }));
  EXPECT_TRUE(busy->ok()) << busy->error;
  EXPECT_EQ(busy->body, "\"finally\"");
  EXPECT_EQ(lower(busy->header("Connection").value_or("")), "close");

  // Stopping with nothing in flight completes at once.
  Net idle;
  idle.serve(echo());
  bool done = false;
  idle.server->stop([&] { done = true; });
  EXPECT_TRUE(runUntil(
      idle.io, [&] { return done; }, milliseconds(500)));
}

TEST(MemoryServer, StillServesItsTcpPortAndLogsTheSameLine) {
  Net n;
  ServerOptions so;
  so.logRequests = true;
  n.serve(so, [](Request& req, Respond respond) {
    Response r = Response::json(200, "\"ok\"");
    if (req.target == "/cut") r.delivery = Delivery::kResetAfterHandling;
    respond(std::move(r));
  });
  HttpClient tcp(n.io);
  ClientRequest r;
  r.url = n.url("/over-tcp");
  EXPECT_EQ(call(n.io, tcp, r).status, 200);
  EXPECT_EQ(n.seen.back().peer.rfind("127.0.0.1:", 0), 0u);

  log::setLevel(log::Level::kInfo);
  testing::internal::CaptureStderr();
  EXPECT_EQ(n.get("/in%20memory").status, 200);
  EXPECT_FALSE(n.get("/cut").ok());
  const std::string logged = testing::internal::GetCapturedStderr();
  log::setLevel(log::Level::kWarn);
  EXPECT_TRUE(contains(logged, "info: GET /in%20memory -> 200 (")) << logged;
  EXPECT_TRUE(contains(logged, "info: GET /cut -> 200 (")) << logged;
  EXPECT_TRUE(contains(logged, " us) [connection reset by fault]")) << logged;
}

TEST(MemoryNetwork, ListensUntilUnlistenedAndOnlyTheCurrentRegistrationIsRemoved) {
  struct Nobody : MemoryEndpoint {
    void exchange(std::string, Reply reply) override { reply(std::nullopt); }
  };
  MemoryNetwork network;
  auto a = std::make_shared<Nobody>();
  auto b = std::make_shared<Nobody>();
  EXPECT_FALSE(network.connect(80));
  const uint64_t ia = network.listen(80, a, milliseconds(1000));
  ASSERT_TRUE(network.connect(80));
  EXPECT_EQ(network.connect(80)->endpoint.get(), a.get());
  const uint64_t ib = network.listen(80, b, milliseconds(1000));
  EXPECT_NE(ia, ib);
  network.unlisten(80, ia);  // replaced meanwhile: nothing happens
  EXPECT_EQ(network.connect(80)->endpoint.get(), b.get());
  b.reset();
  EXPECT_FALSE(network.connect(80)) << "an endpoint that is gone listens nowhere";
  network.unlisten(80, ib);
  EXPECT_FALSE(network.connect(80));
}

// ---- the driver's side ----------------------------------------------------------------------

TEST(MemoryRequester, ADriverOnAnotherThreadCallsAsWithABlockingClient) {
  asio::io_context io;
  MemoryNetwork network;
  std::vector<Request> seen;
  ServerOptions so;
  so.network = &network;
  HttpServer server(io, so, [&](Request& req, Respond respond) {
    seen.push_back(req);
    Response r = Response::json(201, R"({"got":")" + req.body + "\"}");
    r.headers.emplace_back("X-Mixed-Case", "v");
    respond(std::move(r));
  });
  server.start();
  auto guard = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });

  MemoryRequester mem(io, network, server.port(), "tok-1");
  BlockingClient tcp("127.0.0.1", server.port(), "tok-1");
  std::vector<BlockingResponse> answers;
  for (Requester* r : std::initializer_list<Requester*>{&mem, &tcp}) {
    answers.push_back(r->request("POST", "/things?x=1", "abc", {{"X-Extra", "1"}}));
    answers.push_back(r->request("GET", "/again"));
  }
  mem.setToken("");
  const auto anonymous = mem.request("GET", "/anon");
  MemoryRequester nowhere(io, network, 1);
  const auto refused = nowhere.request("GET", "/");

  asio::post(io, [&] { server.stop(); });
  guard.reset();
  loop.join();

  ASSERT_EQ(answers.size(), 4u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(answers[i].status, answers[i + 2].status);
    EXPECT_EQ(answers[i].body, answers[i + 2].body);
    EXPECT_EQ(answers[i].headers, answers[i + 2].headers);
    EXPECT_EQ(answers[i].error, "");
  }
  EXPECT_EQ(answers[0].status, 201);
  EXPECT_EQ(answers[0].body, R"({"got":"abc"})");
  EXPECT_EQ(answers[0].headers.at("x-mixed-case"), "v");
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].bearerToken(), "tok-1");
  EXPECT_EQ(seen[0].contentType, "application/json");
  EXPECT_EQ(seen[0].header("x-extra").value_or(""), "1");
  EXPECT_EQ(seen[0].target, "/things?x=1");
  EXPECT_EQ(seen[1].contentType, "") << "no body, no Content-Type, as BlockingClient";
  EXPECT_EQ(seen[0].contentType, seen[2].contentType);
  EXPECT_EQ(seen[0].authorization, seen[2].authorization);
  EXPECT_EQ(seen[4].authorization, "");
  EXPECT_EQ(anonymous.status, 201);
  EXPECT_EQ(refused.status, 0);
  EXPECT_EQ(refused.error, BlockingClient("127.0.0.1", 1).request("GET", "/").error);
}

}  // namespace
}  // namespace nukihil::http
