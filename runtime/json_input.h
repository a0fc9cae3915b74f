// Reading JSON that a person wrote (scenario files SPEC §7, fleet files, control-plane bodies):
// a syntax error says its line and column, and a key the format does not define is refused with
// the nearest known name, so that a typo never silently drops a setting (issue 8:
// "allowedWeekdays" made a weekday-only code an every-day one). Each reader words its own
// messages around these.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nukihil {

// Why a text is not JSON. `line` and `column` (from 1; columns count characters) locate where
// the parser stopped; both are 0 when the text has no such place (a number no double holds,
// "1e999").
struct JsonSyntaxError {
  int line = 0, column = 0;
  std::string what;  // nlohmann's words without its prefix: "syntax error while parsing …"

  // "line L, column C: <what>", or only <what> when there is no place.
  std::string text() const;
};

// Parses `text`, comments not allowed; `callback` as nlohmann::json::parse takes it (may be
// null). On bad input returns nullopt and sets `error`; never throws a json::exception.
std::optional<nlohmann::json> parseJson(
    std::string_view text, JsonSyntaxError& error,
    const nlohmann::json::parser_callback_t& callback = nullptr);

// As parseJson, with the error as JsonSyntaxError::text().
std::optional<nlohmann::json> parseJsonText(std::string_view text, std::string& error);

// How a difference in letter case counts when names are compared.
enum class LetterCase {
  kHalfAnEdit,  // "Name" is nearer to "name" than to "same" (control plane, fleet files)
  kFree,        // "NAME" is "name" (scenario files)
};

// The name of `known` closest to `word` by edit distance when it is close enough to be a typo of
// it (at most a third of the word, and at least two edits), else the first of `known` that
// contains `word` or is contained in it, ignoring case (three letters or more), else "".
std::string nearestName(std::string_view word, const std::vector<std::string_view>& known,
                        LetterCase letterCase = LetterCase::kHalfAnEdit);
std::string nearestName(std::string_view word, const std::vector<std::string>& known,
                        LetterCase letterCase = LetterCase::kHalfAnEdit);

// Checks that the object `j` (at JSON path `path`, "" for the root) has only `known` keys.
// Returns "" if so (or if `j` is no object), else "<path>: unknown field '<key>' (<nearest>?)"
// for the first other key, a key longer than 64 bytes shown cut ("…").
std::string unknownField(const nlohmann::json& j, const std::string& path,
                         const std::vector<std::string_view>& known);

}  // namespace nukihil
