// The adapter's logic with GoogleMock fakes of Nuki Web and of the webhook sink, on a virtual
// clock: no sockets. (The same rules against the real simulator: rules_test.cc.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapter/adapter.h"

namespace nukihil::adapter {
namespace {

using nlohmann::json;
using ::testing::_;
using ::testing::Invoke;
using ::testing::NiceMock;
using ::testing::Return;

class MockNuki : public NukiApi {
 public:
  MOCK_METHOD(void, listSmartlocks, (std::function<void(const NukiResult&, std::vector<NukiLock>)>),
              (override));
  MOCK_METHOD(void, getSmartlock,
              (uint64_t, std::function<void(const NukiResult&, std::optional<NukiLock>)>),
              (override));
  MOCK_METHOD(void, lockAction, (uint64_t, bool, std::function<void(const NukiResult&)>),
              (override));
  MOCK_METHOD(void, listAuths,
              (uint64_t, std::function<void(const NukiResult&, std::vector<NukiAuth>)>),
              (override));
  MOCK_METHOD(void, createAuth,
              (uint64_t, const NukiAuthFields&, std::function<void(const NukiResult&)>),
              (override));
  MOCK_METHOD(void, updateAuth,
              (uint64_t, const std::string&, const NukiAuthFields&,
               std::function<void(const NukiResult&)>),
              (override));
  MOCK_METHOD(void, deleteAuth,
              (uint64_t, const std::string&, std::function<void(const NukiResult&)>), (override));
  MOCK_METHOD(void, listLogs,
              (uint64_t, int, std::function<void(const NukiResult&, std::vector<NukiLog>)>),
              (override));
  MOCK_METHOD(void, requestSync, (uint64_t, std::function<void(const NukiResult&)>), (override));
  MOCK_METHOD(void, registerWebhook,
              (const std::string&, const std::vector<std::string>&,
               std::function<void(const NukiResult&, int64_t, std::string)>),
              (override));
  MOCK_METHOD(
      void, listWebhooks,
      (std::function<void(const NukiResult&, std::vector<std::pair<int64_t, std::string>>)>),
      (override));
  MOCK_METHOD(void, deleteWebhook, (int64_t, std::function<void(const NukiResult&)>), (override));
};

class MockSink : public WebhookSink {
 public:
  MOCK_METHOD(std::string, enqueue, (std::string_view, std::string_view, json), (override));
};

NukiResult ok() {
  NukiResult r;
  r.status = 204;
  r.attempts = 1;
  return r;
}
NukiResult refused(int status, int attempts = 1) {
  NukiResult r;
  r.outcome = NukiResult::Outcome::kRefused;
  r.status = status;
  r.attempts = attempts;
  return r;
}

NukiLock lock(uint64_t id, int state = 3, int battery = 90, int serverState = 0) {
  NukiLock l;
  l.smartlockId = id;
  l.type = 4;
  l.name = "Door";
  l.wifi = true;
  l.serverState = serverState;
  l.state = state;
  l.batteryCharge = battery;
  l.batteryCritical = battery <= 20;
  return l;
}

NukiAuth auth(const std::string& id, int64_t code, const std::string& name) {
  NukiAuth a;
  a.id = id;
  a.type = 13;
  a.code = code;
  a.name = name;
  return a;
}

// One adapter on fakes. Webhooks are recorded as "type field=value @actionId".
class AdapterTest : public ::testing::Test {
 protected:
  AdapterTest() : db(":memory:") {
    ON_CALL(sink, enqueue(_, _, _))
        .WillByDefault(Invoke([this](std::string_view d, std::string_view t, json c) {
          std::string line(t);
          if (t == "deviceEventSetState")
            line = "SetState " + c["fieldName"].get<std::string>() + "=" +
                   (c["fieldName"] == "pinCodeCredentials" ? std::to_string(c["value"].size())
                                                           : c["value"].dump());
          if (t == "deviceEventUpdateAction")
            line = "UpdateAction " + c["status"].get<std::string>() +
                   (c.contains("reason") ? " " + c["reason"].get<std::string>() : "");
          if (t == "deviceEventQueueAction")
            line = "QueueAction " + c["actionName"].get<std::string>();
          if (c.contains("actionId") && t == "deviceEventSetState") line += " @act";
          sent.push_back(std::string(d) + " " + line);
          return "msg_" + std::to_string(sent.size());
        }));
    ON_CALL(nuki, listWebhooks(_)).WillByDefault(Invoke([](auto done) { done(ok(), {}); }));
    ON_CALL(nuki, registerWebhook(_, _, _)).WillByDefault(Invoke([](auto&, auto&, auto done) {
      done(ok(), 77, "secret");
    }));
    ON_CALL(nuki, listSmartlocks(_)).WillByDefault(Invoke([this](auto done) {
      done(ok(), locks);
    }));
    ON_CALL(nuki, listAuths(_, _)).WillByDefault(Invoke([this](uint64_t, auto done) {
      done(ok(), auths);
    }));
  }

