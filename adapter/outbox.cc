#include "adapter/outbox.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <utility>

#include "adapter/repeated_failure.h"
#include "runtime/backoff.h"
#include "runtime/log.h"
#include "runtime/transport.h"

namespace nukihil::adapter {

namespace {

// Delivered rows are deleted in one transaction per batch: when this many have gathered, or
// when the flush alarm (armed at "now" by the first of them) fires — on a real clock that is
// the next turn of the event loop, on a virtual clock the next advance.
constexpr size_t kFlushBatch = 512;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- enqueue order; a device's order is its rows' seq order
  id TEXT NOT NULL,                        -- webhook-id
  device_id TEXT NOT NULL,
  body TEXT NOT NULL,                      -- the exact bytes sent and signed
  attempts INTEGER NOT NULL DEFAULT 0,     -- the head's failed attempts
  first_failure_ms INTEGER,
  next_attempt_ms INTEGER,
  last_error TEXT NOT NULL DEFAULT '',
  parked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS outbox_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

std::string dumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

uint64_t mix(uint64_t a, uint64_t b) {
  return a ^ (b * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL + (a << 6) + (a >> 2));
}

}  // namespace

struct Outbox::Impl : std::enable_shared_from_this<Outbox::Impl> {
  struct Item {
    int64_t seq = 0;
    std::string id;
    std::string body;
  };
  struct Stream {
    std::deque<Item> items;
    bool inFlight = false;
    bool parked = false;
    bool waitingSlot = false;  // in `waiting`
    uint32_t attempts = 0;
    std::optional<Time> firstFailure;
    std::optional<Time> nextAttempt;  // a retry is scheduled (in `retries`)
    std::string lastError;
  };

  Db& db;
  Clock& clock;
  http::Transport& client;
  Options options;
  uint64_t jitterKey = 0;
  std::string epoch;
  int64_t nextSeq = 1;
  bool started = false;

  std::map<std::string, Stream, std::less<>> streams;
  std::set<std::pair<Time, std::string>> retries;  // (when, device)
  std::deque<std::string> waiting;                 // ready streams waiting for a free slot
  size_t inFlight = 0;
  size_t pending = 0;
  uint64_t delivered = 0;
  std::vector<int64_t> toDelete;
  bool deleteFailing = false;

  Clock::AlarmId retryAlarm = 0;
  Clock::AlarmId flushAlarm = 0;
  bool flushArmed = false;

  Stmt insertRow;
  Stmt deleteRow;
  Stmt updateHead;

  Impl(Db& d, Clock& c, http::Transport& h, Options o)
      : db(d), clock(c), client(h), options(std::move(o)) {}

  ~Impl() {
    if (retryAlarm) clock.removeAlarm(retryAlarm);
    if (flushAlarm) clock.removeAlarm(flushAlarm);
  }

  void open(Random& random) {
    jitterKey = random.next();
    {
      Db::Transaction t(db);
      db.exec(kSchema);
      Stmt get = db.prepare("SELECT value FROM outbox_meta WHERE key = 'epoch'");
      if (get.step()) {
        epoch = get.text(0);
      } else {
        // Distinguishes this database's ids from those of any earlier one; the counter below
        // keeps them unique within it, across restarts.
        epoch = random.hex(8);
        db.prepare("INSERT INTO outbox_meta(key, value) VALUES ('epoch', ?)").bind(1, epoch).step();
      }
      int64_t last = 0;
      Stmt maxSeq = db.prepare(
          "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0),"
          " COALESCE((SELECT MAX(seq) FROM outbox), 0))");
      if (maxSeq.step()) last = maxSeq.int64(0);
      nextSeq = last + 1;
      t.commit();
    }
    insertRow = db.prepare("INSERT INTO outbox(seq, id, device_id, body) VALUES (?, ?, ?, ?)");
    deleteRow = db.prepare("DELETE FROM outbox WHERE seq = ?");
    updateHead = db.prepare(
        "UPDATE outbox SET attempts = ?, first_failure_ms = ?, next_attempt_ms = ?,"
        " last_error = ?, parked = ? WHERE seq = ?");

    Stmt rows = db.prepare(
        "SELECT seq, id, device_id, body, attempts, first_failure_ms, next_attempt_ms,"
        " last_error, parked FROM outbox ORDER BY seq");
    while (rows.step()) {
      Stream& s = streams[rows.text(2)];
      const bool head = s.items.empty();
      s.items.push_back(Item{rows.int64(0), rows.text(1), rows.text(3)});
      ++pending;
      if (!head) continue;
      s.attempts = static_cast<uint32_t>(rows.int64(4));
      if (!rows.isNull(5)) s.firstFailure = timeFromMillis(rows.int64(5));
      s.lastError = rows.text(7);
      s.parked = rows.int64(8) != 0;
      if (!s.parked && !rows.isNull(6)) s.nextAttempt = timeFromMillis(rows.int64(6));
    }
    for (auto& [device, s] : streams)
      if (s.nextAttempt) retries.emplace(*s.nextAttempt, device);

    retryAlarm = clock.addAlarm([this] { onRetryAlarm(); });
    flushAlarm = clock.addAlarm([this] {
      flushArmed = false;
      flush();
    });
  }

