// Headless Chromium driven through the DevTools protocol, for tests and benchmarks of pages the
// project serves (the nukisim dashboard): open a URL, run script in the page, wait for what it
// shows, and collect every request it made and every console error it logged.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nukihil::test {

inline constexpr const char* kChromiumPath = "/usr/bin/chromium";
bool chromiumInstalled();

class Chromium {
 public:
  struct Options {
    int width = 1400, height = 900;
  };
  // Starts Chromium with a fresh profile and attaches to one page (about:blank); throws
  // std::runtime_error with Chromium's own output if it does not come up within 30 s.
  Chromium();
  explicit Chromium(Options options);
  ~Chromium();  // kills Chromium's process group and removes the profile
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // A DevTools command on the page; its "result". Throws on an error answer or when no answer
  // comes within `timeout`. Events that arrive meanwhile are recorded (see below).
  nlohmann::json call(const std::string& method, nlohmann::json params = nlohmann::json::object(),
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Navigates and returns once the page's load event fired.
  void open(const std::string& url);
  // The value of a script expression in the page (promises awaited); throws with the
  // exception's text if it throws.
  nlohmann::json eval(const std::string& expression,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Polls `condition` (a script expression) in the page until it is truthy; false if it still
  // is not after `timeout`.
  bool waitFor(const std::string& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The page as a PNG.
  std::string screenshot();

  // Every URL the page requested, and every console error, uncaught exception or browser-logged
  // error (a refused request, a CSP violation), in order.
  const std::vector<std::string>& requests() const { return requests_; }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  struct Socket;
  void record(const nlohmann::json& event);
  nlohmann::json receive(std::chrono::steady_clock::time_point deadline);

  std::string profile_;
  pid_t pid_ = -1;
  std::unique_ptr<Socket> socket_;
  std::string session_;
  int nextId_ = 1;
  std::vector<std::string> requests_, errors_;
};

}  // namespace nukihil::test
