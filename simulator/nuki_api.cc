// The Nuki Web API handlers (SPEC §2): decode, authorise, call the world, encode.
#include <algorithm>
#include <set>

#include "simulator/nuki_json.h"
#include "simulator/routes.h"

namespace nukihil::sim {

namespace {

using http::Request;
using http::Response;
using Json = wire::Json;

uint32_t callerOf(const Request& req) {
  return uint32_t(req.context);
}

// Resolves {smartlockId} to a lock of the caller's account, or an error response.
std::optional<Response> lockOf(World& w, const Request& req, uint32_t& index) {
  const auto& raw = req.param("smartlockId");
  auto id = parseId(raw);
  if (!id) return nukiError(Error::badParam("smartlockId", raw));
  if (auto e = w.authorize(callerOf(req), *id, index)) return nukiError(e);
  return std::nullopt;
}

// Parses an optional integer query parameter; sets `bad` to a 400 response if malformed.
std::optional<int64_t> queryInt(const Request& req, const char* name,
                                std::optional<Response>& bad) {
  auto v = req.queryParam(name);
  if (!v) return std::nullopt;
  int64_t out = 0;
  const bool negative = !v->empty() && v->front() == '-';
  auto digits = parseId(negative ? std::string_view(*v).substr(1) : std::string_view(*v));
  if (!digits || *digits > uint64_t(INT64_MAX)) {
    bad = nukiError(Error::badParam(name, *v));
    return std::nullopt;
  }
  out = negative ? -int64_t(*digits) : int64_t(*digits);
  return out;
}

// "types=0,13": the auth types asked for (empty: all).
bool typesFilter(const Request& req, std::set<int64_t>& types, std::optional<Response>& bad) {
  auto v = req.queryParam("types");
  if (!v || v->empty()) return true;
  std::string_view rest = *v;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto part = rest.substr(0, comma);
    auto n = parseId(part);
    if (!n) {
      bad = nukiError(Error::badParam("types", *v));
      return false;
    }
    types.insert(int64_t(*n));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return true;
}

Json authList(World& w, const Lock& l, const std::set<int64_t>& types) {
  Json out = Json::array();
  for (const auto& a : l.webView)
    if (types.empty() || types.count(a->type)) out.push_back(wire::auth(w, l, *a));
  return out;
}

// Logs of one lock that Nuki Web has seen, newest first, through the filters of GET …/log.
struct LogQuery {
  size_t limit = 20;
  std::optional<ObjectId> olderThan;
  std::optional<int64_t> fromMs, toMs, action;
  std::optional<ObjectId> authId;
};

std::optional<Response> parseLogQuery(const Request& req, LogQuery& q) {
  std::optional<Response> bad;
  if (auto limit = queryInt(req, "limit", bad)) {
    if (*limit <= 0) return nukiError(Error::badParam("limit", std::to_string(*limit)));
    q.limit = size_t(std::min<int64_t>(*limit, 50));
  }
  if (bad) return bad;
  q.action = queryInt(req, "action", bad);
  if (bad) return bad;
  if (auto id = req.queryParam("id")) {
    q.olderThan = ObjectId::parse(*id);
    if (!q.olderThan) return nukiError(Error::badParam("id", *id));
  }
  if (auto id = req.queryParam("authId")) {
    q.authId = ObjectId::parse(*id);
    if (!q.authId) return nukiError(Error::badParam("authId", *id));
  }
  for (auto [name, out] : {std::pair{"fromDate", &q.fromMs}, std::pair{"toDate", &q.toMs}}) {
    if (auto v = req.queryParam(name)) {
      auto t = parseRfc3339(*v);
      if (!t) return nukiError(Error::badParam(name, *v));
      *out = millisOf(*t);
    }
  }
  return std::nullopt;
}

void collectLogs(const Lock& l, const LogQuery& q,
                 std::vector<std::pair<const Lock*, const LogEntry*>>& out) {
  for (size_t i = l.reportedLogs; i-- > 0;) {
    const LogEntry& e = l.logs[i];
    if (q.olderThan && !(e.id < *q.olderThan)) continue;
    if (q.fromMs && e.dateMs < *q.fromMs) continue;
    if (q.toMs && e.dateMs > *q.toMs) continue;
    if (q.action && e.action != *q.action) continue;
    if (q.authId && e.authId != *q.authId) continue;
    out.emplace_back(&l, &e);
    if (out.size() >= q.limit * 4 + 64) break;  // enough to pick the newest `limit` from
  }
}

Response logResponse(std::vector<std::pair<const Lock*, const LogEntry*>>& found, size_t limit) {
  std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) {
    if (a.second->dateMs != b.second->dateMs) return a.second->dateMs > b.second->dateMs;
    return b.second->id < a.second->id;
  });
  Json out = Json::array();
  for (size_t i = 0; i < found.size() && i < limit; ++i)
    out.push_back(wire::log(*found[i].first, *found[i].second));
  return nukiJson(200, out.dump());
}

