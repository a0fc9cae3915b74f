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

void expectControlError(const HttpResult& r, int status, const std::string& code,
                        const std::string& mentions, const std::string& what) {
  EXPECT_EQ(r.status, status) << what << ": " << r.body;
  const json j = r.json();
  ASSERT_TRUE(j.is_object() && j.contains("error") && j["error"].is_object())
      << what << ": " << r.body;
  EXPECT_EQ(j["error"].value("code", ""), code) << what << ": " << r.body;
  EXPECT_NE(j["error"].value("message", "").find(mentions), std::string::npos)
      << what << ": the message should mention '" << mentions << "': " << r.body;
}

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

// ---- items 2 and 3: PUT /sim/v1/snapshot ----------------------------------------------------

// A world whose snapshot holds every part: webhook with a pending delivery, fault, journal,
// logs, a queued command and a pending auth change on an offline lock.
struct Busy : Fixture {
  TestClient api{h.port(), account.token};
  Busy() {
    auto hook = api.put("/api/decentralWebhook",
                        {{"webhookUrl", h.receiverUrl()},
                         {"webhookFeatures", {"DEVICE_STATUS", "DEVICE_LOGS", "DEVICE_AUTHS"}}});
    EXPECT_EQ(hook.status, 200) << hook.body;
    EXPECT_EQ(h.admin().post("/sim/v1/faults", {{"route", "/nowhere"}, {"status", 503}}).status,
              201);
    EXPECT_EQ(h.admin().post(lockPath(pro, "/keypad"), {{"code", 345678}}).status, 200);
    h.advance(10);
    EXPECT_EQ(h.admin().post(lockPath(pro, "/connectivity"), {{"online", false}}).status, 200);
    EXPECT_EQ(api.post("/smartlock/" + std::to_string(pro) + "/action/lock").status, 204);
    EXPECT_EQ(api.put("/smartlock/" + std::to_string(pro) + "/auth",
                      {{"name", "Guest"}, {"type", 13}, {"code", 456789}, {"remoteAllowed", true}})
                  .status,
              204);
    EXPECT_EQ(api.get("/smartlock").status, 200);
  }
  json snapshot() {
    auto r = h.admin().get("/sim/v1/snapshot");
    EXPECT_EQ(r.status, 200);
    return json::parse(r.body);
  }
  // The next requests, which used to crash on a damaged world, all answer.
  void stillServes(const std::string& what) {
    EXPECT_EQ(api.get("/smartlock").status, 200) << what;
    EXPECT_EQ(api.get("/smartlock/auth/paged").status, 200) << what;
    EXPECT_EQ(api.get("/smartlock/log").status, 200) << what;
    EXPECT_EQ(h.admin().get(lockPath(pro, "/device")).status, 200) << what;
    EXPECT_EQ(h.admin().get(lockPath(k30, "/device")).status, 200) << what;
    EXPECT_EQ(h.admin().get("/sim/v1/journal").status, 200) << what;
    EXPECT_EQ(h.admin().post(lockPath(pro, "/connectivity"), {{"online", true}}).status, 200)
        << what;
    EXPECT_EQ(h.admin().post("/sim/v1/clock/advance", {{"seconds", 86400}}).status, 200) << what;
    EXPECT_EQ(api.get("/smartlock").status, 200) << what;
  }
};

struct Damage {
  std::string what;
  std::function<void(json&)> apply;
  std::string path;  // the message names it
};

void expectRefused(Busy& b, const Damage& d) {
  SCOPED_TRACE(d.what);
  const auto before = b.h.admin().get("/sim/v1/snapshot").body;
  json damaged = json::parse(before);
  d.apply(damaged);
  auto r = b.h.admin().request("PUT", "/sim/v1/snapshot", damaged.dump());
  expectControlError(r, 400, "BAD_SNAPSHOT", d.path, d.what);
  EXPECT_EQ(b.h.admin().get("/sim/v1/snapshot").body, before)
      << d.what << ": a refused restore changed the world";
  if (r.status != 400) return;
  b.stillServes(d.what);
  // Back to the world of the snapshot, for the next case.
  EXPECT_EQ(b.h.admin().request("PUT", "/sim/v1/snapshot", before).status, 200) << d.what;
}

