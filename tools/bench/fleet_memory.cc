// bench-fleet-memory: does a fleet of 100,000 locks with 100 keypad codes each fit in 2 GiB?
// Builds the fleet through Simulator::loadFleet ({"generate": …}) on a VirtualClock, without
// HTTP, reads VmRSS and VmHWM from /proc/self/status, then advances the virtual clock by one
// day (every lock runs its daily sync once) and reads them again.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "simulator/simulator.h"

using namespace nukihil;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kLimitMiB = 2048.0;  // 2 GiB

struct Memory {
  double rssMiB = 0;
  double hwmMiB = 0;
  double heapInUseMiB = 0;  // malloc's view: bytes handed out and not freed
  double heapFreeMiB = 0;   // freed but kept by malloc
};

double statusKiB(const std::string& text, const std::string& key) {
  const auto at = text.find(key + ":");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size() + 1));
}

Memory readMemory() {
  std::ifstream in("/proc/self/status");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Memory m;
  m.rssMiB = statusKiB(text, "VmRSS") / 1024.0;
  m.hwmMiB = statusKiB(text, "VmHWM") / 1024.0;
  const struct mallinfo2 mi = mallinfo2();
  m.heapInUseMiB = double(mi.uordblks + mi.hblkhd) / kMiB;
  m.heapFreeMiB = double(mi.fordblks) / kMiB;
  return m;
}

void printMemory(const char* when, const Memory& m) {
  std::printf(
      "%-28s VmRSS %8.1f MiB   VmHWM %8.1f MiB   (malloc: %8.1f MiB in use, %6.1f MiB free)\n",
      when, m.rssMiB, m.hwmMiB, m.heapInUseMiB, m.heapFreeMiB);
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench-fleet-memory: generates a fleet (one account, N locks of model 3.0 Pro with M keypad "
      "codes each) through Simulator::loadFleet on a virtual clock, then runs one daily sync of "
      "every lock (the clock advances one day), and reports resident memory (VmRSS, peak VmHWM) "
      "against the 2 GiB target. Exit status 1 if the peak is over 2 GiB.",
      "bench-fleet-memory"};
  int64_t locks = 100000;
  int64_t codes = 100;
  uint64_t seed = 1;
  app.add_option("--locks", locks, "number of locks")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)))
      ->capture_default_str();
  app.add_option("--codes", codes, "keypad codes per lock (0..100)")
      ->check(CLI::Range(int64_t(0), int64_t(100)))
      ->capture_default_str();
  app.add_option("--seed", seed, "seed of the world")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("fleet: %lld locks x %lld codes = %lld codes; seed %llu\n",
              static_cast<long long>(locks), static_cast<long long>(codes),
              static_cast<long long>(locks * codes), static_cast<unsigned long long>(seed));
  std::printf(
      "record sizes: Lock %zu B, Auth %zu B (+ malloc header), AuthRef %zu B, Command %zu B, "
      "LogEntry %zu B\n",
      sizeof(sim::Lock), sizeof(sim::Auth), sizeof(sim::AuthRef), sizeof(sim::Command),
      sizeof(sim::LogEntry));
  printMemory("at start:", readMemory());

  VirtualClock clock;
  sim::SimulatorOptions options;
  options.seed = seed;
  sim::Simulator simulator(clock, nullptr, options);
  const nlohmann::json fleet = {
      {"generate", {{"accounts", 1}, {"locksPerAccount", locks}, {"codesPerLock", codes}}}};

  const auto t0 = std::chrono::steady_clock::now();
  if (auto e = simulator.loadFleet(fleet)) {
    std::cerr << "bench-fleet-memory: loadFleet failed: " << e.message << "\n";
    return 2;
  }
  const double generateSeconds = secondsSince(t0);
  const Memory afterGenerate = readMemory();
  std::printf("generated in %.2f s (%zu locks, %zu scheduled events)\n", generateSeconds,
              simulator.world().locks().size(), simulator.scheduler().size());
  printMemory("after generation:", afterGenerate);
  if (locks * codes > 0) {
    std::printf("  per code (whole process): %.0f B\n",
                afterGenerate.rssMiB * kMiB / double(locks * codes));
  }
  std::printf("  per lock (whole process): %.0f B\n", afterGenerate.rssMiB * kMiB / double(locks));

  const auto t1 = std::chrono::steady_clock::now();
  clock.advanceBy(std::chrono::hours(24));
  const double syncSeconds = secondsSince(t1);
  const Memory afterSync = readMemory();
  std::printf("one day advanced (every lock synced once) in %.2f s, now %s\n", syncSeconds,
              formatRfc3339(clock.now()).c_str());
  printMemory("after one daily sync:", afterSync);

  const double peak = std::max(afterGenerate.hwmMiB, afterSync.hwmMiB);
  const bool pass = peak <= kLimitMiB;
  std::printf("%s: peak resident %.1f MiB %s 2048 MiB (2 GiB)\n", pass ? "PASS" : "FAIL", peak,
              pass ? "<=" : ">");
  return pass ? 0 : 1;
}