  // Group commit by hand: the commits wait in `posted` until the test runs them; a storage
  // failure is kept in `failure`. Discovery's commits are run.
  std::vector<std::function<void()>> posted;
  std::string failure;
  void startWithGroupCommit() {
    Adapter::Options options;
    options.post = [this](std::function<void()> f) { posted.push_back(std::move(f)); };
    options.onStorageFailure = [this](const std::string& why) { failure = why; };
    adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, options);
    adapter->start();
    for (size_t i = 0; i < posted.size(); ++i)
      posted[i]();
    posted.clear();
    ASSERT_EQ(failure, "");
  }

  void start() {
    Adapter::Options options;
    options.publicUrl = "http://me";
    adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, options);
    std::string error = "not ready";
    adapter->start([&](const std::string& e) { error = e; });
    ASSERT_EQ(error, "");
    sent.clear();
  }
  Adapter::Submitted submit(const std::string& trait, const std::string& action, json params) {
    return adapter->submit("1", {{"trait", trait}, {"action", action}, {"parameters", params}}, "");
  }
  // Feeds a Nuki webhook body through the intake with a valid signature.
  int nukiEvent(const json& body);
  // Lock 1's DEVICE_STATUS after a web lock action, in motor state `state`, battery at 90.
  static json status(int state) {
    return {{"feature", "DEVICE_STATUS"},
            {"smartlockId", 1},
            {"state",
             {{"mode", 2},
              {"state", state},
              {"trigger", 4},
              {"lastAction", 2},
              {"batteryCritical", false},
              {"batteryCharge", 90},
              {"doorState", 0},
              {"nightMode", false},
              {"ringToOpenTimer", 0}}},
            {"serverState", 0},
            {"adminPinState", 0}};
  }
  // Lock 1's DEVICE_MASTERDATA: "a sync is complete".
  static json masterData() {
    return {{"feature", "DEVICE_MASTERDATA"},
            {"smartlockId", 1},
            {"accountId", 1},
            {"type", 4},
            {"authId", 1},
            {"name", "Door"},
            {"favorite", false},
            {"serverState", 0},
            {"adminPinState", 0}};
  }

  VirtualClock clock;
  Random random{3};
  Db db;
  NiceMock<MockNuki> nuki;
  NiceMock<MockSink> sink;
  std::unique_ptr<Adapter> adapter;
  std::vector<NukiLock> locks{lock(1)};
  std::vector<NukiAuth> auths;
  std::vector<std::string> sent;
};

}  // namespace
}  // namespace nukihil::adapter

#include "runtime/crypto.h"

