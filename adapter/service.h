// nuki-adapter as one assembly: the whole adapter process minus main() — the SQLite database,
// the HTTP client, the platform webhook outbox, the Nuki Web client, the Adapter and its
// northbound API behind the HTTP server, with the adapter's body limit, error shape and server
// name. The nuki-adapter tool and the embedded world both build it through this class, so what
// the tests run is what ships.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "adapter/adapter.h"
#include "adapter/nuki_client.h"
#include "adapter/outbox.h"
#include "adapter/standard_webhooks.h"

namespace boost::asio {
class io_context;
}
namespace nukihil::http {
class MemoryNetwork;
}

namespace nukihil::adapter {

// Why a Service could not be built. what() is the whole message ("cannot open the database
// /tmp/a.db: unable to open database file"); step() names the part that failed and detail()
// its own message, for callers that word it themselves.
class ServiceError : public std::runtime_error {
 public:
  enum class Step {
    kOptions,        // a URL that is not http(s), no API key
    kDatabase,       // the SQLite file cannot be opened
    kDatabaseInUse,  // another adapter owns the database file (its lock file is held)
    kHttpClient,     // TLS set-up, e.g. an unreadable or invalid CA file
    kOutbox,         // the outbox cannot be set up in the database
    kSavedState,     // the adapter's saved state cannot be loaded
  };
  ServiceError(Step step, const std::string& message, std::string detail)
      : std::runtime_error(message), step_(step), detail_(std::move(detail)) {}
  Step step() const { return step_; }
  const std::string& detail() const { return detail_; }

 private:
  Step step_;
  std::string detail_;
};

struct ServiceOptions {
  std::string dbPath;  // created if missing (WAL); one Service per file
  std::string nukiUrl = "https://api.nuki.io";
  std::string nukiToken;   // never logged
  std::string apiKey;      // bearer key clients of /v1 must send; never logged
  std::string webhookUrl;  // the platform's webhook receiver
  WebhookSecret webhookSecret;
  // Where Nuki Web reaches this adapter: at start it registers <publicUrl>/nuki/webhook as its
  // decentral webhook and verifies every delivery. Empty: no Nuki webhooks, polling only —
  // unless `ownPublicUrl` is set, which makes it url(), this service's own address and port
  // once it listens (for a Nuki Web on the same host, such as nukisim on loopback).
  std::string publicUrl;
  bool ownPublicUrl = false;
  Duration pollInterval = std::chrono::seconds(60);
  std::string caFile;  // extra trusted CA bundle (PEM) for https
  std::string userAgent = "nuki-adapter";
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 takes a free port; port() tells which
  std::string serverName = "nuki-adapter";
  size_t bodyLimit = 64 * 1024;
  // How long a kept-alive connection to /v1 or /nuki/webhook may sit idle (real time).
  std::chrono::milliseconds idleTimeout{60000};
  // Group commit (Adapter::Options::post): the writes of a burst of events share one
  // transaction, committed by a task posted on the io_context. Off: `adapter.post` is kept as
  // given (by default unset: every event commits at once).
  bool groupCommit = true;
  // When the database refuses a write (disk full, I/O errors), the Service does not stop: it
  // reloads the adapter read-only from what is durable (reads served, writes answered 503
  // STORAGE_UNAVAILABLE, GET /v1/health "storage" says why) and tries a small write after
  // `storageRetryFirst`, doubling up to `storageRetryMax`; once one is taken it reloads the
  // adapter writable and starts it, as a restart would. On the service's clock.
  Duration storageRetryFirst = std::chrono::seconds(1);
  Duration storageRetryMax = std::chrono::seconds(30);
  bool verbose = false;  // one log::info line per northbound request: "GET /v1/devices -> 200"
  // If set, Nuki Web calls and webhooks go out on this memory network (an http::MemoryTransport
  // instead of an http::HttpClient: no https) and the server listens on it too, besides its
  // TCP port. It must outlive the Service.
  http::MemoryNetwork* network = nullptr;
  // Further settings of the parts. Their fields named above (outbox.url, outbox.secret,
  // nuki.baseUrl, nuki.token, adapter.publicUrl, adapter.pollInterval and, with groupCommit,
  // adapter.post) are set from this struct and need not be filled in.
  Outbox::Options outbox;
  NukiClient::Options nuki;
  Adapter::Options adapter;
};

class Service {
 public:
  // Opens the database and builds everything, nothing listening or sent yet. The HTTP
  // client's requests count as clock.work() when `clock` is virtual (so advancing waits for
  // them). `io`, `clock` and `random` must outlive the Service; everything runs on the thread
  // that runs `io`. Throws ServiceError if a part cannot be built (nothing is left running).
  Service(boost::asio::io_context& io, Clock& clock, Random& random, ServiceOptions options);
  // Stops accepting (if neither stop() nor kill() was called) and destroys the parts in the
  // reverse order of building: server, API, Adapter (which commits a group commit in
  // progress), Nuki client, outbox, database, HTTP client. Destroy it on the io thread, or once
  // `io` no longer runs.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds address:port (throws std::runtime_error, a boost::system::system_error, if it
  // cannot; nothing else has started then), then starts the outbox's deliveries and the
  // adapter: webhook registration, discovery, polling. `ready` runs on the io thread once the
  // first discovery is done, with "" or why it failed (polling goes on and retries either way).
  // Call once.
  void start(std::function<void(const std::string& error)> ready = {});
  // The bound port (0 before start()).
  uint16_t port() const;
  // Connections open to the northbound server now.
  size_t connectionCount() const;
  // "http://<address>:<port>".
  std::string url() const;
  // Graceful: stops accepting and closes idle connections; a request being handled gets its
  // answer first. `done` runs on the io thread once the last connection has closed. The adapter
  // and outbox go on until the Service is destroyed.
  void stop(std::function<void()> done = {});
  // Dead as far as the world can see, at once, where kill() cannot run yet (inside a callback
  // of one of its own exchanges): stops listening and closes idle connections (answers being
  // handled or written still go out, as with stop()), and no answer to its own calls reaches
  // it any more, nor does it send any. Only kill() and destruction may follow.
  void freeze();
  // Runs `f` on the io thread once no northbound request is being handled and no answer is
  // being written (at once if none is): a kill after it loses no answer already decided on.
  void whenAnswered(std::function<void()> f);
  // Like kill -9 as far as a library can: stops listening and destroys every part at once,
  // without waiting for answers or Nuki calls in flight (their answers are ignored; a request
  // being handled gets no answer). The parts' destructors still run, so a group commit in
  // progress is committed and the rows of delivered webhooks are deleted; the rest stays in
  // the database as it was, for the next Service on it. Afterwards only destruction is allowed.
  void kill();

  // The current Adapter. After the database refused a write it is replaced (see
  // storageRetryFirst): do not keep the reference across events.
  Adapter& adapter();
  Outbox& outbox();
  // The service's own connection to its database, the only one there can be (it is opened in
  // exclusive locking mode): for tests and diagnostics, on the io thread.
  Db& database();
  const ServiceOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nukihil::adapter
