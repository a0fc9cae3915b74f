#include "scenarios/embedded_world.h"

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "adapter/adapter.h"
#include "adapter/northbound.h"
#include "adapter/nuki_client.h"
#include "adapter/outbox.h"
#include "adapter/standard_webhooks.h"
#include "runtime/blocking_client.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "simulator/simulator.h"

namespace nukihil::scenarios {

namespace asio = boost::asio;
using nlohmann::json;

namespace {
constexpr const char* kApiKey = "test-api-key-0123456789";
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
}  // namespace

const char* EmbeddedWorld::apiKey() {
  return kApiKey;
}
const char* EmbeddedWorld::webhookSecret() {
  return kSecret;
}

struct EmbeddedWorld::Impl {
  Options options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  VirtualClock clock;
  std::unique_ptr<http::HttpClient> client;
  std::unique_ptr<sim::Simulator> sim;
  std::unique_ptr<http::HttpServer> simServer;
  std::unique_ptr<WebhookRecorder> receiver;
  // The adapter, as the nuki-adapter tool wires it.
  std::string dbPath;
  Random adapterRandom{1};
  std::unique_ptr<adapter::Db> db;
  std::unique_ptr<adapter::Outbox> outbox;
  std::unique_ptr<adapter::OutboxSink> sink;
  std::unique_ptr<adapter::NukiClient> nuki;
  std::unique_ptr<adapter::Adapter> adapter;
  std::unique_ptr<adapter::Northbound> northbound;
  std::unique_ptr<http::HttpServer> adapterServer;
  uint16_t adapterPort = 0;
  std::string nukiToken;
  std::thread thread;
};

EmbeddedWorld::EmbeddedWorld(Options options) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  I.options = options;
  http::ClientOptions co;
  co.tracker = &I.clock.work();
  co.defaultTimeout = std::chrono::milliseconds(3000);
  I.client = std::make_unique<http::HttpClient>(I.io, co);
  sim::SimulatorOptions so;
  so.seed = options.seed;
  I.sim = std::make_unique<sim::Simulator>(I.clock, I.client.get(), so);
  http::ServerOptions sso;
  sso.bodyLimitFor = [this](std::string_view t) { return impl_->sim->bodyLimitFor(t); };
  sso.errorResponse = [this](int s, std::string_view t, std::string_view why) {
    return impl_->sim->transportError(s, t, why);
  };
  I.simServer = std::make_unique<http::HttpServer>(I.io, sso,
                                                   [this](http::Request& r, http::Respond respond) {
                                                     impl_->sim->handle(r, std::move(respond));
                                                   });
  I.simServer->start();

  const auto secret = *adapter::WebhookSecret::parse(kSecret);
  http::ServerOptions ro;
  ro.bodyLimit = 1 << 20;
  I.receiver = std::make_unique<WebhookRecorder>(I.io, kSecret,
                                                 [this] { return secondsOf(impl_->clock.now()); });

  I.dbPath = options.dbPath;
  if (I.dbPath.empty()) {
    I.dbPath = (std::filesystem::temp_directory_path() /
                ("nukihil-embedded-" + std::to_string(::getpid()) + "-" +
                 std::to_string(reinterpret_cast<uintptr_t>(this)) + ".db"))
                   .string();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(I.dbPath + suffix);
  }
  I.thread = std::thread([this] { impl_->io.run(); });

  // The account whose locks the adapter serves.
  onLoop([this] {
    auto& J = *impl_;
    const uint32_t index = J.sim->world().addAccount("Embedded");
    accountId_ = J.sim->world().account(index).accountId;
    nukiToken_ = J.sim->world().account(index).apiToken;
    J.nukiToken = nukiToken_;
    return 0;
  });
}

EmbeddedWorld::~EmbeddedWorld() {
  onLoop([this] {
    auto& I = *impl_;
    if (I.adapterServer) I.adapterServer->stop();
    I.simServer->stop();
    I.receiver->stop();
    I.adapter.reset();
    I.northbound.reset();
    I.nuki.reset();
    I.outbox.reset();
    I.sink.reset();
    I.db.reset();
    return 0;
  });
  post([this] {
    impl_->guard.reset();
    impl_->io.stop();
  });
  impl_->thread.join();
  impl_->adapterServer.reset();
  impl_->simServer.reset();
  impl_->receiver.reset();
  impl_->sim.reset();
  impl_->client.reset();
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(impl_->dbPath + suffix);
}

