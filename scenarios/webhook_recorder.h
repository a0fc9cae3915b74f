// The platform's side of the adapter's webhooks: an HTTP receiver on loopback that checks every
// Standard Webhooks signature (its own implementation, not the adapter's: a shared mistake
// would otherwise pass) against a clock — virtual in embedded runs — and records every attempt
// it was sent. What it answers can be changed to play a receiver that is down.
//
// De-duplication (SPEC §7 "What is compared") is `deduplicate()`: one webhook per webhook-id,
// in order of first arrival; a repeated id must carry identical bytes.
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
class MemoryNetwork;
}  // namespace nukihil::http

namespace nukihil::scenarios {

struct RecordedWebhook {
  std::string id;         // webhook-id
  int64_t timestamp = 0;  // webhook-timestamp
  bool signatureOk = false;
  std::string signatureProblem;  // why not: "no webhook-signature header", "bad signature", …
  std::string raw;               // the body's bytes
  nlohmann::json body;           // parsed (discarded value if not JSON)
  int answered = 0;              // what the receiver answered
  std::string type() const {
    return body.is_object() && body.contains("type") && body["type"].is_string()
               ? body["type"].get<std::string>()
               : std::string();
  }
  const nlohmann::json& content() const { return body.at("content"); }
  std::string deviceId() const;
  // An envelope as SPEC §5 has it: {"id","type","occurredAt","content":{"deviceId",…}}.
  bool wellFormed(std::string& why) const;
};

// One webhook per webhook-id, in order of first arrival (accepted deliveries only), and what
// breaks SPEC on the way: a repeated id with other bytes, a bad or missing signature, a body
// that is not an envelope.
struct Deduplicated {
  std::vector<RecordedWebhook> webhooks;
  std::vector<std::string> problems;
  size_t duplicates = 0;  // repeated deliveries of an id (allowed: at least once)
};
// `accepted`: the deliveries answered 2xx, in arrival order; `attempts`: every delivery (for
// signature and shape problems, refused ones included).
Deduplicated deduplicate(const std::vector<RecordedWebhook>& accepted,
                         const std::vector<RecordedWebhook>& attempts);

// Standard Webhooks check of one delivery: "" if it is signed right for `secret` (whsec_…) and
// `nowSeconds` (±5 minutes), else why not.
std::string checkSignature(const std::string& secret, const std::string& id,
                           const std::string& timestamp, const std::string& signature,
                           const std::string& body, int64_t nowSeconds);

class WebhookRecorder {
 public:
  // Serves on `io` (127.0.0.1, `port`; 0: a free one), and on `network` too if given (it must
  // outlive the recorder). `nowSeconds` is the clock signatures are checked against. `secret`
  // is the whsec_… the adapter signs with. A delivery whose signature is wrong is recorded and
  // answered 401, as a platform would.
  WebhookRecorder(boost::asio::io_context& io, std::string secret,
                  std::function<int64_t()> nowSeconds, uint16_t port = 0,
                  http::MemoryNetwork* network = nullptr);
  ~WebhookRecorder();
  WebhookRecorder(const WebhookRecorder&) = delete;
  WebhookRecorder& operator=(const WebhookRecorder&) = delete;

  uint16_t port() const;
  std::string url() const;  // http://127.0.0.1:PORT/platform
  void stop();              // on the io thread

  // Thread-safe. Accepted (2xx) deliveries only, in arrival order, duplicates included.
  std::vector<RecordedWebhook> webhooks(size_t from = 0) const;
  // Every delivery attempt, refused ones included.
  std::vector<RecordedWebhook> attempts() const;
  size_t count() const;
  void setStatus(int status);  // what it answers; anything but 2xx records nothing accepted
  void clear();
  // The next accepted delivery is recorded, but its answer is lost: `onCut` runs on the io
  // thread with `answer`, which closes the connection without an answer, for the caller to run
  // once it has killed the sender; so the kill lands while that exchange is in flight.
  using Cut = std::function<void(std::function<void()> answer)>;
  void cutNext(Cut onCut);
  // For the harness's own tests: what a hostile proxy between the adapter and the receiver
  // makes of each accepted delivery (drop it: nothing; duplicate, reorder, invent: several).
  // The adapter is answered 2xx either way.
  using Tamper = std::function<std::vector<RecordedWebhook>(const RecordedWebhook&)>;
  void setTamper(Tamper t);
  // Called on the io thread with every delivery attempt as it arrives (nukihil record).
  void setListener(std::function<void(const RecordedWebhook&)> listener);

 private:
  std::unique_ptr<http::HttpServer> server_;
  mutable std::mutex mu_;
  std::vector<RecordedWebhook> got_, attempts_;
  int status_ = 204;
  Cut cut_;
  Tamper tamper_;
  std::function<void(const RecordedWebhook&)> listener_;
};

}  // namespace nukihil::scenarios
