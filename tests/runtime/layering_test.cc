// DESIGN.md's arrows, checked on the sources: which folder may include which. The build enforces
// most of them through its targets; this test catches an include that only happens to compile
// (a header found through a wider include path than the component should have).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#ifndef NUKIHIL_SOURCE_DIR
#error "NUKIHIL_SOURCE_DIR must name the source tree"
#endif

namespace {

namespace fs = std::filesystem;

// The component of a project path: "scenarios/model" is one of its own.
std::string componentOf(const std::string& path) {
  if (path.rfind("scenarios/model/", 0) == 0) return "scenarios/model";
  return path.substr(0, path.find('/'));
}

// What each component may include (besides itself); everything else is an arrow DESIGN.md
// forbids. The scenarios runner embeds the simulator and the adapter only through their
// public assemblies (sim::Server, adapter::Service) and nukisim's journal records.
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"runtime", {}},
    {"simulator", {"runtime"}},
    {"adapter", {"runtime"}},
    {"scenarios/model", {"runtime"}},
    {"scenarios",
     {"runtime", "scenarios/model", "simulator/server.h", "adapter/service.h",
      "simulator/journal.h"}},
};

bool allowed(const std::string& from, const std::string& included) {
  const std::string to = componentOf(included);
  if (to == from) return true;
  const auto& ok = kAllowed.at(from);
  return ok.count(to) > 0 || ok.count(included) > 0;
}

TEST(Layering, NoFileIncludesAcrossAnArrowDesignForbids) {
  const fs::path root = NUKIHIL_SOURCE_DIR;
  const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> broken;
  size_t files = 0;
  for (const auto& dir : {"runtime", "simulator", "adapter", "scenarios"}) {
    for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".h" && ext != ".cc")) continue;
      ++files;
      const std::string rel = fs::relative(e.path(), root).generic_string();
      const std::string from = componentOf(rel);
      std::ifstream in(e.path());
      std::string line;
      int n = 0;
      while (std::getline(in, line)) {
        ++n;
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const std::string inc = m[1];
        if (inc.find('/') == std::string::npos) continue;  // a local header of its own folder
        if (!allowed(from, inc))
          broken.push_back(rel + ":" + std::to_string(n) + ": includes " + inc);
      }
    }
  }
  EXPECT_GT(files, 50u) << "the source tree was not found at " << root;
  for (const auto& b : broken)
    ADD_FAILURE() << b;
}

// The check itself has teeth: the arrows it must refuse.
TEST(Layering, TheCheckRefusesTheForbiddenArrows) {
  EXPECT_FALSE(allowed("simulator", "adapter/nuki_codec.h"));
  EXPECT_FALSE(allowed("adapter", "simulator/nuki_json.h"));
  EXPECT_FALSE(allowed("runtime", "simulator/world.h"));
  EXPECT_FALSE(allowed("scenarios/model", "simulator/journal.h"));
  EXPECT_FALSE(allowed("scenarios/model", "scenarios/checker.h"));
  EXPECT_FALSE(allowed("scenarios", "adapter/adapter.h"));
  EXPECT_FALSE(allowed("scenarios", "tests/support/raw_conn.h"));
  EXPECT_TRUE(allowed("scenarios", "adapter/service.h"));
  EXPECT_TRUE(allowed("adapter", "runtime/http.h"));
}

}  // namespace