  std::string makeId(int64_t seq) const {
    std::string n = std::to_string(seq);
    if (n.size() < 10) n.insert(0, 10 - n.size(), '0');
    return "msg_" + epoch + n;
  }

  // ---- enqueue and dispatch -------------------------------------------------------------

  std::string enqueue(std::string_view deviceId, std::string_view type, nlohmann::json content) {
    if (content.is_null()) content = nlohmann::json::object();
    if (!content.is_object())
      throw std::invalid_argument("outbox: webhook content must be a JSON object");
    content["deviceId"] = std::string(deviceId);
    const int64_t seq = nextSeq++;
    std::string id = makeId(seq);
    std::string body;
    body.reserve(128);
    body += R"({"id":)";
    body += dumpJson(id);
    body += R"(,"type":)";
    body += dumpJson(std::string(type));
    body += R"(,"occurredAt":)";
    body += dumpJson(formatRfc3339(clock.now()));
    body += R"(,"content":)";
    body += dumpJson(content);
    body += "}";

    insertRow.bind(1, seq).bind(2, id).bind(3, deviceId).bind(4, body);
    insertRow.step();
    insertRow.reset();

    std::weak_ptr<Impl> weak = weak_from_this();
    db.afterCommit(
        [weak, seq, id, device = std::string(deviceId), body = std::move(body)]() mutable {
          if (auto self = weak.lock())
            self->accept(device, Item{seq, std::move(id), std::move(body)});
        });
    return id;
  }

  void accept(const std::string& device, Item item) {
    Stream& s = streams[device];
    s.items.push_back(std::move(item));
    ++pending;
    if (s.items.size() == 1) dispatch(device, s);
  }

  // Sends the stream's head if it may go now, or queues it for a slot.
  void dispatch(const std::string& device, Stream& s) {
    if (!started || s.inFlight || s.parked || s.waitingSlot || s.nextAttempt || s.items.empty())
      return;
    if (inFlight < options.maxInFlight && waiting.empty()) return send(device, s);
    s.waitingSlot = true;
    waiting.push_back(device);
  }

  void fillSlots() {
    while (inFlight < options.maxInFlight && !waiting.empty()) {
      const std::string device = std::move(waiting.front());
      waiting.pop_front();
      auto it = streams.find(device);
      if (it == streams.end()) continue;
      it->second.waitingSlot = false;
      if (it->second.inFlight || it->second.parked || it->second.nextAttempt ||
          it->second.items.empty())
        continue;
      send(device, it->second);
    }
  }

  void send(const std::string& device, Stream& s) {
    s.inFlight = true;
    ++inFlight;
    const Item& item = s.items.front();
    const int64_t ts = secondsOf(clock.now());
    http::ClientRequest req;
    req.method = "POST";
    req.url = options.url;
    req.contentType = "application/json";
    req.body = item.body;
    req.timeout = options.timeout;
    req.headers = {{"webhook-id", item.id},
                   {"webhook-timestamp", std::to_string(ts)},
                   {"webhook-signature", signWebhook(options.secret, item.id, ts, item.body)}};
    std::weak_ptr<Impl> weak = weak_from_this();
    client.send(std::move(req), [weak, device, seq = item.seq](http::ClientResponse r) {
      if (auto self = weak.lock()) self->onAnswer(device, seq, std::move(r));
    });
  }