namespace nukihil::adapter {
namespace {

int AdapterTest::nukiEvent(const json& body) {
  const std::string b = body.dump();
  return adapter->nukiWebhook(b, crypto::toHex(crypto::hmacSha256("secret", b)));
}

TEST_F(AdapterTest, DiscoveryEmitsConfigAndEveryStateFieldInOrder) {
  auths = {auth("a1", 345678, "Alice")};
  adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, Adapter::Options{});
  adapter->start();
  EXPECT_EQ(sent,
            (std::vector<std::string>{"1 deviceEventConfig", "1 SetState isOnline=true",
                                      "1 SetState isJammed=false", "1 SetState isLocked=false",
                                      "1 SetState percentage=90", "1 SetState status=\"NORMAL\"",
                                      "1 SetState pinCodeCredentials=1"}));
}

TEST_F(AdapterTest, LockActionFollowsTheLogsAndTheState) {
  start();
  std::function<void(const NukiResult&)> answer;
  EXPECT_CALL(nuki, lockAction(1, true, _)).WillOnce(Invoke([&](uint64_t, bool, auto done) {
    answer = done;
  }));
  auto s = submit("LOCK", "setLocked", {{"lock", true}});
  ASSERT_EQ(s.status, 202);
  EXPECT_EQ(adapter->action(s.actionId)->status, ActionStatus::kQueued);
  answer(ok());
  EXPECT_EQ(adapter->action(s.actionId)->status, ActionStatus::kPending);
  // Nuki reports: locking, the log of the web action, locked.
  EXPECT_EQ(nukiEvent(status(4)), 200);  // locking
  nukiEvent({{"feature", "DEVICE_LOGS"},
             {"smartlockLog",
              {{"id", "000000000000000000000001"},
               {"smartlockId", 1},
               {"deviceType", 0},
               {"name", "x"},
               {"action", 2},
               {"trigger", 4},
               {"state", 0},
               {"autoUnlock", false},
               {"date", "2025-01-01T00:00:03.000Z"}}}});
  nukiEvent(status(1));  // locked
  EXPECT_EQ(sent,
            (std::vector<std::string>{"1 QueueAction setLocked", "1 UpdateAction PENDING",
                                      "1 SetState isLocked=true @act", "1 UpdateAction RESOLVED"}));
}

TEST_F(AdapterTest, RefusedIsFailedAndAnExhaustedBudgetIsATimeout) {
  start();
  EXPECT_CALL(nuki, lockAction(1, _, _))
      .WillOnce(Invoke([](uint64_t, bool, auto done) { done(refused(403)); }))
      .WillOnce(Invoke([](uint64_t, bool, auto done) {
        NukiResult r;
        r.outcome = NukiResult::Outcome::kTimeout;
        r.status = 503;
        r.attempts = 5;
        done(r);
      }));
  submit("LOCK", "setLocked", {{"lock", true}});
  submit("LOCK", "setLocked", {{"lock", false}});
  EXPECT_EQ(sent, (std::vector<std::string>{"1 QueueAction setLocked", "1 UpdateAction FAILED 403",
                                            "1 QueueAction setLocked", "1 UpdateAction TIMEOUT"}));
}

TEST_F(AdapterTest, A409OnARetriedCreateStaysPendingButOnAFirstTryFails) {
  start();
  EXPECT_CALL(nuki, createAuth(1, _, _))
      .WillOnce(Invoke([](uint64_t, const NukiAuthFields&, auto done) { done(refused(409, 2)); }))
      .WillOnce(Invoke([](uint64_t, const NukiAuthFields&, auto done) { done(refused(409, 1)); }));
  auto a = submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                  {{"pinCode", "345678"}, {"name", "A"}});
  auto b = submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                  {{"pinCode", "456789"}, {"name", "B"}});
  EXPECT_EQ(adapter->action(a.actionId)->status, ActionStatus::kPending);
  EXPECT_EQ(adapter->action(b.actionId)->status, ActionStatus::kFailed);
  EXPECT_EQ(adapter->action(b.actionId)->reason, "409");
}