// Runs `step` for each item; all or nothing: on the first failure every change the batch made
// is rolled back and that failure is the answer.
template <class Items, class Step>
Response batch(World& w, const Items& items, Step step) {
  std::vector<World::Mark> marks;
  for (const auto& item : items) {
    if (auto e = step(item, marks)) {
      w.rollback(marks);
      return nukiError(e);
    }
  }
  return Response::empty(204);
}

// Finds the lock an auth id belongs to (our ids carry the nukiId) and checks the caller owns it.
Error lockOfAuth(World& w, uint32_t account, const std::string& raw, ObjectId& id, uint32_t& lock) {
  auto parsed = ObjectId::parse(raw);
  if (!parsed) return Error::badParam("id", raw);
  id = *parsed;
  auto index = w.lockByNukiId(id.lock);
  if (!index) return Error::make(404, "NOT_FOUND", "Smartlock authorization not found");
  if (w.lock(*index).account != account)
    return Error::make(403, "FORBIDDEN", "Smartlock authorization belongs to another account");
  lock = *index;
  return Error::none();
}

// {id} of /smartlock/{smartlockId}/auth/{id}, on a lock `lock` the caller owns: 400 if
// malformed, 403 if the auth belongs to another account's lock (SPEC §2), as the bulk routes
// answer.
std::optional<Response> authIdOn(World& w, const Request& req, uint32_t lock, ObjectId& id) {
  const auto& raw = req.param("id");
  auto parsed = ObjectId::parse(raw);
  if (!parsed) return nukiError(Error::badParam("id", raw));
  id = *parsed;
  if (id.lock != w.lock(lock).nukiId) {
    auto owner = w.lockByNukiId(id.lock);
    if (owner && w.lock(*owner).account != callerOf(req))
      return nukiError(
          Error::make(403, "FORBIDDEN", "Smartlock authorization belongs to another account"));
  }
  return std::nullopt;
}

// A request body as Nuki reads it (wire::parseBody): JSON of the shape the route takes, an
// object or an array. Else Nuki's 400 naming "body"; its fields are then read by wire::Fields
// or wire::authInput.
enum class BodyShape { kObject, kArray };
std::optional<Response> readBody(const Request& req, BodyShape shape, nlohmann::json& body) {
  Error e;
  if (!wire::parseBody(req.body, body, e)) return nukiError(e);
  if (shape == BodyShape::kObject ? !body.is_object() : !body.is_array())
    return nukiError(Error::badParam("body", wire::shown(body)));
  return std::nullopt;
}

Json hookJson(const Webhook& h) {
  Json j;
  j["id"] = h.id;
  j["secret"] = h.secret;
  j["webhookUrl"] = h.url;
  j["webhookFeatures"] = Webhooks::featureNames(h.features);
  return j;
}

// The handlers of the Nuki Web API, one per route, in the order of addNukiRoutes' table.

