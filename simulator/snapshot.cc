// Snapshot and restore of the whole simulated world, and fleet files. A snapshot holds
// everything that decides the future: clock, random state, id counters, accounts, bridges,
// locks (device truth, web view, queues, logs), scheduled events, webhook registrations and
// their undelivered events, faults and the journal.
#include <set>

#include "simulator/nuki_json.h"
#include "simulator/routes.h"

namespace nukihil::sim {

// control_plane.cc
Error lockSettingsFrom(const nlohmann::json& j, LockSettings& s);
std::pair<uint32_t, Error> lockFrom(World& w, uint32_t account, const nlohmann::json& j);
Error codeInputFrom(const nlohmann::json& j, AuthInput& in);

namespace {

using nlohmann::json;
constexpr int kSnapshotVersion = 1;

json idJson(const ObjectId& id) {
  return json::array({id.seconds, id.lock, id.counter});
}
ObjectId idFrom(const json& j) {
  return ObjectId{j.at(0).get<uint32_t>(), j.at(1).get<uint32_t>(), j.at(2).get<uint32_t>()};
}

// Auth records as compact arrays.
json authJson(const Auth& a) {
  return json::array({idJson(a.id), a.name, a.creationMs, a.updateMs, a.lastActiveMs,
                      a.schedule.fromMs, a.schedule.untilMs, a.schedule.fromTime,
                      a.schedule.untilTime, a.schedule.weekDays, a.authId, a.code, a.lockCount,
                      a.type, a.enabled, a.remoteAllowed});
}

Auth authFrom(const json& j) {
  Auth a;
  a.id = idFrom(j.at(0));
  a.name = j.at(1).get<std::string>();
  a.creationMs = j.at(2).get<int64_t>();
  a.updateMs = j.at(3).get<int64_t>();
  a.lastActiveMs = j.at(4).get<int64_t>();
  a.schedule.fromMs = j.at(5).get<int64_t>();
  a.schedule.untilMs = j.at(6).get<int64_t>();
  a.schedule.fromTime = j.at(7).get<uint16_t>();
  a.schedule.untilTime = j.at(8).get<uint16_t>();
  a.schedule.weekDays = j.at(9).get<uint8_t>();
  a.authId = j.at(10).get<int32_t>();
  a.code = j.at(11).get<uint32_t>();
  a.lockCount = j.at(12).get<uint32_t>();
  a.type = j.at(13).get<uint8_t>();
  a.enabled = j.at(14).get<bool>();
  a.remoteAllowed = j.at(15).get<bool>();
  return a;
}

json commandJson(const Command& c) {
  json j;
  j["kind"] = c.kind;
  j["action"] = c.action;
  j["trigger"] = c.trigger;
  j["readyMs"] = c.readyMs;
  j["operation"] = idJson(c.operation);
  j["target"] = idJson(c.target);
  if (c.auth) j["auth"] = authJson(*c.auth);
  j["by"] = c.by;
  return j;
}

Command commandFrom(const json& j) {
  Command c;
  c.kind = Command::Kind(j.at("kind").get<int>());
  c.action = j.at("action").get<uint8_t>();
  c.trigger = j.at("trigger").get<uint8_t>();
  c.readyMs = j.at("readyMs").get<int64_t>();
  c.operation = idFrom(j.at("operation"));
  c.target = idFrom(j.at("target"));
  if (j.contains("auth")) c.auth = AuthRef::make(authFrom(j["auth"]));
  c.by = j.at("by").get<std::string>();
  return c;
}

json logJson(const LogEntry& e) {
  return json::array(
      {idJson(e.id), idJson(e.authId), e.dateMs, e.name, e.action, e.trigger, e.state, e.source});
}

LogEntry logFrom(const json& j) {
  LogEntry e;
  e.id = idFrom(j.at(0));
  e.authId = idFrom(j.at(1));
  e.dateMs = j.at(2).get<int64_t>();
  e.name = j.at(3).get<std::string>();
  e.action = j.at(4).get<uint8_t>();
  e.trigger = j.at(5).get<uint8_t>();
  e.state = j.at(6).get<uint8_t>();
  e.source = j.at(7).get<uint8_t>();
  return e;
}

json lockJson(const Lock& l) {
  json j;
  j["smartlockId"] = l.smartlockId;
  j["nukiId"] = l.nukiId;
  j["account"] = l.account;
  j["bridge"] = l.bridge;
  j["model"] = int(l.model);
  j["removed"] = l.removed;
  j["favorite"] = l.favorite;
  j["name"] = l.name;
  j["apiAuthId"] = l.apiAuthId;
  j["creationMs"] = l.creationMs;
  j["updateMs"] = l.updateMs;
  j["settings"] = {l.settings.motorSeconds,
                   l.settings.deliverySeconds,
                   l.settings.unlatchDuration,
                   l.settings.lngTimeout,
                   l.settings.syncAtMinute,
                   l.settings.timeZone ? l.settings.timeZone->name() : std::string("UTC")};
  j["device"] = {l.wifiOnline, l.state,      l.stableState,     l.trigger,      l.lastAction,
                 l.battery,    l.jammed,     l.motorBusy,       l.jobBlocked,   l.jobLogged,
                 l.jobAction,  l.jobTrigger, l.motorGeneration, l.nextAuthSlot, l.jobBy};
  j["web"] = {l.webOnline,  l.webState,   l.webTrigger,    l.webLastAction,
              l.webBattery, l.nextSyncMs, l.syncGeneration};
  json device = json::array();
  for (const auto& a : l.deviceAuths)
    device.push_back(authJson(*a));
  j["deviceAuths"] = std::move(device);
  // The web view mostly shares records with the device: store only the ids of shared ones.
  json web = json::array();
  for (const auto& a : l.webView) {
    bool shared = false;
    for (const auto& d : l.deviceAuths)
      if (d.get() == a.get()) shared = true;
    web.push_back(shared ? json(idJson(a->id)) : json{{"auth", authJson(*a)}});
  }
  j["webView"] = std::move(web);
  json queue = json::array();
  for (const auto& c : l.queue)
    queue.push_back(commandJson(c));
  j["queue"] = std::move(queue);
  json local = json::array();
  for (const auto& c : l.localQueue)
    local.push_back(commandJson(c));
  j["localQueue"] = std::move(local);
  json pending = json::array();
  for (const auto& p : l.pending) {
    json pj = {{"kind", p.kind},
               {"operation", idJson(p.operation)},
               {"target", idJson(p.target)},
               {"delivered", p.delivered}};
    if (p.auth) pj["auth"] = authJson(*p.auth);
    pending.push_back(std::move(pj));
  }
  j["pending"] = std::move(pending);
  json logs = json::array();
  for (const auto& e : l.logs)
    logs.push_back(logJson(e));
  j["logs"] = std::move(logs);
  j["reportedLogs"] = l.reportedLogs;
  return j;
}

Lock lockFromJson(const json& j) {
  Lock l;
  l.smartlockId = j.at("smartlockId").get<uint64_t>();
  l.nukiId = j.at("nukiId").get<uint32_t>();
  l.account = j.at("account").get<uint32_t>();
  l.bridge = j.at("bridge").get<uint32_t>();
  l.model = Model(j.at("model").get<int>());
  l.removed = j.at("removed").get<bool>();
  l.favorite = j.at("favorite").get<bool>();
  l.name = j.at("name").get<std::string>();
  l.apiAuthId = j.at("apiAuthId").get<int32_t>();
  l.creationMs = j.at("creationMs").get<int64_t>();
  l.updateMs = j.at("updateMs").get<int64_t>();
  const auto& s = j.at("settings");
  l.settings.motorSeconds = s.at(0).get<uint32_t>();
  l.settings.deliverySeconds = s.at(1).get<uint32_t>();
  l.settings.unlatchDuration = s.at(2).get<uint32_t>();
  l.settings.lngTimeout = s.at(3).get<uint32_t>();
  l.settings.syncAtMinute = s.at(4).get<uint16_t>();
  l.settings.timeZone = TimeZone::find(s.at(5).get<std::string>());
  if (!l.settings.timeZone)
    throw std::runtime_error("unknown time zone " + s.at(5).get<std::string>());
  const auto& d = j.at("device");
  l.wifiOnline = d.at(0).get<bool>();
  l.state = d.at(1).get<uint8_t>();
  l.stableState = d.at(2).get<uint8_t>();
  l.trigger = d.at(3).get<uint8_t>();
  l.lastAction = d.at(4).get<uint8_t>();
  l.battery = d.at(5).get<uint8_t>();
  l.jammed = d.at(6).get<bool>();
  l.motorBusy = d.at(7).get<bool>();
  l.jobBlocked = d.at(8).get<bool>();
  l.jobLogged = d.at(9).get<bool>();
  l.jobAction = d.at(10).get<uint8_t>();
  l.jobTrigger = d.at(11).get<uint8_t>();
  l.motorGeneration = d.at(12).get<uint32_t>();
  l.nextAuthSlot = d.at(13).get<int32_t>();
  l.jobBy = d.at(14).get<std::string>();
  const auto& w = j.at("web");
  l.webOnline = w.at(0).get<bool>();
  l.webState = w.at(1).get<uint8_t>();
  l.webTrigger = w.at(2).get<uint8_t>();
  l.webLastAction = w.at(3).get<uint8_t>();
  l.webBattery = w.at(4).get<uint8_t>();
  l.nextSyncMs = w.at(5).get<int64_t>();
  l.syncGeneration = w.at(6).get<uint32_t>();
  for (const auto& a : j.at("deviceAuths"))
    l.deviceAuths.push_back(AuthRef::make(authFrom(a)));
  for (const auto& a : j.at("webView")) {
    if (a.is_object()) {
      l.webView.push_back(AuthRef::make(authFrom(a.at("auth"))));
      continue;
    }
    const ObjectId id = idFrom(a);
    AuthRef found;
    for (const auto& dev : l.deviceAuths)
      if (dev->id == id) found = dev;
    if (!found) throw std::runtime_error("web view refers to an auth the device does not hold");
    l.webView.push_back(found);
  }
  for (const auto& c : j.at("queue"))
    l.queue.push_back(commandFrom(c));
  for (const auto& c : j.at("localQueue"))
    l.localQueue.push_back(commandFrom(c));
  for (const auto& p : j.at("pending")) {
    PendingChange pc;
    pc.kind = Command::Kind(p.at("kind").get<int>());
    pc.operation = idFrom(p.at("operation"));
    pc.target = idFrom(p.at("target"));
    pc.delivered = p.at("delivered").get<bool>();
    if (p.contains("auth")) pc.auth = AuthRef::make(authFrom(p["auth"]));
    l.pending.push_back(std::move(pc));
  }
  for (const auto& e : j.at("logs"))
    l.logs.push_back(logFrom(e));
  l.reportedLogs = j.at("reportedLogs").get<size_t>();
  return l;
}

json faultJson(const Fault& f) {
  json j;
  j["id"] = f.id;
  j["route"] = f.route;
  j["methods"] = f.methods;
  j["probability"] = f.probability;
  j["fromMs"] = f.fromMs;
  j["untilMs"] = f.untilMs;
  j["remaining"] = f.remaining;
  j["effect"] = f.effect;
  j["status"] = f.status;
  j["retryAfter"] = f.retryAfterSeconds;
  j["latencyMs"] = f.latencyMs;
  j["fired"] = f.fired;
  return j;
}

Fault faultFrom(const json& j) {
  Fault f;
  f.id = j.at("id").get<int64_t>();
  f.route = j.at("route").get<std::string>();
  f.methods = j.at("methods").get<std::vector<std::string>>();
  f.probability = j.at("probability").get<double>();
  f.fromMs = j.at("fromMs").get<int64_t>();
  f.untilMs = j.at("untilMs").get<int64_t>();
  f.remaining = j.at("remaining").get<int64_t>();
  f.effect = Fault::Effect(j.at("effect").get<int>());
  f.status = j.at("status").get<int>();
  f.retryAfterSeconds = j.at("retryAfter").get<int64_t>();
  f.latencyMs = j.at("latencyMs").get<int64_t>();
  f.fired = j.at("fired").get<uint64_t>();
  return f;
}

}  // namespace

json Simulator::snapshot() const {
  json j;
  j["format"] = "nukisim-snapshot";
  j["version"] = kSnapshotVersion;
  j["seed"] = options_.seed;
  j["nowMs"] = millisOf(clock_.now());
  j["random"] = random_.state();
  j["idCounter"] = const_cast<World&>(world_).idCounter();
  json events = json::array();
  for (const auto& e : scheduler_.pending())
    events.push_back({millisOf(e.at), e.seq, int(e.kind), e.target, e.arg});
  j["scheduler"] = {{"nextSeq", scheduler_.peekNextSeq()}, {"events", std::move(events)}};
  json accounts = json::array();
  for (const auto& a : world_.accounts())
    accounts.push_back({{"accountId", a.accountId},
                        {"name", a.name},
                        {"email", a.email},
                        {"apiToken", a.apiToken},
                        {"creationMs", a.creationMs},
                        {"locks", a.locks}});
  j["accounts"] = std::move(accounts);
  json bridges = json::array();
  for (const auto& b : world_.bridges())
    bridges.push_back({{"bridgeId", b.bridgeId},
                       {"account", b.account},
                       {"online", b.online},
                       {"locks", b.locks}});
  j["bridges"] = std::move(bridges);
  json locks = json::array();
  for (const auto& l : world_.locks())
    locks.push_back(lockJson(l));
  j["locks"] = std::move(locks);
  json hooks = json::array();
  for (const auto& [id, h] : webhooks_.all()) {
    json streams = json::array();
    for (const auto& [lock, s] : h.streams) {
      json queue = json::array();
      for (const auto& d : s.queue)
        queue.push_back({d.feature, d.body});
      streams.push_back({{"smartlockId", lock},
                         {"attempts", s.attempts},
                         {"inFlight", s.inFlight},
                         {"scheduled", s.scheduled},
                         {"nextAttemptMs", s.nextAttemptMs},
                         {"queue", std::move(queue)}});
    }
    hooks.push_back({{"id", h.id},
                     {"account", h.account},
                     {"url", h.url},
                     {"secret", h.secret},
                     {"features", h.features},
                     {"streams", std::move(streams)}});
  }
  j["webhooks"] = std::move(hooks);
  json faults = json::array();
  for (const auto& f : faults_.all())
    faults.push_back(faultJson(f));
  j["faults"] = {{"nextId", const_cast<Faults&>(faults_).nextId()}, {"list", std::move(faults)}};
  json journal = json::array();
  for (const auto& e : journal_.entries())
    journal.push_back({e.seq, e.atMs, int(e.kind), e.method, e.path, e.status, e.fault, e.webhookId,
                       e.smartlockId, e.feature, e.attempt, e.error});
  j["journal"] = {{"nextSeq", journal_.nextSeq()}, {"entries", std::move(journal)}};
  return j;
}

Error Simulator::restore(const json& j) {
  if (j.value("format", "") != "nukisim-snapshot")
    return Error::make(400, "BAD_SNAPSHOT", "not a nukisim snapshot (format)");
  if (j.value("version", 0) != kSnapshotVersion)
    return Error::make(400, "BAD_SNAPSHOT", "unsupported snapshot version");
  try {
    // Decode everything first, so that a broken snapshot leaves the world as it was.
    std::vector<Account> accounts;
    for (const auto& a : j.at("accounts")) {
      Account acc;
      acc.accountId = a.at("accountId").get<int32_t>();
      acc.name = a.at("name").get<std::string>();
      acc.email = a.at("email").get<std::string>();
      acc.apiToken = a.at("apiToken").get<std::string>();
      acc.creationMs = a.at("creationMs").get<int64_t>();
      acc.locks = a.at("locks").get<std::vector<uint32_t>>();
      accounts.push_back(std::move(acc));
    }
    std::vector<Bridge> bridges;
    for (const auto& b : j.at("bridges"))
      bridges.push_back(Bridge{b.at("bridgeId").get<uint64_t>(), b.at("account").get<uint32_t>(),
                               b.at("online").get<bool>(),
                               b.at("locks").get<std::vector<uint32_t>>()});
    std::vector<Lock> locks;
    for (const auto& l : j.at("locks"))
      locks.push_back(lockFromJson(l));
    for (const auto& l : locks) {
      if (l.account >= accounts.size() || (l.model == Model::k30 && l.bridge >= bridges.size()))
        throw std::runtime_error("a lock refers to a missing account or bridge");
    }
    std::vector<Event> events;
    for (const auto& e : j.at("scheduler").at("events"))
      events.push_back(Event{timeFromMillis(e.at(0).get<int64_t>()), e.at(1).get<uint64_t>(),
                             EventKind(e.at(2).get<int>()), e.at(3).get<uint32_t>(),
                             e.at(4).get<uint64_t>()});
    std::map<int32_t, Webhook> hooks;
    for (const auto& h : j.at("webhooks")) {
      Webhook hook;
      hook.id = h.at("id").get<int32_t>();
      hook.account = h.at("account").get<uint32_t>();
      hook.url = h.at("url").get<std::string>();
      hook.secret = h.at("secret").get<std::string>();
      hook.features = h.at("features").get<uint8_t>();
      for (const auto& s : h.at("streams")) {
        WebhookStream st;
        st.attempts = s.at("attempts").get<uint32_t>();
        st.inFlight = s.at("inFlight").get<bool>();
        st.scheduled = s.at("scheduled").get<bool>();
        st.nextAttemptMs = s.at("nextAttemptMs").get<int64_t>();
        for (const auto& d : s.at("queue"))
          st.queue.push_back(
              PendingDelivery{d.at(0).get<std::string>(), d.at(1).get<std::string>()});
        hook.streams.emplace(s.at("smartlockId").get<uint64_t>(), std::move(st));
      }
      hooks.emplace(hook.id, std::move(hook));
    }
    std::vector<Fault> faults;
    for (const auto& f : j.at("faults").at("list"))
      faults.push_back(faultFrom(f));
    std::deque<JournalEntry> journal;
    for (const auto& e : j.at("journal").at("entries")) {
      JournalEntry je;
      je.seq = e.at(0).get<uint64_t>();
      je.atMs = e.at(1).get<int64_t>();
      je.kind = JournalEntry::Kind(e.at(2).get<int>());
      je.method = e.at(3).get<std::string>();
      je.path = e.at(4).get<std::string>();
      je.status = e.at(5).get<int>();
      je.fault = e.at(6).get<std::string>();
      je.webhookId = e.at(7).get<int32_t>();
      je.smartlockId = e.at(8).get<uint64_t>();
      je.feature = e.at(9).get<std::string>();
      je.attempt = e.at(10).get<uint32_t>();
      je.error = e.at(11).get<std::string>();
      journal.push_back(std::move(je));
    }
    const Time now = timeFromMillis(j.at("nowMs").get<int64_t>());
    const auto randomState = j.at("random").get<Random::State>();

    // Commit.
    if (clock_.isVirtual()) {
      auto& vc = static_cast<VirtualClock&>(clock_);
      if (vc.advancing())
        return Error::make(409, "ADVANCE_IN_PROGRESS", "cannot restore during an advance");
      vc.set(now);
    } else {
      static_cast<RealClock&>(clock_).rebase(now);
    }
    random_.setState(randomState);
    world_.mutableAccounts() = std::move(accounts);
    world_.mutableBridges() = std::move(bridges);
    world_.mutableLocks() = std::move(locks);
    world_.idCounter() = j.at("idCounter").get<uint32_t>();
    world_.reindex();
    webhooks_.restoreAll(std::move(hooks));
    faults_.mutableAll() = std::move(faults);
    faults_.nextId() = j.at("faults").at("nextId").get<int64_t>();
    journal_.restore(std::move(journal), j.at("journal").at("nextSeq").get<uint64_t>());
    scheduler_.restore(std::move(events), j.at("scheduler").at("nextSeq").get<uint64_t>());
    // A delivery that was in flight when the snapshot was taken goes out again.
    for (auto& [id, h] : webhooks_.mutableAll())
      for (auto& [lock, s] : h.streams)
        if (s.inFlight) {
          s.inFlight = false;
          s.scheduled = true;
          scheduler_.schedule(now, EventKind::kWebhookSend, uint32_t(id), lock);
        }
  } catch (const std::exception& e) {
    return Error::make(400, "BAD_SNAPSHOT", std::string("the snapshot is damaged: ") + e.what());
  }
  return Error::none();
}

// ---------------------------------------------------------------------------------------------
// Fleet files

namespace {

// Generated keypad codes of one lock: six digits 1–9, not starting with 12 (K1–K3), all
// different on the lock. Walks the 531,441 codes of digits 1–9 from a per-lock start with a
// step coprime to their number, skipping the "12…" ones.
class CodeWalk {
 public:
  explicit CodeWalk(uint64_t start) : n_(start % kSpace) {}
  uint32_t next() {
    for (;;) {
      uint32_t code = 0;
      uint64_t v = n_;
      for (int d = 0; d < 6; ++d) {
        code = code * 10 + uint32_t(v % 9 + 1);
        v /= 9;
      }
      n_ = (n_ + 7919) % kSpace;
      if (code / 10000 != 12) return code;
    }
  }

