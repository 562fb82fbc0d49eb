// One behaviour suite over every StateStore implementation.
#include "stream/state_store.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "stream/rocksdb_state.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

using test::TempDir;

// A memory store lives as long as its object, so "reopening" keeps it.
struct MemoryBackend {
  std::unique_ptr<StateStore> store = make_memory_store();
  StateStore& get() { return *store; }
  void reopen() {}
};

struct RocksBackend {
  TempDir dir{"mozaiek-store"};
  std::unique_ptr<RocksStateDb> db;
  std::unique_ptr<StateStore> store;

  RocksBackend() { reopen(); }
  StateStore& get() { return *store; }
  void reopen() {
    store.reset();
    db.reset();
    Status status = Status::ok();
    db = RocksStateDb::open(dir.path(), status);
    ASSERT_TRUE(db) << status.message();
    Status opened = db->store("convergence-p0", store);
    ASSERT_TRUE(opened.is_ok()) << opened.message();
  }
};

template <class Backend>
class StateStoreTest : public ::testing::Test {
 protected:
  StateStore& store() { return backend_.get(); }
  void reopen() { backend_.reopen(); }

  std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix) {
    std::vector<std::pair<std::string, std::string>> out;
    store().scan(prefix, [&](std::string_view k, std::string_view v) {
      out.emplace_back(k, v);
      return true;
    });
    return out;
  }

  Backend backend_;
};

using Backends = ::testing::Types<MemoryBackend, RocksBackend>;
TYPED_TEST_SUITE(StateStoreTest, Backends);

using KV = std::vector<std::pair<std::string, std::string>>;

TYPED_TEST(StateStoreTest, GetReturnsWhatWasPutBeforeAndAfterFlush) {
  std::string value;
  EXPECT_FALSE(this->store().get("person:a", value));
  this->store().put("person:a", "one");
  ASSERT_TRUE(this->store().get("person:a", value));
  EXPECT_EQ(value, "one");
  ASSERT_TRUE(this->store().flush().is_ok());
  ASSERT_TRUE(this->store().get("person:a", value));
  EXPECT_EQ(value, "one");
}

TYPED_TEST(StateStoreTest, PutOverwritesAndEraseRemoves) {
  std::string value;
  this->store().put("k", "old");
  ASSERT_TRUE(this->store().flush().is_ok());
  this->store().put("k", "new");
  ASSERT_TRUE(this->store().get("k", value));
  EXPECT_EQ(value, "new");
  this->store().erase("k");
  EXPECT_FALSE(this->store().get("k", value));
  ASSERT_TRUE(this->store().flush().is_ok());
  EXPECT_FALSE(this->store().get("k", value));
  this->store().erase("never-written");  // not an error
  EXPECT_TRUE(this->store().flush().is_ok());
}

TYPED_TEST(StateStoreTest, BinaryValuesRoundTrip) {
  const std::string binary("\0\x01\xff"
                           "abc\0",
                           7);
  this->store().put(std::string("bin\0key", 7), binary);
  ASSERT_TRUE(this->store().flush().is_ok());
  std::string value;
  ASSERT_TRUE(this->store().get(std::string("bin\0key", 7), value));
  EXPECT_EQ(value, binary);
}

TYPED_TEST(StateStoreTest, ScanVisitsPrefixInKeyOrderMergingUnflushedWrites) {
  this->store().put("person:c", "3");
  this->store().put("person:a", "1");
  this->store().put("vehicle:x", "x");
  this->store().put("location:z", "z");
  ASSERT_TRUE(this->store().flush().is_ok());
  this->store().put("person:b", "2");     // unflushed, between flushed keys
  this->store().erase("person:c");        // unflushed erasure hides a flushed key
  this->store().put("person:a", "1bis");  // unflushed overwrite
  EXPECT_EQ(this->scan("person:"), (KV{{"person:a", "1bis"}, {"person:b", "2"}}));
  EXPECT_EQ(this->scan(""),
            (KV{{"location:z", "z"}, {"person:a", "1bis"}, {"person:b", "2"}, {"vehicle:x", "x"}}));
  EXPECT_TRUE(this->scan("nothing:").empty());
}

TYPED_TEST(StateStoreTest, ScanStopsWhenTheVisitorSaysSo) {
  for (const char* k : {"a", "b", "c", "d"}) this->store().put(k, k);
  ASSERT_TRUE(this->store().flush().is_ok());
  int visited = 0;
  this->store().scan("", [&](std::string_view, std::string_view) { return ++visited < 2; });
  EXPECT_EQ(visited, 2);
}

TYPED_TEST(StateStoreTest, FlushedStateSurvivesReopen) {
  this->store().put("person:a", "kept");
  this->store().put("person:b", "erased");
  ASSERT_TRUE(this->store().flush().is_ok());
  this->store().erase("person:b");
  ASSERT_TRUE(this->store().flush().is_ok());
  this->reopen();
  std::string value;
  ASSERT_TRUE(this->store().get("person:a", value));
  EXPECT_EQ(value, "kept");
  EXPECT_FALSE(this->store().get("person:b", value));
  EXPECT_EQ(this->scan(""), (KV{{"person:a", "kept"}}));
}

TYPED_TEST(StateStoreTest, ApproximateEntriesGrowsWithKeys) {
  EXPECT_EQ(this->store().approximate_entries(), 0u);
  for (int i = 0; i < 100; ++i) this->store().put("key-" + std::to_string(i), "v");
  ASSERT_TRUE(this->store().flush().is_ok());
  const std::size_t n = this->store().approximate_entries();
  EXPECT_GE(n, 50u);
  EXPECT_LE(n, 200u);
}

}  // namespace
}  // namespace mozaiek
