// Fleet files (README: fleet files): accounts, locks and codes built from a description, all or
// nothing.
#include "runtime/json_input.h"
#include "simulator/routes.h"

namespace nukihil::sim {

namespace {

using nlohmann::json;

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

// What a fleet load may bring the world to (README: fleet files). 100,000 locks with 100 codes
// each fit in 2 GiB (DESIGN, Scale); the total is checked before anything is built.
constexpr int64_t kMaxFleetLocks = 100000;
constexpr int64_t kMaxFleetCodes = 10000000;
constexpr int64_t kMaxFleetAccounts = 100000;

Error Simulator::loadFleet(const json& fleet) {
  // All or nothing: what a refused load added is taken out again, and the generator, the id
  // counter and the scheduler go back to where they were, so the world is exactly as before.
  const World::Checkpoint checkpoint = world_.checkpoint();
  const Random::State randomState = random_.state();
  const uint64_t nextSeq = scheduler_.peekNextSeq();
  Error e;
  try {
    e = loadFleetChecked(fleet);
  } catch (const json::exception& x) {
    // A field of the wrong type somewhere the checks did not look.
    e = Error::make(400, "BAD_FLEET", std::string("a field has the wrong type: ") + x.what());
  } catch (const std::bad_alloc&) {
    e = Error::make(500, "INTERNAL", "out of memory while building the fleet; nothing was added");
  }
  if (e) {
    world_.rollbackTo(checkpoint);
    random_.setState(randomState);
    std::vector<Event> kept;
    for (const auto& ev : scheduler_.pending())
      if (ev.kind == EventKind::kWebhookSend || ev.target < checkpoint.locks) kept.push_back(ev);
    scheduler_.restore(std::move(kept), nextSeq);
  }
  return e;
}

namespace {

const std::vector<std::string_view> kFleetKeys = {"defaults", "accounts", "generate"};
const std::vector<std::string_view> kSettingsKeys = {
    "motorSeconds", "deliverySeconds", "unlatchDuration", "lngTimeout", "syncAt", "timezone"};
const std::vector<std::string_view> kAccountKeys = {"name", "email", "apiToken", "smartlocks"};
const std::vector<std::string_view> kGenerateKeys = {"accounts", "locksPerAccount", "codesPerLock",
                                                     "model",    "locksPerBridge",  "smartlock"};
// A generated lock's template: generate.model and the generator decide model and name.
const std::vector<std::string_view> kTemplateKeys = {
    "batteryCharge",   "syncAt",          "timezone",  "motorSeconds",
    "deliverySeconds", "unlatchDuration", "lngTimeout"};

Error badFleet(const std::string& where, const std::string& why) {
  return Error::make(400, "BAD_FLEET", where.empty() ? why : where + ": " + why);
}

std::vector<std::string_view> with(std::vector<std::string_view> keys,
                                   std::initializer_list<std::string_view> more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

}  // namespace

Error Simulator::loadFleetChecked(const json& fleet) {
  if (!fleet.is_object()) return badFleet("", "a fleet file is a JSON object");
  if (auto u = unknownField(fleet, "", kFleetKeys); !u.empty()) return badFleet("", u);
  static const std::vector<std::string_view> kSmartlockKeys = with(kLockKeys, {"codes", "online"});

  // First the shape and the totals, before anything is built.
  int64_t newAccounts = 0, newLocks = 0, newCodes = 0;
  if (fleet.contains("accounts")) {
    if (!fleet["accounts"].is_array()) return badFleet("accounts", "must be an array");
    size_t ai = 0;
    for (const auto& a : fleet["accounts"]) {
      const std::string where = "accounts[" + std::to_string(ai++) + "]";
      if (!a.is_object()) return badFleet(where, "must be an object");
      ++newAccounts;
      if (!a.contains("smartlocks")) continue;
      if (!a["smartlocks"].is_array()) return badFleet(where + ".smartlocks", "must be an array");
      size_t li = 0;
      for (const auto& l : a["smartlocks"]) {
        const std::string lwhere = where + ".smartlocks[" + std::to_string(li++) + "]";
        if (!l.is_object()) return badFleet(lwhere, "must be an object");
        ++newLocks;
        if (!l.contains("codes")) continue;
        if (!l["codes"].is_array()) return badFleet(lwhere + ".codes", "must be an array");
        newCodes += int64_t(l["codes"].size());
      }
    }
  }
  int64_t genAccounts = 0, locksPer = 0, codesPer = 0, perBridge = 1;
  std::string model = "3.0 Pro";
  json lockTemplate = json::object();
  if (fleet.contains("generate")) {
    const auto& g = fleet["generate"];
    if (!g.is_object()) return badFleet("generate", "must be an object");
    if (auto u = unknownField(g, "generate", kGenerateKeys); !u.empty()) return badFleet("", u);
    auto count = [&](const char* k, int64_t def, int64_t hi, int64_t& out) -> Error {
      out = def;
      if (!g.contains(k)) return Error::none();
      if (!g[k].is_number_integer() || g[k].get<int64_t>() < 0 || g[k].get<int64_t>() > hi ||
          (g[k].is_number_unsigned() && g[k].get<uint64_t>() > uint64_t(INT64_MAX)))
        return badFleet(std::string("generate.") + k,
                        "must be an integer in 0.." + std::to_string(hi));
      out = g[k].get<int64_t>();
      return Error::none();
    };
    if (auto e = count("accounts", 1, kMaxFleetAccounts, genAccounts)) return e;
    if (auto e = count("locksPerAccount", 1, 10000000, locksPer)) return e;
    if (auto e = count("codesPerLock", 0, 100, codesPer)) return e;
    if (auto e = count("locksPerBridge", 1, 1000, perBridge)) return e;
    if (perBridge == 0) return badFleet("generate.locksPerBridge", "must be at least 1");
    if (g.contains("model")) {
      if (!g["model"].is_string()) return badFleet("generate.model", "must be a string");
      model = g["model"].get<std::string>();
    }
    if (model != "3.0" && model != "3.0 Pro" && model != "mixed")
      return badFleet("generate.model", "must be \"3.0\", \"3.0 Pro\" or \"mixed\"");
    if (g.contains("smartlock")) {
      lockTemplate = g["smartlock"];
      if (!lockTemplate.is_object()) return badFleet("generate.smartlock", "must be an object");
      if (auto u = unknownField(lockTemplate, "generate.smartlock", kTemplateKeys); !u.empty())
        return badFleet("", u);
    }
    // At most 1e5 × 1e7 × 100: no overflow in int64.
    newAccounts += genAccounts;
    newLocks += genAccounts * locksPer;
    newCodes += genAccounts * locksPer * codesPer;
  }
  // Removed locks count: they stay in memory.
  const auto liveLocks = int64_t(world_.locks().size());
  int64_t codes = 0;
  for (const auto& l : world_.locks()) {
    for (const auto& a : l.deviceAuths)
      codes += a->type == kAuthKeypadCode;
  }
  if (int64_t(world_.accounts().size()) + newAccounts > kMaxFleetAccounts ||
      liveLocks + newLocks > kMaxFleetLocks || codes + newCodes > kMaxFleetCodes)
    return badFleet("", "a fleet load may bring the world to at most " +
                            std::to_string(kMaxFleetAccounts) + " accounts, " +
                            std::to_string(kMaxFleetLocks) + " locks and " +
                            std::to_string(kMaxFleetCodes) + " keypad codes; this one would make " +
                            std::to_string(world_.accounts().size() + newAccounts) + " accounts, " +
                            std::to_string(liveLocks + newLocks) + " locks and " +
                            std::to_string(codes + newCodes) + " codes");

  // Then build; a refusal from here on is rolled back by loadFleet.
  if (fleet.contains("defaults")) {
    if (!fleet["defaults"].is_object()) return badFleet("defaults", "must be an object");
    if (auto u = unknownField(fleet["defaults"], "defaults", kSettingsKeys); !u.empty())
      return badFleet("", u);
    if (auto e = lockSettingsFrom(fleet["defaults"], world_.defaults))
      return badFleet("defaults", e.message);
  }
  if (fleet.contains("accounts")) {
    size_t ai = 0;
    for (const auto& a : fleet["accounts"]) {
      const std::string where = "accounts[" + std::to_string(ai++) + "]";
      if (auto u = unknownField(a, where, kAccountKeys); !u.empty()) return badFleet("", u);
      std::string name = "Account", email, token;
      if (auto e = accountFieldsFrom(a, name, email, token)) {
        const std::string field = e.message.substr(0, e.message.find(' '));
        return badFleet(where + "." + field, e.message);
      }
      if (!token.empty() && world_.accountByToken(token))
        return badFleet(where + ".apiToken", "another account has this token");
      const uint32_t account = world_.addAccount(name, email, token);
      size_t li = 0;
      for (const auto& l : a.value("smartlocks", json::array())) {
        const std::string lwhere = where + ".smartlocks[" + std::to_string(li++) + "]";
        if (auto u = unknownField(l, lwhere, kSmartlockKeys); !u.empty()) return badFleet("", u);
        if (l.contains("online") && !l["online"].is_boolean())
          return badFleet(lwhere + ".online", "must be true or false");
        auto [index, e] = lockFrom(world_, account, l);
        if (e) return badFleet(lwhere, e.message);
        if (l.contains("online") && !l["online"].get<bool>()) world_.setOnline(index, false);
        size_t ci = 0;
        for (const auto& c : l.value("codes", json::array())) {
          const std::string cwhere = lwhere + ".codes[" + std::to_string(ci++) + "]";
          if (!c.is_object()) return badFleet(cwhere, "must be an object");
          if (auto u = unknownField(c, cwhere, kCodeKeys); !u.empty()) return badFleet("", u);
          AuthInput in;
          if (auto ce = codeInputFrom(c, in)) return badFleet(cwhere, ce.message);
          if (auto ce = world_.addDeviceCode(index, in, /*synced=*/true))
            return badFleet(cwhere, ce.message);
        }
      }
    }
  }
  for (int64_t a = 0; a < genAccounts; ++a) {
    const uint32_t account = world_.addAccount("Account " + std::to_string(a + 1));
    std::optional<uint64_t> bridge;
    int64_t onBridge = 0;
    for (int64_t i = 0; i < locksPer; ++i) {
      json spec = lockTemplate;
      const bool k30 = model == "3.0" || (model == "mixed" && i % 2 == 1);
      spec["model"] = k30 ? "3.0" : "3.0 Pro";
      spec["name"] = "Lock " + std::to_string(i + 1);
      if (k30 && bridge && onBridge < perBridge) spec["bridgeId"] = *bridge;
      auto [index, e] = lockFrom(world_, account, spec);
      if (e) return badFleet("generate", e.message);
      Lock& l = world_.lock(index);
      if (k30) {
        if (!bridge || onBridge >= perBridge) {
          bridge = world_.bridges()[l.bridge].bridgeId;
          onBridge = 0;
        }
        ++onBridge;
      }
      // Codes straight into device truth and web view: unique by construction.
      CodeWalk walk(random_.below(531441));
      for (int64_t c = 0; c < codesPer; ++c) {
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
  return Error::none();
}

}  // namespace nukihil::sim
