// Test support: a real nukisim (sim::Server, as the nukisim tool builds it, with shorter
// timeouts) on a loopback port, running on its own thread, plus a blocking HTTP client and a
// webhook receiver, for tests that talk to the simulator as a user would.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/blocking_client.h"
#include "runtime/clock.h"
#include "runtime/run_on.h"
#include "simulator/simulator.h"

namespace nukihil::test {

struct HttpResult : http::BlockingResponse {
  nlohmann::json json() const;
};

// A blocking HTTP/1.1 client with one keep-alive connection (reconnects when needed).
class TestClient {
 public:
  explicit TestClient(uint16_t port, std::string token = {})
      : client_("127.0.0.1", port, std::move(token)) {}
  void setToken(std::string token) { client_.setToken(std::move(token)); }

  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    HttpResult r;
    static_cast<http::BlockingResponse&>(r) = client_.request(method, target, body, headers);
    return r;
  }
  HttpResult get(const std::string& target) { return request("GET", target); }
  HttpResult post(const std::string& target,
                  const nlohmann::json& body = nlohmann::json::object()) {
    return request("POST", target, body.dump());
  }
  HttpResult put(const std::string& target, const nlohmann::json& body) {
    return request("PUT", target, body.dump());
  }
  HttpResult del(const std::string& target, const std::string& body = {}) {
    return request("DELETE", target, body);
  }
  // Writes raw bytes on a fresh connection and returns everything read until the server
  // closes it or `timeoutMs` passes.
  static std::string raw(uint16_t port, const std::string& bytes, int timeoutMs = 2000) {
    return http::BlockingClient::raw("127.0.0.1", port, bytes, timeoutMs);
  }

 private:
  http::BlockingClient client_;
};

struct ReceivedWebhook {
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

class SimHarness {
 public:
  struct Options {
    bool virtualClock = true;
    uint64_t seed = 42;
    sim::SimulatorOptions sim;
  };
  SimHarness();
  explicit SimHarness(Options options);
  ~SimHarness();

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& adminToken() const { return adminToken_; }

  // Runs `f` on the simulator's thread and waits for it: the only safe way to touch the
  // simulator directly.
  template <class F>
  auto onLoop(F&& f) -> decltype(f()) {
    return runOn([this](std::function<void()> g) { post(std::move(g)); }, std::forward<F>(f));
  }
  sim::Simulator& simulator() { return *sim_; }

  // Control-plane shortcuts (they assert success).
  TestClient& admin() { return *admin_; }
  struct AccountInfo {
    int64_t accountId;
    std::string token;
  };
  AccountInfo createAccount(const std::string& name = "Test");
  uint64_t createLock(int64_t accountId, const nlohmann::json& extra = nlohmann::json::object());
  void advance(int64_t seconds);
  nlohmann::json device(uint64_t smartlockId);

  // The webhook receiver on the same thread. Its URL, what it got, and what it answers.
  std::string receiverUrl() const;
  std::vector<ReceivedWebhook> received();
  void setReceiverStatus(int status);

 private:
  void post(std::function<void()> f);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  sim::Simulator* sim_ = nullptr;
  uint16_t port_ = 0;
  std::string adminToken_;
  std::unique_ptr<TestClient> admin_;
};

}  // namespace nukihil::test
