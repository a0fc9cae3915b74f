// The control-plane calls the dashboard is a client of (GET /sim/v1/changes, the paged and
// searched fleet, the device view beside the web view, the journal of one lock) and its
// sign-in, over HTTP against a running nukisim.
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

using nlohmann::json;

SimHarness::Options withUi(bool ui = true) {
  SimHarness::Options o;
  o.sim.ui = ui;
  return o;
}

json changes(SimHarness& h, uint64_t since) {
  auto r = h.admin().get("/sim/v1/changes?since=" + std::to_string(since));
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json();
}

std::vector<uint64_t> ids(const json& j) {
  return j["smartlockIds"].get<std::vector<uint64_t>>();
}

TEST(DashboardApi, TheChangesFeedNamesTheLocksThatChangedAndOnlyThose) {
  SimHarness h(withUi());
  auto account = h.createAccount();
  const uint64_t a = h.createLock(account.accountId, {{"name", "Front door"}});
  const uint64_t b = h.createLock(account.accountId, {{"name", "Back door"}});
  const json start = changes(h, 0);
  EXPECT_TRUE(start["complete"]);
  EXPECT_TRUE(start["fleet"]) << "locks were added";
  const uint64_t seq = start["seq"];

  // Nothing happened: nothing to read again.
  json none = changes(h, seq);
  EXPECT_EQ(none["seq"], seq);
  EXPECT_TRUE(ids(none).empty());
  EXPECT_FALSE(none["fleet"]);

  ASSERT_EQ(h.admin()
                .post("/sim/v1/smartlocks/" + std::to_string(b) + "/battery", {{"charge", 15}})
                .status,
            200);
  json one = changes(h, seq);
  EXPECT_EQ(ids(one), std::vector<uint64_t>{b});
  EXPECT_FALSE(one["fleet"]);

  // An event changes a lock too: the motor finishing a knob turn, seen after the advance.
  const uint64_t seq2 = one["seq"];
  ASSERT_EQ(h.admin()
                .post("/sim/v1/smartlocks/" + std::to_string(a) + "/manual", {{"action", "lock"}})
                .status,
            200);
  h.advance(10);
  json two = changes(h, seq2);
  EXPECT_EQ(ids(two), std::vector<uint64_t>{a});
  EXPECT_GT(two["seq"].get<uint64_t>(), seq2);
  EXPECT_FALSE(two["now"].get<std::string>().empty());
  EXPECT_TRUE(two["virtual"]);
}

TEST(DashboardApi, AClientTooFarBehindOrFromAnotherRunIsToldToReadEverything) {
  SimHarness h(withUi());
  auto account = h.createAccount();
  const uint64_t a = h.createLock(account.accountId);
  const std::string battery = "/sim/v1/smartlocks/" + std::to_string(a) + "/battery";
  // Two locks in turn, so that no two changes merge into one entry.
  const uint64_t b = h.createLock(account.accountId);
  const std::string other = "/sim/v1/smartlocks/" + std::to_string(b) + "/battery";
  const uint64_t first = changes(h, 0)["seq"];
  for (size_t i = 0; i < sim::World::kChangesKept / 2 + 10; ++i) {
    ASSERT_EQ(h.admin().post(battery, {{"charge", 50}}).status, 200);
    ASSERT_EQ(h.admin().post(other, {{"charge", 50}}).status, 200);
  }
  EXPECT_FALSE(changes(h, first)["complete"]);
  const json now = changes(h, 0);
  const uint64_t latest = now["seq"];
  EXPECT_TRUE(changes(h, latest)["complete"]);
  EXPECT_FALSE(changes(h, latest + 1000)["complete"]) << "a sequence number this run never gave";
}