// Every index, count and range is checked on restore: a damaged snapshot is a 400 naming the
// JSON path, nothing of the running world changes, and the next requests are served.
TEST(Hardening, DamagedSnapshotIs400WithThePathAndTheWorldIsUnchanged) {
  Busy b;
  const json good = b.snapshot();
  ASSERT_EQ(good["locks"].size(), 2u);
  ASSERT_FALSE(good["locks"][0]["queue"].empty()) << good["locks"][0].dump();
  ASSERT_FALSE(good["journal"]["entries"].empty());
  ASSERT_FALSE(good["webhooks"].empty());
  ASSERT_FALSE(good["scheduler"]["events"].empty());
  const std::vector<Damage> cases = {
      {"a lock index of -1", [](json& j) { j["accounts"][0]["locks"][0] = -1; },
       "accounts[0].locks[0]"},
      {"a lock index past the end", [](json& j) { j["accounts"][0]["locks"][1] = 7; },
       "accounts[0].locks[1]"},
      {"locks an object", [](json& j) { j["locks"] = json::object(); }, "locks"},
      // Found in review: json::value() threw on a format or version of another type (a 500).
      {"a format that is a number", [](json& j) { j["format"] = 1; }, "format"},
      {"a version that is a string", [](json& j) { j["version"] = "1"; }, "version"},
      {"a reported-log count of 1,000,000",
       [](json& j) { j["locks"][0]["reportedLogs"] = 1000000; }, "locks[0].reportedLogs"},
      {"more logs than a lock keeps",
       [](json& j) {
         auto& logs = j["locks"][0]["logs"];
         while (logs.size() <= 1000)
           logs.push_back(logs[0]);
       },
       "locks[0].logs"},
      {"a journal sequence of 2^32",
       [](json& j) { j["journal"]["entries"][0][0] = uint64_t(1) << 32; }, "journal.entries[1][0]"},
      {"a journal next sequence behind its entries", [](json& j) { j["journal"]["nextSeq"] = 1; },
       "journal.nextSeq"},
      {"an event for a missing lock",
       [](json& j) {
         for (auto& e : j["scheduler"]["events"])
           if (e[2] != 6) {  // not a webhook send: a lock's event
             e[3] = 99;
             break;
           }
       },
       "scheduler.events["},
      {"an event of an unknown kind", [](json& j) { j["scheduler"]["events"][0][2] = 42; },
       "scheduler.events[0]"},
      {"a bridge of a missing account", [](json& j) { j["bridges"][0]["account"] = 7; },
       "bridges[0].account"},
      {"a bridge listing a missing lock", [](json& j) { j["bridges"][0]["locks"][0] = 5; },
       "bridges[0].locks[0]"},
      {"a 3.0 on a missing bridge", [](json& j) { j["locks"][1]["bridge"] = 5; },
       "bridges[0].locks[0]"},
      {"a 3.0 Pro on a bridge", [](json& j) { j["locks"][0]["bridge"] = 0; }, "locks[0].bridge"},
      {"a webhook of account 4e9",
       [](json& j) { j["webhooks"][0]["account"] = uint64_t(4000000000); }, "webhooks[0].account"},
      {"an all-zero random state",
       [](json& j) {
         j["random"] = {0, 0, 0, 0};
       },
       "random"},
      {"no idCounter", [](json& j) { j.erase("idCounter"); }, "idCounter"},
      {"no faults.nextId", [](json& j) { j["faults"].erase("nextId"); }, "faults.nextId"},
      {"a motor state of 99", [](json& j) { j["locks"][0]["device"][1] = 99; },
       "locks[0].device[1]"},
      {"a battery of 300", [](json& j) { j["locks"][0]["device"][5] = 300; }, "locks[0].device[5]"},
      {"an unknown time zone", [](json& j) { j["locks"][0]["settings"][5] = "Mars/Olympus"; },
       "locks[0].settings[5]"},
      {"a sync minute of 5000", [](json& j) { j["locks"][0]["settings"][4] = 5000; },
       "locks[0].settings[4]"},
      {"device auths out of id order",
       [](json& j) {
         auto& a = j["locks"][1]["deviceAuths"];
         std::swap(a[0], a[1]);
       },
       "locks[1].deviceAuths"},
      {"an auth type of 7", [](json& j) { j["locks"][0]["deviceAuths"][0][13] = 7; },
       "locks[0].deviceAuths[0][13]"},
      {"a queued command of kind 9", [](json& j) { j["locks"][0]["queue"][0]["kind"] = 9; },
       "locks[0].queue[0].kind"},
      {"two locks with one nukiId",
       [](json& j) {
         j["locks"][1]["nukiId"] = j["locks"][0]["nukiId"];
         j["locks"][1]["smartlockId"] = j["locks"][0]["smartlockId"];
       },
       "locks[1].nukiId"},
      {"an account token that is empty", [](json& j) { j["accounts"][0]["apiToken"] = ""; },
       "accounts[0].apiToken"},
      {"a fault effect of 9", [](json& j) { j["faults"]["list"][0]["effect"] = 9; },
       "faults.list[0].effect"},
      {"a lock listed by no account", [](json& j) { j["accounts"][0]["locks"].erase(1); },
       "locks[1]"},
  };
  for (const auto& d : cases)
    expectRefused(b, d);
  // The intact snapshot still restores.
  auto ok = b.h.admin().request("PUT", "/sim/v1/snapshot", good.dump());
  EXPECT_EQ(ok.status, 200) << ok.body;
}

