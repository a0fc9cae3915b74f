// The adapter's northbound API (/v1, SPEC §5/§6): the fuzzer's bytes as the JSON body of trait
// actions, PIN creates/updates/deletes and the other routes, through Northbound::handle with a
// real Adapter and database — only Nuki Web is a fake that accepts everything at once.
// Invariants: no crash or sanitizer report; every answer is JSON and never a 5xx.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "adapter/adapter.h"
#include "adapter/northbound.h"
#include "adapter/nuki_client.h"
#include "adapter/outbox.h"
#include "adapter/sqlite.h"
#include "adapter/webhook_sink.h"
#include "runtime/clock.h"
#include "runtime/http_client.h"
#include "runtime/random.h"

namespace {

using namespace nukihil;
using namespace nukihil::adapter;

NukiResult ok() {
  NukiResult r;
  r.status = 204;
  r.attempts = 1;
  return r;
}

// Nuki Web that accepts every call at once: two online locks, no codes.
class AcceptingNuki : public NukiApi {
 public:
  void listSmartlocks(std::function<void(const NukiResult&, std::vector<NukiLock>)> cb) override {
    std::vector<NukiLock> locks;
    for (uint64_t id : {101u, 102u}) {
      NukiLock l;
      l.smartlockId = id;
      l.accountId = 1;
      l.type = 4;
      l.name = "Lock " + std::to_string(id);
      l.state = 1;
      l.batteryCharge = 80;
      locks.push_back(l);
    }
    cb(ok(), locks);
  }
  void getSmartlock(uint64_t,
                    std::function<void(const NukiResult&, std::optional<NukiLock>)> cb) override {
    cb(ok(), std::nullopt);
  }
  void lockAction(uint64_t, bool, std::function<void(const NukiResult&)> cb) override { cb(ok()); }
  void listAuths(uint64_t,
                 std::function<void(const NukiResult&, std::vector<NukiAuth>)> cb) override {
    cb(ok(), {});
  }
  void createAuth(uint64_t, const NukiAuthFields&,
                  std::function<void(const NukiResult&)> cb) override {
    cb(ok());
  }
  void updateAuth(uint64_t, const std::string&, const NukiAuthFields&,
                  std::function<void(const NukiResult&)> cb) override {
    cb(ok());
  }
  void deleteAuth(uint64_t, const std::string&,
                  std::function<void(const NukiResult&)> cb) override {
    cb(ok());
  }
  void listLogs(uint64_t, int,
                std::function<void(const NukiResult&, std::vector<NukiLog>)> cb) override {
    cb(ok(), {});
  }
  void requestSync(uint64_t, std::function<void(const NukiResult&)> cb) override { cb(ok()); }
  void registerWebhook(const std::string&, const std::vector<std::string>&,
                       std::function<void(const NukiResult&, int64_t, std::string)> cb) override {
    cb(ok(), 1, "c2VjcmV0");
  }
  void listWebhooks(
      std::function<void(const NukiResult&, std::vector<std::pair<int64_t, std::string>>)> cb)
      override {
    cb(ok(), {});
  }
  void deleteWebhook(int64_t, std::function<void(const NukiResult&)> cb) override { cb(ok()); }
};

class DroppingSink : public WebhookSink {
 public:
  std::string enqueue(std::string_view, std::string_view, nlohmann::json) override {
    return "msg_" + std::to_string(++n_);
  }

 private:
  uint64_t n_ = 0;
};

struct World {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("nukihil-fuzz-v1-" + std::to_string(::getpid()) + ".db"))
                         .string();
  boost::asio::io_context io;
  VirtualClock clock;
  Random random{1};
  http::HttpClient client{io};
  AcceptingNuki nuki;
  // The real client, only for what /v1/health reports of Nuki Web (never called here).
  NukiClient healthOf{client, clock, random, [] {
                        NukiClient::Options o;
                        o.baseUrl = "http://127.0.0.1:1";
                        o.token = "fuzz";
                        return o;
                      }()};
  DroppingSink sink;
  std::unique_ptr<Db> db;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<Adapter> adapter;
  std::unique_ptr<Northbound> api;

  World() { open(); }
  void open() {
    api.reset();
    adapter.reset();
    outbox.reset();
    db.reset();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
    db = std::make_unique<Db>(path);
    Outbox::Options oo;
    oo.url = "http://127.0.0.1:1/never";
    oo.secret = *WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    outbox = std::make_unique<Outbox>(*db, clock, client, random, oo);
    adapter = std::make_unique<Adapter>(*db, clock, nuki, sink, random, Adapter::Options{});
    adapter->start();
    api = std::make_unique<Northbound>(*adapter, *outbox, healthOf, "fuzz-api-key-0123456789");
  }
};

constexpr const char* kTargets[] = {
    "/v1/devices/101/actions",
    "/v1/devices/102/actions",
    "/v1/devices/101/pin-codes",
    "/v1/devices",
    "/v1/devices/101",
    "/v1/actions/",
    "/v1/health",
    "/v1/outbox/101",
    "/nuki/webhook",
};
constexpr const char* kMethods[] = {"POST", "GET", "PUT", "DELETE"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  static size_t calls = 0;
  if (size < 2) return 0;
  http::Request req;
  req.method = kMethods[data[0] % 4];
  req.target = kTargets[data[1] % (sizeof kTargets / sizeof kTargets[0])];
  req.authorization = "Bearer fuzz-api-key-0123456789";
  req.contentType = "application/json";
  std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto nul = rest.find('\0');
  if (nul != std::string::npos) {
    req.target += rest.substr(0, nul);  // a suffix: ids, query
    req.body = rest.substr(nul + 1);
  } else {
    req.body = std::move(rest);
  }
  http::Response out;
  out.status = 0;
  world->api->handle(req, [&out](http::Response r) { out = std::move(r); });
  world->io.poll();  // group commits and deferred answers
  if (out.status >= 500 && out.status != 503) std::abort();
  if (out.status != 0 && !out.body.empty() &&
      nlohmann::json::parse(out.body, nullptr, false).is_discarded())
    std::abort();
  if (++calls % 5000 == 0) world->open();  // keep the database small
  return 0;
}
