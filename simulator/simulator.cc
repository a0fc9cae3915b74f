#include "simulator/simulator.h"

#include <charconv>
#include <chrono>

#include "runtime/crypto.h"
#include "runtime/log.h"
#include "simulator/nuki_json.h"
#include "simulator/routes.h"

namespace nukihil::sim {

std::optional<uint64_t> parseId(std::string_view text) {
  uint64_t v = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

http::Response nukiJson(int status, std::string body) {
  return http::Response::json(status, std::move(body));
}

http::Response nukiError(const Error& e) {
  switch (e.status) {
    case 422:
      return nukiJson(422, wire::restletStatus(422));
    case 423:
      return nukiJson(423, wire::lockedBody());
    default:
      return nukiJson(e.status, wire::detailMessage(e.message));
  }
}

http::Response controlJson(int status, const nlohmann::json& body) {
  // Error messages echo what the client sent: invalid UTF-8 is replaced, not a 500.
  return http::Response::json(status,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response controlError(int status, std::string_view code, std::string_view message) {
  nlohmann::json j;
  j["error"]["code"] = code;
  j["error"]["message"] = message;
  return controlJson(status, j);
}

http::Response controlError(const Error& e) {
  std::string code = e.code;
  if (code.empty() || code == "BAD_PARAMETER") code = e.status == 400 ? "BAD_REQUEST" : e.code;
  return controlError(e.status, code, e.message);
}

namespace {
bool isControlPath(std::string_view target) {
  return target.rfind("/sim/", 0) == 0;
}

// The control plane's and the dashboard's answer when no route takes the request: 404 for an
// unknown path (`what` says whose), 405 with Allow for a known path and another method.
std::optional<http::Response> unrouted(const http::Router::Match& m, std::string_view what) {
  if (!m.pathKnown) return controlError(404, "NOT_FOUND", "no such " + std::string(what) + " path");
  if (m.handler) return std::nullopt;
  auto r = controlError(405, "METHOD_NOT_ALLOWED", "allowed: " + m.allow);
  r.headers.emplace_back("Allow", m.allow);
  return r;
}
}  // namespace

Simulator::Simulator(Clock& clock, http::Transport* client, SimulatorOptions options)
    : clock_(clock),
      options_(std::move(options)),
      random_(options_.seed),
      journal_(options_.journalLimit),
      scheduler_(clock,
                 [this](const Event& e) {
                   if (e.kind == EventKind::kWebhookSend)
                     webhooks_.send(e);
                   else
                     world_.dispatch(e);
                 }),
      world_(clock, scheduler_, random_, World::Options{options_.maxLogsPerLock}),
      webhooks_(world_, scheduler_, random_, journal_, client, options_.webhooks),
      impl_(std::make_unique<Impl>()) {
  // The admin token does not come from the world's generator, so that the same seed gives
  // the same world whether or not a token was chosen on the command line.
  adminToken_ = options_.adminToken;
  if (adminToken_.empty()) {
    Random tokenRandom(options_.seed ^ 0x5eed'ad31'0000'0000ULL);
    adminToken_ = tokenRandom.hex(32);
  }
  world_.defaults = options_.lockDefaults;
  world_.setObserver(&webhooks_);
  addNukiRoutes(*this, impl_->nuki);
  addControlRoutes(*this, impl_->control);
  addUiRoutes(*this, impl_->ui);
}

Simulator::~Simulator() = default;

void Simulator::reset() {
  scheduler_.clear();
  webhooks_.clear();
  faults_.clear();
  journal_.clear();
  random_.reseed(options_.seed);
  world_.wipe(uint32_t(random_.below(1u << 30)));
}

bool Simulator::isAdmin(std::string_view authorization) const {
  return crypto::constantTimeEqual(http::bearerTokenOf(authorization), adminToken_);
}

std::string Simulator::startUiSession() {
  auto& sessions = impl_->uiSessions;
  if (sessions.size() >= 64) sessions.pop_front();
  sessions.push_back(crypto::toHex(crypto::randomBytes(24)));
  return sessions.back();
}

void Simulator::endUiSession(std::string_view cookieHeader) {
  for (std::string_view id : uiSessionsOf(cookieHeader))
    std::erase_if(impl_->uiSessions,
                  [id](const std::string& s) { return crypto::constantTimeEqual(s, id); });
}

bool Simulator::uiSignedIn(std::string_view cookieHeader) const {
  if (!options_.ui) return false;
  bool found = false;
  for (std::string_view id : uiSessionsOf(cookieHeader))
    for (const auto& s : impl_->uiSessions)
      found |= crypto::constantTimeEqual(s, id);
  return found;
}

http::Admission Simulator::admit(const http::RequestHead& head) const {
  http::Admission a;
  a.bodyLimit = options_.apiBodyLimit;
  if (!isControlPath(head.target)) return a;
  if (isUiPath(head.target)) {
    a.bodyLimit = 4096;  // a sign-in
    return a;
  }
  if (!isAdmin(head.authorization) && !uiSignedIn(head.cookie)) {
    a.reject = controlError(401, "UNAUTHORIZED", "the control plane needs the admin token");
    return a;
  }
  a.bodyLimit = head.target.rfind("/sim/v1/snapshot", 0) == 0
                    ? options_.snapshotBodyLimit
                    : size_t(16) << 20;  // fleet files and batches
  return a;
}

http::Response Simulator::transportError(int status, std::string_view target,
                                         std::string_view why) const {
  if (isControlPath(target)) {
    return controlError(status, status == 413 ? "BODY_TOO_LARGE" : "BAD_REQUEST", std::string(why));
  }
  if (status == 413) return nukiJson(413, wire::detailMessage("Request entity too large"));
  return nukiJson(status, wire::detailMessage("Bad request: " + std::string(why)));
}

void Simulator::handle(http::Request& req, http::Respond respond) {
  // One bad request must never take the simulator down: anything a handler throws is a 500.
  auto answered = std::make_shared<bool>(false);
  http::Respond once = [respond, answered](http::Response r) {
    *answered = true;
    respond(std::move(r));
  };
  try {
    dispatch(req, once);
  } catch (const std::exception& e) {
    log::error(std::string("internal error on ") + req.method + " " + std::string(req.path()) +
               ": " + e.what());
    if (!*answered) once(nukiJson(500, wire::restletStatus(500)));
  }
}

void Simulator::dispatch(http::Request& req, http::Respond respond) {
  if (isUiPath(req.target)) {
    if (!options_.ui)
      return respond(
          controlError(404, "NOT_FOUND", "the dashboard is off: start nukisim with --ui"));
    auto m = impl_->ui.match(req);
    if (auto refused = unrouted(m, "dashboard")) return respond(std::move(*refused));
    return (*m.handler)(req, std::move(respond));
  }
  if (isControlPath(req.target)) {
    auto m = impl_->control.match(req);
    if (auto refused = unrouted(m, "control-plane")) return respond(std::move(*refused));
    // In constant time (isAdmin): how long a refusal takes must not tell how much of a guess
    // was right. The dashboard's cookie stands for the token only on the page's own calls.
    const bool page = req.header("X-Nukisim-UI") && uiSignedIn(req.header("Cookie").value_or(""));
    if (!isAdmin(req.authorization) && !page)
      return respond(controlError(401, "UNAUTHORIZED", "the control plane needs the admin token"));
    return (*m.handler)(req, std::move(respond));
  }

  // The Nuki API. Every request is journaled with its answer, also those refused before a
  // handler runs (404 unknown path, 405, 401).
  auto entry = std::make_shared<JournalEntry>();
  entry->atMs = millisOf(clock_.now());
  entry->kind = JournalEntry::kApi;
  entry->method = req.method;
  entry->path = http::printableTarget(req.target);  // raw bytes need not be UTF-8
  if (auto id = req.header("X-Request-ID"))
    entry->requestId = http::printableTarget(id->substr(0, 256));
  auto journaled = [this, entry, respond = std::move(respond)](http::Response r) {
    entry->status = r.delivery == http::Delivery::kNormal ? r.status : 0;
    if (r.delivery != http::Delivery::kNormal) entry->error = "connection reset (fault)";
    journal_.append(std::move(*entry));
    respond(std::move(r));
  };

  const std::string path(req.path());
  auto m = impl_->nuki.match(req);
  if (!m.pathKnown) return journaled(nukiJson(404, wire::detailMessage("Not found")));
  if (!m.handler) {
    auto r = nukiJson(405, wire::detailMessage("Method not allowed"));
    r.headers.emplace_back("Allow", m.allow);
    return journaled(std::move(r));
  }
  auto account = world_.accountByToken(req.bearerToken());
  if (!account)
    return journaled(nukiJson(401, wire::detailMessage("Your access token is not authorized")));
  req.context = *account;

  Fault* fault = faults_.pick(req.method, path, clock_.now(), random_);
  if (fault) entry->fault = nlohmann::json(Faults::toJson(*fault)).dump();

  if (fault) {
    switch (fault->effect) {
      case Fault::kReset: {
        http::Response r;
        r.delivery = http::Delivery::kResetBeforeHandling;
        return journaled(std::move(r));
      }
      case Fault::kStatus: {
        auto r = nukiJson(fault->status, wire::restletStatus(fault->status));
        if (fault->retryAfter() >= 0)
          r.headers.emplace_back("Retry-After", std::to_string(fault->retryAfter()));
        return journaled(std::move(r));
      }
      case Fault::kResetAfter: {
        auto handler = *m.handler;
        return handler(req, [journaled = std::move(journaled)](http::Response r) mutable {
          r.delivery = http::Delivery::kResetAfterHandling;
          journaled(std::move(r));
        });
      }
      case Fault::kLatency: {
        // The handler runs now (the world sees the request at this virtual instant); the
        // answer leaves after the latency, in real time.
        const auto delay = std::chrono::milliseconds(fault->latencyMs);
        auto handler = *m.handler;
        return handler(
            req, [this, delay, journaled = std::move(journaled)](http::Response r) mutable {
              if (!options_.realDelay) return journaled(std::move(r));
              auto guard = std::make_shared<WorkGuard>(&clock_.work());
              options_.realDelay(
                  delay, [guard, journaled = std::move(journaled), r = std::move(r)]() mutable {
                    journaled(std::move(r));
                    guard->reset();
                  });
            });
      }
    }
  }
  (*m.handler)(req, std::move(journaled));
}

}  // namespace nukihil::sim