TEST(DashboardApi, AfterAResetARestoreOrARefusedFleetTheFeedNamesNoLockThatIsGone) {
  SimHarness h(withUi());
  auto account = h.createAccount();
  const uint64_t keep = h.createLock(account.accountId);
  auto snap = h.admin().get("/sim/v1/snapshot");  // one lock
  ASSERT_EQ(snap.status, 200);
  std::vector<uint64_t> more;
  for (int i = 0; i < 5; ++i)
    more.push_back(h.createLock(account.accountId));
  const uint64_t before = changes(h, 0)["seq"];
  ASSERT_EQ(
      h.admin()
          .post("/sim/v1/smartlocks/" + std::to_string(more.back()) + "/battery", {{"charge", 40}})
          .status,
      200);
  const uint64_t seen = changes(h, before)["seq"];

  // Back to the snapshot: the changed lock is gone, and its index is not read again.
  ASSERT_EQ(h.admin().request("PUT", "/sim/v1/snapshot", snap.body).status, 200);
  for (uint64_t since : {uint64_t(0), before}) {
    const json c = changes(h, since);
    EXPECT_FALSE(c["complete"]) << "since " << since << ": changes of a lock that is gone";
    EXPECT_TRUE(ids(c).empty()) << c.dump();
  }
  // A client that had seen everything before the restore: only that the fleet changed.
  const json upToDate = changes(h, seen);
  EXPECT_TRUE(upToDate["complete"]);
  EXPECT_TRUE(upToDate["fleet"]);
  EXPECT_TRUE(ids(upToDate).empty()) << upToDate.dump();
  const uint64_t afterRestore = changes(h, 0)["seq"];
  EXPECT_TRUE(changes(h, afterRestore)["complete"]);

  // A fleet load refused halfway (its second account repeats a token) builds nothing.
  const json bad = {
      {"accounts",
       {{{"name", "A"}, {"apiToken", "tok-aaaaaaaaaaaaaaaa"}, {"smartlocks", {{{"name", "x"}}}}},
        {{"name", "B"}, {"apiToken", "tok-aaaaaaaaaaaaaaaa"}}}}};
  EXPECT_EQ(h.admin().post("/sim/v1/fleet", bad).status, 400);
  const json c = changes(h, afterRestore);
  for (uint64_t id : ids(c))
    EXPECT_EQ(id, keep) << c.dump();

  ASSERT_EQ(h.admin().post("/sim/v1/reset").status, 200);
  EXPECT_TRUE(ids(changes(h, 0)).empty());
  EXPECT_FALSE(changes(h, 0)["complete"]);
}

TEST(DashboardApi, AWebhookDeliveryThatEndsMovesTheJournalRevision) {
  SimHarness h(withUi());
  auto account = h.createAccount();
  const uint64_t id = h.createLock(account.accountId);
  TestClient nuki(h.port(), account.token);
  auto hook = nuki.put("/api/decentralWebhook",
                       {{"webhookUrl", h.receiverUrl()}, {"webhookFeatures", {"DEVICE_STATUS"}}});
  ASSERT_EQ(hook.status, 200) << hook.body;
  const json start = changes(h, 0);
  ASSERT_EQ(h.admin()
                .post("/sim/v1/smartlocks/" + std::to_string(id) + "/battery", {{"charge", 30}})
                .status,
            200);
  h.advance(1);  // the delivery goes out and its answer is journaled in its entry
  const json after = changes(h, start["seq"]);
  EXPECT_GT(after["journalRevision"].get<uint64_t>(), start["journalRevision"].get<uint64_t>());
  auto journal = h.admin().get("/sim/v1/journal?smartlockId=" + std::to_string(id) + "&last=1");
  ASSERT_EQ(journal.json()["entries"].size(), 1u);
  EXPECT_EQ(journal.json()["entries"][0]["type"], "webhook");
  EXPECT_EQ(journal.json()["entries"][0]["status"], 200) << journal.body;
}

TEST(DashboardApi, TheFleetIsPagedAndSearchedWithTheTotalInAHeader) {
  SimHarness h(withUi());
  auto account = h.createAccount();
  std::vector<uint64_t> made;
  for (int i = 1; i <= 12; ++i)
    made.push_back(h.createLock(
        account.accountId, {{"name", (i % 3 == 0 ? "Garage " : "Door ") + std::to_string(i)}}));
  auto page = h.admin().get("/sim/v1/smartlocks?offset=5&limit=4");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.headers["x-total-count"], "12");
  ASSERT_EQ(page.json().size(), 4u);
  EXPECT_EQ(page.json()[0]["smartlockId"], made[5]);
  EXPECT_EQ(page.json()[3]["smartlockId"], made[8]);

  auto garages = h.admin().get("/sim/v1/smartlocks?q=gARAGE&limit=2");
  EXPECT_EQ(garages.headers["x-total-count"], "4");
  ASSERT_EQ(garages.json().size(), 2u);
  for (const auto& l : garages.json())
    EXPECT_NE(l["name"].get<std::string>().find("Garage"), std::string::npos) << l.dump();

  // By id from its start.
  auto byId = h.admin().get("/sim/v1/smartlocks?q=" + std::to_string(made[7]));
  ASSERT_EQ(byId.json().size(), 1u);
  EXPECT_EQ(byId.json()[0]["smartlockId"], made[7]);

  // A card's facts come with the listing.
  const json card = byId.json()[0];
  for (const char* k : {"state", "batteryCharge", "jammed", "localTime", "nextSync", "online"})
    EXPECT_TRUE(card.contains(k)) << k << " in " << card.dump();

  // Past the end: an empty page, the same total. Bad paging is refused with what was wrong.
  auto past = h.admin().get("/sim/v1/smartlocks?offset=100&limit=10");
  EXPECT_EQ(past.json().size(), 0u);
  EXPECT_EQ(past.headers["x-total-count"], "12");
  auto bad = h.admin().get("/sim/v1/smartlocks?limit=0");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("limit"), std::string::npos) << bad.body;
  EXPECT_EQ(h.admin().get("/sim/v1/smartlocks?offset=-1").status, 400);
}

