#include "simulator/journal.h"

namespace nukihil::sim {

JournalEntry& Journal::append(JournalEntry e) {
  ++revision_;
  e.seq = nextSeq_++;
  entries_.push_back(std::move(e));
  while (entries_.size() > limit_)
    entries_.pop_front();
  return entries_.back();
}

JournalEntry* Journal::find(uint64_t seq) {
  if (entries_.empty() || seq < entries_.front().seq || seq > entries_.back().seq) return nullptr;
  ++revision_;
  return &entries_[seq - entries_.front().seq];
}

void Journal::encode(nlohmann::json& j) const {
  auto entries = nlohmann::json::array();
  for (const auto& e : entries_)
    entries.push_back({e.seq, e.atMs, int(e.kind), e.method, e.path, e.status, e.fault, e.webhookId,
                       e.smartlockId, e.feature, e.attempt, e.error, e.requestId});
  j["journal"] = {{"nextSeq", nextSeq_}, {"entries", std::move(entries)}};
}

snapshot::Checked<Journal::Decoded> Journal::decode(const snapshot::In& root, size_t limit) {
  using snapshot::In;
  using snapshot::kMaxText;
  return snapshot::check([&] {
    Decoded d;
    const In journal = root["journal"];
    const In entries = journal["entries"];
    const size_t nEntries = entries.array(limit);
    for (size_t i = 0; i < nEntries; ++i) {
      const In e = entries[i];
      // 13 fields; 12 in snapshots written before the request id was journaled.
      const size_t fields = e.array();
      if (fields != 12 && fields != 13) e.fail("must be a journal record of 13 fields");
      JournalEntry je;
      // Sequence numbers run without gaps: the journal finds an entry by its offset.
      je.seq = e[0].u64();
      if (je.seq == 0 || je.seq >= (uint64_t(1) << 53) ||
          (i > 0 && je.seq != d.entries.front().seq + i))
        e[0].fail("must follow the entry before it by one");
      je.atMs = e[1].instant(snapshot::kEarliestMs, snapshot::kLatestMs);
      je.kind = JournalEntry::Kind(e[2].integer(JournalEntry::kApi, JournalEntry::kWebhook));
      je.method = e[3].string(64);
      je.path = e[4].string(kMaxText);
      je.status = int(e[5].integer(0, 999));
      je.fault = e[6].string(kMaxText);
      je.webhookId = e[7].i32();
      je.smartlockId = e[8].u64();
      je.feature = e[9].string(64);
      je.attempt = e[10].u32();
      je.error = e[11].string(kMaxText);
      if (fields == 13) je.requestId = e[12].string(3 * 256);  // 256 bytes, %-escaped
      d.entries.push_back(std::move(je));
    }
    d.nextSeq = journal["nextSeq"].u64();
    if (d.entries.empty() ? (d.nextSeq == 0 || d.nextSeq >= (uint64_t(1) << 53))
                          : d.nextSeq != d.entries.back().seq + 1)
      journal["nextSeq"].fail("must follow the last entry by one");
    return d;
  });
}

void Journal::adopt(Decoded decoded) {
  entries_ = std::move(decoded.entries);
  nextSeq_ = decoded.nextSeq;
  ++revision_;
}

void Journal::clear() {
  entries_.clear();
  nextSeq_ = 1;
  ++revision_;
}

}  // namespace nukihil::sim