TEST_F(AdapterTest, ARetriedUpdateOrDeleteThatTheLostFirstTryAppliedStaysPending) {
  auths = {auth("a1", 345678, "Alice"), auth("a2", 456789, "Bob")};
  start();
  const auto& pins = adapter->devices().at("1").pins;
  ASSERT_EQ(pins.size(), 2u);
  const std::string alice = pins[0].name == "Alice" ? pins[0].id : pins[1].id;
  const std::string bob = pins[0].name == "Bob" ? pins[0].id : pins[1].id;
  // Retried after a lost answer, Nuki says 423 (the first try's update awaits delivery) and
  // 404 (the first try deleted it): not failures. On a first try they are.
  EXPECT_CALL(nuki, updateAuth(1, _, _, _)).WillOnce(Invoke([](uint64_t, auto&, auto&, auto done) {
    done(refused(423, 2));
  }));
  EXPECT_CALL(nuki, deleteAuth(1, _, _)).WillOnce(Invoke([](uint64_t, auto&, auto done) {
    done(refused(404, 3));
  }));
  auto u = submit("BETA_PIN_CODE_CREDENTIALS", "updatePinCodeCredential",
                  {{"id", alice}, {"name", "Alice 2"}});
  auto d = submit("BETA_PIN_CODE_CREDENTIALS", "deletePinCodeCredential", {{"id", bob}});
  EXPECT_EQ(adapter->action(u.actionId)->status, ActionStatus::kPending);
  EXPECT_EQ(adapter->action(d.actionId)->status, ActionStatus::kPending);

  auths = {auth("a1", 345678, "Alice 2")};
  clock.advanceBy(std::chrono::seconds(60));  // the poll sees the sync
  EXPECT_EQ(adapter->action(u.actionId)->status, ActionStatus::kResolved);
  EXPECT_EQ(adapter->action(d.actionId)->status, ActionStatus::kResolved);

  EXPECT_CALL(nuki, updateAuth(1, _, _, _)).WillOnce(Invoke([](uint64_t, auto&, auto&, auto done) {
    done(refused(423, 1));
  }));
  auto first = submit("BETA_PIN_CODE_CREDENTIALS", "updatePinCodeCredential",
                      {{"id", alice}, {"name", "Alice 3"}});
  EXPECT_EQ(adapter->action(first.actionId)->status, ActionStatus::kFailed);
  EXPECT_EQ(adapter->action(first.actionId)->reason, "423");
}

TEST_F(AdapterTest, SchedulesNukiCannotKeepAreRefusedAsScheduleInvalid) {
  start();
  auto code = [&](json params) {
    params["name"] = "S";
    return submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential", params).code;
  };
  // Every whole day would come back from Nuki as no recurring window at all.
  EXPECT_EQ(
      code({{"pinCode", "345678"},
            {"recurringSchedules",
             {{{"rrule", "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU"}, {"duration", 1440}}}}}),
      "SCHEDULE_INVALID");
  EXPECT_EQ(code({{"pinCode", "345678"},
                  {"recurringSchedules",
                   {{{"rrule", "RRULE:FREQ=WEEKLY;BYDAY=MO"}, {"duration", 1440}}}}}),
            "");
  // K7: a temporary window needs both ends, as instants; K1 still comes first.
  EXPECT_EQ(code({{"pinCode", "456789"},
                  {"temporarySchedules", {{{"startDatetime", "2026-01-01T00:00:00Z"}}}}}),
            "SCHEDULE_INVALID");
  EXPECT_EQ(code({{"pinCode", "456789"},
                  {"temporarySchedules",
                   {{{"startDatetime", "2026-01-01T00:00:00Z"}, {"endDatetime", "tomorrow"}}}}}),
            "SCHEDULE_INVALID");
  EXPECT_EQ(code({{"pinCode", "45678"},
                  {"temporarySchedules", {{{"endDatetime", "2026-01-01T00:00:00Z"}}}}}),
            "PIN_FORMAT");
  EXPECT_EQ(
      submit(
          "BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
          {{"pinCode", "456789"}, {"name", "S"}, {"temporarySchedules", {{{"startDatetime", 5}}}}})
          .status,
      400)
      << "a wrong JSON type stays a malformed request";
}

