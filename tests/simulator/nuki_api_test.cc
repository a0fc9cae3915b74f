// SPEC §2: the Nuki Web API endpoints over HTTP, with the Swagger's shapes and statuses.
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

using nlohmann::json;

struct Fixture {
  SimHarness h;
  SimHarness::AccountInfo acc = h.createAccount("Api");
  TestClient api{h.port(), acc.token};
  uint64_t pro = h.createLock(acc.accountId, {{"model", "3.0 Pro"}, {"name", "Front"}});
  uint64_t k30 = h.createLock(acc.accountId, {{"model", "3.0"}, {"name", "Back"}});
  std::string p(uint64_t id) { return "/smartlock/" + std::to_string(id); }
  json code(int c, std::string name = "Guest") {
    return {{"name", name}, {"code", c}, {"type", 13}, {"remoteAllowed", false}};
  }
  // Creates codes, delivers and syncs them; returns the web view's keypad codes.
  json createAndSync(uint64_t lock, std::vector<int> codes) {
    for (int c : codes)
      EXPECT_EQ(api.put(p(lock) + "/auth", code(c, "C" + std::to_string(c))).status, 204);
    h.advance(5);
    EXPECT_EQ(api.post(p(lock) + "/sync").status, 204);
    return api.get(p(lock) + "/auth?types=13").json();
  }
};

TEST(NukiApi, AccountAndSmartlockList) {
  Fixture f;
  auto account = f.api.get("/account").json();
  EXPECT_EQ(account["accountId"], f.acc.accountId);
  EXPECT_EQ(account["name"], "Api");
  auto list = f.api.get("/smartlock").json();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["smartlockId"], f.pro);
  EXPECT_EQ(list[0]["type"], 4);
  EXPECT_EQ(list[0]["config"]["wifiEnabled"], true);
  EXPECT_EQ(list[1]["config"]["wifiEnabled"], false);
  EXPECT_EQ(f.pro >> 32, 4u) << "smartlockId = (4 << 32) | nukiId";
  EXPECT_EQ(f.api.get("/smartlock?type=0").json().size(), 0u);
  EXPECT_EQ(f.api.get("/smartlock?type=4").json().size(), 2u);
  const auto authId = list[1]["authId"].get<int64_t>();
  auto filtered = f.api.get("/smartlock?authId=" + std::to_string(authId)).json();
  ASSERT_EQ(filtered.size(), 1u);
  EXPECT_EQ(filtered[0]["smartlockId"], f.k30);
  EXPECT_EQ(f.api.get("/smartlock?type=abc").status, 400);
}

TEST(NukiApi, ATokenSeesOnlyItsOwnAccount) {
  Fixture f;
  auto other = f.h.createAccount("Other");
  TestClient o(f.h.port(), other.token);
  EXPECT_EQ(o.get("/smartlock").json().size(), 0u);
  EXPECT_EQ(o.get(f.p(f.pro)).status, 403);
  EXPECT_EQ(o.post(f.p(f.pro) + "/action/lock").status, 403);
  EXPECT_EQ(o.get(f.p(f.pro) + "/auth").status, 403);
  EXPECT_EQ(f.api.get("/smartlock/17179869185").status, 404);
  EXPECT_EQ(f.api.get("/smartlock/abc").status, 400);
  TestClient none(f.h.port());
  EXPECT_EQ(none.get("/smartlock").status, 401);
  EXPECT_EQ(none.get("/smartlock").json()["detailMessage"], "Your access token is not authorized");
}

// SPEC §4: the journal holds the Nuki API requests served, in order, also those refused before
// a handler runs.
TEST(NukiApi, RequestsRefusedBeforeRoutingAreJournaledToo) {
  Fixture f;
  TestClient none(f.h.port());
  EXPECT_EQ(none.get("/smartlock").status, 401);
  EXPECT_EQ(f.api.get("/nowhere?x=1").status, 404);
  EXPECT_EQ(f.api.del("/account").status, 405);
  EXPECT_EQ(f.api.get("/account").status, 200);
  std::vector<std::string> journal;
  const auto entries = f.h.admin().get("/sim/v1/journal?since=0").json()["entries"];
  for (auto& e : entries)
    journal.push_back(e["method"].get<std::string>() + " " + e["path"].get<std::string>() + " -> " +
                      std::to_string(e["status"].get<int>()));
  EXPECT_EQ(journal, (std::vector<std::string>{"GET /smartlock -> 401", "GET /nowhere?x=1 -> 404",
                                               "DELETE /account -> 405", "GET /account -> 200"}));
}

