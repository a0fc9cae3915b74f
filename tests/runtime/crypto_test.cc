#include <gtest/gtest.h>

#include <vector>

#include "runtime/crypto.h"

namespace nukihil::crypto {
namespace {

TEST(Hmac, Rfc4231TestCase2) {
  EXPECT_EQ(toHex(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, Rfc2202Sha1TestCase2) {
  EXPECT_EQ(toHex(hmacSha1("Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                std::string("\0\xff", 2)}) {
    auto enc = base64Encode(s);
    auto dec = base64Decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(base64Decode("Zm9v!mFy"));
  EXPECT_FALSE(base64Decode("Zm9"));
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constantTimeEqual("abc", "abc"));
  EXPECT_FALSE(constantTimeEqual("abc", "abd"));
  EXPECT_FALSE(constantTimeEqual("abc", "ab"));
}

}  // namespace
}  // namespace nukihil::crypto
