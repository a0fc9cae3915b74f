#include "scenarios/embedded_world.h"

#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "adapter/service.h"
#include "runtime/memory_network.h"
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
  // Before everything that listens or sends on it.
  http::MemoryNetwork network;
  // Before io: handlers still queued when the world goes (a restart `during` something that
  // has not landed yet) hold work guards on the clock, released as io is destroyed.
  VirtualClock clock;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::unique_ptr<sim::Server> sim;
  std::unique_ptr<WebhookRecorder> receiver;
  std::string dbPath;
  Random adapterRandom;
  std::unique_ptr<adapter::Service> adapter;  // null while not running
  uint16_t adapterPort = 0;                   // kept across restarts
  std::string nukiToken;
  std::thread thread;
  // Restarts.
  std::mutex mu;
  Restart restart;
  bool cutNukiCall = false;  // on the io thread
  uint32_t accountIndex = 0;

  http::MemoryNetwork* memory() {
    return options.transport == Options::Transport::kMemory ? &network : nullptr;
  }

  adapter::ServiceOptions adapterOptions() {
    adapter::ServiceOptions o;
    o.dbPath = dbPath;
    o.nukiUrl = sim->url();
    o.nukiToken = nukiToken;
    o.apiKey = kApiKey;
    o.webhookUrl = receiver->url();
    o.webhookSecret = *adapter::WebhookSecret::parse(kSecret);
    o.ownPublicUrl = options.nukiWebhooks;
    o.pollInterval = std::chrono::seconds(options.pollSeconds);
    o.port = adapterPort;  // the same port again after a restart
    o.verbose = options.verbose;
    o.idleTimeout = options.adapterIdleTimeout;
    o.network = memory();
    return o;
  }

  // At the instant a restart `during` an exchange lands (the receiver or nukisim has taken it),
  // on the io thread, `hold` on the clock: the adapter is frozen now, so that from here on it
  // sees no answer and sends nothing, whatever the io thread runs before restartNow, and where
  // it stopped depends on the seed alone, on either transport. It cannot be killed here (this
  // runs inside a callback of its own exchange): restartNow is posted. `answerCut` closes the
  // cut exchange, after the kill.
  void landRestart(WorkGuard hold, std::function<void()> answerCut) {
    if (adapter) adapter->freeze();
    asio::post(io, [this, hold = std::move(hold), answerCut = std::move(answerCut)]() mutable {
      restartNow(std::move(hold), std::move(answerCut));
    });
  }

  // On the io thread: kill the adapter and start it again, holding the virtual clock until the
  // new one has sent its start-up calls. The kill waits for the answers the adapter is still
  // writing (the driver's trait call that caused the cut webhook, say) on the io thread, never
  // on the wall clock. `answerCut` then closes the cut exchange without an answer.
  void restartNow(WorkGuard hold, std::function<void()> answerCut) {
    if (adapter) {
      auto held = std::make_shared<WorkGuard>(std::move(hold));
      adapter->whenAnswered([this, held, answerCut = std::move(answerCut)]() mutable {
        killAndStart(std::move(*held), std::move(answerCut));
      });
    } else {
      killAndStart(std::move(hold), std::move(answerCut));
    }
  }

  void killAndStart(WorkGuard hold, std::function<void()> answerCut) {
    {
      std::lock_guard lock(mu);
      restart.afterSeq = sim->simulator().journal().nextSeq();
    }
    if (adapter) {
      adapter->kill();
      adapter.reset();
    }
    if (answerCut) answerCut();
    // Start it again once the killed one's callbacks have drained.
    asio::post(io, [this, hold = std::move(hold)]() mutable {
      auto held = std::make_shared<WorkGuard>(std::move(hold));
      std::string failed;
      try {
        adapter = std::make_unique<adapter::Service>(io, clock, adapterRandom, adapterOptions());
        adapter->start([held](const std::string&) { held->reset(); });
        // Its start-up calls are in flight now (the clock waits for them). If one fails and
        // the adapter retries on a timer, the clock must be free to reach it: held until ready,
        // the two would wait for each other for ever.
        asio::post(io, [held] { held->reset(); });
      } catch (const std::exception& e) {
        // Its port taken meanwhile, the database refused…: the scenario cannot go on.
        adapter.reset();
        held->reset();
        failed = e.what();
      }
      std::lock_guard lock(mu);
      restart.done = true;
      restart.failed = failed;
      restart.at = clock.now();
    });
  }
};

