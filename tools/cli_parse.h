// The tools' one exit-code convention for their command lines (README "Exit codes"): --help
// exits 0, every argument error exits 2 — CLI11's own codes (104–109) never leak out.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

namespace nukihil::tools {

// Parses the command line. nullopt: go on. Otherwise the tool returns this code from main():
// 0 after --help (printed on stdout), 2 after an argument error (explained on stderr).
inline std::optional<int> parseArguments(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace nukihil::tools