// The checks refuse only what cannot happen: a webhook deleted while a retry of it is
// scheduled leaves that send event behind (it is ignored when it runs), and such a world's
// snapshot restores.
TEST(Hardening, SnapshotWithAPendingSendOfADeletedWebhookRestores) {
  Fixture f;
  TestClient api(f.h.port(), f.account.token);
  f.h.setReceiverStatus(503);
  auto hook = api.put("/api/decentralWebhook",
                      {{"webhookUrl", f.h.receiverUrl()}, {"webhookFeatures", {"DEVICE_LOGS"}}});
  ASSERT_EQ(hook.status, 200) << hook.body;
  EXPECT_EQ(f.h.admin().post(f.lockPath(f.pro, "/keypad"), {{"code", 345678}}).status, 200);
  f.h.advance(1);  // the first attempt fails; a retry is scheduled
  const std::string id = std::to_string(hook.json()["id"].get<int64_t>());
  EXPECT_EQ(api.del("/api/decentralWebhook/" + id).status, 204);
  auto snap = f.h.admin().get("/sim/v1/snapshot");
  const json parsed = json::parse(snap.body);
  bool sendLeft = false;
  for (const auto& e : parsed["scheduler"]["events"])
    sendLeft = sendLeft || e[2] == 6;
  EXPECT_TRUE(sendLeft) << "the case this test is about: " << parsed["scheduler"].dump();
  auto r = f.h.admin().request("PUT", "/sim/v1/snapshot", snap.body);
  EXPECT_EQ(r.status, 200) << r.body;
  f.h.advance(3600);
}

