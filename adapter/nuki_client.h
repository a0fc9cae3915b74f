// The adapter's Nuki Web client: the calls the adapter makes, with SPEC §5's retry budget
// ("5 tries over 10 virtual minutes on 429 (honouring Retry-After), 5xx, resets and timeouts,
// then TIMEOUT"). Waiting between tries is a Clock alarm, so on a VirtualClock it happens
// only as virtual time advances. Callbacks run on the Transport's io_context thread; a
// client destroyed with calls in flight drops their callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "adapter/nuki_codec.h"
#include "runtime/clock.h"
#include "runtime/random.h"
#include "runtime/time.h"
#include "runtime/transport.h"

namespace nukihil::adapter {

struct NukiResult {
  enum class Outcome {
    kOk,       // 2xx (and, for calls that return data, a body that decoded)
    kRefused,  // final at once: 4xx other than 429 (also 1xx/3xx, and a 2xx body that does not
               // decode — then `status` is the 2xx and `error` says why)
    kTimeout,  // the retry budget is spent on 429/5xx/reset/timeout
  } outcome = Outcome::kOk;
  int status = 0;     // last HTTP status (0: no response)
  std::string body;   // last body
  std::string error;  // transport error of the last attempt, if any
  int attempts = 0;
  bool ok() const { return outcome == Outcome::kOk; }
};

// How Nuki Web has answered lately (GET /v1/health). Every attempt counts: an answer of Nuki
// Web's own — 2xx, or a 4xx other than 401/403/429 (that request was refused; the token and
// the service are fine) — is a success; 401/403 (the token), 429, 5xx and no response are
// failures.
struct NukiReachability {
  uint64_t consecutiveFailures = 0;  // 0: the last attempt succeeded, or none was made yet
  std::string lastError;             // "GET /smartlock: HTTP 401 (the API token is refused)"
  std::optional<Time> lastErrorAt, failingSince, lastSuccessAt;
  bool failing() const { return consecutiveFailures > 0; }
};

// The Nuki Web calls the adapter makes; an interface so tests can fake it with GoogleMock.
class NukiApi {
 public:
  virtual ~NukiApi() = default;
  // GET /smartlock
  virtual void listSmartlocks(
      std::function<void(const NukiResult&, std::vector<NukiLock>)> done) = 0;
  // GET /smartlock/{id}
  virtual void getSmartlock(
      uint64_t id, std::function<void(const NukiResult&, std::optional<NukiLock>)> done) = 0;
  // The next call made carries `X-Request-ID: id` (with its retries): the action it is for,
  // for tracing. Nuki Web ignores the header; nukisim journals it.
  virtual void tagNextCall(std::string id) { (void)id; }
  // POST /smartlock/{id}/action/lock|unlock
  virtual void lockAction(uint64_t id, bool lock, std::function<void(const NukiResult&)> done) = 0;
  // GET /smartlock/{id}/auth?types=13
  virtual void listAuths(uint64_t id,
                         std::function<void(const NukiResult&, std::vector<NukiAuth>)> done) = 0;
  // PUT /smartlock/{id}/auth. A create retried after a lost response may get 409: that is
  // reported as it is (kRefused, status 409, attempts > 1); the caller decides.
  virtual void createAuth(uint64_t id, const NukiAuthFields& fields,
                          std::function<void(const NukiResult&)> done) = 0;
  // POST /smartlock/{id}/auth/{authId}
  virtual void updateAuth(uint64_t id, const std::string& authId, const NukiAuthFields& fields,
                          std::function<void(const NukiResult&)> done) = 0;
  // DELETE /smartlock/{id}/auth/{authId}
  virtual void deleteAuth(uint64_t id, const std::string& authId,
                          std::function<void(const NukiResult&)> done) = 0;
  // GET /smartlock/{id}/log?limit=N (newest first)
  virtual void listLogs(uint64_t id, int limit,
                        std::function<void(const NukiResult&, std::vector<NukiLog>)> done) = 0;
  // POST /smartlock/{id}/sync
  virtual void requestSync(uint64_t id, std::function<void(const NukiResult&)> done) = 0;
  // PUT /api/decentralWebhook
  virtual void registerWebhook(
      const std::string& url, const std::vector<std::string>& features,
      std::function<void(const NukiResult&, int64_t id, std::string secret)> done) = 0;
  // GET /api/decentralWebhook
  virtual void listWebhooks(
      std::function<void(const NukiResult&, std::vector<std::pair<int64_t, std::string /*url*/>>)>
          done) = 0;
  // DELETE /api/decentralWebhook/{id}
  virtual void deleteWebhook(int64_t id, std::function<void(const NukiResult&)> done) = 0;
};

class NukiClient : public NukiApi {
 public:
  struct Options {
    std::string baseUrl =
        "https://api.nuki.io";  // trailing slash optional; http://127.0.0.1:PORT for nukisim
    std::string token;          // bearer; never logged
    int maxAttempts = 5;        // SPEC §5: 5 tries …
    Duration budget = std::chrono::minutes(10);       // … over 10 virtual minutes
    Duration firstBackoff = std::chrono::seconds(2);  // doubled per try, with equal jitter
    std::chrono::milliseconds timeout{10000};         // real time, per attempt (transport)
  };

