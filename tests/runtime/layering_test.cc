// DESIGN.md's arrows. The build enforces them through include roots: a component's target sees
// the headers of what it links and nothing else (nukihil_include_root in CMakeLists.txt), which
// the second test checks by compiling against each target's roots. The first checks the finer
// rules on the sources: the scenarios runner may include only the simulator's and adapter's
// public assemblies, not everything it links.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
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
    // The runner embeds the simulator and the adapter through their public assemblies; the
    // fault proxy in front of the real Nuki Web takes nukisim's fault JSON, read by the same
    // parser, and answers in Nuki Web's error format.
    {"scenarios",
     {"runtime", "scenarios/model", "simulator/server.h", "adapter/service.h",
      "simulator/journal.h", "simulator/faults.h", "simulator/nuki_json.h"}},
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

// Compiles `#include "<header>"` with `roots` (folders under the build's include_roots/) as the
// only include path: 0 if it compiles, with the compiler's output.
std::pair<int, std::string> compileWith(const std::vector<std::string>& roots,
                                        const std::string& header) {
  const fs::path dir =
      fs::temp_directory_path() / ("nukihil-layering-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "probe.cc";
  std::ofstream(file) << "#include \"" << header << "\"\nint main() { return 0; }\n";
  std::string cmd = std::string(NUKIHIL_CXX) + " -std=c++20 -fsyntax-only";
  for (const auto& r : roots)
    cmd += " -I" + (fs::path(NUKIHIL_INCLUDE_ROOTS) / r).string();
  cmd += " " + file.string() + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  const int status = ::pclose(p);
  fs::remove_all(dir);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(Layering, EachTargetSeesOnlyTheHeadersOfWhatItLinks) {
  const std::vector<std::string> runtime = {"nukihil_runtime"};
  const std::vector<std::string> simulator = {"nukihil_simulator", "nukihil_runtime"};
  const std::vector<std::string> adapter = {"nukihil_adapter", "nukihil_runtime"};
  struct Case {
    const std::vector<std::string>& roots;
    const char* header;
    bool visible;
  };
  for (const Case& c : std::vector<Case>{{runtime, "runtime/time.h", true},
                                         {runtime, "simulator/world.h", false},
                                         {runtime, "adapter/adapter.h", false},
                                         {simulator, "simulator/world.h", true},
                                         {simulator, "adapter/nuki_codec.h", false},
                                         {simulator, "scenarios/runner.h", false},
                                         {adapter, "adapter/service.h", true},
                                         {adapter, "simulator/nuki_json.h", false},
                                         {adapter, "tests/support/raw_conn.h", false}}) {
    auto [status, out] = compileWith(c.roots, c.header);
    if (c.visible) {
      EXPECT_EQ(status, 0) << c.header << ": " << out;
    } else {
      EXPECT_NE(status, 0) << c.header << " is visible to " << c.roots.front();
      EXPECT_NE(out.find("No such file"), std::string::npos) << out;
    }
  }
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
