// Snapshot and restore of the whole simulated world. A snapshot holds everything that decides
// the future: clock, random state, id counters, accounts, bridges, locks (device truth, web
// view, queues, logs), scheduled events, webhook registrations and their undelivered events,
// faults and the journal. Each part is encoded and decoded beside its component (World,
// Scheduler, Webhooks, Faults, Journal; simulator/snapshot_codec.h is what they share); here
// they are put together, and a restore decodes and checks every part before it commits any.
#include "simulator/routes.h"
#include "simulator/snapshot_codec.h"

namespace nukihil::sim {

namespace {

using nlohmann::json;
constexpr int kSnapshotVersion = 1;

// The simulator's own part: the clock and the random generator.
struct Own {
  Time now;
  Random::State random{};
};

Own decodeOwn(const snapshot::In& root) {
  Own d;
  d.now = timeFromMillis(root["nowMs"].instant(snapshot::kEarliestMs, snapshot::kLatestMs - 1));
  const snapshot::In random = root["random"];
  if (random.array() != 4) random.fail("must hold 4 state words");
  bool allZero = true;
  for (size_t i = 0; i < 4; ++i) {
    d.random[i] = random[i].u64();
    allZero = allZero && d.random[i] == 0;
  }
  if (allZero) random.fail("an all-zero state would draw zeros forever");
  return d;
}

Error badSnapshot(const std::string& refusal) {
  return Error::make(400, "BAD_SNAPSHOT", refusal);
}

}  // namespace

json Simulator::snapshot() const {
  json j;
  j["format"] = "nukisim-snapshot";
  j["version"] = kSnapshotVersion;
  j["seed"] = options_.seed;
  j["nowMs"] = millisOf(clock_.now());
  j["random"] = random_.state();
  world_.encode(j);
  scheduler_.encode(j);
  webhooks_.encode(j);
  faults_.encode(j);
  journal_.encode(j);
  return j;
}

Error Simulator::restore(const json& j) {
  // Types first: json::value() throws on a key of another type ({"format":1} was a 500).
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>() != "nukisim-snapshot")
    return Error::make(400, "BAD_SNAPSHOT", "format: not a nukisim snapshot");
  if (!j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int64_t>() != kSnapshotVersion)
    return Error::make(400, "BAD_SNAPSHOT", "version: unsupported snapshot version");

  // Decode and check every part first: a damaged snapshot leaves the world as it was. The
  // order decides which refusal a snapshot damaged in several places gets.
  const snapshot::In root(j, "");
  auto own = snapshot::check([&] { return decodeOwn(root); });
  if (!own.ok()) return badSnapshot(own.refusal());
  auto world = World::decode(root, options_.maxLogsPerLock);
  if (!world.ok()) return badSnapshot(world.refusal());
  auto hooks = Webhooks::decode(root, world.value());
  if (!hooks.ok()) return badSnapshot(hooks.refusal());
  auto events = Scheduler::decode(root, world.value().locks.size());
  if (!events.ok()) return badSnapshot(events.refusal());
  auto faults = Faults::decode(root);
  if (!faults.ok()) return badSnapshot(faults.refusal());
  auto journal = Journal::decode(root, options_.journalLimit);
  if (!journal.ok()) return badSnapshot(journal.refusal());

  // Commit: nothing below can fail.
  const Time now = own.value().now;
  if (clock_.isVirtual()) {
    auto& vc = static_cast<VirtualClock&>(clock_);
    if (vc.advancing())
      return Error::make(409, "ADVANCE_IN_PROGRESS", "cannot restore during an advance");
    vc.set(now);
  } else {
    static_cast<RealClock&>(clock_).rebase(now);
  }
  random_.setState(own.value().random);
  world_.adopt(std::move(world.value()));
  faults_.adopt(std::move(faults.value()));
  journal_.adopt(std::move(journal.value()));
  scheduler_.adopt(std::move(events.value()));
  webhooks_.adopt(std::move(hooks.value()), now);  // after the scheduler: it schedules resends
  return Error::none();
}

}  // namespace nukihil::sim
