// A nukisim Simulator on a virtual clock, called directly (no sockets): for the fuzz targets
// that feed bytes to its handlers. One per process; reset() now and then keeps it small.
#pragma once

#include <memory>
#include <string>

#include "runtime/clock.h"
#include "runtime/http.h"
#include "simulator/simulator.h"

namespace nukihil::fuzz {

inline constexpr const char* kAdminToken = "fuzz-admin-token-0123456789";

class SimUnderTest {
 public:
  SimUnderTest() {
    sim::SimulatorOptions o;
    o.seed = 1;
    o.adminToken = kAdminToken;
    sim_ = std::make_unique<sim::Simulator>(clock_, nullptr, o);
  }

  sim::Simulator& simulator() { return *sim_; }

  // The request as the server would hand it over, answered synchronously or not at all.
  http::Response call(std::string method, std::string target, std::string body,
                      std::string authorization = std::string("Bearer ") + kAdminToken) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.authorization = std::move(authorization);
    req.contentType = "application/json";
    http::Response out;
    out.status = 0;
    sim_->handle(req, [&out](http::Response r) { out = std::move(r); });
    return out;
  }

  // Every few thousand inputs: a fresh world, so state does not grow without bound. True when
  // it reset (ids the caller kept are gone then).
  bool maybeReset() {
    if (++calls_ % 2000 != 0) return false;
    sim_->reset();
    return true;
  }

 private:
  VirtualClock clock_;
  std::unique_ptr<sim::Simulator> sim_;
  size_t calls_ = 0;
};

}  // namespace nukihil::fuzz
