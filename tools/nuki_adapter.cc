// nuki-adapter: Nuki Smart Lock 3.0 / 3.0 Pro of one Nuki Web account as platform devices
// (SPEC §5), against the real Nuki Web or nukisim.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "adapter/service.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/log.h"
#include "tools/cli_parse.h"

namespace asio = boost::asio;
using namespace nukihil;

namespace {

// Exit codes (README "Exit codes"): 2 an argument error or a start-up failure, 3 the database
// is owned by another running nuki-adapter (a supervisor should not just start it again).
constexpr int kExitUsage = 2;
constexpr int kExitDatabaseInUse = 3;

int fail(const std::string& message, int code = kExitUsage) {
  std::cerr << "nuki-adapter: " << message << "\n";
  return code;
}

// A flag's value, or the environment variable's when the flag is absent.
std::string fromEnv(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  return v ? v : "";
}

}  // namespace

int main(int argc, char** argv) {
  // As servers do: the soft limit on open files up to the hard one, so that maxConnections
  // (held below it) and the clients' connections have room.
  nukihil::http::raiseOpenFileLimit();
  CLI::App app{
      "nuki-adapter: Nuki Smart Lock 3.0 / 3.0 Pro as platform devices with the traits LOCK, "
      "BATTERY_LEVEL, BETA_PIN_CODE_CREDENTIALS and BETA_CONNECTIVITY, and signed platform "
      "webhooks delivered from a durable outbox.\n\nSecrets may come from the environment "
      "instead of flags: NUKI_TOKEN, NUKIHIL_API_KEY, NUKIHIL_WEBHOOK_SECRET. They never "
      "appear in logs.",
      "nuki-adapter"};
  std::string nukiUrl = "https://api.nuki.io", nukiToken, apiKey, webhookUrl, webhookSecret, db;
  std::string publicUrl, caFile, address = "127.0.0.1";
  uint16_t port = 8090;
  int pollSeconds = 60;
  bool verbose = false;
  app.add_option("--nuki-url", nukiUrl, "Nuki Web base URL (nukisim: http://127.0.0.1:PORT)")
      ->capture_default_str();
  app.add_option("--nuki-token", nukiToken, "Nuki Web API token (or NUKI_TOKEN); required");
  app.add_option("--listen", port, "port of the northbound API (0: a free one, printed)")
      ->capture_default_str();
  app.add_option("--address", address, "address to bind")->capture_default_str();
  app.add_option(
      "--api-key", apiKey,
      "bearer key clients of /v1 must send, 16 characters or more (or NUKIHIL_API_KEY); required");
  app.add_option("--webhook-url", webhookUrl, "the platform's webhook receiver; required");
  app.add_option("--webhook-secret", webhookSecret,
                 "Standard Webhooks secret, whsec_<base64> (or NUKIHIL_WEBHOOK_SECRET); required");
  app.add_option("--db", db,
                 "SQLite database file (created if missing; WAL; one nuki-adapter per file); "
                 "required");
  app.add_option("--public-url", publicUrl,
                 "where Nuki Web reaches this adapter; registers <public-url>/nuki/webhook "
                 "(without it: polling only)");
  app.add_option("--poll-seconds", pollSeconds, "fallback polling interval")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--ca-file", caFile, "extra trusted CA bundle (PEM) for https")
      ->check(CLI::ExistingFile);
  app.add_flag("-v,--verbose", verbose, "log requests and what the adapter does on stderr");
  if (auto code = tools::parseArguments(app, argc, argv)) return *code;
  if (verbose) log::setLevel(log::Level::kInfo);

  nukiToken = fromEnv(nukiToken, "NUKI_TOKEN");
  apiKey = fromEnv(apiKey, "NUKIHIL_API_KEY");
  webhookSecret = fromEnv(webhookSecret, "NUKIHIL_WEBHOOK_SECRET");
  // Every missing flag at once, not one per try.
  std::vector<std::string> missing;
  if (nukiToken.empty()) missing.push_back("--nuki-token (or NUKI_TOKEN)");
  if (apiKey.empty()) missing.push_back("--api-key (or NUKIHIL_API_KEY)");
  if (webhookUrl.empty()) missing.push_back("--webhook-url");
  if (webhookSecret.empty()) missing.push_back("--webhook-secret (or NUKIHIL_WEBHOOK_SECRET)");
  if (db.empty()) missing.push_back("--db");
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing)
      list += "\n  " + m;
    return fail("missing " + std::string(missing.size() == 1 ? "flag" : "flags") + ":" + list +
                "\nRun with --help for more information.");
  }
  if (apiKey.size() < 16)
    return fail("an API key of at least 16 characters is needed: --api-key or NUKIHIL_API_KEY");
  // SPEC §5: the secret is given as whsec_<base64>; a bare key is refused, not guessed at.
  auto secret = webhookSecret.rfind("whsec_", 0) == 0 ? adapter::WebhookSecret::parse(webhookSecret)
                                                      : std::nullopt;
  if (!secret)
    return fail("--webhook-secret must be whsec_<base64> (or set NUKIHIL_WEBHOOK_SECRET)");
  if (!http::Url::parse(webhookUrl))
    return fail("--webhook-url is not an http(s) URL: " + webhookUrl);
  if (!http::Url::parse(nukiUrl)) return fail("--nuki-url is not an http(s) URL: " + nukiUrl);
  if (!publicUrl.empty() && !http::Url::parse(publicUrl))
    return fail("--public-url is not an http(s) URL: " + publicUrl);

  asio::io_context io;
  RealClock clock(io);
  Random random((uint64_t(std::random_device{}()) << 32) ^ std::random_device{}());
  adapter::ServiceOptions options;
  options.dbPath = db;
  options.nukiUrl = nukiUrl;
  options.nukiToken = nukiToken;
  options.apiKey = apiKey;
  options.webhookUrl = webhookUrl;
  options.webhookSecret = *secret;
  options.publicUrl = publicUrl;
  options.pollInterval = std::chrono::seconds(pollSeconds);
  options.caFile = caFile;
  options.address = address;
  options.port = port;
  options.groupCommit = !std::getenv("NUKIHIL_NO_GROUP_COMMIT");
  options.verbose = verbose;
  std::unique_ptr<adapter::Service> service;
  try {
    service = std::make_unique<adapter::Service>(io, clock, random, options);
  } catch (const adapter::ServiceError& e) {
    if (e.step() == adapter::ServiceError::Step::kDatabaseInUse)
      return fail(e.what(), kExitDatabaseInUse);
    if (e.step() == adapter::ServiceError::Step::kHttpClient)
      return fail("TLS setup failed (--ca-file?): " + e.detail());
    return fail(e.what());
  }
  try {
    service->start([](const std::string& error) {
      if (error.empty())
        log::info("adapter: devices discovered");
      else
        std::cerr << "nuki-adapter: first discovery failed (" << error
                  << "); retrying by polling\n";
    });
  } catch (const std::exception& e) {
    return fail("cannot listen on " + address + ":" + std::to_string(port) + ": " + e.what());
  }
  nlohmann::json banner{{"url", service->url()},
                        {"nukiUrl", nukiUrl},
                        {"publicUrl", publicUrl},
                        {"webhookUrl", webhookUrl},
                        {"db", db}};
  std::cout << banner.dump() << std::endl;

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::cerr << "nuki-adapter: shutting down\n";
    service->stop([&io] { io.stop(); });
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(5));
    timer->async_wait([&io, timer](const boost::system::error_code& tec) {
      if (!tec) io.stop();
    });
  });
  io.run();
  return 0;
}
