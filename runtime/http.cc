#include "runtime/http.h"

#include <algorithm>

namespace nukihil::http {

std::string_view Request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view Request::query() const {
  std::string_view t = target;
  const auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::optional<std::string> Request::queryParam(std::string_view name) const {
  std::string_view q = query();
  while (!q.empty()) {
    const auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string key = percentDecode(pair.substr(0, eq));
    if (key == name)
      return eq == std::string_view::npos ? std::string{} : percentDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

const std::string& Request::param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return kEmpty;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Request::bearerToken() const {
  return bearerTokenOf(authorization);
}

std::string_view bearerTokenOf(std::string_view authorization) {
  std::string_view a = authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (a.size() <= kBearer.size()) return {};
  for (size_t i = 0; i < kBearer.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(kBearer[i])))
      return {};
  a.remove_prefix(kBearer.size());
  while (!a.empty() && a.front() == ' ')
    a.remove_prefix(1);
  while (!a.empty() && a.back() == ' ')
    a.remove_suffix(1);
  return a;
}

std::string printableTarget(std::string_view target) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(target.size());
  for (const unsigned char c : target) {
    if (c > 0x20 && c < 0x7f) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 423:
      return "Locked";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string percentDecode(std::string_view s, bool plusIsSpace) {
  auto hexValue = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(char(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plusIsSpace && s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

namespace {
std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    const auto end = std::min(path.find('/', pos), path.size());
    parts.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return parts;
}
}  // namespace

void Router::add(std::string_view method, std::string_view pattern, Handler h) {
  Route r;
  r.method = std::string(method);
  r.pattern = std::string(pattern);
  for (auto part : splitPath(pattern))
    r.segments.emplace_back(part);
  r.handler = std::move(h);
  routes_.push_back(std::move(r));
}

void Router::add(std::string_view method, std::string_view pattern, SyncHandler h) {
  add(method, pattern,
      Handler([h = std::move(h)](Request& req, Respond respond) { respond(h(req)); }));
}

bool Router::matches(const Route& r, const std::vector<std::string_view>& parts, int& literals) {
  if (r.segments.size() != parts.size()) return false;
  literals = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = r.segments[i];
    if (!seg.empty() && seg.front() == '{') continue;
    if (seg != parts[i]) return false;
    ++literals;
  }
  return true;
}

Router::Match Router::match(Request& req) const {
  const auto parts = splitPath(req.path());
  Match m;
  const Route* best = nullptr;
  int bestLiterals = -1;
  // The most literal pattern that fits the path decides which resource this is; methods are
  // then looked up on that resource.
  for (const auto& r : routes_) {
    int literals;
    if (matches(r, parts, literals) && literals > bestLiterals) {
      best = &r;
      bestLiterals = literals;
    }
  }
  if (!best) return m;
  m.pathKnown = true;
  for (const auto& r : routes_) {
    if (r.pattern != best->pattern) continue;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
    if (r.method == req.method) {
      m.handler = &r.handler;
      m.pattern = &r.pattern;
      req.params.clear();
      for (size_t i = 0; i < parts.size(); ++i) {
        const auto& seg = r.segments[i];
        if (!seg.empty() && seg.front() == '{')
          req.params.emplace_back(seg.substr(1, seg.size() - 2), percentDecode(parts[i], false));
      }
    }
  }
  return m;
}

}  // namespace nukihil::http