Response getAccount(Simulator& sim, const Request& req) {
  return nukiJson(200, wire::account(sim.world().account(callerOf(req))).dump());
}

Response getSmartlocks(Simulator& sim, const Request& req) {
  World& w = sim.world();
  std::optional<Response> bad;
  auto authId = queryInt(req, "authId", bad);
  auto type = queryInt(req, "type", bad);
  if (bad) return *bad;
  std::string out = "[";
  for (uint32_t index : w.account(callerOf(req)).locks) {
    const Lock& l = w.lock(index);
    if (l.removed || (type && *type != 4) || (authId && *authId != l.apiAuthId)) continue;
    if (out.size() > 1) out += ',';
    out += wire::smartlock(w, l);
  }
  out += ']';
  return nukiJson(200, std::move(out));
}

Response getSmartlock(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  return nukiJson(200, wire::smartlock(w, w.lock(index)));
}

Response postSmartlock(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  nlohmann::json body;
  if (auto bad = readBody(req, BodyShape::kObject, body)) return *bad;
  Error e;
  std::optional<std::string> name;
  std::optional<bool> favorite;
  wire::Fields f(body);
  if (!f.string("name", name, e) || !f.boolean("favorite", favorite, e)) return nukiError(e);
  if (auto err = w.renameLock(index, name, favorite)) return nukiError(err);
  return Response::empty(204);
}

Response deleteSmartlock(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  w.removeLock(index);
  return Response::empty(204);
}

Response postAction(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  nlohmann::json body;
  if (auto bad = readBody(req, BodyShape::kObject, body)) return *bad;
  Error e;
  wire::Fields f(body);
  std::optional<int64_t> action, option;
  if (!f.int32("action", action, e) || !f.int32("option", option, e)) return nukiError(e);
  if (!action) return nukiError(Error::badParam("action", "null"));
  if (option && (*option < 0 || *option > 7))
    return nukiError(Error::badParam("option", std::to_string(*option)));
  if (auto err = w.submitMotorAction(index, *action, w.account(callerOf(req)).name))
    return nukiError(err);
  return Response::empty(204);
}

Response motorAction(Simulator& sim, const Request& req, int action) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  if (auto err = w.submitMotorAction(index, action, w.account(callerOf(req)).name))
    return nukiError(err);
  return Response::empty(204);
}

Response postLock(Simulator& sim, const Request& req) {
  return motorAction(sim, req, kActionLock);
}

Response postUnlock(Simulator& sim, const Request& req) {
  return motorAction(sim, req, kActionUnlock);
}

Response postSync(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  w.syncNow(index);
  return Response::empty(204);
}

Response getAuths(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  std::set<int64_t> types;
  std::optional<Response> bad;
  if (!typesFilter(req, types, bad)) return *bad;
  return nukiJson(200, authList(w, w.lock(index), types).dump());
}

Response putAuth(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  nlohmann::json body;
  if (auto bad = readBody(req, BodyShape::kObject, body)) return *bad;
  Error e;
  AuthInput in;
  if (!wire::authInput(body, in, e)) return nukiError(e);
  if (auto err = w.createKeypadCode(index, in)) return nukiError(err);
  return Response::empty(204);
}

Response getAuth(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  ObjectId id;
  if (auto bad = authIdOn(w, req, index, id)) return *bad;
  const Lock& l = w.lock(index);
  const Auth* a = w.webAuth(l, id);
  if (!a) return nukiError(Error::make(404, "NOT_FOUND", "Smartlock authorization not found"));
  return nukiJson(200, wire::auth(w, l, *a).dump());
}

Response postAuth(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  ObjectId id;
  if (auto bad = authIdOn(w, req, index, id)) return *bad;
  nlohmann::json body;
  if (auto bad = readBody(req, BodyShape::kObject, body)) return *bad;
  Error e;
  AuthInput in;
  if (!wire::authInput(body, in, e)) return nukiError(e);
  if (auto err = w.updateAuth(index, id, in)) return nukiError(err);
  return Response::empty(204);
}

