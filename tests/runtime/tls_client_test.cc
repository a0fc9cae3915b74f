// The HTTP client over TLS, as the adapter talks to https://api.nuki.io: certificate and host
// name verified, an extra CA from --ca-file trusted. The peer is `openssl s_server` with a
// private CA made for the test.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "runtime/http_client.h"

namespace nukihil::http {
namespace {

namespace fs = std::filesystem;

class TlsPeer {
 public:
  TlsPeer() {
    dir_ = fs::temp_directory_path() / ("nukihil-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string d = dir_.string();
    // A CA, and a server certificate for "localhost" signed by it.
    const std::string script =
        "cd " + d +
        " && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=nukihil-test-ca "
        "-keyout ca.key -out ca.pem >/dev/null 2>&1 && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key "
        "-out server.csr >/dev/null 2>&1 && "
        "printf 'subjectAltName=DNS:localhost\\n' > ext.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile ext.cnf -out server.pem >/dev/null 2>&1";
    ok_ = std::system(script.c_str()) == 0;
    if (!ok_) return;
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port_ = a.local_endpoint().port();
    a.close();
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string accept = std::to_string(port_);
      ::execlp("openssl", "openssl", "s_server", "-quiet", "-accept", accept.c_str(), "-cert",
               (d + "/server.pem").c_str(), "-key", (d + "/server.key").c_str(), "-www",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait (real time, bounded) until it accepts connections.
    for (int i = 0; i < 200; ++i) {
      boost::asio::ip::tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
      if (!ec) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ok_ = false;
  }
  ~TlsPeer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }
  std::string ca() const { return (dir_ / "ca.pem").string(); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool ok_ = false;
};

ClientResponse get(const std::string& url, ClientOptions options) {
  boost::asio::io_context io;
  HttpClient client(io, options);
  ClientResponse out;
  bool done = false;
  ClientRequest r;
  r.url = url;
  r.timeout = std::chrono::milliseconds(5000);
  client.send(r, [&](ClientResponse res) {
    out = std::move(res);
    done = true;
  });
  io.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(done);
  return out;
}

TEST(TlsClient, VerifiesTheCertificateAgainstTheGivenCa) {
  TlsPeer peer;
  ASSERT_TRUE(peer.ok()) << "openssl could not make the test CA or start s_server";
  ClientOptions o;
  o.caFile = peer.ca();
  auto r = get("https://localhost:" + std::to_string(peer.port()) + "/", o);
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
}

TEST(TlsClient, RefusesAnUnknownCa) {
  TlsPeer peer;
  ASSERT_TRUE(peer.ok());
  auto r = get("https://localhost:" + std::to_string(peer.port()) + "/", ClientOptions{});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("TLS"), std::string::npos) << r.error;
}

TEST(TlsClient, RefusesACertificateForAnotherHost) {
  TlsPeer peer;
  ASSERT_TRUE(peer.ok());
  ClientOptions o;
  o.caFile = peer.ca();
  // The certificate names localhost, not 127.0.0.1.
  auto r = get("https://127.0.0.1:" + std::to_string(peer.port()) + "/", o);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace nukihil::http
