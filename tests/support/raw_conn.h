// One TCP connection to 127.0.0.1:port, written and read as bytes with real-time bounds: for
// tests that must see exactly what a client on the wire would.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace nukihil::test {

class RawConn {
 public:
  explicit RawConn(uint16_t port);
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Sends all of `bytes`; false if the peer is gone (the server may close early, e.g. 413).
  bool send(std::string_view bytes);
  void shutdownWrite();

  // Reads until `done(received)` holds, the peer closes, or `timeout` passes. True if done.
  bool readUntil(const std::function<bool(const std::string&)>& done,
                 std::chrono::milliseconds timeout);
  // Reads until the peer closes; true if it did within `timeout`.
  bool readToClose(std::chrono::milliseconds timeout);

  const std::string& received() const { return in_; }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  std::string in_;
  bool closed_ = false;
};

}  // namespace nukihil::test
