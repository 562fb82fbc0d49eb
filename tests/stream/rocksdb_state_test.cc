// RocksDB-specific behaviour: column families per store, durability on
// flush only, dropping. Shared StateStore behaviour is in state_store_test.
#include "stream/rocksdb_state.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace mozaiek {
namespace {

class RocksStateDbTest : public ::testing::Test {
 protected:
  RocksStateDbTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "mozaiek-rocks-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~RocksStateDbTest() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<RocksStateDb> open() {
    Status status = Status::ok();
    auto db = RocksStateDb::open(dir_, status);
    EXPECT_TRUE(db) << status.message();
    return db;
  }

  std::string dir_;
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
  const std::string file = dir_ + "/not-a-dir";
  std::ofstream(file) << "x";
  Status status = Status::ok();
  auto db = RocksStateDb::open(file, status);
  EXPECT_FALSE(db);
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("not-a-dir"), std::string::npos) << status.message();
}

TEST_F(RocksStateDbTest, SyncedWritesAreDurableToo) {
  {
    Status status = Status::ok();
    RocksStateOptions options;
    options.sync_writes = true;
    auto db = RocksStateDb::open(dir_, status, options);
    ASSERT_TRUE(db) << status.message();
    auto store = db->store("s");
    store->put("k", "v");
    ASSERT_TRUE(store->flush().is_ok());
  }
  auto db = open();
  ASSERT_TRUE(db);
  std::string v;
  EXPECT_TRUE(db->store("s")->get("k", v));
}

}  // namespace
}  // namespace mozaiek
