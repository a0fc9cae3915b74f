#include "tests/support/sim_harness.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "runtime/http_server.h"
#include "simulator/server.h"

namespace nukihil::test {

namespace asio = boost::asio;

nlohmann::json HttpResult::json() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j;
}

struct SimHarness::Impl {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::unique_ptr<Clock> clock;
  std::unique_ptr<sim::Server> server;
  std::unique_ptr<http::HttpServer> receiver;
  std::mutex mu;
  std::vector<ReceivedWebhook> got;
  int receiverStatus = 200;
  std::thread thread;
};

SimHarness::SimHarness() : SimHarness(Options{}) {}

SimHarness::SimHarness(Options options) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  if (options.virtualClock)
    I.clock = std::make_unique<VirtualClock>();
  else
    I.clock = std::make_unique<RealClock>(I.io, VirtualClock::kDefaultStart, 1.0);
  // nukisim as it ships, with shorter timeouts for tests.
  sim::ServerOptions so;
  so.simulator = std::move(options.sim);
  so.simulator.seed = options.seed;
  so.readTimeout = std::chrono::milliseconds(1500);
  so.idleTimeout = std::chrono::milliseconds(3000);
  so.webhookClientTimeout = std::chrono::milliseconds(2000);
  I.server = std::make_unique<sim::Server>(I.io, *I.clock, std::move(so));
  sim_ = &I.server->simulator();
  I.server->start();
  port_ = I.server->port();

  http::ServerOptions ro;
  ro.bodyLimit = 1 << 20;
  I.receiver = std::make_unique<http::HttpServer>(
      I.io, ro, [this](http::Request& req, http::Respond respond) {
        ReceivedWebhook w;
        w.body = req.body;
        w.headers["content-type"] = req.contentType;
        int status;
        {
          std::lock_guard lock(impl_->mu);
          status = impl_->receiverStatus;
        }
        for (const auto& [k, v] : req.headers) {
          std::string lower = k;
          for (auto& c : lower)
            c = char(std::tolower(static_cast<unsigned char>(c)));
          w.headers[lower] = v;
        }
        {
          std::lock_guard lock(impl_->mu);
          if (status >= 200 && status < 300) impl_->got.push_back(std::move(w));
        }
        respond(http::Response::empty(status));
      });
  I.receiver->start();
  adminToken_ = sim_->adminToken();
  I.thread = std::thread([this] { impl_->io.run(); });
  admin_ = std::make_unique<TestClient>(port_, adminToken_);
}

SimHarness::~SimHarness() {
  admin_.reset();
  post([this] {
    impl_->server->stop();
    impl_->receiver->stop();
    impl_->guard.reset();
    impl_->io.stop();
  });
  impl_->thread.join();
  // Destroy in order on this thread now that the loop is gone.
  impl_->server.reset();
  impl_->receiver.reset();
}

void SimHarness::post(std::function<void()> f) {
  asio::post(impl_->io, std::move(f));
}

std::string SimHarness::receiverUrl() const {
  return "http://127.0.0.1:" + std::to_string(impl_->receiver->port()) + "/nuki";
}

std::vector<ReceivedWebhook> SimHarness::received() {
  std::lock_guard lock(impl_->mu);
  return impl_->got;
}

void SimHarness::setReceiverStatus(int status) {
  std::lock_guard lock(impl_->mu);
  impl_->receiverStatus = status;
}

SimHarness::AccountInfo SimHarness::createAccount(const std::string& name) {
  auto r = admin_->post("/sim/v1/accounts", {{"name", name}});
  EXPECT_EQ(r.status, 201) << r.body;
  auto j = r.json();
  return {j.value("accountId", int64_t(0)), j.value("apiToken", std::string())};
}

uint64_t SimHarness::createLock(int64_t accountId, const nlohmann::json& extra) {
  nlohmann::json body = extra;
  body["accountId"] = accountId;
  auto r = admin_->post("/sim/v1/smartlocks", body);
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json().value("smartlockId", uint64_t(0));
}

void SimHarness::advance(int64_t seconds) {
  auto r = admin_->post("/sim/v1/clock/advance", {{"seconds", seconds}});
  ASSERT_EQ(r.status, 200) << r.body;
}

nlohmann::json SimHarness::device(uint64_t smartlockId) {
  auto r = admin_->get("/sim/v1/smartlocks/" + std::to_string(smartlockId) + "/device");
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json();
}

}  // namespace nukihil::test
