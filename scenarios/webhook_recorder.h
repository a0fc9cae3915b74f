// The platform's side of the adapter's webhooks: an HTTP receiver on loopback that verifies
// every Standard Webhooks signature against a clock (virtual in embedded runs) and records what
// it accepted. What it answers can be changed to play a receiver that is down.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/time.h"

namespace boost::asio {
class io_context;
}
namespace nukihil::http {
class HttpServer;
}

namespace nukihil::scenarios {

struct RecordedWebhook {
  std::string id;            // webhook-id
  int64_t timestamp = 0;     // webhook-timestamp
  bool signatureOk = false;  // webhook-signature verified against the secret and the clock
  nlohmann::json body;
  std::string type() const { return body.value("type", ""); }
  const nlohmann::json& content() const { return body.at("content"); }
  std::string deviceId() const;
};

class WebhookRecorder {
 public:
  // Serves on `io` (127.0.0.1, a free port). `nowSeconds` is the clock signatures are checked
  // against (tolerance 5 minutes). `secret` is the whsec_… the adapter signs with.
  WebhookRecorder(boost::asio::io_context& io, std::string secret,
                  std::function<int64_t()> nowSeconds);
  ~WebhookRecorder();
  WebhookRecorder(const WebhookRecorder&) = delete;
  WebhookRecorder& operator=(const WebhookRecorder&) = delete;

  uint16_t port() const;
  std::string url() const;  // http://127.0.0.1:PORT/platform
  void stop();              // on the io thread

  // Thread-safe.
  std::vector<RecordedWebhook> webhooks(size_t from = 0) const;
  size_t count() const;
  void setStatus(int status);  // what it answers; anything but 2xx records nothing
  void clear();

 private:
  std::unique_ptr<http::HttpServer> server_;
  mutable std::mutex mu_;
  std::vector<RecordedWebhook> got_;
  int status_ = 204;
};

}  // namespace nukihil::scenarios
