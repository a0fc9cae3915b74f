#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

TEST(ApiSmoke, LockActionRunsOnVirtualTime) {
  SimHarness h;
  auto acc = h.createAccount("Smoke");
  const uint64_t id = h.createLock(acc.accountId, {{"model", "3.0 Pro"}, {"name", "Door"}});
  TestClient api(h.port(), acc.token);
  auto r = api.get("/smartlock/" + std::to_string(id));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["state"]["state"], 3);
  EXPECT_EQ(api.post("/smartlock/" + std::to_string(id) + "/action/lock").status, 204);
  h.advance(1);
  EXPECT_EQ(api.get("/smartlock/" + std::to_string(id)).json()["state"]["state"], 4);
  h.advance(2);
  EXPECT_EQ(api.get("/smartlock/" + std::to_string(id)).json()["state"]["state"], 1);
}

}  // namespace
}  // namespace nukihil::test