TEST_F(AdapterTest, AnIdempotencyKeyBelongsToOneDevice) {
  locks.push_back(lock(2));
  start();
  const json body = {{"trait", "LOCK"}, {"action", "setLocked"}, {"parameters", {{"lock", true}}}};
  auto a = adapter->submit("1", body, "key-1");
  ASSERT_EQ(a.status, 202);
  EXPECT_EQ(adapter->submit("1", body, "key-1").actionId, a.actionId);
  auto b = adapter->submit("2", body, "key-1");
  EXPECT_EQ(b.status, 409);
  EXPECT_EQ(b.code, "IDEMPOTENCY_KEY_REUSED");
  // The key is durable with its action: a restarted adapter answers the same.
  adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, Adapter::Options{});
  EXPECT_EQ(adapter->submit("1", body, "key-1").actionId, a.actionId);
}

TEST_F(AdapterTest, PinRulesCountTheAdaptersOwnUnsyncedChanges) {
  auths = {auth("a1", 345678, "Alice")};
  start();
  ON_CALL(nuki, createAuth(_, _, _))
      .WillByDefault(Invoke([](uint64_t, const NukiAuthFields&, auto done) { done(ok()); }));
  EXPECT_EQ(submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                   {{"pinCode", "345678"}, {"name", "X"}})
                .code,
            "PIN_DUPLICATE");
  ASSERT_EQ(submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                   {{"pinCode", "456789"}, {"name", "B"}})
                .status,
            202);
  EXPECT_EQ(submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                   {{"pinCode", "456789"}, {"name", "C"}})
                .code,
            "PIN_DUPLICATE")
      << "the accepted create counts before any sync";
  // 98 more fill the lock to 100; the 101st is refused.
  int made = 2;
  for (int c = 511111; made < 100; ++c) {
    std::string code = std::to_string(c);
    if (code.find('0') != std::string::npos) continue;
    ASSERT_EQ(submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                     {{"pinCode", code}, {"name", "F"}})
                  .status,
              202);
    ++made;
  }
  EXPECT_EQ(submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                   {{"pinCode", "999999"}, {"name", "Z"}})
                .code,
            "PIN_CAPACITY");
  EXPECT_EQ(std::count_if(sent.begin(), sent.end(),
                          [](auto& s) { return s.find("QueueAction") != std::string::npos; }),
            99);
}

TEST_F(AdapterTest, ASyncResolvesShownChangesAndRejectsDroppedOnes) {
  start();
  ON_CALL(nuki, createAuth(_, _, _))
      .WillByDefault(Invoke([](uint64_t, const NukiAuthFields&, auto done) { done(ok()); }));
  auto shown = submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                      {{"pinCode", "345678"}, {"name", "Shown"}});
  auto dropped = submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                        {{"pinCode", "456789"}, {"name", "Gone"}});
  sent.clear();
  // The web view after the sync: the first code, and the second's digits under another name.
  auths = {auth("a1", 345678, "Shown"), auth("a2", 456789, "Local one")};
  ASSERT_EQ(nukiEvent(masterData()), 200);
  EXPECT_EQ(sent,
            (std::vector<std::string>{
                "1 SetState pinCodeCredentials=1 @act", "1 UpdateAction RESOLVED",
                "1 UpdateAction REJECTED DROPPED_BY_LOCK", "1 SetState pinCodeCredentials=2"}));
  EXPECT_EQ(adapter->action(shown.actionId)->status, ActionStatus::kResolved);
  EXPECT_EQ(adapter->action(dropped.actionId)->reason, "DROPPED_BY_LOCK");
  // The shown code kept the id the create promised.
  const auto& pins = adapter->devices().at("1").pins;
  EXPECT_TRUE(std::any_of(pins.begin(), pins.end(), [&](auto& p) { return p.id == shown.pinId; }));
}

