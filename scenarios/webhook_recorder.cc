#include "scenarios/webhook_recorder.h"

#include <cstdlib>
#include <map>

#include "runtime/crypto.h"
#include "runtime/http_server.h"

namespace nukihil::scenarios {

std::string RecordedWebhook::deviceId() const {
  if (!body.is_object() || !body.contains("content") || !body["content"].is_object()) return {};
  const auto& c = body["content"];
  return c.contains("deviceId") && c["deviceId"].is_string() ? c["deviceId"].get<std::string>()
                                                             : std::string();
}

bool RecordedWebhook::wellFormed(std::string& why) const {
  if (!body.is_object()) {
    why = "the body is not a JSON object";
    return false;
  }
  for (const char* k : {"id", "type", "occurredAt"}) {
    if (!body.contains(k) || !body[k].is_string()) {
      why = std::string("the envelope has no string \"") + k + "\"";
      return false;
    }
  }
  if (!parseRfc3339(body["occurredAt"].get<std::string>())) {
    why = "occurredAt is not an RFC 3339 instant";
    return false;
  }
  if (body["id"].get<std::string>() != id) {
    why = "the envelope's id differs from its webhook-id header";
    return false;
  }
  if (!body.contains("content") || !body["content"].is_object() || deviceId().empty()) {
    why = "the envelope has no content with a deviceId";
    return false;
  }
  // The fields of each type (SPEC §5), with their JSON types.
  const auto& c = body["content"];
  auto isText = [&](const char* k) { return c.contains(k) && c[k].is_string(); };
  const std::string t = body["type"].get<std::string>();
  bool ok = true;
  if (t == "deviceEventConfig") {
    ok = c.contains("traits") && c["traits"].is_object();
  } else if (t == "deviceEventQueueAction") {
    ok = isText("actionId") && isText("traitName") && isText("actionName") &&
         c.contains("actionParameters") && c["actionParameters"].is_object();
  } else if (t == "deviceEventUpdateAction") {
    ok = isText("actionId") && isText("status") && (!c.contains("reason") || isText("reason"));
  } else if (t == "deviceEventSetState") {
    ok = isText("traitName") && isText("fieldName") && c.contains("value") &&
         (!c.contains("actionId") || isText("actionId"));
    if (ok && c["fieldName"] == "pinCodeCredentials") {
      ok = c["value"].is_array();
      for (const auto& p : ok ? c["value"] : nlohmann::json::array())
        ok = ok && p.is_object() && p.contains("id") && p["id"].is_string() &&
             p.contains("pinCode") && p["pinCode"].is_string();
    }
  } else {
    why = "the type \"" + t + "\" is none of SPEC §5's";
    return false;
  }
  if (!ok)
    why = "a " + t + " whose content lacks a field SPEC §5 gives it, or has one of the wrong type";
  return ok;
}

std::string checkSignature(const std::string& secret, const std::string& id,
                           const std::string& timestamp, const std::string& signature,
                           const std::string& body, int64_t nowSeconds) {
  if (id.empty()) return "no webhook-id header";
  if (timestamp.empty()) return "no webhook-timestamp header";
  if (signature.empty()) return "no webhook-signature header";
  int64_t ts = 0;
  if (timestamp.size() > 15) return "webhook-timestamp is not a plausible Unix time";
  for (char c : timestamp) {
    if (c < '0' || c > '9') return "webhook-timestamp is not a number";
    ts = ts * 10 + (c - '0');
  }
  if (ts < nowSeconds - 300 || ts > nowSeconds + 300)
    return "webhook-timestamp " + timestamp + " is more than 5 minutes from the clock";
  std::string key = secret.rfind("whsec_", 0) == 0 ? secret.substr(6) : secret;
  auto raw = crypto::base64Decode(key);
  if (!raw) return "the receiver's secret is not base64";
  const std::string expected =
      crypto::base64Encode(crypto::hmacSha256(*raw, id + "." + timestamp + "." + body));
  // Space-separated "v1,<base64>" signatures; any one matching is enough.
  size_t pos = 0;
  while (pos < signature.size()) {
    size_t end = signature.find(' ', pos);
    if (end == std::string::npos) end = signature.size();
    const std::string one = signature.substr(pos, end - pos);
    if (one.rfind("v1,", 0) == 0 && crypto::constantTimeEqual(one.substr(3), expected)) return "";
    pos = end + 1;
  }
  return "webhook-signature does not match the body";
}

Deduplicated deduplicate(const std::vector<RecordedWebhook>& accepted,
                         const std::vector<RecordedWebhook>& attempts) {
  Deduplicated out;
  std::map<std::string, size_t> seen;  // id → index in out.webhooks
  for (const auto& w : accepted) {
    auto it = seen.find(w.id);
    if (it != seen.end()) {
      ++out.duplicates;
      if (out.webhooks[it->second].raw != w.raw)
        out.problems.push_back("webhook-id " + w.id +
                               " was delivered twice with different bytes (R-DELIVERY: a "
                               "repeated id must carry identical bytes)");
      continue;
    }
    seen[w.id] = out.webhooks.size();
    out.webhooks.push_back(w);
  }
  for (const auto& w : accepted) {
    std::string why;
    if (!w.wellFormed(why)) out.problems.push_back("webhook " + w.id + ": " + why);
  }
  for (const auto& w : attempts) {
    if (!w.signatureOk)
      out.problems.push_back("webhook " + (w.id.empty() ? std::string("without id") : w.id) + ": " +
                             w.signatureProblem);
    std::string why;
    if (w.signatureOk && !w.wellFormed(why)) out.problems.push_back("webhook " + w.id + ": " + why);
  }
  return out;
}

WebhookRecorder::WebhookRecorder(boost::asio::io_context& io, std::string secret,
                                 std::function<int64_t()> nowSeconds, uint16_t port,
                                 http::MemoryNetwork* network) {
  if (secret.rfind("whsec_", 0) != 0 || !crypto::base64Decode(secret.substr(6)))
    throw std::invalid_argument("not a whsec_ secret");
  http::ServerOptions o;
  o.bodyLimit = 1 << 20;
  o.port = port;
  o.serverName = "nukihil-recorder";
  o.network = network;
  server_ = std::make_unique<http::HttpServer>(
      io, o,
      [this, secret = std::move(secret), nowSeconds = std::move(nowSeconds)](
          http::Request& req, http::Respond respond) {
        RecordedWebhook w;
        w.id = std::string(req.header("webhook-id").value_or(""));
        const std::string ts(req.header("webhook-timestamp").value_or(""));
        w.timestamp = std::atoll(ts.c_str());
        w.signatureProblem = checkSignature(
            secret, w.id, ts, std::string(req.header("webhook-signature").value_or("")), req.body,
            nowSeconds());
        w.signatureOk = w.signatureProblem.empty();
        w.raw = req.body;
        w.body = nlohmann::json::parse(req.body, nullptr, false);
        Cut cut;
        std::function<void(const RecordedWebhook&)> listener;
        RecordedWebhook heard;  // what the listener gets, copied under the lock
        int status;
        {
          std::lock_guard lock(mu_);
          status = w.signatureOk ? status_ : 401;
          w.answered = status;
          const bool accepted = status >= 200 && status < 300;
          if (accepted && cut_) cut = std::exchange(cut_, {});
          listener = listener_;
          if (listener) heard = w;
          attempts_.push_back(w);
          if (accepted && tamper_) {
            for (auto& t : tamper_(w))
              got_.push_back(std::move(t));
          } else if (accepted) {
            got_.push_back(std::move(w));
          }
        }
        if (listener) listener(heard);
        http::Response r = http::Response::empty(status);
        if (!cut) return respond(std::move(r));
        r.delivery = http::Delivery::kResetAfterHandling;
        cut([respond, r] { respond(r); });
      });
  server_->start();
}

WebhookRecorder::~WebhookRecorder() = default;

uint16_t WebhookRecorder::port() const {
  return server_->port();
}
std::string WebhookRecorder::url() const {
  return "http://127.0.0.1:" + std::to_string(port()) + "/platform";
}
void WebhookRecorder::stop() {
  server_->stop();
}

std::vector<RecordedWebhook> WebhookRecorder::webhooks(size_t from) const {
  std::lock_guard lock(mu_);
  if (from >= got_.size()) return {};
  return std::vector<RecordedWebhook>(got_.begin() + long(from), got_.end());
}

std::vector<RecordedWebhook> WebhookRecorder::attempts() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

size_t WebhookRecorder::count() const {
  std::lock_guard lock(mu_);
  return got_.size();
}

void WebhookRecorder::setStatus(int status) {
  std::lock_guard lock(mu_);
  status_ = status;
}

void WebhookRecorder::clear() {
  std::lock_guard lock(mu_);
  got_.clear();
  attempts_.clear();
}

void WebhookRecorder::setTamper(Tamper t) {
  std::lock_guard lock(mu_);
  tamper_ = std::move(t);
}

void WebhookRecorder::setListener(std::function<void(const RecordedWebhook&)> listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

void WebhookRecorder::cutNext(Cut onCut) {
  std::lock_guard lock(mu_);
  cut_ = std::move(onCut);
}

}  // namespace nukihil::scenarios
