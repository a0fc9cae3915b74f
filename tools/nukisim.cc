// nukisim: the simulated Nuki Web API and its lock fleet, as a server.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "runtime/http_server.h"
#include "runtime/json_input.h"
#include "runtime/log.h"
#include "simulator/server.h"
#include "tools/cli_parse.h"

namespace asio = boost::asio;
using namespace nukihil;

namespace {

int fail(const std::string& message) {
  std::cerr << "nukisim: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // As servers do: the soft limit on open files up to the hard one, so that maxConnections
  // (held below it) and the clients' connections have room.
  nukihil::http::raiseOpenFileLimit();
  CLI::App app{
      "nukisim: a simulated Nuki Web API with a fleet of Nuki Smart Lock 3.0 / 3.0 Pro on "
      "virtual time.\n\nThe Nuki API is served at the root (paths as in Nuki's Swagger), the "
      "control plane under /sim/v1 (admin token). At start one JSON line on stdout tells the "
      "URL, the admin token and the seed.",
      "nukisim"};
  uint16_t port = 8080;
  std::string address = "127.0.0.1";
  std::string adminToken;
  std::optional<uint64_t> seed;
  std::string clockKind = "virtual";
  double timeScale = 1.0;
  std::string start;
  std::string fleetFile;
  bool verbose = false;
  bool ui = false;
  uint32_t motorSeconds = 3, deliverySeconds = 5, unlatchDuration = 3, lngTimeout = 20;
  std::string syncAt = "03:00", zoneName = "UTC";
  size_t journalLimit = 100000;
  int64_t webhookTimeoutMs = 5000;

  app.add_option("--port", port, "TCP port to listen on; 0 takes a free one (reported at start)")
      ->capture_default_str();
  app.add_option("--address", address, "address to bind")->capture_default_str();
  app.add_option("--admin-token", adminToken,
                 "bearer token for the control plane /sim/v1 (default: derived from the seed)");
  app.add_option("--seed", seed,
                 "seed of the world's random numbers (default: a fresh one, printed)")
      ->check(CLI::NonNegativeNumber);
  app.add_option(
         "--clock", clockKind,
         "virtual: time moves only through POST /sim/v1/clock/advance; real: wall-clock time")
      ->check(CLI::IsMember({"virtual", "real"}))
      ->capture_default_str();
  auto* scaleOpt = app.add_option("--time-scale", timeScale,
                                  "with --clock real: virtual seconds per real second")
                       ->check(CLI::Range(0.001, 1e6))
                       ->capture_default_str();
  app.add_option(
      "--start", start,
      "virtual start time, RFC 3339 (default 2025-01-01T00:00:00Z; with --clock real: now)");
  app.add_option("--fleet", fleetFile, "fleet file (JSON: accounts, locks, codes or generate)")
      ->check(CLI::ExistingFile);
  app.add_flag("-v,--verbose", verbose, "log one line per request on stderr");
  app.add_flag("--ui", ui,
               "serve the dashboard at /sim/ui: the fleet in the browser, sign in with the admin "
               "token (its URL is printed at start)");
  app.add_option("--motor-seconds", motorSeconds, "default motor time per action")
      ->capture_default_str();
  app.add_option("--delivery-seconds", deliverySeconds,
                 "default delay before an auth change reaches an online lock")
      ->capture_default_str();
  app.add_option("--unlatch-duration", unlatchDuration, "default seconds a lock stays unlatched")
      ->capture_default_str();
  app.add_option("--lng-timeout", lngTimeout, "default lock'n'go timeout in seconds")
      ->capture_default_str();
  app.add_option("--sync-at", syncAt, "default local time of the daily sync, HH:MM")
      ->capture_default_str();
  app.add_option("--timezone", zoneName, "default IANA time zone of new locks")
      ->capture_default_str();
  app.add_option("--journal-limit", journalLimit, "entries kept in GET /sim/v1/journal")
      ->capture_default_str();
  app.add_option("--webhook-timeout-ms", webhookTimeoutMs,
                 "real-time timeout of one webhook delivery")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  if (auto code = tools::parseArguments(app, argc, argv)) return *code;
  if (scaleOpt->count() > 0 && clockKind != "real") {
    std::cerr << "nukisim: --time-scale needs --clock real (a virtual clock moves only when "
                 "advanced)\n";
    return 2;
  }
  if (verbose) log::setLevel(log::Level::kInfo);

  sim::SimulatorOptions options;
  if (!seed) seed = (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  options.seed = *seed;
  options.adminToken = adminToken;
  options.journalLimit = journalLimit;
  options.logRequests = verbose;
  options.ui = ui;
  options.webhooks.timeout = std::chrono::milliseconds(webhookTimeoutMs);
  options.lockDefaults.motorSeconds = motorSeconds;
  options.lockDefaults.deliverySeconds = deliverySeconds;
  options.lockDefaults.unlatchDuration = unlatchDuration;
  options.lockDefaults.lngTimeout = lngTimeout;
  if (!sim::validUnlatchDuration(unlatchDuration))
    return fail("--unlatch-duration must be one of 1, 3, 5, 7, 10, 15, 20, 30 (Nuki's values)");
  if (!sim::validLngTimeout(lngTimeout))
    return fail("--lng-timeout must be one of 5, 10, 15, 20, 30, 45, 60 (Nuki's values)");
  if (syncAt.size() != 5 || syncAt[2] != ':' || !std::isdigit(syncAt[0]) ||
      !std::isdigit(syncAt[1]) || !std::isdigit(syncAt[3]) || !std::isdigit(syncAt[4]) ||
      std::stoi(syncAt.substr(0, 2)) > 23 || std::stoi(syncAt.substr(3)) > 59)
    return fail("--sync-at must be HH:MM, got '" + syncAt + "'");
  options.lockDefaults.syncAtMinute =
      uint16_t(std::stoi(syncAt.substr(0, 2)) * 60 + std::stoi(syncAt.substr(3)));
  options.lockDefaults.timeZone = TimeZone::find(zoneName);
  if (!options.lockDefaults.timeZone)
    return fail("--timezone: no IANA time zone named '" + zoneName + "'");

  std::optional<Time> startTime;
  if (!start.empty()) {
    startTime = parseRfc3339(start);
    if (!startTime) return fail("--start must be an RFC 3339 date-time, got '" + start + "'");
    if (*startTime < kEarliestTime || *startTime >= kLatestTime)
      return fail("--start must lie between 2000 and 2037 (the tz rules are exact only that far)");
  }

  asio::io_context io;
  std::unique_ptr<Clock> clock;
  if (clockKind == "virtual") {
    clock = std::make_unique<VirtualClock>(startTime.value_or(VirtualClock::kDefaultStart));
  } else if (startTime) {
    clock = std::make_unique<RealClock>(io, *startTime, timeScale);
  } else {
    clock = std::make_unique<RealClock>(io, timeScale);
  }

  sim::ServerOptions serverOptions;
  serverOptions.simulator = options;
  serverOptions.address = address;
  serverOptions.port = port;
  sim::Server server(io, *clock, serverOptions);
  sim::Simulator& simulator = server.simulator();

  if (!fleetFile.empty()) {
    std::ifstream in(fleetFile);
    std::stringstream text;
    text << in.rdbuf();
    std::string why;
    auto fleet = parseJsonText(text.str(), why);
    if (!fleet) return fail(fleetFile + ": not valid JSON: " + why);
    if (auto e = simulator.loadFleet(*fleet)) return fail(fleetFile + ": " + e.message);
  }

  try {
    server.start();
  } catch (const std::exception& e) {
    return fail("cannot listen on " + address + ":" + std::to_string(port) + ": " + e.what());
  }

  nlohmann::json banner;
  const std::string url = server.url();
  banner["url"] = url;
  banner["controlPlane"] = url + "/sim/v1";
  if (ui) banner["dashboard"] = url + "/sim/ui";
  banner["adminToken"] = simulator.adminToken();
  banner["seed"] = simulator.seed();
  banner["clock"] = clockKind;
  banner["now"] = formatRfc3339(clock->now());
  nlohmann::json accounts = nlohmann::json::array();
  for (const auto& a : simulator.world().accounts()) {
    if (accounts.size() >= 10) break;
    accounts.push_back({{"accountId", a.accountId},
                        {"name", a.name},
                        {"apiToken", a.apiToken},
                        {"smartlocks", a.locks.size()}});
  }
  banner["accounts"] = accounts;
  banner["smartlocks"] = simulator.world().locks().size();
  std::cout << banner.dump() << std::endl;
  if (ui) {
    std::cerr << "nukisim: the dashboard is at " << url
              << "/sim/ui (sign in with the admin token above)\n";
  }
  if (verbose) {
    std::cerr << "nukisim listening on " << url << " (seed " << simulator.seed() << ", "
              << clockKind << " clock); stop with Ctrl-C\n";
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    std::cerr << "nukisim: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down\n";
    server.stop([&io] { io.stop(); });
    // Connections that do not finish within 5 s are cut.
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(5));
    timer->async_wait([&io, timer](const boost::system::error_code& tec) {
      if (!tec) io.stop();
    });
  });
  io.run();
  return 0;
}
