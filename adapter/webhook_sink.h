// Where the adapter's platform webhooks go: the durable Outbox in production, a fake in unit
// tests. Appends are part of the caller's database transaction.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "adapter/outbox.h"

namespace nukihil::adapter {

class WebhookSink {
 public:
  virtual ~WebhookSink() = default;
  // Appends one webhook (envelope type, content without deviceId) for the device; returns its id.
  virtual std::string enqueue(std::string_view deviceId, std::string_view type,
                              nlohmann::json content) = 0;
};

class OutboxSink : public WebhookSink {
 public:
  explicit OutboxSink(Outbox& outbox) : outbox_(outbox) {}
  std::string enqueue(std::string_view deviceId, std::string_view type,
                      nlohmann::json content) override {
    return outbox_.enqueue(deviceId, type, std::move(content));
  }

 private:
  Outbox& outbox_;
};

}  // namespace nukihil::adapter
