// The durable outbox of platform webhooks (SPEC §5 "Platform webhooks", R-DELIVERY).
//
// enqueue() writes the signed-to-be envelope into table `outbox` of the given Db, inside the
// caller's transaction if one is open; once that commits, the webhook is delivered by itself:
//
// - at least once: a row is deleted only after a 2xx answer (deletes are batched, so after a
//   crash a few delivered webhooks may be sent again — with the same `webhook-id`);
// - one device's webhooks strictly in order, one in flight per device: a failing head holds
//   back that device's later webhooks while other devices go on; up to `maxInFlight`
//   deliveries of different devices run concurrently;
// - a failure (non-2xx answer, transport error, timeout) is retried on the Clock (alarms,
//   never sleeping): firstRetry, then doubling up to maxRetry, with "equal jitter" (half the
//   delay fixed, half random). The jitter of a message's n-th retry is drawn from a generator
//   seeded by one draw from `random` at construction and the message's sequence number, so
//   it does not depend on the order in which concurrent answers happen to arrive: on a
//   VirtualClock the same inputs give every device the same attempts at the same instants;
// - after `parkAfter` of failure of a stream's head (measured from its first failed attempt,
//   with a last attempt exactly then) the stream is parked: logged, shown in status(), never
//   skipped, and not retried until resume().
// - while a stream's head keeps failing the log warns (without --verbose): after 3 failed
//   attempts, again after 30, 300, …, and once more when it is delivered.
//
// Each attempt is a POST of the envelope {"id","type","occurredAt","content"} with
// `content-type: application/json`, `webhook-id` (the envelope's id, stable across retries and
// restarts), `webhook-timestamp` (the clock's now at the attempt, in seconds) and
// `webhook-signature: v1,…` (Standard Webhooks).
//
// Durability: "survives a process crash" (kill -9 included) — SQLite in WAL mode with
// synchronous=NORMAL (see adapter/sqlite.h). After a restart, start() picks up every
// undelivered row, including a head's failure count, retry time and parked state.
//
// Single-threaded: everything runs on the thread of the io_context behind `clock` and
// `client`. The Outbox must be destroyed before the Db, Clock and Transport; answers that
// arrive after it is gone are ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/sqlite.h"
#include "adapter/standard_webhooks.h"
#include "runtime/clock.h"
#include "runtime/random.h"
#include "runtime/time.h"

namespace nukihil::http {
class Transport;
}

namespace nukihil::adapter {

class Outbox {
 public:
  struct Options {
    std::string url;  // the platform's webhook receiver
    WebhookSecret secret;
    Duration firstRetry = std::chrono::seconds(1);  // then doubling, with jitter from `random`
    Duration maxRetry = std::chrono::minutes(5);
    Duration parkAfter = std::chrono::hours(72);  // of failure of a stream's head
    std::chrono::milliseconds timeout{10000};     // real time, per attempt
    size_t maxInFlight = 256;                     // across devices
  };

  // Creates table `outbox` (and `outbox_meta`) if missing and loads the undelivered rows;
  // nothing is sent before start(). Throws std::invalid_argument for a bad URL or an empty
  // secret, DbError for database trouble. Draws from `random` once (twice when it creates the
  // table: the database's id prefix).
  Outbox(Db& db, Clock& clock, http::Transport& client, Random& random, Options options);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Appends one platform webhook for `deviceId`: envelope {"id","type","occurredAt","content"}
  // where content is `content` (an object, or null for {}) with "deviceId" set, id a new unique
  // "msg_…" string, occurredAt the clock's now (RFC 3339). Durable once the caller's
  // Db::Transaction commits (at once if none is open); delivery of it starts then by itself
  // (once start() has been called). Returns the id. Throws std::invalid_argument if `content`
  // is not an object, DbError if the row cannot be written.
  std::string enqueue(std::string_view deviceId, std::string_view type, nlohmann::json content);

  // Starts delivering what was loaded at construction (after a restart, kill -9 included) and
  // whatever is enqueued from now on. Call once after construction; later calls do nothing.
  void start();

  struct StreamStatus {
    std::string deviceId;
    size_t pending = 0;  // undelivered webhooks, the head included
    bool parked = false;
    uint32_t attempts = 0;  // failed attempts of the head (since its last resume)
    std::optional<Time> nextAttempt;
    std::string lastError;             // "HTTP 500", "connection refused", …
    std::optional<Time> failingSince;  // the head's first failed attempt
  };
  // Devices with anything pending or parked, by device id.
  std::vector<StreamStatus> status() const;
  // The undelivered webhooks of one device, in order: (webhook-id, the exact body).
  std::vector<std::pair<std::string, std::string>> pendingOf(std::string_view deviceId) const;
  // Un-parks a device's stream and tries its head at once, with a fresh parkAfter window.
  // False if that stream is not parked.
  bool resume(std::string_view deviceId);
  // Webhooks answered with 2xx since construction.
  uint64_t deliveredCount() const;
  // Committed webhooks not yet delivered.
  size_t pendingCount() const;
  // Deletes the rows of delivered webhooks now rather than with the next batch.
  void flush();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nukihil::adapter