  // `http`, `clock` and `random` must outlive the client and be used on one thread.
  NukiClient(http::Transport& http, Clock& clock, Random& random, Options options);
  ~NukiClient() override;
  NukiClient(const NukiClient&) = delete;
  NukiClient& operator=(const NukiClient&) = delete;

  void listSmartlocks(std::function<void(const NukiResult&, std::vector<NukiLock>)> done) override;
  void getSmartlock(uint64_t id,
                    std::function<void(const NukiResult&, std::optional<NukiLock>)> done) override;
  void tagNextCall(std::string id) override { nextRequestId_ = std::move(id); }
  void lockAction(uint64_t id, bool lock, std::function<void(const NukiResult&)> done) override;
  void listAuths(uint64_t id,
                 std::function<void(const NukiResult&, std::vector<NukiAuth>)> done) override;
  void createAuth(uint64_t id, const NukiAuthFields& fields,
                  std::function<void(const NukiResult&)> done) override;
  void updateAuth(uint64_t id, const std::string& authId, const NukiAuthFields& fields,
                  std::function<void(const NukiResult&)> done) override;
  void deleteAuth(uint64_t id, const std::string& authId,
                  std::function<void(const NukiResult&)> done) override;
  void listLogs(uint64_t id, int limit,
                std::function<void(const NukiResult&, std::vector<NukiLog>)> done) override;
  void requestSync(uint64_t id, std::function<void(const NukiResult&)> done) override;
  void registerWebhook(
      const std::string& url, const std::vector<std::string>& features,
      std::function<void(const NukiResult&, int64_t id, std::string secret)> done) override;
  void listWebhooks(
      std::function<void(const NukiResult&, std::vector<std::pair<int64_t, std::string>>)> done)
      override;
  void deleteWebhook(int64_t id, std::function<void(const NukiResult&)> done) override;

  // The pause before try number `attempt + 1` after a retriable failure of try `attempt`
  // (1-based), without Retry-After or the budget: firstBackoff·2^(attempt−1), equal jitter
  // (half fixed, half uniform). Exposed for tests.
  Duration backoff(int attempt);

  // Parses a Retry-After value: delay-seconds, or an HTTP-date (IMF-fixdate, RFC 850 or
  // asctime) taken relative to `now`. nullopt if it is neither.
  static std::optional<Duration> parseRetryAfter(std::string_view value, Time now);

  // How Nuki Web answered the last attempts. While they keep failing the log warns without
  // --verbose: at once for 401/403 (a token problem does not go away by itself), after 3
  // failed attempts in a row otherwise, again after 30, 300, …; and once more when Nuki Web
  // answers again.
  const NukiReachability& reachability() const { return reachability_; }

 private:
  struct Call;
  void call(std::string method, std::string path, std::string body,
            std::function<void(NukiResult)> done);
  void attempt(const std::shared_ptr<Call>& c);
  void onResponse(const std::shared_ptr<Call>& c, http::ClientResponse r);
  void retryLater(const std::shared_ptr<Call>& c, Duration delay);
  void recordAttempt(bool ok, int status, const std::string& what);

  http::Transport& http_;
  Clock& clock_;
  Random& random_;
  Options options_;
  std::string nextRequestId_;        // tagNextCall: the X-Request-ID of the next call
  std::shared_ptr<char> alive_;      // callbacks hold a weak_ptr: gone once the client is
  std::set<Clock::AlarmId> alarms_;  // armed retry alarms, removed in the destructor
  NukiReachability reachability_;
  bool warned_ = false;  // a warning of the current run of failures was logged
};

}  // namespace nukihil::adapter
