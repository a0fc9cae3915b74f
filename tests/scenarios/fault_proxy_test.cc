// The fault proxy between the adapter and Nuki Web in a hardware-in-the-loop run: it forwards
// what it is not told to break, injects nukisim's faults (same JSON, same effects) on the wall
// clock, and journals every call for the spec model.
#include "scenarios/fault_proxy.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <mutex>
#include <thread>

#include "runtime/blocking_client.h"
#include "runtime/http_server.h"

namespace nukihil::scenarios {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

// Stands for Nuki Web: answers with what it got, a code list, or slowly.
class Upstream {
 public:
  Upstream() {
    server_ = std::make_unique<http::HttpServer>(
        io_, http::ServerOptions{}, [this](http::Request& req, http::Respond respond) {
          {
            std::lock_guard lock(mu_);
            seen_.push_back(req.method + " " + req.target);
          }
          if (req.target == "/smartlock/5/auth")
            return respond(http::Response::json(
                200, R"([{"type":13,"code":234567,"name":"G"},{"type":0,"name":"Phone"}])"));
          if (req.target == "/held") {  // answered when the test says so
            std::lock_guard lock(mu_);
            held_ = std::move(respond);
            return;
          }
          json echo{{"method", req.method},
                    {"target", req.target},
                    {"body", req.body},
                    {"contentType", req.contentType},
                    {"authorization", std::string(req.header("Authorization").value_or(""))},
                    {"requestId", std::string(req.header("X-Request-ID").value_or(""))}};
          auto r = http::Response::json(201, echo.dump());
          r.headers.emplace_back("X-Upstream", "yes");
          respond(std::move(r));
        });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Upstream() {
    asio::post(io_, [this] { server_.reset(); });
    work_.reset();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  bool holding() {
    std::lock_guard lock(mu_);
    return bool(held_);
  }
  void release() {
    asio::post(io_, [this] {
      std::lock_guard lock(mu_);
      if (held_) std::exchange(held_, {})(http::Response::json(200, "{}"));
    });
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> seen_;
  http::Respond held_;
};

uint16_t portOf(const std::string& url) {
  return uint16_t(std::stoi(url.substr(url.rfind(':') + 1)));
}

TEST(FaultProxy, ForwardsWhatNoFaultHitsAndJournalsIt) {
  Upstream nuki;
  FaultProxy proxy(nuki.url());
  http::BlockingClient adapter("127.0.0.1", portOf(proxy.url()), "nuki-token");
  auto r = adapter.request("POST", "/smartlock/5/action/lock?x=1", R"({"a":1})",
                           {{"X-Request-ID", "act-1"}});
  ASSERT_EQ(r.status, 201) << r.error;
  const json echo = json::parse(r.body);
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_EQ(echo["target"], "/smartlock/5/action/lock?x=1");
  EXPECT_EQ(echo["body"], R"({"a":1})");
  EXPECT_EQ(echo["contentType"], "application/json");
  EXPECT_EQ(echo["authorization"], "Bearer nuki-token");
  EXPECT_EQ(echo["requestId"], "act-1");
  EXPECT_EQ(r.headers["x-upstream"], "yes");

  // A code list's body is kept for the model; other bodies are not.
  r = adapter.request("GET", "/smartlock/5/auth");
  ASSERT_EQ(r.status, 200);
  const auto journal = proxy.journal();
  ASSERT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal[0].seq, 1u);
  EXPECT_EQ(journal[0].method, "POST");
  EXPECT_EQ(journal[0].target, "/smartlock/5/action/lock?x=1");
  EXPECT_EQ(journal[0].status, 201);
  EXPECT_EQ(journal[0].requestId, "act-1");
  EXPECT_TRUE(journal[0].fault.empty());
  EXPECT_TRUE(journal[0].body.is_null());
  EXPECT_EQ(journal[1].body.size(), 2u);
  EXPECT_EQ(journal[1].body[0]["code"], 234567);
  EXPECT_LE(journal[0].atMs, journal[1].atMs);
  EXPECT_EQ(proxy.journal(2).size(), 1u);
}

TEST(FaultProxy, InjectsNukisimsFaultsWithTheirCounts) {
  Upstream nuki;
  FaultProxy proxy(nuki.url());
  http::BlockingClient adapter("127.0.0.1", portOf(proxy.url()), "t");
  ASSERT_EQ(proxy.addFault({{"route", "/smartlock/*/action/*"},
                            {"methods", {"POST"}},
                            {"status", 429},
                            {"retryAfter", 7},
                            {"count", 1}}),
            "");
  // A GET does not match; the POST gets the 429 with its Retry-After, and Nuki Web never sees
  // it; the next POST goes through (the count is spent).
  EXPECT_EQ(adapter.request("GET", "/smartlock/5/action/lock").status, 201);
  auto r = adapter.request("POST", "/smartlock/5/action/lock");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "7");
  EXPECT_EQ(adapter.request("POST", "/smartlock/5/action/lock").status, 201);
  EXPECT_EQ(nuki.seen(), (std::vector<std::string>{"GET /smartlock/5/action/lock",
                                                   "POST /smartlock/5/action/lock"}));
  const auto journal = proxy.journal();
  ASSERT_EQ(journal.size(), 3u);
  EXPECT_TRUE(journal[0].fault.empty());
  EXPECT_EQ(json::parse(journal[1].fault)["status"], 429);
  EXPECT_EQ(journal[1].status, 429);
  EXPECT_TRUE(journal[2].fault.empty());
}

TEST(FaultProxy, ResetsBeforeOrAfterNukiWebHandledTheCall) {
  Upstream nuki;
  FaultProxy proxy(nuki.url());
  http::BlockingClient adapter("127.0.0.1", portOf(proxy.url()), "t");
  ASSERT_EQ(proxy.addFault({{"route", "/smartlock/5/auth"}, {"reset", true}, {"count", 1}}), "");
  ASSERT_EQ(proxy.addFault({{"route", "/smartlock/6/auth"}, {"resetAfter", true}, {"count", 1}}),
            "");
  auto r = adapter.request("PUT", "/smartlock/5/auth", "{}");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  r = adapter.request("PUT", "/smartlock/6/auth", "{}");
  EXPECT_EQ(r.status, 0);
  // reset: Nuki Web never saw it; resetAfter: it did, and the answer was lost.
  EXPECT_EQ(nuki.seen(), (std::vector<std::string>{"PUT /smartlock/6/auth"}));
  const auto journal = proxy.journal();
  ASSERT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal[0].status, 0);
  EXPECT_TRUE(json::parse(journal[0].fault).value("reset", false));
  EXPECT_EQ(journal[1].status, 0);
  EXPECT_TRUE(json::parse(journal[1].fault).value("resetAfter", false));
  // Cleared, the faults are gone.
  ASSERT_EQ(proxy.addFault({{"route", "*"}, {"status", 503}}), "");
  EXPECT_EQ(adapter.request("GET", "/x").status, 503);
  proxy.clearFaults();
  EXPECT_EQ(adapter.request("GET", "/x").status, 201);
}

TEST(FaultProxy, RefusesWhatIsNoFaultWithTheReason) {
  Upstream nuki;
  FaultProxy proxy(nuki.url());
  EXPECT_EQ(proxy.addFault({{"route", "*"}, {"status", "503"}}).find("status"), 0u);
  EXPECT_NE(proxy.addFault(json::array()), "");
  EXPECT_THROW(FaultProxy("ftp://example.com"), std::invalid_argument);
}

TEST(FaultProxy, SaysWhenNukiWebCannotBeReachedAndWhatIsStillInFlight) {
  std::string url;
  {
    Upstream gone;
    url = gone.url();
  }
  {
    FaultProxy proxy(url);
    http::BlockingClient adapter("127.0.0.1", portOf(proxy.url()), "t");
    auto r = adapter.request("GET", "/smartlock");
    EXPECT_EQ(r.status, 502);
    EXPECT_NE(r.body.find("the fault proxy could not reach Nuki Web"), std::string::npos) << r.body;
    ASSERT_EQ(proxy.journal().size(), 1u);
    EXPECT_FALSE(proxy.journal()[0].error.empty());
  }
  Upstream nuki;
  FaultProxy proxy(nuki.url());
  EXPECT_FALSE(proxy.oldestInFlightMs());
  std::thread slow([&] {
    http::BlockingClient adapter("127.0.0.1", portOf(proxy.url()), "t");
    EXPECT_EQ(adapter.request("GET", "/held").status, 200);
  });
  // While the call waits for Nuki Web's answer it is in flight, not in the journal.
  while (!nuki.holding())
    std::this_thread::yield();
  const std::optional<int64_t> inFlight = proxy.oldestInFlightMs();
  ASSERT_TRUE(inFlight);
  EXPECT_TRUE(proxy.journal().empty());
  nuki.release();
  slow.join();
  EXPECT_FALSE(proxy.oldestInFlightMs());
  ASSERT_EQ(proxy.journal().size(), 1u);
  EXPECT_EQ(proxy.journal()[0].atMs, *inFlight);
}

}  // namespace
}  // namespace nukihil::scenarios
