#include "scenarios/webhook_recorder.h"

#include <cstdlib>

#include "adapter/standard_webhooks.h"
#include "runtime/http_server.h"

namespace nukihil::scenarios {

std::string RecordedWebhook::deviceId() const {
  if (!body.is_object() || !body.contains("content") || !body["content"].is_object()) return {};
  return body["content"].value("deviceId", "");
}

WebhookRecorder::WebhookRecorder(boost::asio::io_context& io, std::string secret,
                                 std::function<int64_t()> nowSeconds) {
  auto key = adapter::WebhookSecret::parse(secret);
  if (!key) throw std::invalid_argument("not a whsec_ secret");
  http::ServerOptions o;
  o.bodyLimit = 1 << 20;
  server_ = std::make_unique<http::HttpServer>(
      io, o,
      [this, key = *key, nowSeconds = std::move(nowSeconds)](http::Request& req,
                                                             http::Respond respond) {
        RecordedWebhook w;
        w.id = std::string(req.header("webhook-id").value_or(""));
        const std::string ts(req.header("webhook-timestamp").value_or("0"));
        w.timestamp = std::atoll(ts.c_str());
        w.signatureOk =
            adapter::verifyWebhook(key, w.id, ts, req.header("webhook-signature").value_or(""),
                                   req.body, nowSeconds()) == adapter::VerifyResult::kOk;
        w.body = nlohmann::json::parse(req.body, nullptr, false);
        int status;
        {
          std::lock_guard lock(mu_);
          status = status_;
          if (status >= 200 && status < 300) got_.push_back(std::move(w));
        }
        respond(http::Response::empty(status));
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
}

}  // namespace nukihil::scenarios
