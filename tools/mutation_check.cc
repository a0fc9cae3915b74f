// mutation-check: applies small adapter bugs (tools/mutation-check/mutations.json) one at a
// time to a copy of the sources, rebuilds `nukihil` and runs `nukihil explore` on each, and
// reports which bugs exploration catches (with the rule it names and the size of the shrunk
// case) and which it misses. The sources themselves are never touched.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command, its output into `log`; returns its exit status.
int run(const std::string& command, const fs::path& log) {
  const int rc = std::system((command + " >" + quote(log.string()) + " 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// The sources without build trees and version control.
void copySources(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    const std::string name = e.path().filename().string();
    if (name == "build" || name == ".git" || name.rfind("build-", 0) == 0) continue;
    fs::copy(e.path(), to / name,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
}

struct Outcome {
  std::string result;  // "caught", "missed", "did not compile", "not applicable"
  std::string rule;    // the rule exploration named
  std::string property;
  int atCase = 0;
  int shrunk = -1;
  double seconds = 0;
};

Outcome explore(const fs::path& nukihil, const json& m, uint64_t seed, int cases,
                const fs::path& work) {
  Outcome o;
  const fs::path log = work / "explore.log";
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = run(quote(nukihil.string()) + " explore --seed " + std::to_string(seed) +
                         " --cases " + std::to_string(cases) + " --shrink-seconds 60 --out " +
                         quote((work / "failure").string()),
                     log);
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string out = slurp(log);
  std::smatch match;
  if (std::regex_search(out, match,
                        std::regex(R"(FAILED \((\w+)\) in case (\d+): (R-[A-Z-]+|\S+))"))) {
    o.property = match[1];
    o.atCase = std::stoi(match[2]);
    o.rule = match[3];
  }
  if (std::regex_search(out, match, std::regex(R"(to (\d+) fault-phase steps)")))
    o.shrunk = std::stoi(match[1]);
  // Caught: a failure explore found, shrunk and replayed. Any other exit 1 is explore's own.
  const bool found =
      out.find("FAILED (") != std::string::npos && out.find(": fails again") != std::string::npos;
  o.result = rc == 1 && found ? "caught"
             : rc == 0        ? "missed"
                              : "explore error (exit " + std::to_string(rc) + ")";
  (void)m;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mutation-check: plants each adapter bug of the mutations file, one at a time, in a copy "
      "of the sources, rebuilds nukihil and runs `nukihil explore` against it; reports which "
      "bugs exploration catches and which it misses (a Markdown table, and the score).",
      "mutation-check"};
  std::string source = ".", mutations, workDir = "build/mutation", report, only;
  uint64_t seed = 1;
  int cases = 300;
  app.add_option("--source", source, "the repository's root")->capture_default_str();
  app.add_option("--mutations", mutations,
                 "the mutations file (default: <source>/tools/mutation-check/mutations.json)");
  app.add_option("--work", workDir, "where the copy is built")->capture_default_str();
  app.add_option("--seed", seed, "explore's seed")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--cases", cases, "explore's budget per bug")->capture_default_str();
  app.add_option("--report", report, "also write the Markdown report here");
  app.add_option("--only", only, "only the mutation with this id");
  CLI11_PARSE(app, argc, argv);
  if (mutations.empty())
    mutations = (fs::path(source) / "tools/mutation-check/mutations.json").string();

  json file;
  try {
    file = json::parse(slurp(mutations));
  } catch (const std::exception& e) {
    std::cerr << "mutation-check: " << mutations << ": " << e.what() << "\n";
    return 2;
  }
  const fs::path work = fs::absolute(workDir);
  const fs::path src = work / "src", obj = work / "obj";
  std::cerr << "copying the sources to " << src << "\n";
  fs::remove_all(src);
  copySources(fs::absolute(source), src);
  fs::create_directories(obj);
  const std::string build = "cmake --build " + quote(obj.string()) + " --target nukihil -j2";
  if (run("cmake -S " + quote(src.string()) + " -B " + quote(obj.string()) +
              " -DCMAKE_BUILD_TYPE=Release -DNUKIHIL_BUILD_TESTS=OFF",
          work / "configure.log") != 0) {
    std::cerr << "mutation-check: configure failed, see " << (work / "configure.log") << "\n";
    return 1;
  }
  const fs::path nukihil = obj / "tools/nukihil";

  std::cerr << "baseline: building and exploring the adapter as it is\n";
  if (run(build, work / "build.log") != 0) {
    std::cerr << "mutation-check: the unmutated sources do not build, see " << (work / "build.log")
              << "\n";
    return 1;
  }
  fs::create_directories(work / "baseline");
  const Outcome base = explore(nukihil, json(), seed, cases, work / "baseline");
  // The adapter as it is may fail exploration itself (a bug not fixed yet): a mutant is then
  // caught only if exploration fails on it sooner, or naming another rule.
  const bool baseFails = base.result == "caught";
  if (baseFails)
    std::cerr << "note: the adapter as it is fails exploration in case " << base.atCase << " ("
              << base.rule << "); a mutant counts as caught if it fails sooner or otherwise\n";
  else if (base.result != "missed") {
    std::cerr << "mutation-check: exploring the adapter as it is did not finish, see "
              << (work / "baseline/explore.log") << "\n";
    return 1;
  }

  std::ostringstream table;
  table << "| id | rule | bug | result | rule named | case | shrunk steps |\n"
        << "|---|---|---|---|---|---|---|\n";
  int caught = 0, total = 0;
  std::map<std::string, int> perRule, perRuleCaught;
  for (const auto& m : file.at("mutations")) {
    const std::string id = m.at("id");
    if (!only.empty() && id != only) continue;
    const fs::path target = src / m.at("file").get<std::string>();
    const std::string original = slurp(fs::path(source) / m.at("file").get<std::string>());
    const std::string find = m.at("find"), replace = m.at("replace");
    Outcome o;
    const fs::path dir = work / "mutants" / id;
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::cerr << "[" << id << "] " << m.value("bug", "") << "\n";
    if (count(original, find) != 1) {
      o.result = "not applicable (the text to change occurs " +
                 std::to_string(count(original, find)) + " times)";
    } else {
      std::string mutated = original;
      mutated.replace(mutated.find(find), find.size(), replace);
      spit(target, mutated);
      if (run(build, dir / "build.log") != 0)
        o.result = "did not compile";
      else
        o = explore(nukihil, m, seed, cases, dir);
      if (baseFails && o.result == "caught" && o.atCase >= base.atCase && o.rule == base.rule)
        o.result = "missed (fails as the adapter as it is does)";
      spit(target, original);
    }
    ++total;
    const std::string rule = m.value("rule", "?");
    ++perRule[rule];
    if (o.result == "caught") {
      ++caught;
      ++perRuleCaught[rule];
    }
    std::cerr << "    " << o.result << (o.rule.empty() ? "" : " as " + o.rule)
              << (o.atCase ? " in case " + std::to_string(o.atCase) : "")
              << (o.shrunk >= 0 ? ", shrunk to " + std::to_string(o.shrunk) + " steps" : "") << " ("
              << int(o.seconds) << " s)\n";
    table << "| " << id << " | " << rule << " | " << m.value("bug", "") << " | " << o.result
          << " | " << o.rule << " | " << (o.atCase ? std::to_string(o.atCase) : "") << " | "
          << (o.shrunk >= 0 ? std::to_string(o.shrunk) : "") << " |\n";
  }
  // Rebuild the copy as it was, so a later run starts from the baseline.
  run(build, work / "build.log");
  std::ostringstream md;
  md << "# Mutation check\n\n`nukihil explore --seed " << seed << " --cases " << cases
     << "` against each planted adapter bug.";
  if (baseFails)
    md << " The adapter as it is fails in case " << base.atCase << " (" << base.rule
       << "): a mutant counts as caught when it fails sooner or naming another rule.";
  md << "\n\n**Score: " << caught << " of " << total << " caught.**\n\n"
     << table.str() << "\nPer rule (caught / planted):";
  for (const auto& [rule, n] : perRule)
    md << " " << rule << " " << perRuleCaught[rule] << "/" << n << ";";
  md << "\n";
  std::cout << md.str();
  if (!report.empty()) spit(report, md.str());
  return 0;
}