TEST_F(AdapterTest, ASyncWhoseCodesCannotBeReadIsReadByTheNextPoll) {
  start();
  ON_CALL(nuki, createAuth(_, _, _))
      .WillByDefault(Invoke([](uint64_t, const NukiAuthFields&, auto done) { done(ok()); }));
  auto dropped = submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                        {{"pinCode", "456789"}, {"name", "Gone"}});
  // The sync did not show the code (the list is unchanged), and reading it right after the
  // sync fails once.
  EXPECT_CALL(nuki, listAuths(1, _))
      .WillOnce(Invoke([](uint64_t, auto done) { done(refused(503, 5), {}); }))
      .WillRepeatedly(Invoke([this](uint64_t, auto done) { done(ok(), auths); }));
  ASSERT_EQ(nukiEvent(masterData()), 200);
  EXPECT_EQ(adapter->action(dropped.actionId)->status, ActionStatus::kPending);
  // A restart on the way changes nothing: the signal was stored.
  adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, Adapter::Options{});
  adapter->start();
  EXPECT_EQ(adapter->action(dropped.actionId)->reason, "DROPPED_BY_LOCK");
}

TEST_F(AdapterTest, AForgedNukiWebhookIsRefused) {
  start();
  EXPECT_EQ(adapter->nukiWebhook(R"({"feature":"DEVICE_STATUS"})", std::string(64, 'a')), 401);
  const std::string body = R"({"feature":"DEVICE_STATUS","smartlockId":"nope"})";
  EXPECT_EQ(adapter->nukiWebhook(body, crypto::toHex(crypto::hmacSha256("secret", body))), 400);
  EXPECT_TRUE(sent.empty());
}

TEST_F(AdapterTest, StateSurvivesARestartAndQueuedActionsGoOutAgain) {
  start();
  EXPECT_CALL(nuki, lockAction(1, true, _))
      .WillOnce(Invoke([](uint64_t, bool, auto) { /* never answered */ }));
  auto s = submit("LOCK", "setLocked", {{"lock", true}});
  adapter.reset();  // killed before Nuki Web answered
  EXPECT_CALL(nuki, lockAction(1, true, _)).WillOnce(Invoke([](uint64_t, bool, auto done) {
    done(ok());
  }));
  adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, Adapter::Options{});
  sent.clear();
  adapter->start();
  EXPECT_EQ(adapter->action(s.actionId)->status, ActionStatus::kPending);
  EXPECT_EQ(sent, (std::vector<std::string>{"1 UpdateAction PENDING"})) << "no second discovery";
}

TEST_F(AdapterTest, AnActionQueuedPastTheBudgetBeforeACrashTimesOutInsteadOfGoingOutLate) {
  start();
  EXPECT_CALL(nuki, lockAction(1, false, _))
      .WillOnce(Invoke([](uint64_t, bool, auto) { /* never answered */ }));
  auto s = submit("LOCK", "setLocked", {{"lock", false}});
  adapter.reset();                                  // killed before Nuki Web answered …
  clock.advanceBy(std::chrono::hours(3));           // … and down for hours
  EXPECT_CALL(nuki, lockAction(_, _, _)).Times(0);  // an unlock hours late is not sent
  adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, Adapter::Options{});
  sent.clear();
  adapter->start();
  EXPECT_EQ(adapter->action(s.actionId)->status, ActionStatus::kTimeout);
  EXPECT_EQ(sent, (std::vector<std::string>{"1 UpdateAction TIMEOUT"}));
}