void EmbeddedWorld::post(std::function<void()> f) {
  asio::post(impl_->io, std::move(f));
}

adapter::Adapter& EmbeddedWorld::adapter() {
  return *impl_->adapter;
}

void EmbeddedWorld::advance(int64_t seconds) {
  std::promise<void> done;
  auto future = done.get_future();
  post([this, seconds, &done] {
    auto& clock = impl_->clock;
    if (!clock.advanceTo(clock.now() + std::chrono::seconds(seconds),
                         [&done] { done.set_value(); }))
      done.set_exception(
          std::make_exception_ptr(std::logic_error("an advance is already running")));
  });
  future.get();
}

Time EmbeddedWorld::now() {
  return onLoop([this] { return impl_->clock.now(); });
}

uint16_t EmbeddedWorld::simPort() const {
  return impl_->simServer->port();
}
const std::string& EmbeddedWorld::simAdminToken() const {
  return impl_->sim->adminToken();
}
sim::Simulator& EmbeddedWorld::simulator() {
  return *impl_->sim;
}

bool EmbeddedWorld::adapterRunning() const {
  return impl_->adapter != nullptr;
}

void EmbeddedWorld::startAdapter() {
  auto& I = *impl_;
  std::promise<std::string> ready;
  auto future = ready.get_future();
  post([this, &ready] {
    auto& J = *impl_;
    J.db = std::make_unique<adapter::Db>(J.dbPath);
    adapter::Outbox::Options oo;
    oo.url = "http://127.0.0.1:" + std::to_string(J.receiver->port()) + "/platform";
    oo.secret = *adapter::WebhookSecret::parse(kSecret);
    J.outbox = std::make_unique<adapter::Outbox>(*J.db, J.clock, *J.client, J.adapterRandom, oo);
    J.sink = std::make_unique<adapter::OutboxSink>(*J.outbox);
    adapter::NukiClient::Options no;
    no.baseUrl = "http://127.0.0.1:" + std::to_string(J.simServer->port());
    no.token = J.nukiToken;
    J.nuki = std::make_unique<adapter::NukiClient>(*J.client, J.clock, J.adapterRandom, no);
    http::ServerOptions so;
    so.port = J.adapterPort;  // the same port again after a restart
    J.adapterServer = std::make_unique<http::HttpServer>(
        J.io, so, [this](http::Request& r, http::Respond respond) {
          impl_->northbound->handle(r, std::move(respond));
        });
    J.adapterServer->start();
    J.adapterPort = J.adapterServer->port();
    adapter::Adapter::Options ao;
    if (J.options.nukiWebhooks) ao.publicUrl = "http://127.0.0.1:" + std::to_string(J.adapterPort);
    ao.pollInterval = std::chrono::seconds(J.options.pollSeconds);
    ao.post = [this](std::function<void()> f) { asio::post(impl_->io, std::move(f)); };
    J.adapter =
        std::make_unique<adapter::Adapter>(*J.db, J.clock, *J.nuki, *J.sink, J.adapterRandom, ao);
    J.northbound = std::make_unique<adapter::Northbound>(*J.adapter, *J.outbox, kApiKey);
    J.outbox->start();
    J.adapter->start([&ready](const std::string& error) { ready.set_value(error); });
  });
  // Discovery runs over loopback while the virtual clock stands still.
  const std::string error = future.get();
  adapterPort_ = I.adapterPort;
  if (!error.empty()) throw std::runtime_error("the adapter did not start: " + error);
}

void EmbeddedWorld::killAdapter() {
  onLoop([this] {
    auto& J = *impl_;
    J.adapterServer->stop();
    J.adapter.reset();
    J.northbound.reset();
    J.nuki.reset();
    J.outbox.reset();
    J.sink.reset();
    J.db.reset();
    return 0;
  });
  onLoop([this] {
    impl_->adapterServer.reset();
    return 0;
  });
}

std::vector<RecordedWebhook> EmbeddedWorld::webhooks() {
  return impl_->receiver->webhooks();
}

std::vector<RecordedWebhook> EmbeddedWorld::webhooksFrom(size_t from) {
  return impl_->receiver->webhooks(from);
}

size_t EmbeddedWorld::webhookCount() {
  return impl_->receiver->count();
}

void EmbeddedWorld::setReceiverStatus(int status) {
  impl_->receiver->setStatus(status);
}

void EmbeddedWorld::clearWebhooks() {
  impl_->receiver->clear();
}

}  // namespace nukihil::scenarios
