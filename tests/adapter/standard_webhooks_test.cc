// Standard Webhooks signing and verification, against the specification's published test
// vector and the ways a received webhook can be wrong.
#include "adapter/standard_webhooks.h"

#include <gtest/gtest.h>

#include "runtime/crypto.h"

namespace nukihil::adapter {
namespace {

// The published vector of the Standard Webhooks reference libraries: TestWebhookSign in
// https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/go/webhook_test.go
// (commit 449485caf9c0303530c19524fbe4096680aafcf1); the other libraries' tests use the same
// secret, id and payload.
constexpr std::string_view kVectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kVectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kVectorTimestamp = 1614265330;
constexpr std::string_view kVectorBody = R"({"test": 2432232314})";
constexpr std::string_view kVectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// A well-formed signature that belongs to nothing here (used by the same tests as "invalid").
constexpr std::string_view kOtherSignature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

WebhookSecret vectorSecret() {
  auto s = WebhookSecret::parse(kVectorSecret);
  EXPECT_TRUE(s.has_value());
  return s.value_or(WebhookSecret());
}

VerifyResult verifyAt(std::string_view id, std::string_view ts, std::string_view sig,
                      std::string_view body, int64_t now) {
  return verifyWebhook(vectorSecret(), id, ts, sig, body, now);
}

const std::string kTs = std::to_string(kVectorTimestamp);

TEST(StandardWebhooks, SignsThePublishedTestVector) {
  EXPECT_EQ(signWebhook(vectorSecret(), kVectorId, kVectorTimestamp, kVectorBody),
            kVectorSignature);
}

TEST(StandardWebhooks, SecretIsTheBase64DecodedKeyWithOrWithoutPrefix) {
  const auto withPrefix = WebhookSecret::parse(kVectorSecret);
  const auto bare = WebhookSecret::parse(kVectorSecret.substr(6));
  ASSERT_TRUE(withPrefix && bare);
  EXPECT_EQ(withPrefix->key(), bare->key());
  EXPECT_EQ(withPrefix->key().size(), 24u);
  EXPECT_EQ(crypto::base64Encode(withPrefix->key()), kVectorSecret.substr(6));
}

TEST(StandardWebhooks, RejectsSecretsThatAreNotBase64OrEmpty) {
  EXPECT_FALSE(WebhookSecret::parse("whsec_"));
  EXPECT_FALSE(WebhookSecret::parse(""));
  EXPECT_FALSE(WebhookSecret::parse("whsec_not base64!"));
  EXPECT_FALSE(WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"));  // bad length
  EXPECT_TRUE(WebhookSecret().empty());
}

TEST(StandardWebhooks, VerifiesThePublishedVector) {
  EXPECT_EQ(verifyAt(kVectorId, kTs, kVectorSignature, kVectorBody, kVectorTimestamp),
            VerifyResult::kOk);
}

TEST(StandardWebhooks, TamperedBodyIdOrTimestampFails) {
  EXPECT_EQ(verifyAt(kVectorId, kTs, kVectorSignature, R"({"test": 2432232315})", kVectorTimestamp),
            VerifyResult::kBadSignature);
  EXPECT_EQ(verifyAt(kVectorId, kTs, kVectorSignature, R"({"test":2432232314})", kVectorTimestamp),
            VerifyResult::kBadSignature);
  EXPECT_EQ(verifyAt("msg_p5jXN8AQM9LWM0D4loKWxJel", kTs, kVectorSignature, kVectorBody,
                     kVectorTimestamp),
            VerifyResult::kBadSignature);
  const std::string later = std::to_string(kVectorTimestamp + 1);
  EXPECT_EQ(verifyAt(kVectorId, later, kVectorSignature, kVectorBody, kVectorTimestamp),
            VerifyResult::kBadSignature);
  EXPECT_EQ(verifyAt(kVectorId, kTs, kOtherSignature, kVectorBody, kVectorTimestamp),
            VerifyResult::kBadSignature);
  // A different key does not verify either.
  const auto other = WebhookSecret::parse("whsec_" + crypto::base64Encode("another secret key!!"));
  ASSERT_TRUE(other);
  EXPECT_EQ(verifyWebhook(*other, kVectorId, kTs, kVectorSignature, kVectorBody, kVectorTimestamp),
            VerifyResult::kBadSignature);
}

TEST(StandardWebhooks, AcceptsAnyMatchingSignatureAmongSeveral) {
  const std::string several = std::string(kOtherSignature) + " v1a," +
                              std::string(kOtherSignature.substr(3)) + " " +
                              std::string(kVectorSignature) + " " + std::string(kOtherSignature);
  EXPECT_EQ(verifyAt(kVectorId, kTs, several, kVectorBody, kVectorTimestamp), VerifyResult::kOk);
  const std::string none = std::string(kOtherSignature) + " " + std::string(kOtherSignature);
  EXPECT_EQ(verifyAt(kVectorId, kTs, none, kVectorBody, kVectorTimestamp),
            VerifyResult::kBadSignature);
  // The right bytes under another scheme's label are not a v1 signature.
  const std::string relabelled = "v2," + std::string(kVectorSignature.substr(3));
  EXPECT_EQ(verifyAt(kVectorId, kTs, relabelled, kVectorBody, kVectorTimestamp),
            VerifyResult::kBadSignature);
}

TEST(StandardWebhooks, TimestampToleranceIsFiveMinutesByDefault) {
  const int64_t t = kVectorTimestamp;
  EXPECT_EQ(verifyAt(kVectorId, kTs, kVectorSignature, kVectorBody, t + 300), VerifyResult::kOk);
  EXPECT_EQ(verifyAt(kVectorId, kTs, kVectorSignature, kVectorBody, t + 301),
            VerifyResult::kTooOld);
  EXPECT_EQ(verifyAt(kVectorId, kTs, kVectorSignature, kVectorBody, t - 300), VerifyResult::kOk);
  EXPECT_EQ(verifyAt(kVectorId, kTs, kVectorSignature, kVectorBody, t - 301),
            VerifyResult::kTooNew);
  EXPECT_EQ(
      verifyWebhook(vectorSecret(), kVectorId, kTs, kVectorSignature, kVectorBody, t + 3600, 7200),
      VerifyResult::kOk);
  EXPECT_EQ(
      verifyWebhook(vectorSecret(), kVectorId, kTs, kVectorSignature, kVectorBody, t + 61, 60),
      VerifyResult::kTooOld);
}

TEST(StandardWebhooks, MissingOrMalformedHeaders) {
  const int64_t t = kVectorTimestamp;
  EXPECT_EQ(verifyAt("", kTs, kVectorSignature, kVectorBody, t), VerifyResult::kMissingHeaders);
  EXPECT_EQ(verifyAt(kVectorId, "", kVectorSignature, kVectorBody, t),
            VerifyResult::kMissingHeaders);
  EXPECT_EQ(verifyAt(kVectorId, kTs, "", kVectorBody, t), VerifyResult::kMissingHeaders);
  EXPECT_EQ(verifyAt(kVectorId, "16142653x0", kVectorSignature, kVectorBody, t),
            VerifyResult::kMissingHeaders);
  EXPECT_EQ(verifyAt(kVectorId, "1614265330.5", kVectorSignature, kVectorBody, t),
            VerifyResult::kMissingHeaders);
}

TEST(StandardWebhooks, RoundTripsArbitraryMessages) {
  const auto secret =
      WebhookSecret::parse("whsec_" + crypto::base64Encode(std::string(32, '\x07')));
  ASSERT_TRUE(secret);
  const std::string body = R"({"id":"msg_1","content":{"name":"Café ☕"}})";
  const std::string sig = signWebhook(*secret, "msg_1", 1735689600, body);
  EXPECT_EQ(sig.substr(0, 3), "v1,");
  EXPECT_EQ(sig.size(), 3u + 44u);  // base64 of 32 bytes
  EXPECT_EQ(verifyWebhook(*secret, "msg_1", "1735689600", sig, body, 1735689600),
            VerifyResult::kOk);
  EXPECT_EQ(toString(VerifyResult::kTooOld), "timestamp too old");
}

}  // namespace
}  // namespace nukihil::adapter