TEST(DashboardApi, TheDeviceViewShowsWhatNukiWebShowsBesideItAndTheKeypadsPastTries) {
  SimHarness h(withUi());
  auto account = h.createAccount();
  const uint64_t id = h.createLock(account.accountId, {{"timezone", "Europe/Berlin"}});
  const std::string base = "/sim/v1/smartlocks/" + std::to_string(id);
  ASSERT_EQ(
      h.admin().post(base + "/device-codes", {{"name", "Neighbour"}, {"code", 345678}}).status,
      201);

  TestClient nuki(h.port(), account.token);
  auto created =
      nuki.put("/smartlock/" + std::to_string(id) + "/auth",
               {{"name", "Guest"}, {"type", 13}, {"code", 234567}, {"remoteAllowed", false}});
  ASSERT_EQ(created.status, 204) << created.body;

  json d = h.device(id);
  ASSERT_EQ(d["pendingChanges"].size(), 1u) << d.dump();
  EXPECT_EQ(d["pendingChanges"][0]["kind"], "authCreate");
  EXPECT_EQ(d["pendingChanges"][0]["auth"]["code"], 234567);
  EXPECT_EQ(d["webCodes"].size(), 0u) << "nothing synced yet";

  h.advance(10);  // delivered to the lock
  d = h.device(id);
  EXPECT_EQ(d["codes"].size(), 2u);
  EXPECT_TRUE(d["pendingChanges"][0]["delivered"]);
  for (const auto& c : d["codes"])
    EXPECT_GT(c["createdMs"].get<int64_t>(), 0) << c.dump();

  ASSERT_EQ(h.admin().post(base + "/sync").status, 200);
  d = h.device(id);
  EXPECT_EQ(d["webCodes"].size(), 2u) << d.dump();
  EXPECT_EQ(d["pendingChanges"].size(), 0u);

  ASSERT_EQ(h.admin().post(base + "/keypad", {{"code", 234567}}).status, 200);
  ASSERT_EQ(h.admin().post(base + "/keypad", {{"code", 999999}}).status, 200);
  d = h.device(id);
  ASSERT_EQ(d["keypadTries"].size(), 2u);
  EXPECT_TRUE(d["keypadTries"][0]["granted"]);
  EXPECT_EQ(d["keypadTries"][1]["reason"], "UNKNOWN_CODE");
  EXPECT_EQ(d["keypadTries"][1]["code"], 999999);
  ASSERT_GE(d["logs"].size(), 2u);
  EXPECT_EQ(d["logs"][0]["state"], 224) << "the newest first: the wrong code";
  EXPECT_TRUE(d["localTime"].get<std::string>().size() == 16) << d["localTime"];

  // Only the last ones are kept, and they survive a snapshot.
  for (int i = 0; i < int(sim::kKeypadTriesKept) + 5; ++i)
    ASSERT_EQ(h.admin().post(base + "/keypad", {{"code", 111111 + i}}).status, 200);
  auto snap = h.admin().get("/sim/v1/snapshot");
  ASSERT_EQ(snap.status, 200);
  ASSERT_EQ(h.admin().request("PUT", "/sim/v1/snapshot", snap.body).status, 200);
  d = h.device(id);
  ASSERT_EQ(d["keypadTries"].size(), sim::kKeypadTriesKept);
  EXPECT_EQ(d["keypadTries"].back()["code"], 111111 + int(sim::kKeypadTriesKept) + 4);
}

