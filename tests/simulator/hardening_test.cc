// Issue 8, hardening of nukisim: what a hostile or careless client could send to crash, hang
// or silently mislead the simulator, tried over HTTP against a real server on loopback, as a
// user would hit it. Each test is named after what it pins.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

using nlohmann::json;

// A small world with a bit of everything a snapshot holds.
struct Fixture {
  SimHarness h;
  SimHarness::AccountInfo account;
  uint64_t pro = 0, k30 = 0;
  Fixture() {
    account = h.createAccount("Hard");
    pro = h.createLock(account.accountId, {{"model", "3.0 Pro"}, {"name", "Front"}});
    k30 = h.createLock(account.accountId, {{"model", "3.0"}, {"name", "Back"}});
  }
  std::string lockPath(uint64_t id, const std::string& suffix = "") const {
    return "/sim/v1/smartlocks/" + std::to_string(id) + suffix;
  }
};

// ---- item 1: GET /smartlock/auth/paged -----------------------------------------------------

// page*size overflowed int64 and indexed the list at a negative position (segfault).
TEST(Hardening, PagedAuthsWithAHugePageIs400AndAPagePastTheEndIsEmpty) {
  Fixture f;
  TestClient api(f.h.port(), f.account.token);
  auto huge = api.get("/smartlock/auth/paged?page=4611686018427387903&size=4");
  EXPECT_EQ(huge.status, 400) << huge.body;
  EXPECT_EQ(huge.json().value("detailMessage", ""),
            "The supplied value '4611686018427387903' for parameter 'page' is not valid");
  // The server is still there.
  auto first = api.get("/smartlock/auth/paged?page=0&size=4");
  ASSERT_EQ(first.status, 200) << first.body;
  const int64_t total = first.json()["pagination"]["totalItems"];
  EXPECT_EQ(total, 3) << "two app authorizations and a bridge's: " << first.body;
  // The largest page Nuki's int32 takes, with the largest size: far past the end, empty.
  for (const std::string q : {"page=2147483647&size=10000", "page=1&size=4", "page=1000&size=3"}) {
    auto past = api.get("/smartlock/auth/paged?" + q);
    ASSERT_EQ(past.status, 200) << q << ": " << past.body;
    EXPECT_EQ(past.json()["results"], json::array()) << q;
    EXPECT_EQ(past.json()["pagination"]["totalItems"], total) << q;
    EXPECT_FALSE(past.json()["pagination"].contains("nextPage")) << q;
  }
  // Out of Nuki's int32 range, negative, zero or oversized sizes: 400.
  for (const std::string q : {"page=2147483648", "page=-1", "size=0", "size=10001", "size=-4",
                              "page=9223372036854775807&size=10000"}) {
    auto r = api.get("/smartlock/auth/paged?" + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
  }
}

}  // namespace
}  // namespace nukihil::test