TEST(NukiApi, ActionsWithBodyAndShortcuts) {
  Fixture f;
  EXPECT_EQ(f.api.post(f.p(f.pro) + "/action", {{"action", 2}, {"option", 0}}).status, 204);
  f.h.advance(3);
  EXPECT_EQ(f.api.get(f.p(f.pro)).json()["state"]["state"], 1);
  EXPECT_EQ(f.api.post(f.p(f.pro) + "/action", {{"action", 9}}).status, 400);
  EXPECT_EQ(f.api.post(f.p(f.pro) + "/action", {{"option", 0}}).status, 400);
  EXPECT_EQ(f.api.post(f.p(f.pro) + "/action", {{"action", 1}, {"option", 8}}).status, 400);
  auto bad = f.api.post(f.p(f.pro) + "/action", {{"action", 1.5}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["detailMessage"],
            "The supplied value '1.5' for parameter 'action' is not valid");
  EXPECT_EQ(f.api.post(f.p(f.pro) + "/action/unlock").status, 204);
  f.h.advance(3);
  EXPECT_EQ(f.api.get(f.p(f.pro)).json()["state"]["state"], 3);
}

TEST(NukiApi, KeypadCodeLifecycleOverHttp) {
  Fixture f;
  auto codes = f.createAndSync(f.pro, {345678});
  ASSERT_EQ(codes.size(), 1u);
  const std::string id = codes[0]["id"];
  EXPECT_EQ(id.size(), 24u);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth/" + id).json()["code"], 345678);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth/ffffffffffffffffffffffff").status, 404);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth/nothex").status, 400);
  // Update: operationId while pending, 423 for a second change.
  EXPECT_EQ(f.api.post(f.p(f.pro) + "/auth/" + id, {{"name", "Renamed"}}).status, 204);
  auto pending = f.api.get(f.p(f.pro) + "/auth/" + id).json();
  EXPECT_EQ(pending["name"], "C345678");
  EXPECT_EQ(pending["operationId"].get<std::string>().size(), 24u);
  auto locked = f.api.post(f.p(f.pro) + "/auth/" + id, {{"name", "Again"}});
  EXPECT_EQ(locked.status, 423);
  EXPECT_EQ(locked.body, R"({"stackTrace":[],"suppressedExceptions":[]})");
  f.h.advance(5);
  EXPECT_FALSE(f.api.get(f.p(f.pro) + "/auth/" + id).json().contains("operationId"));
  EXPECT_EQ(f.api.post(f.p(f.pro) + "/sync").status, 204);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth/" + id).json()["name"], "Renamed");
  // Delete.
  EXPECT_EQ(f.api.del(f.p(f.pro) + "/auth/" + id).status, 204);
  // SPEC §2: an auth whose delete was accepted is unknown (404), delivered or not.
  EXPECT_EQ(f.api.del(f.p(f.pro) + "/auth/" + id).status, 404);
  EXPECT_EQ(f.api.post(f.p(f.pro) + "/auth/" + id, {{"name", "Late"}}).status, 404);
  f.h.advance(5);
  EXPECT_EQ(f.api.del(f.p(f.pro) + "/auth/" + id).status, 404);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth?types=13").json().size(), 1u) << "listed until the sync";
  f.api.post(f.p(f.pro) + "/sync");
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth?types=13").json().size(), 0u);
}

// SPEC: times lie in 2000–2037 wherever they enter. A code dated year 0000 was taken over the
// Nuki API, and then the snapshot of that world could not be restored (PUT refused what GET
// gave).
TEST(NukiApi, AuthDatesOutside2000To2037AreABadRequest) {
  Fixture f;
  for (const char* date :
       {"0000-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2038-01-01T00:00:00Z"}) {
    json c = f.code(345678);
    c["allowedFromDate"] = date;
    EXPECT_EQ(f.api.put(f.p(f.pro) + "/auth", c).status, 400) << date;
    json u = f.code(345678);
    u["allowedUntilDate"] = date;
    EXPECT_EQ(f.api.put(f.p(f.pro) + "/auth", u).status, 400) << date;
  }
  json ok = f.code(345678);
  ok["allowedFromDate"] = "2000-01-01T00:00:00Z";
  ok["allowedUntilDate"] = "2037-12-31T23:59:59Z";
  EXPECT_EQ(f.api.put(f.p(f.pro) + "/auth", ok).status, 204);
  // What the API took, a snapshot gives back and a restore takes.
  f.h.advance(5);
  TestClient admin(f.h.port(), f.h.adminToken());
  auto snap = admin.get("/sim/v1/snapshot");
  ASSERT_EQ(snap.status, 200);
  EXPECT_EQ(admin.put("/sim/v1/snapshot", snap.json()).status, 200);
}

