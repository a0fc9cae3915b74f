#include "scenarios/embedded_world.h"

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>

#include "adapter/service.h"
#include "simulator/server.h"

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
  explicit Impl(Options o)
      : options(std::move(o)), clock(options.start), adapterRandom(options.adapterSeed) {}

  Options options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  VirtualClock clock;
  std::unique_ptr<sim::Server> sim;
  std::unique_ptr<WebhookRecorder> receiver;
  std::string dbPath;
  Random adapterRandom;
  std::unique_ptr<adapter::Service> adapter;  // null while not running
  uint16_t adapterPort = 0;                   // kept across restarts
  std::string nukiToken;
  std::thread thread;
};

EmbeddedWorld::EmbeddedWorld(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& I = *impl_;
  sim::ServerOptions so;
  so.simulator.seed = I.options.seed;
  I.sim = std::make_unique<sim::Server>(I.io, I.clock, std::move(so));
  I.sim->start();
  I.receiver = std::make_unique<WebhookRecorder>(I.io, kSecret,
                                                 [this] { return secondsOf(impl_->clock.now()); });

  I.dbPath = I.options.dbPath;
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
    auto& world = J.sim->simulator().world();
    const uint32_t index = world.addAccount("Embedded");
    accountId_ = world.account(index).accountId;
    nukiToken_ = world.account(index).apiToken;
    J.nukiToken = nukiToken_;
    return 0;
  });
}

EmbeddedWorld::~EmbeddedWorld() {
  onLoop([this] {
    auto& I = *impl_;
    I.adapter.reset();  // stops its server first
    I.sim->stop();
    I.receiver->stop();
    return 0;
  });
  post([this] {
    impl_->guard.reset();
    impl_->io.stop();
  });
  impl_->thread.join();
  impl_->sim.reset();
  impl_->receiver.reset();
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(impl_->dbPath + suffix);
}

void EmbeddedWorld::post(std::function<void()> f) {
  asio::post(impl_->io, std::move(f));
}

adapter::Adapter& EmbeddedWorld::adapter() {
  return impl_->adapter->adapter();
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
  return impl_->sim->port();
}
const std::string& EmbeddedWorld::simAdminToken() const {
  return impl_->sim->simulator().adminToken();
}
sim::Simulator& EmbeddedWorld::simulator() {
  return impl_->sim->simulator();
}

bool EmbeddedWorld::adapterRunning() const {
  return impl_->adapter != nullptr;
}

void EmbeddedWorld::startAdapter() {
  std::promise<std::string> ready;
  auto future = ready.get_future();
  onLoop([this, &ready] {
    auto& J = *impl_;
    adapter::ServiceOptions o;
    o.dbPath = J.dbPath;
    o.nukiUrl = J.sim->url();
    o.nukiToken = J.nukiToken;
    o.apiKey = kApiKey;
    o.webhookUrl = J.receiver->url();
    o.webhookSecret = *adapter::WebhookSecret::parse(kSecret);
    o.ownPublicUrl = J.options.nukiWebhooks;
    o.pollInterval = std::chrono::seconds(J.options.pollSeconds);
    o.port = J.adapterPort;  // the same port again after a restart
    J.adapter = std::make_unique<adapter::Service>(J.io, J.clock, J.adapterRandom, std::move(o));
    try {
      J.adapter->start([&ready](const std::string& error) { ready.set_value(error); });
    } catch (...) {
      J.adapter.reset();
      throw;
    }
    J.adapterPort = J.adapter->port();
    return 0;
  });
  // Discovery runs over loopback while the virtual clock stands still.
  const std::string error = future.get();
  adapterPort_ = impl_->adapterPort;
  if (!error.empty()) throw std::runtime_error("the adapter did not start: " + error);
}

void EmbeddedWorld::killAdapter() {
  onLoop([this] {
    impl_->adapter->kill();
    return 0;
  });
  onLoop([this] {
    impl_->adapter.reset();
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
