// RocksDB-specific behaviour: column families per store, durability on
// flush only, dropping. Shared StateStore behaviour is in state_store_test.
#include "stream/rocksdb_state.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

class RocksStateDbTest : public ::testing::Test {
 protected:
  std::unique_ptr<RocksStateDb> open(RocksStateOptions options = {}) {
    Status status = Status::ok();
    auto db = RocksStateDb::open(dir_.path(), status, options);
    EXPECT_TRUE(db) << status.message();
    return db;
  }

  // Writes k=v to store "s", flushes, closes the database cleanly and
  // returns what a reopened database holds for k.
  std::optional<std::string> write_close_reopen(RocksStateOptions options,
                                                RocksStateDb::Logging logging) {
    {
      auto db = open(options);
      if (!db) return std::nullopt;
      auto store = db->store("s", logging);
      store->put("k", "v");
      Status s = store->flush();
      EXPECT_TRUE(s.is_ok()) << s.message();
    }
    auto db = open();
    std::string v;
    if (!db || !db->store("s")->get("k", v)) return std::nullopt;
    return v;
  }

  test::TempDir dir_{"mozaiek-rocks"};
};

TEST_F(RocksStateDbTest, StoresWithDifferentNamesAreIsolated) {
  auto db = open();
  ASSERT_TRUE(db);
  auto p0 = db->store("convergence-p0");
  auto p1 = db->store("convergence-p1");
  p0->put("person:a", "zero");
  p1->put("person:a", "one");
  ASSERT_TRUE(p0->flush().is_ok());
  ASSERT_TRUE(p1->flush().is_ok());
  std::string v;
  ASSERT_TRUE(p0->get("person:a", v));
  EXPECT_EQ(v, "zero");
  ASSERT_TRUE(p1->get("person:a", v));
  EXPECT_EQ(v, "one");
}

TEST_F(RocksStateDbTest, UnflushedWritesAreNotDurable) {
  {
    auto db = open();
    ASSERT_TRUE(db);
    auto store = db->store("s");
    store->put("flushed", "1");
    ASSERT_TRUE(store->flush().is_ok());
    store->put("pending", "2");
  }
  auto db = open();
  ASSERT_TRUE(db);
  auto store = db->store("s");
  std::string v;
  EXPECT_TRUE(store->get("flushed", v));
  EXPECT_FALSE(store->get("pending", v));
}

TEST_F(RocksStateDbTest, ReopenListsStoresCreatedBefore) {
  {
    auto db = open();
    ASSERT_TRUE(db);
    auto a = db->store("convergence-p3");
    auto b = db->store("convergence-p7");
  }
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->store_names(), (std::vector<std::string>{"convergence-p3", "convergence-p7"}));
}

TEST_F(RocksStateDbTest, DropStoreDeletesItsDataButNotWhileOpen) {
  auto db = open();
  ASSERT_TRUE(db);
  auto store = db->store("convergence-p0");
  store->put("person:a", "x");
  ASSERT_TRUE(store->flush().is_ok());
  EXPECT_FALSE(db->drop_store("convergence-p0").is_ok());
  store.reset();
  Status dropped = db->drop_store("convergence-p0");
  ASSERT_TRUE(dropped.is_ok()) << dropped.message();
  EXPECT_TRUE(db->store_names().empty());
  store = db->store("convergence-p0");
  std::string v;
  EXPECT_FALSE(store->get("person:a", v));
  EXPECT_TRUE(db->drop_store("never-created").is_ok());
}

TEST_F(RocksStateDbTest, FactoryOpensNamedStores) {
  auto db = open();
  ASSERT_TRUE(db);
  auto factory = db->factory();
  auto store = factory->open("convergence-p2");
  store->put("k", "v");
  ASSERT_TRUE(store->flush().is_ok());
  EXPECT_EQ(db->store_names(), (std::vector<std::string>{"convergence-p2"}));
}

TEST_F(RocksStateDbTest, OpeningAFileInsteadOfADirectoryFailsWithAMessage) {
  const std::string file = dir_.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  Status status = Status::ok();
  auto db = RocksStateDb::open(file, status);
  EXPECT_FALSE(db);
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("not-a-dir"), std::string::npos) << status.message();
}

