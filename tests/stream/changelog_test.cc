// The changelog protocol over an in-memory log: what a store writes, what a
// fresh instance rebuilds, and in which order things become durable.
#include "stream/changelog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <vector>

#include "stream/rocksdb_state.h"

namespace mozaiek {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// A log per partition, like a topic without compaction. Appends become
// visible to replay (and count as synced) only on sync().
class MemoryLog final : public ChangelogTransport {
 public:
  struct Entry {
    std::string key;
    std::optional<std::string> value;
  };

  Status append(Partition p, std::string_view key, std::optional<std::string_view> value) override {
    queued_.emplace_back(p, Entry{std::string(key),
                                  value ? std::optional<std::string>(*value) : std::nullopt});
    return Status::ok();
  }
  Status sync() override {
    ++syncs;
    if (fail_sync) return Status::error("broker down");
    for (auto& [p, e] : queued_) log[raw(p)].push_back(std::move(e));
    queued_.clear();
    return Status::ok();
  }
  std::optional<Offset> synced_end(Partition p) const override {
    auto it = log.find(raw(p));
    if (it == log.end() || it->second.empty()) return std::nullopt;
    return Offset{static_cast<std::int64_t>(it->second.size())};
  }
  Status replay(Partition p, Offset from, const Apply& apply, Offset& end) override {
    replays.emplace_back(raw(p), raw(from));
    const auto& entries = log[raw(p)];
    std::int64_t i = raw(from);
    for (; i < static_cast<std::int64_t>(entries.size()); ++i) {
      const Entry& e = entries[static_cast<std::size_t>(i)];
      if (e.value) {
        apply(e.key, std::string_view(*e.value));
      } else {
        apply(e.key, std::nullopt);
      }
    }
    end = Offset{std::max(i, raw(from))};
    return Status::ok();
  }

  std::map<std::int32_t, std::vector<Entry>> log;
  std::vector<std::pair<std::int32_t, std::int64_t>> replays;  // (partition, from)
  int syncs = 0;
  bool fail_sync = false;

