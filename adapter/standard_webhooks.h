// Standard Webhooks (https://www.standardwebhooks.com), symmetric scheme: the signature is
// base64(HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}")), sent as
// `webhook-signature: v1,<base64>` — possibly several signatures, space-separated, during a
// key rotation. The secret is shown to people as `whsec_<base64 of the key bytes>`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace nukihil::adapter {

class WebhookSecret {
 public:
  // An empty secret: a placeholder until one is assigned (signing with it is refused by the
  // outbox).
  WebhookSecret() = default;
  // Parses `whsec_<base64>` (standard alphabet, padded). The prefix may be left out, as the
  // spec's reference libraries allow. nullopt for bad base64 or an empty key.
  static std::optional<WebhookSecret> parse(std::string_view whsec);
  // The raw key bytes (what HMAC is keyed with).
  const std::string& key() const { return key_; }
  bool empty() const { return key_.empty(); }

 private:
  explicit WebhookSecret(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// "v1,<base64 signature>" for one message.
std::string signWebhook(const WebhookSecret& secret, std::string_view id, int64_t timestampSeconds,
                        std::string_view body);

enum class VerifyResult { kOk, kBadSignature, kTooOld, kTooNew, kMissingHeaders };

std::string_view toString(VerifyResult r);

// Checks a received webhook. `timestamp` and `signatureHeader` are the header values as
// received. kMissingHeaders when id, timestamp or signature is empty or the timestamp is not
// an integer; then the timestamp against `nowSeconds` (more than `toleranceSeconds` off →
// kTooOld / kTooNew); then kOk if any `v1,` signature in the header matches (constant-time
// comparison), kBadSignature otherwise. Signatures of other schemes (`v1a,…`) are ignored.
VerifyResult verifyWebhook(const WebhookSecret& secret, std::string_view id,
                           std::string_view timestamp, std::string_view signatureHeader,
                           std::string_view body, int64_t nowSeconds,
                           int64_t toleranceSeconds = 300);

}  // namespace nukihil::adapter