Response deleteAuth(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  ObjectId id;
  if (auto bad = authIdOn(w, req, index, id)) return *bad;
  if (auto err = w.deleteAuth(index, id)) return nukiError(err);
  return Response::empty(204);
}

Response getAccountAuths(Simulator& sim, const Request& req) {
  World& w = sim.world();
  std::set<int64_t> types;
  std::optional<Response> bad;
  if (!typesFilter(req, types, bad)) return *bad;
  auto accountUserId = queryInt(req, "accountUserId", bad);
  if (bad) return *bad;
  Json out = Json::array();
  // No auth of ours is linked to an account user: a positive filter matches none.
  if (accountUserId && *accountUserId > 0) return nukiJson(200, out.dump());
  for (uint32_t index : w.account(callerOf(req)).locks) {
    const Lock& l = w.lock(index);
    if (l.removed) continue;
    for (auto& a : authList(w, l, types))
      out.push_back(std::move(a));
  }
  return nukiJson(200, out.dump());
}

Response getAccountAuthsPaged(Simulator& sim, const Request& req) {
  World& w = sim.world();
  std::set<int64_t> types;
  std::optional<Response> bad;
  if (!typesFilter(req, types, bad)) return *bad;
  auto page = queryInt(req, "page", bad);
  auto size = queryInt(req, "size", bad);
  auto accountUserId = queryInt(req, "accountUserId", bad);
  if (bad) return *bad;
  // Nuki's integers are Java ints: a page past 2^31-1 is out of range (400); a page past the
  // end of the list is an empty page.
  if (page && (*page < 0 || *page > INT32_MAX))
    return nukiError(Error::badParam("page", std::to_string(*page)));
  if (size && (*size <= 0 || *size > 10000))
    return nukiError(Error::badParam("size", std::to_string(*size)));
  const int64_t p = page.value_or(0), s = size.value_or(100);
  std::vector<std::pair<const Lock*, const Auth*>> all;
  // As GET /smartlock/auth: no auth of ours is linked to an account user.
  const bool none = accountUserId && *accountUserId > 0;
  for (uint32_t index : w.account(callerOf(req)).locks) {
    const Lock& l = w.lock(index);
    if (l.removed || none) continue;
    for (const auto& a : l.webView)
      if (types.empty() || types.count(a->type)) all.emplace_back(&l, a.get());
  }
  Json results = Json::array();
  // Checked arithmetic, whatever the bounds above: an offset that does not fit is past the end.
  int64_t first = 0;
  if (__builtin_mul_overflow(p, s, &first)) first = INT64_MAX;
  if (first >= 0 && uint64_t(first) < all.size()) {
    const size_t end = std::min(all.size(), size_t(first) + size_t(s));
    for (size_t i = size_t(first); i < end; ++i)
      results.push_back(wire::auth(w, *all[i].first, *all[i].second));
  }
  const int64_t total = int64_t(all.size());
  const int64_t pages = (total + s - 1) / s;
  Json pagination;
  pagination["totalItems"] = total;
  pagination["totalPages"] = pages;
  pagination["currentPage"] = p;
  pagination["pageSize"] = s;
  if (p + 1 < pages)
    pagination["nextPage"] =
        "/smartlock/auth/paged?page=" + std::to_string(p + 1) + "&size=" + std::to_string(s);
  if (p > 0)
    pagination["prevPage"] =
        "/smartlock/auth/paged?page=" + std::to_string(p - 1) + "&size=" + std::to_string(s);
  Json out;
  out["results"] = std::move(results);
  out["pagination"] = std::move(pagination);
  return nukiJson(200, out.dump());
}

