#include "simulator/faults.h"

#include <algorithm>
#include <set>

namespace nukihil::sim {

bool Faults::globMatch(std::string_view p, std::string_view t) {
  // Iterative glob with backtracking to the last '*'.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == t[ti] || p[pi] == '?')) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*')
    ++pi;
  return pi == p.size();
}

std::optional<Fault> Faults::fromJson(const nlohmann::json& j, Time now, std::string& error) {
  if (!j.is_object()) {
    error = "a fault is a JSON object";
    return std::nullopt;
  }
  Fault f;
  auto str = [&](const char* k, std::string& out) {
    if (!j.contains(k)) return true;
    if (!j[k].is_string()) {
      error = std::string(k) + " must be a string";
      return false;
    }
    out = j[k].get<std::string>();
    return true;
  };
  auto integer = [&](const char* k, int64_t& out, int64_t lo, int64_t hi) {
    if (!j.contains(k)) return true;
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < lo || j[k].get<int64_t>() > hi) {
      error = std::string(k) + " must be an integer in " + std::to_string(lo) + ".." +
              std::to_string(hi);
      return false;
    }
    out = j[k].get<int64_t>();
    return true;
  };
  auto instant = [&](const char* k, int64_t& out) {
    if (!j.contains(k)) return true;
    auto t = j[k].is_string() ? parseRfc3339(j[k].get<std::string>()) : std::nullopt;
    if (!t) {
      error = std::string(k) + " must be an RFC 3339 date-time";
      return false;
    }
    // Virtual time stays in 2000–2037 (SPEC §3), and so does every time the control plane takes.
    if (*t < kEarliestTime || *t >= kLatestTime) {
      error = std::string(k) + " must lie between 2000 and 2037 (SPEC §3)";
      return false;
    }
    out = millisOf(*t);
    return true;
  };
  if (!str("route", f.route)) return std::nullopt;
  if (f.route.empty()) {
    error = "route must not be empty";
    return std::nullopt;
  }
  if (j.contains("methods")) {
    if (!j["methods"].is_array()) {
      error = "methods must be an array of strings";
      return std::nullopt;
    }
    for (auto& m : j["methods"]) {
      if (!m.is_string()) {
        error = "methods must be an array of strings";
        return std::nullopt;
      }
      f.methods.push_back(m.get<std::string>());
    }
  }
  if (j.contains("method")) {
    std::string m;
    if (!str("method", m)) return std::nullopt;
    f.methods.push_back(m);
  }
  if (j.contains("probability")) {
    if (!j["probability"].is_number() || j["probability"].get<double>() < 0 ||
        j["probability"].get<double>() > 1) {
      error = "probability must be a number in 0..1";
      return std::nullopt;
    }
    f.probability = j["probability"].get<double>();
  }
  if (!instant("from", f.fromMs) || !instant("until", f.untilMs)) return std::nullopt;
  int64_t forSeconds = -1;
  if (!integer("forSeconds", forSeconds, 1, INT32_MAX)) return std::nullopt;
  if (forSeconds > 0) {
    const int64_t start = f.fromMs == INT64_MIN ? millisOf(now) : f.fromMs;
    f.fromMs = start;
    f.untilMs = start + forSeconds * 1000;
  }
  if (f.fromMs != INT64_MIN && f.untilMs != INT64_MAX && f.fromMs >= f.untilMs) {
    error = "from must be before until";
    return std::nullopt;
  }
  if (!integer("count", f.remaining, 1, INT32_MAX)) return std::nullopt;

  int effects = 0;
  if (j.contains("status")) {
    ++effects;
    int64_t status = 0;
    if (!integer("status", status, 400, 599)) return std::nullopt;
    f.effect = Fault::kStatus;
    f.status = int(status);
    if (!integer("retryAfter", f.retryAfterSeconds, 0, 86400)) return std::nullopt;
    f.retryAfterSeconds = f.retryAfter();
  }
  if (j.contains("latencyMs")) {
    ++effects;
    f.effect = Fault::kLatency;
    if (!integer("latencyMs", f.latencyMs, 1, 3600000)) return std::nullopt;
  }
  if (j.contains("reset")) {
    if (!j["reset"].is_boolean()) {
      error = "reset must be a boolean";
      return std::nullopt;
    }
    if (j["reset"].get<bool>()) {
      ++effects;
      f.effect = Fault::kReset;
    }
  }
  if (j.contains("resetAfter")) {
    if (!j["resetAfter"].is_boolean()) {
      error = "resetAfter must be a boolean";
      return std::nullopt;
    }
    if (j["resetAfter"].get<bool>()) {
      ++effects;
      f.effect = Fault::kResetAfter;
    }
  }
  if (effects != 1) {
    error = "give exactly one effect: status, latencyMs, reset or resetAfter";
    return std::nullopt;
  }
  return f;
}