// Issue 8 (snapshot codecs beside each component): every part decodes to what it was
// encoded from. A snapshot holding every part, restored into a simulator with another world,
// snapshots to the same bytes, and so does the world it was taken from after restoring it.
TEST(Snapshot, EveryPartRoundTripsByteForByte) {
  Busy b;
  b.h.setReceiverStatus(503);  // a stream with undelivered events and failed attempts
  EXPECT_EQ(b.h.admin().post(b.lockPath(b.k30, "/keypad"), {{"code", 345678}}).status, 200);
  b.h.advance(1);
  const std::string taken = b.h.admin().get("/sim/v1/snapshot").body;
  const json parts = json::parse(taken);
  bool undelivered = false;
  for (const auto& hook : parts["webhooks"])
    for (const auto& s : hook["streams"])
      undelivered = undelivered || (!s["queue"].empty() && s["attempts"] > 0);
  EXPECT_TRUE(undelivered) << parts["webhooks"].dump();
  EXPECT_FALSE(parts["faults"]["list"].empty());
  EXPECT_FALSE(parts["locks"][0]["pending"].empty()) << parts["locks"][0].dump();
  EXPECT_FALSE(parts["bridges"].empty());

  SimHarness other;
  other.createLock(other.createAccount("Elsewhere").accountId, {{"model", "3.0"}});
  auto r = other.admin().request("PUT", "/sim/v1/snapshot", taken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(other.admin().get("/sim/v1/snapshot").body, taken);

  r = b.h.admin().request("PUT", "/sim/v1/snapshot", taken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(b.h.admin().get("/sim/v1/snapshot").body, taken);
}

// SPEC §3: virtual time stays between 2000 and 2037. A snapshot at 2^63-1 ms used to be taken,
// and the next advance spun forever (ignoring SIGTERM).
TEST(Hardening, SnapshotTimesOutside2000To2037AreRefused) {
  Busy b;
  const std::vector<Damage> cases = {
      {"nowMs 2^63-1", [](json& j) { j["nowMs"] = INT64_MAX; }, "nowMs"},
      {"nowMs in year -29719", [](json& j) { j["nowMs"] = int64_t(-1000000000000000); }, "nowMs"},
      {"nowMs 2038-01-01", [](json& j) { j["nowMs"] = int64_t(2145916800000); }, "nowMs"},
      {"nowMs 1999-12-31", [](json& j) { j["nowMs"] = int64_t(946684799999); }, "nowMs"},
      {"an event at 2^63-1", [](json& j) { j["scheduler"]["events"][0][0] = INT64_MAX; },
       "scheduler.events[0]"},
      {"a next sync at 2^63-1", [](json& j) { j["locks"][0]["web"][5] = INT64_MAX; },
       "locks[0].web[5]"},
      {"a command ready at -2^63+1",
       [](json& j) { j["locks"][0]["queue"][0]["readyMs"] = INT64_MIN + 1; },
       "locks[0].queue[0].readyMs"},
  };
  for (const auto& d : cases)
    expectRefused(b, d);
}

// Every time the control plane takes stays in 2000–2037 too.
TEST(Hardening, ControlPlaneTimesOutside2000To2037AreRefused) {
  Fixture f;
  auto& admin = f.h.admin();
  expectControlError(admin.post("/sim/v1/clock/advance", {{"to", "2038-01-01T00:00:00Z"}}), 400,
                     "BAD_REQUEST", "2038", "advance to 2038");
  expectControlError(admin.post("/sim/v1/clock/advance", {{"seconds", int64_t(1) << 40}}), 400,
                     "BAD_REQUEST", "seconds", "advance by 2^40 s");
  expectControlError(
      admin.post("/sim/v1/faults",
                 {{"route", "*"}, {"status", 503}, {"until", "9999-12-31T23:59:59Z"}}),
      400, "BAD_REQUEST", "until", "a fault until 9999");
  expectControlError(
      admin.post("/sim/v1/faults",
                 {{"route", "*"}, {"status", 503}, {"from", "1970-01-01T00:00:00Z"}}),
      400, "BAD_REQUEST", "from", "a fault from 1970");
  expectControlError(admin.post(f.lockPath(f.pro, "/device-codes"),
                                {{"name", "Old"},
                                 {"code", 345678},
                                 {"allowedFromDate", "1901-01-01T00:00:00Z"},
                                 {"allowedUntilDate", "2030-01-01T00:00:00Z"}}),
                     400, "BAD_REQUEST", "allowedFromDate", "a device code from 1901");
  EXPECT_EQ(admin.get("/sim/v1/faults").json(), json::array());
  EXPECT_EQ(admin.get("/sim/v1/clock").json()["epochSeconds"], 1735689600);
}

// ---- item 4: POST /sim/v1/fleet, caps and all or nothing ----------------------------------

// The whole world as the control plane shows it, to compare before and after a refused load.
std::string worldOf(SimHarness& h) {
  return h.admin().get("/sim/v1/snapshot").body;
}

// README: a fleet load may bring the world to at most 100,000 locks and 10,000,000 keypad
// codes; the total is checked before anything is built.
TEST(Hardening, FleetOverTheTotalCapIs400UpFrontAndAddsNothing) {
  Fixture f;
  const auto before = worldOf(f.h);
  auto over = f.h.admin().post("/sim/v1/fleet",
                               {{"generate", {{"accounts", 1}, {"locksPerAccount", 100000}}}});
  expectControlError(over, 400, "BAD_FLEET", "100000", "2 + 100,000 locks");
  ASSERT_EQ(over.status, 400) << "the cap is not checked; not trying the larger fleets";
  EXPECT_EQ(worldOf(f.h), before);
  for (const json& g :
       {json{{"accounts", 1}, {"locksPerAccount", 10000000}, {"codesPerLock", 100}},
        json{{"accounts", 100000}, {"locksPerAccount", 10000000}, {"codesPerLock", 100}},
        json{{"accounts", 3}, {"locksPerAccount", 40000}, {"codesPerLock", 1}}}) {
    auto r = f.h.admin().post("/sim/v1/fleet", {{"generate", g}});
    expectControlError(r, 400, "BAD_FLEET", "at most", g.dump());
    EXPECT_EQ(worldOf(f.h), before) << g.dump();
  }
  // Under the cap is fine.
  auto ok = f.h.admin().post(
      "/sim/v1/fleet",
      {{"generate", {{"accounts", 2}, {"locksPerAccount", 3}, {"codesPerLock", 2}}}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(f.h.admin().get("/sim/v1/health").json()["smartlocks"], 8);
}

// A bad second lock used to leave the first one and its account behind.
TEST(Hardening, FleetLoadIsAllOrNothing) {
  Fixture f;
  const auto before = worldOf(f.h);
  const std::vector<json> bad = {
      {{"accounts",
        {{{"name", "A"},
          {"apiToken", "tok-aaaaaaaaaaaaaaaa"},
          {"smartlocks", {{{"name", "ok"}}, {{"name", "bad"}, {"model", "2.0"}}}}}}}},
      {{"defaults", {{"motorSeconds", 9}}},
       {"accounts",
        {{{"name", "B"}, {"smartlocks", {{{"name", "ok"}}}}},
         {{"name", "C"},
          {"smartlocks", {{{"name", "x"}, {"codes", {{{"name", "bad"}, {"code", 123456}}}}}}}}}}},
      {{"accounts", {{{"name", "D"}, {"smartlocks", {{{"name", "ok"}}}}}}},
       {"generate", {{"accounts", 1}, {"locksPerAccount", 2}, {"model", "2.0"}}}},
      {{"generate",
        {{"accounts", 2}, {"locksPerAccount", 2}, {"smartlock", {{"timezone", "Nowhere/City"}}}}}},
  };
  for (const auto& fleet : bad) {
    auto r = f.h.admin().post("/sim/v1/fleet", fleet);
    EXPECT_EQ(r.status, 400) << fleet.dump() << ": " << r.body;
    EXPECT_EQ(worldOf(f.h), before) << fleet.dump() << ": a refused load left something behind";
  }
  TestClient stranger(f.h.port(), "tok-aaaaaaaaaaaaaaaa");
  EXPECT_EQ(stranger.get("/smartlock").status, 401);
  // The defaults of a refused load do not stay either.
  const uint64_t lock = f.h.createLock(f.account.accountId);
  auto created = f.h.admin().get("/sim/v1/smartlocks/" + std::to_string(lock));
  EXPECT_EQ(created.json()["motorSeconds"], 3) << created.body;
}

// ---- item 12: fleet files and control-plane bodies refuse typos -----------------------------

TEST(Hardening, FleetUnknownKeysAreRefusedWithPathAndNearestName) {
  Fixture f;
  const auto before = worldOf(f.h);
  const json code = {{"name", "Family"}, {"code", 345678}};
  const json cleaner = {{"name", "Cleaner"},
                        {"code", 456789},
                        {"allowedWeekdays", 96},
                        {"allowedFromTime", 480},
                        {"allowedUntilTime", 720}};
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"accounts", {{{"smartlocks", {{{"name", "Front"}, {"codes", {code, cleaner}}}}}}}}},
       "accounts[0].smartlocks[0].codes[1]: unknown field 'allowedWeekdays' (allowedWeekDays?)"},
      {{{"accounts", {{{"name", "A"}, {"smartlock", json::array()}}}}},
       "accounts[0]: unknown field 'smartlock' (smartlocks?)"},
      {{{"accounts", {{{"smartlocks", {{{"modle", "3.0"}}}}}}}},
       "accounts[0].smartlocks[0]: unknown field 'modle' (model?)"},
      {{{"defaults", {{"syncat", "04:00"}}}}, "defaults: unknown field 'syncat' (syncAt?)"},
      {{{"acounts", json::array()}}, "unknown field 'acounts' (accounts?)"},
      {{{"generate", {{"accounts", 1}, {"locksPerAcount", 2}}}},
       "generate: unknown field 'locksPerAcount' (locksPerAccount?)"},
      {{{"generate", {{"smartlock", {{"timezon", "UTC"}}}}}},
       "generate.smartlock: unknown field 'timezon' (timezone?)"},
  };
  for (const auto& [fleet, message] : cases) {
    auto r = f.h.admin().post("/sim/v1/fleet", fleet);
    expectControlError(r, 400, "BAD_FLEET", message, fleet.dump());
    EXPECT_EQ(worldOf(f.h), before) << fleet.dump();
  }
  // Invalid JSON: line and column.
  auto r = f.h.admin().request("POST", "/sim/v1/fleet",
                               "{\n  \"accounts\": [\n    {\"name\": \"A\",}\n  ]\n}");
  expectControlError(r, 400, "BAD_REQUEST", "line 3, column 18", "a trailing comma");
}

