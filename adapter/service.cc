#include "adapter/service.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "adapter/northbound.h"
#include "adapter/sqlite.h"
#include "adapter/webhook_sink.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/log.h"

namespace nukihil::adapter {

namespace asio = boost::asio;
using Step = ServiceError::Step;

struct Service::Impl {
  Impl(asio::io_context& i, ServiceOptions o) : io(i), options(std::move(o)) {}

  asio::io_context& io;
  ServiceOptions options;
  // Declared in the order they are built, so they are destroyed the other way round: the
  // Outbox before the Db and the HttpClient, the Adapter before what it uses.
  std::unique_ptr<http::HttpClient> client;
  std::unique_ptr<Db> db;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<OutboxSink> sink;
  std::unique_ptr<NukiClient> nuki;
  std::unique_ptr<Adapter> adapter;
  // Shared only so that the server's handler can hold it weakly: a connection that outlives
  // kill() or the Service finds the API gone instead of dangling.
  std::shared_ptr<Northbound> northbound;
  std::unique_ptr<http::HttpServer> server;
  bool stopped = false;
  bool killed = false;
};

namespace {

void checkUrl(const std::string& url, const std::string& what) {
  if (!http::Url::parse(url))
    throw ServiceError(Step::kOptions, what + " is not an http(s) URL: " + url, url);
}

}  // namespace

Service::Service(asio::io_context& io, Clock& clock, Random& random, ServiceOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {
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
  I.nuki = std::make_unique<NukiClient>(*I.client, clock, random, o.nuki);

  o.adapter.publicUrl = o.publicUrl;  // with ownPublicUrl: set in start(), once it listens
  o.adapter.pollInterval = o.pollInterval;
  if (o.groupCommit)
    o.adapter.post = [&io](std::function<void()> f) { asio::post(io, std::move(f)); };
  try {
    I.adapter = std::make_unique<Adapter>(*I.db, clock, *I.nuki, *I.sink, random, o.adapter);
  } catch (const std::exception& e) {
    throw ServiceError(Step::kSavedState,
                       "cannot load the saved state from " + o.dbPath + ": " + e.what(), e.what());
  }
  I.northbound = std::make_shared<Northbound>(*I.adapter, *I.outbox, *I.nuki, o.apiKey);

  http::ServerOptions so;
  so.address = o.address;
  so.port = o.port;
  so.serverName = o.serverName;
  so.bodyLimit = o.bodyLimit;
  so.idleTimeout = o.idleTimeout;
  so.errorResponse = [](int status, std::string_view, std::string_view why) {
    return Northbound::transportError(status, why);
  };
  const std::weak_ptr<Northbound> weak = I.northbound;
  I.server = std::make_unique<http::HttpServer>(
      io, so, [weak, verbose = o.verbose](http::Request& req, http::Respond respond) {
        auto api = weak.lock();
        if (!api) {
          http::Response gone = http::Response::empty(503);
          gone.delivery = http::Delivery::kResetBeforeHandling;
          return respond(std::move(gone));
        }
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
  if (!I.stopped && !I.killed) I.server->stop();
  // The members go in reverse order of declaration (see Impl).
}

void Service::start(std::function<void(const std::string& error)> ready) {
  auto& I = *impl_;
  I.server->start();
  if (I.options.ownPublicUrl) I.adapter->setPublicUrl(url());
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

void Service::kill() {
  auto& I = *impl_;
  if (I.killed) return;
  I.killed = true;
  I.server->stop();
  I.northbound.reset();
  I.adapter.reset();
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

const ServiceOptions& Service::options() const {
  return impl_->options;
}

}  // namespace nukihil::adapter
