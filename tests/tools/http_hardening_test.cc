// The two servers as a hostile client meets them (issue 8): the real nukisim and nuki-adapter
// binaries, spoken to in raw bytes. Request smuggling through transfer codings, a 413 a client
// writing its whole body first must still read, large bodies only for the authenticated,
// invalid UTF-8 echoed back, and RFC 9112's Host and absolute-form rules.
//
// NUKIHIL_TEST_NUKISIM and NUKIHIL_TEST_ADAPTER run the same checks against other builds of
// the two binaries (e.g. an older release, to see these tests fail on it).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/blocking_client.h"
#include "scenarios/child_process.h"
#include "tests/support/raw_conn.h"

namespace nukihil::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
constexpr const char* kAdmin = "adm-token-0123456789";
constexpr const char* kApiKey = "hardening-test-key-0123456789";
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string binary(const char* env, const char* fallback) {
  const char* v = std::getenv(env);
  return v && *v ? v : fallback;
}

uint16_t portOf(const std::string& url) {
  return uint16_t(std::atoi(url.c_str() + url.rfind(':') + 1));
}

int statusOf(const std::string& wire) {
  if (wire.rfind("HTTP/1.", 0) != 0 || wire.size() < 12) return 0;
  return std::atoi(wire.substr(9, 3).c_str());
}

std::string bodyOf(const std::string& wire) {
  const auto at = wire.find("\r\n\r\n");
  return at == std::string::npos ? "" : wire.substr(at + 4);
}

struct Answer {
  std::string bytes;
  bool closed = false;
  bool sentAll = false;
  int status() const { return statusOf(bytes); }
};

// One connection: send everything, read until the server closes (bounded).
Answer talk(uint16_t port, const std::string& bytes, milliseconds bound = milliseconds(3000)) {
  RawConn c(port);
  Answer a;
  if (!c.connected()) return a;
  a.sentAll = c.send(bytes);
  a.closed = c.readToClose(bound);
  a.bytes = c.received();
  return a;
}

struct Sim {
  scenarios::ChildProcess process;
  uint16_t port = 0;
  std::string apiToken;
  Sim() {
    const auto banner =
        json::parse(process.start({binary("NUKIHIL_TEST_NUKISIM", NUKISIM_BINARY), "--port", "0",
                                   "--seed", "3", "--admin-token", kAdmin}));
    port = portOf(banner["url"].get<std::string>());
    http::BlockingClient admin("127.0.0.1", port, kAdmin);
    apiToken = json::parse(admin.request("POST", "/sim/v1/accounts", R"({"name":"H"})").body)
                   .value("apiToken", "");
  }
  ~Sim() { process.stop(SIGTERM); }
};

// ---- item 5: transfer codings --------------------------------------------------------------

TEST(HttpHardening, NukisimRefusesEveryTransferCodingButChunkedAndRunsNoSmuggledRequest) {
  Sim sim;
  // The smuggled request would create an account; afterwards there must still be one.
  const std::string smuggled =
      "POST /sim/v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kAdmin) +
      "\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"name\":\"S\"}\n";
  for (const std::string te : {"xchunked", "identity", "chunked, identity", "gzip, chunked"}) {
    SCOPED_TRACE(te);
    const auto a =
        talk(sim.port,
             "POST /sim/v1/accounts HTTP/1.1\r\nHost: x\r\n"
             "Authorization: Bearer " +
                 std::string(kAdmin) + "\r\nTransfer-Encoding: " + te + "\r\n\r\n" + smuggled);
    EXPECT_TRUE(a.status() == 501 || a.status() == 400) << a.bytes;
    EXPECT_TRUE(a.closed);
    EXPECT_EQ(a.bytes.find("HTTP/1.1", 1), std::string::npos) << "a second answer: " << a.bytes;
  }
  http::BlockingClient admin("127.0.0.1", sim.port, kAdmin);
  const auto accounts = json::parse(admin.request("GET", "/sim/v1/accounts").body);
  EXPECT_EQ(accounts.size(), 1u) << accounts.dump();
}

