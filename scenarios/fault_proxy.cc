#include "scenarios/fault_proxy.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/random.h"
#include "runtime/time.h"
#include "scenarios/step_calls.h"
#include "simulator/faults.h"
#include "simulator/nuki_json.h"

namespace nukihil::scenarios {

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Fields that belong to one hop (RFC 9110 §7.6.1) or that the client and server write
// themselves; every other field passes through both ways.
bool hopByHop(const std::string& name) {
  static const char* const kFields[] = {"connection",
                                        "keep-alive",
                                        "proxy-connection",
                                        "te",
                                        "trailer",
                                        "transfer-encoding",
                                        "upgrade",
                                        "host",
                                        "content-length",
                                        "content-type",
                                        "expect",
                                        "proxy-authorization",
                                        "proxy-authenticate",
                                        "server",
                                        "date"};
  const std::string n = lower(name);
  return std::any_of(std::begin(kFields), std::end(kFields), [&](const char* f) { return n == f; });
}

// GET /smartlock/{digits}/auth: a code list, kept for the oracle.
bool isCodeList(const std::string& method, const std::string& path) {
  const std::string id = smartlockIdOf(path);
  return method == "GET" && !id.empty() && path == "/smartlock/" + id + "/auth";
}

}  // namespace

// Callbacks hold a plain pointer: the thread that runs them is joined before Impl goes.
struct FaultProxy::Impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<http::HttpServer> server;
  std::unique_ptr<http::HttpClient> client;
  std::thread thread;
  std::string upstream;  // without a trailing slash
  uint16_t port = 0;

  mutable std::mutex mu;  // faults, random, calls, nextSeq
  sim::Faults faults;
  Random random{0x6661756c74};  // the draws of a fault's `probability`
  std::vector<ProxiedCall> calls;
  uint64_t nextSeq = 1;
  std::multiset<int64_t> inFlight;  // arrival instants of the requests not yet answered

  void record(ProxiedCall c) {
    std::lock_guard lock(mu);
    inFlight.erase(inFlight.find(c.atMs));
    c.seq = nextSeq++;
    calls.push_back(std::move(c));
  }

  void handle(http::Request& req, http::Respond respond) {
    ProxiedCall entry;
    entry.atMs = nowMs();
    entry.method = req.method;
    entry.target = http::printableTarget(req.target);
    if (auto id = req.header("X-Request-ID")) entry.requestId = http::printableTarget(*id);
    const std::string path(req.path());
    std::optional<sim::Fault> fault;
    {
      std::lock_guard lock(mu);
      inFlight.insert(entry.atMs);
      if (sim::Fault* f = faults.pick(req.method, path, timeFromMillis(entry.atMs), random)) {
        fault = *f;
        entry.fault = sim::Faults::toJson(*f).dump();
      }
    }
    Impl* self = this;
    auto finish = [self, entry, respond](http::Response r) mutable {
      entry.status = r.delivery == http::Delivery::kNormal ? r.status : 0;
      self->record(std::move(entry));
      respond(std::move(r));
    };
    if (fault) {
      switch (fault->effect) {
        case sim::Fault::kReset: {
          http::Response r;
          r.delivery = http::Delivery::kResetBeforeHandling;
          return finish(std::move(r));
        }
        case sim::Fault::kStatus: {
          auto r = http::Response::json(fault->status, sim::wire::restletStatus(fault->status));
          if (fault->retryAfter() >= 0)
            r.headers.emplace_back("Retry-After", std::to_string(fault->retryAfter()));
          return finish(std::move(r));
        }
        case sim::Fault::kResetAfter:
          return forward(req, std::move(entry), http::Delivery::kResetAfterHandling,
                         std::move(respond));
        case sim::Fault::kLatency: {
          auto timer = std::make_shared<boost::asio::steady_timer>(
              io, std::chrono::milliseconds(fault->latencyMs));
          timer->async_wait(
              [self, timer, req, entry = std::move(entry),
               respond = std::move(respond)](const boost::system::error_code&) mutable {
                self->forward(req, std::move(entry), http::Delivery::kNormal, std::move(respond));
              });
          return;
        }
      }
    }
    forward(req, std::move(entry), http::Delivery::kNormal, std::move(respond));
  }

  void forward(const http::Request& req, ProxiedCall entry, http::Delivery delivery,
               http::Respond respond) {
    http::ClientRequest out;
    out.method = req.method;
    out.url = upstream + req.target;
    out.body = req.body;
    out.contentType = req.contentType;
    for (const auto& [k, v] : req.headers)
      if (!hopByHop(k)) out.headers.emplace_back(k, v);
    out.timeout = std::chrono::seconds(60);
    const bool keep = isCodeList(req.method, std::string(req.path()));
    Impl* self = this;
    client->send(std::move(out), [self, entry = std::move(entry), delivery, keep,
                                  respond = std::move(respond)](http::ClientResponse in) mutable {
      http::Response r;
      if (!in.ok()) {
        entry.error = in.error;
        r = http::Response::json(
            502, sim::wire::detailMessage("the fault proxy could not reach Nuki Web: " + in.error));
      } else {
        r.status = in.status;
        r.body = in.body;
        r.contentType.clear();
        for (const auto& [k, v] : in.headers) {
          if (lower(k) == "content-type") r.contentType = v;
          if (!hopByHop(k)) r.headers.emplace_back(k, v);
        }
        if (keep && in.status == 200) {
          auto j = nlohmann::json::parse(in.body, nullptr, false);
          if (!j.is_discarded()) entry.body = std::move(j);
        }
      }
      r.delivery = delivery;
      entry.status = delivery == http::Delivery::kNormal ? r.status : 0;
      self->record(std::move(entry));
      respond(std::move(r));
    });
  }
};

