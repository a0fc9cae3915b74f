#include <gtest/gtest.h>

#include "runtime/http.h"

namespace nukihil::http {
namespace {

Request make(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

TEST(Router, LiteralSegmentsWinOverParameters) {
  Router router;
  std::string hit;
  router.add("GET", "/smartlock/{smartlockId}", [&](const Request& r) {
    hit = "lock " + r.param("smartlockId");
    return Response::empty(200);
  });
  router.add("GET", "/smartlock/auth", [&](const Request&) {
    hit = "auths";
    return Response::empty(200);
  });
  for (auto [target, expected] :
       {std::pair{"/smartlock/auth", "auths"}, std::pair{"/smartlock/123", "lock 123"},
        std::pair{"/smartlock/123?x=1", "lock 123"}}) {
    auto req = make("GET", target);
    auto m = router.match(req);
    ASSERT_TRUE(m.handler) << target;
    (*m.handler)(req, [](Response) {});
    EXPECT_EQ(hit, expected);
  }
}

TEST(Router, KnownPathWithOtherMethodIsNotAMissingPath) {
  Router router;
  router.add("GET", "/a/{id}", [](const Request&) { return Response::empty(200); });
  router.add("DELETE", "/a/{id}", [](const Request&) { return Response::empty(204); });
  auto req = make("PUT", "/a/1");
  auto m = router.match(req);
  EXPECT_FALSE(m.handler);
  EXPECT_TRUE(m.pathKnown);
  EXPECT_EQ(m.allow, "GET, DELETE");
  auto missing = make("GET", "/b");
  EXPECT_FALSE(router.match(missing).pathKnown);
  auto deeper = make("GET", "/a/1/2");
  EXPECT_FALSE(router.match(deeper).pathKnown);
}

TEST(Request, QueryParametersAreDecoded) {
  auto r = make("GET", "/x?types=0%2C13&name=a+b&flag&empty=");
  EXPECT_EQ(r.queryParam("types"), "0,13");
  EXPECT_EQ(r.queryParam("name"), "a b");
  EXPECT_EQ(r.queryParam("flag"), "");
  EXPECT_EQ(r.queryParam("empty"), "");
  EXPECT_FALSE(r.queryParam("missing"));
  EXPECT_EQ(r.path(), "/x");
}

TEST(Request, BearerTokenAndHeaders) {
  Request r;
  r.authorization = "bearer  abc ";
  EXPECT_EQ(r.bearerToken(), "abc");
  r.authorization = "Basic abc";
  EXPECT_EQ(r.bearerToken(), "");
  r.headers = {{"Content-Type", "a"}, {"X-Nuki-Signature-SHA256", "f00"}};
  EXPECT_EQ(r.header("x-nuki-signature-sha256"), "f00");
  EXPECT_FALSE(r.header("missing"));
}

TEST(PercentDecode, KeepsInvalidEscapes) {
  EXPECT_EQ(percentDecode("%41%zz%4"), "A%zz%4");
  EXPECT_EQ(percentDecode("a+b", false), "a+b");
}

}  // namespace
}  // namespace nukihil::http
