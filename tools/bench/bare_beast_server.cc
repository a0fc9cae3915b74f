// bench-bare-server: the floor for the HTTP benchmark. A minimal single-threaded Boost.Beast
// HTTP/1.1 server with keep-alive that answers every request with the same Smartlock-sized
// JSON body. It does what any Beast server must do per request (parse the request, build and
// serialise a response, idle timeout on the stream) and nothing else: no routing, no
// authorisation, no lookups. tools/bench/http_bench.sh compares nukisim against it.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Shaped like GET /smartlock/{id} of nukisim, about the same size (~1.4 KB).
const std::string kBody =
    R"({"smartlockId":20307342821,"accountId":386216061,"type":4,"authId":48654462,)"
    R"("name":"Front door","favorite":false,"config":{"name":"Front door","latitude":47.0707,)"
    R"("longitude":15.4395,"autoUnlatch":false,"liftUpHandle":false,"pairingEnabled":true,)"
    R"("buttonEnabled":true,"ledEnabled":true,"ledBrightness":3,"timezoneOffset":0,)"
    R"("daylightSavingMode":0,"fobPaired":false,"fobAction1":1,"fobAction2":2,"fobAction3":0,)"
    R"("singleLock":false,"advertisingMode":0,"keypadPaired":true,"keypad2Paired":false,)"
    R"("homekitState":0,"matterState":0,"timezoneId":40,"deviceType":4,"wifiEnabled":true},)"
    R"("advancedConfig":{"totalDegrees":970,"singleLockedPositionOffsetDegrees":0,)"
    R"("unlockedToLockedTransitionOffsetDegrees":0,"unlockedPositionOffsetDegrees":0,)"
    R"("lockedPositionOffsetDegrees":0,"detachedCylinder":false,"batteryType":1,)"
    R"("autoLock":false,"autoLockTimeout":300,"autoUpdateEnabled":false,"lngTimeout":20,)"
    R"("singleButtonPressAction":1,"doubleButtonPressAction":5,)"
    R"("automaticBatteryTypeDetection":true,"unlatchDuration":3},)"
    R"("webConfig":{"batteryWarningPerMailEnabled":false},"state":{"mode":2,"state":3,)"
    R"("trigger":0,"lastAction":1,"batteryCritical":false,"batteryCharging":false,)"
    R"("batteryCharge":100,"keypadBatteryCritical":false,"doorsensorBatteryCritical":false,)"
    R"("doorState":0,"ringToOpenTimer":0,"nightMode":false},"firmwareVersion":199175,)"
    R"("hardwareVersion":1291,"serverState":0,"adminPinState":0,"virtualDevice":false,)"
    R"("creationDate":"2025-01-01T00:00:00.000Z","updateDate":"2025-01-01T00:00:00.000Z"})";

constexpr auto kIdleTimeout = std::chrono::seconds(30);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(tcp::socket socket) : stream_(std::move(socket)) {}

  void start() { read(); }

 private:
  void read() {
    request_ = {};
    stream_.expires_after(kIdleTimeout);
    bhttp::async_read(stream_, buffer_, request_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        self->respond();
                      });
  }

  void respond() {
    response_ = {};
    response_.version(request_.version());
    response_.result(bhttp::status::ok);
    response_.set(bhttp::field::server, "bench-bare-server");
    response_.set(bhttp::field::content_type, "application/json");
    response_.body() = kBody;
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    bhttp::async_write(stream_, response_,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec || !self->response_.keep_alive()) return self->close();
                         self->read();
                       });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  bhttp::request<bhttp::string_body> request_;
  bhttp::response<bhttp::string_body> response_;
};

void acceptLoop(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Connection>(std::move(socket))->start();
    }
    acceptLoop(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench-bare-server: a bare single-threaded Boost.Beast HTTP/1.1 keep-alive server that "
      "answers every request with a fixed ~1.4 KB Smartlock-shaped JSON body. The floor of the "
      "HTTP benchmark (tools/bench/http_bench.sh). Prints one JSON line {\"url\":…,\"port\":…} "
      "at start.",
      "bench-bare-server"};
  uint16_t port = 8081;
  std::string address = "127.0.0.1";
  app.add_option("--port", port, "TCP port to listen on; 0 takes a free one (printed at start)")
      ->capture_default_str();
  app.add_option("--address", address, "address to bind")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  asio::io_context io(1);
  tcp::acceptor acceptor(io);
  try {
    const tcp::endpoint ep(asio::ip::make_address(address), port);
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    std::cerr << "bench-bare-server: cannot listen on " << address << ":" << port << ": "
              << e.what() << "\n";
    return 2;
  }
  const uint16_t bound = acceptor.local_endpoint().port();
  std::cout << R"({"url":"http://)" << address << ":" << bound << R"(","port":)" << bound
            << R"(,"bodyBytes":)" << kBody.size() << "}" << std::endl;
  acceptLoop(acceptor);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    beast::error_code ignored;
    acceptor.close(ignored);
    io.stop();
  });
  io.run();
  return 0;
}
