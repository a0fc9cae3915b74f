// nuki-adapter: Nuki Smart Lock 3.0 / 3.0 Pro of one Nuki Web account as platform devices
// (SPEC §5), against the real Nuki Web or nukisim.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <iostream>
#include <random>

#include "adapter/adapter.h"
#include "adapter/northbound.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/log.h"

namespace asio = boost::asio;
using namespace nukihil;

namespace {

int fail(const std::string& message) {
  std::cerr << "nuki-adapter: " << message << "\n";
  return 2;
}

// A flag's value, or the environment variable's when the flag is absent.
std::string fromEnv(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  return v ? v : "";
}

}  // namespace

int main(int argc, char** argv) {
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
  app.add_option("--nuki-token", nukiToken, "Nuki Web API token (or NUKI_TOKEN)");
  app.add_option("--listen", port, "port of the northbound API (0: a free one, printed)")
      ->capture_default_str();
  app.add_option("--address", address, "address to bind")->capture_default_str();
  app.add_option("--api-key", apiKey, "bearer key clients of /v1 must send (or NUKIHIL_API_KEY)");
  app.add_option("--webhook-url", webhookUrl, "the platform's webhook receiver")->required();
  app.add_option("--webhook-secret", webhookSecret,
                 "Standard Webhooks secret, whsec_<base64> (or NUKIHIL_WEBHOOK_SECRET)");
  app.add_option("--db", db, "SQLite database file (created if missing; WAL)")->required();
  app.add_option("--public-url", publicUrl,
                 "where Nuki Web reaches this adapter; registers <public-url>/nuki/webhook "
                 "(without it: polling only)");
  app.add_option("--poll-seconds", pollSeconds, "fallback polling interval")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--ca-file", caFile, "extra trusted CA bundle (PEM) for https")
      ->check(CLI::ExistingFile);
  app.add_flag("-v,--verbose", verbose, "log requests and what the adapter does on stderr");
  CLI11_PARSE(app, argc, argv);
  if (verbose) log::setLevel(log::Level::kInfo);

  nukiToken = fromEnv(nukiToken, "NUKI_TOKEN");
  apiKey = fromEnv(apiKey, "NUKIHIL_API_KEY");
  webhookSecret = fromEnv(webhookSecret, "NUKIHIL_WEBHOOK_SECRET");
  if (nukiToken.empty()) return fail("a Nuki Web API token is needed: --nuki-token or NUKI_TOKEN");
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
  std::unique_ptr<adapter::Db> database;
  try {
    database = std::make_unique<adapter::Db>(db);
  } catch (const std::exception& e) {
    return fail("cannot open the database " + db + ": " + e.what());
  }
  http::ClientOptions co;
  co.caFile = caFile;
  co.userAgent = "nuki-adapter";
  std::unique_ptr<http::HttpClient> client;
  try {
    client = std::make_unique<http::HttpClient>(io, co);
  } catch (const std::exception& e) {
    return fail(std::string("TLS setup failed (--ca-file?): ") + e.what());
  }
  adapter::Outbox::Options oo;
  oo.url = webhookUrl;
  oo.secret = *secret;
  adapter::Outbox outbox(*database, clock, *client, random, oo);
  adapter::NukiClient::Options no;
  no.baseUrl = nukiUrl;
  no.token = nukiToken;
  adapter::NukiClient nuki(*client, clock, random, no);
  adapter::Adapter::Options ao;
  ao.publicUrl = publicUrl;
  ao.pollInterval = std::chrono::seconds(pollSeconds);
  if (!std::getenv("NUKIHIL_NO_GROUP_COMMIT"))
    ao.post = [&io](std::function<void()> f) { asio::post(io, std::move(f)); };
  adapter::OutboxSink sink(outbox);
  std::unique_ptr<adapter::Adapter> core;
  try {
    core = std::make_unique<adapter::Adapter>(*database, clock, nuki, sink, random, ao);
  } catch (const std::exception& e) {
    return fail("cannot load the saved state from " + db + ": " + e.what());
  }
  adapter::Northbound api(*core, outbox, apiKey);

  http::ServerOptions so;
  so.address = address;
  so.port = port;
  so.serverName = "nuki-adapter";
  so.bodyLimit = 64 * 1024;
  so.errorResponse = [](int status, std::string_view, std::string_view why) {
    return adapter::Northbound::transportError(status, why);
  };
  http::HttpServer server(io, so, [&api, verbose](http::Request& req, http::Respond respond) {
    if (verbose) {
      respond = [respond, line = req.method + " " + std::string(req.path())](http::Response r) {
        log::info(line + " -> " + std::to_string(r.status));
        respond(std::move(r));
      };
    }
    api.handle(req, std::move(respond));
  });
  try {
    server.start();
  } catch (const std::exception& e) {
    return fail("cannot listen on " + address + ":" + std::to_string(port) + ": " + e.what());
  }
  nlohmann::json banner{{"url", "http://" + address + ":" + std::to_string(server.port())},
                        {"nukiUrl", nukiUrl},
                        {"publicUrl", publicUrl},
                        {"webhookUrl", webhookUrl},
                        {"db", db}};
  std::cout << banner.dump() << std::endl;
  outbox.start();
  core->start([](const std::string& error) {
    if (error.empty())
      log::info("adapter: devices discovered");
    else
      std::cerr << "nuki-adapter: first discovery failed (" << error << "); retrying by polling\n";
  });

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::cerr << "nuki-adapter: shutting down\n";
    server.stop([&io] { io.stop(); });
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(5));
    timer->async_wait([&io, timer](const boost::system::error_code& tec) {
      if (!tec) io.stop();
    });
  });
  io.run();
  return 0;
}
