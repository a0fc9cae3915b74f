#include "scenarios/live_run.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/crypto.h"
#include "runtime/time_zone.h"
#include "runtime/url_client.h"
#include "scenarios/child_process.h"
#include "scenarios/fault_proxy.h"
#include "scenarios/step_calls.h"
#include "scenarios/webhook_recorder.h"

namespace nukihil::scenarios {

using model::Scenario;
using model::SpecModel;
using model::Step;
using model::StepKind;
using nlohmann::json;
namespace fs = std::filesystem;

bool loopbackUrl(const std::string& url) {
  auto u = http::Url::parse(url);
  return u && !u->tls && (u->host == "127.0.0.1" || u->host == "localhost" || u->host == "::1");
}

ScenarioPlan livePlan(std::shared_ptr<const Scenario> scenario, const LiveOptions& options) {
  PlanOptions po = options.plan;
  const bool remote = options.target == TargetKind::kRemote;
  po.haveOperator = options.op != nullptr;
  po.publicUrl =
      !options.publicUrl.empty() || loopbackUrl(remote ? options.simUrl : options.nukiUrl);
  return planScenario(std::move(scenario), options.target, remote ? nullptr : options.hil, po);
}

namespace {

// On the wall clock the adapter's call reaches Nuki Web (or the fault proxy) a moment after the
// model's instant for it: a child process's HTTP exchange, on a loaded machine.
constexpr int64_t kCallLatencyMs = 2000;

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string randomBytes(size_t n) {
  std::random_device rd;
  std::string s(n, '\0');
  for (auto& c : s)
    c = char(rd() & 0xFF);
  return s;
}

// A free TCP port on loopback (for an adapter that must be reachable at a URL known before it
// starts, and on the same port after a restart).
uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// The platform's receiver, on an io thread of its own, checking signatures against the wall
// clock (the adapter signs with it).
class Receiver {
 public:
  explicit Receiver(const std::string& secret)
      : work_(io_.get_executor()),
        recorder_(std::make_unique<WebhookRecorder>(io_, secret, [] { return wallMs() / 1000; })),
        thread_([this] { io_.run(); }) {}
  ~Receiver() {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      recorder_->stop();
      done.set_value();
    });
    done.get_future().wait();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  WebhookRecorder& recorder() { return *recorder_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<WebhookRecorder> recorder_;
  std::thread thread_;
};

// What the system did, from the running nukisim's journal (remote); on nuki-web the harness
// sees no journal and the model makes the adapter's calls itself.
// What the adapter sent to Nuki Web, seen in nukisim's journal (remote) or the fault proxy's
// (nuki-web), with each call's instant put on the model's timeline.
class LiveOracle final : public model::Oracle {
 public:
  bool observing = true;
  std::vector<model::ObservedCall> all;
  std::map<std::string, std::string> actionRefs;  // actionId → the step's name of the action
  bool observes() const override { return observing; }
  std::vector<model::ObservedCall> calls(int64_t from, int64_t to) const override {
    std::vector<model::ObservedCall> out;
    for (const auto& c : all)
      if (c.atMs >= from && c.atMs <= to) out.push_back(c);
    return out;
  }
  std::optional<Restart> restart(size_t) const override { return std::nullopt; }
  std::string actionOfRequest(const std::string& requestId) const override {
    auto it = actionRefs.find(requestId);
    return it == actionRefs.end() ? std::string() : it->second;
  }
};

class LiveRun {
 public:
  LiveRun(std::shared_ptr<const Scenario> original, const LiveOptions& o)
      : original_(std::move(original)), o_(o) {}
  ScenarioResult go();

 private:
  std::ostream& out() {
    static std::ostringstream sink;
    return o_.out ? *o_.out : sink;
  }
  bool interrupted() const { return o_.interrupted && o_.interrupted->load(); }
  void fail(std::string message, std::optional<Divergence> d = std::nullopt) {
    if (stopped_) return;
    stopped_ = true;
    failedAt_ = currentStep_;
    result_.verdict = Verdict::kFailed;
    result_.message = std::move(message);
    result_.divergence = std::move(d);
  }
  void error(std::string message) {
    if (stopped_) return;
    stopped_ = true;
    result_.verdict = Verdict::kError;
    result_.message = message;
    result_.problems.push_back(std::move(message));
  }
  void skip(std::string why) {
    if (stopped_) return;
    stopped_ = true;
    result_.verdict = Verdict::kSkipped;
    result_.message = "skipped: " + why;
  }
  bool remote() const { return o_.target == TargetKind::kRemote; }
  std::string deviceId(const std::string& lock) const { return std::to_string(ids_.at(lock)); }
  std::string simLock(const std::string& lock) const {
    return "/sim/v1/smartlocks/" + deviceId(lock);
  }
  std::string nukiLock(const std::string& lock) const { return "/smartlock/" + deviceId(lock); }

  bool checkLocks(Scenario& s);
  bool buildFleet(const Scenario& s);
  void readJournal();
  bool startAdapter();
  void stopAdapter(bool kill);
  void collect();
  size_t pendingInOutbox(const std::string& lock);
  void awaitWebhooks(bool atEnd);
  // How long a check or a predicted webhook may take.
  std::chrono::seconds patience() const;
  bool compare(bool atEnd);
  void catchUp(size_t index);
  // Waits (up to kCallLatencyMs) until the journal shows a call tagged with this X-Request-ID.
  bool awaitCall(const std::string& requestId);
  bool realWait(int64_t ms, const std::string& what);
  json execute(const Step& st, bool& executed);
  json readCheck(const Step& st);
  bool runStep(const Step& st);
  void cleanUp();
  // Sets each lock back to locked or unlocked as the harness found it (nuki-web target).
  void restoreLockStates();
  // The lock's state as Nuki Web reports it once its motor is at rest (or the time is up);
  // null if it cannot be read.
  json settledState(const std::string& path);
  void calibrate();