TEST(Hardening, ControlPlaneBodiesRefuseUnknownKeysAndSayWhereJsonBreaks) {
  Fixture f;
  auto& admin = f.h.admin();
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"/sim/v1/clock/advance", {{"secnds", 5}}, "unknown field 'secnds' (seconds?)"},
      {"/sim/v1/accounts",
       {{"name", "x"}, {"apiTokn", "tok-bbbbbbbbbbbbbbbb"}},
       "unknown field 'apiTokn' (apiToken?)"},
      {"/sim/v1/smartlocks",
       {{"accountId", f.account.accountId}, {"modle", "3.0"}},
       "unknown field 'modle' (model?)"},
      {f.lockPath(f.pro, "/keypad"), {{"cod", 345678}}, "unknown field 'cod' (code?)"},
      {f.lockPath(f.pro, "/connectivity"), {{"onlne", false}}, "unknown field 'onlne' (online?)"},
      {f.lockPath(f.pro, "/battery"),
       {{"charge", 50}, {"chrage", 5}},
       "unknown field 'chrage' (charge?)"},
      {f.lockPath(f.pro, "/jam"), {{"jamed", true}}, "unknown field 'jamed' (jammed?)"},
      {f.lockPath(f.pro, "/manual"), {{"acton", "lock"}}, "unknown field 'acton' (action?)"},
      {f.lockPath(f.pro, "/device-codes"),
       {{"name", "Cleaner"}, {"code", 456789}, {"allowedWeekdays", 96}},
       "unknown field 'allowedWeekdays' (allowedWeekDays?)"},
      {"/sim/v1/faults",
       {{"route", "*"}, {"status", 503}, {"probabilty", 0.5}},
       "unknown field 'probabilty' (probability?)"},
  };
  const auto before = worldOf(f.h);
  for (const auto& [path, body, message] : cases) {
    auto r = admin.post(path, body);
    expectControlError(r, 400, "BAD_REQUEST", message, path + " " + body.dump());
  }
  EXPECT_EQ(worldOf(f.h), before);
  auto bad = admin.request("POST", "/sim/v1/clock/advance", "{\"seconds\":\n}");
  expectControlError(bad, 400, "BAD_REQUEST", "line 2, column 1", "advance {\"seconds\":\\n}");
  // A number no double holds is an out_of_range in the JSON library, not a parse error: still a
  // 400 (it was a 500), in a fleet as in any body.
  for (const std::string target : {"/sim/v1/clock/advance", "/sim/v1/fleet"}) {
    auto huge = admin.request("POST", target, "{\"seconds\":1e999}");
    expectControlError(huge, 400, "BAD_REQUEST", "1e999", target + " 1e999");
  }
  EXPECT_EQ(worldOf(f.h), before);
}