  void onAnswer(const std::string& device, int64_t seq, http::ClientResponse r) {
    --inFlight;
    auto it = streams.find(device);
    if (it != streams.end() && it->second.inFlight && !it->second.items.empty() &&
        it->second.items.front().seq == seq) {
      Stream& s = it->second;
      s.inFlight = false;
      if (r.ok() && r.status >= 200 && r.status <= 299) {
        onDelivered(device, it);
      } else {
        failed(device, s, r.ok() ? "HTTP " + std::to_string(r.status) : r.error);
      }
    }
    fillSlots();
  }

  void onDelivered(const std::string& device,
                   std::map<std::string, Stream, std::less<>>::iterator it) {
    Stream& s = it->second;
    toDelete.push_back(s.items.front().seq);
    s.items.pop_front();
    --pending;
    ++delivered;
    if (s.attempts >= 3)
      log::warn("outbox: device " + device + ": delivering again after " +
                std::to_string(s.attempts) + " failed attempts");
    s.attempts = 0;
    s.firstFailure.reset();
    s.lastError.clear();
    if (s.items.empty())
      streams.erase(it);
    else
      dispatch(device, s);
    if (toDelete.size() >= kFlushBatch) {
      flush();
    } else if (!flushArmed) {
      flushArmed = true;
      clock.arm(flushAlarm, clock.now());
    }
  }

  Duration backoff(int64_t seq, uint32_t attempts) const {
    const Duration base = exponentialBackoff(options.firstRetry, options.maxRetry, attempts);
    if (base.count() < 2) return base;
    Random r(mix(mix(jitterKey, static_cast<uint64_t>(seq)), attempts));
    return equalJitter(base, r);
  }

  void failed(const std::string& device, Stream& s, std::string why) {
    const Time now = clock.now();
    ++s.attempts;
    s.lastError = std::move(why);
    if (!s.firstFailure) s.firstFailure = now;
    const Item& head = s.items.front();
    if (s.attempts == 1 && log::enabled(log::Level::kInfo))
      log::info("outbox: device " + device + ": webhook " + head.id + " failed (" + s.lastError +
                "); retrying with backoff, later webhooks of this device wait");
    if (warnAgainAt(s.attempts) && now - *s.firstFailure < options.parkAfter)
      log::warn("outbox: device " + device + ": webhook " + head.id + " failed " +
                std::to_string(s.attempts) + " times in a row (last: " + s.lastError +
                "); retrying with backoff, " + std::to_string(s.items.size()) +
                " webhook(s) of this device wait (GET /v1/health: degraded)");
    if (now - *s.firstFailure >= options.parkAfter) {
      s.parked = true;
      s.nextAttempt.reset();
      log::warn(
          "outbox: device " + device + " parked: webhook " + head.id + " failed for " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::minutes>(now - *s.firstFailure).count()) +
          " min (" + std::to_string(s.attempts) + " attempts, last: " + s.lastError + "); " +
          std::to_string(s.items.size()) + " webhook(s) held until resumed");
    } else {
      const Time next =
          std::min(now + backoff(head.seq, s.attempts), *s.firstFailure + options.parkAfter);
      s.nextAttempt = next;
      retries.emplace(next, device);
      armRetry();
    }
    persistHead(s);
  }

  void persistHead(const Stream& s) {
    if (s.items.empty()) return;
    try {
      updateHead.bind(1, static_cast<int64_t>(s.attempts));
      if (s.firstFailure)
        updateHead.bind(2, millisOf(*s.firstFailure));
      else
        updateHead.bindNull(2);
      if (s.nextAttempt)
        updateHead.bind(3, millisOf(*s.nextAttempt));
      else
        updateHead.bindNull(3);
      updateHead.bind(4, s.lastError).bind(5, s.parked ? 1 : 0).bind(6, s.items.front().seq);
      updateHead.step();
      updateHead.reset();
    } catch (const DbError& e) {
      updateHead.reset();
      log::error(std::string("outbox: cannot record a failed attempt: ") + e.what());
    }
  }

  void armRetry() {
    if (retries.empty())
      clock.disarm(retryAlarm);
    else
      clock.arm(retryAlarm, retries.begin()->first);
  }