 private:
  std::vector<std::pair<Partition, Entry>> queued_;
};

std::map<std::string, std::string> contents(StateStore& store) {
  std::map<std::string, std::string> out;
  store.scan("", [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  return out;
}

class ChangelogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("mozaiek-changelog-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // One "instance": a RocksDB state directory of its own.
  std::unique_ptr<RocksStateDb> instance(const std::string& name) {
    Status s = Status::ok();
    auto db = RocksStateDb::open((root_ / name).string(), s);
    EXPECT_TRUE(s) << s.message();
    return db;
  }

  std::filesystem::path root_;
  MemoryLog log_;
  ChangelogCounters counters_;
};

TEST(ChangelogNames, PartitionSuffix) {
  EXPECT_EQ(split_partition_suffix("convergence-p3"),
            std::make_optional(std::make_pair(std::string_view("convergence"), Partition{3})));
  EXPECT_EQ(split_partition_suffix("links-p12")->second, Partition{12});
  EXPECT_EQ(split_partition_suffix("changelog-checkpoints"), std::nullopt);
  EXPECT_EQ(split_partition_suffix("convergence-p"), std::nullopt);
  EXPECT_EQ(split_partition_suffix("convergence-px"), std::nullopt);
  EXPECT_EQ(split_partition_suffix("-p1"), std::nullopt);
}

TEST_F(ChangelogTest, FlushWritesLatestValueOfEveryChangedKeyThenTheLocalStore) {
  auto db = instance("a");
  auto local = db->factory();
  auto stores = make_changelog_factory(*local, log_, counters_);
  auto store = stores->open("convergence-p2");
  store->put("person:1", "v1");
  store->put("person:1", "v2");  // only the latest value goes out
  store->put("vehicle:NL-X", "w");
  store->erase("vehicle:NL-X");  // a tombstone
  ASSERT_TRUE(store->flush());
  ASSERT_EQ(log_.log[2].size(), 2u);
  std::map<std::string, std::optional<std::string>> written;
  for (const auto& e : log_.log[2]) written[e.key] = e.value;
  EXPECT_EQ(written["convergence\x1fperson:1"], std::optional<std::string>("v2"));
  EXPECT_EQ(written["convergence\x1fvehicle:NL-X"], std::nullopt);
  EXPECT_EQ(counters_.appended, 2u);
  EXPECT_EQ(log_.syncs, 1);

  // Nothing changed: nothing written, no sync.
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(log_.log[2].size(), 2u);
  EXPECT_EQ(log_.syncs, 1);
}

TEST_F(ChangelogTest, AnotherInstanceRebuildsThePartitionFromTheChangelog) {
  {
    auto db = instance("a");
    auto local = db->factory();
    auto stores = make_changelog_factory(*local, log_, counters_);
    auto conv = stores->open("convergence-p1");
    auto links = stores->open("links-p1");
    conv->put("person:1", "score");
    conv->put("person:2", "gone soon");
    links->put("person:1|vehicle:X", "link");
    ASSERT_TRUE(conv->flush());
    ASSERT_TRUE(links->flush());
    conv->erase("person:2");
    conv->put("person:1", "score2");
    ASSERT_TRUE(conv->flush());
  }
  // A second instance with an empty state directory takes partition 1.
  auto db = instance("b");
  auto local = db->factory();
  auto stores = make_changelog_factory(*local, log_, counters_);
  auto conv = stores->open("convergence-p1");
  auto links = stores->open("links-p1");
  EXPECT_THAT(contents(*conv), ElementsAre(Pair("person:1", "score2")));
  EXPECT_THAT(contents(*links), ElementsAre(Pair("person:1|vehicle:X", "link")));
  EXPECT_EQ(counters_.restored, 5u);  // 4 changes of convergence + 1 of links
}

TEST_F(ChangelogTest, ReopeningReplaysOnlyWhatIsNewerThanTheCheckpoint) {
  auto db = instance("a");
  auto local = db->factory();
  {
    auto stores = make_changelog_factory(*local, log_, counters_);
    auto conv = stores->open("convergence-p0");
    conv->put("k1", "a");
    conv->put("k2", "b");
    ASSERT_TRUE(conv->flush());
  }
  // Meanwhile another instance owned partition 0 and changed k2.
  log_.log[0].push_back({"convergence\x1fk2", std::string("b2")});
  log_.log[0].push_back({"convergence\x1fk3", std::string("c")});
  log_.replays.clear();
  counters_.restored = 0;
  auto stores = make_changelog_factory(*local, log_, counters_);
  auto conv = stores->open("convergence-p0");
  ASSERT_THAT(log_.replays, ElementsAre(Pair(0, 2)));  // from the checkpoint, not from 0
  EXPECT_EQ(counters_.restored, 2u);
  EXPECT_THAT(contents(*conv), ElementsAre(Pair("k1", "a"), Pair("k2", "b2"), Pair("k3", "c")));
}

TEST_F(ChangelogTest, LocalStoreIsNotFlushedWhenTheChangelogCannotBeSynced) {
  auto db = instance("a");
  auto local = db->factory();
  {
    auto stores = make_changelog_factory(*local, log_, counters_);
    auto conv = stores->open("convergence-p0");
    conv->put("k1", "a");
    log_.fail_sync = true;
    Status s = conv->flush();
    ASSERT_FALSE(s);
    EXPECT_THAT(s.message(), ::testing::HasSubstr("changelog of state store convergence-p0"));
    EXPECT_THAT(s.message(), ::testing::HasSubstr("broker down"));
  }
  // The local database never saw k1: the changelog is never behind it.
  auto plain = local->open("convergence-p0");
  std::string v;
  EXPECT_FALSE(plain->get("k1", v));
}

TEST_F(ChangelogTest, StoresWithoutPartitionSuffixAreNotChangelogged) {
  auto db = instance("a");
  auto local = db->factory();
  auto stores = make_changelog_factory(*local, log_, counters_);
  auto store = stores->open("scratch");
  store->put("k", "v");
  ASSERT_TRUE(store->flush());
  EXPECT_TRUE(log_.log.empty());
  EXPECT_EQ(log_.syncs, 0);
}

// Records how each store was opened.
class RecordingFactory final : public StateStoreFactory {
 public:
  std::unique_ptr<StateStore> open(std::string_view name) override {
    opened.emplace_back(name, "open");
    return make_memory_store();
  }
  std::unique_ptr<StateStore> open_rebuildable(std::string_view name) override {
    opened.emplace_back(name, "rebuildable");
    return make_memory_store();
  }
  std::vector<std::pair<std::string, std::string>> opened;
};

TEST_F(ChangelogTest, ChangeloggedStoresAndTheirCheckpointsNeedNoLocalLogOthersDo) {
  RecordingFactory local;
  auto stores = make_changelog_factory(local, log_, counters_);
  auto conv = stores->open("convergence-p4");
  auto scratch = stores->open("scratch");
  // The changelog replays whatever the local copy loses, and the checkpoint
  // must be lost with the data it vouches for; "scratch" has no changelog.
  EXPECT_THAT(local.opened,
              ElementsAre(Pair("convergence-p4", "rebuildable"),
                          Pair("changelog-checkpoints", "rebuildable"), Pair("scratch", "open")));
}

}  // namespace
}  // namespace mozaiek