TEST_F(RocksStateDbTest, SyncedWritesAreDurableToo) {
  RocksStateOptions options;
  options.sync_writes = true;
  EXPECT_EQ(write_close_reopen(options, RocksStateDb::Logging::kWriteAhead), "v");
}

TEST_F(RocksStateDbTest, StoresWithoutWriteAheadLogKeepTheirDataOverACleanClose) {
  // sync_writes has no log to sync here and must not make the write fail.
  RocksStateOptions options;
  options.sync_writes = true;
  EXPECT_EQ(write_close_reopen(options, RocksStateDb::Logging::kNone), "v");
}

// A real crash: the writes run in a child process (a fresh run of this test
// binary, gtest's "threadsafe" death-test style, so no RocksDB threads are
// inherited half-way) that ends with _Exit, without closing the database.
// The parent then opens what the child left behind.
class RocksStateCrashTest : public ::testing::Test {
 protected:
  static constexpr const char* kDirVariable = "MOZAIEK_TEST_CRASH_STATE_DIR";
  static constexpr int kWrites = 1000;

  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // The child inherits the parent's directory through the environment.
    if (const char* inherited = std::getenv(kDirVariable)) {
      dir_ = inherited;
      return;
    }
    std::string pattern =
        (std::filesystem::temp_directory_path() / "mozaiek-crash-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    owner_ = true;
    ::setenv(kDirVariable, dir_.c_str(), 1);
  }
  void TearDown() override {
    if (!owner_) return;
    ::unsetenv(kDirVariable);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::string key(int i) { return "person:" + std::to_string(i); }

  // Each round: a data write, then a mark naming the round, as the changelog
  // writes a store's changes and then its checkpoint; plus a store with a
  // write-ahead log. Large marks in small memtables make the marks' memtable
  // the one that fills up and triggers RocksDB's flushes to disk.
  [[noreturn]] static void write_then_crash(const std::string& dir) {
    RocksStateOptions options;
    options.write_buffer_bytes = 64 << 10;
    Status status = Status::ok();
    auto db = RocksStateDb::open(dir, status, options);
    if (!db) std::_Exit(2);
    auto data = db->store("data", RocksStateDb::Logging::kNone);
    auto marks = db->store("marks", RocksStateDb::Logging::kNone);
    auto logged = db->store("logged");
    const std::string padding(2000, '.');
    for (int i = 0; i < kWrites; ++i) {
      data->put(key(i), "v");
      logged->put(key(i), "v");
      marks->put("last", std::to_string(i) + padding);
      if (!data->flush() || !logged->flush() || !marks->flush()) std::_Exit(3);
    }
    std::_Exit(0);
  }

  std::string dir_;
  bool owner_ = false;
};

TEST_F(RocksStateCrashTest, WithoutWriteAheadLogACrashLosesOnlyWritesAfterTheLastSurvivingMark) {
  ASSERT_EXIT(write_then_crash(dir_), ::testing::ExitedWithCode(0), "");

  Status status = Status::ok();
  auto db = RocksStateDb::open(dir_, status);
  ASSERT_TRUE(db) << status.message();
  auto data = db->store("data");
  auto marks = db->store("marks");
  auto logged = db->store("logged");
  std::string v;
  ASSERT_TRUE(marks->get("last", v));  // see below why some mark is on disk
  const int last = std::atoi(v.c_str());
  // The last round is always lost: it went to memtables no flush had taken.
  EXPECT_LT(last, kWrites - 1);
  // Some rounds are always on disk: with at most two memtables waiting per
  // store (RocksDB's default), writes stop until a flush to disk completes,
  // and the marks filled their 64 KiB memtable every ~30 rounds.
  EXPECT_GT(last, 0);
  // Every round up to the surviving mark is there.
  int missing = 0;
  for (int i = 0; i <= last; ++i) missing += data->get(key(i), v) ? 0 : 1;
  EXPECT_EQ(missing, 0) << "rounds up to " << last << " claimed by the mark";
  // The store with a write-ahead log lost nothing.
  int logged_missing = 0;
  for (int i = 0; i < kWrites; ++i) logged_missing += logged->get(key(i), v) ? 0 : 1;
  EXPECT_EQ(logged_missing, 0);
}

}  // namespace
}  // namespace mozaiek
