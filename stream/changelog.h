// Changelogged state: every change an operator makes to a partition's state
// is also written to a compacted changelog (a Kafka topic in the service),
// so the partition's state can be rebuilt wherever the partition goes: on a
// new instance after a rebalance, or after the local state directory is lost.
//
// Changes of all stores of one partition ("convergence-p3", "links-p3", ...)
// go to the same changelog partition (3), each key prefixed with the store's
// name without its partition suffix ("convergence\x1f<key>"), so a compacted
// topic keeps exactly the latest value of every key of every store.
//
// Order on flush() (called before the task commits its input offsets):
//   1. the latest value (or a tombstone) of every key changed since the last
//      flush is appended to the changelog,
//   2. the changelog is synced (every change acknowledged),
//   3. the local store is flushed,
//   4. the changelog offset up to which the local store is complete is
//      recorded in a local checkpoint store.
// So the changelog is never behind the local store, and a local store is
// never trusted beyond its checkpoint.
//
// On open, a store replays its changelog partition from its checkpoint (from
// the beginning when it has none) to the current end before it is used.
//
// Thread: stores are owned by one task thread; the transport is used from
// that thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "stream/state_store.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

class ChangelogTransport {
 public:
  virtual ~ChangelogTransport() = default;

  // Queues one change for changelog partition p; nullopt is a tombstone.
  [[nodiscard]] virtual Status append(Partition p, std::string_view key,
                                      std::optional<std::string_view> value) = 0;
  // Waits until every queued change is durable.
  [[nodiscard]] virtual Status sync() = 0;
  // The offset after the last change to p acknowledged so far, if any.
  virtual std::optional<Offset> synced_end(Partition p) const = 0;

  using Apply = std::function<void(std::string_view key, std::optional<std::string_view> value)>;
  // Replays partition p from offset `from` up to its end as of the call, in
  // order; `end` is set to the offset after the last record read (or to
  // `from` when there was nothing to read).
  [[nodiscard]] virtual Status replay(Partition p, Offset from, const Apply& apply,
                                      Offset& end) = 0;
};

// Counts for the owner's probe and for tests.
struct ChangelogCounters {
  std::uint64_t appended = 0;  // changes written to the changelog
  std::uint64_t restored = 0;  // changes applied from the changelog on open
};

// Wraps `inner`: stores named "<name>-p<N>" are changelogged to partition N
// of `transport`; other names pass through unchanged. Checkpoints live in
// inner's store "changelog-checkpoints". A changelogged store and the
// checkpoint store are opened with inner.open_rebuildable(): the local copy
// needs no log of its own (RocksDB then runs without its write-ahead log for
// them), since whatever a crash loses lies past the surviving checkpoint and
// is replayed from the changelog on open. A restore failure yields a store
// whose flush() fails with the reason (see make_failed_store). `inner`,
// `transport` and `counters` must outlive the factory and its stores.
std::unique_ptr<StateStoreFactory> make_changelog_factory(StateStoreFactory& inner,
                                                          ChangelogTransport& transport,
                                                          ChangelogCounters& counters);

// "convergence-p3" -> ("convergence", 3); nullopt without a partition suffix.
std::optional<std::pair<std::string_view, Partition>> split_partition_suffix(
    std::string_view store_name);

}  // namespace mozaiek
