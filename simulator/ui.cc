// The dashboard (nukisim --ui): its page, script and style, served from the binary, and the
// sign-in that trades the admin token for an HttpOnly session cookie. Everything else the page
// does goes through /sim/v1, as any client's calls do.
#include <nlohmann/json.hpp>

#include "runtime/crypto.h"
#include "simulator/routes.h"
#include "simulator/ui_assets.h"

namespace nukihil::sim {

namespace {

using http::Request;
using http::Response;

constexpr std::string_view kCookiePrefix = "nukisim_session";
constexpr size_t kSessionsKept = 64;

// Only this server: no script, style, image or connection from anywhere else, no framing.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

Response asset(std::string_view body, const char* type) {
  Response r;
  r.status = 200;
  r.body = std::string(body);
  r.contentType = type;
  r.headers.emplace_back("Content-Security-Policy", kPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response noContent(std::string cookie) {
  Response r = Response::empty(204);
  r.headers.emplace_back("Set-Cookie", std::move(cookie));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// The page's own calls carry X-Nukisim-UI: a form on another site cannot send it, so a cookie
// alone never signs anyone in or out.
std::optional<Response> notFromThePage(const Request& req) {
  if (req.header("X-Nukisim-UI")) return std::nullopt;
  return controlError(403, "FORBIDDEN", "the dashboard's calls carry the header X-Nukisim-UI: 1");
}

// Cookies do not keep ports apart: each nukisim on a host names its cookie after the port it
// was reached on, so that signing in to one does not sign a browser out of another.
std::string cookieName(const Request& req) {
  std::string name(kCookiePrefix);
  const std::string_view host = req.header("Host").value_or("");
  const size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return name;
  std::string port;
  for (char c : host.substr(colon + 1))
    if (c >= '0' && c <= '9') port += c;
  return port.empty() ? name : name + "_" + port;
}

Response signIn(Simulator& sim, const Request& req) {
  if (auto bad = notFromThePage(req)) return *bad;
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string())
    return controlError(400, "BAD_REQUEST", "give {\"token\":\"<the admin token>\"}");
  if (!crypto::constantTimeEqual(body["token"].get<std::string>(), sim.adminToken()))
    return controlError(401, "UNAUTHORIZED", "that is not this nukisim's admin token");
  return noContent(cookieName(req) + "=" + sim.startUiSession() +
                   "; Path=/sim; HttpOnly; SameSite=Strict");
}

Response signOut(Simulator& sim, const Request& req) {
  if (auto bad = notFromThePage(req)) return *bad;
  sim.endUiSession(req.header("Cookie").value_or(""));
  return noContent(cookieName(req) + "=; Path=/sim; HttpOnly; SameSite=Strict; Max-Age=0");
}

Response page(const Request&) {
  return asset(ui::indexHtml(), "text/html; charset=utf-8");
}
Response script(const Request&) {
  return asset(ui::appJs(), "text/javascript; charset=utf-8");
}
Response style(const Request&) {
  return asset(ui::appCss(), "text/css; charset=utf-8");
}

// Whether this browser is signed in, asked before anything else so that a signed-out page
// makes no call that fails.
Response session(Simulator& sim, const Request& req) {
  return controlJson(
      200, nlohmann::json{{"signedIn", sim.uiSignedIn(req.header("Cookie").value_or(""))}});
}

}  // namespace

std::vector<std::string_view> uiSessionsOf(std::string_view cookieHeader) {
  // Cookie: a=1; nukisim_session_8080=…; nukisim_session_8081=…; b=2
  std::vector<std::string_view> found;
  size_t at = 0;
  while (at < cookieHeader.size()) {
    size_t end = cookieHeader.find(';', at);
    if (end == std::string_view::npos) end = cookieHeader.size();
    std::string_view pair = cookieHeader.substr(at, end - at);
    while (!pair.empty() && pair.front() == ' ')
      pair.remove_prefix(1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, kCookiePrefix.size()) == kCookiePrefix &&
        eq + 1 < pair.size())
      found.push_back(pair.substr(eq + 1));
    at = end + 1;
  }
  return found;
}

bool isUiPath(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/sim/ui" || path.rfind("/sim/ui/", 0) == 0;
}

void addUiRoutes(Simulator& sim, http::Router& r) {
  r.add("GET", "/sim/ui", page);
  r.add("GET", "/sim/ui/", page);
  r.add("GET", "/sim/ui/app.js", script);
  r.add("GET", "/sim/ui/app.css", style);
  r.add("GET", "/sim/ui/session", [&sim](const Request& req) { return session(sim, req); });
  r.add("POST", "/sim/ui/login", [&sim](const Request& req) { return signIn(sim, req); });
  r.add("POST", "/sim/ui/logout", [&sim](const Request& req) { return signOut(sim, req); });
}

}  // namespace nukihil::sim