  std::shared_ptr<const Scenario> original_;
  std::shared_ptr<const Scenario> scenario_;
  LiveOptions o_;
  std::optional<SpecModel> model_;
  LiveOracle oracle_;
  std::unique_ptr<http::UrlClient> sim_;  // remote: the control plane
  std::map<std::string, uint64_t> ids_;   // lock name → smartlockId
  uint64_t journalNext_ = 0;
  // The harness's own Nuki calls carry X-Request-ID "nukihil-harness-N"; the model takes them
  // at the instant of their step.
  std::map<std::string, int64_t> harnessCalls_;  // request id → the step's model instant
  json harnessRequest(const std::string& method, const std::string& path, const json& body = {});
  std::unique_ptr<http::UrlClient> nuki_;
  // nuki-web: the fault proxy the adapter reaches Nuki Web through, and a client of it for the
  // scenario's own requests (nukiRequest), which faults hit as in nukisim.
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<http::UrlClient> viaProxy_;
  std::string adapterNukiUrl_;
  std::unique_ptr<http::BlockingClient> api_;
  std::unique_ptr<Receiver> receiver_;
  std::unique_ptr<ChildProcess> adapter_;
  std::string dir_, apiKey_, secret_, publicUrl_;
  uint16_t adapterPort_ = 0;
  std::map<std::string, std::string> lockOfDevice_;
  std::map<std::string, std::set<int64_t>> madeCodes_;  // lock → codes the scenario put on it
  std::map<std::string, int> startState_;  // lock → its motor state when the harness came (1, 3)
  std::map<std::string, std::set<int64_t>> maybeCodes_;  // … or tried to (refused at once)
  Bindings bindings_;
  std::map<std::string, std::vector<ObservedWebhook>> observed_;
  std::vector<std::string> webhookProblems_;
  ScenarioResult result_;
  bool stopped_ = false;
  size_t currentStep_ = SIZE_MAX;
  size_t failedAt_ = SIZE_MAX;  // the step at which the run failed (SIZE_MAX: start or end)
  void judgeFindings();
  // The model's clock follows the wall clock: from anchorReal_ on, model time is real time
  // plus (anchorModel_ - anchorReal_). An advanceTo moves the model on and starts a new
  // stretch; every stretch is kept, to put the calls of each on the model's timeline.
  int64_t anchorReal_ = 0, anchorModel_ = 0;
  std::vector<std::pair<int64_t, int64_t>> stretches_;  // (real start, model - real)
  void anchor(int64_t real, int64_t model) {
    anchorReal_ = real;
    anchorModel_ = model;
    stretches_.emplace_back(real, model - real);
  }
  int64_t modelOf(int64_t real) const {
    int64_t offset = stretches_.empty() ? 0 : stretches_.front().second;
    for (const auto& [from, off] : stretches_)
      if (from <= real) offset = off;
    return real + offset;
  }
  void addCall(model::ObservedCall c, int64_t realMs);
  // --calibrate: when each step began (wall clock) and when each webhook first arrived.
  std::map<size_t, int64_t> realStepAt_;
  std::map<size_t, int64_t> jumpedTo_;  // advanceTo: the model's instant after the jump
  std::mutex arrivalsMu_;
  std::map<std::string, int64_t> arrivals_;
};

bool LiveRun::checkLocks(Scenario& s) {
  for (const auto& l : s.locks)
    ids_[l.name] = o_.hil->lock(l.name)->smartlockId;
  for (auto& l : s.locks) {
    const std::string path = nukiLock(l.name);
    const json r = call(*nuki_, "GET", path);
    const int status = r.value("status", 0);
    if (status != 200) {
      error("Nuki Web answered " +
            (status ? std::to_string(status) : "nothing (" + r.value("transport", "") + ")") +
            " to GET " + path + " (" + l.name + " of the HIL file)" +
            (status == 401 ? ": the token is refused" : ""));
      return false;
    }
    const json& b = member(r, "body");
    const json& state = member(b, "state");
    if (member(state, "state") == 1 || member(state, "state") == 3)
      startState_.emplace(l.name, member(state, "state").get<int>());
    if (member(b, "serverState") != 0) {
      skip("'" + l.name + "' is offline in Nuki Web; the scenario starts with it online");
      return false;
    }
    if (member(state, "state") == 1 && o_.plan.allowUnlock) {
      out() << "  " << l.name << " is locked; unlocking it first (--allow-unlock)\n";
      call(*nuki_, "POST", path + "/action", {{"action", 1}});
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(o_.checkSeconds);
      json now = member(member(call(*nuki_, "GET", path), "body"), "state");
      while (member(now, "state") != 3 && std::chrono::steady_clock::now() < deadline &&
             !interrupted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        now = member(member(call(*nuki_, "GET", path), "body"), "state");
      }
    }
    // A motor still running (from before) settles first.
    json current = member(member(call(*nuki_, "GET", path), "body"), "state");
    const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(o_.checkSeconds);
    for (auto moving =
             [](const json& st) {
               const json& v = member(st, "state");
               return v == 2 || v == 4 || v == 5 || v == 6 || v == 7;
             };
         moving(current) && std::chrono::steady_clock::now() < settle && !interrupted();) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      current = member(member(call(*nuki_, "GET", path), "body"), "state");
    }
    if (member(current, "state") != 3) {
      skip("'" + l.name + "' is in lock state " + member(current, "state").dump() +
           "; the scenario starts from an unlocked lock (state 3): unlock it, or let the "
           "harness do it with --allow-unlock");
      return false;
    }
    if (member(current, "batteryCharge").is_number_integer()) {
      l.battery = member(current, "batteryCharge").get<int>();
      l.fleet["batteryCharge"] = l.battery;
    }
    const json authRead = call(*nuki_, "GET", path + "/auth");
    const json& auths = member(authRead, "body");
    if (authRead.value("status", 0) != 200 || !auths.is_array()) {
      // Without the list the harness cannot know that no code of the owner's has the digits
      // of one it makes (the clean-up deletes by code).
      skip("Nuki Web answered " + authRead.dump() + " to GET " + path +
           "/auth; the lock's codes must be known before a scenario");
      return false;
    }
    size_t codes = 0;
    for (const auto& a : auths)
      codes += member(a, "type") == 13;
    if (codes) {
      skip("'" + l.name + "' has " + std::to_string(codes) + " keypad code" +
           (codes == 1 ? "" : "s") +
           " the harness did not make; a scenario starts on a lock without codes");
      return false;
    }
    lockOfDevice_[deviceId(l.name)] = l.name;
  }
  return true;
}

// remote: the scenario's fleet as the embedded runner builds it, in an account of its own
// (its token the adapter's), loaded into the running nukisim.
bool LiveRun::buildFleet(const Scenario& s) {
  const std::string token = "nukihil-" + crypto::toHex(randomBytes(12));
  json locks = json::array();
  const json settings = s.raw.value("settings", json::object());
  for (const auto& l : s.locks) {
    json entry = settings;
    for (const auto& [k, v] : l.fleet.items())
      entry[k] = v;
    // The model's timings, whatever defaults that nukisim was started with.
    entry["motorSeconds"] = l.motorSeconds;
    entry["deliverySeconds"] = l.deliverySeconds;
    locks.push_back(entry);
  }
  const json fleet{{"accounts", json::array({json{{"name", "nukihil: " + s.name.substr(0, 60)},
                                                  {"apiToken", token},
                                                  {"smartlocks", locks}}})}};
  const json r = call(*sim_, "POST", "/sim/v1/fleet", fleet);
  if (r.value("status", 0) / 100 != 2) {
    error("nukisim did not take the scenario's fleet: " + r.dump());
    return false;
  }
  int64_t account = -1;
  const json accounts = member(call(*sim_, "GET", "/sim/v1/accounts"), "body");
  for (const auto& a : accounts.is_array() ? accounts : json::array())
    if (text(a, "apiToken") == token) account = member(a, "accountId").get<int64_t>();
  const json list =
      member(call(*sim_, "GET", "/sim/v1/smartlocks?accountId=" + std::to_string(account)), "body");
  for (const auto& l : list.is_array() ? list : json::array())
    ids_[text(l, "name")] = member(l, "smartlockId").get<uint64_t>();
  for (const auto& l : s.locks)
    if (!ids_.count(l.name)) {
      error("nukisim did not list the scenario's lock '" + l.name + "' after loading its fleet");
      return false;
    }
  o_.nukiToken = token;
  o_.nukiUrl = o_.simUrl;
  for (const auto& [name, id] : ids_)
    lockOfDevice_[std::to_string(id)] = name;
  journalNext_ =
      member(member(call(*sim_, "GET",
                         "/sim/v1/journal?limit=1&since=" + std::to_string(UINT64_MAX / 2)),
                    "body"),
             "next")
          .get<uint64_t>();
  return true;
}

// One call the adapter (or the scenario) made: on the model's timeline, with the scenario's
// name of the lock it is about; calls about another account's lock are not the scenario's.
void LiveRun::addCall(model::ObservedCall c, int64_t realMs) {
  auto harness = harnessCalls_.find(c.requestId);
  c.fromHarness = harness != harnessCalls_.end();
  // The scenario's own request belongs to its step's instant (as in nukisim, where it is).
  c.atMs = c.fromHarness ? harness->second : modelOf(realMs);
  if (c.path.rfind("/smartlock/", 0) == 0) {
    auto it = lockOfDevice_.find(smartlockIdOf(c.path));
    if (it == lockOfDevice_.end()) return;  // another lock
    c.lock = it->second;
  } else if (c.path != "/smartlock" && c.path.rfind("/account", 0) != 0 &&
             c.path.rfind("/api/decentralWebhook", 0) != 0) {
    return;
  }
  oracle_.all.push_back(std::move(c));
}

void LiveRun::readJournal() {
  if (proxy_) {
    for (auto& p : proxy_->journal(journalNext_)) {
      journalNext_ = p.seq + 1;
      model::ObservedCall c;
      c.seq = p.seq;
      c.method = p.method;
      c.path = p.target.substr(0, p.target.find('?'));
      c.status = p.status;
      c.fault = p.fault;
      c.requestId = p.requestId;
      c.body = std::move(p.body);
      addCall(std::move(c), p.atMs);
    }
    return;
  }
  if (!remote()) return;
  const json j = member(
      call(*sim_, "GET", "/sim/v1/journal?limit=100000&since=" + std::to_string(journalNext_)),
      "body");
  const json& entries = member(j, "entries");
  for (const auto& e : entries.is_array() ? entries : json::array()) {
    journalNext_ = std::max(journalNext_, member(e, "seq").get<uint64_t>() + 1);
    if (text(e, "type") != "api") continue;
    model::ObservedCall c;
    c.seq = member(e, "seq").get<uint64_t>();
    c.method = text(e, "method");
    const std::string path = text(e, "path");
    c.path = path.substr(0, path.find('?'));
    c.status = member(e, "status").is_number_integer() ? member(e, "status").get<int>() : 0;
    if (!member(e, "fault").is_null()) c.fault = member(e, "fault").dump();
    c.requestId = text(e, "requestId");
    addCall(std::move(c), millisOf(parseRfc3339(text(e, "at")).value_or(Time{})));
  }
}

// A Nuki Web request of the scenario's own (nukiRequest and its auth-id look-up), tagged so
// that the model takes it as the step's, through the fault proxy on nuki-web.
json LiveRun::harnessRequest(const std::string& method, const std::string& path, const json& body) {
  const std::string id = "nukihil-harness-" + std::to_string(harnessCalls_.size() + 1);
  harnessCalls_[id] = millisOf(model_->now());
  return call(viaProxy_ ? *viaProxy_ : *nuki_, method, path, body, {{"X-Request-ID", id}});
}

bool LiveRun::startAdapter() {
  // Secrets go through the environment, never on a command line another user could read.
  ::setenv("NUKI_TOKEN", o_.nukiToken.c_str(), 1);
  ::setenv("NUKIHIL_API_KEY", apiKey_.c_str(), 1);
  ::setenv("NUKIHIL_WEBHOOK_SECRET", secret_.c_str(), 1);
  std::vector<std::string> argv = {o_.adapterBinary,
                                   "--nuki-url",
                                   adapterNukiUrl_,
                                   "--listen",
                                   std::to_string(adapterPort_),
                                   "--webhook-url",
                                   receiver_->recorder().url(),
                                   "--db",
                                   dir_ + "/adapter.db",
                                   "--poll-seconds",
                                   std::to_string(scenario_->pollSeconds)};
  if (scenario_->nukiWebhooks) {
    argv.push_back("--public-url");
    argv.push_back(publicUrl_);
  }
  if (!o_.caFile.empty()) {
    argv.push_back("--ca-file");
    argv.push_back(o_.caFile);
  }
  if (o_.verbose) argv.push_back("--verbose");
  adapter_ = std::make_unique<ChildProcess>();
  try {
    const json banner = parseBody(adapter_->start(argv));
    auto u = http::Url::parse(text(banner, "url"));
    if (!u) throw std::runtime_error("its start-up line names no URL");
    api_ = std::make_unique<http::BlockingClient>(u->host, u->port, apiKey_);
  } catch (const std::exception& e) {
    error("the adapter (" + o_.adapterBinary + ") did not start: " + e.what());
    return false;
  }
  return true;
}

void LiveRun::stopAdapter(bool kill) {
  api_.reset();
  if (adapter_ && adapter_->running()) {
    if (kill) {
      adapter_->stop(SIGKILL);
    } else {
      ::kill(adapter_->pid(), SIGTERM);
      if (!adapter_->wait(std::chrono::milliseconds(10000))) adapter_->stop(SIGKILL);
    }
  }
  adapter_.reset();
}

void LiveRun::collect() {
  Deduplicated d = deduplicate(receiver_->recorder().webhooks(), receiver_->recorder().attempts());
  webhookProblems_ = d.problems;
  observed_.clear();
  for (const auto& w : d.webhooks) {
    auto it = lockOfDevice_.find(w.deviceId());
    if (it != lockOfDevice_.end()) observed_[it->second].push_back(observedOf(w));
    // Webhooks of the account's other locks are not this scenario's.
  }
}

size_t LiveRun::pendingInOutbox(const std::string& lock) {
  if (!api_) return 0;
  Step st;
  st.fields = {{"pending", 0}};
  const json r =
      outboxReading(st, member(call(*api_, "GET", "/v1/outbox"), "body"), deviceId(lock));
  return r["pending"].is_number_unsigned() ? r["pending"].get<size_t>() : 0;
}

std::chrono::seconds LiveRun::patience() const {
  // An adapter that polls (no Nuki webhooks) learns of a change within its poll interval.
  return std::chrono::seconds(scenario_ && !scenario_->nukiWebhooks
                                  ? std::max(o_.checkSeconds, scenario_->pollSeconds + 5)
                                  : o_.checkSeconds);
}

void LiveRun::awaitWebhooks(bool atEnd) {
  const auto deadline = std::chrono::steady_clock::now() + patience();
  for (;;) {
    collect();
    bool all = true;
    for (const auto& l : scenario_->locks) {
      const size_t have = observed_[l.name].size();
      const size_t want =
          atEnd ? model_->expected().at(l.name).size() : model_->delivery(l.name).delivered;
      if (have >= want) continue;
      if (atEnd && have + pendingInOutbox(l.name) >= want) continue;
      all = false;
    }
    if (all || interrupted() || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool LiveRun::compare(bool atEnd) {
  if (!webhookProblems_.empty()) {
    Divergence d;
    d.rule = "R-DELIVERY";
    d.message = webhookProblems_.front();
    fail("R-DELIVERY: " + webhookProblems_.front(), d);
    return false;
  }
  for (const auto& l : scenario_->locks) {
    const auto& expected = model_->expected().at(l.name);
    size_t mustHave = model_->delivery(l.name).delivered;
    std::vector<ObservedWebhook> seen = observed_[l.name];
    // Fewer than predicted after the wait: one is missing. More: the real system is ahead of
    // the model by a moment (its clock follows the wall clock a step behind); the rest is
    // compared once the model has predicted it, at the latest at the end.
    bool exact = seen.size() < mustHave;
    if (!atEnd && seen.size() > expected.size()) seen.resize(expected.size());
    if (atEnd) {
      const size_t pending = pendingInOutbox(l.name);
      mustHave = expected.size() > pending ? expected.size() - pending : 0;
      exact = pending == 0;
    }
    auto d = compareDevice(l.name, expected, seen, mustHave, exact, bindings_);
    if (d) {
      fail(d->rule + " (" + l.name + ", webhook " + std::to_string(d->index + 1) +
               "): " + d->message,
           d);
      return false;
    }
  }
  return true;
}

bool LiveRun::awaitCall(const std::string& requestId) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kCallLatencyMs);
  for (;;) {
    readJournal();
    for (const auto& c : oracle_.all)
      if (c.requestId == requestId) return true;
    if (std::chrono::steady_clock::now() >= deadline || interrupted()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void LiveRun::catchUp(size_t index) {
  int64_t real = wallMs();
  // Not past a call still waiting for Nuki Web: it enters the journal when answered.
  if (proxy_)
    if (auto oldest = proxy_->oldestInFlightMs()) real = std::min(real, *oldest - 1);
  const int64_t target = modelOf(real);
  if (target <= millisOf(model_->now())) return;
  readJournal();
  model_->runTo(index, timeFromMillis(target), oracle_);
}

bool LiveRun::realWait(int64_t ms, const std::string& what) {
  if (ms <= 0) return true;
  out() << "  waiting " << (ms + 500) / 1000 << " s (" << what << ")\n" << std::flush;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  auto shown = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < end) {
    if (interrupted()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now - shown >= std::chrono::seconds(10)) {
      shown = now;
      out() << "  … " << std::chrono::duration_cast<std::chrono::seconds>(end - now).count()
            << " s left\n"
            << std::flush;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(100)));
  }
  return true;
}

json LiveRun::execute(const Step& st, bool& executed) {
  executed = true;
  auto status = [](const json& r) { return json{{"status", r.value("status", 0)}}; };
  switch (st.kind) {
    case StepKind::kSetLocked:
    case StepKind::kCreatePin:
    case StepKind::kUpdatePin:
    case StepKind::kDeletePin: {
      // Recorded before it is sent: whatever the adapter answers, the code may reach the lock
      // (the clean-up deletes only codes it finds).
      int64_t code = 0;
      if (st.parameters.contains("pinCode") && st.parameters["pinCode"].is_string()) {
        code = std::strtoll(st.parameters["pinCode"].get<std::string>().c_str(), nullptr, 10);
        madeCodes_[st.lock].insert(code);
      }
      json r = traitAction(*api_, st, deviceId(st.lock),
                           resolvePinIds(st.parameters, *model_, bindings_));
      // Refused at once: deleted if it shows up all the same, but not waited for.
      if (code && r.value("status", 0) / 100 == 4) {
        madeCodes_[st.lock].erase(code);
        maybeCodes_[st.lock].insert(code);
      }
      return r;
    }
    case StepKind::kOffline:
    case StepKind::kOnline:
    case StepKind::kJam:
    case StepKind::kFree:
    case StepKind::kKeypad:
    case StepKind::kKnob:
    case StepKind::kAddCodeOnLock:
    case StepKind::kRemoveCodeOnLock:
    case StepKind::kBattery: {
      if (remote()) return controlPlaneEvent(*sim_, st, simLock(st.lock));
      const HilLock& h = *o_.hil->lock(st.lock);
      Prompt p;
      p.step = &st;
      p.lock = st.lock;
      p.smartlockId = h.smartlockId;
      p.pro = h.pro;
      p.bridgeId = h.bridgeId;
      OperatorAnswer a = o_.op->ask(p);
      if (!a.done) {
        skip(st.label() + ": " + (a.note.empty() ? "skipped by the operator" : a.note));
        return json();
      }
      if (st.kind == StepKind::kAddCodeOnLock) madeCodes_[st.lock].insert(st.code.code);
      if (st.kind == StepKind::kKeypad) return json{{"granted", a.granted.value_or(false)}};
      return json{{"status", 200}};
    }
    case StepKind::kSync:
      if (remote()) return controlPlaneEvent(*sim_, st, simLock(st.lock));
      return status(call(*nuki_, "POST", nukiLock(st.lock) + "/sync"));
    case StepKind::kFault: {
      executed = false;
      // A window that starts now starts at the model's instant, which is where the model
      // starts it: both judge a call by one timeline.
      json fault = st.fault;
      if (fault.contains("forSeconds") && !fault.contains("from"))
        fault["from"] =
            formatRfc3339(timeFromMillis(millisOf(model_->now()) - anchorModel_ + anchorReal_));
      if (proxy_) {
        if (const std::string why = proxy_->addFault(fault); !why.empty())
          error("the fault proxy refused the fault of " + st.label() + ": " + why);
        return json();
      }
      json r = call(*sim_, "POST", "/sim/v1/faults", fault);
      if (r.value("status", 0) / 100 != 2)
        error("nukisim refused the fault of " + st.label() + ": " + r.value("body", json()).dump());
      return json();
    }
    case StepKind::kClearFaults:
      executed = false;
      if (proxy_)
        proxy_->clearFaults();
      else
        call(*sim_, "DELETE", "/sim/v1/faults");
      return json();
    case StepKind::kNukiRequest: {
      std::string path = st.path;
      for (size_t pos; (pos = path.find("{lock}")) != std::string::npos;)
        path.replace(pos, 6, deviceId(st.lock));
      for (size_t pos; (pos = path.find("{@")) != std::string::npos;) {
        const size_t end = path.find('}', pos);
        const std::string name = path.substr(pos + 2, end - pos - 2);
        std::string authId;
        if (auto code = model_->pinCodeOf(name)) {
          const json list = member(harnessRequest("GET", nukiLock(st.lock) + "/auth"), "body");
          for (const auto& a : list.is_array() ? list : json::array())
            if (member(a, "code").is_number_integer() &&
                std::to_string(member(a, "code").get<int64_t>()) == *code)
              authId = text(a, "id");
        }
        if (authId.empty()) {
          error(st.label() + ": {@" + name +
                "}: Nuki Web's id of that PIN cannot be learnt — "
                "it is not in the web view yet (a new code shows after a sync)");
          return json();
        }
        path.replace(pos, end - pos + 1, authId);
      }
      // A code another client makes is the scenario's too: removed at the end.
      if (st.method != "GET" && member(st.body, "code").is_number_integer())
        madeCodes_[st.lock].insert(member(st.body, "code").get<int64_t>());
      return status(harnessRequest(st.method, path, st.body));
    }
    case StepKind::kAdvance:
      executed = false;
      if (!realWait(int64_t(st.seconds) * 1000 -
                        ((wallMs() - anchorReal_) - (millisOf(model_->now()) - anchorModel_)),
                    st.label() + " advance " + std::to_string(st.seconds) + " s"))
        skip("interrupted (Ctrl-C) at " + st.label());
      return json();
    case StepKind::kAdvanceTo: {
      executed = false;
      // Every lock whose daily sync falls before that instant syncs, as in the model.
      const auto zoneOf = [&](const std::string& lock) {
        return TimeZone::find(scenario_->lock(lock)->timezone);
      };
      const Time target = model::nextLocalTime(*zoneOf(st.lock), model_->now(), st.localMinute);
      // From now on the model is at that instant: what the syncs cause comes after it.
      const Time from = model_->now();
      anchor(wallMs(), millisOf(target));
      for (const auto& l : scenario_->locks) {
        if (model::nextLocalTime(*zoneOf(l.name), from, l.syncAtMinute) > target) continue;
        out() << "  the daily sync of " << l.name << " now (" << st.label() << ")\n";
        const json r = remote() ? call(*sim_, "POST", simLock(l.name) + "/sync")
                                : call(*nuki_, "POST", nukiLock(l.name) + "/sync");
        if (r.value("status", 0) / 100 != 2)
          error(st.label() + ": the sync of " + l.name + " was answered " + r.dump());
      }
      return json();
    }
    case StepKind::kReceiverDown:
    case StepKind::kReceiverUp:
      receiver_->recorder().setStatus(st.status);
      executed = false;
      return json();
    case StepKind::kRestartAdapter:
      out() << "  restarting the adapter (" << (st.kill ? "kill -9" : "SIGTERM") << ")\n";
      stopAdapter(st.kill);
      startAdapter();
      executed = false;
      return json();
    case StepKind::kResumeOutbox:
      return status(call(*api_, "POST", "/v1/outbox/" + deviceId(st.lock) + "/resume"));
    default:
      executed = false;
      return json();
  }
}

json LiveRun::readCheck(const Step& st) {
  switch (st.kind) {
    case StepKind::kExpectAction: {
      auto alias = model_->aliases().find(st.ref);
      const std::string ref = alias == model_->aliases().end() ? st.ref : alias->second;
      auto id = bindings_.actionId(ref);
      if (!id) return json();
      return actionReading(member(call(*api_, "GET", "/v1/actions/" + *id), "body"));
    }
    case StepKind::kExpectDevice:
      return deviceReading(st,
                           member(call(*api_, "GET", "/v1/devices/" + deviceId(st.lock)), "body"));
    case StepKind::kExpectOutbox:
      return outboxReading(st, member(call(*api_, "GET", "/v1/outbox"), "body"), deviceId(st.lock));
    case StepKind::kExpectLock:
      return lockReading(st, member(call(*sim_, "GET", simLock(st.lock) + "/device"), "body"));
    default:
      return json();
  }
}

bool LiveRun::runStep(const Step& st) {
  currentStep_ = st.index;
  StepRecord rec;
  rec.index = st.index;
  rec.label = st.label();
  rec.text = describeStep(st);
  rec.lock = st.lock;
  auto stop = [&] {
    rec.atMs = millisOf(model_->now());
    result_.steps.push_back(rec);
    return false;
  };
  if (interrupted()) {
    skip("interrupted (Ctrl-C) before " + st.label());
    return stop();
  }
  for (const std::string& name : SpecModel::namesUsedBy(st))
    if (model_->refused(name)) {
      error(st.label() + " uses '" + name + "', whose action was refused (SPEC §7 Names)");
      return stop();
    }
  catchUp(st.index == 0 ? 0 : st.index - 1);
  rec.atMs = millisOf(model_->now());
  realStepAt_[st.index] = wallMs();
  out() << "  " << st.label() << " " << describeStep(st) << "\n" << std::flush;
  const bool check = st.kind == StepKind::kExpectAction || st.kind == StepKind::kExpectDevice ||
                     st.kind == StepKind::kExpectOutbox ||
                     (remote() && st.kind == StepKind::kExpectLock);
  json answer;
  bool executed = false;
  model::Prediction p;
  if (check || st.kind == StepKind::kExpectLock) {
    readJournal();
    p = model_->apply(st, oracle_);
  } else {
    answer = execute(st, executed);
    if (stopped_) return stop();
    // The action the answer names, for the model to tell its Nuki calls from another's.
    std::string newAction;
    if (model::isTraitAction(st.kind) && answer.value("status", 0) == 202 &&
        answer.contains("actionId") && answer["actionId"].is_string() &&
        oracle_.actionRefs.emplace(answer["actionId"].get<std::string>(), SpecModel::actionRef(st))
            .second)
      newAction = answer["actionId"].get<std::string>();
    // A person took their time: the model is at the instant they did it.
    if (!remote() && capabilityOf(TargetKind::kNukiWeb, st.kind).how == How::kOperator) {
      catchUp(st.index);
      rec.atMs = millisOf(model_->now());
    }
    readJournal();
    p = model_->apply(st, oracle_);
    // A new action's first Nuki call comes a moment later: the model takes it in this step,
    // as on virtual time, where it comes at the step's instant.
    if (!newAction.empty() && awaitCall(newAction)) catchUp(st.index);
    // A jump to the daily sync moves the model's clock, not the wall clock.
    if (st.kind == StepKind::kAdvanceTo) jumpedTo_[st.index] = anchorModel_;
  }
  rec.predicted = p.answer;
  rec.note = p.note;
  if (!p.error.empty()) {
    error(st.label() + ": " + p.error);
    rec.ok = false;
    return stop();
  }
  // A check that cannot be made is not judged at all, its expectation neither.
  if (st.kind == StepKind::kExpectLock && !remote()) {
    rec.note = "skipped: device truth cannot be read from a real lock";
    result_.skippedChecks.push_back(st.label() + ": device truth cannot be read from a real lock");
    result_.steps.push_back(rec);
    return true;
  }
  if (auto why = expectationProblem(st, p); !why.empty()) {
    error(st.label() + ": the expectation contradicts SPEC: " + why);
    rec.ok = false;
    return stop();
  }
  if (check) {
    // The system may take a moment to agree: read until it does, or the check times out.
    // (Interrupted: the scenario is skipped, not judged on a half-made check.)
    const auto deadline = std::chrono::steady_clock::now() + patience();
    answer = readCheck(st);
    while (!answer.is_null() && !p.allows(answer) && !interrupted() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      answer = readCheck(st);
    }
    executed = !answer.is_null();
    if (interrupted()) {
      skip("interrupted (Ctrl-C) at " + st.label());
      return stop();
    }
  }
  if (auto why = bindAnswer(st, answer, *model_, bindings_); !why.empty()) {
    fail(why);
    rec.ok = false;
    return stop();
  }
  if (executed) {
    const json shown = shownAnswer(st, answer);
    rec.answer = shown;
    bool ok = p.allows(shown);
    if (st.kind == StepKind::kKeypad && !remote()) {
      // The operator tells whether the lock opened; why it did not cannot be read.
      ok = member(p.answer, "granted") == member(shown, "granted");
      for (const auto& a : p.alternatives)
        ok = ok || member(a, "granted") == member(shown, "granted");
      if (st.expect.is_object() && st.expect.contains("reason"))
        result_.skippedChecks.push_back(st.label() +
                                        ": the keypad's refusal reason cannot be read");
    }
    if (!ok) {
      rec.ok = false;
      const Divergence d = answerDivergence(st, p, shown, *model_);
      fail((d.rule.empty() ? std::string() : d.rule + ": ") + d.message, d);
      return stop();
    }
  }
  result_.steps.push_back(rec);
  if (!model_->violations().empty()) {
    const auto& v = model_->violations().front();
    Divergence d;
    d.rule = v.rule;
    d.message = v.message;
    fail(v.rule + ": " + v.message, d);
    return false;
  }
  awaitWebhooks(false);
  if (interrupted()) {
    skip("interrupted (Ctrl-C) at " + st.label());
    return false;
  }
  return compare(false);
}

void LiveRun::cleanUp() {
  // The adapter's registration with Nuki Web goes with it: exactly its own URL.
  std::string own = publicUrl_;
  while (!own.empty() && own.back() == '/')
    own.pop_back();
  own += "/nuki/webhook";
  const json hooks = member(call(*nuki_, "GET", "/api/decentralWebhook"), "body");
  for (const auto& h : hooks.is_array() ? hooks : json::array())
    if (text(h, "webhookUrl") == own && member(h, "id").is_number_integer()) {
      const json r =
          call(*nuki_, "DELETE",
               "/api/decentralWebhook/" + std::to_string(member(h, "id").get<int64_t>()));
      if (r.value("status", 0) / 100 != 2)
        result_.notCleanedUp.push_back("the adapter's Nuki webhook registration " + own +
                                       ": DELETE answered " + r.dump());
    }
  if (remote()) return;  // the scenario's account is its own
  for (auto& [lock, codes] : madeCodes_) {
    if (codes.empty()) continue;
    std::set<int64_t> ours = codes;  // what may be deleted: also the codes refused at once
    ours.insert(maybeCodes_[lock].begin(), maybeCodes_[lock].end());
    const std::string path = nukiLock(lock);
    const std::string list = [&] {
      std::string l;
      for (int64_t c : codes)
        l += (l.empty() ? "" : ", ") + std::to_string(c);
      return l;
    }();
    // A lock left offline keeps what was sent to it in its queue: it arrives when the lock is
    // back, after the harness is gone.
    const json lockRead = call(*nuki_, "GET", path);
    if (lockRead.value("status", 0) != 200) {
      result_.notCleanedUp.push_back("codes " + list + " on " + lock + ": Nuki Web answered " +
                                     lockRead.dump() + " to GET " + path +
                                     "; check the lock's codes yourself");
      continue;
    }
    if (member(member(lockRead, "body"), "serverState") != 0) {
      result_.notCleanedUp.push_back("'" + lock + "' is offline at the end: what the scenario " +
                                     "sent it waits in its queue and reaches it when it is back " +
                                     "online (codes " + list + ": remove them then)");
      continue;
    }
    out() << "  cleaning up " << lock << ": the code(s) the scenario made (" << list << ")\n";
    // Ours, as the web view lists them after a sync: (code, auth id); nullopt if unreadable.
    auto listed = [&]() -> std::optional<std::vector<std::pair<int64_t, std::string>>> {
      call(*nuki_, "POST", path + "/sync");
      const json r = call(*nuki_, "GET", path + "/auth");
      const json& auths = member(r, "body");
      if (r.value("status", 0) != 200 || !auths.is_array()) return std::nullopt;
      std::vector<std::pair<int64_t, std::string>> found;
      for (const auto& a : auths)
        if (member(a, "type") == 13 && member(a, "code").is_number_integer() &&
            ours.count(member(a, "code").get<int64_t>()))  // never a code it did not make
          found.push_back({member(a, "code").get<int64_t>(), text(a, "id")});
      return found;
    };
    // A code may show only after the sync the listing asks for: list until every code has been
    // seen and deleted, and no longer shows, or the time is up.
    const HilLock& h = *o_.hil->lock(lock);
    const auto pause =
        std::chrono::milliseconds(std::max(250, 1000 * h.deliverySeconds.value_or(5) + 250));
    const auto deadline = std::chrono::steady_clock::now() + patience();
    std::set<int64_t> deleted;
    std::optional<std::vector<std::pair<int64_t, std::string>>> found;
    for (;;) {
      found = listed();
      if (found) {
        for (const auto& [code, id] : *found) {
          const json r = call(*nuki_, "DELETE", path + "/auth/" + id);
          if (r.value("status", 0) / 100 == 2 && codes.count(code)) deleted.insert(code);
        }
        // Done when nothing of ours is listed and every code was seen (deleted) at least once.
        if (found->empty() && deleted.size() == codes.size()) break;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(pause);
    }
    if (!found) {
      result_.notCleanedUp.push_back("codes " + list + " on " + lock +
                                     ": Nuki Web's list of codes could not be read; check them "
                                     "yourself");
      continue;
    }
    for (const auto& [code, id] : *found)
      result_.notCleanedUp.push_back("code " + std::to_string(code) + " on " + lock +
                                     " is still listed by Nuki Web after its deletion (auth " + id +
                                     ")");
    std::string unseen;
    for (int64_t c : codes)
      if (!deleted.count(c)) unseen += (unseen.empty() ? "" : ", ") + std::to_string(c);
    if (!unseen.empty())
      out() << "  (not listed after a sync, so not on " << lock << ": " << unseen
            << " — deleted by the scenario or dropped by the lock)\n";
  }
}

json LiveRun::settledState(const std::string& path) {
  auto read = [&] {
    const json r = call(*nuki_, "GET", path);
    return r.value("status", 0) == 200 ? member(r, "body") : json();
  };
  json b = read();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o_.checkSeconds);
  auto moving = [](const json& body) {
    const json& v = member(member(body, "state"), "state");
    return v == 2 || v == 4 || v == 5 || v == 6 || v == 7;
  };
  while (!b.is_null() && moving(b) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    b = read();
  }
  return b;
}

void LiveRun::restoreLockStates() {
  auto name = [](int state) { return state == 1 ? "locked" : "unlocked"; };
  for (const auto& [lock, was] : startState_) {
    const std::string path = nukiLock(lock);
    json b = settledState(path);
    if (b.is_null()) {
      result_.notCleanedUp.push_back("'" + lock + "' could not be read at the end; it was " +
                                     name(was) + " at the start");
      continue;
    }
    const json now = member(member(b, "state"), "state");
    if (now == was) continue;
    if (member(b, "serverState") != 0) {
      result_.notCleanedUp.push_back("'" + lock + "' is offline at the end, in lock state " +
                                     now.dump() + "; it was " + name(was) + " at the start");
      continue;
    }
    if (was == 3 && now == 1 && !o_.plan.allowUnlock) {
      // Locked is the safe state: said, not counted as something left behind.
      out() << "  " << lock
            << " is left locked; it was unlocked at the start (the harness unlocks only with "
               "--allow-unlock)\n";
      continue;
    }
    if (was == 3 && !o_.plan.allowUnlock) {
      result_.notCleanedUp.push_back("'" + lock + "' ends in lock state " + now.dump() +
                                     "; it was unlocked at the start (the harness unlocks only "
                                     "with --allow-unlock)");
      continue;
    }
    out() << "  restoring " << lock << ": " << (was == 1 ? "locking" : "unlocking")
          << " it again, as it was at the start\n";
    const json sent = call(*nuki_, "POST", path + "/action", {{"action", was == 1 ? 2 : 1}});
    if (sent.value("status", 0) / 100 != 2) {
      result_.notCleanedUp.push_back("'" + lock + "' could not be set back to " + name(was) +
                                     ": Nuki Web answered " + sent.dump() + " to POST " + path +
                                     "/action");
      continue;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o_.checkSeconds);
    json state = member(member(settledState(path), "state"), "state");
    while (state != was && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      state = member(member(settledState(path), "state"), "state");
    }
    if (state != was)
      result_.notCleanedUp.push_back("'" + lock + "' did not come back to " + name(was) +
                                     " (lock state " + state.dump() + " after " +
                                     std::to_string(o_.checkSeconds) + " s)");
  }
}

void LiveRun::calibrate() {
  json rows = json::array(), motor = json::array(), latency = json::array();
  std::map<size_t, int64_t> modelStepAt;
  for (const auto& r : result_.steps)
    modelStepAt[r.index] = r.atMs;
  std::map<std::string, int64_t> arrived;
  {
    std::lock_guard lock(arrivalsMu_);
    arrived = arrivals_;
  }
  for (const auto& d : result_.devices) {
    std::map<std::string, int64_t> pendingAt;  // actionId → when its PENDING arrived
    for (size_t k = 0; k < d.observed.size(); ++k) {
      const ObservedWebhook& w = d.observed[k];
      auto at = arrived.find(w.id);
      if (at == arrived.end()) continue;
      if (w.occurredMs) latency.push_back(at->second - w.occurredMs);
      const std::string action = text(w.content, "actionId");
      if (w.type == "deviceEventUpdateAction" && text(w.content, "status") == "PENDING")
        pendingAt[action] = at->second;
      if (w.type == "deviceEventUpdateAction" && text(w.content, "status") == "RESOLVED" &&
          pendingAt.count(action)) {
        // A lock action's PENDING to RESOLVED is the motor's run (a PIN's waits for a sync).
        for (const auto& st : scenario_->steps)
          if (st.kind == StepKind::kSetLocked && SpecModel::actionRef(st) == action)
            motor.push_back(at->second - pendingAt[action]);
      }
      if (k >= d.expected.size()) continue;
      const model::ExpectedWebhook& e = d.expected[k];
      if (e.step == SIZE_MAX || !realStepAt_.count(e.step) || !modelStepAt.count(e.step)) continue;
      rows.push_back({{"lock", d.lock},
                      {"step", scenario_->steps[e.step].label()},
                      {"webhook", w.describe()},
                      {"realMs", at->second - realStepAt_[e.step]},
                      {"simMs", e.atMs - (jumpedTo_.count(e.step) ? jumpedTo_[e.step]
                                                                  : modelStepAt[e.step])}});
    }
  }
  json differences = json::array();
  // The same scenario in the embedded world, on nukisim's settings: where the sequences part.
  RunOptions ro;
  ro.replayFailures = false;
  const ScenarioResult sim = runScenario(scenario_, ro);
  for (const auto& real : result_.devices)
    for (const auto& simulated : sim.devices) {
      if (simulated.lock != real.lock) continue;
      const size_t n = std::max(real.observed.size(), simulated.observed.size());
      for (size_t k = 0; k < n && differences.size() < 50; ++k) {
        const std::string a = k < real.observed.size() ? real.observed[k].describe() : "nothing";
        const std::string b =
            k < simulated.observed.size() ? simulated.observed[k].describe() : "nothing";
        if (a != b)
          differences.push_back(real.lock + ", webhook " + std::to_string(k + 1) + ": real " + a +
                                "; simulated " + b);
      }
    }
  result_.calibration = {{"rows", rows},
                         {"motorMs", motor},
                         {"latencyMs", latency},
                         {"differences", differences},
                         {"simulatedVerdict", verdictName(sim.verdict)},
                         {"simulatedMessage", sim.message}};
}

// The service's departures from SPEC are findings of their own. The model went on with SPEC's
// answer, so an adapter that diverged after one cannot be judged: that is no failure of the
// adapter but an error of the run, which names the finding first.
void LiveRun::judgeFindings() {
  const auto& findings = model_->serviceFindings();
  const std::string service = remote() ? "nukisim" : "Nuki Web";
  for (const auto& f : findings) {
    const std::string at = f.step < scenario_->steps.size()
                               ? scenario_->steps[f.step].label() + ": "
                               : std::string("before the first step: ");
    result_.serviceFindings.push_back(at + f.message);
  }
  if (findings.empty() || result_.verdict != Verdict::kFailed) return;
  const size_t first = findings.front().step;
  if (failedAt_ != SIZE_MAX && first != SIZE_MAX && first > failedAt_) return;
  result_.verdict = Verdict::kError;
  result_.message = "cannot be judged: " + service + " departed from SPEC first (" +
                    result_.serviceFindings.front() + "); after it: " + result_.message;
  result_.problems.insert(result_.problems.begin(), result_.message);
}

ScenarioResult LiveRun::go() {
  const auto started = std::chrono::steady_clock::now();
  result_.target = targetName(o_.target);
  result_.file = original_->file;
  result_.name = original_->name;
  result_.intended = original_->rules;
  ScenarioPlan plan = livePlan(original_, o_);
  if (!plan.runnable) {
    result_.verdict = Verdict::kSkipped;
    result_.message = "skipped: " + plan.skipReasons.front();
    for (size_t i = 1; i < plan.skipReasons.size(); ++i)
      result_.message += "; " + plan.skipReasons[i];
    return result_;
  }
  auto adapted = std::make_shared<Scenario>(*plan.adapted);
  http::ClientOptions co;
  co.caFile = o_.caFile;
  out() << "\n" << original_->file << " — " << original_->name << "\n";
  if (remote()) {
    try {
      sim_ = std::make_unique<http::UrlClient>(o_.simUrl, o_.simAdminToken, co);
    } catch (const std::exception& e) {
      error(std::string("nukisim: ") + e.what());
      return result_;
    }
    if (!buildFleet(*adapted)) return result_;
  }
  try {
    nuki_ = std::make_unique<http::UrlClient>(o_.nukiUrl, o_.nukiToken, co);
    adapterNukiUrl_ = o_.nukiUrl;
    if (!remote()) {
      // The adapter reaches Nuki Web through the fault proxy, which tells the model what it
      // sent and injects the scenario's faults.
      proxy_ = std::make_unique<FaultProxy>(o_.nukiUrl, co);
      viaProxy_ = std::make_unique<http::UrlClient>(proxy_->url(), o_.nukiToken);
      adapterNukiUrl_ = proxy_->url();
    }
  } catch (const std::exception& e) {
    error(std::string("Nuki Web: ") + e.what());
    return result_;
  }
  if (!remote() && !checkLocks(*adapted)) {
    // A lock the checks unlocked (--allow-unlock) before another check skipped the scenario is
    // locked again.
    try {
      restoreLockStates();
    } catch (const std::exception& e) {
      result_.notCleanedUp.push_back(std::string("setting the locks back stopped: ") + e.what());
    }
    return result_;
  }
  // The model starts now: its instants are real ones (one timeline in the report), and codes'
  // schedules and the daily sync are judged at the real local time.
  adapted->start = timeFromMillis(wallMs());
  scenario_ = adapted;
  model_.emplace(scenario_);
  model_->setLockIds(ids_);
  model_->setCallLatency(kCallLatencyMs);
  char tmpl[] = "/tmp/nukihil-live-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error("cannot make a folder for the adapter's database");
    return result_;
  }
  dir_ = tmpl;
  apiKey_ = "hil-" + crypto::toHex(randomBytes(16));
  secret_ = "whsec_" + crypto::base64Encode(randomBytes(24));
  adapterPort_ = o_.adapterPort ? o_.adapterPort : freePort();
  publicUrl_ =
      !o_.publicUrl.empty() ? o_.publicUrl : "http://127.0.0.1:" + std::to_string(adapterPort_);
  receiver_ = std::make_unique<Receiver>(secret_);
  if (o_.TEST_tamper) receiver_->recorder().setTamper(o_.TEST_tamper());
  receiver_->recorder().setListener([this](const RecordedWebhook& w) {
    std::lock_guard lock(arrivalsMu_);
    arrivals_.emplace(w.id, wallMs());
  });
  const int64_t t0 = wallMs();
  result_.startMs = millisOf(scenario_->start);
  // Whatever happens on the way, the adapter is stopped and the account cleaned up.
  try {
    if (startAdapter()) {
      anchor(t0, millisOf(model_->now()));
      readJournal();
      model_->start(oracle_);
      awaitWebhooks(false);
      if (compare(false)) {
        for (const auto& st : scenario_->steps)
          if (!runStep(st)) break;
      }
      if (!stopped_) {
        // What the last step caused on the wall clock since.
        catchUp(scenario_->steps.empty() ? 0 : scenario_->steps.back().index);
        awaitWebhooks(true);
        compare(true);
      }
    }
  } catch (const std::exception& e) {
    error(std::string("the run could not go on: ") + e.what());
  }
  stopAdapter(false);
  try {
    cleanUp();
  } catch (const std::exception& e) {
    result_.notCleanedUp.push_back(std::string("the clean-up stopped: ") + e.what());
  }
  if (!remote()) {
    try {
      restoreLockStates();
    } catch (const std::exception& e) {
      result_.notCleanedUp.push_back(std::string("setting the locks back stopped: ") + e.what());
    }
  }
  for (const auto& l : scenario_->locks) {
    DeviceRecord d;
    d.lock = l.name;
    d.deviceId = deviceId(l.name);
    d.expected = model_->expected().at(l.name);
    for (const auto& w : observed_[l.name])
      d.observed.push_back(withNames(w, bindings_));
    if (result_.divergence && result_.divergence->lock == l.name)
      d.divergenceIndex = result_.divergence->index;
    result_.devices.push_back(std::move(d));
  }
  judgeFindings();
  result_.coverage = model_->coverage();
  result_.endMs = millisOf(model_->now());
  if (o_.calibrate && !result_.steps.empty()) calibrate();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (result_.verdict == Verdict::kPassed) {
    if (!result_.skippedChecks.empty()) {
      result_.verdict = Verdict::kSkipped;
      result_.message = "every check made agreed with SPEC, but " +
                        std::to_string(result_.skippedChecks.size()) +
                        " could not be made: " + result_.skippedChecks.front();
    } else {
      result_.message = "every answer and webhook as SPEC says";
    }
  }
  result_.wallMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return result_;
}

}  // namespace

ScenarioResult runLive(std::shared_ptr<const Scenario> scenario, const LiveOptions& options) {
  try {
    return LiveRun(scenario, options).go();
  } catch (const std::exception& e) {
    ScenarioResult r;
    r.target = targetName(options.target);
    r.file = scenario->file;
    r.name = scenario->name;
    r.verdict = Verdict::kError;
    r.message = std::string("the run could not go on: ") + e.what();
    r.problems.push_back(r.message);
    return r;
  }
}

}  // namespace nukihil::scenarios
