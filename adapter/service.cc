#include "adapter/service.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "adapter/northbound.h"
#include "adapter/sqlite.h"
#include "adapter/webhook_sink.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/log.h"
#include "runtime/memory_network.h"
#include "runtime/work_tracker.h"

namespace nukihil::adapter {

namespace asio = boost::asio;
using Step = ServiceError::Step;

struct Service::Impl {
  Impl(asio::io_context& i, Clock& c, Random& r, ServiceOptions o)
      : io(i), clock(c), random(r), options(std::move(o)) {}

  // The parts that hold what the database held when they were built: the Nuki client (its
  // calls in flight belong to the adapter), the Adapter and its API. Writable or read-only.
  void buildAdapter(bool writable);
  // The Adapter went out of service because the database refused a write.
  void onStorageFailure(const std::string& why);
  // Replaces the parts of buildAdapter() (after onStorageFailure, or once writes are taken
  // again) with ones loaded from what is durable; false (and no API) if they cannot be loaded.
  bool rebuild(bool writable);
  // The Adapter goes first: its destructor may still commit and run hooks that answer through
  // the API or read `storage`.
  void destroyAdapter() {
    adapter.reset();
    slot->api.reset();
    nuki.reset();
  }
  void probeStorage();

  asio::io_context& io;
  Clock& clock;
  Random& random;
  ServiceOptions options;
  // Declared in the order they are built, so they are destroyed the other way round: the
  // Outbox before the Db and the Transport, the Adapter before what it uses.
  std::unique_ptr<http::Transport> client;
  std::unique_ptr<Db> db;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<OutboxSink> sink;
  std::unique_ptr<NukiClient> nuki;
  std::unique_ptr<Adapter> adapter;
  // The API of the current Adapter, in a slot shared only so that the server's handler can
  // hold it weakly: a connection that outlives kill() or the Service finds the slot gone
  // instead of dangling. The slot is empty while no Adapter could be loaded.
  struct ApiSlot {
    std::shared_ptr<Northbound> api;
  };
  std::shared_ptr<ApiSlot> slot = std::make_shared<ApiSlot>();
  std::unique_ptr<http::HttpServer> server;
  StorageStatus storage;
  Duration probeDelay{};
  std::optional<Time> recoveredAt;  // when writes were last taken again
  Clock::AlarmId probeAlarm = 0;
  std::string publicUrl;  // with ownPublicUrl, once it listens
  bool ownPublicUrlKnown = false;
  bool stopped = false;
  bool killed = false;
  // Tasks posted to `io` find out with it whether the Service is still there.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

namespace {

void checkUrl(const std::string& url, const std::string& what) {
  if (!http::Url::parse(url))
    throw ServiceError(Step::kOptions, what + " is not an http(s) URL: " + url, url);
}

int wholeSeconds(Duration d) {
  return int(std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(d).count()));
}

}  // namespace

void Service::Impl::buildAdapter(bool writable) {
  nuki = std::make_unique<NukiClient>(*client, clock, random, options.nuki);
  Adapter::Options ao = options.adapter;
  ao.readOnly = !writable;
  ao.onStorageFailure = [this](const std::string& why) { onStorageFailure(why); };
  adapter = std::make_unique<Adapter>(*db, clock, *nuki, *sink, random, ao);
  if (ownPublicUrlKnown) adapter->setPublicUrl(publicUrl);
  slot->api = std::make_shared<Northbound>(*adapter, *outbox, *nuki, options.apiKey, &storage);
}

void Service::Impl::onStorageFailure(const std::string& why) {
  // Called from inside the Adapter: it is replaced by a task of its own.
  storage.writable = false;
  storage.lastError = why;
  storage.since = clock.now();
  // A relapse soon after a recovery (a disk with room for the probe but not for a burst) keeps
  // backing off instead of reloading every second.
  const bool relapse = recoveredAt && clock.now() - *recoveredAt < options.storageRetryMax;
  probeDelay = relapse ? std::min(std::max(probeDelay, options.storageRetryFirst) * 2,
                                  options.storageRetryMax)
                       : options.storageRetryFirst;
  storage.nextProbe = clock.now() + probeDelay;
  storage.retryAfterSeconds = wholeSeconds(probeDelay);
  clock.arm(probeAlarm, *storage.nextProbe);
  log::error(
      "adapter: writes are refused with 503 and reads served from what is durable until "
      "the database takes writes again (next try in " +
      std::to_string(wholeSeconds(probeDelay)) + " s)");
  asio::post(io, [this, alive = std::weak_ptr<bool>(alive)] {
    if (!alive.expired() && !killed && !storage.writable) rebuild(false);
  });
}

bool Service::Impl::rebuild(bool writable) {
  destroyAdapter();
  try {
    buildAdapter(writable);
  } catch (const std::exception& e) {
    // The API answers 503 until a later probe loads it.
    destroyAdapter();
    storage.lastError = std::string("cannot load the saved state: ") + e.what();
    log::error("adapter: " + storage.lastError);
    return false;
  }
  if (writable) adapter->start();
  return true;
}

void Service::Impl::probeStorage() {
  if (storage.writable || killed) return;
  // Not yet: the next try, later.
  auto again = [this](const std::string& why) {
    storage.writable = false;
    storage.lastError = why;
    probeDelay = std::min(probeDelay * 2, options.storageRetryMax);
    storage.nextProbe = clock.now() + probeDelay;
    storage.retryAfterSeconds = wholeSeconds(probeDelay);
    clock.arm(probeAlarm, *storage.nextProbe);
    log::warn("adapter: still not writable (" + why + "); next try in " +
              std::to_string(wholeSeconds(probeDelay)) + " s");
  };
  if (const std::string why = Adapter::probeStorage(*db, clock.now()); !why.empty())
    return again(why);
  log::warn("adapter: the database takes writes again; going on from what is durable");
  const std::optional<Time> since = storage.since;
  storage = StorageStatus{};
  if (!rebuild(true)) {
    storage.since = since;
    return again(storage.lastError);  // rebuild() said why
  }
  recoveredAt = clock.now();
}

Service::Service(asio::io_context& io, Clock& clock, Random& random, ServiceOptions options)
    : impl_(std::make_unique<Impl>(io, clock, random, std::move(options))) {
  auto& I = *impl_;
  auto& o = I.options;
  checkUrl(o.nukiUrl, "the Nuki Web URL");
  checkUrl(o.webhookUrl, "the webhook URL");
  if (!o.publicUrl.empty()) checkUrl(o.publicUrl, "the public URL");
  if (o.apiKey.empty()) throw ServiceError(Step::kOptions, "an API key is needed", "");

  try {
    I.db = std::make_unique<Db>(o.dbPath);
  } catch (const DbInUse& e) {
    throw ServiceError(Step::kDatabaseInUse, e.what(), e.what());
  } catch (const std::exception& e) {
    throw ServiceError(Step::kDatabase, "cannot open the database " + o.dbPath + ": " + e.what(),
                       e.what());
  }

  http::ClientOptions co;
  co.caFile = o.caFile;
  co.userAgent = o.userAgent;
  if (clock.isVirtual()) co.tracker = &clock.work();
  try {
    if (o.network)
      I.client = std::make_unique<http::MemoryTransport>(io, *o.network, co);
    else
      I.client = std::make_unique<http::HttpClient>(io, co);
  } catch (const std::exception& e) {
    throw ServiceError(Step::kHttpClient,
                       "TLS setup failed" +
                           (o.caFile.empty() ? "" : " (CA file " + o.caFile + ")") + ": " +
                           e.what(),
                       e.what());
  }

  o.outbox.url = o.webhookUrl;
  o.outbox.secret = o.webhookSecret;
  try {
    I.outbox = std::make_unique<Outbox>(*I.db, clock, *I.client, random, o.outbox);
  } catch (const std::exception& e) {
    throw ServiceError(Step::kOutbox, "cannot set up the outbox in " + o.dbPath + ": " + e.what(),
                       e.what());
  }
  I.sink = std::make_unique<OutboxSink>(*I.outbox);

  o.nuki.baseUrl = o.nukiUrl;
  o.nuki.token = o.nukiToken;
  o.adapter.publicUrl = o.publicUrl;  // with ownPublicUrl: set in start(), once it listens
  o.adapter.pollInterval = o.pollInterval;
  if (o.groupCommit) {
    // A queued commit is work in flight: a virtual clock must not call the world quiet (and
    // move on, or let a driver read it) before the commit and what it releases have run.
    WorkTracker* tracker = clock.isVirtual() ? &clock.work() : nullptr;
    o.adapter.post = [&io, tracker](std::function<void()> f) {
      asio::post(io, [f = std::move(f), held = std::make_shared<WorkGuard>(tracker)] { f(); });
    };
  }
  try {
    I.buildAdapter(/*writable=*/true);
  } catch (const std::exception& e) {
    throw ServiceError(Step::kSavedState,
                       "cannot load the saved state from " + o.dbPath + ": " + e.what(), e.what());
  }
  I.probeAlarm = clock.addAlarm([&I] { I.probeStorage(); });

  http::ServerOptions so;
  so.address = o.address;
  so.port = o.port;
  so.serverName = o.serverName;
  so.bodyLimit = o.bodyLimit;
  so.idleTimeout = o.idleTimeout;
  so.network = o.network;
  so.errorResponse = [](int status, std::string_view, std::string_view why) {
    return Northbound::transportError(status, why);
  };
  const std::weak_ptr<Impl::ApiSlot> weak = I.slot;
  I.server = std::make_unique<http::HttpServer>(
      io, so, [weak, verbose = o.verbose](http::Request& req, http::Respond respond) {
        auto slot = weak.lock();
        if (!slot) {
          http::Response gone = http::Response::empty(503);
          gone.delivery = http::Delivery::kResetBeforeHandling;
          return respond(std::move(gone));
        }
        // Hold the API for this request: a rebuild may replace the slot's meanwhile.
        auto api = slot->api;
        if (!api)
          return respond(Northbound::unavailable(
              "the adapter's saved state cannot be loaded now; GET /v1/health is not served "
              "either, try again later"));
        if (verbose) {
          respond = [respond, line = req.method + " " + std::string(req.path())](http::Response r) {
            log::info(line + " -> " + std::to_string(r.status));
            respond(std::move(r));
          };
        }
        api->handle(req, std::move(respond));
      });
}

Service::~Service() {
  auto& I = *impl_;
  I.clock.removeAlarm(I.probeAlarm);
  if (!I.stopped && !I.killed) I.server->stop();
  if (!I.killed) I.destroyAdapter();
  // The members go in reverse order of declaration (see Impl).
}

void Service::start(std::function<void(const std::string& error)> ready) {
  auto& I = *impl_;
  I.server->start();
  if (I.options.ownPublicUrl) {
    I.publicUrl = url();
    I.ownPublicUrlKnown = true;
    I.adapter->setPublicUrl(I.publicUrl);
  }
  I.outbox->start();
  I.adapter->start(std::move(ready));
}

uint16_t Service::port() const {
  return impl_->server->port();
}

size_t Service::connectionCount() const {
  return impl_->server ? impl_->server->connectionCount() : 0;
}

std::string Service::url() const {
  return "http://" + impl_->options.address + ":" + std::to_string(port());
}

void Service::stop(std::function<void()> done) {
  impl_->stopped = true;
  impl_->server->stop(std::move(done));
}

void Service::freeze() {
  auto& I = *impl_;
  if (I.killed) return;
  if (I.client) I.client->abandon();
  I.server->stop();
}

void Service::whenAnswered(std::function<void()> f) {
  impl_->server->whenAnswered(std::move(f));
}

void Service::kill() {
  auto& I = *impl_;
  if (I.killed) return;
  I.killed = true;
  I.clock.removeAlarm(I.probeAlarm);
  I.probeAlarm = 0;
  I.server->stop();
  I.destroyAdapter();
  I.slot.reset();
  I.nuki.reset();
  I.sink.reset();
  I.outbox.reset();
  I.db.reset();
  I.client.reset();
}

Adapter& Service::adapter() {
  return *impl_->adapter;
}

Outbox& Service::outbox() {
  return *impl_->outbox;
}

Db& Service::database() {
  return *impl_->db;
}

const ServiceOptions& Service::options() const {
  return impl_->options;
}

}  // namespace nukihil::adapter
