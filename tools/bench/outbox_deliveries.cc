// bench-outbox-deliveries: does the platform-webhook outbox deliver ≥ 5,000 webhooks/s to a
// local receiver over loopback while staying durable (SQLite file database, WAL)?
//
// The outbox (adapter::Outbox on a RealClock, its HttpClient and the event loop on the main
// thread) delivers to a runtime HttpServer on 127.0.0.1 running on a second thread, which
// verifies every Standard Webhooks signature and answers 204.
//
// Modes:
//   backlog (default)  enqueue N webhooks over D devices first (in transactions of --batch),
//                      then start() and time the delivery of the whole backlog;
//   live               start() first, then enqueue while delivering — every enqueue its own
//                      autocommit transaction, --batch of them per turn of the event loop —
//                      and time from the first enqueue until the last delivery.
// Either way the time includes deleting the delivered rows (outbox.flush() at the end).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "adapter/outbox.h"
#include "adapter/sqlite.h"
#include "adapter/standard_webhooks.h"
#include "runtime/clock.h"
#include "runtime/crypto.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/random.h"

using namespace nukihil;
namespace asio = boost::asio;

namespace {

constexpr double kTargetPerSecond = 5000.0;

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int64_t wallSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The receiver, on its own thread and io_context.
class Receiver {
 public:
  explicit Receiver(adapter::WebhookSecret secret) : secret_(std::move(secret)) {
    http::ServerOptions so;
    server_ = std::make_unique<http::HttpServer>(
        io_, so, [this](http::Request& req, http::Respond respond) {
          const auto id = req.header("webhook-id");
          const auto ts = req.header("webhook-timestamp");
          const auto sig = req.header("webhook-signature");
          const auto result = adapter::verifyWebhook(secret_, id.value_or(""), ts.value_or(""),
                                                     sig.value_or(""), req.body, wallSeconds());
          if (result == adapter::VerifyResult::kOk)
            received_.fetch_add(1, std::memory_order_relaxed);
          else
            rejected_.fetch_add(1, std::memory_order_relaxed);
          respond(http::Response::empty(result == adapter::VerifyResult::kOk ? 204 : 400));
        });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    asio::post(io_, [this] { server_->stop([this] { io_.stop(); }); });
    thread_.join();
  }
  uint16_t port() const { return server_->port(); }
  uint64_t received() const { return received_.load(); }
  uint64_t rejected() const { return rejected_.load(); }

