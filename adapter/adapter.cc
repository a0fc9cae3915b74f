// The adapter's life cycle, its write scope and group commit, and the platform webhooks it emits
// (SPEC §6); the other jobs are in store.cc, discovery.cc, lock_reports.cc, pin_reconcile.cc,
// actions.cc and views.cc.
#include "adapter/adapter.h"

#include "adapter/adapter_internal.h"
#include "runtime/log.h"

namespace nukihil::adapter {

using nlohmann::json;

const char* actionStatusName(ActionStatus s) {
  switch (s) {
    case ActionStatus::kQueued:
      return "QUEUED";
    case ActionStatus::kPending:
      return "PENDING";
    case ActionStatus::kResolved:
      return "RESOLVED";
    case ActionStatus::kRejected:
      return "REJECTED";
    case ActionStatus::kFailed:
      return "FAILED";
    case ActionStatus::kTimeout:
      return "TIMEOUT";
  }
  return "?";
}

Adapter::Adapter(Db& db, Clock& clock, NukiApi& nuki, WebhookSink& sink, Random& random,
                 Options options)
    : db_(db),
      clock_(clock),
      nuki_(nuki),
      sink_(sink),
      random_(random),
      options_(std::move(options)) {
  createSchema();
  load();
  pollAlarm_ = clock_.addAlarm([this] { poll([this] { schedulePoll(); }); });
}

Adapter::~Adapter() {
  // A failure now only logs: nobody is left to replace this adapter, and the next one loads
  // what is durable anyway.
  closing_ = true;
  if (auto batch = std::move(batch_)) {
    try {
      batch->commit();  // a graceful stop keeps what the last burst wrote
    } catch (const std::exception& e) {
      log::error(std::string("adapter: the last group commit failed at shutdown: ") + e.what());
    }
  }
  alive_.reset();
  clock_.removeAlarm(pollAlarm_);
}

void Adapter::joinBatch() {
  if (!options_.post || batch_) return;
  batch_ = std::make_unique<Db::Transaction>(db_);
  batchWork_ = WorkGuard(&clock_.work());  // a virtual clock waits for the commit
  options_.post([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    auto batch = std::move(batch_);
    try {
      batch->commit();  // runs the afterDurable hooks
    } catch (const std::exception& e) {
      // The burst is rolled back: nothing of it was answered, so nothing promised is lost,
      // but memory holds what the disk does not.
      batchWork_.reset();
      return storageFailed(std::string("a group commit failed and was rolled back: ") + e.what());
    }
    batchWork_.reset();
  });
}

bool Adapter::write(const std::function<void()>& f) {
  if (options_.readOnly || storageFailed_) return false;
  // Only the outermost write handles a refusal: inner ones pass it up, so that no transaction
  // of this call is still open when storageFailed() rolls the burst back. A write in a hook
  // that runs after a commit (an action sent once it is durable) is outermost too: what it
  // follows is durable and keeps its answer.
  const bool outermost = writeDepth_ == 0 || !db_.inTransaction();
  struct Depth {
    int& n;
    ~Depth() { --n; }
  } depth{++writeDepth_};
  try {
    joinBatch();
    Db::Transaction tx(db_);
    f();
    tx.commit();
  } catch (const DbError& e) {
    if (!outermost) throw;
    storageFailed(std::string("the database refused a write: ") + e.what());
    return false;
  }
  return true;
}

void Adapter::storageFailed(const std::string& why) {
  if (storageFailed_) return;
  storageFailed_ = true;
  log::error("adapter: " + why + "; nothing of the last burst is answered or sent");
  if (closing_) return;
  if (!options_.onStorageFailure) std::abort();
  // First the owner learns of it (so that the refusals below can say why), then the burst is
  // rolled back at once: the answers waiting for it get their refusal (see Northbound::handle),
  // and no callback still out touches memory that disk does not hold.
  options_.onStorageFailure(why);
  batch_.reset();
  batchWork_.reset();
  alive_.reset();
  clock_.disarm(pollAlarm_);
}

Adapter::Submitted Adapter::storageRefusal() {
  return Submitted::refused(503, "STORAGE_UNAVAILABLE",
                            "the adapter's database refuses writes; nothing was accepted");
}

std::string Adapter::probeStorage(Db& db, Time now) {
  try {
    Db::Transaction tx(db);
    db.prepare("INSERT OR REPLACE INTO adapter_meta (key, value) VALUES ('storage_probe', ?)")
        .bind(1, formatRfc3339(now))
        .step();
    tx.commit();
    return "";
  } catch (const DbError& e) {
    return e.what();
  }
}

void Adapter::afterDurable(std::function<void()> f) {
  db_.afterCommit(std::move(f));
}

void Adapter::afterRollback(std::function<void()> f) {
  db_.afterRollback(std::move(f));
}

void Adapter::emit(const Device& d, const char* type, json content) {
  sink_.enqueue(d.id, type, std::move(content));
}

void Adapter::setState(Device& d, const char* trait, const char* field, json value,
                       const std::string& actionId) {
  json c;
  c["traitName"] = trait;
  c["fieldName"] = field;
  c["value"] = std::move(value);
  if (!actionId.empty()) c["actionId"] = actionId;
  emit(d, "deviceEventSetState", std::move(c));
}

void Adapter::updateAction(Action& a, ActionStatus status, std::string reason) {
  a.status = status;
  if (!a.unresolved()) {
    auto& list = open_[a.deviceId];
    list.erase(std::remove(list.begin(), list.end(), &a), list.end());
  }
  a.reason = std::move(reason);
  a.updatedMs = millisOf(clock_.now());
  json c;
  c["actionId"] = a.id;
  c["status"] = actionStatusName(status);
  if (!a.reason.empty()) c["reason"] = a.reason;
  auto it = devices_.find(a.deviceId);
  if (it != devices_.end()) emit(it->second, "deviceEventUpdateAction", std::move(c));
  saveAction(a);
}

void Adapter::start(std::function<void(const std::string&)> ready) {
  registerWebhook([this, alive = std::weak_ptr<bool>(alive_), ready = std::move(ready)] {
    if (alive.expired()) return;
    // First every lock's state as it is now (what changed while the adapter was away comes
    // before anything its actions cause)…
    discover([this, alive, ready](const std::string& error) {
      if (alive.expired()) return;
      // …then actions accepted before a restart whose Nuki call may not have happened go out
      // again, unless they have waited longer than the retry budget would have let them.
      const int64_t now = millisOf(clock_.now());
      const int64_t budgetMs =
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.actionBudget).count();
      for (auto& entry : actions_) {
        Action& a = entry.second;  // not a structured binding: clang 14 cannot capture one
        if (a.status != ActionStatus::kQueued) continue;
        if (now - a.createdMs <= budgetMs) {
          send(a);
          continue;
        }
        if (!write([&] { updateAction(a, ActionStatus::kTimeout); })) return;
      }
      // Catch up with what happened while the adapter was away (its webhooks may be lost).
      poll([this, alive, ready, error] {
        if (alive.expired()) return;
        schedulePoll();
        if (ready) ready(error);
      });
    });
  });
}

}  // namespace nukihil::adapter
