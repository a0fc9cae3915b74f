// What the simulator did on the wire, in order: Nuki API requests served and Nuki webhook
// deliveries tried. Bounded: the oldest entries fall off past the limit; sequence numbers stay.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "runtime/time.h"
#include "simulator/snapshot_codec.h"

namespace nukihil::sim {

struct JournalEntry {
  uint64_t seq = 0;
  int64_t atMs = 0;
  enum Kind : uint8_t { kApi, kWebhook } kind = kApi;
  std::string method;     // api
  std::string path;       // api: path and query; webhook: the URL
  int status = 0;         // HTTP status; 0 while a delivery is in flight or failed without one
  std::string fault;      // api: the fault applied, if any
  std::string requestId;  // api: the client's X-Request-ID, if it sent one
  // webhook
  int32_t webhookId = 0;
  uint64_t smartlockId = 0;
  std::string feature;
  uint32_t attempt = 0;
  std::string error;
};

class Journal {
 public:
  explicit Journal(size_t limit = 100000) : limit_(limit) {}
  JournalEntry& append(JournalEntry e);
  // The entry with that sequence number, if still held, for updating (a delivery's outcome).
  JournalEntry* find(uint64_t seq);
  // Bumps with every append, every entry handed out for updating and every replacement: a
  // client that saw the same revision has seen the journal as it is (GET /sim/v1/changes).
  uint64_t revision() const { return revision_; }
  const std::deque<JournalEntry>& entries() const { return entries_; }
  uint64_t nextSeq() const { return nextSeq_; }
  void clear();

  // ---- Snapshot: the entries held and the next sequence number.
  struct Decoded {
    std::deque<JournalEntry> entries;
    uint64_t nextSeq = 1;
  };
  // Writes "journal" into the snapshot object.
  void encode(nlohmann::json& snapshot) const;
  // Reads and checks a snapshot's "journal" (at most `limit` entries, numbered without gaps);
  // changes nothing.
  static snapshot::Checked<Decoded> decode(const snapshot::In& snapshot, size_t limit);
  // Replaces the entries and the next sequence number by decoded ones.
  void adopt(Decoded decoded);

 private:
  size_t limit_;
  std::deque<JournalEntry> entries_;
  uint64_t nextSeq_ = 1;
  uint64_t revision_ = 0;
};

}  // namespace nukihil::sim