  void onRetryAlarm() {
    const Time now = clock.now();
    while (!retries.empty() && retries.begin()->first <= now) {
      auto [at, device] = *retries.begin();
      retries.erase(retries.begin());
      auto it = streams.find(device);
      if (it == streams.end() || it->second.nextAttempt != at) continue;
      it->second.nextAttempt.reset();
      dispatch(device, it->second);
    }
    armRetry();
  }

  void flush() {
    if (flushArmed) {
      flushArmed = false;
      clock.disarm(flushAlarm);
    }
    if (toDelete.empty()) return;
    try {
      Db::Transaction t(db);
      for (int64_t seq : toDelete) {
        deleteRow.bind(1, seq);
        deleteRow.step();
      }
      deleteRow.reset();
      t.commit();
      toDelete.clear();
      if (deleteFailing) log::info("outbox: delivered webhooks are deleted again");
      deleteFailing = false;
    } catch (const DbError& e) {
      deleteRow.reset();
      // The rows stay and are kept for the next batch; at worst they are sent again after a
      // restart (same ids). Said once, not at every delivery while the disk is full.
      if (!deleteFailing)
        log::error(std::string("outbox: cannot delete delivered webhooks (they are kept for the "
                               "next try): ") +
                   e.what());
      deleteFailing = true;
    }
  }

  void start() {
    if (started) return;
    started = true;
    for (auto& [device, s] : streams)
      dispatch(device, s);
    armRetry();
  }

  bool resume(std::string_view deviceId) {
    auto it = streams.find(deviceId);
    if (it == streams.end() || !it->second.parked) return false;
    Stream& s = it->second;
    s.parked = false;
    s.attempts = 0;
    s.firstFailure.reset();
    s.nextAttempt.reset();
    persistHead(s);
    log::info("outbox: device " + it->first + " resumed, " + std::to_string(s.items.size()) +
              " webhook(s) pending");
    dispatch(it->first, s);
    return true;
  }

  std::vector<StreamStatus> status() const {
    std::vector<StreamStatus> out;
    out.reserve(streams.size());
    for (const auto& [device, s] : streams) {
      if (s.items.empty() && !s.parked) continue;
      out.push_back(StreamStatus{device, s.items.size(), s.parked, s.attempts, s.nextAttempt,
                                 s.lastError, s.firstFailure});
    }
    return out;
  }
};

Outbox::Outbox(Db& db, Clock& clock, http::Transport& client, Random& random, Options options) {
  if (!http::Url::parse(options.url))
    throw std::invalid_argument("outbox: invalid webhook URL '" + options.url + "'");
  if (options.secret.empty()) throw std::invalid_argument("outbox: the webhook secret is empty");
  if (options.maxInFlight == 0) options.maxInFlight = 1;
  if (options.firstRetry.count() <= 0) options.firstRetry = Duration(1);
  if (options.maxRetry < options.firstRetry) options.maxRetry = options.firstRetry;
  impl_ = std::make_shared<Impl>(db, clock, client, std::move(options));
  impl_->open(random);
}

Outbox::~Outbox() {
  if (!impl_) return;
  try {
    impl_->flush();
  } catch (...) {
  }
}

std::string Outbox::enqueue(std::string_view deviceId, std::string_view type,
                            nlohmann::json content) {
  return impl_->enqueue(deviceId, type, std::move(content));
}

void Outbox::start() {
  impl_->start();
}

std::vector<Outbox::StreamStatus> Outbox::status() const {
  return impl_->status();
}

bool Outbox::resume(std::string_view deviceId) {
  return impl_->resume(deviceId);
}

uint64_t Outbox::deliveredCount() const {
  return impl_->delivered;
}

std::vector<std::pair<std::string, std::string>> Outbox::pendingOf(
    std::string_view deviceId) const {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = impl_->streams.find(deviceId);
  if (it == impl_->streams.end()) return out;
  for (const auto& item : it->second.items)
    out.emplace_back(item.id, item.body);
  return out;
}

size_t Outbox::pendingCount() const {
  return impl_->pending;
}

void Outbox::flush() {
  impl_->flush();
}

}  // namespace nukihil::adapter