TEST(NukiApi, AuthListsCarryTheSystemAuthsAndFilterByType) {
  Fixture f;
  auto all = f.api.get(f.p(f.k30) + "/auth").json();
  ASSERT_EQ(all.size(), 2u) << "the owner's app and the bridge";
  EXPECT_EQ(all[0]["type"], 0);
  EXPECT_EQ(all[1]["type"], 1);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth").json().size(), 1u);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth?types=13").json().size(), 0u);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth?types=x").status, 400);
  f.createAndSync(f.pro, {345678, 456789});
  f.createAndSync(f.k30, {345678});
  EXPECT_EQ(f.api.get("/smartlock/auth?types=13").json().size(), 3u);
  EXPECT_EQ(f.api.get("/smartlock/auth").json().size(), 6u);
  EXPECT_EQ(f.api.get("/smartlock/auth?accountUserId=5").json().size(), 0u);
  auto page = f.api.get("/smartlock/auth/paged?page=1&size=2&types=13").json();
  EXPECT_EQ(page["results"].size(), 1u);
  EXPECT_EQ(page["pagination"]["totalItems"], 3);
  EXPECT_EQ(page["pagination"]["totalPages"], 2);
  EXPECT_EQ(page["pagination"]["currentPage"], 1);
  EXPECT_TRUE(page["pagination"].contains("prevPage"));
  EXPECT_FALSE(page["pagination"].contains("nextPage"));
  EXPECT_EQ(f.api.get("/smartlock/auth/paged?size=0").status, 400);
  // accountUserId filters the paged list as it filters the plain one.
  EXPECT_EQ(f.api.get("/smartlock/auth/paged?accountUserId=0").json()["pagination"]["totalItems"],
            6);
  auto linked = f.api.get("/smartlock/auth/paged?accountUserId=5&types=13").json();
  EXPECT_EQ(linked["results"].size(), 0u);
  EXPECT_EQ(linked["pagination"]["totalItems"], 0);
  EXPECT_EQ(f.api.get("/smartlock/auth/paged?accountUserId=x").status, 400);
}

// SPEC §2: 403 for an auth of another account, on the per-lock routes as on the bulk ones.
TEST(NukiApi, AnAuthOfAnotherAccountIsForbiddenOnEveryRoute) {
  Fixture f;
  auto other = f.h.createAccount("Other");
  TestClient o(f.h.port(), other.token);
  const uint64_t theirs = f.h.createLock(other.accountId);
  const std::string id = f.createAndSync(f.pro, {345678})[0]["id"];
  const std::string path = f.p(theirs) + "/auth/" + id;  // their lock, our auth
  EXPECT_EQ(o.get(path).status, 403);
  EXPECT_EQ(o.post(path, {{"name", "Mine"}}).status, 403);
  EXPECT_EQ(o.del(path).status, 403);
  EXPECT_EQ(o.post("/smartlock/auth", json::array({{{"id", id}, {"name", "Mine"}}})).status, 403);
  EXPECT_EQ(o.del("/smartlock/auth", json::array({id}).dump()).status, 403);
  // Nothing happened to it; an unknown auth on one's own lock is still 404.
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth/" + id).json()["name"], "C345678");
  EXPECT_FALSE(f.api.get(f.p(f.pro) + "/auth/" + id).json().contains("operationId"));
  EXPECT_EQ(o.get(f.p(theirs) + "/auth/ffffffffffffffffffffffff").status, 404);
}

TEST(NukiApi, BulkCreateIsAllOrNothing) {
  Fixture f;
  f.createAndSync(f.k30, {345678});
  json body = f.code(345678, "Both");
  body["smartlockIds"] = {f.pro, f.k30};
  EXPECT_EQ(f.api.put("/smartlock/auth", body).status, 409) << "duplicate on the second lock";
  f.h.advance(5);
  f.api.post(f.p(f.pro) + "/sync");
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth?types=13").json().size(), 0u) << "nothing on the first";
  body["code"] = 456789;
  EXPECT_EQ(f.api.put("/smartlock/auth", body).status, 204);
  f.h.advance(5);
  f.api.post(f.p(f.pro) + "/sync");
  f.api.post(f.p(f.k30) + "/sync");
  EXPECT_EQ(f.api.get("/smartlock/auth?types=13").json().size(), 3u);
  body["smartlockIds"] = json::array();
  EXPECT_EQ(f.api.put("/smartlock/auth", body).status, 400);
}

