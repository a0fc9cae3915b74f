#include "tests/support/devtools.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "runtime/crypto.h"

namespace nukihil::test {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

bool chromiumInstalled() {
  return ::access(kChromiumPath, X_OK) == 0;
}

struct Chromium::Socket {
  asio::io_context io;
  beast::websocket::stream<asio::ip::tcp::socket> ws{io};
};

namespace {

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : "…" + text.substr(text.size() - n);
}

}  // namespace

Chromium::Chromium() : Chromium(Options{}) {}

Chromium::Chromium(Options options) : socket_(std::make_unique<Socket>()) {
  std::string pattern = (fs::temp_directory_path() / "nukihil-chromium-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  profile_ = pattern;
  const std::string log = profile_ + "/chromium.log";
  std::vector<std::string> argv = {
      kChromiumPath,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--disable-dev-shm-usage",
      "--remote-debugging-port=0",
      "--window-size=" + std::to_string(options.width) + "," + std::to_string(options.height),
      "--user-data-dir=" + profile_ + "/profile",
      "about:blank"};
  std::vector<char*> cargv;
  for (auto& a : argv)
    cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(126);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);

  // Chromium writes the port it chose, and the browser's WebSocket path, once it listens.
  const fs::path portFile = fs::path(profile_) / "profile" / "DevToolsActivePort";
  const auto deadline = Steady::now() + std::chrono::seconds(30);
  std::string port, path;
  while (Steady::now() < deadline) {
    std::istringstream lines(readFile(portFile));
    if (std::getline(lines, port) && std::getline(lines, path) && !path.empty()) break;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("chromium exited at start: " + tail(readFile(log), 2000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (path.empty())
    throw std::runtime_error("chromium did not listen within 30 s: " + tail(readFile(log), 2000));

  asio::ip::tcp::resolver resolver(socket_->io);
  asio::connect(socket_->ws.next_layer(), resolver.resolve("127.0.0.1", port));
  socket_->ws.handshake("127.0.0.1:" + port, path);
  socket_->ws.read_message_max(size_t(256) << 20);  // screenshots of long pages

  // One page of our own, its session flattened onto the browser's socket.
  const json target = call("Target.createTarget", {{"url", "about:blank"}});
  const json attached =
      call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}});
  session_ = attached["sessionId"].get<std::string>();
  call("Page.enable");
  call("Network.enable");
  call("Runtime.enable");
  call("Log.enable");
}

Chromium::~Chromium() {
  if (socket_) {
    boost::system::error_code ignored;
    socket_->ws.next_layer().close(ignored);
  }
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  fs::remove_all(profile_, ignored);
}

json Chromium::receive(Steady::time_point deadline) {
  beast::flat_buffer buffer;
  bool done = false;
  boost::system::error_code error;
  socket_->ws.async_read(buffer, [&](boost::system::error_code ec, size_t) {
    error = ec;
    done = true;
  });
  socket_->io.restart();
  while (!done) {
    const auto left = deadline - Steady::now();
    if (left <= Steady::duration::zero() ||
        socket_->io.run_one_for(std::chrono::duration_cast<std::chrono::milliseconds>(left)) == 0) {
      if (done) break;
      boost::system::error_code ignored;
      socket_->ws.next_layer().cancel(ignored);
      socket_->io.restart();
      socket_->io.run();  // the cancelled read's handler
      throw std::runtime_error("no answer from chromium in time");
    }
  }
  if (error) throw std::runtime_error("devtools socket: " + error.message());
  return json::parse(beast::buffers_to_string(buffer.data()));
}

json Chromium::call(const std::string& method, json params, std::chrono::milliseconds timeout) {
  const int id = nextId_++;
  json message = {{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (!session_.empty()) message["sessionId"] = session_;
  socket_->ws.write(asio::buffer(message.dump()));
  const auto deadline = Steady::now() + timeout;
  for (;;) {
    json m = receive(deadline);
    if (m.contains("id") && m["id"] == id) {
      if (m.contains("error")) throw std::runtime_error(method + ": " + m["error"].dump());
      return m.value("result", json::object());
    }
    if (m.contains("method")) record(m);
  }
}

void Chromium::record(const json& event) {
  const std::string& method = event["method"].get_ref<const std::string&>();
  const json& p = event.value("params", json::object());
  if (method == "Network.requestWillBeSent") {
    requests_.push_back(p["request"].value("url", ""));
  } else if (method == "Runtime.consoleAPICalled") {
    if (p.value("type", "") != "error" && p.value("type", "") != "assert") return;
    std::string text = "console." + p.value("type", "");
    for (const auto& a : p.value("args", json::array()))
      text += " " + (a.contains("value") ? a["value"].dump() : a.value("description", ""));
    errors_.push_back(text);
  } else if (method == "Runtime.exceptionThrown") {
    const json& d = p["exceptionDetails"];
    errors_.push_back("exception: " + d.value("text", "") + " " +
                      (d.contains("exception") ? d["exception"].value("description", "") : ""));
  } else if (method == "Log.entryAdded") {
    const json& e = p["entry"];
    if (e.value("level", "") == "error")
      errors_.push_back("log: " + e.value("text", "") + " " + e.value("url", ""));
  }
}

void Chromium::open(const std::string& url) {
  call("Page.navigate", {{"url", url}});
  // The load event (and whatever else arrives before it).
  const auto deadline = Steady::now() + std::chrono::seconds(30);
  for (;;) {
    json m = receive(deadline);
    if (!m.contains("method")) continue;
    record(m);
    if (m["method"] == "Page.loadEventFired") return;
  }
}

json Chromium::eval(const std::string& expression, std::chrono::milliseconds timeout) {
  const json r =
      call("Runtime.evaluate",
           {{"expression", expression}, {"awaitPromise", true}, {"returnByValue", true}}, timeout);
  if (r.contains("exceptionDetails")) {
    const json& d = r["exceptionDetails"];
    throw std::runtime_error("in the page: " + (d.contains("exception")
                                                    ? d["exception"].value("description", "")
                                                    : d.value("text", "")));
  }
  return r["result"].value("value", json());
}

bool Chromium::waitFor(const std::string& condition, std::chrono::milliseconds timeout) {
  const std::string ms = std::to_string(timeout.count());
  const std::string script =
      "new Promise((resolve) => { const t0 = performance.now(); (function check() { let v = "
      "false; try { v = (" +
      condition + "); } catch (e) {} if (v) return resolve(true); if (performance.now() - t0 > " +
      ms + ") return resolve(false); setTimeout(check, 20); })(); })";
  return eval(script, timeout + std::chrono::seconds(10)).get<bool>();
}

std::string Chromium::screenshot() {
  const json r = call("Page.captureScreenshot", {{"format", "png"}});
  auto png = crypto::base64Decode(r["data"].get<std::string>());
  if (!png) throw std::runtime_error("screenshot: not base64");
  return *png;
}

}  // namespace nukihil::test
