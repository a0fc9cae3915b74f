// sim::Server, nukisim's one assembly (the tool, SimHarness and the embedded world build it):
// it listens only once started, answers in Nuki's error shapes, including the transport's own
// 413, uses the simulator's body limits, and wires latency faults and webhooks as shipped.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "runtime/blocking_client.h"
#include "simulator/server.h"
#include "tests/support/raw_conn.h"
#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using std::chrono::milliseconds;

// A sim::Server on a virtual clock, its loop on a thread of its own.
struct Running {
  explicit Running(sim::ServerOptions options = {}) {
    options.simulator.adminToken = "server-test-admin-token";
    server = std::make_unique<sim::Server>(io, clock, std::move(options));
    EXPECT_EQ(server->port(), 0) << "nothing listens before start()";
    server->start();
    thread = std::thread([this] { io.run(); });
  }
  ~Running() {
    asio::post(io, [this] {
      server->stop();
      guard.reset();
      io.stop();
    });
    thread.join();
    server.reset();
  }
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  VirtualClock clock;
  std::unique_ptr<sim::Server> server;
  std::thread thread;
};

struct Raw {
  int status = 0;
  json body;
};

// Sends the head of a request whose Content-Length is over the limit; the server answers at
// once and closes.
Raw tooLarge(uint16_t port, const std::string& method, const std::string& target,
             size_t contentLength, const std::string& token = "") {
  RawConn c(port);
  EXPECT_TRUE(c.connected());
  const std::string auth = token.empty() ? "" : "Authorization: Bearer " + token + "\r\n";
  c.send(method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + auth +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(contentLength) +
         "\r\n\r\n");
  EXPECT_TRUE(c.readToClose(milliseconds(3000))) << c.received();
  const std::string& in = c.received();
  Raw r;
  if (in.size() < 12) return r;
  r.status = std::stoi(in.substr(9, 3));
  const auto end = in.find("\r\n\r\n");
  if (end != std::string::npos) r.body = json::parse(in.substr(end + 4), nullptr, false);
  return r;
}

void expectNukiShape(const json& j) {
  ASSERT_TRUE(j.is_object()) << j.dump();
  EXPECT_TRUE(j["detailMessage"].is_string()) << j.dump();
  EXPECT_EQ(j["stackTrace"], json::array());
  EXPECT_EQ(j["suppressedExceptions"], json::array());
  EXPECT_EQ(j.size(), 3u) << j.dump();
}

TEST(SimServer, AnswersWithoutATokenWith401AndNukisBody) {
  Running r;
  EXPECT_EQ(r.server->url(), "http://127.0.0.1:" + std::to_string(r.server->port()));
  http::BlockingClient client("127.0.0.1", r.server->port());
  auto res = client.request("GET", "/smartlock");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.headers["server"], "nukisim");
  EXPECT_EQ(res.headers["content-type"], "application/json");
  const json body = json::parse(res.body, nullptr, false);
  expectNukiShape(body);
  EXPECT_EQ(body["detailMessage"], "Your access token is not authorized");
}

TEST(SimServer, TooLargeBodiesGet413InTheShapeOfTheirApi) {
  Running r;
  // The Nuki API takes 64 KiB, the control plane 16 MiB (fleet files): the simulator's limits.
  auto nuki = tooLarge(r.server->port(), "PUT", "/smartlock/auth", 64 * 1024 + 1);
  EXPECT_EQ(nuki.status, 413);
  expectNukiShape(nuki.body);
  auto control = tooLarge(r.server->port(), "POST", "/sim/v1/fleet", (size_t(16) << 20) + 1,
                          "server-test-admin-token");
  EXPECT_EQ(control.status, 413);
  EXPECT_EQ(control.body["error"]["code"], "BODY_TOO_LARGE") << control.body.dump();
  // Without the admin token the control plane answers 401 from the headers alone, whatever
  // the body would have been.
  auto anonymous = tooLarge(r.server->port(), "POST", "/sim/v1/fleet", (size_t(16) << 20) + 1);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.body["error"]["code"], "UNAUTHORIZED") << anonymous.body.dump();
}

TEST(SimServer, OptionsReachTheSimulator) {
  sim::ServerOptions o;
  o.simulator.seed = 99;
  o.serverName = "nukisim-test";
  Running r(o);
  EXPECT_EQ(r.server->simulator().seed(), 99u);
  EXPECT_EQ(r.server->options().simulator.seed, 99u);
  http::BlockingClient admin("127.0.0.1", r.server->port(), "server-test-admin-token");
  auto res = admin.request("GET", "/sim/v1/health");
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.headers["server"], "nukisim-test");
}

TEST(SimServer, LatencyFaultsWaitInRealTimeOnTheServersLoop) {
  Running r;
  http::BlockingClient admin("127.0.0.1", r.server->port(), "server-test-admin-token");
  auto account = admin.request("POST", "/sim/v1/accounts", R"({"name":"Latency"})");
  ASSERT_EQ(account.status, 201) << account.body;
  auto fault =
      admin.request("POST", "/sim/v1/faults",
                    json{{"route", "/smartlock"}, {"latencyMs", 300}, {"count", 1}}.dump());
  ASSERT_EQ(fault.status, 201) << fault.body;
  http::BlockingClient client("127.0.0.1", r.server->port(),
                              json::parse(account.body)["apiToken"].get<std::string>());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.request("GET", "/smartlock").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
}

TEST(SimServer, WebhooksGoOutWithNukisimsUserAgent) {
  SimHarness h;  // built on sim::Server
  auto acc = h.createAccount();
  auto lock = h.createLock(acc.accountId);
  TestClient api(h.port(), acc.token);
  ASSERT_EQ(api.put("/api/decentralWebhook",
                    {{"webhookUrl", h.receiverUrl()}, {"webhookFeatures", {"DEVICE_STATUS"}}})
                .status,
            200);
  ASSERT_EQ(h.admin()
                .post("/sim/v1/smartlocks/" + std::to_string(lock) + "/battery", {{"charge", 40}})
                .status,
            200);
  h.advance(1);
  auto got = h.received();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].headers["user-agent"], "nukisim-webhooks");
}

}  // namespace
}  // namespace nukihil::test