// ---- item 6: the 413 a client writing its whole body first still reads ---------------------

TEST(HttpHardening, NukisimsA413IsReadByAClientThatSendsItsWholeBodyFirst) {
  Sim sim;
  const std::string body(16 * 1024 * 1024, 'x');
  const auto a = talk(sim.port,
                      "POST /smartlock/1/action HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer " +
                          sim.apiToken + "\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body);
  EXPECT_TRUE(a.sentAll);
  EXPECT_EQ(a.status(), 413) << a.bytes.size() << " bytes: " << a.bytes.substr(0, 200);
}

// ---- item 7: large bodies only for the authenticated ---------------------------------------

TEST(HttpHardening, NukisimAnswersA401BeforeBufferingAnUnauthenticatedSnapshot) {
  Sim sim;
  // A gigabyte announced, none of it sent: the answer comes at once, from the headers alone.
  const auto a = talk(sim.port,
                      "PUT /sim/v1/snapshot HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      "wrong\r\nContent-Length: 1073741824\r\n\r\n",
                      milliseconds(2000));
  EXPECT_EQ(a.status(), 401) << a.bytes;
  EXPECT_TRUE(a.closed);
  const auto none = talk(sim.port,
                         "PUT /sim/v1/snapshot HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 1073741824\r\n\r\n",
                         milliseconds(2000));
  EXPECT_EQ(none.status(), 401) << none.bytes;
}

// ---- item 9: invalid UTF-8 echoed ------------------------------------------------------------

TEST(HttpHardening, NukisimAnswersInvalidUtf8InPathsAndBodiesWithA4xxInValidJson) {
  Sim sim;
  const std::string auth = "Authorization: Bearer " + sim.apiToken + "\r\n";
  const std::string admin = "Authorization: Bearer " + std::string(kAdmin) + "\r\n";
  const std::vector<std::string> requests = {
      "GET /smartlock/%FF HTTP/1.1\r\nHost: x\r\n" + auth + "Connection: close\r\n\r\n",
      "GET /smartlock/\xff\xfe HTTP/1.1\r\nHost: x\r\n" + auth + "Connection: close\r\n\r\n",
      "GET /smartlock/1/auth/%C3 HTTP/1.1\r\nHost: x\r\n" + auth + "Connection: close\r\n\r\n",
      "GET /sim/v1/smartlocks/%FF HTTP/1.1\r\nHost: x\r\n" + admin + "Connection: close\r\n\r\n",
  };
  for (const auto& r : requests) {
    SCOPED_TRACE(r.substr(0, r.find("\r\n")));
    const auto a = talk(sim.port, r);
    EXPECT_GE(a.status(), 400) << a.bytes;
    EXPECT_LT(a.status(), 500) << a.bytes;
    EXPECT_FALSE(json::parse(bodyOf(a.bytes), nullptr, false).is_discarded()) << a.bytes;
  }
  // A 64-byte cut in the middle of a two-byte character, echoed in an error message.
  const std::string name = std::string(63, 'a') + "\xc3\xa9";
  const std::string body = "{\"name\":\"" + name + "\",\"unknownField\":\"\xff\"}";
  const auto a =
      talk(sim.port, "POST /sim/v1/accounts HTTP/1.1\r\nHost: x\r\n" + admin +
                         "Content-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_LT(a.status(), 500) << a.bytes;
  EXPECT_FALSE(json::parse(bodyOf(a.bytes), nullptr, false).is_discarded()) << a.bytes;
}

// ---- item 10: Host and the absolute form -------------------------------------------------------

TEST(HttpHardening, NukisimFollowsRfc9112OnHostAndTheAbsoluteForm) {
  Sim sim;
  const std::string admin = "Authorization: Bearer " + std::string(kAdmin) + "\r\n";
  EXPECT_EQ(talk(sim.port, "GET /sim/v1/clock HTTP/1.1\r\n" + admin + "\r\n").status(), 400);
  EXPECT_EQ(talk(sim.port, "GET /sim/v1/clock HTTP/1.1\r\nHost: a\r\nHost: b\r\n" + admin + "\r\n")
                .status(),
            400);
  const std::string host = "127.0.0.1:" + std::to_string(sim.port);
  const auto a = talk(sim.port, "GET http://" + host + "/sim/v1/clock HTTP/1.1\r\nHost: " + host +
                                    "\r\n" + admin + "Connection: close\r\n\r\n");
  EXPECT_EQ(a.status(), 200) << a.bytes;
  EXPECT_TRUE(json::parse(bodyOf(a.bytes), nullptr, false).contains("now")) << a.bytes;
}

// ---- the adapter, same rules ----------------------------------------------------------------

struct Adapter {
  Sim sim;
  scenarios::ChildProcess process;
  uint16_t port = 0;
  std::string db = (std::filesystem::temp_directory_path() /
                    ("nukihil-hardening-" + std::to_string(::getpid()) + ".db"))
                       .string();
  Adapter() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(db + suffix);
    ::setenv("NUKI_TOKEN", sim.apiToken.c_str(), 1);
    ::setenv("NUKIHIL_API_KEY", kApiKey, 1);
    ::setenv("NUKIHIL_WEBHOOK_SECRET", kSecret, 1);
    const auto line = json::parse(process.start(
        {binary("NUKIHIL_TEST_ADAPTER", NUKI_ADAPTER_BINARY), "--nuki-url",
         "http://127.0.0.1:" + std::to_string(sim.port), "--listen", "0", "--webhook-url",
         "http://127.0.0.1:1/never", "--db", db, "--poll-seconds", "3600"}));
    port = portOf(line.value("url", ""));
  }
  ~Adapter() {
    process.stop(SIGTERM);
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(db + suffix);
  }
  std::string auth() const { return "Authorization: Bearer " + std::string(kApiKey) + "\r\n"; }
};

TEST(HttpHardening, TheAdapterRunsNoActionSmuggledInABody) {
  Adapter ad;
  ASSERT_NE(ad.port, 0);
  const std::string action = R"({"trait":"LOCK","action":"setLocked","parameters":{"lock":false}})";
  const std::string smuggled =
      "POST /v1/devices/1/actions HTTP/1.1\r\nHost: x\r\n" + ad.auth() +
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(action.size()) +
      "\r\n\r\n" + action;
  for (const std::string te : {"xchunked", "identity", "chunked, identity"}) {
    SCOPED_TRACE(te);
    const auto a = talk(ad.port, "GET /v1/health HTTP/1.1\r\nHost: x\r\n" + ad.auth() +
                                     "Transfer-Encoding: " + te + "\r\n\r\n" + smuggled);
    EXPECT_TRUE(a.status() == 501 || a.status() == 400) << a.bytes;
    EXPECT_EQ(a.bytes.find("HTTP/1.1", 1), std::string::npos) << "a second answer: " << a.bytes;
  }
}

TEST(HttpHardening, TheAdapterAnswersInvalidUtf8AndHostErrorsWithA4xx) {
  Adapter ad;
  ASSERT_NE(ad.port, 0);
  for (const std::string path : {"/v1/devices/%FF", "/v1/devices/\xff", "/v1/actions/%C3%28"}) {
    SCOPED_TRACE(path);
    const auto a = talk(ad.port, "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + ad.auth() +
                                     "Connection: close\r\n\r\n");
    EXPECT_GE(a.status(), 400) << a.bytes;
    EXPECT_LT(a.status(), 500) << a.bytes;
    EXPECT_FALSE(json::parse(bodyOf(a.bytes), nullptr, false).is_discarded()) << a.bytes;
  }
  EXPECT_EQ(talk(ad.port, "GET /v1/health HTTP/1.1\r\n" + ad.auth() + "\r\n").status(), 400);
  const std::string body(256 * 1024, 'x');
  const auto big =
      talk(ad.port, "POST /v1/devices/1/actions HTTP/1.1\r\nHost: x\r\n" + ad.auth() +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(big.status(), 413) << big.bytes.substr(0, 200);
}

}  // namespace
}  // namespace nukihil::test