std::optional<int64_t> Faults::add(const nlohmann::json& body, Time now, std::string& error) {
  auto f = fromJson(body, now, error);
  if (!f) return std::nullopt;
  f->id = nextId_++;
  faults_.push_back(*f);
  return f->id;
}

bool Faults::remove(int64_t id) {
  auto it = std::find_if(faults_.begin(), faults_.end(), [&](auto& f) { return f.id == id; });
  if (it == faults_.end()) return false;
  faults_.erase(it);
  return true;
}

Fault* Faults::pick(std::string_view method, std::string_view path, Time now, Random& random) {
  const int64_t ms = millisOf(now);
  for (auto& f : faults_) {
    if (f.remaining == 0 || ms < f.fromMs || ms >= f.untilMs) continue;
    if (!f.methods.empty() &&
        std::find(f.methods.begin(), f.methods.end(), method) == f.methods.end())
      continue;
    if (!globMatch(f.route, path)) continue;
    if (!random.chance(f.probability)) continue;
    if (f.remaining > 0) --f.remaining;
    ++f.fired;
    return &f;
  }
  return nullptr;
}

nlohmann::json Faults::toJson(const Fault& f) {
  nlohmann::json j;
  j["id"] = f.id;
  j["route"] = f.route;
  if (!f.methods.empty()) j["methods"] = f.methods;
  j["probability"] = f.probability;
  if (f.fromMs != INT64_MIN) j["from"] = formatRfc3339(timeFromMillis(f.fromMs));
  if (f.untilMs != INT64_MAX) j["until"] = formatRfc3339(timeFromMillis(f.untilMs));
  if (f.remaining >= 0) j["count"] = f.remaining;
  switch (f.effect) {
    case Fault::kStatus:
      j["status"] = f.status;
      if (f.retryAfterSeconds >= 0) j["retryAfter"] = f.retryAfterSeconds;
      break;
    case Fault::kLatency:
      j["latencyMs"] = f.latencyMs;
      break;
    case Fault::kReset:
      j["reset"] = true;
      break;
    case Fault::kResetAfter:
      j["resetAfter"] = true;
      break;
  }
  j["fired"] = f.fired;
  return j;
}

// ---- Snapshot

namespace {

using nlohmann::json;
using snapshot::In;

// Not Faults::toJson: the snapshot keeps every field as it is held.
json snapshotOf(const Fault& f) {
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

Fault faultFrom(const In& j) {
  Fault f;
  f.id = j["id"].integer(1, INT64_MAX);
  f.route = j["route"].string(2048);
  const In methods = j["methods"];
  for (size_t i = 0, n = methods.array(16); i < n; ++i)
    f.methods.push_back(methods[i].string(16));
  const In p = j["probability"];
  if (!p.raw().is_number() || !(p.raw().get<double>() >= 0 && p.raw().get<double>() <= 1))
    p.fail("must be a number in 0..1");
  f.probability = p.raw().get<double>();
  f.fromMs = j["fromMs"].integer(INT64_MIN, INT64_MAX);
  f.untilMs = j["untilMs"].integer(INT64_MIN, INT64_MAX);
  f.remaining = j["remaining"].integer(-1, INT64_MAX);
  f.effect = Fault::Effect(j["effect"].integer(Fault::kStatus, Fault::kResetAfter));
  f.status = int(j["status"].integer(100, 599));
  f.retryAfterSeconds = j["retryAfter"].integer(-1, 86400);
  f.latencyMs = j["latencyMs"].integer(0, 3600000);
  f.fired = j["fired"].u64();
  return f;
}

}  // namespace

void Faults::encode(json& j) const {
  json faults = json::array();
  for (const auto& f : faults_)
    faults.push_back(snapshotOf(f));
  j["faults"] = {{"nextId", nextId_}, {"list", std::move(faults)}};
}

snapshot::Checked<Faults::Decoded> Faults::decode(const In& root) {
  return snapshot::check([&] {
    Decoded d;
    const In faults = root["faults"];
    d.nextId = faults["nextId"].integer(1, INT64_MAX);
    const In list = faults["list"];
    std::set<int64_t> faultIds;
    for (size_t i = 0, n = list.array(); i < n; ++i) {
      d.list.push_back(faultFrom(list[i]));
      if (d.list.back().id >= d.nextId || !faultIds.insert(d.list.back().id).second)
        list[i]["id"].fail("must be unique and below faults.nextId");
    }
    return d;
  });
}

void Faults::adopt(Decoded decoded) {
  faults_ = std::move(decoded.list);
  nextId_ = decoded.nextId;
}

}  // namespace nukihil::sim