// ---- smaller ones ---------------------------------------------------------------------------

TEST(Hardening, AdvanceTakesSecondsOrToNotBoth) {
  Fixture f;
  auto r =
      f.h.admin().post("/sim/v1/clock/advance", {{"seconds", 10}, {"to", "2025-06-01T00:00:00Z"}});
  expectControlError(r, 400, "BAD_REQUEST", "not both", "seconds and to");
  EXPECT_EQ(f.h.admin().get("/sim/v1/clock").json()["epochSeconds"], 1735689600);
}

// SPEC §4: POST …/keypad {"code":N}, a number.
TEST(Hardening, KeypadCodeMustBeANumber) {
  Fixture f;
  EXPECT_EQ(f.h.admin()
                .post(f.lockPath(f.pro, "/device-codes"), {{"name", "F"}, {"code", 345678}})
                .status,
            201);
  auto r = f.h.admin().post(f.lockPath(f.pro, "/keypad"), {{"code", "345678"}});
  expectControlError(r, 400, "BAD_REQUEST", "code", "a string code");
  EXPECT_EQ(f.h.device(f.pro)["unreportedLogs"], 0);
  EXPECT_EQ(f.h.device(f.pro)["state"], 3) << "nobody typed anything";
  auto n = f.h.admin().post(f.lockPath(f.pro, "/keypad"), {{"code", 345678}});
  EXPECT_EQ(n.status, 200) << n.body;
  EXPECT_EQ(n.json()["granted"], true) << n.body;
}