// Bulk create on several locks (SmartlocksAuthCreate): all or nothing.
Response putAccountAuths(Simulator& sim, const Request& req) {
  World& w = sim.world();
  nlohmann::json body;
  if (auto bad = readBody(req, BodyShape::kObject, body)) return *bad;
  Error e;
  AuthInput in;
  if (!wire::authInput(body, in, e)) return nukiError(e);
  if (!body.contains("smartlockIds") || !body["smartlockIds"].is_array() ||
      body["smartlockIds"].empty())
    return nukiError(Error::badParam("smartlockIds", body.contains("smartlockIds")
                                                         ? wire::shown(body["smartlockIds"])
                                                         : "null"));
  std::vector<uint64_t> ids;
  for (const auto& v : body["smartlockIds"]) {
    if (!v.is_number_integer()) return nukiError(Error::badParam("smartlockIds", wire::shown(v)));
    ids.push_back(v.get<uint64_t>());
  }
  return batch(w, ids, [&](uint64_t id, std::vector<World::Mark>& marks) {
    uint32_t index;
    if (auto err = w.authorize(callerOf(req), id, index)) return err;
    marks.push_back(w.mark(index));
    return w.createKeypadCode(index, in);
  });
}

// Bulk update (SmartlockAuthMultiUpdate[]): all or nothing.
Response postAccountAuths(Simulator& sim, const Request& req) {
  World& w = sim.world();
  nlohmann::json body;
  if (auto bad = readBody(req, BodyShape::kArray, body)) return *bad;
  Error e;
  for (const auto& item : body) {
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string())
      return nukiError(Error::badParam(
          "id", item.is_object() && item.contains("id") ? wire::shown(item["id"]) : "null"));
    AuthInput in;
    if (!wire::authInput(item, in, e)) return nukiError(e);
  }
  return batch(w, body, [&](const nlohmann::json& item, std::vector<World::Mark>& marks) {
    AuthInput in;
    Error err;
    wire::authInput(item, in, err);
    ObjectId id;
    uint32_t index;
    if (auto found = lockOfAuth(w, callerOf(req), item["id"].get<std::string>(), id, index))
      return found;
    marks.push_back(w.mark(index));
    return w.updateAuth(index, id, in);
  });
}

// Bulk delete (auth ids): all or nothing.
Response deleteAccountAuths(Simulator& sim, const Request& req) {
  World& w = sim.world();
  nlohmann::json body;
  if (auto bad = readBody(req, BodyShape::kArray, body)) return *bad;
  for (const auto& item : body)
    if (!item.is_string()) return nukiError(Error::badParam("id", wire::shown(item)));
  return batch(w, body, [&](const nlohmann::json& item, std::vector<World::Mark>& marks) {
    ObjectId id;
    uint32_t index;
    if (auto found = lockOfAuth(w, callerOf(req), item.get<std::string>(), id, index)) return found;
    marks.push_back(w.mark(index));
    return w.deleteAuth(index, id);
  });
}

Response getLogs(Simulator& sim, const Request& req) {
  World& w = sim.world();
  uint32_t index;
  if (auto bad = lockOf(w, req, index)) return *bad;
  LogQuery q;
  if (auto bad = parseLogQuery(req, q)) return *bad;
  std::vector<std::pair<const Lock*, const LogEntry*>> found;
  collectLogs(w.lock(index), q, found);
  return logResponse(found, q.limit);
}

Response getAccountLogs(Simulator& sim, const Request& req) {
  World& w = sim.world();
  LogQuery q;
  if (auto bad = parseLogQuery(req, q)) return *bad;
  std::vector<std::pair<const Lock*, const LogEntry*>> found;
  for (uint32_t index : w.account(callerOf(req)).locks)
    if (!w.lock(index).removed) collectLogs(w.lock(index), q, found);
  return logResponse(found, q.limit);
}

Response getWebhooks(Simulator& sim, const Request& req) {
  Json out = Json::array();
  for (const Webhook* h : sim.webhooks().forAccount(callerOf(req)))
    out.push_back(hookJson(*h));
  return nukiJson(200, out.dump());
}

