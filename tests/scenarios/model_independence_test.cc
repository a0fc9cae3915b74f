// The spec model is an independent program of SPEC §6: it must not see, include or link any
// simulator or adapter code (else the checker would compare the code with itself). Checked
// three ways: its sources include only runtime/ and scenarios/model/ headers; with the model
// target's own include path a simulator or adapter header does not even compile; and its
// library references no simulator or adapter symbol.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::string run(const std::string& command, int& status) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  std::array<char, 4096> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), p))
    out.append(buf.data(), n);
  status = ::pclose(p);
  return out;
}

TEST(ModelIndependence, SourcesIncludeOnlyRuntimeAndTheModel) {
  const std::regex include(R"re(#include\s+"([^"]+)")re");
  size_t files = 0;
  for (const auto& e :
       fs::directory_iterator(std::string(NUKIHIL_SOURCE_DIR) + "/scenarios/model")) {
    if (e.path().extension() != ".h" && e.path().extension() != ".cc") continue;
    ++files;
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    for (auto it = std::sregex_iterator(s.begin(), s.end(), include); it != std::sregex_iterator();
         ++it) {
      const std::string header = (*it)[1];
      EXPECT_TRUE(header.rfind("runtime/", 0) == 0 || header.rfind("scenarios/model/", 0) == 0)
          << e.path() << " includes \"" << header << "\"";
    }
  }
  EXPECT_GE(files, 4u);
}

// With the model target's include path, runtime/ headers compile and simulator/ and adapter/
// headers are not there at all.
TEST(ModelIndependence, TheModelTargetCannotSeeSimulatorOrAdapterHeaders) {
  const fs::path dir =
      fs::temp_directory_path() / ("nukihil-model-probe-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto probe = [&](const std::string& header) {
    const fs::path file = dir / "probe.cc";
    std::ofstream(file) << "#include \"" << header << "\"\nint main() { return 0; }\n";
    int status = 0;
    const std::string out = run(std::string(NUKIHIL_CXX) + " -std=c++20 -fsyntax-only " +
                                    NUKIHIL_MODEL_INCLUDES + " " + file.string(),
                                status);
    return std::make_pair(status, out);
  };
  auto [okStatus, okOut] = probe("runtime/time.h");
  EXPECT_EQ(okStatus, 0) << okOut;  // the probe itself works
  auto [okModel, okModelOut] = probe("scenarios/model/spec_model.h");
  EXPECT_EQ(okModel, 0) << okModelOut;
  for (const char* h : {"simulator/world.h", "simulator/simulator.h", "adapter/adapter.h",
                        "adapter/pin_codes.h", "scenarios/runner.h"}) {
    auto [status, out] = probe(h);
    EXPECT_NE(status, 0) << h << " compiled with the model's include path";
    EXPECT_NE(out.find("No such file"), std::string::npos) << out;
  }
  fs::remove_all(dir);
}

TEST(ModelIndependence, TheModelLibraryReferencesNoSimulatorOrAdapterSymbol) {
  int status = 0;
  const std::string symbols = run(std::string("nm -C ") + NUKIHIL_MODEL_LIBRARY, status);
  ASSERT_EQ(status, 0) << symbols;
  EXPECT_NE(symbols.find("nukihil::model::SpecModel"), std::string::npos);  // nm read it
  EXPECT_EQ(symbols.find("nukihil::sim::"), std::string::npos);
  EXPECT_EQ(symbols.find("nukihil::adapter::"), std::string::npos);
}

}  // namespace
