#include "runtime/transport.h"

#include <boost/beast/core/string.hpp>

namespace nukihil::http {

namespace beast = boost::beast;

std::optional<std::string> ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return std::nullopt;
}

std::optional<Url> Url::parse(std::string_view s) {
  // Nothing that could break a request line or a header: no spaces or control characters.
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  if (const auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
  Url u;
  if (s.substr(0, 7) == "http://") {
    s.remove_prefix(7);
    u.port = 80;
  } else if (s.substr(0, 8) == "https://") {
    s.remove_prefix(8);
    u.tls = true;
    u.port = 443;
  } else {
    return std::nullopt;
  }
  const auto slash = s.find_first_of("/?");
  std::string_view authority = s.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? std::string_view{} : s.substr(slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view host = authority;
  if (authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return std::nullopt;
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
    if (authority.find(':', 1) != std::string_view::npos) return std::nullopt;  // "h:80:81", "::1"
  }
  if (!authority.empty()) {  // ":port"
    authority.remove_prefix(1);
    if (authority.empty() || authority.size() > 5) return std::nullopt;
    unsigned port = 0;
    for (char c : authority) {
      if (c < '0' || c > '9') return std::nullopt;
      port = port * 10 + unsigned(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    u.port = uint16_t(port);
  }
  if (host.empty()) return std::nullopt;
  u.host = std::string(host);
  if (rest.empty())
    u.target = "/";
  else if (rest.front() == '?')
    u.target = "/" + std::string(rest);
  else
    u.target = std::string(rest);
  return u;
}

std::string Url::origin() const {
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

}  // namespace nukihil::http