Response putWebhook(Simulator& sim, const Request& req) {
  nlohmann::json body;
  if (auto bad = readBody(req, BodyShape::kObject, body)) return *bad;
  Error e;
  std::optional<std::string> url;
  if (!wire::Fields(body).string("webhookUrl", url, e)) return nukiError(e);
  if (!url) return nukiError(Error::badParam("webhookUrl", "null"));
  if (!body.contains("webhookFeatures") || !body["webhookFeatures"].is_array())
    return nukiError(Error::badParam("webhookFeatures", body.contains("webhookFeatures")
                                                            ? wire::shown(body["webhookFeatures"])
                                                            : "null"));
  std::vector<std::string> features;
  for (const auto& f : body["webhookFeatures"]) {
    if (!f.is_string()) return nukiError(Error::badParam("webhookFeatures", wire::shown(f)));
    features.push_back(f.get<std::string>());
  }
  auto [hook, err] = sim.webhooks().add(callerOf(req), *url, features);
  if (err) return nukiError(err);
  return nukiJson(200, hookJson(*hook).dump());
}

Response deleteWebhook(Simulator& sim, const Request& req) {
  auto id = parseId(req.param("id"));
  if (!id) return nukiError(Error::badParam("id", req.param("id")));
  if (auto err = sim.webhooks().remove(callerOf(req), int64_t(*id))) return nukiError(err);
  return Response::empty(204);
}

// A handler bound to its simulator, as the router takes it.
http::SyncHandler on(Simulator& sim, Response (*handler)(Simulator&, const Request&)) {
  return [&sim, handler](const Request& req) { return handler(sim, req); };
}

}  // namespace

void addNukiRoutes(Simulator& sim, http::Router& r) {
  r.add("GET", "/account", on(sim, getAccount));
  r.add("GET", "/smartlock", on(sim, getSmartlocks));
  r.add("GET", "/smartlock/{smartlockId}", on(sim, getSmartlock));
  r.add("POST", "/smartlock/{smartlockId}", on(sim, postSmartlock));
  r.add("DELETE", "/smartlock/{smartlockId}", on(sim, deleteSmartlock));
  r.add("POST", "/smartlock/{smartlockId}/action", on(sim, postAction));
  r.add("POST", "/smartlock/{smartlockId}/action/lock", on(sim, postLock));
  r.add("POST", "/smartlock/{smartlockId}/action/unlock", on(sim, postUnlock));
  r.add("POST", "/smartlock/{smartlockId}/sync", on(sim, postSync));
  r.add("GET", "/smartlock/{smartlockId}/auth", on(sim, getAuths));
  r.add("PUT", "/smartlock/{smartlockId}/auth", on(sim, putAuth));
  r.add("GET", "/smartlock/{smartlockId}/auth/{id}", on(sim, getAuth));
  r.add("POST", "/smartlock/{smartlockId}/auth/{id}", on(sim, postAuth));
  r.add("DELETE", "/smartlock/{smartlockId}/auth/{id}", on(sim, deleteAuth));
  r.add("GET", "/smartlock/auth", on(sim, getAccountAuths));
  r.add("GET", "/smartlock/auth/paged", on(sim, getAccountAuthsPaged));
  r.add("PUT", "/smartlock/auth", on(sim, putAccountAuths));
  r.add("POST", "/smartlock/auth", on(sim, postAccountAuths));
  r.add("DELETE", "/smartlock/auth", on(sim, deleteAccountAuths));
  r.add("GET", "/smartlock/{smartlockId}/log", on(sim, getLogs));
  r.add("GET", "/smartlock/log", on(sim, getAccountLogs));
  r.add("GET", "/api/decentralWebhook", on(sim, getWebhooks));
  r.add("PUT", "/api/decentralWebhook", on(sim, putWebhook));
  r.add("DELETE", "/api/decentralWebhook/{id}", on(sim, deleteWebhook));
}

}  // namespace nukihil::sim