EmbeddedWorld::EmbeddedWorld(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& I = *impl_;
  sim::ServerOptions so;
  so.simulator.seed = I.options.seed;
  so.network = I.memory();
  // `restartAdapter during nextNukiCall`: the adapter's next request is handled, its answer
  // lost, and the adapter killed while it waits for it.
  so.TEST_onRequest = [this](const http::Request& req, http::Respond& respond) {
    auto& J = *impl_;
    // Only the adapter's Nuki API calls: not the harness's own, nor the control plane.
    if (!J.cutNukiCall || req.header(kHarnessHeader) || req.path().rfind("/sim/", 0) == 0) return;
    J.cutNukiCall = false;
    WorkGuard hold(&J.clock.work());
    respond = [this, respond,
               hold = std::make_shared<WorkGuard>(std::move(hold))](http::Response r) mutable {
      auto& K = *impl_;
      {
        std::lock_guard lock(K.mu);
        K.restart.cutSeq = K.sim->simulator().journal().nextSeq() - 1;
      }
      r.delivery = http::Delivery::kResetAfterHandling;
      K.landRestart(std::move(*hold), [respond, r] { respond(r); });
    };
  };
  I.sim = std::make_unique<sim::Server>(I.io, I.clock, std::move(so));
  I.sim->start();
  I.receiver = std::make_unique<WebhookRecorder>(
      I.io, kSecret, [this] { return secondsOf(impl_->clock.now()); }, 0, I.memory());
  if (I.options.tamper) I.receiver->setTamper(I.options.tamper);

  I.dbPath = I.options.dbPath;
  if (I.dbPath.empty()) {
    // In memory where Linux offers it (unless TMPDIR says otherwise): the world's durability
    // is across adapter kills within this process, which a tmpfs keeps, and a commit there
    // costs no disk flush.
    std::error_code ec;
    const bool shm = !std::getenv("TMPDIR") && std::filesystem::is_directory("/dev/shm", ec) &&
                     ::access("/dev/shm", W_OK) == 0;
    I.dbPath = ((shm ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path()) /
                ("nukihil-embedded-" + std::to_string(::getpid()) + "-" +
                 std::to_string(reinterpret_cast<uintptr_t>(this)) + ".db"))
                   .string();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(I.dbPath + suffix);
  }
  I.thread = std::thread([this] { impl_->io.run(); });

  // The account whose locks the adapter serves.
  std::string refused;
  try {
    refused = onLoop([this] {
      auto& J = *impl_;
      auto& sim = J.sim->simulator();
      auto& world = sim.world();
      uint32_t index = 0;
      if (J.options.fleet.is_null()) {
        index = world.addAccount("Embedded");
      } else {
        index = uint32_t(world.accounts().size());
        if (auto e = sim.loadFleet(J.options.fleet)) return e.message;
        if (world.accounts().size() <= index) return std::string("the fleet has no account");
      }
      accountId_ = world.account(index).accountId;
      nukiToken_ = world.account(index).apiToken;
      J.nukiToken = nukiToken_;
      J.accountIndex = index;
      return std::string();
    });
  } catch (const std::exception& e) {
    refused = e.what();  // the io thread must still be stopped and joined below
  }
  if (!refused.empty()) {
    onLoop([this] {
      impl_->sim->stop();
      impl_->receiver->stop();
      return 0;
    });
    post([this] {
      impl_->guard.reset();
      impl_->io.stop();
    });
    impl_->thread.join();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(impl_->dbPath + suffix);
    throw std::invalid_argument("nukisim refused the fleet: " + refused);
  }
}

