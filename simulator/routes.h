// Internal to the simulator: the two route tables and what their handlers share.
#pragma once

#include <deque>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "runtime/http.h"
#include "simulator/simulator.h"

namespace nukihil::sim {

struct Simulator::Impl {
  http::Router nuki;
  http::Router control;
  http::Router ui;
  std::deque<std::string> uiSessions;  // the dashboard's sign-ins, oldest first
};

void addNukiRoutes(Simulator& sim, http::Router& router);
void addControlRoutes(Simulator& sim, http::Router& router);
// The dashboard (simulator/ui.cc): /sim/ui, its files, sign-in and sign-out.
void addUiRoutes(Simulator& sim, http::Router& router);
bool isUiPath(std::string_view target);
// The values of the dashboard's session cookies in a Cookie header field (one per nukisim the
// browser signed in to on this host), in order.
std::vector<std::string_view> uiSessionsOf(std::string_view cookieHeader);

// Nuki-shaped responses (SPEC §2).
http::Response nukiError(const Error& e);
http::Response nukiJson(int status, std::string body);

// Control-plane responses: {"error":{"code","message"}}.
http::Response controlError(int status, std::string_view code, std::string_view message);
http::Response controlError(const Error& e);
http::Response controlJson(int status, const nlohmann::json& body);

// Shared by the control plane and fleet files (control_plane.cc): the fields a lock and a
// keypad code take, and their readers.
extern const std::vector<std::string_view> kLockKeys;
extern const std::vector<std::string_view> kCodeKeys;
Error accountFieldsFrom(const nlohmann::json& j, std::string& name, std::string& email,
                        std::string& token);
Error lockSettingsFrom(const nlohmann::json& j, LockSettings& s);
std::pair<uint32_t, Error> lockFrom(World& w, uint32_t account, const nlohmann::json& j);
Error codeInputFrom(const nlohmann::json& j, AuthInput& in);

// Parses a decimal id from a path or query; nullopt if it is not one.
std::optional<uint64_t> parseId(std::string_view text);

}  // namespace nukihil::sim