TEST(NukiApi, BulkUpdateAndDeleteAreAllOrNothing) {
  Fixture f;
  auto a = f.createAndSync(f.pro, {345678, 456789});
  const std::string id1 = a[0]["id"], id2 = a[1]["id"];
  // The second update collides with the first one's new code: nothing is applied.
  json batch = json::array({{{"id", id1}, {"name", "X"}, {"code", 567891}},
                            {{"id", id2}, {"name", "Y"}, {"code", 567891}}});
  EXPECT_EQ(f.api.post("/smartlock/auth", batch).status, 409);
  EXPECT_FALSE(f.api.get(f.p(f.pro) + "/auth/" + id1).json().contains("operationId"));
  batch[1]["code"] = 678912;
  EXPECT_EQ(f.api.post("/smartlock/auth", batch).status, 204);
  f.h.advance(5);
  EXPECT_EQ(
      f.api.del("/smartlock/auth", json::array({id1, "ffffffffffffffffffffffff"}).dump()).status,
      404);
  EXPECT_EQ(f.api.del("/smartlock/auth", json::array({id1, id2}).dump()).status, 204);
  f.h.advance(5);
  f.api.post(f.p(f.pro) + "/sync");
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/auth?types=13").json().size(), 0u);
  EXPECT_EQ(f.api.del("/smartlock/auth", "[1]").status, 400);
}

TEST(NukiApi, LogsAreNewestFirstWithLimitAndFilters) {
  Fixture f;
  for (int i = 0; i < 30; ++i) {
    f.api.post(f.p(f.pro) + (i % 2 ? "/action/unlock" : "/action/lock"));
    f.h.advance(3);
  }
  auto logs = f.api.get(f.p(f.pro) + "/log").json();
  ASSERT_EQ(logs.size(), 20u) << "default limit";
  EXPECT_GE(logs[0]["date"].get<std::string>(), logs[1]["date"].get<std::string>());
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/log?limit=500").json().size(), 30u)
      << "clamped to 50, 30 exist";
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/log?limit=0").status, 400);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/log?limit=-3").status, 400);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/log?action=2&limit=50").json().size(), 15u);
  auto older =
      f.api.get(f.p(f.pro) + "/log?limit=50&id=" + logs[4]["id"].get<std::string>()).json();
  EXPECT_EQ(older.size(), 25u);
  EXPECT_EQ(f.api.get("/smartlock/log?limit=50").json().size(), 30u);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/log?fromDate=2030-01-01T00:00:00Z").json().size(), 0u);
  EXPECT_EQ(f.api.get(f.p(f.pro) + "/log?fromDate=yesterday").status, 400);
}

TEST(NukiApi, RenameAndDeleteALock) {
  Fixture f;
  EXPECT_EQ(f.api.post(f.p(f.pro), {{"name", "Renamed"}, {"favorite", true}}).status, 204);
  auto lock = f.api.get(f.p(f.pro)).json();
  EXPECT_EQ(lock["name"], "Renamed");
  EXPECT_EQ(lock["favorite"], true);
  EXPECT_EQ(f.api.post(f.p(f.pro), {{"name", ""}}).status, 400);
  EXPECT_EQ(f.api.del(f.p(f.pro)).status, 204);
  EXPECT_EQ(f.api.get(f.p(f.pro)).status, 404);
  EXPECT_EQ(f.api.get("/smartlock").json().size(), 1u);
}

TEST(NukiApi, OfflineLockAcceptsCommandsAndShowsServerStateFour) {
  Fixture f;
  f.h.admin().post("/sim/v1/smartlocks/" + std::to_string(f.k30) + "/connectivity",
                   {{"online", false}});
  EXPECT_EQ(f.api.get(f.p(f.k30)).json()["serverState"], 4);
  EXPECT_EQ(f.api.post(f.p(f.k30) + "/action/lock").status, 204);
  EXPECT_EQ(f.api.put(f.p(f.k30) + "/auth", f.code(345678)).status, 204);
  EXPECT_EQ(f.api.post(f.p(f.k30) + "/sync").status, 204) << "and nothing happens";
  f.h.advance(86400);
  auto dev = f.h.device(f.k30);
  EXPECT_EQ(dev["queue"].size(), 2u);
  EXPECT_EQ(f.api.get(f.p(f.k30)).json()["state"]["state"], 3);
  f.h.admin().post("/sim/v1/smartlocks/" + std::to_string(f.k30) + "/connectivity",
                   {{"online", true}});
  f.h.advance(3);
  EXPECT_EQ(f.api.get(f.p(f.k30)).json()["state"]["state"], 1);
  EXPECT_EQ(f.api.get(f.p(f.k30)).json()["serverState"], 0);
  EXPECT_EQ(f.h.device(f.k30)["codes"].size(), 1u);
}

TEST(NukiApi, GetIgnoresAJsonBody) {
  Fixture f;
  auto r = f.api.request("GET", f.p(f.pro), "{}");
  EXPECT_EQ(r.status, 200);
}

}  // namespace
}  // namespace nukihil::test