 private:
  adapter::WebhookSecret secret_;
  asio::io_context io_;
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> rejected_{0};
};

nlohmann::json contentFor(size_t i) {
  return {{"traitName", "LOCK"},
          {"fieldName", "isLocked"},
          {"value", i % 2 == 0},
          {"actionId", "act_" + std::to_string(i)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Delivers N platform webhooks from the durable outbox (SQLite WAL file) to a local "
      "receiver over loopback and reports deliveries per second (target: 5,000/s)."};
  size_t count = 50000;
  size_t devices = 100;
  size_t batch = 1000;
  size_t maxInFlight = 256;
  std::string mode = "backlog";
  std::string dbPath;
  uint64_t seed = 1;
  app.add_option("--count", count, "webhooks to deliver")->capture_default_str();
  app.add_option("--devices", devices, "devices the webhooks are spread over (round robin)")
      ->capture_default_str();
  app.add_option("--mode", mode,
                 "backlog: enqueue all, then deliver; live: enqueue while delivering")
      ->check(CLI::IsMember({"backlog", "live"}))
      ->capture_default_str();
  app.add_option("--batch", batch,
                 "backlog: enqueues per transaction; live: autocommit enqueues per loop turn")
      ->capture_default_str();
  app.add_option("--max-in-flight", maxInFlight, "Outbox::Options::maxInFlight")
      ->capture_default_str();
  app.add_option("--db", dbPath, "database file (default: a fresh file in the temp directory)");
  app.add_option("--seed", seed, "seed of the outbox's Random")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (count == 0 || devices == 0 || batch == 0) {
    std::fprintf(stderr, "--count, --devices and --batch must be positive\n");
    return 2;
  }

  const bool tempDb = dbPath.empty();
  std::filesystem::path tempDir;
  if (tempDb) {
    tempDir = std::filesystem::temp_directory_path() /
              ("nukihil-bench-outbox-" + std::to_string(::getpid()));
    std::filesystem::remove_all(tempDir);
    std::filesystem::create_directories(tempDir);
    dbPath = (tempDir / "outbox.db").string();
  }

  auto secret = adapter::WebhookSecret::parse("whsec_" +
                                              crypto::base64Encode("bench secret, 24+ bytes long"));
  Receiver receiver(*secret);

  asio::io_context io;
  RealClock clock(io);
  Random random(seed);
  http::ClientOptions co;
  co.maxIdlePerOrigin = maxInFlight + 16;
  http::HttpClient client(io, co);

  uint64_t delivered = 0;
  double enqueueSeconds = 0, totalSeconds = 0;
  int64_t rowsLeft = -1;
  {
    adapter::Db db(dbPath);
    adapter::Outbox::Options o;
    o.url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/webhooks";
    o.secret = *secret;
    o.maxInFlight = maxInFlight;
    adapter::Outbox outbox(db, clock, client, random, o);
    std::vector<std::string> deviceIds;
    for (size_t d = 0; d < devices; ++d)
      deviceIds.push_back("lock-" + std::to_string(d));

    std::printf("outbox deliveries: %zu webhooks over %zu devices, mode %s, db %s (WAL)\n", count,
                devices, mode.c_str(), dbPath.c_str());
    std::fflush(stdout);

    std::chrono::steady_clock::time_point t0;
    if (mode == "backlog") {
      const auto e0 = std::chrono::steady_clock::now();
      for (size_t i = 0; i < count;) {
        adapter::Db::Transaction t(db);
        for (size_t k = 0; k < batch && i < count; ++k, ++i)
          outbox.enqueue(deviceIds[i % devices], "deviceEventSetState", contentFor(i));
        t.commit();
      }
      enqueueSeconds = secondsSince(e0);
      t0 = std::chrono::steady_clock::now();
      outbox.start();
    } else {
      outbox.start();
      t0 = std::chrono::steady_clock::now();
      auto next = std::make_shared<size_t>(0);
      auto produce = std::make_shared<std::function<void()>>();
      *produce = [&, next, weak = std::weak_ptr<std::function<void()>>(produce)] {
        const auto e0 = std::chrono::steady_clock::now();
        for (size_t k = 0; k < batch && *next < count; ++k, ++*next)
          outbox.enqueue(deviceIds[*next % devices], "deviceEventSetState", contentFor(*next));
        enqueueSeconds += secondsSince(e0);
        if (*next < count)
          if (auto p = weak.lock()) asio::post(io, *p);
      };
      asio::post(io, *produce);
      while (outbox.deliveredCount() < count)
        io.run_one();
    }
    while (outbox.deliveredCount() < count)
      io.run_one();
    outbox.flush();
    totalSeconds = secondsSince(t0);
    delivered = outbox.deliveredCount();
    adapter::Stmt rows = db.prepare("SELECT COUNT(*) FROM outbox");
    if (rows.step()) rowsLeft = rows.int64(0);
  }
  // Let the receiver count the last answers it sent (they were counted before answering).
  const uint64_t received = receiver.received();
  const uint64_t rejected = receiver.rejected();

  const double perSecond = double(delivered) / totalSeconds;
  if (mode == "backlog")
    std::printf("enqueue:   %zu webhooks in %.3f s (%.0f/s, transactions of %zu)\n", count,
                enqueueSeconds, double(count) / enqueueSeconds, batch);
  else
    std::printf("enqueue:   %zu autocommit enqueues took %.3f s of the run (%.0f/s)\n", count,
                enqueueSeconds, double(count) / enqueueSeconds);
  std::printf("delivery:  %llu delivered in %.3f s = %.0f deliveries/s\n",
              static_cast<unsigned long long>(delivered), totalSeconds, perSecond);
  std::printf("receiver:  %llu verified, %llu rejected; rows left in outbox: %lld\n",
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(rejected),
              static_cast<long long>(rowsLeft));

  if (tempDb) std::filesystem::remove_all(tempDir);

  const bool complete = delivered == count && received >= count && rejected == 0 && rowsLeft == 0;
  const bool pass = complete && perSecond >= kTargetPerSecond;
  if (!complete) std::printf("incomplete: not every webhook arrived verified and was removed\n");
  std::printf("%s: %.0f deliveries/s %s %.0f/s\n", pass ? "PASS" : "FAIL", perSecond,
              perSecond >= kTargetPerSecond ? ">=" : "<", kTargetPerSecond);
  return pass ? 0 : 1;
}
