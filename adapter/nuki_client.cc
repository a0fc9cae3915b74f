#include "adapter/nuki_client.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <utility>

#include "adapter/repeated_failure.h"
#include "runtime/backoff.h"
#include "runtime/log.h"

namespace nukihil::adapter {

namespace {

// A path segment with everything but RFC 3986 unreserved characters percent-encoded.
std::string segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string lockPath(uint64_t id) {
  return "/smartlock/" + std::to_string(id);
}

std::string seconds(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", double(d.count()) / 1000.0);
  return buf;
}

// "Sun", "Nov" … → index, or -1.
int indexOf(std::string_view word, const std::array<std::string_view, 12>& names, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (word == names[i]) return int(i);
  return -1;
}
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 12> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                    "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 12> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

bool digits(std::string_view s, size_t n, int& out) {
  if (s.size() != n) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

bool clock3(std::string_view s, int& h, int& m, int& sec) {
  return s.size() == 8 && s[2] == ':' && s[5] == ':' && digits(s.substr(0, 2), 2, h) &&
         digits(s.substr(3, 2), 2, m) && digits(s.substr(6, 2), 2, sec) && h < 24 && m < 60 &&
         sec < 61;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ')
      ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// RFC 9110 §5.6.7 HTTP-date in any of its three formats.
std::optional<Time> parseHttpDate(std::string_view s) {
  const auto w = words(s);
  int year = 0, month = -1, day = 0, h = 0, m = 0, sec = 0;
  if (w.size() == 6 && w[0].size() == 4 && w[0][3] == ',' &&
      indexOf(w[0].substr(0, 3), kDays, 7) >= 0) {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    month = indexOf(w[2], kMonths, 12);
    if (!digits(w[1], 2, day) || month < 0 || !digits(w[3], 4, year) || !clock3(w[4], h, m, sec) ||
        w[5] != "GMT")
      return std::nullopt;
  } else if (w.size() == 4 && !w[0].empty() && w[0].back() == ',' &&
             indexOf(w[0].substr(0, w[0].size() - 1), kLongDays, 7) >= 0) {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    const auto d = w[1];
    if (d.size() != 9 || d[2] != '-' || d[6] != '-' || !digits(d.substr(0, 2), 2, day) ||
        !digits(d.substr(7, 2), 2, year) || !clock3(w[2], h, m, sec) || w[3] != "GMT")
      return std::nullopt;
    month = indexOf(d.substr(3, 3), kMonths, 12);
    year += year < 70 ? 2000 : 1900;
  } else if (w.size() == 5 && indexOf(w[0], kDays, 7) >= 0) {
    // asctime: Sun Nov  6 08:49:37 1994
    month = indexOf(w[1], kMonths, 12);
    if (!(digits(w[2], 1, day) || digits(w[2], 2, day)) || !clock3(w[3], h, m, sec) ||
        !digits(w[4], 4, year))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (month < 0) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(unsigned(month + 1)),
                                        std::chrono::day(unsigned(day))};
  if (!ymd.ok()) return std::nullopt;
  return Time(std::chrono::sys_days(ymd)) + std::chrono::hours(h) + std::chrono::minutes(m) +
         std::chrono::seconds(sec);
}

}  // namespace

struct NukiClient::Call {
  std::string method;
  std::string path;  // for the log: never the token
  http::ClientRequest request;
  std::function<void(NukiResult)> done;
  NukiResult result;
  Time start{};
  Clock::AlarmId alarm = 0;
};

NukiClient::NukiClient(http::Transport& http, Clock& clock, Random& random, Options options)
    : http_(http),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      alive_(std::make_shared<char>(0)) {
  while (!options_.baseUrl.empty() && options_.baseUrl.back() == '/')
    options_.baseUrl.pop_back();
  if (options_.maxAttempts < 1) options_.maxAttempts = 1;
}

NukiClient::~NukiClient() {
  alive_.reset();
  for (auto id : alarms_)
    clock_.removeAlarm(id);
}

Duration NukiClient::backoff(int attempt) {
  // At most 30 doublings; never beyond the budget, unless the first pause already is.
  const Duration first = std::max(options_.firstBackoff, Duration(0));
  const Duration base = exponentialBackoff(first, std::max(options_.budget, first),
                                           uint32_t(std::clamp(attempt, 1, 31)));
  return equalJitter(base, random_);
}

std::optional<Duration> NukiClient::parseRetryAfter(std::string_view v, Time now) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t s = 0;
    for (char c : v) {
      s = s * 10 + (c - '0');
      if (s > int64_t(10) * 365 * 86400) return Duration(int64_t(10) * 365 * 86400 * 1000);
    }
    return Duration(s * 1000);
  }
  auto at = parseHttpDate(v);
  if (!at) return std::nullopt;
  return *at > now ? *at - now : Duration(0);
}

void NukiClient::call(std::string method, std::string path, std::string body,
                      std::function<void(NukiResult)> done) {
  auto c = std::make_shared<Call>();
  c->method = method;
  c->path = path;
  c->request.method = std::move(method);
  c->request.url = options_.baseUrl + path;
  c->request.headers = {{"Authorization", "Bearer " + options_.token},
                        {"Accept", "application/json"}};
  if (!nextRequestId_.empty())
    c->request.headers.emplace_back("X-Request-ID", std::exchange(nextRequestId_, {}));
  c->request.body = std::move(body);
  c->request.timeout = options_.timeout;
  c->done = std::move(done);
  c->start = clock_.now();
  attempt(c);
}

void NukiClient::attempt(const std::shared_ptr<Call>& c) {
  ++c->result.attempts;
  std::weak_ptr<char> alive = alive_;
  http_.send(c->request, [this, alive, c](http::ClientResponse r) {
    if (alive.expired()) return;
    onResponse(c, std::move(r));
  });
}

void NukiClient::onResponse(const std::shared_ptr<Call>& c, http::ClientResponse r) {
  NukiResult& res = c->result;
  res.status = r.ok() ? r.status : 0;
  res.body = std::move(r.body);
  res.error = std::move(r.error);
  const auto finish = [&](NukiResult::Outcome outcome) {
    res.outcome = outcome;
    auto done = std::move(c->done);
    done(std::move(res));  // may destroy the client: nothing after this
  };
  const bool retriable = res.status == 0 || res.status == 429 || res.status >= 500;
  const std::string what =
      c->method + " " + c->path + ": " +
      (res.status ? std::to_string(res.status) : "no response (" + res.error + ")");
  const bool refusedToken = res.status == 401 || res.status == 403;
  recordAttempt(res.status >= 200 && res.status < 500 && !retriable && !refusedToken, res.status,
                c->method + " " + c->path + ": " +
                    (res.status ? "HTTP " + std::to_string(res.status) +
                                      (res.status == 401   ? " (the API token is refused)"
                                       : res.status == 403 ? " (forbidden for this token)"
                                                           : "")
                                : "no response (" + res.error + ")"));
  if (res.status >= 200 && res.status < 300) return finish(NukiResult::Outcome::kOk);
  if (!retriable) return finish(NukiResult::Outcome::kRefused);

  const Time now = clock_.now();
  const Time deadline = c->start + options_.budget;
  const auto giveUp = [&](std::string_view why) {
    log::warn("nuki-web: " + what + " after " + std::to_string(res.attempts) +
              (res.attempts == 1 ? " try; " : " tries; ") + std::string(why) + ": TIMEOUT");
    finish(NukiResult::Outcome::kTimeout);
  };
  if (res.attempts >= options_.maxAttempts) return giveUp("no tries left");
  if (now >= deadline) return giveUp("retry budget spent");
  Duration delay = backoff(res.attempts);
  if (res.status == 429 || res.status == 503) {  // RFC 9110: both may carry Retry-After
    if (auto h = r.header("Retry-After")) {
      if (auto after = parseRetryAfter(*h, now)) {
        // A retry before Retry-After would not honour it; one after the budget is not allowed.
        if (now + *after > deadline) return giveUp("Retry-After reaches past the retry budget");
        delay = std::max(delay, *after);
      }
    }
  }
  if (now + delay > deadline) delay = deadline - now;
  log::info("nuki-web: " + what + ", try " + std::to_string(res.attempts + 1) + " of " +
            std::to_string(options_.maxAttempts) + " in " + seconds(delay));
  retryLater(c, delay);
}

void NukiClient::recordAttempt(bool ok, int status, const std::string& what) {
  auto& r = reachability_;
  const Time now = clock_.now();
  if (ok) {
    if (warned_)
      log::warn("nuki-web: answering again after " + std::to_string(r.consecutiveFailures) +
                " failed attempt(s)");
    warned_ = false;
    r.consecutiveFailures = 0;
    r.failingSince.reset();
    r.lastSuccessAt = now;
    return;
  }
  if (r.consecutiveFailures++ == 0) r.failingSince = now;
  r.lastError = what;
  r.lastErrorAt = now;
  const bool token = status == 401 || status == 403;
  if ((token && r.consecutiveFailures == 1) || warnAgainAt(r.consecutiveFailures)) {
    warned_ = true;
    log::warn("nuki-web: " + std::to_string(r.consecutiveFailures) +
              " failed attempt(s) in a row, the last: " + what +
              (token ? "; check --nuki-token / NUKI_TOKEN" : "; retrying") +
              " (GET /v1/health: degraded)");
  }
}

void NukiClient::retryLater(const std::shared_ptr<Call>& c, Duration delay) {
  c->alarm = clock_.addAlarm([this, c] {
    clock_.removeAlarm(c->alarm);
    alarms_.erase(c->alarm);
    c->alarm = 0;
    attempt(c);
  });
  alarms_.insert(c->alarm);
  clock_.arm(c->alarm, clock_.now() + delay);
}

// ---- the calls

namespace {

// For calls that return data: a 2xx whose body does not decode is final (kRefused).
template <class T, class Decode>
std::function<void(NukiResult)> decoded(Decode decode,
                                        std::function<void(const NukiResult&, T)> done) {
  return [decode = std::move(decode), done = std::move(done)](NukiResult r) {
    T value{};
    if (r.ok()) {
      std::string error;
      if (!decode(r.body, value, error)) {
        r.outcome = NukiResult::Outcome::kRefused;
        r.error = "unexpected response body: " + error;
        value = T{};
      }
    }
    done(r, std::move(value));
  };
}

std::function<void(NukiResult)> plain(std::function<void(const NukiResult&)> done) {
  return [done = std::move(done)](NukiResult r) { done(r); };
}

}  // namespace

void NukiClient::listSmartlocks(
    std::function<void(const NukiResult&, std::vector<NukiLock>)> done) {
  call("GET", "/smartlock", {},
       decoded<std::vector<NukiLock>>(
           [](const std::string& body, std::vector<NukiLock>& out, std::string& error) {
             auto v = decodeSmartlocks(body, error);
             if (v) out = std::move(*v);
             return v.has_value();
           },
           std::move(done)));
}

void NukiClient::getSmartlock(
    uint64_t id, std::function<void(const NukiResult&, std::optional<NukiLock>)> done) {
  call("GET", lockPath(id), {},
       decoded<std::optional<NukiLock>>(
           [](const std::string& body, std::optional<NukiLock>& out, std::string& error) {
             auto j = nlohmann::json::parse(body, nullptr, false);
             if (j.is_discarded()) {
               error = "not valid JSON";
               return false;
             }
             out = decodeSmartlock(j, error);
             return out.has_value();
           },
           std::move(done)));
}

void NukiClient::lockAction(uint64_t id, bool lock, std::function<void(const NukiResult&)> done) {
  call("POST", lockPath(id) + (lock ? "/action/lock" : "/action/unlock"), {},
       plain(std::move(done)));
}

void NukiClient::listAuths(uint64_t id,
                           std::function<void(const NukiResult&, std::vector<NukiAuth>)> done) {
  call("GET", lockPath(id) + "/auth?types=" + std::to_string(nuki::kKeypadCode), {},
       decoded<std::vector<NukiAuth>>(
           [](const std::string& body, std::vector<NukiAuth>& out, std::string& error) {
             auto v = decodeAuths(body, error);
             if (v) out = std::move(*v);
             return v.has_value();
           },
           std::move(done)));
}

void NukiClient::createAuth(uint64_t id, const NukiAuthFields& fields,
                            std::function<void(const NukiResult&)> done) {
  call("PUT", lockPath(id) + "/auth", encodeAuthCreate(fields), plain(std::move(done)));
}

void NukiClient::updateAuth(uint64_t id, const std::string& authId, const NukiAuthFields& fields,
                            std::function<void(const NukiResult&)> done) {
  call("POST", lockPath(id) + "/auth/" + segment(authId), encodeAuthUpdate(fields),
       plain(std::move(done)));
}

void NukiClient::deleteAuth(uint64_t id, const std::string& authId,
                            std::function<void(const NukiResult&)> done) {
  call("DELETE", lockPath(id) + "/auth/" + segment(authId), {}, plain(std::move(done)));
}

void NukiClient::listLogs(uint64_t id, int limit,
                          std::function<void(const NukiResult&, std::vector<NukiLog>)> done) {
  call("GET", lockPath(id) + "/log?limit=" + std::to_string(limit), {},
       decoded<std::vector<NukiLog>>(
           [](const std::string& body, std::vector<NukiLog>& out, std::string& error) {
             auto v = decodeLogs(body, error);
             if (v) out = std::move(*v);
             return v.has_value();
           },
           std::move(done)));
}

void NukiClient::requestSync(uint64_t id, std::function<void(const NukiResult&)> done) {
  call("POST", lockPath(id) + "/sync", {}, plain(std::move(done)));
}

void NukiClient::registerWebhook(
    const std::string& url, const std::vector<std::string>& features,
    std::function<void(const NukiResult&, int64_t id, std::string secret)> done) {
  call("PUT", "/api/decentralWebhook", encodeWebhook(url, features),
       [done = std::move(done)](NukiResult r) {
         NukiWebhook hook;
         if (r.ok()) {
           std::string error;
           auto w = decodeWebhook(std::string_view(r.body), error);
           if (w && w->secret.empty()) error = "secret: missing";
           if (w && error.empty()) {
             hook = std::move(*w);
           } else {
             r.outcome = NukiResult::Outcome::kRefused;
             r.error = "unexpected response body: " + error;
           }
         }
         done(r, hook.id, std::move(hook.secret));
       });
}

void NukiClient::listWebhooks(
    std::function<void(const NukiResult&, std::vector<std::pair<int64_t, std::string>>)> done) {
  using List = std::vector<std::pair<int64_t, std::string>>;
  call("GET", "/api/decentralWebhook", {},
       decoded<List>(
           [](const std::string& body, List& out, std::string& error) {
             auto v = decodeWebhooks(body, error);
             if (!v) return false;
             for (auto& w : *v)
               out.emplace_back(w.id, std::move(w.url));
             return true;
           },
           std::move(done)));
}

void NukiClient::deleteWebhook(int64_t id, std::function<void(const NukiResult&)> done) {
  call("DELETE", "/api/decentralWebhook/" + std::to_string(id), {}, plain(std::move(done)));
}

}  // namespace nukihil::adapter