 private:
  static constexpr uint64_t kSpace = 531441;  // 9^6
  uint64_t n_;
};

}  // namespace

Error Simulator::loadFleet(const json& fleet) {
  try {
    return loadFleetChecked(fleet);
  } catch (const json::exception& e) {
    // A field of the wrong type somewhere the checks below did not look.
    return Error::make(400, "BAD_FLEET", std::string("a field has the wrong type: ") + e.what());
  }
}

Error Simulator::loadFleetChecked(const json& fleet) {
  if (!fleet.is_object()) return Error::make(400, "BAD_FLEET", "a fleet file is a JSON object");
  if (fleet.contains("defaults")) {
    if (auto e = lockSettingsFrom(fleet["defaults"], world_.defaults))
      return Error::make(400, "BAD_FLEET", "defaults: " + e.message);
  }
  if (fleet.contains("accounts")) {
    if (!fleet["accounts"].is_array())
      return Error::make(400, "BAD_FLEET", "accounts must be an array");
    size_t ai = 0;
    for (const auto& a : fleet["accounts"]) {
      const std::string where = "accounts[" + std::to_string(ai++) + "]";
      if (!a.is_object()) return Error::make(400, "BAD_FLEET", where + " must be an object");
      for (const char* k : {"name", "email", "apiToken"})
        if (a.contains(k) && !a[k].is_string())
          return Error::make(400, "BAD_FLEET", where + "." + k + " must be a string");
      if (a.contains("smartlocks") && !a["smartlocks"].is_array())
        return Error::make(400, "BAD_FLEET", where + ".smartlocks must be an array");
      std::string token = a.value("apiToken", "");
      if (!token.empty() && (token.size() < 16 || world_.accountByToken(token)))
        return Error::make(400, "BAD_FLEET",
                           where + ".apiToken must be unique and ≥ 16 characters");
      const uint32_t account =
          world_.addAccount(a.value("name", "Account"), a.value("email", ""), token);
      size_t li = 0;
      for (const auto& l : a.value("smartlocks", json::array())) {
        const std::string lwhere = where + ".smartlocks[" + std::to_string(li++) + "]";
        if (!l.is_object()) return Error::make(400, "BAD_FLEET", lwhere + " must be an object");
        if (l.contains("codes") && !l["codes"].is_array())
          return Error::make(400, "BAD_FLEET", lwhere + ".codes must be an array");
        auto [index, e] = lockFrom(world_, account, l);
        if (e) return Error::make(400, "BAD_FLEET", lwhere + ": " + e.message);
        if (l.contains("online") && l["online"].is_boolean() && !l["online"].get<bool>())
          world_.setOnline(index, false);
        size_t ci = 0;
        for (const auto& c : l.value("codes", json::array())) {
          AuthInput in;
          if (auto ce = codeInputFrom(c, in))
            return Error::make(400, "BAD_FLEET",
                               lwhere + ".codes[" + std::to_string(ci) + "]: " + ce.message);
          if (auto ce = world_.addDeviceCode(index, in, /*synced=*/true))
            return Error::make(400, "BAD_FLEET",
                               lwhere + ".codes[" + std::to_string(ci) + "]: " + ce.message);
          ++ci;
        }
      }
    }
  }
  if (fleet.contains("generate")) {
    const auto& g = fleet["generate"];
    auto count = [&](const char* k, int64_t def, int64_t hi) -> std::optional<int64_t> {
      if (!g.contains(k)) return def;
      if (!g[k].is_number_integer() || g[k].get<int64_t>() < 0 || g[k].get<int64_t>() > hi)
        return std::nullopt;
      return g[k].get<int64_t>();
    };
    auto accounts = count("accounts", 1, 100000);
    auto locksPer = count("locksPerAccount", 1, 10000000);
    auto codesPer = count("codesPerLock", 0, 100);
    auto perBridge = count("locksPerBridge", 1, 1000);
    if (!accounts || !locksPer || !codesPer || !perBridge)
      return Error::make(400, "BAD_FLEET",
                         "generate: accounts, locksPerAccount, codesPerLock (0..100) and "
                         "locksPerBridge must be non-negative integers");
    const std::string model = g.value("model", "3.0 Pro");
    if (model != "3.0" && model != "3.0 Pro" && model != "mixed")
      return Error::make(400, "BAD_FLEET",
                         "generate.model must be \"3.0\", \"3.0 Pro\" or \"mixed\"");
    json lockTemplate = g.value("smartlock", json::object());
    for (int64_t a = 0; a < *accounts; ++a) {
      const uint32_t account = world_.addAccount("Account " + std::to_string(a + 1));
      std::optional<uint64_t> bridge;
      int64_t onBridge = 0;
      for (int64_t i = 0; i < *locksPer; ++i) {
        json spec = lockTemplate;
        const bool k30 = model == "3.0" || (model == "mixed" && i % 2 == 1);
        spec["model"] = k30 ? "3.0" : "3.0 Pro";
        spec["name"] = "Lock " + std::to_string(i + 1);
        if (k30 && bridge && onBridge < *perBridge) spec["bridgeId"] = *bridge;
        auto [index, e] = lockFrom(world_, account, spec);
        if (e) return Error::make(400, "BAD_FLEET", "generate: " + e.message);
        Lock& l = world_.lock(index);
        if (k30) {
          if (!bridge || onBridge >= *perBridge) {
            bridge = world_.bridges()[l.bridge].bridgeId;
            onBridge = 0;
          }
          ++onBridge;
        }
        // Codes straight into device truth and web view: unique by construction.
        CodeWalk walk(random_.below(531441));
        for (int64_t c = 0; c < *codesPer; ++c) {
          Auth code;
          code.id = world_.newObjectId(l.nukiId);
          code.type = kAuthKeypadCode;
          code.name = "Code " + std::to_string(c + 1);
          code.code = walk.next();
          code.authId = l.nextAuthSlot++;
          code.creationMs = code.updateMs = millisOf(clock_.now());
          l.deviceAuths.push_back(AuthRef::make(std::move(code)));
        }
        l.webView = l.deviceAuths;  // ids grow with the counter: already sorted
      }
    }
  }
  return Error::none();
}

}  // namespace nukihil::sim
