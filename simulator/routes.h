// Internal to the simulator: the two route tables and what their handlers share.
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/http.h"
#include "simulator/simulator.h"

namespace nukihil::sim {

struct Simulator::Impl {
  http::Router nuki;
  http::Router control;
};

void addNukiRoutes(Simulator& sim, http::Router& router);
void addControlRoutes(Simulator& sim, http::Router& router);

// Nuki-shaped responses (SPEC §2).
http::Response nukiError(const Error& e);
http::Response nukiJson(int status, std::string body);

// Control-plane responses: {"error":{"code","message"}}.
http::Response controlError(int status, std::string_view code, std::string_view message);
http::Response controlError(const Error& e);
http::Response controlJson(int status, const nlohmann::json& body);

// Parses a decimal id from a path or query; nullopt if it is not one.
std::optional<uint64_t> parseId(std::string_view text);

}  // namespace nukihil::sim
