#include "stream/changelog.h"

#include <charconv>
#include <string>

#include "stream/string_table.h"

namespace mozaiek {
namespace {

constexpr std::string_view kCheckpointStore = "changelog-checkpoints";
constexpr char kKeySeparator = '\x1f';  // between store name and key
// Restored changes are written through to the local store in slices of
// this many, so a large partition is not held in memory at once.
constexpr std::size_t kRestoreSlice = 16384;

std::string encode_offset(Offset o) { return std::to_string(raw(o)); }

std::optional<Offset> decode_offset(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return Offset{v};
}

class ChangelogStore final : public StateStore {
 public:
  ChangelogStore(std::unique_ptr<StateStore> inner, std::unique_ptr<StateStore> checkpoints,
                 std::string name, std::string prefix, Partition partition,
                 ChangelogTransport& transport, ChangelogCounters& counters)
      : inner_(std::move(inner)),
        checkpoints_(std::move(checkpoints)),
        name_(std::move(name)),
        prefix_(std::move(prefix)),
        partition_(partition),
        transport_(transport),
        counters_(counters) {}

  bool get(std::string_view key, std::string& value) override { return inner_->get(key, value); }

  void put(std::string_view key, std::string_view value) override {
    inner_->put(key, value);
    note(key);
  }

  void erase(std::string_view key) override {
    inner_->erase(key);
    note(key);
  }

  void scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& visit) override {
    inner_->scan(prefix, visit);
  }

  Status flush() override {
    if (changed_.size() == 0) return inner_->flush();
    Status s = Status::ok();
    changed_.for_each([&](const ChangedTable::Node& n) {
      if (!s) return;
      key_.assign(prefix_).append(n.key);
      if (inner_->get(n.key, value_)) {
        s = transport_.append(partition_, key_, value_);
      } else {
        s = transport_.append(partition_, key_, std::nullopt);
      }
      ++counters_.appended;
    });
    if (s) s = transport_.sync();
    if (!s) return Status::error("changelog of state store " + name_ + ": " + s.message());
    changed_.recycle_all();
    if (Status f = inner_->flush(); !f) return f;
    if (const auto end = transport_.synced_end(partition_)) {
      checkpoints_->put(name_, encode_offset(*end));
      return checkpoints_->flush();
    }
    return Status::ok();
  }

  std::size_t approximate_entries() override { return inner_->approximate_entries(); }

 private:
  using ChangedTable = StringTable<bool>;

  void note(std::string_view key) {
    const std::uint64_t h = ChangedTable::hash(key);
    if (changed_.find(key, h) == nullptr) changed_.insert(key, h);
  }

  std::unique_ptr<StateStore> inner_;
  std::unique_ptr<StateStore> checkpoints_;
  std::string name_;
  std::string prefix_;  // "<store name without partition>\x1f"
  Partition partition_;
  ChangelogTransport& transport_;
  ChangelogCounters& counters_;
  ChangedTable changed_;  // keys changed since the last flush
  std::string key_;       // scratch
  std::string value_;     // scratch
};

class ChangelogFactory final : public StateStoreFactory {
 public:
  ChangelogFactory(StateStoreFactory& inner, ChangelogTransport& transport,
                   ChangelogCounters& counters)
      : inner_(inner), transport_(transport), counters_(counters) {}

  std::unique_ptr<StateStore> open(std::string_view name) override {
    const auto split = split_partition_suffix(name);
    if (!split) return inner_.open(name);
    std::string prefix(split->first);
    prefix.push_back(kKeySeparator);
    // The changelog is these stores' log: the local copy may skip its own,
    // as long as a checkpoint never outlives the data it vouches for (the
    // guarantee of open_rebuildable, which both are opened with).
    auto store = inner_.open_rebuildable(name);
    auto checkpoints = inner_.open_rebuildable(kCheckpointStore);
    if (Status s = restore(name, prefix, split->second, *store, *checkpoints); !s) {
      return make_failed_store(Status::error("restoring state store " + std::string(name) +
                                             " from its changelog: " + s.message()));
    }
    return std::make_unique<ChangelogStore>(std::move(store), std::move(checkpoints),
                                            std::string(name), std::move(prefix), split->second,
                                            transport_, counters_);
  }

 private:
  // Brings `store` up to the end of its changelog partition, starting where
  // its checkpoint says it is complete (from the beginning without one).
  Status restore(std::string_view name, std::string_view prefix, Partition p, StateStore& store,
                 StateStore& checkpoints) {
    Offset from{0};
    std::string text;
    if (checkpoints.get(name, text)) {
      if (auto o = decode_offset(text)) from = *o;
    }
    std::size_t pending = 0;
    Status write_error = Status::ok();
    Offset end{0};
    Status s = transport_.replay(
        p, from,
        [&](std::string_view key, std::optional<std::string_view> value) {
          if (key.substr(0, prefix.size()) != prefix) return;  // another store's change
          key.remove_prefix(prefix.size());
          if (value) {
            store.put(key, *value);
          } else {
            store.erase(key);
          }
          ++counters_.restored;
          if (++pending == kRestoreSlice) {
            pending = 0;
            if (Status f = store.flush(); !f && write_error) write_error = f;
          }
        },
        end);
    if (!s) return s;
    if (!write_error) return write_error;
    if (Status f = store.flush(); !f) return f;
    if (raw(end) != raw(from)) {
      checkpoints.put(name, encode_offset(end));
      return checkpoints.flush();
    }
    return Status::ok();
  }

  StateStoreFactory& inner_;
  ChangelogTransport& transport_;
  ChangelogCounters& counters_;
};

}  // namespace

std::optional<std::pair<std::string_view, Partition>> split_partition_suffix(
    std::string_view name) {
  const auto dash = name.rfind("-p");
  if (dash == std::string_view::npos || dash == 0 || dash + 2 == name.size()) return std::nullopt;
  const std::string_view digits = name.substr(dash + 2);
  std::int32_t p = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
  if (ec != std::errc() || end != digits.data() + digits.size() || p < 0) return std::nullopt;
  return std::make_pair(name.substr(0, dash), Partition{p});
}

std::unique_ptr<StateStoreFactory> make_changelog_factory(StateStoreFactory& inner,
                                                          ChangelogTransport& transport,
                                                          ChangelogCounters& counters) {
  return std::make_unique<ChangelogFactory>(inner, transport, counters);
}

}  // namespace mozaiek
