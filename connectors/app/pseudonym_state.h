// The pseudonym key version of a state directory, and `mozaiek rekey`'s
// move of person-keyed state from one key version to the next.
//
// Person pseudonyms are chained (operators/intake/pseudonymiser.h): the
// pseudonym under version n is HMAC(k_n, pseudonym under n-1). So state
// kept under version s moves to version t by applying the MACs of versions
// s+1 .. t to every stored pseudonym, with no raw id: the keys of persons
// in the convergence, link and oversight stores, the persons named inside
// link values (a vehicle's links to persons) and inside oversight location
// values (the persons behind recorded departures). Vehicles, locations,
// meldingen, scores, contributions, episodes and counts are copied as they
// are. With more than one partition a moved person lands on the partition
// Kafka's murmur2 partitioner gives its routing key ("person:<pseudonym>"),
// as the internal subjects topic will route it from then on.
//
// The version is kept in the unpartitioned store "pseudonym-key" (key
// "version"); state from before versions (no marker, data present) is
// version 1. rekey is idempotent and restartable: it first writes the full
// new content of every store into staging stores, then marks the rekey as
// committed ("rekey" = "<from>:<to>"), then copies the staging stores over
// the data stores and records the new version. Interrupted before the mark,
// a re-run starts over from the untouched data; after it, a re-run finishes
// the copy. While the mark is there the state refuses to be used.
//
// Thread: the caller's, with the stores opened from `stores` by nobody else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "connectors/app/settings.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/model/model.h"
#include "stream/state_store.h"
#include "stream/status.h"

namespace mozaiek {

inline constexpr std::string_view kPseudonymKeyStore = "pseudonym-key";

// What a state directory says about its key version.
struct StateKeyVersion {
  int version = 0;       // 0: no person-keyed state and no marker (fresh)
  bool marked = false;   // the marker is present (else inferred)
  std::string rekey_to;  // non-empty while a committed rekey is unfinished
};

// Reads the marker of the state behind `stores` (the data stores of
// partitions 0 .. partitions-1 are looked into only without a marker).
StateKeyVersion read_state_key_version(StateStoreFactory& stores, int partitions);

// Refuses state written under another key version than `running_version`,
// naming `mozaiek rekey`; fresh state is marked with the running version.
// `where` names the state in the message (a directory).
[[nodiscard]] Status check_state_key_version(StateStoreFactory& stores, int partitions,
                                             int running_version, std::string_view where);

// Wraps the service's changelogged store factory, for a new instance that
// restores partitions from the changelog: when a partition's first store
// ("convergence-p<N>") is opened, the partition's changelogged mark
// ("pseudonyms-p<N>", key "version"; restored data without a mark is
// version 1) must be `running_version`, else that store is a failed store
// whose flush fails with a message naming `mozaiek rekey` (the task stops
// before committing). Fresh partitions are marked. `inner` must outlive it.
std::unique_ptr<StateStoreFactory> make_key_version_guard(StateStoreFactory& inner,
                                                          int running_version);

// Kafka's murmur2 partitioner (librdkafka `murmur2_random` for keyed records).
std::int32_t murmur2_partition(std::string_view key, std::int32_t partitions);

struct RekeyOptions {
  int partitions = 1;  // the state's partitions: 1 for a replay directory
  // One line per step ("staged links-p0: 120 entries, 14 persons"); may be empty.
  std::function<void(const std::string&)> progress;
  // Tests, to simulate an interruption: return right after the staging
  // stores are written (before the commit mark), or after copying this many
  // stores back (after it; -1: never).
  bool stop_after_staging = false;
  int stop_after_copied = -1;
};

struct RekeyReport {
  int from = 0;
  int to = 0;
  bool already_current = false;     // nothing to do
  bool resumed = false;             // finished a committed, interrupted rekey
  std::size_t entries = 0;          // entries written to the data stores
  std::size_t persons = 0;          // person-keyed entries moved to their new pseudonym
  std::size_t named_inside = 0;     // pseudonyms rewritten inside values (links, departures)
  std::size_t moved_partition = 0;  // entries that changed partition
  std::size_t undecodable = 0;      // values that could not be read (copied unchanged)
};

// Moves every person-keyed entry from the state's key version to
// pseudonymiser.key_version(). Fails without touching the data stores when
// the state is newer than the key list or its values cannot be staged.
[[nodiscard]] Status rekey_state(StateStoreFactory& stores, const OperatorConfig& config,
                                 const Pseudonymiser& pseudonymiser, const RekeyOptions& options,
                                 RekeyReport& report);

// What `mozaiek rekey` does to a state directory: `replay_dir` (everything
// on partition 0, no changelog) or the service's (settings.partitions; on a
// real cluster, kafka.brokers not "embedded", through the state changelog:
// every partition restored from it first, every change written back, so a
// restore elsewhere gives the new keys; `changelog_written` says so). A
// directory in use (RocksDB's lock) fails with "still running".
[[nodiscard]] Status rekey_state_dir(const Settings& settings, const std::string& dir,
                                     bool replay_dir, const Pseudonymiser& pseudonymiser,
                                     RekeyOptions options, RekeyReport& report,
                                     bool& changelog_written);

}  // namespace mozaiek