std::vector<std::pair<std::string, uint64_t>> EmbeddedWorld::locks() {
  return onLoop([this] {
    auto& world = impl_->sim->simulator().world();
    std::vector<std::pair<std::string, uint64_t>> out;
    for (uint32_t i : world.account(impl_->accountIndex).locks)
      out.emplace_back(world.lock(i).name, world.lock(i).smartlockId);
    return out;
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

std::unique_ptr<http::Requester> EmbeddedWorld::client(uint16_t port, std::string token) {
  if (auto* network = impl_->memory())
    return std::make_unique<http::MemoryRequester>(impl_->io, *network, port, std::move(token));
  return std::make_unique<http::BlockingClient>("127.0.0.1", port, std::move(token));
}

void EmbeddedWorld::post(std::function<void()> f) {
  asio::post(impl_->io, std::move(f));
}

adapter::Adapter& EmbeddedWorld::adapter() {
  return impl_->adapter->adapter();
}

size_t EmbeddedWorld::adapterConnections() {
  return onLoop([this] { return impl_->adapter ? impl_->adapter->connectionCount() : size_t(0); });
}

void EmbeddedWorld::advance(int64_t seconds) {
  advanceTo(now() + std::chrono::seconds(seconds));
}

void EmbeddedWorld::advanceTo(Time target) {
  std::promise<void> done;
  auto future = done.get_future();
  post([this, target, &done] {
    auto& clock = impl_->clock;
    if (!clock.advanceTo(std::max(target, clock.now()), [&done] { done.set_value(); }))
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

void EmbeddedWorld::startAdapter() {
  // Shared: an adapter that gets ready after this returns still has a promise to keep.
  auto ready = std::make_shared<std::promise<std::string>>();
  auto future = ready->get_future();
  onLoop([this, ready] {
    auto& J = *impl_;
    J.adapter =
        std::make_unique<adapter::Service>(J.io, J.clock, J.adapterRandom, J.adapterOptions());
    try {
      J.adapter->start([ready](const std::string& error) { ready->set_value(error); });
    } catch (...) {
      J.adapter.reset();
      throw;
    }
    J.adapterPort = J.adapter->port();
    return 0;
  });
  adapterPort_ = impl_->adapterPort;
  // Its start-up calls run at this instant; once the world is quiet it is ready — or waiting
  // for a retry on the virtual clock (a fault on Nuki Web), and gets ready when the clock
  // reaches it. Waiting for ready here would wait for ever: the clock stands still meanwhile.
  advance(0);
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  const std::string error = future.get();
  if (!error.empty()) throw std::runtime_error("the adapter did not start: " + error);
}

void EmbeddedWorld::stopAdapter() {
  std::promise<void> stopped;
  auto future = stopped.get_future();
  onLoop([this, &stopped] {
    impl_->adapter->stop([&stopped] { stopped.set_value(); });
    return 0;
  });
  // Graceful: answers in progress finish (none between steps).
  future.wait_for(std::chrono::seconds(10));
  onLoop([this] {
    impl_->adapter.reset();
    return 0;
  });
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

void EmbeddedWorld::restartAdapter(const std::string& during, bool graceful) {
  // A restart armed earlier and not yet landed is dropped.
  onLoop([this] {
    impl_->cutNukiCall = false;
    impl_->receiver->cutNext({});
    return 0;
  });
  {
    std::lock_guard lock(impl_->mu);
    impl_->restart = Restart{};
  }
  if (during.empty()) {
    // Between steps nothing is in flight: a plain kill and start, at the same instant.
    const uint64_t after = journalNext();
    if (graceful)
      stopAdapter();
    else
      killAdapter();
    startAdapter();
    const Time at = now();
    std::lock_guard lock(impl_->mu);
    impl_->restart.done = true;
    impl_->restart.at = at;
    impl_->restart.afterSeq = after;
    return;
  }
  onLoop([this, during] {
    auto& J = *impl_;
    if (during == "nextNukiCall") {
      J.cutNukiCall = true;
    } else {
      J.receiver->cutNext([this](std::function<void()> answer) {
        auto& K = *impl_;
        K.landRestart(WorkGuard(&K.clock.work()), std::move(answer));
      });
    }
    return 0;
  });
}

EmbeddedWorld::Restart EmbeddedWorld::lastRestart() {
  std::lock_guard lock(impl_->mu);
  return impl_->restart;
}

std::vector<sim::JournalEntry> EmbeddedWorld::journal(uint64_t since) {
  return onLoop([this, since] {
    std::vector<sim::JournalEntry> out;
    for (const auto& e : impl_->sim->simulator().journal().entries())
      if (e.seq >= since) out.push_back(e);
    return out;
  });
}

uint64_t EmbeddedWorld::journalNext() {
  return onLoop([this] { return impl_->sim->simulator().journal().nextSeq(); });
}

std::vector<std::pair<std::string, std::string>> EmbeddedWorld::outboxPending(
    const std::string& deviceId) {
  return onLoop([this, &deviceId] {
    std::vector<std::pair<std::string, std::string>> out;
    if (impl_->adapter) out = impl_->adapter->outbox().pendingOf(deviceId);
    return out;
  });
}

std::vector<RecordedWebhook> EmbeddedWorld::webhookAttempts() {
  return impl_->receiver->attempts();
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