TEST(DashboardApi, TheJournalOfOneLockHoldsOnlyItsCalls) {
  SimHarness h(withUi());
  auto account = h.createAccount();
  const uint64_t a = h.createLock(account.accountId);
  const uint64_t b = h.createLock(account.accountId);
  TestClient nuki(h.port(), account.token);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(nuki.get("/smartlock/" + std::to_string(a)).status, 200);
    ASSERT_EQ(nuki.get("/smartlock/" + std::to_string(b)).status, 200);
  }
  ASSERT_EQ(nuki.get("/smartlock").status, 200);
  auto r = h.admin().get("/sim/v1/journal?smartlockId=" + std::to_string(a) + "&last=2");
  ASSERT_EQ(r.status, 200) << r.body;
  const json entries = r.json()["entries"];
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries)
    EXPECT_EQ(e["path"], "/smartlock/" + std::to_string(a));
  EXPECT_LT(entries[0]["seq"].get<uint64_t>(), entries[1]["seq"].get<uint64_t>());
  EXPECT_EQ(h.admin().get("/sim/v1/journal?smartlockId=x").status, 400);
}

TEST(DashboardApi, SigningInGivesAnHttpOnlyCookieThatWorksOnlyWithThePagesHeader) {
  SimHarness h(withUi());
  TestClient browser(h.port());
  auto page = browser.get("/sim/ui");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_NE(page.headers["content-security-policy"].find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(browser.get("/sim/ui/app.js").status, 200);
  EXPECT_EQ(browser.get("/sim/ui/app.css").status, 200);

  std::vector<std::pair<std::string, std::string>> fromPage = {{"X-Nukisim-UI", "1"}};
  auto wrong = browser.request("POST", "/sim/ui/login", json{{"token", "guess"}}.dump(), fromPage);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.headers.count("set-cookie"), 0u);
  auto noHeader = browser.request("POST", "/sim/ui/login", json{{"token", h.adminToken()}}.dump());
  EXPECT_EQ(noHeader.status, 403) << "a form on another site cannot sign in";

  auto in =
      browser.request("POST", "/sim/ui/login", json{{"token", h.adminToken()}}.dump(), fromPage);
  ASSERT_EQ(in.status, 204) << in.body;
  const std::string cookie = in.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find(h.adminToken()), std::string::npos) << "the cookie is not the token";
  const std::string session = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(session.rfind("nukisim_session=", 0), 0u) << "no port in the Host: the plain name";

  // A cookie of another nukisim on this host (another port) beside it does not get in the way.
  fromPage.emplace_back("Host", "127.0.0.1:" + std::to_string(h.port()));
  auto again =
      browser.request("POST", "/sim/ui/login", json{{"token", h.adminToken()}}.dump(), fromPage);
  ASSERT_EQ(again.status, 204);
  const std::string named =
      again.headers["set-cookie"].substr(0, again.headers["set-cookie"].find(';'));
  EXPECT_EQ(named.rfind("nukisim_session_" + std::to_string(h.port()) + "=", 0), 0u) << named;
  EXPECT_EQ(browser
                .request("GET", "/sim/v1/health", "",
                         {{"Cookie", "nukisim_session_1=stale; " + named}, {"X-Nukisim-UI", "1"}})
                .status,
            200);

  auto withCookie = [&](bool header) {
    auto hs = std::vector<std::pair<std::string, std::string>>{{"Cookie", "a=b; " + session}};
    if (header) hs.emplace_back("X-Nukisim-UI", "1");
    return browser.request("GET", "/sim/v1/health", "", hs).status;
  };
  EXPECT_EQ(withCookie(true), 200);
  EXPECT_EQ(withCookie(false), 401) << "the cookie alone is not enough";

  auto out =
      browser.request("POST", "/sim/ui/logout", "", {{"Cookie", session}, {"X-Nukisim-UI", "1"}});
  EXPECT_EQ(out.status, 204);
  EXPECT_EQ(withCookie(true), 401) << "signed out";
}

TEST(DashboardApi, WithoutUiThereIsNoDashboardAndNoCookieSignIn) {
  SimHarness h(withUi(false));
  TestClient browser(h.port());
  auto page = browser.get("/sim/ui");
  EXPECT_EQ(page.status, 404);
  EXPECT_NE(page.body.find("--ui"), std::string::npos) << page.body;
  auto in = browser.request("POST", "/sim/ui/login", json{{"token", h.adminToken()}}.dump(),
                            {{"X-Nukisim-UI", "1"}});
  EXPECT_EQ(in.status, 404);
}

}  // namespace
}  // namespace nukihil::test
