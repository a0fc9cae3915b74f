#include "simulator/journal.h"

namespace nukihil::sim {

JournalEntry& Journal::append(JournalEntry e) {
  e.seq = nextSeq_++;
  entries_.push_back(std::move(e));
  while (entries_.size() > limit_)
    entries_.pop_front();
  return entries_.back();
}

JournalEntry* Journal::find(uint64_t seq) {
  if (entries_.empty() || seq < entries_.front().seq || seq > entries_.back().seq) return nullptr;
  return &entries_[seq - entries_.front().seq];
}

void Journal::restore(std::deque<JournalEntry> entries, uint64_t nextSeq) {
  entries_ = std::move(entries);
  nextSeq_ = nextSeq;
}

void Journal::clear() {
  entries_.clear();
  nextSeq_ = 1;
}

}  // namespace nukihil::sim