TEST_F(AdapterTest, ALogSeenBeforeACrashDoesNotCompleteALaterAction) {
  start();
  NukiLog l;
  l.id = "log-1";
  l.smartlockId = 1;
  l.action = 2;  // lock
  l.trigger = 4;
  l.state = 0;
  l.date = clock.now();
  auto logBody = [&] {
    return json{{"feature", "DEVICE_LOGS"},
                {"smartlockLog",
                 {{"id", l.id},
                  {"smartlockId", 1},
                  {"deviceType", 4},
                  {"authId", ""},
                  {"name", "Nuki Web"},
                  {"action", 2},
                  {"trigger", 4},
                  {"state", 0},
                  {"autoUnlock", false},
                  {"date", "2026-01-01T00:00:00.000Z"}}}};
  };
  ASSERT_EQ(nukiEvent(logBody()), 200);  // a lock by someone else, no action waiting
  adapter.reset();                       // then a crash
  adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, Adapter::Options{});
  adapter->start();
  ON_CALL(nuki, lockAction(1, true, _)).WillByDefault(Invoke([](uint64_t, bool, auto done) {
    done(ok());
  }));
  // The polls return the old log: it must not complete the new lock action.
  ON_CALL(nuki, listLogs(1, _, _)).WillByDefault(Invoke([&](uint64_t, int, auto done) {
    done(ok(), std::vector<NukiLog>{l});
  }));
  ON_CALL(nuki, getSmartlock(1, _)).WillByDefault(Invoke([](uint64_t, auto done) {
    done(ok(), lock(1, 1));
  }));
  auto s = submit("LOCK", "setLocked", {{"lock", true}});
  clock.advanceBy(std::chrono::seconds(61));
  EXPECT_EQ(adapter->action(s.actionId)->completion, -1);
  EXPECT_EQ(adapter->action(s.actionId)->status, ActionStatus::kPending);
  // Its own log does.
  l.id = "log-2";
  clock.advanceBy(std::chrono::seconds(60));
  EXPECT_EQ(adapter->action(s.actionId)->completion, 0);
  EXPECT_EQ(adapter->action(s.actionId)->status, ActionStatus::kResolved);
}

TEST_F(AdapterTest, APollJudgesOnlyActionsAcceptedBeforeTheSyncItSees) {
  // Polling only (no Nuki webhooks): a poll that finds the codes changed knows a sync happened
  // since it last read them, not when.
  auths = {auth("a1", 345678, "Alice")};
  Adapter::Options options;  // no public URL
  adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, options);
  adapter->start();
  ON_CALL(nuki, createAuth(_, _, _))
      .WillByDefault(Invoke([](uint64_t, const NukiAuthFields&, auto done) { done(ok()); }));
  // A sync brings in a local change; no poll reads the codes before the create is accepted.
  auths = {auth("a1", 345678, "Alice"), auth("a9", 567891, "Local")};
  clock.advanceBy(std::chrono::seconds(30));
  auto c = submit("BETA_PIN_CODE_CREDENTIALS", "createPinCodeCredential",
                  {{"pinCode", "456789"}, {"name", "New"}});
  sent.clear();
  clock.advanceBy(std::chrono::seconds(60));  // the poll reads the codes
  EXPECT_EQ(adapter->action(c.actionId)->status, ActionStatus::kPending)
      << "the sync the poll saw may have come before the create";
  EXPECT_EQ(sent, (std::vector<std::string>{"1 SetState pinCodeCredentials=2"}));
  // The next sync does not show it: now it was dropped.
  auths = {auth("a1", 345678, "Alice")};
  clock.advanceBy(std::chrono::seconds(60));
  EXPECT_EQ(adapter->action(c.actionId)->reason, "DROPPED_BY_LOCK");
}