TEST(Hardening, TokensWithLineBreaksOrOnlySpacesAndHugeNamesAre400) {
  Fixture f;
  auto& admin = f.h.admin();
  const std::string huge(1 << 20, 'n');
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"/sim/v1/accounts",
       {{"name", "x"}, {"apiToken", "tok-0123456789\r\nX-Evil: 1"}},
       "apiToken"},
      {"/sim/v1/accounts", {{"name", "x"}, {"apiToken", std::string(20, ' ')}}, "apiToken"},
      {"/sim/v1/accounts", {{"name", "x"}, {"apiToken", "tok 0123456789abcdef"}}, "apiToken"},
      {"/sim/v1/accounts", {{"name", huge}}, "name"},
      {"/sim/v1/accounts", {{"name", "x"}, {"email", huge}}, "email"},
      {"/sim/v1/smartlocks", {{"accountId", f.account.accountId}, {"name", huge}}, "name"},
  };
  for (const auto& [path, body, mention] : cases) {
    auto r = admin.post(path, body);
    expectControlError(r, 400, "BAD_REQUEST", mention, path + " " + body.dump().substr(0, 80));
  }
  auto fleet = admin.post(
      "/sim/v1/fleet", {{"accounts", {{{"name", "A"}, {"apiToken", "tok-0123456789abc\ndef"}}}}});
  expectControlError(fleet, 400, "BAD_FLEET", "accounts[0].apiToken", "a fleet token with LF");
  auto fleetName = admin.post("/sim/v1/fleet", {{"accounts", {{{"name", huge}}}}});
  expectControlError(fleetName, 400, "BAD_FLEET", "accounts[0].name", "a 1 MB fleet name");
  EXPECT_EQ(admin.get("/sim/v1/accounts").json().size(), 1u);
}

}  // namespace
}  // namespace nukihil::test