FaultProxy::FaultProxy(std::string upstream, http::ClientOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (!http::Url::parse(upstream)) throw std::invalid_argument("not an http(s) URL: " + upstream);
  while (!upstream.empty() && upstream.back() == '/')
    upstream.pop_back();
  impl_->upstream = std::move(upstream);
  impl_->client = std::make_unique<http::HttpClient>(impl_->io, std::move(options));
  http::ServerOptions so;
  so.serverName = "nukihil-fault-proxy";
  impl_->server = std::make_unique<http::HttpServer>(
      impl_->io, so, [impl = impl_.get()](http::Request& req, http::Respond respond) {
        impl->handle(req, std::move(respond));
      });
  impl_->server->start();
  impl_->port = impl_->server->port();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

FaultProxy::~FaultProxy() {
  // Server and client go on their own thread, then the loop ends.
  std::promise<void> gone;
  boost::asio::post(impl_->io, [impl = impl_.get(), &gone] {
    impl->server.reset();
    impl->client->abandon();
    impl->client.reset();
    gone.set_value();
  });
  gone.get_future().wait();
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

std::string FaultProxy::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

std::string FaultProxy::addFault(const nlohmann::json& body) {
  std::string why;
  std::lock_guard lock(impl_->mu);
  if (!impl_->faults.add(body, timeFromMillis(nowMs()), why)) return why.empty() ? "refused" : why;
  return "";
}

void FaultProxy::clearFaults() {
  std::lock_guard lock(impl_->mu);
  impl_->faults.clear();
}

std::optional<int64_t> FaultProxy::oldestInFlightMs() const {
  std::lock_guard lock(impl_->mu);
  if (impl_->inFlight.empty()) return std::nullopt;
  return *impl_->inFlight.begin();
}

std::vector<ProxiedCall> FaultProxy::journal(uint64_t since) const {
  std::lock_guard lock(impl_->mu);
  std::vector<ProxiedCall> out;
  for (const auto& c : impl_->calls)
    if (c.seq >= since) out.push_back(c);
  return out;
}

}  // namespace nukihil::scenarios
