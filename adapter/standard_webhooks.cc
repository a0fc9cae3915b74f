#include "adapter/standard_webhooks.h"

#include <charconv>

#include "runtime/crypto.h"

namespace nukihil::adapter {

namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::string_view kV1 = "v1,";

std::string signatureBytes(const WebhookSecret& secret, std::string_view id,
                           std::string_view timestamp, std::string_view body) {
  std::string content;
  content.reserve(id.size() + timestamp.size() + body.size() + 2);
  content.append(id).append(".").append(timestamp).append(".").append(body);
  return crypto::hmacSha256(secret.key(), content);
}

std::optional<int64_t> parseSeconds(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<WebhookSecret> WebhookSecret::parse(std::string_view whsec) {
  if (whsec.substr(0, kSecretPrefix.size()) == kSecretPrefix)
    whsec.remove_prefix(kSecretPrefix.size());
  auto key = crypto::base64Decode(whsec);
  if (!key || key->empty()) return std::nullopt;
  return WebhookSecret(std::move(*key));
}

std::string signWebhook(const WebhookSecret& secret, std::string_view id, int64_t timestampSeconds,
                        std::string_view body) {
  const std::string ts = std::to_string(timestampSeconds);
  return std::string(kV1) + crypto::base64Encode(signatureBytes(secret, id, ts, body));
}

std::string_view toString(VerifyResult r) {
  switch (r) {
    case VerifyResult::kOk:
      return "ok";
    case VerifyResult::kBadSignature:
      return "bad signature";
    case VerifyResult::kTooOld:
      return "timestamp too old";
    case VerifyResult::kTooNew:
      return "timestamp too new";
    case VerifyResult::kMissingHeaders:
      return "missing or malformed headers";
  }
  return "?";
}

VerifyResult verifyWebhook(const WebhookSecret& secret, std::string_view id,
                           std::string_view timestamp, std::string_view signatureHeader,
                           std::string_view body, int64_t nowSeconds, int64_t toleranceSeconds) {
  const auto ts = parseSeconds(timestamp);
  if (id.empty() || !ts || signatureHeader.empty()) return VerifyResult::kMissingHeaders;
  if (nowSeconds - *ts > toleranceSeconds) return VerifyResult::kTooOld;
  if (*ts - nowSeconds > toleranceSeconds) return VerifyResult::kTooNew;

  const std::string expected = crypto::base64Encode(signatureBytes(secret, id, timestamp, body));
  bool match = false;
  std::string_view rest = signatureHeader;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    const std::string_view one = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    if (one.substr(0, kV1.size()) != kV1) continue;
    // Every candidate is compared, so the time taken does not depend on which one matches.
    if (crypto::constantTimeEqual(one.substr(kV1.size()), expected)) match = true;
  }
  return match ? VerifyResult::kOk : VerifyResult::kBadSignature;
}

}  // namespace nukihil::adapter
