#include "runtime/json_input.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace nukihil {

namespace {

char lowered(char c) {
  return char(std::tolower(static_cast<unsigned char>(c)));
}

// Levenshtein distance in half edits: an insertion, deletion or substitution costs 2, a
// substitution of a letter by itself in the other case 1 or 0 (`letterCase`).
size_t halfEdits(std::string_view a, std::string_view b, LetterCase letterCase) {
  const size_t caseCost = letterCase == LetterCase::kFree ? 0 : 1;
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = 2 * j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = 2 * i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t swap = a[i - 1] == b[j - 1]                     ? 0
                          : lowered(a[i - 1]) == lowered(b[j - 1]) ? caseCost
                                                                   : 2;
      cur[j] = std::min({prev[j] + 2, cur[j - 1] + 2, prev[j - 1] + swap});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

template <class Names>
std::string nearestOf(std::string_view word, const Names& known, LetterCase letterCase) {
  std::string_view best;
  size_t bestDistance = SIZE_MAX;
  for (const auto& k : known) {
    const size_t d = halfEdits(word, k, letterCase);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  // Close enough to be a typo: a third of the word (at least two edits).
  if (!best.empty() && bestDistance <= 2 * std::max<size_t>(2, word.size() / 3))
    return std::string(best);
  // Or one contains the other ("smartlock" for "smartlocks" is caught above; "code" for
  // "codes" too): a prefix or suffix of three letters or more.
  std::string w(word);
  std::transform(w.begin(), w.end(), w.begin(), lowered);
  for (const auto& k : known) {
    std::string n(k);
    std::transform(n.begin(), n.end(), n.begin(), lowered);
    if (w.size() >= 3 && (n.find(w) != std::string::npos || w.find(n) != std::string::npos))
      return std::string(k);
  }
  return "";
}

}  // namespace

std::string JsonSyntaxError::text() const {
  if (line == 0) return what;
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what;
}

std::optional<nlohmann::json> parseJson(std::string_view text, JsonSyntaxError& error,
                                        const nlohmann::json::parser_callback_t& callback) {
  error = {};
  try {
    return nlohmann::json::parse(text.begin(), text.end(), callback, true, false);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte counts from 1 and names the byte where the parser stopped.
    const size_t stop = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    error.line = 1;
    error.column = 1;
    for (size_t i = 0; i < stop; ++i) {
      if (text[i] == '\n') {
        ++error.line;
        error.column = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        ++error.column;
      }
    }
    error.what = e.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error …":
    // keep what follows the position, which nlohmann counts differently.
    if (auto pos = error.what.find("syntax error"); pos != std::string::npos)
      error.what = error.what.substr(pos);
    return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    // Found by fuzzing: a number no double holds ("1e999") is an out_of_range, not a
    // parse_error, and has no place: still bad input.
    error.what = e.what();
    if (auto pos = error.what.find("] "); pos != std::string::npos)
      error.what = error.what.substr(pos + 2);
    return std::nullopt;
  }
}

std::optional<nlohmann::json> parseJsonText(std::string_view text, std::string& error) {
  JsonSyntaxError why;
  auto parsed = parseJson(text, why);
  if (!parsed) error = why.text();
  return parsed;
}

std::string nearestName(std::string_view word, const std::vector<std::string_view>& known,
                        LetterCase letterCase) {
  return nearestOf(word, known, letterCase);
}

std::string nearestName(std::string_view word, const std::vector<std::string>& known,
                        LetterCase letterCase) {
  return nearestOf(word, known, letterCase);
}

std::string unknownField(const nlohmann::json& j, const std::string& path,
                         const std::vector<std::string_view>& known) {
  if (!j.is_object()) return "";
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const std::string near = nearestName(key, known);
    // A long key is shown cut, at a character boundary (the answer must stay UTF-8).
    std::string shown = key;
    if (shown.size() > 64) {
      size_t cut = 64;
      while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80)
        --cut;
      shown = shown.substr(0, cut) + "…";
    }
    return (path.empty() ? "" : path + ": ") + "unknown field '" + shown + "'" +
           (near.empty() ? "" : " (" + near + "?)");
  }
  return "";
}

}  // namespace nukihil
