#include "connectors/app/pseudonym_state.h"

#include <array>
#include <charconv>
#include <memory>
#include <utility>
#include <vector>

#include "connectors/kafka/kafka_changelog.h"
#include "operators/linking/link_state.h"
#include "operators/oversight/oversight_records.h"
#include "stream/changelog.h"
#include "stream/rocksdb_state.h"

namespace mozaiek {
namespace {

constexpr std::string_view kVersionKey = "version";
constexpr std::string_view kRekeyKey = "rekey";

// The person-keyed stores of a partition and the prefix of their person keys.
struct StoreKind {
  std::string_view name;
  std::string_view person_prefix;
};
constexpr std::array<StoreKind, 3> kKinds{{
    {"convergence", "person:"},
    {"links", "person:"},
    {"oversight", "p:"},
}};
constexpr std::string_view kOversightLocationPrefix = "l:";

std::string store_name(const StoreKind& kind, int partition) {
  return std::string(kind.name) + "-p" + std::to_string(partition);
}
std::string staging_name(const std::string& store) { return "rekey-stage(" + store + ")"; }

int parse_int(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : -1;
}

bool has_entries(StateStore& store) {
  bool any = false;
  store.scan("", [&any](std::string_view, std::string_view) {
    any = true;
    return false;
  });
  return any;
}

std::vector<std::string> keys_of(StateStore& store) {
  std::vector<std::string> keys;
  store.scan("", [&keys](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  return keys;
}

void erase_all(StateStore& store) {
  for (const auto& k : keys_of(store)) store.erase(k);
}

// One rekey run: the stores it holds open and what it counted.
class Rekeyer {
 public:
  Rekeyer(StateStoreFactory& stores, const OperatorConfig& config,
          const Pseudonymiser& pseudonymiser, const RekeyOptions& options, RekeyReport& report)
      : pseudonymiser_(pseudonymiser), options_(options), report_(report), link_codec_(config) {
    for (int p = 0; p < options.partitions; ++p) {
      for (const auto& kind : kKinds) {
        Target t{store_name(kind, p), nullptr, nullptr};
        t.data = stores.open(t.name);
        t.staging = stores.open(staging_name(t.name));
        targets_.push_back(std::move(t));
      }
    }
  }

  // A store that could not be opened or restored (from its changelog)
  // reads as empty and fails every flush: find out before staging
  // anything, or an empty staging copy could replace real state.
  Status opened() {
    for (auto& t : targets_) {
      if (Status s = t.data->flush(); !s) return Status::error(t.name + ": " + s.message());
      if (Status s = t.staging->flush(); !s) return Status::error("staging: " + s.message());
    }
    return Status::ok();
  }

  // Writes the new content of every data store into its staging store.
  Status stage(int from) {
    for (auto& t : targets_) erase_all(*t.staging);
    for (int p = 0; p < options_.partitions; ++p) {
      for (std::size_t k = 0; k < kKinds.size(); ++k) {
        Target& source = target(p, k);
        std::size_t entries = 0;
        const std::size_t persons_before = report_.persons;
        source.data->scan("", [&](std::string_view key, std::string_view value) {
          stage_entry(from, p, k, key, value);
          ++entries;
          return true;
        });
        // Written per source store, so memory holds one store's entries.
        for (auto& t : targets_) {
          if (Status s = t.staging->flush(); !s) return Status::error("staging: " + s.message());
        }
        say("staged " + source.name + ": " + std::to_string(entries) + " entries, " +
            std::to_string(report_.persons - persons_before) + " persons");
      }
    }
    return Status::ok();
  }

  // Replaces every data store's content with its staging store's; false in
  // `done` when stopped early (options.stop_after_copied).
  Status copy_back(bool& done) {
    report_.entries = 0;
    done = false;
    int copied = 0;
    for (auto& t : targets_) {
      if (copied++ == options_.stop_after_copied) return Status::ok();
      erase_all(*t.data);
      std::size_t n = 0;
      t.staging->scan("", [&](std::string_view key, std::string_view value) {
        t.data->put(key, value);
        ++n;
        return true;
      });
      if (Status s = t.data->flush(); !s) return Status::error(t.name + ": " + s.message());
      report_.entries += n;
      say("wrote " + t.name + ": " + std::to_string(n) + " entries");
    }
    done = true;
    return Status::ok();
  }

  // Empties the staging stores; only once the new version is recorded (a
  // re-run before that copies from them again).
  Status clear_staging() {
    for (auto& t : targets_) {
      erase_all(*t.staging);
      if (Status s = t.staging->flush(); !s) return Status::error("staging: " + s.message());
    }
    return Status::ok();
  }

 private:
  struct Target {
    std::string name;
    std::unique_ptr<StateStore> data;
    std::unique_ptr<StateStore> staging;
  };

  Target& target(int partition, std::size_t kind) {
    return targets_[static_cast<std::size_t>(partition) * kKinds.size() + kind];
  }
  void say(const std::string& line) {
    if (options_.progress) options_.progress(line);
  }

  // A pseudonym in `text` moved to the newest version into `out`; false
  // (out untouched) when `text` is no pseudonym.
  bool rekey_pseudonym(int from, std::string_view text, std::string& out) {
    if (!is_pseudonym(text)) return false;
    pseudonymiser_.rekey(text, from, out);
    return true;
  }

  void stage_entry(int from, int partition, std::size_t kind, std::string_view key,
                   std::string_view value) {
    const StoreKind& k = kKinds[kind];
    key_.assign(key);
    int to_partition = partition;
    if (key.substr(0, k.person_prefix.size()) == k.person_prefix &&
        rekey_pseudonym(from, key.substr(k.person_prefix.size()), pseudonym_)) {
      key_.assign(k.person_prefix).append(pseudonym_);
      ++report_.persons;
      if (options_.partitions > 1) {
        routing_key_.assign("person:").append(pseudonym_);
        to_partition = murmur2_partition(routing_key_, options_.partitions);
        if (to_partition != partition) ++report_.moved_partition;
      }
    }
    std::string_view out_value = value;
    if (k.name == "links") {
      if (rewrite_links(from, value)) out_value = value_;
    } else if (k.name == "oversight" &&
               key.substr(0, kOversightLocationPrefix.size()) == kOversightLocationPrefix) {
      if (rewrite_departures(from, value)) out_value = value_;
    }
    target(to_partition, kind).staging->put(key_, out_value);
  }

  // The persons a linked entity names, moved; value_ holds the new bytes.
  bool rewrite_links(int from, std::string_view value) {
    linking::EntityLinks e;
    if (!link_codec_.decode(value, e)) {
      ++report_.undecodable;
      return false;
    }
    bool changed = false;
    for (auto& l : e.links) {
      if (l.type == SubjectType::person && rekey_pseudonym(from, l.key, pseudonym_)) {
        l.key = pseudonym_;
        ++report_.named_inside;
        changed = true;
      }
    }
    if (changed) link_codec_.encode(e, value_);
    return changed;
  }

  // The persons behind a location's recorded departures, moved.
  bool rewrite_departures(int from, std::string_view value) {
    oversight::LocationState l;
    if (!oversight::decode(value, l)) {
      ++report_.undecodable;
      return false;
    }
    bool changed = false;
    for (auto& d : l.departures) {
      if (rekey_pseudonym(from, d.person_key, pseudonym_)) {
        d.person_key = pseudonym_;
        ++report_.named_inside;
        changed = true;
      }
    }
    if (changed) {
      value_.clear();
      oversight::encode(l, value_);
    }
    return changed;
  }

  const Pseudonymiser& pseudonymiser_;
  const RekeyOptions& options_;
  RekeyReport& report_;
  linking::LinkCodec link_codec_;
  std::vector<Target> targets_;                        // partition-major, kKinds order within
  std::string key_, value_, pseudonym_, routing_key_;  // scratch
};

std::string partition_mark_name(int partition) {
  return "pseudonyms-p" + std::to_string(partition);
}

class KeyVersionGuard final : public StateStoreFactory {
 public:
  KeyVersionGuard(StateStoreFactory& inner, int running) : inner_(inner), running_(running) {}

  std::unique_ptr<StateStore> open(std::string_view name) override {
    auto store = inner_.open(name);
    const auto split = split_partition_suffix(name);
    if (!split || split->first != kKinds[0].name) return store;
    const int partition = static_cast<int>(raw(split->second));
    auto mark = inner_.open(partition_mark_name(partition));
    std::string value;
    int version = running_;
    if (mark->get(kVersionKey, value)) {
      version = parse_int(value);
    } else if (has_entries(*store)) {
      version = 1;  // restored state from before versions
    }
    if (version != running_) {
      return make_failed_store(Status::error(
          "partition " + std::to_string(partition) +
          " of the state changelog was written under "
          "pseudonym key version " +
          std::to_string(version) + ", the running key is version " + std::to_string(running_) +
          ": stop every instance and run `mozaiek rekey --config FILE`"));
    }
    if (value.empty()) {
      mark->put(kVersionKey, std::to_string(running_));
      if (Status s = mark->flush(); !s) return make_failed_store(s);
    }
    return store;
  }

 private:
  StateStoreFactory& inner_;
  int running_;
};

}  // namespace

std::unique_ptr<StateStoreFactory> make_key_version_guard(StateStoreFactory& inner,
                                                          int running_version) {
  return std::make_unique<KeyVersionGuard>(inner, running_version);
}

std::int32_t murmur2_partition(std::string_view key, std::int32_t partitions) {
  // Kafka's murmur2 (the Java client's and librdkafka's), seed 0x9747b28c.
  constexpr std::uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t len = key.size();
  std::uint32_t h = 0x9747b28cU ^ static_cast<std::uint32_t>(len);
  const std::size_t blocks = len / 4;
  for (std::size_t i = 0; i < blocks; ++i) {
    const unsigned char* b = data + i * 4;
    std::uint32_t k = static_cast<std::uint32_t>(b[0]) | (static_cast<std::uint32_t>(b[1]) << 8) |
                      (static_cast<std::uint32_t>(b[2]) << 16) |
                      (static_cast<std::uint32_t>(b[3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const unsigned char* tail = data + blocks * 4;
  switch (len & 3) {
    case 3: h ^= static_cast<std::uint32_t>(tail[2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<std::uint32_t>(tail[1]) << 8; [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint32_t>(tail[0]);
      h *= m;
      break;
    default: break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>((h & 0x7fffffffU) % static_cast<std::uint32_t>(partitions));
}

StateKeyVersion read_state_key_version(StateStoreFactory& stores, int partitions) {
  StateKeyVersion out;
  auto marker = stores.open(kPseudonymKeyStore);
  std::string value;
  if (marker->get(kRekeyKey, value)) out.rekey_to = value;
  if (marker->get(kVersionKey, value)) {
    out.version = parse_int(value);
    out.marked = true;
    return out;
  }
  marker.reset();
  for (int p = 0; p < partitions && out.version == 0; ++p) {
    for (const auto& kind : kKinds) {
      auto store = stores.open(store_name(kind, p));
      if (has_entries(*store)) {
        out.version = 1;  // written before pseudonyms carried a version
        break;
      }
    }
  }
  return out;
}

Status check_state_key_version(StateStoreFactory& stores, int partitions, int running_version,
                               std::string_view where) {
  const StateKeyVersion state = read_state_key_version(stores, partitions);
  const std::string at = "state " + std::string(where) + ": ";
  const std::string running = std::to_string(running_version);
  if (!state.rekey_to.empty()) {
    return Status::error(at + "an interrupted `mozaiek rekey` (" + state.rekey_to +
                         ") left it unfinished; run `mozaiek rekey` again to finish it");
  }
  if (state.version == running_version && state.marked) return Status::ok();
  if (state.version == 0 || state.version == running_version) {
    auto marker = stores.open(kPseudonymKeyStore);
    marker->put(kVersionKey, running);
    if (Status s = marker->flush(); !s) return Status::error(at + s.message());
    return Status::ok();
  }
  if (state.version < running_version) {
    return Status::error(at + "written under pseudonym key version " +
                         std::to_string(state.version) + ", the running key is version " + running +
                         "; stop every instance and run `mozaiek rekey --config FILE` to move "
                         "the state to version " +
                         running + " (README: Pseudonym key rotation)");
  }
  return Status::error(at + "written under pseudonym key version " + std::to_string(state.version) +
                       ", but the key list only goes to version " + running +
                       ": privacy.pseudonym_key_file lacks the newer key");
}

Status rekey_state(StateStoreFactory& stores, const OperatorConfig& config,
                   const Pseudonymiser& pseudonymiser, const RekeyOptions& options,
                   RekeyReport& report) {
  report = RekeyReport{};
  const int to = pseudonymiser.key_version();
  report.to = to;
  const StateKeyVersion state = read_state_key_version(stores, options.partitions);
  report.from = state.version;
  auto marker = stores.open(kPseudonymKeyStore);
  if (!state.rekey_to.empty()) {
    const std::size_t colon = state.rekey_to.find(':');
    const int mark_from = parse_int(std::string_view(state.rekey_to).substr(0, colon));
    const int mark_to = colon == std::string::npos
                            ? -1
                            : parse_int(std::string_view(state.rekey_to).substr(colon + 1));
    if (mark_to != to) {
      return Status::error("an unfinished rekey to key version " + std::to_string(mark_to) +
                           " is committed in this state, but the key list is at version " +
                           std::to_string(to) + ": run rekey again with that key list");
    }
    report.from = mark_from;
    report.resumed = true;
  } else if (state.version == 0 || state.version == to) {
    report.from = to;
    report.already_current = true;
    marker->put(kVersionKey, std::to_string(to));
    return marker->flush();
  } else if (state.version > to) {
    return Status::error("the state is at pseudonym key version " + std::to_string(state.version) +
                         ", newer than the key list (version " + std::to_string(to) + ")");
  }

  Rekeyer rekeyer(stores, config, pseudonymiser, options, report);
  if (Status s = rekeyer.opened(); !s) return s;
  if (!report.resumed) {
    if (Status s = rekeyer.stage(report.from); !s) return s;
    if (options.stop_after_staging) return Status::ok();
    marker->put(kRekeyKey, std::to_string(report.from) + ":" + std::to_string(to));
    if (Status s = marker->flush(); !s) return s;
  }
  bool done = false;
  if (Status s = rekeyer.copy_back(done); !s) return s;
  if (!done) return Status::ok();
  // The partitions' changelogged marks, for instances that restore from it.
  for (int p = 0; p < options.partitions; ++p) {
    auto mark = stores.open(partition_mark_name(p));
    mark->put(kVersionKey, std::to_string(to));
    if (Status s = mark->flush(); !s) return s;
  }
  marker->put(kVersionKey, std::to_string(to));
  marker->erase(kRekeyKey);
  if (Status s = marker->flush(); !s) return s;
  return rekeyer.clear_staging();
}

Status rekey_state_dir(const Settings& settings, const std::string& dir, bool replay_dir,
                       const Pseudonymiser& pseudonymiser, RekeyOptions options,
                       RekeyReport& report, bool& changelog_written) {
  changelog_written = false;
  Status status = Status::ok();
  // RocksDB locks its directory: a running service (or replay) keeps us out.
  auto db = RocksStateDb::open(dir, status);
  if (!db) {
    return Status::error("state directory " + dir + ": " + status.message() +
                         " (is mozaiek still running on it? stop every instance first)");
  }
  auto local = db->factory();
  std::unique_ptr<KafkaChangelog> changelog;
  ChangelogCounters counters;
  std::unique_ptr<StateStoreFactory> changelogged;
  if (!replay_dir && settings.brokers != "embedded") {
    changelog = KafkaChangelog::create(settings.kafka_settings(), settings.changelog_topic(),
                                       status);
    if (!changelog) {
      return Status::error("state changelog " + settings.changelog_topic() + ": " +
                           status.message());
    }
    changelogged = make_changelog_factory(*local, *changelog, counters);
  }
  options.partitions = replay_dir ? 1 : settings.partitions;
  Status s = rekey_state(changelogged ? *changelogged : *local, settings.operators, pseudonymiser,
                         options, report);
  changelog_written = s.is_ok() && changelogged != nullptr && !report.already_current;
  return s;
}

}  // namespace mozaiek
