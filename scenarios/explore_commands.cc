// Exploration's commands: one small class per SPEC §7 step kind. Each draws its fields from the
// abstract state when generated, states what it needs (checkPreconditions, re-checked while
// shrinking), tells the abstract state what it changed (apply) and runs as one scenario step
// (StepCommand::run, explore.cc); show() prints it as a scenario file holds it.
#include <algorithm>

#include "scenarios/explore_state.h"

namespace nukihil::scenarios::exploration {

using nlohmann::json;
namespace gen = rc::gen;

namespace {

size_t drawLock(const Abstract& s) {
  return *gen::inRange<size_t>(0, s.locks.size());
}

std::optional<size_t> findPin(const Abstract& s, const std::string& name) {
  for (size_t i = 0; i < s.pins.size(); ++i)
    if (s.pins[i].name == name) return i;
  return std::nullopt;
}

// What generation can tell of a create's validity (K1–K7 as far as the abstract state knows).
bool looksValid(const Abstract& s, size_t lock, int64_t code, const std::string& name,
                const json& schedules) {
  const std::string t = std::to_string(code);
  if (t.size() != 6 || t.find('0') != std::string::npos || t.rfind("12", 0) == 0) return false;
  if (s.used.count(code)) return false;
  size_t points = 0;
  for (unsigned char c : name)
    points += (c & 0xC0) != 0x80;
  if (points < 1 || points > 20) return false;
  if (s.locks[lock].codes.size() >= 99) return false;
  if (schedules.contains("temporarySchedules")) {
    const auto& w = schedules["temporarySchedules"][0];
    if (w["endDatetime"].get<std::string>() <= w["startDatetime"].get<std::string>()) return false;
  }
  if (schedules.contains("recurringSchedules")) {
    const auto& r = schedules["recurringSchedules"][0];
    const std::string rule = r["rrule"];
    const int hour = std::stoi(rule.substr(rule.find("BYHOUR=") + 7));
    const int minute = std::stoi(rule.substr(rule.find("BYMINUTE=") + 9));
    if (hour * 60 + minute + r["duration"].get<int>() > 1440) return false;
  }
  return true;
}

// A name the command binds (`as`): taken, and the counter past it (a shrunk sequence may have
// skipped the command that drew it).
void bindName(Abstract& s, const std::string& as) {
  s.names.insert(as);
  s.nextName = std::max(s.nextName, std::stoi(as.substr(1)) + 1);
}

void setOnline(Abstract& s, size_t lock, bool on) {
  const int bridge = s.locks[lock].bridge;
  for (auto& l : s.locks)
    if (&l == &s.locks[lock] || (bridge >= 0 && l.bridge == bridge)) l.online = on;
}

struct LockStep : StepCommand {
  size_t lock = 0;
  void checkPreconditions(const Abstract& s) const override { RC_PRE(lock < s.locks.size()); }
};

struct SetLocked : LockStep {
  std::string as;
  explicit SetLocked(const Abstract& s0) {
    Abstract s = s0;
    lock = drawLock(s);
    as = s.newName("a");
    step = {{"do", "setLocked"},
            {"lock", s.locks[lock].name},
            {"parameters", {{"lock", *gen::arbitrary<bool>()}}},
            {"as", as}};
  }
  void checkPreconditions(const Abstract& s) const override {
    LockStep::checkPreconditions(s);
    RC_PRE(!s.names.count(as));  // shrinking may rebuild a command under a name taken since
  }
  void apply(Abstract& s) const override {
    s.actions.push_back(as);
    bindName(s, as);
    s.restartArmed = false;
  }
};

struct CreatePin : LockStep {
  int64_t code = 0;
  bool named = false;
  std::string as;
  explicit CreatePin(const Abstract& s0) {
    Abstract s = s0;
    lock = drawLock(s);
    code = *genCreateCode(s, lock);
    const std::string name = *genPinName();
    json params = *genSchedules(s);
    const bool valid = looksValid(s, lock, code, name, params);
    // Now and then a code that is not a number of six digits at all.
    std::string text = std::to_string(code);
    if (*gen::weightedElement<int>({{40, 0}, {1, 1}})) text = text.substr(0, 5) + "a";
    params["pinCode"] = text;
    params["name"] = name;
    step = {{"do", "createPin"}, {"lock", s.locks[lock].name}, {"parameters", params}};
    named = valid && text.size() == 6 && text.back() != 'a';
    if (named) {
      as = s.newName("p");
      step["as"] = as;
    }
  }
  void checkPreconditions(const Abstract& s) const override {
    LockStep::checkPreconditions(s);
    RC_PRE(!named || !s.names.count(as));
  }
  void apply(Abstract& s) const override {
    s.used.insert(code);
    if (!named) return;
    bindName(s, as);
    s.locks[lock].codes.push_back(code);
    s.pins.push_back(AbsPin{as, lock, code});
    s.actions.push_back(as);
  }
};

// updatePin / deletePin: on a PIN a name stands for (created by the case or in the fleet).
struct PinStep : StepCommand {
  std::string pin, as;
  size_t lock = 0;
  void checkPreconditions(const Abstract& s) const override {
    auto i = findPin(s, pin);
    RC_PRE(i.has_value());
    RC_PRE(s.pins[*i].lock == lock);
    RC_PRE(!s.names.count(as));
  }
  // Picks one of the PINs the state knows and the action's own name.
  void draw(Abstract& s, const char* prefix) {
    const AbsPin p = *gen::elementOf(s.pins);
    pin = p.name;
    lock = p.lock;
    as = s.newName(prefix);
  }
  void applyName(Abstract& s) const {
    s.actions.push_back(as);
    bindName(s, as);
  }
};

struct UpdatePin : PinStep {
  std::optional<int64_t> code;
  explicit UpdatePin(const Abstract& s0) {
    Abstract s = s0;
    draw(s, "u");
    json params = {{"id", "@" + pin}};
    const int what = *gen::inRange(0, 4);
    if (what == 0 || what == 3) {
      code = *genCreateCode(s, lock);
      params["pinCode"] = std::to_string(*code);
    }
    if (what == 1 || what == 3) params["name"] = *genPinName();
    if (what == 2) params.update(*genSchedules(s));
    if (params.size() == 1) params["name"] = *genPinName();
    step = {{"do", "updatePin"}, {"lock", s.locks[lock].name}, {"parameters", params}, {"as", as}};
  }
  void apply(Abstract& s) const override {
    applyName(s);
    if (code) {
      s.used.insert(*code);
      s.locks[lock].codes.push_back(*code);
    }
  }
};

struct DeletePin : PinStep {
  explicit DeletePin(const Abstract& s0) {
    Abstract s = s0;
    draw(s, "d");
    step = {{"do", "deletePin"},
            {"lock", s.locks[lock].name},
            {"parameters", {{"id", "@" + pin}}},
            {"as", as}};
  }
  void apply(Abstract& s) const override { applyName(s); }
};

// offline / online / jam / free / sync / resumeOutbox: a lock and nothing else.
struct Simple : LockStep {
  Simple(const Abstract& s, const char* what) {
    lock = drawLock(s);
    step = {{"do", what}, {"lock", s.locks[lock].name}};
  }
};
struct Offline : Simple {
  explicit Offline(const Abstract& s) : Simple(s, "offline") {}
  void apply(Abstract& s) const override { setOnline(s, lock, false); }
};
struct Online : Simple {
  explicit Online(const Abstract& s) : Simple(s, "online") {}
  void apply(Abstract& s) const override { setOnline(s, lock, true); }
};
struct Jam : Simple {
  explicit Jam(const Abstract& s) : Simple(s, "jam") {}
  void apply(Abstract& s) const override { s.locks[lock].jammed = true; }
};
struct Free : Simple {
  explicit Free(const Abstract& s) : Simple(s, "free") {}
  void apply(Abstract& s) const override { s.locks[lock].jammed = false; }
};
struct Sync : Simple {
  explicit Sync(const Abstract& s) : Simple(s, "sync") {}
  void apply(Abstract&) const override {}
};
struct ResumeOutbox : Simple {
  explicit ResumeOutbox(const Abstract& s) : Simple(s, "resumeOutbox") {}
  void apply(Abstract&) const override {}
};

struct Battery : LockStep {
  explicit Battery(const Abstract& s) {
    lock = drawLock(s);
    step = {{"do", "battery"}, {"lock", s.locks[lock].name}, {"charge", *genCharge()}};
  }
  void apply(Abstract&) const override {}
};

struct Keypad : LockStep {
  explicit Keypad(const Abstract& s) {
    lock = drawLock(s);
    std::vector<int64_t> known = s.locks[lock].codes;
    for (const auto& p : s.pins)
      known.push_back(p.code);
    int64_t code = 0;
    if (!known.empty() && *gen::weightedElement<int>({{3, 1}, {1, 0}}))
      code = *gen::elementOf(known);
    else
      code = *gen::inRange<int64_t>(111111, 1000000);
    step = {{"do", "keypad"}, {"lock", s.locks[lock].name}, {"code", code}};
  }
  void apply(Abstract&) const override {}
};

struct Knob : LockStep {
  explicit Knob(const Abstract& s) {
    lock = drawLock(s);
    step = {{"do", "knob"},
            {"lock", s.locks[lock].name},
            {"action", *gen::element<std::string>("lock", "unlock")}};
  }
  void apply(Abstract&) const override {}
};

struct AddCodeOnLock : LockStep {
  int64_t code = 0;
  explicit AddCodeOnLock(const Abstract& s) {
    lock = drawLock(s);
    // A code the lock takes (the file must be valid): a new one, or one a PIN already has.
    const auto& codes = s.locks[lock].codes;
    if (!codes.empty() && *gen::weightedElement<int>({{3, 0}, {1, 1}}))
      code = *gen::elementOf(codes);
    else
      code = *genCreateCode(s, lock, false);
    step = {{"do", "addCodeOnLock"},
            {"lock", s.locks[lock].name},
            {"name", "Bluetooth " + std::to_string(*gen::inRange(1, 100))},
            {"code", code}};
  }
  void apply(Abstract& s) const override {
    s.used.insert(code);
    s.locks[lock].codes.push_back(code);
  }
};

struct RemoveCodeOnLock : LockStep {
  int64_t code = 0;
  explicit RemoveCodeOnLock(const Abstract& s) {
    lock = drawLock(s);
    const auto& codes = s.locks[lock].codes;
    code = codes.empty() ? 234567 : *gen::elementOf(codes);
    step = {{"do", "removeCodeOnLock"}, {"lock", s.locks[lock].name}, {"code", code}};
  }
  void apply(Abstract& s) const override {
    auto& codes = s.locks[lock].codes;
    codes.erase(std::remove(codes.begin(), codes.end(), code), codes.end());
  }
};

struct Advance : StepCommand {
  int64_t seconds = 0;
  explicit Advance(const Abstract&) {
    seconds = *genAdvanceSeconds();
    step = {{"do", "advance"}, {"seconds", seconds}};
  }
  void apply(Abstract& s) const override {
    s.nowMs += seconds * 1000;
    if (s.receiverDown && s.nowMs - s.downSinceMs >= 72LL * 3600 * 1000) s.mayPark = true;
  }
};

struct AdvanceTo : LockStep {
  explicit AdvanceTo(const Abstract& s) {
    lock = drawLock(s);
    step = {{"do", "advanceTo"},
            {"lock", s.locks[lock].name},
            {"localTime", *genLocalTime(s.locks[lock])}};
  }
  void apply(Abstract& s) const override {
    s.nowMs += 25 * 3600 * 1000;  // within the next day (25 h on a clock-change day): at most
    if (s.receiverDown && s.nowMs - s.downSinceMs >= 72LL * 3600 * 1000) s.mayPark = true;
  }
};

struct Fault : StepCommand {
  explicit Fault(const Abstract& s) {
    step = {{"do", "fault"}, {"fault", *genFault(!s.nukiWebhooks)}};
  }
  void apply(Abstract& s) const override { s.fault = true; }
};

struct ClearFaults : StepCommand {
  explicit ClearFaults(const Abstract&) { step = {{"do", "clearFaults"}}; }
  void apply(Abstract& s) const override { s.fault = false; }
};

struct ReceiverDown : StepCommand {
  explicit ReceiverDown(const Abstract&) {
    step = {{"do", "receiverDown"}};
    const int status = *gen::weightedElement<int>({{6, 503}, {2, 500}, {1, 429}, {1, 404}});
    if (status != 503) step["status"] = status;
  }
  void apply(Abstract& s) const override {
    if (!s.receiverDown) s.downSinceMs = s.nowMs;
    s.receiverDown = true;
  }
};

struct ReceiverUp : StepCommand {
  explicit ReceiverUp(const Abstract&) { step = {{"do", "receiverUp"}}; }
  void apply(Abstract& s) const override {
    s.receiverDown = false;
    s.downSinceMs = -1;
  }
};

struct RestartAdapter : StepCommand {
  std::string during;
  explicit RestartAdapter(const Abstract&) {
    step = {{"do", "restartAdapter"}};
    during = *gen::weightedElement<std::string>({{2, ""}, {1, "nextWebhook"}, {1, "nextNukiCall"}});
    if (!during.empty())
      step["during"] = during;
    else if (*gen::weightedElement<int>({{4, 0}, {1, 1}}))
      step["kill"] = false;
  }
  // One restart at a time: arming another would drop one that has not landed.
  void checkPreconditions(const Abstract& s) const override { RC_PRE(!s.restartArmed); }
  void apply(Abstract& s) const override { s.restartArmed = !during.empty(); }
};

template <class C>
rc::Gen<CommandPtr> make(const Abstract& s) {
  return gen::exec([s]() -> CommandPtr { return std::make_shared<C>(s); });
}

size_t weight(const FaultMix& mix, const char* kind, double share = 1) {
  auto it = mix.weights.find(kind);
  return it == mix.weights.end() ? 0 : size_t(it->second * share * 100 + 0.5);
}

}  // namespace

rc::Gen<CommandPtr> genCommand(const Abstract& s, const FaultMix& mix) {
  const bool pins = !s.pins.empty();
  std::vector<std::pair<size_t, rc::Gen<CommandPtr>>> choices = {
      {weight(mix, "lock"), make<SetLocked>(s)},
      {weight(mix, "pins", pins ? 0.5 : 1), make<CreatePin>(s)},
      {weight(mix, "device", 0.2), make<Offline>(s)},
      {weight(mix, "device", 0.2), make<Online>(s)},
      {weight(mix, "device", 0.1), make<Battery>(s)},
      {weight(mix, "device", 0.1), make<Jam>(s)},
      {weight(mix, "device", 0.1), make<Free>(s)},
      {weight(mix, "device", 0.1), make<Knob>(s)},
      {weight(mix, "device", 0.2), make<Keypad>(s)},
      {weight(mix, "onlock", 0.6), make<AddCodeOnLock>(s)},
      {weight(mix, "onlock", 0.4), make<RemoveCodeOnLock>(s)},
      {weight(mix, "time", 0.65), make<Advance>(s)},
      {weight(mix, "time", 0.2), make<AdvanceTo>(s)},
      {weight(mix, "time", 0.15), make<Sync>(s)},
      {weight(mix, "nuki-faults", 0.75), make<Fault>(s)},
      {weight(mix, "nuki-faults", 0.25), make<ClearFaults>(s)},
      {weight(mix, "receiver", 0.5), make<ReceiverDown>(s)},
      {weight(mix, "receiver", 0.5), make<ReceiverUp>(s)},
      {weight(mix, "outbox"), make<ResumeOutbox>(s)},
  };
  if (!s.restartArmed) choices.push_back({weight(mix, "restarts"), make<RestartAdapter>(s)});
  if (pins) {
    choices.push_back({weight(mix, "pins", 0.25), make<UpdatePin>(s)});
    choices.push_back({weight(mix, "pins", 0.25), make<DeletePin>(s)});
  }
  choices.erase(
      std::remove_if(choices.begin(), choices.end(), [](const auto& c) { return c.first == 0; }),
      choices.end());
  size_t total = 0;
  for (const auto& c : choices)
    total += c.first;
  // A weighted draw (weightedOneOf takes only a fixed list); shrinks toward the first choices.
  // At a fixed size: RapidCheck scales inRange by the size, which here only decides how many
  // commands a case has, not which ones or their fields.
  return gen::resize(100, gen::mapcat(gen::inRange<size_t>(0, total), [choices](size_t x) {
                       for (const auto& [w, g] : choices) {
                         if (x < w) return g;
                         x -= w;
                       }
                       return choices.back().second;
                     }));
}

std::vector<json> healSteps(const Abstract& end) {
  Abstract s = end;
  std::vector<json> out;
  if (s.fault) out.push_back({{"do", "clearFaults"}});
  if (s.receiverDown) out.push_back({{"do", "receiverUp"}});
  for (size_t i = 0; i < s.locks.size(); ++i) {
    if (s.locks[i].online) continue;
    out.push_back({{"do", "online"}, {"lock", s.locks[i].name}});
    setOnline(s, i, true);
  }
  // A restart armed `during` something lands on the next Nuki call and webhook.
  if (s.restartArmed)
    out.push_back({{"do", "setLocked"},
                   {"lock", s.locks[0].name},
                   {"parameters", {{"lock", true}}},
                   {"as", "heal"}});
  // Past every retry budget and outbox backoff.
  out.push_back({{"do", "advance"}, {"seconds", 660}});
  if (s.mayPark) {
    for (const auto& l : s.locks)
      out.push_back({{"do", "resumeOutbox"}, {"lock", l.name}});
    out.push_back({{"do", "advance"}, {"seconds", 300}});
  }
  // Every lock through a sync (the daily one, brought forward: a day of virtual time costs
  // some 1,440 polls), then the deliveries it causes.
  for (const auto& l : s.locks)
    out.push_back({{"do", "sync"}, {"lock", l.name}});
  out.push_back({{"do", "advance"}, {"seconds", 660}});
  return out;
}

}  // namespace nukihil::scenarios::exploration
