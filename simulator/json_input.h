// Reading JSON that a person wrote (fleet files, control-plane bodies) the way scenario files
// are read (SPEC §7): a syntax error says its line and column, and a key the format does not
// define is refused with its JSON path and the nearest known name, so that a typo never
// silently drops a setting (issue 8: "allowedWeekdays" made a weekday-only code an every-day
// one).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nukihil::sim {

// Parses `text`. On a syntax error returns nullopt and sets `error` to
// "line L, column C: <what the parser expected>" (columns count characters, from 1).
std::optional<nlohmann::json> parseJsonText(std::string_view text, std::string& error);

// The name of `known` closest to `word` when it is close enough to be a typo of it, else "".
std::string nearestName(std::string_view word, const std::vector<std::string_view>& known);

// Checks that the object `j` (at JSON path `path`, "" for the root) has only `known` keys.
// Returns "" if so, else "<path>: unknown field '<key>' (<nearest>?)" for the first other key.
std::string unknownField(const nlohmann::json& j, const std::string& path,
                         const std::vector<std::string_view>& known);

}  // namespace nukihil::sim