// A refused write rolls back the whole burst: an action accepted earlier in it is neither
// answered nor sent, the refused one is a 503, and the adapter is out of service (the Service
// replaces it, see service_test).
TEST_F(AdapterTest, AWriteTheDatabaseRefusesStopsTheAdapterBeforeAnythingIsAnswered) {
  startWithGroupCommit();
  EXPECT_CALL(nuki, lockAction(_, _, _)).Times(0);  // nothing goes out to Nuki Web
  // A first action of the burst is accepted; its answer waits for the group commit.
  const auto first = submit("LOCK", "setLocked", {{"lock", true}});
  ASSERT_EQ(first.status, 202);
  bool answered = false, rolledBack = false;
  adapter->afterDurable([&] { answered = true; });
  adapter->afterRollback([&] { rolledBack = true; });
  // Then the disk refuses the next action's row.
  db.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON adapter_actions BEGIN SELECT RAISE(ABORT, 'disk "
      "says no'); END");
  const auto second = submit("LOCK", "setLocked", {{"lock", false}});
  EXPECT_EQ(second.status, 503);
  EXPECT_EQ(second.code, "STORAGE_UNAVAILABLE");
  EXPECT_NE(failure.find("disk says no"), std::string::npos) << failure;
  EXPECT_TRUE(rolledBack);
  for (auto& f : posted)
    f();  // the group commit that was due finds nothing to commit
  EXPECT_FALSE(answered) << "nothing of the rolled-back burst may be answered";
  EXPECT_EQ(submit("LOCK", "setLocked", {{"lock", false}}).status, 503)
      << "an adapter out of service takes nothing";
}

// Without group commit an action commits at once and is sent from the commit's hook; if the
// write that marks it sent is refused, the action is still durable and keeps its 202 (it goes
// out after the recovery), and nothing reaches Nuki Web now.
TEST_F(AdapterTest, ARefusedWriteAfterAnActionIsDurableKeepsItsAnswer) {
  Adapter::Options options;  // no post: no group commit
  options.onStorageFailure = [&](const std::string& why) { failure = why; };
  adapter = std::make_unique<Adapter>(db, clock, nuki, sink, random, options);
  adapter->start();
  ASSERT_EQ(failure, "");
  db.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON adapter_actions WHEN NEW.body LIKE "
      "'%\"sent\":true%' BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
  EXPECT_CALL(nuki, lockAction(_, _, _)).Times(0);
  const auto accepted = submit("LOCK", "setLocked", {{"lock", true}});
  EXPECT_EQ(accepted.status, 202) << accepted.message;
  EXPECT_NE(failure.find("disk says no"), std::string::npos) << failure;
  Stmt rows = db.prepare("SELECT COUNT(*) FROM adapter_actions WHERE id = ?");
  rows.bind(1, accepted.actionId).step();
  EXPECT_EQ(rows.int64(0), 1) << "the accepted action is durable";
}

// The commit itself fails (the disk fills while the WAL is written): same outcome.
TEST_F(AdapterTest, AGroupCommitTheDatabaseRefusesStopsTheAdapter) {
  startWithGroupCommit();
  EXPECT_CALL(nuki, lockAction(_, _, _)).Times(0);
  ASSERT_EQ(submit("LOCK", "setLocked", {{"lock", true}}).status, 202);
  bool answered = false;
  adapter->afterDurable([&] { answered = true; });
  // A deferred foreign key fails only at COMMIT, as a full disk does.
  db.exec(
      "CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY);"
      "CREATE TABLE IF NOT EXISTS child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY "
      "DEFERRED);"
      "INSERT INTO child VALUES (42);");
  for (auto& f : posted)
    f();
  EXPECT_NE(failure.find("rolled back"), std::string::npos) << failure;
  EXPECT_FALSE(answered);
  EXPECT_EQ(submit("LOCK", "setLocked", {{"lock", false}}).status, 503);
}

TEST_F(AdapterTest, PollingFindsNewLocks) {
  start();
  locks.push_back(lock(2, 1, 15));
  clock.advanceBy(std::chrono::seconds(60));
  EXPECT_EQ(sent.front(), "2 deviceEventConfig");
  EXPECT_EQ(adapter->devices().size(), 2u);
}

}  // namespace
}  // namespace nukihil::adapter
