#include "adapter/northbound.h"

#include <nlohmann/json.hpp>

#include "runtime/crypto.h"
#include "runtime/log.h"

namespace nukihil::adapter {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

Response jsonResponse(int status, const json& body) {
  // Error messages echo what the client sent: invalid UTF-8 is replaced, not a 500.
  return Response::json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

// SPEC's error shape {"error":{"code","message"}}, with "field" (the JSON path in the request
// body) where one field is at fault.
Response error(int status, std::string_view code, std::string_view message,
               std::string_view field = {}) {
  json e{{"code", code}, {"message", message}};
  if (!field.empty()) e["field"] = field;
  return jsonResponse(status, {{"error", std::move(e)}});
}

}  // namespace

http::Response Northbound::transportError(int status, std::string_view why) {
  return error(status, status == 413 ? "BODY_TOO_LARGE" : "BAD_REQUEST", why);
}

http::Response Northbound::storageUnavailable() const {
  std::string message = "the adapter's database refuses writes";
  if (storage_ && !storage_->lastError.empty()) message += " (" + storage_->lastError + ")";
  message +=
      "; nothing was accepted. Reads are served; writes are taken again once the "
      "database accepts them (GET /v1/health tells)";
  Response r = error(503, "STORAGE_UNAVAILABLE", message);
  r.headers.emplace_back("Retry-After",
                         std::to_string(storage_ ? std::max(1, storage_->retryAfterSeconds) : 1));
  return r;
}

http::Response Northbound::unavailable(std::string_view why) {
  Response r = error(503, "STORAGE_UNAVAILABLE", why);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

json Northbound::health() const {
  json j = adapter_.healthJson();
  json problems = json::array();
  j["outboxPending"] = outbox_.pendingCount();
  j["outboxDelivered"] = outbox_.deliveredCount();

  // Nuki Web: a refused token or no answer.
  const NukiReachability& n = nuki_.reachability();
  json nuki{{"status", n.failing() ? "failing" : "ok"},
            {"consecutiveFailures", n.consecutiveFailures}};
  if (!n.lastError.empty()) nuki["lastError"] = n.lastError;
  if (n.lastErrorAt) nuki["lastErrorAt"] = formatRfc3339(*n.lastErrorAt);
  if (n.failingSince) nuki["failingSince"] = formatRfc3339(*n.failingSince);
  if (n.lastSuccessAt) nuki["lastSuccessAt"] = formatRfc3339(*n.lastSuccessAt);
  if (n.failing())
    problems.push_back("Nuki Web: " + std::to_string(n.consecutiveFailures) +
                       " failed attempt(s) in a row, the last: " + n.lastError);
  j["nukiWeb"] = std::move(nuki);

  // Platform webhooks: streams whose head failed (and has not been delivered since), parked
  // ones included. The one failing longest speaks for them.
  size_t parked = 0, failing = 0;
  const Outbox::StreamStatus* oldest = nullptr;
  const auto streams = outbox_.status();
  for (const auto& s : streams) {
    parked += s.parked;
    if (s.attempts == 0 && !s.parked) continue;
    ++failing;
    if (!oldest ||
        (s.failingSince && (!oldest->failingSince || *s.failingSince < *oldest->failingSince)))
      oldest = &s;
  }
  j["outboxParkedStreams"] = parked;
  json hooks{{"status", failing ? "failing" : "ok"},
             {"failingStreams", failing},
             {"parkedStreams", parked}};
  if (oldest) {
    hooks["lastError"] = oldest->lastError;
    hooks["deviceId"] = oldest->deviceId;
    if (oldest->failingSince) hooks["failingSince"] = formatRfc3339(*oldest->failingSince);
    problems.push_back("platform webhooks: " + std::to_string(failing) +
                       " device stream(s) failing (" + std::to_string(parked) +
                       " parked), device " + oldest->deviceId + ": " + oldest->lastError);
  }
  j["webhooks"] = std::move(hooks);

  // The database: writes refused (disk full, I/O errors).
  json storage{{"status", "ok"}};
  if (storage_ && !storage_->writable) {
    storage["status"] = "unavailable";
    storage["lastError"] = storage_->lastError;
    if (storage_->since) storage["since"] = formatRfc3339(*storage_->since);
    if (storage_->nextProbe) storage["nextProbe"] = formatRfc3339(*storage_->nextProbe);
    problems.push_back("storage: the database refuses writes" +
                       (storage_->since ? " since " + formatRfc3339(*storage_->since) : "") + " (" +
                       storage_->lastError + "); reads are served, actions are refused with 503");
  }
  j["storage"] = std::move(storage);

  j["status"] = problems.empty() ? "ok" : "degraded";
  j["problems"] = std::move(problems);
  return j;
}

Northbound::Northbound(Adapter& adapter, Outbox& outbox, const NukiClient& nuki, std::string apiKey,
                       const StorageStatus* storage)
    : adapter_(adapter),
      outbox_(outbox),
      nuki_(nuki),
      apiKey_(std::move(apiKey)),
      storage_(storage) {
  auto& r = router_;
  r.add("GET", "/v1/health", [this](const Request&) { return jsonResponse(200, health()); });
  r.add("GET", "/v1/devices",
        [this](const Request&) { return jsonResponse(200, adapter_.devicesJson()); });
  r.add("GET", "/v1/devices/{id}", [this](const Request& req) {
    auto d = adapter_.deviceJson(req.param("id"));
    if (!d) return error(404, "NOT_FOUND", "no device " + req.param("id"));
    return jsonResponse(200, *d);
  });
  r.add("POST", "/v1/devices/{id}/actions", [this](const Request& req) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return error(400, "BAD_REQUEST", "the body is not valid JSON");
    const std::string key(req.header("Idempotency-Key").value_or(""));
    if (key.size() > 255)
      return error(400, "BAD_REQUEST", "Idempotency-Key is longer than 255 characters");
    auto out = adapter_.submit(req.param("id"), body, key);
    if (out.status != 202) return error(out.status, out.code, out.message, out.field);
    json j{{"actionId", out.actionId}};
    if (!out.pinId.empty()) j["pinId"] = out.pinId;
    return jsonResponse(202, j);
  });
  r.add("GET", "/v1/actions/{id}", [this](const Request& req) {
    auto a = adapter_.actionJson(req.param("id"));
    if (!a) return error(404, "NOT_FOUND", "no action " + req.param("id"));
    return jsonResponse(200, *a);
  });
  r.add("GET", "/v1/outbox", [this](const Request&) {
    json streams = json::array();
    for (const auto& s : outbox_.status()) {
      json j{{"deviceId", s.deviceId},
             {"pending", s.pending},
             {"parked", s.parked},
             {"attempts", s.attempts}};
      if (s.nextAttempt) j["nextAttempt"] = formatRfc3339(*s.nextAttempt);
      if (!s.lastError.empty()) j["lastError"] = s.lastError;
      streams.push_back(std::move(j));
    }
    return jsonResponse(200, {{"pending", outbox_.pendingCount()},
                              {"delivered", outbox_.deliveredCount()},
                              {"streams", streams}});
  });
  // One device's stream with its undelivered webhooks, as they will be sent.
  r.add("GET", "/v1/outbox/{deviceId}", [this](const Request& req) {
    const std::string device = req.param("deviceId");
    if (!adapter_.deviceJson(device)) return error(404, "NOT_FOUND", "no device " + device);
    json pending = json::array();
    for (const auto& [id, body] : outbox_.pendingOf(device)) {
      json envelope = json::parse(body, nullptr, false);
      pending.push_back({{"webhookId", id}, {"body", envelope}});
    }
    json j{{"deviceId", device}, {"pending", pending}, {"parked", false}};
    for (const auto& s : outbox_.status())
      if (s.deviceId == device) {
        j["parked"] = s.parked;
        j["attempts"] = s.attempts;
        if (s.nextAttempt) j["nextAttempt"] = formatRfc3339(*s.nextAttempt);
        if (!s.lastError.empty()) j["lastError"] = s.lastError;
      }
    return jsonResponse(200, j);
  });
  r.add("POST", "/v1/outbox/{deviceId}/resume", [this](const Request& req) {
    if (!outbox_.resume(req.param("deviceId")))
      return error(409, "NOT_PARKED", "the stream of " + req.param("deviceId") + " is not parked");
    return jsonResponse(200, {{"resumed", req.param("deviceId")}});
  });
  r.add("POST", "/nuki/webhook", [this](const Request& req) {
    const auto signature = req.header("X-Nuki-Signature-SHA256").value_or("");
    const int status = adapter_.nukiWebhook(req.body, signature);
    if (status == 401) return error(401, "BAD_SIGNATURE", "X-Nuki-Signature-SHA256 does not match");
    if (status == 503) return storageUnavailable();
    if (status == 400) return error(400, "BAD_REQUEST", "not a Nuki webhook body");
    return jsonResponse(200, json::object());
  });
}

void Northbound::handle(Request& req, http::Respond respond) {
  // The key is checked before routing: without it nothing, not even which paths exist, is told.
  if (req.path() != "/nuki/webhook" && !crypto::constantTimeEqual(req.bearerToken(), apiKey_))
    return respond(error(401, "UNAUTHORIZED", "Authorization: Bearer <api-key> required"));
  auto m = router_.match(req);
  if (!m.pathKnown) return respond(error(404, "NOT_FOUND", "no such path"));
  if (!m.handler) {
    auto r = error(405, "METHOD_NOT_ALLOWED", "allowed: " + m.allow);
    r.headers.emplace_back("Allow", m.allow);
    return respond(std::move(r));
  }
  // Every POST writes: none is taken while the database refuses writes.
  if (storage_ && !storage_->writable && req.method == "POST") return respond(storageUnavailable());
  // Answers leave only once what the request wrote is durable (group commit); if the database
  // refuses it, the request is refused as a whole (nothing of it was kept or sent).
  respond = [this, respond](Response r) {
    auto once = std::make_shared<http::Respond>(respond);
    adapter_.afterDurable([once, r = std::move(r)]() mutable {
      if (auto f = std::exchange(*once, nullptr)) f(std::move(r));
    });
    adapter_.afterRollback([this, once] {
      if (auto f = std::exchange(*once, nullptr)) f(storageUnavailable());
    });
  };
  try {
    (*m.handler)(req, respond);
  } catch (const std::exception& e) {
    log::error("adapter: internal error on " + req.method + " " + std::string(req.path()) + ": " +
               e.what());
    respond(error(500, "INTERNAL", "internal error"));
  }
}

}  // namespace nukihil::adapter
